#pragma once
// The extension point for downstream systems: one TargetAdapter per configured target (Dolibarr,
// Zoho Books, the CRM, a webhook receiver). The delivery engine claims outbox events, asks each
// adapter whether it handles the event, and hands it over together with what it knows about the
// resource at that target (DeliveryContext). The adapter answers with a DeliveryOutcome; it never
// touches the database itself.

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "scim/events/change_event.h"

namespace scim::events {

class Reconcilable;

// What the delivery engine knows about the resource at this target when it calls Deliver().
struct DeliveryContext {
  // The id this target gave the resource (the recorded link), if there is one.
  std::optional<std::string> target_id;
  // Every target's id for this resource (target name → id), including this target's own when
  // linked. The CRM copies the others into its users' `externalIds`.
  std::map<std::string, std::string> linked_ids;
  // The other known targets with no link for this resource (never made, or dropped when the
  // resource was deleted there). The CRM clears their keys from its users' `externalIds`.
  std::set<std::string> unlinked_targets;
  // This target's id of another resource (e.g. a group member), or nullopt when that resource is
  // not linked at this target (yet). May be empty (no lookups possible: every call gives nullopt).
  // The links of the members a Group event adds are read with the context, in one query.
  std::function<std::optional<std::string>(const std::string& resource_id)> lookup_target_id;
  // The current organization role of a User (its primary role, else first, else "member";
  // product.md), read when called (for the members a Group event adds: when the context is
  // built, in one query for all of them), or nullopt when the User is gone or the lookup failed.
  // May be empty. A membership delivered late thus gets the role the user has now, not the one of
  // the event (a role change delivered before it would otherwise be undone).
  std::function<std::optional<std::string>(const std::string& user_id)> current_member_role;
  // Stable per (event, target), identical on every attempt: "<target name>:<seq>". After an
  // operator re-queues a failed delivery for the N-th time it is "<target name>:<seq>:r<N>": the
  // re-queued event may carry the resource's newer state, and a target must not answer it from
  // what it remembers of the refused attempt. Sent as the target's Idempotency-Key / the SET
  // `jti` (so a re-queued webhook event is a new SET).
  std::string idempotency_key;
  // Which try of this delivery this is: 1 for the first (nothing can have reached the target for
  // it yet), more after a retry or a lost lease; 0 when unknown (treat as a retry).
  int attempt = 0;
};

enum class DeliveryStatus {
  kDelivered,  // the target has the change; never send it again
  kRetry,      // transient failure (network, 5xx, 429, a dependency not linked yet): try later
  kFailed,     // permanent failure (the target refused the data): mark failed, keep the error
};

// Short name for logs and the admin API: "delivered", "retry", "failed".
const char* DeliveryStatusName(DeliveryStatus status);

// What one Deliver() call achieved.
struct DeliveryOutcome {
  DeliveryStatus status = DeliveryStatus::kDelivered;
  // A new or confirmed link to record (the target's id for the resource). The engine records it
  // whatever the status: a kRetry that still created the resource (e.g. an organization whose
  // members are not linked yet) keeps its link, so the next attempt updates instead of creating.
  std::optional<std::string> target_id;
  // The resource is gone at the target (deleted, or found missing on delete): drop the link.
  bool unlink = false;
  // For kRetry/kFailed: what happened, in words an operator can act on. Never holds secrets
  // (tokens, keys, signed payloads).
  std::string error;
  // From the target's Retry-After (or the adapter's own rate limiter): do not retry before this.
  // The engine uses the longer of this and its own backoff.
  std::optional<int> retry_after_seconds;
  // For kRetry: the target (429) or the adapter's own limiter asked to slow down. The attempt
  // does not count against the retry limit: rate limits delay work, never drop it.
  bool rate_limited = false;
  // Standing conditions at the target an operator should see even though deliveries go on (e.g.
  // "Dolibarr defines no extra field 'department'; values are not sent"): topic → message sets
  // or confirms that notice, topic → nullopt clears it. Whatever the status, the engine stores
  // them per target (scim/store/target_notices.h) and sync status shows them. Adapters report a
  // notice when they (re)check the condition, not on every delivery.
  std::map<std::string, std::optional<std::string>> notices;
  // For kRetry: the failure looks like the whole target is down, not this record: no answer
  // (connection refused, DNS, TLS, timeout) or a 5xx. The engine counts these per target and
  // pauses the target (a circuit breaker that probes with backoff) instead of spending the
  // delivery's attempts; a 400/422 for this payload is kFailed and never sets this.
  bool target_unavailable = false;
  // With target_unavailable: the adapter is sure (connection refused, host not found): the
  // breaker opens at once instead of after several such failures.
  bool target_unreachable = false;

  static DeliveryOutcome Delivered(std::optional<std::string> id = std::nullopt) {
    DeliveryOutcome o;
    o.target_id = std::move(id);
    return o;
  }
  static DeliveryOutcome Unlinked() {
    DeliveryOutcome o;
    o.unlink = true;
    return o;
  }
  static DeliveryOutcome Retry(std::string error, std::optional<int> retry_after = std::nullopt) {
    DeliveryOutcome o;
    o.status = DeliveryStatus::kRetry;
    o.error = std::move(error);
    o.retry_after_seconds = retry_after;
    return o;
  }
  static DeliveryOutcome Failed(std::string error) {
    DeliveryOutcome o;
    o.status = DeliveryStatus::kFailed;
    o.error = std::move(error);
    return o;
  }
};

// Delivers committed changes to one downstream system.
//
// Deliver() may run again for the same event after a crash or an unknown outcome (timeout after
// the request was sent), so it must be idempotent per event: before a create it looks the
// resource up (by the linked id, by the target's natural key such as the email, by an external
// id, or with an Idempotency-Key where the target supports one) and updates instead of creating
// a duplicate.
//
// Thread-safety: the engine may call Deliver() concurrently from several threads, for different
// resources; implementations synchronize their shared state (tokens, rate limiters). Events of
// one resource are delivered one at a time, in commit order (also across DeliverBatch() calls).
class TargetAdapter {
 public:
  virtual ~TargetAdapter() = default;

  // The target's configured name (`targets[].name`), e.g. "crm".
  virtual std::string_view Name() const = 0;

  // The adapter type (`targets[].type`): "dolibarr" | "zoho_books" | "crm" | "clerk" | "webhook".
  virtual std::string_view Type() const = 0;

  // Whether this target takes `event` at all: the resource types it supports, narrowed by the
  // target's `resources` setting. Cheap; does not call the target. Events it does not handle are
  // not queued for it.
  virtual bool Handles(const ChangeEvent& event) const = 0;

  // Sends one committed change. Never throws; every failure is an outcome.
  virtual DeliveryOutcome Deliver(const ChangeEvent& event, const DeliveryContext& context) = 0;

  // ---- batch delivery (optional) ----
  // A target with a bulk endpoint (the CRM's store import) may take several claimed events in
  // one call. The engine groups the events of a claimed batch for which Batchable() is true
  // into DeliverBatch() calls of at most MaxBatch() events, and claims up to MaxBatch() rows of
  // this target at a time. Events of a claimed batch are of different resources, each with no
  // earlier undelivered event of its resource at this target (per-resource order holds); the
  // contexts of a batch are read before the call, so a batched event's look-ups see the links
  // recorded before it, not those of the other events of its batch.

  // Whether `event` may go in a DeliverBatch() call. Cheap; does not call the target.
  virtual bool Batchable(const ChangeEvent& event) const {
    (void)event;
    return false;
  }

  // The most events one DeliverBatch() call takes (1: no batching).
  virtual int MaxBatch() const { return 1; }

  // One event of a DeliverBatch() call and its context.
  struct BatchItem {
    const ChangeEvent* event = nullptr;
    const DeliveryContext* context = nullptr;
  };

  // Delivers `items` (Batchable, at most MaxBatch()) and returns one outcome per item, in the
  // same order: each event's own outcome (a record the target refused fails that event only).
  // Never throws. The default delivers them one by one with Deliver().
  virtual std::vector<DeliveryOutcome> DeliverBatch(const std::vector<BatchItem>& items);

  // ---- coalescing (optional) ----
  // Whether pending changes of one resource may reach this target as one call: when the engine
  // claims the oldest pending event of a resource, it also claims the ones that follow it (up to
  // DispatcherOptions::coalesce) and calls Deliver()/DeliverBatch() once with one event that
  // brings the target to the last one's state (src/delivery/coalesce.h): created + changes → a
  // kCreated with the last state; changes → the last change's kind with the last state; ... +
  // delete → the delete (nothing at all when the create never reached the target). Payload
  // fields are merged so the event means the whole run: "active_before" is `active` before the
  // run, "external_ids_removed" the union, "role_change" the last with the first's "before", a
  // Group's "members" from the run's one membership change (a run holds at most one). The
  // event's seq is the run's last, so the idempotency key is "<target>:<last seq>". Targets
  // whose receivers expect every change (webhook SETs, RFC 8417) answer false.
  virtual bool Coalesces() const { return true; }

  // Whether this target carries other targets' ids of a User (the CRM's `externalIds`): then the
  // engine queues a delivery of the User's current state to it whenever another target links or
  // unlinks that User (coalesced with a delivery already waiting; DeliveryStore::RecordAttempt).
  virtual bool WantsLinkChanges() const { return false; }

  // The adapter's reconciliation capability (scim/events/reconcilable.h), or nullptr when its
  // target cannot be listed (webhook receivers).
  virtual Reconcilable* AsReconcilable() { return nullptr; }
};

}  // namespace scim::events
