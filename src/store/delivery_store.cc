#include "scim/store/delivery_store.h"

#include <soci/soci.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <map>
#include <string_view>
#include <system_error>

#include "scim/common/clock.h"
#include "scim/common/json.h"
#include "store/link_refresh.h"

namespace scim::store {
namespace {

constexpr size_t kMaxErrorLength = 2000;

std::string Truncate(std::string s) {
  if (s.size() > kMaxErrorLength) {
    s.resize(kMaxErrorLength);
    s += "...";
  }
  return s;
}

// A pending row is held back while an earlier row of the same target and resource is not done:
// pending, in flight, or failed after exhausting its retries. (The `status <> 'delivered'` term
// matches the partial index deliveries_resource.)
constexpr const char* kNoEarlierOpen =
    "NOT EXISTS (SELECT 1 FROM deliveries e WHERE e.target = d.target AND e.tenant = d.tenant "
    "AND e.resource_id = d.resource_id AND e.seq < d.seq AND e.status <> 'delivered' "
    "AND (e.status <> 'failed' OR e.blocks_resource = 1))";

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

std::string IdList(const std::vector<int64_t>& ids) {
  std::string out;
  for (int64_t id : ids) {
    if (!out.empty()) out.push_back(',');
    out += std::to_string(id);
  }
  return out;
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

// A re-queued delivery may be older than changes of its resource that already reached the
// target (a refused create does not hold later changes back). Sending its old snapshot would roll
// the target back, so it carries the resource's latest committed state instead. Returns false
// when that latest change is a delete: nothing is left to send.
// Membership deltas of a re-queued Group event are sent as recorded.
bool CatchUpRequeued(soci::session& s, const std::string& target, events::ChangeEvent& event) {
  const long long seq = event.seq;
  long long later = 0;
  s << "SELECT o.seq FROM outbox o JOIN deliveries e ON e.target = :t AND e.seq = o.seq "
       "WHERE o.tenant = :tn AND o.resource_id = :rid AND o.seq > :s AND e.status = 'delivered' "
       "LIMIT 1",
      soci::use(target), soci::use(event.tenant), soci::use(event.resource_id), soci::use(seq),
      soci::into(later);
  if (!s.got_data()) return true;
  std::string kind, payload;
  long long version = 0;
  s << "SELECT event, version, payload FROM outbox WHERE tenant = :tn AND resource_id = :rid "
       "AND seq > :s ORDER BY seq DESC LIMIT 1",
      soci::use(event.tenant), soci::use(event.resource_id), soci::use(seq), soci::into(kind),
      soci::into(version), soci::into(payload);
  if (kind == events::ChangeKindName(events::ChangeKind::kDeleted)) return false;
  json::Document latest, own;
  if (!json::Parse(payload, latest).ok() || !json::Parse(event.payload, own).ok()) return true;
  auto resource = latest.FindMember("resource");
  if (resource == latest.MemberEnd() || !own.IsObject()) return true;
  own.RemoveMember("resource");
  own.AddMember("resource", json::Value(resource->value, own.GetAllocator()), own.GetAllocator());
  event.payload = json::Serialize(own);
  event.version = version;
  return true;
}

// One round trip: the resource's links at every target, and every known target (a cursor row)
// with a NULL id where it has no link.
void ReadLinks(soci::session& s, const std::string& target, const events::ChangeEvent& event,
               events::DeliveryContext& context) {
  std::string name, external_id;
  soci::indicator id_ind = soci::i_null;
  soci::statement select =
      (s.prepare << "SELECT target, external_id FROM target_links WHERE tenant = :tn AND "
                    "resource_id = :rid UNION ALL SELECT c.target, NULL FROM target_cursors c "
                    "WHERE NOT EXISTS (SELECT 1 FROM target_links l WHERE l.target = c.target "
                    "AND l.tenant = :tn2 AND l.resource_id = :rid2)",
       soci::use(event.tenant), soci::use(event.resource_id), soci::use(event.tenant),
       soci::use(event.resource_id), soci::into(name), soci::into(external_id, id_ind));
  select.execute();
  while (select.fetch()) {
    if (id_ind == soci::i_ok) {
      context.linked_ids[name] = external_id;
    } else if (name != target) {
      context.unlinked_targets.insert(name);
    }
  }
}

}  // namespace

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

DeliveryStore::DeliveryStore(Database& db) : db_(db) {}

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
  SCIM_RETURN_IF_ERROR(db_.InTransaction([&](soci::session& s) -> Status {
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

Result<bool> DeliveryStore::HasDue(const std::string& target) {
  bool due = false;
  SCIM_RETURN_IF_ERROR(db_.WithSession([&](soci::session& s) -> Status {
    long long now = NowMs();
    long long id = 0;
    s << std::string(
             "SELECT d.id FROM deliveries d WHERE d.target = :t AND d.status = 'pending' "
             "AND d.next_attempt_at <= :now AND ") +
             kNoEarlierOpen +
             " AND NOT EXISTS (SELECT 1 FROM target_health h WHERE h.target = d.target "
             "AND h.paused = 1 AND h.next_probe_at > :now2) LIMIT 1",
        soci::use(target), soci::use(now), soci::use(now), soci::into(id);
    due = s.got_data();
    return OkStatus();
  }));
  return due;
}

Result<std::vector<ClaimedDelivery>> DeliveryStore::Claim(const std::string& target,
                                                          const std::string& owner, int limit,
                                                          int64_t lease_ms) {
  const bool pg = db_.dialect() == Dialect::kPostgres;
  std::vector<ClaimedDelivery> claimed;
  SCIM_RETURN_IF_ERROR(db_.InTransaction([&](soci::session& s) -> Status {
    claimed.clear();
    long long now = NowMs();
    long long max_rows = std::max(1, limit);
    // A paused target gives out nothing but its probe, once next_probe_at has come.
    bool probe = false;
    long long probe_backoff = 0;
    {
      int paused = 0;
      long long next_probe = 0;
      soci::indicator next_ind = soci::i_null;
      auto read_health = [&](const char* lock) {
        s << std::string(
                 "SELECT paused, next_probe_at, probe_backoff_ms FROM target_health "
                 "WHERE target = :t") +
                 lock,
            soci::use(target), soci::into(paused), soci::into(next_probe, next_ind),
            soci::into(probe_backoff);
        return s.got_data() && paused == 1;
      };
      if (read_health("")) {
        // Lock the row so that one claimer alone takes the probe (SQLite: BEGIN IMMEDIATE).
        if (pg && !read_health(" FOR UPDATE")) {
          // closed in between
        } else if (next_ind == soci::i_ok && next_probe > now) {
          return OkStatus();
        } else {
          probe = true;
          max_rows = 1;
        }
      }
    }
    long long id = 0, seq = 0;
    int attempts = 0, requeues = 0;
    // The rows first (locking only them), then their events: a join in the locking query let
    // the planner walk the whole outbox in a merge join.
    std::string sql =
        "SELECT d.id, d.seq, d.attempts, d.requeues FROM deliveries d "
        "WHERE d.target = :t AND d.status = 'pending' AND d.next_attempt_at <= :now AND " +
        std::string(kNoEarlierOpen) + " ORDER BY d.seq LIMIT :n" +
        (pg ? " FOR UPDATE OF d SKIP LOCKED" : "");
    std::map<int64_t, ClaimedDelivery> by_seq;
    {
      soci::statement select =
          (s.prepare << sql, soci::use(target), soci::use(now), soci::use(max_rows), soci::into(id),
           soci::into(seq), soci::into(attempts), soci::into(requeues));
      select.execute();
      while (select.fetch()) {
        ClaimedDelivery& c = by_seq[seq];
        c.id = id;
        c.attempts = attempts;
        c.requeues = requeues;
        c.event.seq = seq;
      }
    }
    if (by_seq.empty()) return OkStatus();
    std::vector<int64_t> seqs, bad;
    for (const auto& entry : by_seq) seqs.push_back(entry.first);
    {
      std::string tenant, type, rid, kind, payload, created;
      long long version = 0;
      soci::statement select =
          (s.prepare << "SELECT seq, tenant, resource_type, resource_id, event, version, "
                        "payload, created FROM outbox WHERE seq IN (" +
                            IdList(seqs) + ")",
           soci::into(seq), soci::into(tenant), soci::into(type), soci::into(rid), soci::into(kind),
           soci::into(version), soci::into(payload), soci::into(created));
      select.execute();
      while (select.fetch()) {
        ClaimedDelivery& c = by_seq[seq];
        c.event.tenant = tenant;
        c.event.resource_type = type;
        c.event.resource_id = rid;
        c.event.version = version;
        c.event.payload = payload;
        c.event.created = created;
        if (!events::ParseChangeKind(kind, c.event.kind)) bad.push_back(c.id);
      }
    }
    std::vector<int64_t> superseded;
    for (auto& [key, c] : by_seq) {
      if (std::find(bad.begin(), bad.end(), c.id) != bad.end()) continue;
      if (c.requeues > 0 && !CatchUpRequeued(s, target, c.event)) {
        superseded.push_back(c.id);
        continue;
      }
      claimed.push_back(std::move(c));
    }
    std::string now_text = NowTimestamp();
    if (!superseded.empty()) {
      s << "UPDATE deliveries SET status = 'delivered', last_error = 'superseded: the resource "
           "was deleted at the target by a later change', next_attempt_at = NULL, updated = :u "
           "WHERE id IN (" +
               IdList(superseded) + ")",
          soci::use(now_text);
    }
    if (!bad.empty()) {
      s << "UPDATE deliveries SET status = 'failed', last_error = 'unknown outbox event kind', "
           "next_attempt_at = NULL, updated = :u WHERE id IN (" +
               IdList(bad) + ")",
          soci::use(now_text);
    }
    if (claimed.empty()) return OkStatus();
    if (probe) {
      // No second probe while this one runs; its outcome sets the next probe time.
      claimed.front().probe = true;
      long long next_probe = now + std::max<long long>(probe_backoff, lease_ms);
      s << "UPDATE target_health SET next_probe_at = :n, updated = :u WHERE target = :t",
          soci::use(next_probe), soci::use(now_text), soci::use(target);
    }
    std::vector<int64_t> ids;
    for (const ClaimedDelivery& c : claimed) ids.push_back(c.id);
    long long lease_until = now + lease_ms;
    s << "UPDATE deliveries SET status = 'in_flight', next_attempt_at = NULL, lease_owner = :o, "
         "lease_until = :lu, updated = :u WHERE id IN (" +
             IdList(ids) + ")",
        soci::use(owner), soci::use(lease_until), soci::use(now_text);
    return OkStatus();
  }));
  return claimed;
}

Result<events::DeliveryContext> DeliveryStore::LoadContext(const std::string& target,
                                                           const events::ChangeEvent& event) {
  events::DeliveryContext context;
  SCIM_RETURN_IF_ERROR(db_.WithSession([&](soci::session& s) -> Status {
    ReadLinks(s, target, event, context);
    return OkStatus();
  }));
  if (auto it = context.linked_ids.find(target); it != context.linked_ids.end()) {
    context.target_id = it->second;
  }
  Database* handle = &db_;
  std::string tenant = event.tenant;
  context.lookup_target_id =
      [handle, target, tenant](const std::string& resource_id) -> std::optional<std::string> {
    std::optional<std::string> found;
    Status lookup = handle->WithSession([&](soci::session& s) -> Status {
      std::string external_id;
      s << "SELECT external_id FROM target_links WHERE target = :t AND tenant = :tn "
           "AND resource_id = :rid",
          soci::use(target), soci::use(tenant), soci::use(resource_id), soci::into(external_id);
      if (s.got_data()) found = external_id;
      return OkStatus();
    });
    if (!lookup.ok()) return std::nullopt;
    return found;
  };
  context.current_member_role = [handle,
                                 tenant](const std::string& user_id) -> std::optional<std::string> {
    return CurrentMemberRole(*handle, tenant, user_id);
  };
  return context;
}

Result<bool> DeliveryStore::RecordAttempt(const std::string& target, const std::string& owner,
                                          const ClaimedDelivery& delivery,
                                          const AttemptRecord& attempt, bool* resumed) {
  SCIM_TRY(auto owned, RecordAttempts(target, owner, {{&delivery, attempt}}, resumed));
  return static_cast<bool>(owned.front());
}

Result<std::vector<bool>> DeliveryStore::RecordAttempts(const std::string& target,
                                                        const std::string& owner,
                                                        const std::vector<AttemptOf>& batch,
                                                        bool* resumed) {
  if (resumed != nullptr) *resumed = false;
  std::vector<bool> owned_rows;
  if (batch.empty()) return owned_rows;
  SCIM_RETURN_IF_ERROR(db_.InTransaction([&](soci::session& s) -> Status {
    owned_rows.assign(batch.size(), false);
    if (resumed != nullptr) *resumed = false;
    std::string now = NowTimestamp();
    bool answered = false;
    for (size_t i = 0; i < batch.size(); ++i) {
      const ClaimedDelivery& delivery = *batch[i].delivery;
      const AttemptRecord& attempt = batch[i].attempt;
      const std::string& status = attempt.status;
      const int attempts = attempt.attempts;
      long long next_at = attempt.next_attempt_at.value_or(0);
      soci::indicator next_ind = attempt.next_attempt_at ? soci::i_ok : soci::i_null;
      const int blocks = attempt.blocks_resource ? 1 : 0;
      std::string error = Truncate(attempt.error.value_or(""));
      soci::indicator error_ind = attempt.error ? soci::i_ok : soci::i_null;
      long long id = delivery.id;
      soci::statement update =
          (s.prepare << "UPDATE deliveries SET status = :st, attempts = :a, "
                        "next_attempt_at = :na, last_error = :e, blocks_resource = :b, "
                        "lease_owner = NULL, lease_until = NULL, updated = :u "
                        "WHERE id = :id AND status = 'in_flight' AND lease_owner = :o",
           soci::use(status), soci::use(attempts), soci::use(next_at, next_ind),
           soci::use(error, error_ind), soci::use(blocks), soci::use(now), soci::use(id),
           soci::use(owner));
      update.execute(true);
      const bool owned = update.get_affected_rows() > 0;
      owned_rows[i] = owned;
      const events::ChangeEvent& ev = delivery.event;
      if (owned && (status == "pending" || blocks == 1)) {
        // Later rows of the resource cannot go before this one: keep them off the due list
        // until its next attempt (or until it is re-queued).
        long long hold_until = status == "pending" ? next_at : kParkedMs;
        long long seq = ev.seq;
        s << "UPDATE deliveries SET next_attempt_at = :h WHERE target = :t AND tenant = :tn "
             "AND resource_id = :rid AND seq > :seq AND status = 'pending' "
             "AND next_attempt_at < :h2",
            soci::use(hold_until), soci::use(target), soci::use(ev.tenant),
            soci::use(ev.resource_id), soci::use(seq), soci::use(hold_until);
      }
      // A User's new, changed or dropped link reaches the targets that carry it (the CRM).
      const bool refresh = ev.resource_type == "User" && !attempt.link_followers.empty() &&
                           LinkWillChange(s, target, ev.tenant, ev.resource_id, attempt.unlink,
                                          attempt.target_id.value_or(""));
      if (attempt.unlink) {
        s << "DELETE FROM target_links WHERE target = :t AND tenant = :tn AND resource_id = :rid",
            soci::use(target), soci::use(ev.tenant), soci::use(ev.resource_id);
      } else if (attempt.target_id && !attempt.target_id->empty()) {
        s << "INSERT INTO target_links (target, tenant, resource_type, resource_id, external_id, "
             "updated) VALUES (:t, :tn, :rt, :rid, :x, :u) "
             "ON CONFLICT (target, tenant, resource_id) DO UPDATE SET "
             "external_id = excluded.external_id, resource_type = excluded.resource_type, "
             "updated = excluded.updated",
            soci::use(target), soci::use(ev.tenant), soci::use(ev.resource_type),
            soci::use(ev.resource_id), soci::use(*attempt.target_id), soci::use(now);
      }
      if (refresh) {
        QueueLinkRefresh(s, db_.dialect(), target, ev.tenant, ev.resource_id,
                         attempt.link_followers);
      }
      answered = answered || attempt.target_answered;
    }
    if (answered) {
      // The target answers: end its streak of target-wide failures and close its breaker. The
      // read keeps the common case (nothing to reset) free of a write on the shared row.
      int paused = 0;
      s << "SELECT paused FROM target_health WHERE target = :t "
           "AND (paused = 1 OR consecutive_failures > 0)",
          soci::use(target), soci::into(paused);
      if (s.got_data()) {
        s << "UPDATE target_health SET paused = 0, paused_since_ms = NULL, reason = NULL, "
             "next_probe_at = NULL, probe_backoff_ms = 0, consecutive_failures = 0, "
             "updated = :u WHERE target = :t",
            soci::use(now), soci::use(target);
        if (resumed != nullptr) *resumed = paused == 1;
      }
    }
    return OkStatus();
  }));
  return owned_rows;
}

namespace {

// Reads the target_health row of `target` (`lock`: " FOR UPDATE" or ""); false when missing.
bool SelectHealth(soci::session& s, const std::string& target, const char* lock,
                  TargetHealth& out) {
  int paused = 0, failures = 0;
  long long since = 0, next_probe = 0, backoff = 0;
  std::string reason;
  soci::indicator since_ind = soci::i_null, reason_ind = soci::i_null, next_ind = soci::i_null;
  s << std::string(
           "SELECT paused, paused_since_ms, reason, next_probe_at, probe_backoff_ms, "
           "consecutive_failures FROM target_health WHERE target = :t") +
           lock,
      soci::use(target), soci::into(paused), soci::into(since, since_ind),
      soci::into(reason, reason_ind), soci::into(next_probe, next_ind), soci::into(backoff),
      soci::into(failures);
  out = TargetHealth();
  if (!s.got_data()) return false;
  out.paused = paused == 1;
  out.paused_since_ms = since_ind == soci::i_ok ? since : 0;
  out.reason = reason_ind == soci::i_ok ? reason : "";
  out.next_probe_at = next_ind == soci::i_ok ? next_probe : 0;
  out.probe_backoff_ms = backoff;
  out.consecutive_failures = failures;
  return true;
}

}  // namespace

Result<TargetHealth> DeliveryStore::ReadTargetHealth(const std::string& target) {
  TargetHealth health;
  SCIM_RETURN_IF_ERROR(db_.WithSession([&](soci::session& s) -> Status {
    SelectHealth(s, target, "", health);
    return OkStatus();
  }));
  return health;
}

Result<std::pair<TargetHealth, TargetHealth>> DeliveryStore::UpdateTargetHealth(
    const std::string& target, const std::function<void(TargetHealth&)>& change) {
  const bool pg = db_.dialect() == Dialect::kPostgres;
  std::pair<TargetHealth, TargetHealth> result;
  SCIM_RETURN_IF_ERROR(db_.InTransaction([&](soci::session& s) -> Status {
    std::string now = NowTimestamp();
    s << "INSERT INTO target_health (target, updated) VALUES (:t, :u) "
         "ON CONFLICT (target) DO NOTHING",
        soci::use(target), soci::use(now);
    SelectHealth(s, target, pg ? " FOR UPDATE" : "", result.first);
    result.second = result.first;
    change(result.second);
    const TargetHealth& h = result.second;
    int paused = h.paused ? 1 : 0;
    long long since = h.paused_since_ms, next_probe = h.next_probe_at, backoff = h.probe_backoff_ms;
    int failures = h.consecutive_failures;
    soci::indicator paused_ind = h.paused ? soci::i_ok : soci::i_null;
    std::string reason = Truncate(h.reason);
    s << "UPDATE target_health SET paused = :p, paused_since_ms = :ps, reason = :r, "
         "next_probe_at = :np, probe_backoff_ms = :b, consecutive_failures = :f, updated = :u "
         "WHERE target = :t",
        soci::use(paused), soci::use(since, paused_ind), soci::use(reason, paused_ind),
        soci::use(next_probe, paused_ind), soci::use(backoff), soci::use(failures), soci::use(now),
        soci::use(target);
    return OkStatus();
  }));
  return result;
}

Status DeliveryStore::Release(const std::string& owner, const std::vector<int64_t>& ids) {
  if (ids.empty()) return OkStatus();
  return db_.InTransaction([&](soci::session& s) -> Status {
    std::string now = NowTimestamp();
    long long now_ms = NowMs();
    s << "UPDATE deliveries SET status = 'pending', next_attempt_at = :na, lease_owner = NULL, "
         "lease_until = NULL, updated = :u WHERE status = 'in_flight' AND lease_owner = :o "
         "AND id IN (" +
             IdList(ids) + ")",
        soci::use(now_ms), soci::use(now), soci::use(owner);
    return OkStatus();
  });
}

Status DeliveryStore::RenewLeases(const std::string& owner, const std::vector<int64_t>& ids,
                                  int64_t lease_ms) {
  if (ids.empty()) return OkStatus();
  return db_.InTransaction([&](soci::session& s) -> Status {
    long long until = NowMs() + lease_ms;
    s << "UPDATE deliveries SET lease_until = :lu WHERE status = 'in_flight' "
         "AND lease_owner = :o AND id IN (" +
             IdList(ids) + ")",
        soci::use(until), soci::use(owner);
    return OkStatus();
  });
}

Result<int> DeliveryStore::ReapExpired(const std::string& target, int max_attempts_allowed) {
  int reaped = 0;
  bool any = false;
  // A read first: on SQLite the updates below would take the write lock on every call.
  SCIM_RETURN_IF_ERROR(db_.WithSession([&](soci::session& s) -> Status {
    long long now = NowMs();
    long long id = 0;
    s << "SELECT id FROM deliveries WHERE target = :t AND status = 'in_flight' "
         "AND lease_until < :now LIMIT 1",
        soci::use(target), soci::use(now), soci::into(id);
    any = s.got_data();
    return OkStatus();
  }));
  if (!any) return 0;
  SCIM_RETURN_IF_ERROR(db_.InTransaction([&](soci::session& s) -> Status {
    reaped = 0;
    long long now = NowMs();
    std::string now_text = NowTimestamp();
    int max_attempts = std::max(1, max_attempts_allowed);
    soci::statement give_up =
        (s.prepare << "UPDATE deliveries SET status = 'failed', blocks_resource = 1, "
                      "attempts = attempts + 1, last_error = 'gave up: the lease of ' || "
                      "COALESCE(lease_owner, '?') || ' expired on the last allowed attempt', "
                      "next_attempt_at = NULL, lease_owner = NULL, lease_until = NULL, "
                      "updated = :u "
                      "WHERE target = :t AND status = 'in_flight' AND lease_until < :now "
                      "AND attempts + 1 >= :max",
         soci::use(now_text), soci::use(target), soci::use(now), soci::use(max_attempts));
    give_up.execute(true);
    reaped += static_cast<int>(give_up.get_affected_rows());
    if (give_up.get_affected_rows() > 0) {
      long long parked = kParkedMs;
      s << "UPDATE deliveries SET next_attempt_at = :p WHERE target = :t AND status = 'pending' "
           "AND next_attempt_at < :p2 AND EXISTS (SELECT 1 FROM deliveries e "
           "WHERE e.target = deliveries.target AND e.tenant = deliveries.tenant "
           "AND e.resource_id = deliveries.resource_id AND e.seq < deliveries.seq "
           "AND e.status <> 'delivered' AND e.status = 'failed' AND e.blocks_resource = 1)",
          soci::use(parked), soci::use(target), soci::use(parked);
    }
    soci::statement requeue =
        (s.prepare << "UPDATE deliveries SET status = 'pending', attempts = attempts + 1, "
                      "next_attempt_at = :na, last_error = 'the lease of ' || "
                      "COALESCE(lease_owner, '?') || ' expired during an attempt', "
                      "lease_owner = NULL, lease_until = NULL, updated = :u "
                      "WHERE target = :t AND status = 'in_flight' AND lease_until < :now",
         soci::use(now), soci::use(now_text), soci::use(target), soci::use(now));
    requeue.execute(true);
    reaped += static_cast<int>(requeue.get_affected_rows());
    return OkStatus();
  }));
  return reaped;
}
Result<std::vector<TargetLink>> DeliveryStore::LinksOfTarget(const std::string& target) {
  std::vector<TargetLink> links;
  SCIM_RETURN_IF_ERROR(db_.WithSession([&](soci::session& s) -> Status {
    links.clear();
    TargetLink row;
    soci::statement select =
        (s.prepare << "SELECT tenant, resource_type, resource_id, external_id FROM target_links "
                      "WHERE target = :t ORDER BY tenant, resource_id",
         soci::use(target), soci::into(row.tenant), soci::into(row.resource_type),
         soci::into(row.resource_id), soci::into(row.target_id));
    select.execute();
    while (select.fetch()) links.push_back(row);
    return OkStatus();
  }));
  return links;
}

Result<std::vector<ResourceKey>> DeliveryStore::ResourcesOfType(const std::string& type) {
  std::vector<ResourceKey> out;
  SCIM_RETURN_IF_ERROR(db_.WithSession([&](soci::session& s) -> Status {
    out.clear();
    std::string tenant, id;
    soci::statement select =
        (s.prepare << "SELECT tenant, id FROM resources WHERE resource_type = :rt "
                      "ORDER BY tenant, id",
         soci::use(type), soci::into(tenant), soci::into(id));
    select.execute();
    while (select.fetch()) out.push_back({tenant, id});
    return OkStatus();
  }));
  return out;
}

Result<std::set<ResourceKey>> DeliveryStore::OutstandingResources(const std::string& target) {
  std::set<ResourceKey> outstanding;
  SCIM_RETURN_IF_ERROR(db_.WithSession([&](soci::session& s) -> Status {
    outstanding.clear();
    std::string tenant, id;
    soci::statement deliveries =
        (s.prepare << "SELECT DISTINCT tenant, resource_id FROM deliveries WHERE target = :t AND "
                      "(status IN ('pending', 'in_flight') OR "
                      "(status = 'failed' AND blocks_resource = 1))",
         soci::use(target), soci::into(tenant), soci::into(id));
    deliveries.execute();
    while (deliveries.fetch()) outstanding.emplace(tenant, id);
    long long last_seq = 0;
    soci::indicator ind = soci::i_null;
    s << "SELECT last_seq FROM target_cursors WHERE target = :t", soci::use(target),
        soci::into(last_seq, ind);
    if (!s.got_data() || ind != soci::i_ok) last_seq = 0;
    soci::statement unscanned =
        (s.prepare << "SELECT DISTINCT o.tenant, o.resource_id FROM outbox o WHERE o.seq > :s "
                      "AND (o.only_target IS NULL OR o.only_target = :t) "
                      "AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.target = :t2 "
                      "AND d.seq = o.seq)",
         soci::use(last_seq), soci::use(target), soci::use(target), soci::into(tenant),
         soci::into(id));
    unscanned.execute();
    while (unscanned.fetch()) outstanding.emplace(tenant, id);
    return OkStatus();
  }));
  return outstanding;
}

Result<bool> DeliveryStore::ResourceExists(const ResourceKey& key) {
  bool exists = false;
  SCIM_RETURN_IF_ERROR(db_.WithSession([&](soci::session& s) -> Status {
    int one = 0;
    s << "SELECT 1 FROM resources WHERE tenant = :tn AND id = :id", soci::use(key.first),
        soci::use(key.second), soci::into(one);
    exists = s.got_data();
    return OkStatus();
  }));
  return exists;
}

Result<std::optional<std::pair<std::string, std::string>>> DeliveryStore::DeletedResource(
    const std::string& id) {
  std::optional<std::pair<std::string, std::string>> found;
  SCIM_RETURN_IF_ERROR(db_.WithSession([&](soci::session& s) -> Status {
    std::vector<std::string> tenants;
    std::string tenant, type;
    soci::statement all =
        (s.prepare << "SELECT DISTINCT tenant FROM audit_log", soci::into(tenant));
    all.execute();
    while (all.fetch()) tenants.push_back(tenant);
    for (const std::string& t : tenants) {
      s << "SELECT resource_type FROM audit_log WHERE tenant = :tn AND resource_id = :id "
           "AND action = 'delete'",
          soci::use(t), soci::use(id), soci::into(type);
      if (s.got_data()) {
        found.emplace(t, type);
        break;
      }
    }
    return OkStatus();
  }));
  return found;
}

Status DeliveryStore::SaveLink(const std::string& target, const events::ChangeEvent& event,
                               const std::string& target_id) {
  return db_.InTransaction([&](soci::session& s) -> Status {
    std::string now = NowTimestamp();
    s << "INSERT INTO target_links (target, tenant, resource_type, resource_id, external_id, "
         "updated) VALUES (:t, :tn, :rt, :rid, :x, :u) "
         "ON CONFLICT (target, tenant, resource_id) DO UPDATE SET "
         "external_id = excluded.external_id, resource_type = excluded.resource_type, "
         "updated = excluded.updated",
        soci::use(target), soci::use(event.tenant), soci::use(event.resource_type),
        soci::use(event.resource_id), soci::use(target_id), soci::use(now);
    return OkStatus();
  });
}

Status DeliveryStore::DropLink(const std::string& target, const ResourceKey& key) {
  return db_.InTransaction([&](soci::session& s) -> Status {
    s << "DELETE FROM target_links WHERE target = :t AND tenant = :tn AND resource_id = :rid",
        soci::use(target), soci::use(key.first), soci::use(key.second);
    return OkStatus();
  });
}

}  // namespace scim::store
