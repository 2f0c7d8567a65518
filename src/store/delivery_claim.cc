// DeliveryStore: due rows, claims (with the probe of a paused target), leases (release, renew,
// reap) (scim/store/delivery_store.h, "Claim" and "Paused targets").
#include <soci/soci.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <vector>

#include "scim/common/clock.h"
#include "scim/common/json.h"
#include "scim/store/delivery_store.h"
#include "store/cached_sql.h"
#include "store/delivery_sql.h"

namespace scim::store {
namespace {

using delivery_sql::IdArray;
using delivery_sql::IdList;
using delivery_sql::InIds;
using delivery_sql::IntOf;

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

// The tenant whose share a claim of each target took last, in this process: the next claim starts
// after it (the rotation of the fair claim). Per process: other processes rotate on their own.
std::mutex last_served_mutex;
std::map<std::string, std::string> last_served;

std::string LastServed(const std::string& target) {
  std::lock_guard<std::mutex> lock(last_served_mutex);
  auto it = last_served.find(target);
  return it == last_served.end() ? std::string() : it->second;
}

void SetLastServed(const std::string& target, const std::string& tenant) {
  std::lock_guard<std::mutex> lock(last_served_mutex);
  last_served[target] = tenant;
}

// At most this many tenants share one claim; more are served over successive claims.
constexpr long long kMaxTenantsPerClaim = 64;

// The tenants with pending rows at `target`, those after `after` first, then (wrapping around)
// those up to `after`: at most kMaxTenantsPerClaim.
std::vector<std::string> PendingTenants(soci::session& s, Dialect dialect,
                                        const std::string& target, const std::string& after) {
  std::vector<std::string> tenants;
  // Appends the tenants after `from` (at most `cap`), stopping past `until` when given.
  auto scan = [&](const std::string& from, long long cap, const std::string* until) {
    CachedRows rows = RunCached(s, dialect, "dl_pending_tenants", delivery_sql::kPendingTenantsSql,
                                {target, from, target, SqlArg::Int(cap)});
    for (size_t r = 0; r < rows.size(); ++r) {
      const std::string& tenant = rows.at(r, 0).value_or("");
      if (until != nullptr && tenant > *until) break;
      tenants.push_back(tenant);
    }
  };
  scan(after, kMaxTenantsPerClaim, nullptr);
  const long long found = static_cast<long long>(tenants.size());
  if (!after.empty() && found < kMaxTenantsPerClaim) {
    scan(std::string(), kMaxTenantsPerClaim - found, &after);
  }
  return tenants;
}

}  // namespace

Result<bool> DeliveryStore::HasDue(const std::string& target) {
  bool due = false;
  const Dialect dialect = db_.dialect();
  SCIM_RETURN_IF_ERROR(db_.WithSession([&](soci::session& s) -> Status {
    long long now = NowMs();
    if (RunCached(s, dialect, "dl_paused_now",
                  "SELECT paused FROM target_health WHERE target = $1 AND paused = 1 "
                  "AND next_probe_at > $2",
                  {target, SqlArg::Int(now)})
            .size() > 0) {
      return OkStatus();  // paused, and its probe is not due
    }
    due = RunCached(s, dialect, "dl_has_due",
                    delivery_sql::ClaimSql(dialect == Dialect::kPostgres, false),
                    {target, SqlArg::Int(now), SqlArg::Int(1)})
              .size() > 0;
    return OkStatus();
  }));
  return due;
}

Result<std::vector<ClaimedDelivery>> DeliveryStore::Claim(const std::string& target,
                                                          const std::string& owner, int limit,
                                                          int64_t lease_ms,
                                                          const CoalesceRule* coalesce) {
  const Dialect dialect = db_.dialect();
  const bool pg = dialect == Dialect::kPostgres;
  std::vector<ClaimedDelivery> claimed;
  SCIM_RETURN_IF_ERROR(InBookkeeping([&](soci::session& s) -> Status {
    claimed.clear();
    long long now = NowMs();
    long long max_rows = std::max(1, limit);
    // A paused target gives out nothing but its probe, once next_probe_at has come.
    bool probe = false;
    long long probe_backoff = 0;
    {
      std::optional<std::string> next_probe;
      auto read_health = [&](bool lock) {
        CachedRows rows = RunCached(
            s, dialect, lock ? "dl_health_lock" : "dl_health",
            std::string("SELECT paused, next_probe_at, probe_backoff_ms FROM target_health "
                        "WHERE target = $1") +
                (lock ? " FOR UPDATE" : ""),
            {target});
        if (rows.size() == 0) return false;
        next_probe = rows.at(0, 1);
        probe_backoff = IntOf(rows.at(0, 2));
        return IntOf(rows.at(0, 0)) == 1;
      };
      if (read_health(false)) {
        // Lock the row so that one claimer alone takes the probe (SQLite: BEGIN IMMEDIATE).
        if (pg && !read_health(true)) {
          // closed in between
        } else if (next_probe && IntOf(next_probe) > now) {
          return OkStatus();
        } else {
          probe = true;
          max_rows = 1;
        }
      }
    }
    // The rows first (locking only them), then their events: a join in the locking query let
    // the planner walk the whole outbox in a merge join.
    std::map<int64_t, ClaimedDelivery> by_seq;
    // Adds up to `n` of the oldest due rows (of `tenant` alone when given) not taken yet. On
    // PostgreSQL a row this transaction locked already comes back (SKIP LOCKED skips only the
    // locks of others), hence the check.
    auto take = [&](const std::string* tenant, long long n) {
      CachedRows rows =
          tenant != nullptr
              ? RunCached(s, dialect, "dl_claim_tenant", delivery_sql::ClaimSql(pg, pg, true),
                          {target, *tenant, SqlArg::Int(now), SqlArg::Int(n)})
              : RunCached(s, dialect, "dl_claim", delivery_sql::ClaimSql(pg, pg),
                          {target, SqlArg::Int(now), SqlArg::Int(n)});
      for (size_t r = 0; r < rows.size(); ++r) {
        const long long seq = IntOf(rows.at(r, 1));
        if (by_seq.count(seq) > 0 || static_cast<long long>(by_seq.size()) >= max_rows) continue;
        ClaimedDelivery& c = by_seq[seq];
        c.id = IntOf(rows.at(r, 0));
        c.attempts = static_cast<int>(IntOf(rows.at(r, 2)));
        c.requeues = static_cast<int>(IntOf(rows.at(r, 3)));
        c.seq = seq;
        c.event.seq = seq;
      }
    };
    // Fairness between tenants: with several tenants waiting, each gets up to
    // ceil(max_rows / tenants) of its oldest due rows (at least 1), starting after the tenant
    // served last, so one tenant's backlog does not hold back another's trickle; what is left of
    // max_rows then goes to the oldest due rows of any tenant. Each resource still goes in seq
    // order (kNoEarlierOpen). A probe is the oldest due row, as before.
    std::vector<std::string> tenants =
        probe ? std::vector<std::string>{} : PendingTenants(s, dialect, target, LastServed(target));
    if (tenants.size() <= 1) {
      take(nullptr, max_rows);
    } else {
      const long long k = static_cast<long long>(tenants.size());
      const long long share = std::max(1LL, (max_rows + k - 1) / k);
      std::string served;
      for (const std::string& tenant : tenants) {
        long long left = max_rows - static_cast<long long>(by_seq.size());
        if (left <= 0) break;
        take(&tenant, std::min(share, left));
        served = tenant;
      }
      SetLastServed(target, served);
      if (static_cast<long long>(by_seq.size()) < max_rows) take(nullptr, max_rows);
    }
    if (by_seq.empty()) return OkStatus();
    // Coalescing: the rows that follow each claimed row of its resource, up to the first one that
    // cannot go in its call yet (CoalesceRule); their events are read with the others and
    // `extend` decides below where each run ends.
    std::map<int64_t, std::vector<ClaimedDelivery>> candidates;  // by the claimed row's seq
    std::map<int64_t, ClaimedDelivery*> by_any_seq;              // every row read, by seq
    for (auto& [seq, c] : by_seq) by_any_seq[seq] = &c;
    if (coalesce != nullptr && coalesce->max_rows > 1 && coalesce->extend) {
      std::map<int64_t, int64_t> head_seq_of;  // by the claimed row's id
      for (auto& [head_seq, head] : by_seq) {
        if (head.requeues > 0) continue;  // its event may become the latest state (CatchUpRequeued)
        head_seq_of[head.id] = head_seq;
        candidates[head_seq];
      }
      // The candidates of a head in seq order (columns from 1 of kCoalesceCandidatesSql's rows;
      // `first`: the first row of them): its run is the rows up to the first that is not due.
      std::set<int64_t> closed;  // heads whose run ended
      auto add = [&](int64_t head_seq, const CachedRows& rows, size_t r, int col) {
        if (closed.count(head_seq) > 0) return;
        const std::optional<std::string>& next_at = rows.at(r, col + 3);
        if (rows.at(r, col + 2) != "pending" || !next_at || IntOf(next_at) > now ||
            IntOf(rows.at(r, col + 5)) != 0) {
          closed.insert(head_seq);
          return;
        }
        ClaimedDelivery& c = candidates[head_seq].emplace_back();
        c.id = IntOf(rows.at(r, col));
        c.attempts = static_cast<int>(IntOf(rows.at(r, col + 4)));
        c.seq = IntOf(rows.at(r, col + 1));
        c.event.seq = c.seq;
      };
      const long long n = coalesce->max_rows - 1;
      if (pg && !head_seq_of.empty()) {
        // One round trip for every head of the claim (PostgreSQL; on SQLite a statement costs no
        // round trip, and its lack of LATERAL would read every later row of a resource).
        std::vector<int64_t> heads;
        for (const auto& entry : head_seq_of) heads.push_back(entry.first);
        CachedRows rows =
            RunCached(s, dialect, "dl_coalesce_candidates_of", delivery_sql::kCoalesceRunsPgSql,
                      {IdArray(dialect, heads), SqlArg::Int(n)});
        for (size_t r = 0; r < rows.size(); ++r) add(head_seq_of[IntOf(rows.at(r, 0))], rows, r, 1);
      } else {
        for (const auto& [head_id, head_seq] : head_seq_of) {
          CachedRows rows =
              RunCached(s, dialect, "dl_coalesce_candidates", delivery_sql::kCoalesceCandidatesSql,
                        {SqlArg::Int(head_id), SqlArg::Int(n)});
          for (size_t r = 0; r < rows.size(); ++r) add(head_seq, rows, r, 0);
        }
      }
      if (pg) {
        // Every run's rows locked in one statement (in seq order, as each run's were); each run
        // then ends before its first row that is no longer pending.
        std::vector<int64_t> ids;
        for (const auto& [head_seq, run] : candidates) {
          for (const ClaimedDelivery& c : run) ids.push_back(c.id);
        }
        if (!ids.empty()) {
          std::set<int64_t> locked;
          CachedRows lock =
              RunPlannedPerCall(s, dialect, delivery_sql::kLockRunSql, {IdArray(dialect, ids)});
          for (size_t r = 0; r < lock.size(); ++r) locked.insert(IntOf(lock.at(r, 0)));
          for (auto& [head_seq, run] : candidates) {
            size_t keep = 0;
            while (keep < run.size() && locked.count(run[keep].id) > 0) ++keep;
            run.resize(keep);
          }
        }
      }
      for (auto& [head_seq, run] : candidates) {
        for (ClaimedDelivery& c : run) by_any_seq[c.seq] = &c;
      }
    }
    std::vector<int64_t> seqs, bad;
    std::set<int64_t> unknown_kind;  // seqs
    for (const auto& entry : by_any_seq) seqs.push_back(entry.first);
    {
      CachedRows rows = RunCached(
          s, dialect, "dl_claim_events",
          "SELECT seq, tenant, resource_type, resource_id, event, version, payload, created "
          "FROM outbox WHERE seq " +
              InIds(dialect, 1),
          {IdArray(dialect, seqs)});
      for (size_t r = 0; r < rows.size(); ++r) {
        const long long seq = IntOf(rows.at(r, 0));
        ClaimedDelivery& c = *by_any_seq[seq];
        c.event.tenant = rows.at(r, 1).value_or("");
        c.event.resource_type = rows.at(r, 2).value_or("");
        c.event.resource_id = rows.at(r, 3).value_or("");
        const std::string kind = rows.at(r, 4).value_or("");
        c.event.version = IntOf(rows.at(r, 5));
        c.event.payload = rows.at(r, 6).value_or("");
        c.event.created = rows.at(r, 7).value_or("");
        if (!events::ParseChangeKind(kind, c.event.kind)) {
          unknown_kind.insert(seq);
          if (by_seq.count(seq) > 0) bad.push_back(c.id);
        }
      }
    }
    std::vector<int64_t> superseded;
    for (auto& [key, c] : by_seq) {
      if (std::find(bad.begin(), bad.end(), c.id) != bad.end()) continue;
      if (c.requeues > 0 && !CatchUpRequeued(s, target, c.event)) {
        superseded.push_back(c.id);
        continue;
      }
      // The run behind it: as long as each next event parses and `extend` takes it.
      if (auto run = candidates.find(key); run != candidates.end()) {
        c.coalesced.reserve(run->second.size());  // run_events points into it
        std::vector<const events::ChangeEvent*> run_events = {&c.event};
        for (ClaimedDelivery& next : run->second) {
          if (next.event.tenant.empty() || unknown_kind.count(next.seq) > 0 ||
              !coalesce->extend(run_events, next.event)) {
            break;
          }
          c.coalesced.push_back(std::move(next));
          run_events.push_back(&c.coalesced.back().event);
        }
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
    for (const ClaimedDelivery& c : claimed) {
      ids.push_back(c.id);
      for (const ClaimedDelivery& f : c.coalesced) ids.push_back(f.id);
    }
    RunCached(s, dialect, "dl_take",
              "UPDATE deliveries SET status = 'in_flight', next_attempt_at = NULL, "
              "lease_owner = $1, lease_until = $2, updated = $3 WHERE id " +
                  InIds(dialect, 4),
              {owner, SqlArg::Int(now + lease_ms), now_text, IdArray(dialect, ids)});
    return OkStatus();
  }));
  return claimed;
}

Status DeliveryStore::Release(const std::string& owner, const std::vector<int64_t>& ids) {
  if (ids.empty()) return OkStatus();
  const Dialect dialect = db_.dialect();
  return InBookkeeping([&](soci::session& s) -> Status {
    RunCached(s, dialect, "dl_release",
              "UPDATE deliveries SET status = 'pending', next_attempt_at = $1, "
              "lease_owner = NULL, lease_until = NULL, updated = $2 "
              "WHERE status = 'in_flight' AND lease_owner = $3 AND id " +
                  InIds(dialect, 4),
              {SqlArg::Int(NowMs()), NowTimestamp(), owner, IdArray(dialect, ids)});
    return OkStatus();
  });
}

Status DeliveryStore::RenewLeases(const std::string& owner, const std::vector<int64_t>& ids,
                                  int64_t lease_ms) {
  if (ids.empty()) return OkStatus();
  const Dialect dialect = db_.dialect();
  return InBookkeeping([&](soci::session& s) -> Status {
    RunCached(s, dialect, "dl_renew",
              "UPDATE deliveries SET lease_until = $1 WHERE status = 'in_flight' "
              "AND lease_owner = $2 AND id " +
                  InIds(dialect, 3),
              {SqlArg::Int(NowMs() + lease_ms), owner, IdArray(dialect, ids)});
    return OkStatus();
  });
}

Result<int> DeliveryStore::ReapExpired(const std::string& target, int max_attempts_allowed) {
  int reaped = 0;
  bool any = false;
  // A read first: on SQLite the updates below would take the write lock on every call.
  SCIM_RETURN_IF_ERROR(db_.WithSession([&](soci::session& s) -> Status {
    any = RunCached(s, db_.dialect(), "dl_any_expired", delivery_sql::kAnyExpiredSql,
                    {target, SqlArg::Int(NowMs())})
              .size() > 0;
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
}  // namespace scim::store
