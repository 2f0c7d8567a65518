// DeliveryStore: outcomes of attempts (RecordAttempts, one transaction per claimed batch) and
// the target's circuit breaker row (scim/store/delivery_store.h, "Outcome", "Paused targets").
#include <soci/soci.h>

#include "scim/common/clock.h"
#include "scim/store/delivery_store.h"
#include "store/delivery_sql.h"
#include "store/link_refresh.h"

namespace scim::store {

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
  SCIM_RETURN_IF_ERROR(InBookkeeping([&](soci::session& s) -> Status {
    owned_rows.assign(batch.size(), false);
    if (resumed != nullptr) *resumed = false;
    std::string now = NowTimestamp();
    bool answered = false;
    // One prepared UPDATE for the whole batch: the loop rebinds its variables per row.
    std::string status, error;
    int attempts = 0, blocks = 0;
    long long next_at = 0, id = 0;
    soci::indicator next_ind = soci::i_null, error_ind = soci::i_null;
    soci::statement update =
        (s.prepare << "UPDATE deliveries SET status = :st, attempts = :a, "
                      "next_attempt_at = :na, last_error = :e, blocks_resource = :b, "
                      "lease_owner = NULL, lease_until = NULL, updated = :u "
                      "WHERE id = :id AND status = 'in_flight' AND lease_owner = :o",
         soci::use(status), soci::use(attempts), soci::use(next_at, next_ind),
         soci::use(error, error_ind), soci::use(blocks), soci::use(now), soci::use(id),
         soci::use(owner));
    for (size_t i = 0; i < batch.size(); ++i) {
      const ClaimedDelivery& delivery = *batch[i].delivery;
      const AttemptRecord& attempt = batch[i].attempt;
      status = attempt.status;
      attempts = attempt.attempts;
      next_at = attempt.next_attempt_at.value_or(0);
      next_ind = attempt.next_attempt_at ? soci::i_ok : soci::i_null;
      blocks = attempt.blocks_resource ? 1 : 0;
      error = Truncate(attempt.error.value_or(""));
      error_ind = attempt.error ? soci::i_ok : soci::i_null;
      id = delivery.id;
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
