#pragma once
// The result of one call to a target's API. Unlike scim::Error, a failed call keeps what the
// adapter needs to decide between "retry later" and "give up": the HTTP status, the target's
// own error code and message, and its Retry-After.

#include <optional>
#include <string>
#include <utility>

#include "scim/common/result.h"
#include "scim/events/target_adapter.h"

namespace scim::adapters {

// A failed call to a target.
struct CallError {
  // The HTTP status of the answer, or 0 when there was no usable answer (DNS, connect, TLS,
  // timeout, answer too large).
  int http_status = 0;
  // What happened, for the delivery's last_error: method, path, status and the target's
  // message. Never contains credentials.
  std::string message;
  // The target's error code when it sends one ("email_taken", "1002", "invalid_request").
  std::string code;
  // From Retry-After (or the adapter's own rate limiter).
  std::optional<int> retry_after_seconds;
  // The adapter's own rate limiter refused to send now (no HTTP status).
  bool client_rate_limited = false;
  // Set for failures that no retry can fix even without an HTTP status (bad configuration,
  // an answer the adapter cannot understand from a target that did accept the request).
  bool permanent = false;
  // Set by HttpClient when there was no HTTP answer at all (connect, DNS, TLS, timeout), as
  // opposed to an answer the adapter could not use; `unreachable` when the connection was
  // refused or the host not found.
  bool no_answer = false;
  bool unreachable = false;

  // No usable answer (DNS, connect, TLS, timeout, unreadable answer): retried.
  static CallError Transport(std::string message) {
    CallError e;
    e.message = std::move(message);
    return e;
  }
  // A failure no retry can fix, without an HTTP status to tell.
  static CallError Permanent(std::string message) {
    CallError e;
    e.message = std::move(message);
    e.permanent = true;
    return e;
  }

  // True for what a later attempt may fix: no answer, 408, 429 and 5xx.
  bool Transient() const {
    if (http_status == 0) return !permanent;
    return http_status == 408 || http_status == 429 || http_status >= 500;
  }

  // True when the failure says the target as a whole is unavailable rather than refusing this
  // record: no answer, or a 5xx (502/503/504 and the rest). A 429 is rate limiting, not an
  // outage; an unusable answer (bad JSON, no id) is about this call.
  bool TargetWide() const { return no_answer || http_status >= 500; }

  // The delivery outcome for a call that failed this way: kRetry when Transient(), else kFailed;
  // target_unavailable/target_unreachable from TargetWide()/unreachable.
  events::DeliveryOutcome ToOutcome() const {
    if (Transient()) {
      auto outcome = events::DeliveryOutcome::Retry(message, retry_after_seconds);
      outcome.rate_limited = http_status == 429 || client_rate_limited;
      outcome.target_unavailable = !outcome.rate_limited && TargetWide();
      outcome.target_unreachable = outcome.target_unavailable && unreachable;
      return outcome;
    }
    return events::DeliveryOutcome::Failed(message);
  }
};

// A value or a CallError: the common scim::Result with the adapters' own error type.
template <class T>
using CallResult = Result<T, CallError>;

using CallStatus = CallResult<void>;

// Deletes a SCIM resource's record at a target: the one `linked` names, or else the one `find`
// (returning CallResult<std::optional<Record>>, Record with an `id`) finds, which covers a create
// whose link was never recorded (a crash after the call). Nothing found means nothing to delete.
// `remove(id)` returns a CallResult; its failure is the outcome, success is Unlinked.
template <class Find, class Remove>
events::DeliveryOutcome DeleteLinkedOrFound(const std::optional<std::string>& linked, Find find,
                                            Remove remove) {
  std::optional<std::string> id = linked;
  if (!id) {
    auto found = find();
    if (!found.ok()) return found.error().ToOutcome();
    if (!*found) return events::DeliveryOutcome::Unlinked();
    id = (*found)->id;
  }
  auto removed = remove(*id);
  if (!removed.ok()) return removed.error().ToOutcome();
  return events::DeliveryOutcome::Unlinked();
}

}  // namespace scim::adapters
