#include "scim/store/delivery_status.h"

#include <soci/soci.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <limits>
#include <map>
#include <set>

#include "scim/common/clock.h"
#include "scim/store/delivery_store.h"

namespace scim::store {
namespace {

constexpr const char* kStatuses[] = {"pending", "in_flight", "delivered", "failed"};

// Milliseconds since the epoch of a canonical timestamp ("2026-11-21T15:26:00.123Z"); nullopt
// when it is not one.
std::optional<int64_t> TimestampMs(const std::string& text) {
  int year, mon, day, hh, mi, ss, ms = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &year, &mon, &day, &hh, &mi, &ss,
                  &ms) < 6) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hh;
  tm.tm_min = mi;
  tm.tm_sec = ss;
  return static_cast<int64_t>(timegm(&tm)) * 1000 + ms;
}

struct Counts {
  int64_t pending = 0, in_flight = 0, delivered = 0, failed = 0;
  std::optional<std::string> oldest_created;
};

// " AND <column> = :tn" when `tenant` is given, else "".
std::string TenantClause(const std::optional<std::string>& tenant, const char* column) {
  return tenant ? std::string(" AND ") + column + " = :tn" : std::string();
}

// The (target, tenant) pairs of `target` (of `tenant` when given) that have deliveries in one of
// `statuses` (an SQL list), from delivery_counts: a derived table `c` for the queries below that
// walk one small index range per tenant instead of every delivery of the target.
std::string TenantsWith(const char* statuses, const std::optional<std::string>& tenant) {
  return std::string("(SELECT target, tenant FROM delivery_counts WHERE target = :t") +
         TenantClause(tenant, "tenant") + " AND status IN (" + statuses +
         ") GROUP BY target, tenant HAVING SUM(n) > 0) c";
}

// PostgreSQL: delivery_counts has a shard per backend that ever wrote (migration 014); this keeps
// the rows of `target` few.
void FoldDeliveryCounts(soci::session& s, const std::string& target) {
  // The shards of backends that ended (no live connection has that pid) move into shard 0 in one
  // statement: the deleted rows' sums are what is added, so the total never changes. A pid that
  // a new backend took meanwhile only waits for that backend's row lock: the row is deleted with
  // the value it committed, and the backend's next change starts a new row.
  s << "WITH gone AS (DELETE FROM delivery_counts WHERE target = :t AND shard <> 0 "
       "AND shard NOT IN (SELECT pid FROM pg_stat_activity WHERE pid IS NOT NULL) "
       "RETURNING tenant, status, n) "
       "INSERT INTO delivery_counts AS c (target, tenant, status, shard, n) "
       "SELECT CAST(:t2 AS TEXT), tenant, status, 0, SUM(n) FROM gone GROUP BY tenant, status "
       "ORDER BY tenant, status ON CONFLICT (target, tenant, status, shard) "
       "DO UPDATE SET n = c.n + EXCLUDED.n",
      soci::use(target), soci::use(target);
}

// Shard rows of one (target, status) above which FoldDeliveryCounts runs (PostgreSQL).
constexpr long long kFoldAbove = 64;

// Counts by status and the oldest undelivered row of one target (of one tenant when given).
// The counts are the sums of delivery_counts (migration 014), kept exact by triggers on
// deliveries; the oldest row is one index entry per tenant (deliveries_undelivered_created).
Counts CountTarget(soci::session& s, Dialect dialect, const std::string& target,
                   const std::optional<std::string>& tenant = {}) {
  Counts counts;
  std::string status;
  long long n = 0, shards = 0, most_shards = 0;
  soci::statement st = (s.prepare << "SELECT status, CAST(SUM(n) AS BIGINT), COUNT(*) "
                                     "FROM delivery_counts WHERE target = :t" +
                                         TenantClause(tenant, "tenant") + " GROUP BY status");
  st.exchange(soci::use(target));
  if (tenant) st.exchange(soci::use(*tenant));
  st.exchange(soci::into(status));
  st.exchange(soci::into(n));
  st.exchange(soci::into(shards));
  st.define_and_bind();
  st.execute();
  while (st.fetch()) {
    if (status == "pending") counts.pending = n;
    if (status == "in_flight") counts.in_flight = n;
    if (status == "delivered") counts.delivered = n;
    if (status == "failed") counts.failed = n;
    most_shards = std::max(most_shards, shards);
  }
  if (dialect == Dialect::kPostgres && most_shards > kFoldAbove) FoldDeliveryCounts(s, target);
  if (counts.pending + counts.in_flight == 0) return counts;
  std::string oldest;
  soci::indicator ind = soci::i_null;
  soci::statement min =
      (s.prepare << "SELECT MIN((SELECT MIN(d.created) FROM deliveries d WHERE d.target = c.target "
                    "AND d.tenant = c.tenant AND d.status IN ('pending', 'in_flight') "
                    "AND d.created IS NOT NULL)) FROM " +
                        TenantsWith("'pending', 'in_flight'", tenant));
  min.exchange(soci::use(target));
  if (tenant) min.exchange(soci::use(*tenant));
  min.exchange(soci::into(oldest, ind));
  min.define_and_bind();
  if (min.execute(true) && ind == soci::i_ok) counts.oldest_created = oldest;
  return counts;
}

// Pending rows of `target` waiting behind a failed row of the same resource that blocks it
// (blocks_resource = 1, an earlier seq): driven by those failed rows (few), each resource's later
// pending rows found in deliveries_resource, instead of a probe per pending row.
long long CountBlocked(soci::session& s, const std::string& target,
                       const std::optional<std::string>& tenant) {
  long long blocked = 0;
  soci::statement count =
      (s.prepare << "SELECT COUNT(*) FROM (SELECT tenant, resource_id, MIN(seq) AS first_seq "
                    "FROM deliveries WHERE target = :t AND status = 'failed' "
                    "AND blocks_resource = 1" +
                        TenantClause(tenant, "tenant") +
                        " GROUP BY tenant, resource_id) f JOIN deliveries d ON d.target = :t2 "
                        "AND d.tenant = f.tenant AND d.resource_id = f.resource_id "
                        "AND d.seq > f.first_seq AND d.status <> 'delivered' "
                        "AND d.status = 'pending'");
  count.exchange(soci::use(target));
  if (tenant) count.exchange(soci::use(*tenant));
  count.exchange(soci::use(target));
  count.exchange(soci::into(blocked));
  count.define_and_bind();
  count.execute(true);
  return blocked;
}

// The most recent error (updated, then id) among the target's rows not delivered: each tenant's
// newest from deliveries_last_error, then the newest of those.
std::optional<std::string> LastError(soci::session& s, const std::string& target,
                                     const std::optional<std::string>& tenant) {
  std::string error;
  soci::indicator ind = soci::i_null;
  soci::statement last =
      (s.prepare << "SELECT last_error FROM deliveries WHERE id IN (SELECT (SELECT e.id "
                    "FROM deliveries e WHERE e.target = c.target AND e.tenant = c.tenant "
                    "AND e.last_error IS NOT NULL "
                    "AND e.status IN ('pending', 'in_flight', 'failed') "
                    "ORDER BY e.updated DESC, e.id DESC LIMIT 1) FROM " +
                        TenantsWith("'pending', 'in_flight', 'failed'", tenant) +
                        ") ORDER BY updated DESC, id DESC LIMIT 1");
  last.exchange(soci::use(target));
  if (tenant) last.exchange(soci::use(*tenant));
  last.exchange(soci::into(error, ind));
  last.define_and_bind();
  if (last.execute(true) && ind == soci::i_ok) return error;
  return std::nullopt;
}

double AgeSeconds(const std::optional<std::string>& created) {
  if (!created) return 0;
  auto ms = TimestampMs(*created);
  if (!ms) return 0;
  return std::max<double>(0, static_cast<double>(NowMs() - *ms) / 1000.0);
}

// The breaker of `target` (delivery_store.h, "Paused targets"): whether paused, since (ms),
// why, next probe (ms).
struct Pause {
  bool paused = false;
  int64_t since_ms = 0;
  std::string reason;
  int64_t next_probe_ms = 0;
};

Pause PauseOf(soci::session& s, const std::string& target) {
  Pause p;
  int paused = 0;
  long long since = 0, next_probe = 0;
  std::string reason;
  soci::indicator since_ind = soci::i_null, reason_ind = soci::i_null, next_ind = soci::i_null;
  s << "SELECT paused, paused_since_ms, reason, next_probe_at FROM target_health "
       "WHERE target = :t",
      soci::use(target), soci::into(paused), soci::into(since, since_ind),
      soci::into(reason, reason_ind), soci::into(next_probe, next_ind);
  if (!s.got_data() || paused != 1) return p;
  p.paused = true;
  p.since_ms = since_ind == soci::i_ok ? since : 0;
  p.reason = reason_ind == soci::i_ok ? reason : "";
  p.next_probe_ms = next_ind == soci::i_ok ? next_probe : 0;
  return p;
}

std::string MsTimestamp(int64_t ms) {
  return FormatTimestamp(std::chrono::system_clock::time_point(std::chrono::milliseconds(ms)));
}

// Targets with a cursor (every target a dispatcher ever ran), by name → type.
std::map<std::string, std::string> KnownTargets(soci::session& s) {
  std::map<std::string, std::string> known;
  std::string name, type;
  soci::statement st = (s.prepare << "SELECT target, type FROM target_cursors ORDER BY target",
                        soci::into(name), soci::into(type));
  st.execute();
  while (st.fetch()) known[name] = type;
  return known;
}

// Re-queues the failed deliveries matching `where` (which binds `text` or `number` when given).
Status RequeueSql(soci::session& s, const std::string& where, long long* affected,
                  const std::string* text, const long long* number) {
  long long now = NowMs();
  std::string now_text = NowTimestamp();
  soci::statement st =
      (s.prepare
       << "UPDATE deliveries SET status = 'pending', attempts = 0, requeues = requeues + 1, "
          "next_attempt_at = :na, blocks_resource = 0, lease_owner = NULL, "
          "lease_until = NULL, updated = :u WHERE status = 'failed'" +
              where);
  st.exchange(soci::use(now));
  st.exchange(soci::use(now_text));
  if (text != nullptr) st.exchange(soci::use(*text));
  if (number != nullptr) st.exchange(soci::use(*number));
  st.define_and_bind();
  st.execute(true);
  *affected = st.get_affected_rows();
  return OkStatus();
}

// Makes the pending rows parked behind re-queued failures due again (they still wait for the
// re-queued row itself: see delivery_queue.h). `where` is " AND ..." over the pending rows.
void UnparkSql(soci::session& s, const std::string& where, const std::vector<std::string>& text) {
  long long now = NowMs();
  long long parked = kParkedMs;
  soci::statement st = (s.prepare << "UPDATE deliveries SET next_attempt_at = :now "
                                     "WHERE status = 'pending' AND next_attempt_at >= :p" +
                                         where);
  st.exchange(soci::use(now));
  st.exchange(soci::use(parked));
  for (const std::string& value : text) st.exchange(soci::use(value));
  st.define_and_bind();
  st.execute(true);
}

}  // namespace

Result<std::vector<TargetStatus>> SyncStatus(Database& db, const std::vector<TargetRef>& targets,
                                             const std::optional<std::string>& tenant) {
  std::vector<TargetStatus> out;
  SCIM_RETURN_IF_ERROR(db.WithSession([&](soci::session& s) -> Status {
    out.clear();
    std::map<std::string, std::string> known = KnownTargets(s);
    std::vector<TargetRef> all = targets;
    std::set<std::string> listed;
    for (const TargetRef& t : targets) listed.insert(t.name);
    for (const auto& [name, type] : known) {
      if (!listed.contains(name)) all.push_back({name, type});
    }
    for (const TargetRef& t : all) {
      TargetStatus status;
      status.name = t.name;
      status.type = t.type.empty() && known.contains(t.name) ? known[t.name] : t.type;
      Counts counts = CountTarget(s, db.dialect(), t.name, tenant);
      status.pending = counts.pending + counts.in_flight;
      status.in_flight = counts.in_flight;
      status.delivered = counts.delivered;
      status.failed = counts.failed;
      status.oldest_pending_seconds = AgeSeconds(counts.oldest_created);
      status.blocked =
          counts.failed > 0 && counts.pending > 0 ? CountBlocked(s, t.name, tenant) : 0;
      if (counts.pending + counts.in_flight + counts.failed > 0) {
        status.last_error = LastError(s, t.name, tenant);
      }
      soci::rowset<soci::row> notices =
          (s.prepare << "SELECT topic, message, since, updated FROM target_notices "
                        "WHERE target = :t ORDER BY topic",
           soci::use(t.name));
      for (const soci::row& row : notices) {
        status.notices.push_back({row.get<std::string>(0), row.get<std::string>(1),
                                  row.get<std::string>(2), row.get<std::string>(3)});
      }
      if (Pause pause = PauseOf(s, t.name); pause.paused) {
        status.paused = true;
        status.paused_since = MsTimestamp(pause.since_ms);
        status.pause_reason = pause.reason;
        status.next_probe_at = MsTimestamp(pause.next_probe_ms);
      }
      out.push_back(std::move(status));
    }
    return OkStatus();
  }));
  return out;
}

Result<std::vector<DeliveryRow>> ListDeliveries(Database& db,
                                                const std::optional<std::string>& status,
                                                const std::optional<std::string>& target, int limit,
                                                const std::optional<std::string>& tenant,
                                                const std::optional<std::string>& resource_id) {
  if (status &&
      std::find(std::begin(kStatuses), std::end(kStatuses), *status) == std::end(kStatuses)) {
    return Error(ErrorCode::kInvalidValue,
                 "unknown delivery status \"" + *status +
                     "\" (expected pending, in_flight, delivered or failed)");
  }
  long long max_rows = std::clamp(limit, 1, 1000);
  std::vector<DeliveryRow> out;
  SCIM_RETURN_IF_ERROR(db.WithSession([&](soci::session& s) -> Status {
    out.clear();
    std::string sql =
        "SELECT d.id, d.seq, d.target, d.tenant, d.resource_type, d.resource_id, o.event, "
        "d.status, d.attempts, d.last_error, d.updated FROM deliveries d "
        "JOIN outbox o ON o.seq = d.seq WHERE 1 = 1";
    if (status) sql += " AND d.status = :st";
    if (target) sql += " AND d.target = :t";
    if (tenant) sql += " AND d.tenant = :tn";
    if (resource_id) sql += " AND d.resource_id = :rid";
    sql += " ORDER BY d.id DESC LIMIT :n";
    DeliveryRow row;
    long long id = 0, seq = 0;
    int attempts = 0;
    std::string error;
    soci::indicator error_ind = soci::i_null;
    soci::statement select = (s.prepare << sql);
    if (status) select.exchange(soci::use(*status));
    if (target) select.exchange(soci::use(*target));
    if (tenant) select.exchange(soci::use(*tenant));
    if (resource_id) select.exchange(soci::use(*resource_id));
    select.exchange(soci::use(max_rows));
    select.exchange(soci::into(id));
    select.exchange(soci::into(seq));
    select.exchange(soci::into(row.target));
    select.exchange(soci::into(row.tenant));
    select.exchange(soci::into(row.resource_type));
    select.exchange(soci::into(row.resource_id));
    select.exchange(soci::into(row.event));
    select.exchange(soci::into(row.status));
    select.exchange(soci::into(attempts));
    select.exchange(soci::into(error, error_ind));
    select.exchange(soci::into(row.updated));
    select.define_and_bind();
    select.execute();
    while (select.fetch()) {
      row.id = id;
      row.seq = seq;
      row.attempts = attempts;
      row.last_error = error_ind == soci::i_ok ? std::optional<std::string>(error) : std::nullopt;
      out.push_back(row);
    }
    return OkStatus();
  }));
  return out;
}

Status RetryDelivery(Database& db, int64_t id, const std::optional<std::string>& tenant,
                     DeliveryRow* out_row) {
  return db.InTransaction([&](soci::session& s) -> Status {
    long long key = id;
    std::string status, target, row_tenant, resource_type, resource_id;
    s << "SELECT status, target, tenant, resource_type, resource_id FROM deliveries "
         "WHERE id = :id",
        soci::use(key), soci::into(status), soci::into(target), soci::into(row_tenant),
        soci::into(resource_type), soci::into(resource_id);
    if (!s.got_data() || (tenant && *tenant != row_tenant)) {
      return Error(ErrorCode::kNotFound, "no delivery " + std::to_string(id));
    }
    if (status != "failed") {
      return Error(ErrorCode::kConflict,
                   "delivery " + std::to_string(id) + " is " + status + ", not failed");
    }
    long long affected = 0;
    SCIM_RETURN_IF_ERROR(RequeueSql(s, " AND id = :id", &affected, nullptr, &key));
    UnparkSql(s, " AND target = :t AND tenant = :tn AND resource_id = :rid",
              {target, row_tenant, resource_id});
    if (out_row != nullptr) {
      out_row->id = id;
      out_row->target = target;
      out_row->tenant = row_tenant;
      out_row->resource_type = resource_type;
      out_row->resource_id = resource_id;
      out_row->status = "pending";
    }
    return OkStatus();
  });
}

Result<int64_t> RetryFailed(Database& db, const std::optional<std::string>& target) {
  long long affected = 0;
  SCIM_RETURN_IF_ERROR(db.InTransaction([&](soci::session& s) -> Status {
    SCIM_RETURN_IF_ERROR(RequeueSql(s, target ? " AND target = :t" : "", &affected,
                                    target ? &*target : nullptr, nullptr));
    if (target) {
      UnparkSql(s, " AND target = :t", {*target});
    } else {
      UnparkSql(s, "", {});
    }
    return OkStatus();
  }));
  return static_cast<int64_t>(affected);
}

namespace {

Result<std::vector<Link>> SelectLinks(Database& db, const std::optional<std::string>& tenant,
                                      const std::string& resource_id) {
  std::vector<Link> out;
  SCIM_RETURN_IF_ERROR(db.WithSession([&](soci::session& s) -> Status {
    out.clear();
    Link link;
    soci::statement select =
        (s.prepare << "SELECT tenant, target, resource_type, resource_id, external_id "
                      "FROM target_links WHERE resource_id = :rid" +
                          TenantClause(tenant, "tenant") + " ORDER BY tenant, target");
    select.exchange(soci::use(resource_id));
    if (tenant) select.exchange(soci::use(*tenant));
    select.exchange(soci::into(link.tenant));
    select.exchange(soci::into(link.target));
    select.exchange(soci::into(link.resource_type));
    select.exchange(soci::into(link.resource_id));
    select.exchange(soci::into(link.external_id));
    select.define_and_bind();
    select.execute();
    while (select.fetch()) out.push_back(link);
    return OkStatus();
  }));
  return out;
}

}  // namespace

Result<std::vector<Link>> LinksOf(Database& db, const std::string& tenant,
                                  const std::string& resource_id) {
  return SelectLinks(db, tenant, resource_id);
}

Result<std::vector<Link>> LinksOfAnyTenant(Database& db, const std::string& resource_id) {
  return SelectLinks(db, std::nullopt, resource_id);
}

Result<DeliveryMetrics> DeliveryMetricsOf(Database& db, const std::vector<TargetRef>& targets) {
  DeliveryMetrics metrics;
  SCIM_RETURN_IF_ERROR(db.WithSession([&](soci::session& s) -> Status {
    metrics = DeliveryMetrics{};
    std::map<std::string, std::string> known = KnownTargets(s);
    if (!targets.empty()) {
      known.clear();
      for (const TargetRef& t : targets) known[t.name] = t.type;
    }
    long long depth = 0;
    if (!known.empty()) {
      // scanned_seq, not last_seq: on PostgreSQL last_seq trails until older seqs settle. A
      // target that never ran counts from the start of the outbox.
      long long min_cursor = std::numeric_limits<long long>::max();
      for (const auto& [name, type] : known) {
        long long scanned = 0;
        s << "SELECT scanned_seq FROM target_cursors WHERE target = :t", soci::use(name),
            soci::into(scanned);
        min_cursor = std::min(min_cursor, s.got_data() ? scanned : 0LL);
      }
      // The events after the cursor plus those at or before it that some target has not
      // delivered yet (every delivery's seq is an outbox seq): |A ∪ B| = |A| + |B \ A|. The
      // second part walks deliveries_undelivered_seq in seq order (no hashing of the backlog).
      s << "SELECT (SELECT COUNT(*) FROM outbox WHERE seq > :c) + (SELECT COUNT(*) FROM "
           "(SELECT DISTINCT seq FROM deliveries WHERE status IN ('pending', 'in_flight') "
           "AND created IS NOT NULL AND seq <= :c2) y)",
          soci::use(min_cursor), soci::use(min_cursor), soci::into(depth);
    }
    metrics.outbox_depth = depth;
    for (const auto& [name, type] : known) {
      Counts counts = CountTarget(s, db.dialect(), name);
      TargetMetrics t;
      t.name = name;
      t.delivered = counts.delivered;
      t.failed = counts.failed;
      t.pending = counts.pending + counts.in_flight;
      t.oldest_pending_seconds = AgeSeconds(counts.oldest_created);
      if (Pause pause = PauseOf(s, name); pause.paused) {
        t.paused = true;
        t.paused_seconds =
            std::max<double>(0, static_cast<double>(NowMs() - pause.since_ms) / 1000.0);
      }
      metrics.targets.push_back(std::move(t));
    }
    return OkStatus();
  }));
  return metrics;
}

}  // namespace scim::store
