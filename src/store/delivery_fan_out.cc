// DeliveryStore: target cursors and the fan-out of outbox rows into deliveries rows, with the
// PostgreSQL settle rule (scim/store/delivery_store.h, "Fan-out").
#include <soci/soci.h>

#include <algorithm>
#include <charconv>
#include <string_view>
#include <system_error>

#include "scim/common/clock.h"
#include "scim/store/delivery_store.h"
#include "store/delivery_sql.h"

namespace scim::store {
namespace {

constexpr const char* kOutboxColumns =
    "SELECT seq, tenant, resource_type, resource_id, event, version, payload, created, only_target "
    "FROM outbox ";

// A run of seqs [first, last] missing from the outbox when scanned (PostgreSQL only).
struct Range {
  int64_t first;
  int64_t last;
};

std::string FormatGaps(const std::vector<Range>& gaps) {
  std::string out;
  for (const Range& g : gaps) {
    if (!out.empty()) out.push_back(',');
    out += std::to_string(g.first) + "-" + std::to_string(g.last);
  }
  return out;
}

// A whole decimal number, nothing else.
bool ParseSeq(std::string_view text, int64_t& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

// The cursor's gap list as FormatGaps writes it ("first-last,first-last"). False, with `gaps`
// empty, when any entry is not a range of two seqs with first <= last: the caller must then not
// trust the list at all (a dropped gap would be a seq never looked at again).
bool ParseGaps(const std::string& text, std::vector<Range>& gaps) {
  gaps.clear();
  size_t pos = 0;
  while (pos < text.size()) {
    size_t comma = text.find(',', pos);
    std::string_view item = std::string_view(text).substr(
        pos, comma == std::string::npos ? std::string::npos : comma - pos);
    pos = comma == std::string::npos ? text.size() : comma + 1;
    size_t dash = item.find('-');
    Range r{0, 0};
    if (dash == std::string_view::npos || !ParseSeq(item.substr(0, dash), r.first) ||
        !ParseSeq(item.substr(dash + 1), r.last) || r.first > r.last) {
      gaps.clear();
      return false;
    }
    gaps.push_back(r);
  }
  return true;
}

struct OutboxRow {
  events::ChangeEvent event;
  std::string kind;
  bool kind_ok = false;
  std::optional<std::string> only_target;  // a manual sync for one target (sync resources)
};

// Runs `sql` (kOutboxColumns + a WHERE clause with two integer parameters) and returns the rows.
std::vector<OutboxRow> SelectOutbox(soci::session& s, const std::string& where, long long a,
                                    long long b) {
  std::vector<OutboxRow> rows;
  long long seq = 0, version = 0;
  std::string tenant, type, id, kind, payload, created, only_target;
  soci::indicator only_ind = soci::i_null;
  soci::statement st =
      (s.prepare << kOutboxColumns + where, soci::use(a), soci::use(b), soci::into(seq),
       soci::into(tenant), soci::into(type), soci::into(id), soci::into(kind), soci::into(version),
       soci::into(payload), soci::into(created), soci::into(only_target, only_ind));
  st.execute();
  while (st.fetch()) {
    OutboxRow row;
    row.event.seq = seq;
    row.event.tenant = tenant;
    row.event.resource_type = type;
    row.event.resource_id = id;
    row.event.version = version;
    row.event.payload = payload;
    row.event.created = created;
    row.kind = kind;
    row.kind_ok = events::ParseChangeKind(kind, row.event.kind);
    if (only_ind == soci::i_ok) row.only_target = only_target;
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace

Status DeliveryStore::EnsureCursor(const std::string& target, const std::string& type) {
  return db_.InTransaction([&](soci::session& s) -> Status {
    std::string now = NowTimestamp();
    s << "INSERT INTO target_cursors (target, type, last_seq, scanned_seq, gaps, updated) "
         "VALUES (:t, :ty, 0, 0, '', :u) ON CONFLICT (target) DO NOTHING",
        soci::use(target), soci::use(type), soci::use(now);
    s << "UPDATE target_cursors SET type = :ty WHERE target = :t AND type <> :ty2", soci::use(type),
        soci::use(target), soci::use(type);
    return OkStatus();
  });
}

Result<bool> DeliveryStore::FanOutNeeded(const std::string& target) {
  bool needed = false;
  SCIM_RETURN_IF_ERROR(db_.WithSession([&](soci::session& s) -> Status {
    long long last = 0, scanned = 0, max_seq = 0;
    std::string gaps;
    s << "SELECT last_seq, scanned_seq, gaps FROM target_cursors WHERE target = :t",
        soci::use(target), soci::into(last), soci::into(scanned), soci::into(gaps);
    if (!s.got_data()) return Error(ErrorCode::kNotFound, "no cursor for target " + target);
    s << "SELECT COALESCE(MAX(seq), 0) FROM outbox", soci::into(max_seq);
    needed = max_seq > scanned || last < scanned || !gaps.empty();
    return OkStatus();
  }));
  return needed;
}

Result<FanOutResult> DeliveryStore::FanOut(
    const std::string& target, const std::function<bool(const events::ChangeEvent&)>& handles,
    int batch) {
  const bool pg = db_.dialect() == Dialect::kPostgres;
  FanOutResult result;
  SCIM_RETURN_IF_ERROR(InBookkeeping([&](soci::session& s) -> Status {
    result = FanOutResult{};
    // PostgreSQL settle rule. Writers take their xid before drawing an outbox seq (RecordChange).
    // Reading the sequence here, before this transaction has an xid, and then taking one makes
    // (seq_now, own_xid) a valid horizon: every transaction holding a seq <= seq_now has an xid
    // < own_xid, so once no xid < own_xid is running, every seq <= seq_now is committed or never
    // will be. (pg_snapshot_xmax is not usable: it is latestCompletedXid + 1, and a running
    // transaction may already hold a larger xid.)
    long long seq_now = 0, own_xid = 0;
    if (pg) {
      s << "SELECT COALESCE(pg_sequence_last_value("
           "pg_get_serial_sequence('outbox', 'seq')::regclass), 0)",
          soci::into(seq_now);
    }
    long long last = 0, scanned = 0, horizon_seq = 0, horizon_xid = 0;
    std::string gaps_text;
    soci::indicator seq_ind = soci::i_null, xid_ind = soci::i_null;
    s << std::string(
             "SELECT last_seq, scanned_seq, gaps, horizon_seq, horizon_xid "
             "FROM target_cursors WHERE target = :t") +
             (pg ? " FOR UPDATE" : ""),
        soci::use(target), soci::into(last), soci::into(scanned), soci::into(gaps_text),
        soci::into(horizon_seq, seq_ind), soci::into(horizon_xid, xid_ind);
    if (!s.got_data()) return Error(ErrorCode::kNotFound, "no cursor for target " + target);
    const bool has_horizon = seq_ind == soci::i_ok && xid_ind == soci::i_ok;
    if (pg) s << "SELECT pg_current_xact_id()::text::bigint", soci::into(own_xid);

    // 1. What is settled: every seq <= `safe` is committed or will never exist.
    long long safe = last;
    bool horizon_consumed = false;
    if (pg && has_horizon) {
      long long xmin = 0;
      s << "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint", soci::into(xmin);
      if (xmin >= horizon_xid) {
        safe = std::max(last, horizon_seq);
        horizon_consumed = true;
      }
    }

    const long long now_ms = NowMs();
    const std::string now = NowTimestamp();
    const long long parked = kParkedMs;
    long long ins_seq = 0;
    std::string ins_tenant, ins_type, ins_id, ins_status, ins_error;
    soci::indicator ins_error_ind = soci::i_null;
    // Due now, or when the earlier row of the resource that holds it back is (kParkedMs behind a
    // failure).
    soci::statement insert =
        (s.prepare << "INSERT INTO deliveries (seq, target, tenant, resource_type, resource_id, "
                      "status, attempts, next_attempt_at, last_error, blocks_resource, created, "
                      "updated) VALUES (:seq, :target, :tenant, :rt, :rid, :st, 0, "
                      "COALESCE((SELECT MAX(CASE WHEN e.status = 'failed' THEN :parked "
                      "ELSE e.next_attempt_at END) FROM deliveries e WHERE e.target = :t2 "
                      "AND e.tenant = :tn2 AND e.resource_id = :rid2 AND e.status <> 'delivered' "
                      "AND (e.status <> 'failed' OR e.blocks_resource = 1)), :na), "
                      ":err, 0, :cr, :up) ON CONFLICT (target, seq) DO NOTHING",
         soci::use(ins_seq), soci::use(target), soci::use(ins_tenant), soci::use(ins_type),
         soci::use(ins_id), soci::use(ins_status), soci::use(parked), soci::use(target),
         soci::use(ins_tenant), soci::use(ins_id), soci::use(now_ms),
         soci::use(ins_error, ins_error_ind), soci::use(now), soci::use(now));
    auto process = [&](const OutboxRow& row) {
      ++result.scanned;
      if (row.only_target && *row.only_target != target) return;
      if (row.kind_ok) {
        if (!handles(row.event)) return;
        ins_status = "pending";
        ins_error_ind = soci::i_null;
      } else {
        ins_status = "failed";  // nothing can deliver it; shown in the admin API
        ins_error = "unknown outbox event kind '" + row.kind + "'";
        ins_error_ind = soci::i_ok;
      }
      ins_seq = row.event.seq;
      ins_tenant = row.event.tenant;
      ins_type = row.event.resource_type;
      ins_id = row.event.resource_id;
      insert.execute(true);
      int inserted = static_cast<int>(insert.get_affected_rows());
      result.queued += inserted;
      if (inserted > 0 && !row.kind_ok) {
        s << "UPDATE deliveries SET next_attempt_at = NULL WHERE target = :t AND seq = :s",
            soci::use(target), soci::use(ins_seq);
      }
    };

    // 2. Seqs that were missing at an earlier scan (PostgreSQL): committed since?
    std::vector<Range> gaps, earlier;
    if (pg && !ParseGaps(gaps_text, earlier)) {
      // An unreadable list (nothing scimd writes): re-read every seq not known to be settled,
      // (last_seq, scanned_seq], instead of guessing; rows already queued are skipped by the
      // insert, seqs still missing become gaps again. The caller logs it.
      result.malformed_gaps = gaps_text;
      if (last < scanned) earlier.push_back({last + 1, scanned});
    }
    for (const Range& g : earlier) {
      int64_t expected = g.first;
      for (const OutboxRow& row :
           SelectOutbox(s, "WHERE seq >= :a AND seq <= :b ORDER BY seq", g.first, g.last)) {
        if (row.event.seq > expected) gaps.push_back({expected, row.event.seq - 1});
        process(row);
        expected = row.event.seq + 1;
      }
      if (expected <= g.last) gaps.push_back({expected, g.last});
    }

    // 3. New rows.
    long long new_scanned = scanned;
    {
      long long limit = std::max(1, batch);
      int64_t expected = scanned + 1;
      std::vector<OutboxRow> rows =
          SelectOutbox(s, "WHERE seq > :a ORDER BY seq LIMIT :b", scanned, limit);
      for (const OutboxRow& row : rows) {
        if (pg && row.event.seq > expected) gaps.push_back({expected, row.event.seq - 1});
        process(row);
        expected = row.event.seq + 1;
      }
      if (!rows.empty()) new_scanned = rows.back().event.seq;
      result.more = static_cast<long long>(rows.size()) == limit;
    }

    // 4. Advance the cursor.
    long long new_last = new_scanned;
    soci::indicator new_seq_ind = soci::i_null, new_xid_ind = soci::i_null;
    long long new_horizon_seq = 0, new_horizon_xid = 0;
    if (pg) {
      std::vector<Range> open;
      for (Range g : gaps) {
        if (g.last <= safe) continue;  // settled and still missing: rolled back
        g.first = std::max<int64_t>(g.first, safe + 1);
        open.push_back(g);
      }
      gaps = std::move(open);
      new_last = std::max(last, std::min(safe, new_scanned));
      if (new_last < new_scanned || !gaps.empty()) {
        if (horizon_consumed || !has_horizon) {
          new_horizon_seq = seq_now;
          new_horizon_xid = own_xid;
        } else {
          new_horizon_seq = horizon_seq;
          new_horizon_xid = horizon_xid;
        }
        new_seq_ind = soci::i_ok;
        new_xid_ind = soci::i_ok;
      }
    } else {
      gaps.clear();
    }
    std::string gaps_out = FormatGaps(gaps);
    s << "UPDATE target_cursors SET last_seq = :l, scanned_seq = :s, gaps = :g, "
         "horizon_seq = :hs, horizon_xid = :hx, updated = :u WHERE target = :t",
        soci::use(new_last), soci::use(new_scanned), soci::use(gaps_out),
        soci::use(new_horizon_seq, new_seq_ind), soci::use(new_horizon_xid, new_xid_ind),
        soci::use(now), soci::use(target);
    return OkStatus();
  }));
  return result;
}

}  // namespace scim::store
