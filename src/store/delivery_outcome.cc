// DeliveryStore: outcomes of attempts (RecordAttempts, one transaction per claimed batch) and
// the target's circuit breaker row (scim/store/delivery_store.h, "Outcome", "Paused targets").
#include <soci/soci.h>

#include <set>

#include "scim/common/clock.h"
#include "scim/store/delivery_store.h"
#include "store/cached_sql.h"
#include "store/delivery_sql.h"
#include "store/link_refresh.h"

namespace scim::store {

using delivery_sql::IntOf;
using delivery_sql::PgArray;
using delivery_sql::Truncate;

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
  const Dialect dialect = db_.dialect();
  SCIM_RETURN_IF_ERROR(InBookkeeping([&](soci::session& s) -> Status {
    owned_rows.assign(batch.size(), false);
    if (resumed != nullptr) *resumed = false;
    std::string now = NowTimestamp();
    bool answered = false;
    // PostgreSQL: every row's outcome in one statement (kOutcomesPgSql), then the rest of each
    // row below. A row's hold on the later rows of its resource (dl_hold_later) then follows the
    // outcomes of the whole batch, so it also holds a later row of the resource that this batch
    // made pending again (coalesced into the same call): it cannot go before this one either.
    const bool batched = dialect == Dialect::kPostgres && batch.size() > 1;
    std::set<int64_t> owned_ids;
    if (batched) {
      std::vector<std::optional<std::string>> ids, statuses, attempts, next_ats, errors, blocks;
      for (const AttemptOf& a : batch) {
        ids.emplace_back(std::to_string(a.delivery->id));
        statuses.emplace_back(a.attempt.status);
        attempts.emplace_back(std::to_string(a.attempt.attempts));
        next_ats.push_back(a.attempt.next_attempt_at ? std::optional<std::string>(std::to_string(
                                                           *a.attempt.next_attempt_at))
                                                     : std::nullopt);
        errors.push_back(a.attempt.error ? std::optional<std::string>(Truncate(*a.attempt.error))
                                         : std::nullopt);
        blocks.emplace_back(a.attempt.blocks_resource ? "1" : "0");
      }
      CachedRows rows =
          RunCached(s, dialect, "dl_outcomes", delivery_sql::kOutcomesPgSql,
                    {PgArray(ids), PgArray(statuses), PgArray(attempts), PgArray(next_ats),
                     PgArray(errors), PgArray(blocks), now, owner});
      for (size_t r = 0; r < rows.size(); ++r) owned_ids.insert(IntOf(rows.at(r, 0)));
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      const ClaimedDelivery& delivery = *batch[i].delivery;
      const AttemptRecord& attempt = batch[i].attempt;
      const std::string& status = attempt.status;
      const long long next_at = attempt.next_attempt_at.value_or(0);
      const int blocks = attempt.blocks_resource ? 1 : 0;
      const std::optional<std::string> error =
          attempt.error ? std::optional<std::string>(Truncate(*attempt.error)) : std::nullopt;
      // RETURNING: whether this owner still held the row (PostgreSQL and SQLite 3.35+).
      const bool owned =
          batched ? owned_ids.count(delivery.id) > 0
                  : RunCached(
                        s, dialect, "dl_outcome",
                        "UPDATE deliveries SET status = $1, attempts = $2, next_attempt_at = $3, "
                        "last_error = $4, blocks_resource = $5, lease_owner = NULL, "
                        "lease_until = NULL, updated = $6 "
                        "WHERE id = $7 AND status = 'in_flight' AND lease_owner = $8 RETURNING id",
                        {status, SqlArg::Int(attempt.attempts),
                         attempt.next_attempt_at ? SqlArg::Int(next_at) : SqlArg(nullptr),
                         error ? SqlArg(*error) : SqlArg(nullptr), SqlArg::Int(blocks), now,
                         SqlArg::Int(delivery.id), owner})
                            .size() > 0;
      owned_rows[i] = owned;
      const events::ChangeEvent& ev = delivery.event;
      if (owned && (status == "pending" || blocks == 1)) {
        // Later rows of the resource cannot go before this one: keep them off the due list
        // until its next attempt (or until it is re-queued).
        long long hold_until = status == "pending" ? next_at : kParkedMs;
        RunCached(s, dialect, "dl_hold_later", delivery_sql::kHoldLaterSql,
                  {SqlArg::Int(hold_until), target, ev.tenant, ev.resource_id, SqlArg::Int(ev.seq),
                   SqlArg::Int(hold_until)});
      }
      // A User's new, changed or dropped link reaches the targets that carry it (the CRM).
      const bool refresh = ev.resource_type == "User" && !attempt.link_followers.empty() &&
                           LinkWillChange(s, dialect, target, ev.tenant, ev.resource_id,
                                          attempt.unlink, attempt.target_id.value_or(""));
      if (attempt.unlink) {
        RunCached(s, dialect, "dl_link_drop", delivery_sql::kDropLinkSql,
                  {target, ev.tenant, ev.resource_id});
      } else if (attempt.target_id && !attempt.target_id->empty()) {
        RunCached(s, dialect, "dl_link_save", delivery_sql::kSaveLinkSql,
                  {target, ev.tenant, ev.resource_type, ev.resource_id, *attempt.target_id, now});
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
      CachedRows health = RunCached(s, dialect, "dl_health_to_reset",
                                    "SELECT paused FROM target_health WHERE target = $1 "
                                    "AND (paused = 1 OR consecutive_failures > 0)",
                                    {target});
      if (health.size() > 0) {
        const int paused = static_cast<int>(IntOf(health.at(0, 0)));
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
  SCIM_RETURN_IF_ERROR(InBookkeeping([&](soci::session& s) -> Status {
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

}  // namespace scim::store
