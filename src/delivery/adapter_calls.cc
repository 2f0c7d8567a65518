#include "delivery/adapter_calls.h"

#include <exception>
#include <utility>

namespace scim::delivery {
namespace {

// The context of a call for one claimed event; nullopt (and the row handed back) when its
// links cannot be read.
std::optional<events::DeliveryContext> ContextFor(
    DeliveryQueue& queue, const CallLog& log, const std::string& target, const ClaimedDelivery& c,
    const std::vector<DeliveryQueue::Answered>& buffered) {
  auto context = queue.BuildContext(target, c);
  if (!context.ok()) {
    log(LogLevel::kWarning, "delivery " + std::to_string(c.id) + " to " + target +
                                ": cannot read links: " + context.error().detail);
    (void)queue.Release(RowIds(c));
    return std::nullopt;
  }
  if (!buffered.empty()) {
    auto stored = std::move(context->lookup_target_id);
    context->lookup_target_id = [&buffered, stored, tenant = c.event.tenant](
                                    const std::string& id) -> std::optional<std::string> {
      for (auto it = buffered.rbegin(); it != buffered.rend(); ++it) {
        const events::ChangeEvent& e = it->delivery->event;
        if (e.tenant != tenant || e.resource_id != id) continue;
        if (it->outcome.unlink) return std::nullopt;
        if (it->outcome.target_id && !it->outcome.target_id->empty()) {
          return it->outcome.target_id;
        }
        break;
      }
      return stored ? stored(id) : std::nullopt;
    };
  }
  return std::move(*context);
}

}  // namespace

std::optional<events::DeliveryOutcome> AttemptOne(
    DeliveryQueue& queue, const CallLog& log, const std::string& target,
    events::TargetAdapter& adapter, const ClaimedDelivery& c,
    const std::vector<DeliveryQueue::Answered>& buffered) {
  std::optional<events::DeliveryContext> context = ContextFor(queue, log, target, c, buffered);
  if (!context) return std::nullopt;
  try {
    return adapter.Deliver(c.event, *context);
  } catch (const std::exception& e) {
    return events::DeliveryOutcome::Retry(std::string("adapter error: ") + e.what());
  } catch (...) {
    return events::DeliveryOutcome::Retry("adapter error");
  }
}

std::vector<std::optional<events::DeliveryOutcome>> AttemptBatch(
    DeliveryQueue& queue, const CallLog& log, const std::string& target,
    events::TargetAdapter& adapter, const std::vector<const ClaimedDelivery*>& batch,
    const std::vector<DeliveryQueue::Answered>& buffered) {
  std::vector<std::optional<events::DeliveryOutcome>> outcomes(batch.size());
  std::vector<std::optional<events::DeliveryContext>> contexts(batch.size());
  std::vector<events::TargetAdapter::BatchItem> items;
  std::vector<size_t> positions;
  for (size_t i = 0; i < batch.size(); ++i) {
    contexts[i] = ContextFor(queue, log, target, *batch[i], buffered);
    if (!contexts[i]) continue;
    items.push_back({&batch[i]->event, &*contexts[i]});
    positions.push_back(i);
  }
  if (items.empty()) return outcomes;
  std::vector<events::DeliveryOutcome> answered;
  std::string error;
  try {
    answered = adapter.DeliverBatch(items);
    if (answered.size() != items.size()) {
      error = "adapter error: " + std::to_string(answered.size()) + " outcome(s) for " +
              std::to_string(items.size()) + " event(s)";
    }
  } catch (const std::exception& e) {
    error = std::string("adapter error: ") + e.what();
  } catch (...) {
    error = "adapter error";
  }
  for (size_t k = 0; k < positions.size(); ++k) {
    outcomes[positions[k]] =
        error.empty() ? std::move(answered[k]) : events::DeliveryOutcome::Retry(error);
  }
  return outcomes;
}

bool IsBatchable(const events::TargetAdapter& adapter, const ClaimedDelivery& c) {
  try {
    return adapter.Batchable(c.event);
  } catch (...) {
    return false;
  }
}

}  // namespace scim::delivery
