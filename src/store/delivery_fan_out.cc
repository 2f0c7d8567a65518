// DeliveryStore: target cursors and the fan-out of outbox rows into deliveries rows, with the
// PostgreSQL settle rule (scim/store/delivery_store.h, "Fan-out").
#include <soci/soci.h>

#include <algorithm>
#include <charconv>
#include <string_view>
#include <system_error>

#include "scim/common/clock.h"
#include "scim/store/delivery_store.h"
#include "store/cached_sql.h"
#include "store/delivery_sql.h"

namespace scim::store {
namespace {

using delivery_sql::IntOf;

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

// Runs `name`: kOutboxColumns + `where` (a WHERE clause with two integer parameters, $1 and $2)
// and returns the rows.
std::vector<OutboxRow> SelectOutbox(soci::session& s, Dialect dialect, const char* name,
                                    const std::string& where, long long a, long long b) {
  CachedRows found =
      RunCached(s, dialect, name, kOutboxColumns + where, {SqlArg::Int(a), SqlArg::Int(b)});
  std::vector<OutboxRow> rows;
  rows.reserve(found.size());
  for (size_t r = 0; r < found.size(); ++r) {
    OutboxRow row;
    row.event.seq = IntOf(found.at(r, 0));
    row.event.tenant = found.at(r, 1).value_or("");
    row.event.resource_type = found.at(r, 2).value_or("");
    row.event.resource_id = found.at(r, 3).value_or("");
    row.kind = found.at(r, 4).value_or("");
    row.event.version = IntOf(found.at(r, 5));
    row.event.payload = found.at(r, 6).value_or("");
    row.event.created = found.at(r, 7).value_or("");
    row.kind_ok = events::ParseChangeKind(row.kind, row.event.kind);
    row.only_target = found.at(r, 8);
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
  const Dialect dialect = db_.dialect();
  SCIM_RETURN_IF_ERROR(db_.WithSession([&](soci::session& s) -> Status {
    CachedRows cursor = RunCached(
        s, dialect, "dl_cursor_peek",
        "SELECT last_seq, scanned_seq, gaps FROM target_cursors WHERE target = $1", {target});
    if (cursor.size() == 0) return Error(ErrorCode::kNotFound, "no cursor for target " + target);
    const long long last = IntOf(cursor.at(0, 0)), scanned = IntOf(cursor.at(0, 1));
    const long long max_seq =
        IntOf(RunCached(s, dialect, "dl_outbox_max", "SELECT COALESCE(MAX(seq), 0) FROM outbox", {})
                  .at(0, 0));
    needed = max_seq > scanned || last < scanned || !cursor.at(0, 2).value_or("").empty();
    return OkStatus();
  }));
  return needed;
}

Result<FanOutResult> DeliveryStore::FanOut(
    const std::string& target, const std::function<bool(const events::ChangeEvent&)>& handles,
    int batch) {
  const Dialect dialect = db_.dialect();
  const bool pg = dialect == Dialect::kPostgres;
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
    // One cell of a statement that returns one row.
    auto value_of = [&](const char* name, const char* sql) {
      return IntOf(RunCached(s, dialect, name, sql, {}).at(0, 0));
    };
    if (pg) {
      seq_now = value_of("dl_outbox_seq_now",
                         "SELECT COALESCE(pg_sequence_last_value("
                         "pg_get_serial_sequence('outbox', 'seq')::regclass), 0)");
    }
    CachedRows cursor =
        RunCached(s, dialect, pg ? "dl_cursor_lock" : "dl_cursor",
                  std::string("SELECT last_seq, scanned_seq, gaps, horizon_seq, horizon_xid "
                              "FROM target_cursors WHERE target = $1") +
                      (pg ? " FOR UPDATE" : ""),
                  {target});
    if (cursor.size() == 0) return Error(ErrorCode::kNotFound, "no cursor for target " + target);
    const long long last = IntOf(cursor.at(0, 0)), scanned = IntOf(cursor.at(0, 1));
    const std::string gaps_text = cursor.at(0, 2).value_or("");
    const long long horizon_seq = IntOf(cursor.at(0, 3)), horizon_xid = IntOf(cursor.at(0, 4));
    const bool has_horizon = cursor.at(0, 3).has_value() && cursor.at(0, 4).has_value();
    // The xid the cursor's row lock took, and the xmin of a snapshot taken after it, in one round
    // trip (the xmin only matters when there is a horizon).
    long long xmin = 0;
    if (pg) {
      CachedRows xids = RunCached(s, dialect, "dl_own_xid_xmin",
                                  "SELECT pg_current_xact_id()::text::bigint, "
                                  "pg_snapshot_xmin(pg_current_snapshot())::text::bigint",
                                  {});
      own_xid = IntOf(xids.at(0, 0));
      xmin = IntOf(xids.at(0, 1));
    }

    // 1. What is settled: every seq <= `safe` is committed or will never exist.
    long long safe = last;
    bool horizon_consumed = false;
    if (pg && has_horizon) {
      if (xmin >= horizon_xid) {
        safe = std::max(last, horizon_seq);
        horizon_consumed = true;
      }
    }

    const long long now_ms = NowMs();
    const std::string now = NowTimestamp();
    // PostgreSQL: the rows to insert, as the arrays of kFanOutInsertPgSql, inserted at once after
    // the scan (flush): one run of the delivery_counts trigger per fan-out instead of per row.
    std::vector<std::optional<std::string>> b_seq, b_tenant, b_type, b_id, b_status, b_error;
    auto flush = [&]() {
      if (b_seq.empty()) return;
      result.queued += static_cast<int>(
          RunCached(s, dialect, "dl_fan_out_insert_batch", delivery_sql::kFanOutInsertPgSql,
                    {target, SqlArg::Int(kParkedMs), SqlArg::Int(now_ms), now,
                     delivery_sql::PgArray(b_seq), delivery_sql::PgArray(b_tenant),
                     delivery_sql::PgArray(b_type), delivery_sql::PgArray(b_id),
                     delivery_sql::PgArray(b_status), delivery_sql::PgArray(b_error)})
              .size());
      for (auto* v : {&b_seq, &b_tenant, &b_type, &b_id, &b_status, &b_error}) v->clear();
    };
    auto process = [&](const OutboxRow& row) {
      ++result.scanned;
      if (row.only_target && *row.only_target != target) return;
      std::optional<std::string> error;
      if (row.kind_ok) {
        if (!handles(row.event)) return;
      } else {
        // nothing can deliver it; shown in the admin API
        error = "unknown outbox event kind '" + row.kind + "'";
      }
      if (pg) {
        b_seq.emplace_back(std::to_string(row.event.seq));
        b_tenant.emplace_back(row.event.tenant);
        b_type.emplace_back(row.event.resource_type);
        b_id.emplace_back(row.event.resource_id);
        b_status.emplace_back(row.kind_ok ? "pending" : "failed");
        b_error.push_back(error);
        return;
      }
      // Due now, or when the earlier row of the resource that holds it back is (kParkedMs
      // behind a failure). RETURNING: whether the row is new (PostgreSQL and SQLite 3.35+).
      const bool inserted =
          RunCached(
              s, dialect, "dl_fan_out_insert",
              "INSERT INTO deliveries (seq, target, tenant, resource_type, resource_id, "
              "status, attempts, next_attempt_at, last_error, blocks_resource, created, "
              "updated) VALUES ($1, $2, $3, $4, $5, $6, 0, "
              "COALESCE((SELECT MAX(CASE WHEN e.status = 'failed' THEN $7 "
              "ELSE e.next_attempt_at END) FROM deliveries e WHERE e.target = $2 "
              "AND e.tenant = $3 AND e.resource_id = $5 AND e.status <> 'delivered' "
              "AND (e.status <> 'failed' OR e.blocks_resource = 1)), $8), "
              "$9, 0, $10, $10) ON CONFLICT (target, seq) DO NOTHING RETURNING id",
              {SqlArg::Int(row.event.seq), target, row.event.tenant, row.event.resource_type,
               row.event.resource_id, row.kind_ok ? "pending" : "failed", SqlArg::Int(kParkedMs),
               SqlArg::Int(now_ms), error ? SqlArg(*error) : SqlArg(nullptr), now})
              .size() > 0;
      result.queued += inserted ? 1 : 0;
      if (inserted && !row.kind_ok) {
        RunCached(s, dialect, "dl_fan_out_not_due",
                  "UPDATE deliveries SET next_attempt_at = NULL WHERE target = $1 AND seq = $2",
                  {target, SqlArg::Int(row.event.seq)});
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
           SelectOutbox(s, dialect, "dl_outbox_range", "WHERE seq >= $1 AND seq <= $2 ORDER BY seq",
                        g.first, g.last)) {
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
      std::vector<OutboxRow> rows = SelectOutbox(
          s, dialect, "dl_outbox_after", "WHERE seq > $1 ORDER BY seq LIMIT $2", scanned, limit);
      for (const OutboxRow& row : rows) {
        if (pg && row.event.seq > expected) gaps.push_back({expected, row.event.seq - 1});
        process(row);
        expected = row.event.seq + 1;
      }
      if (!rows.empty()) new_scanned = rows.back().event.seq;
      result.more = static_cast<long long>(rows.size()) == limit;
    }

    flush();

    // 4. Advance the cursor.
    long long new_last = new_scanned;
    bool new_horizon = false;
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
        new_horizon = true;
      }
    } else {
      gaps.clear();
    }
    RunCached(s, dialect, "dl_cursor_advance",
              "UPDATE target_cursors SET last_seq = $1, scanned_seq = $2, gaps = $3, "
              "horizon_seq = $4, horizon_xid = $5, updated = $6 WHERE target = $7",
              {SqlArg::Int(new_last), SqlArg::Int(new_scanned), FormatGaps(gaps),
               new_horizon ? SqlArg::Int(new_horizon_seq) : SqlArg(nullptr),
               new_horizon ? SqlArg::Int(new_horizon_xid) : SqlArg(nullptr), now, target});
    return OkStatus();
  }));
  return result;
}

}  // namespace scim::store
