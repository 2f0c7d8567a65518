#include "scim/delivery/reconcile.h"

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "scim/common/clock.h"
#include "scim/events/reconcilable.h"
#include "scim/store/current_state.h"
#include "scim/store/delivery_store.h"

namespace scim::delivery {
namespace {

using store::ResourceKey;  // tenant, SCIM id
using LinkRow = store::TargetLink;

// A resource the target handles, and whether it should hold it now.
struct Handled {
  std::string resource_type;
  events::Expectation expected;
};

int64_t EpochMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Runs one reconciliation of one target; see reconcile.h.
class Reconciler {
 public:
  Reconciler(store::Database& db, events::TargetAdapter& adapter, events::Reconcilable& target,
             bool dry_run)
      : db_(db),
        tables_(db),
        adapter_(adapter),
        target_(target),
        name_(adapter.Name()),
        dry_run_(dry_run) {}

  Result<ReconcileReport> Run() {
    SCIM_RETURN_IF_ERROR(LoadDatabaseSide());
    SCIM_TRY(auto inventory, target_.Inventory(Probes()));
    inventory_ = std::move(inventory);
    for (size_t i = 0; i < inventory_.records.size(); ++i) {
      by_target_id_[inventory_.records[i].target_id] = i;
    }
    for (const LinkRow& link : links_) CheckLink(link);
    for (const auto& [key, handled] : handled_) CheckUnlinked(key, handled);
    if (inventory_.complete) {
      for (const events::RemoteRecord& record : inventory_.records) CheckRemote(record);
    }
    return std::move(report_);
  }

 private:
  // ---- the database side ----

  Status LoadDatabaseSide() {
    SCIM_TRY(auto links, tables_.LinksOfTarget(name_));
    for (store::TargetLink& row : links) {
      linked_.emplace(ResourceKey{row.tenant, row.resource_id}, row.target_id);
      linked_target_ids_.insert(row.target_id);
      links_.push_back(std::move(row));
    }
    std::vector<std::pair<ResourceKey, std::string>> resources;  // with their type
    for (const std::string type : {"User", "Group"}) {
      events::ChangeEvent probe;
      probe.resource_type = type;
      if (!adapter_.Handles(probe)) continue;
      SCIM_TRY(auto of_type, tables_.ResourcesOfType(type));
      for (const ResourceKey& key : of_type) resources.push_back({key, type});
    }
    SCIM_TRY(auto outstanding, tables_.OutstandingResources(name_));
    outstanding_ = std::move(outstanding);
    for (const auto& [key, type] : resources) {
      auto current = Current(key, type, events::ChangeKind::kReplaced);
      if (!current) continue;  // deleted meanwhile, or unreadable (counted as an error)
      handled_[key] = {type, target_.Expect(*current)};
      handled_by_id_.emplace(key.second, key);
    }
    return OkStatus();
  }

  std::vector<events::RemoteProbe> Probes() const {
    std::vector<events::RemoteProbe> probes;
    for (const LinkRow& link : links_) {
      probes.push_back({link.resource_type, link.resource_id, link.target_id});
    }
    for (const auto& [key, handled] : handled_) {
      if (handled.expected.should_exist && !linked_.contains(key) && !outstanding_.contains(key)) {
        probes.push_back({handled.resource_type, key.second, std::nullopt});
      }
    }
    return probes;
  }

  std::optional<events::ChangeEvent> Current(const ResourceKey& key, const std::string& type,
                                             events::ChangeKind kind) {
    auto current = store::CurrentStateEvent(db_, key.first, type, key.second, kind);
    if (!current.ok()) {
      Note(report_.errors,
           "error: cannot read " + type + " " + key.second + ": " + current.error().detail);
      return std::nullopt;
    }
    return std::move(current).value();
  }

  // Whether the resource exists at all (of any type, handled or not).
  bool ResourceExists(const ResourceKey& key) {
    auto exists = tables_.ResourceExists(key);
    return !exists.ok() || *exists;  // when in doubt, it exists (nothing gets deleted)
  }

  // The tenant and type of a resource scimd's audit log shows deleted, when it is one.
  std::optional<std::pair<std::string, std::string>> DeletedResource(const std::string& id) {
    auto found = tables_.DeletedResource(id);
    if (!found.ok()) return std::nullopt;
    return std::move(found).value();
  }

  Status SaveLink(const events::ChangeEvent& event, const std::string& target_id) {
    claimed_.insert(target_id);
    linked_[{event.tenant, event.resource_id}] = target_id;
    return tables_.SaveLink(name_, event, target_id);
  }

  Status DropLink(const ResourceKey& key) { return tables_.DropLink(name_, key); }

  // ---- repairs, through the adapter's Deliver() ----

  // The context a dispatcher would give (DeliveryStore::LoadContext), with `target_id` as the link
  // to use and an idempotency key of its own (a repeated repair is a new change).
  events::DeliveryContext Context(const events::ChangeEvent& event,
                                  std::optional<std::string> target_id) {
    auto loaded = tables_.LoadContext(name_, event);
    // Without the other links the CRM just sends fewer externalIds.
    events::DeliveryContext context =
        loaded.ok() ? std::move(loaded).value() : events::DeliveryContext{};
    context.target_id = std::move(target_id);
    if (context.target_id) context.linked_ids[name_] = *context.target_id;
    context.idempotency_key =
        name_ + ":reconcile:" + std::to_string(EpochMs()) + ":" + std::to_string(++calls_);
    return context;
  }

  // Delivers `event` and records the outcome's link. True when the target took it.
  bool Deliver(const events::ChangeEvent& event, std::optional<std::string> target_id,
               const std::string& what) {
    events::DeliveryOutcome outcome = adapter_.Deliver(event, Context(event, target_id));
    ResourceKey key{event.tenant, event.resource_id};
    Status saved = OkStatus();
    if (outcome.unlink) {
      saved = DropLink(key);
    } else if (outcome.target_id && !outcome.target_id->empty()) {
      saved = SaveLink(event, *outcome.target_id);
    }
    if (!saved.ok()) {
      Note(report_.errors, "error: " + what + ": link not recorded: " + saved.error().detail);
      return false;
    }
    if (outcome.status != events::DeliveryStatus::kDelivered) {
      Note(report_.errors, "error: " + what + ": " + events::DeliveryStatusName(outcome.status) +
                               ": " + outcome.error);
      return false;
    }
    std::string result = outcome.target_id ? " → " + *outcome.target_id : "";
    if (!outcome.target_id && !outcome.unlink) result = " (the target keeps no record of it)";
    report_.lines.push_back(what + ": done" + result);
    return true;
  }

  // Delivers the resource's current state; `target_id` is the record to update, if any.
  bool Redeliver(const ResourceKey& key, const std::string& type,
                 std::optional<std::string> target_id, const std::string& what) {
    auto current = Current(key, type, events::ChangeKind::kReplaced);
    if (!current) return false;
    return Deliver(*current, std::move(target_id), what);
  }

  // Deletes a record at the target with a "deleted" event of the resource it belonged to.
  bool DeleteAtTarget(const ResourceKey& key, const std::string& type, const std::string& target_id,
                      const std::string& what) {
    events::ChangeEvent event;
    event.tenant = key.first;
    event.resource_type = type;
    event.resource_id = key.second;
    event.kind = events::ChangeKind::kDeleted;
    event.payload = "{}";
    event.created = NowTimestamp();
    return Deliver(event, target_id, what);
  }

  // ---- the comparisons ----

  bool Present(const std::string& target_id) const {
    return by_target_id_.contains(target_id) || inventory_.unchecked.contains(target_id);
  }

  void CheckLink(const LinkRow& link) {
    ResourceKey key{link.tenant, link.resource_id};
    std::string what =
        link.resource_type + " " + link.resource_id + " (" + name_ + " id " + link.target_id + ")";
    ++report_.checked;
    if (outstanding_.contains(key)) {
      Note(report_.skipped, "skipped " + what + ": deliveries outstanding");
      return;
    }
    auto handled = handled_.find(key);
    if (handled == handled_.end()) {
      if (ResourceExists(key)) {
        Note(report_.kept, "kept " + what + ": not handled by this target any more");
        return;
      }
      Note(report_.orphaned, Plan("orphaned " + what +
                                  ": the resource no longer exists; delete "
                                  "it at the target"));
      if (!dry_run_) DeleteAtTarget(key, link.resource_type, link.target_id, "delete " + what);
      return;
    }
    if (Present(link.target_id)) return;
    Note(report_.missing,
         Plan("missing " + what + ": gone at the target; drop the link" +
              (handled->second.expected.should_exist ? " and deliver again" : "")));
    if (dry_run_) return;
    if (Status dropped = DropLink(key); !dropped.ok()) {
      Note(report_.errors, "error: " + what + ": " + dropped.error().detail);
      return;
    }
    if (handled->second.expected.should_exist &&
        Redeliver(key, link.resource_type, std::nullopt, "deliver " + what)) {
      ++report_.repaired;
    }
  }

  // A record the target holds that carries this resource's SCIM id, else one carrying no SCIM
  // id under the same natural key; neither linked nor taken by another repair.
  const events::RemoteRecord* Match(const ResourceKey& key, const Handled& handled) const {
    const events::RemoteRecord* by_key = nullptr;
    for (const events::RemoteRecord& r : inventory_.records) {
      if (r.resource_type != handled.resource_type || linked_target_ids_.contains(r.target_id) ||
          claimed_.contains(r.target_id)) {
        continue;
      }
      if (r.scim_id == key.second) return &r;
      if (by_key == nullptr && r.scim_id.empty() && !handled.expected.natural_key.empty() &&
          r.natural_key == handled.expected.natural_key) {
        by_key = &r;
      }
    }
    return by_key;
  }

  void CheckUnlinked(const ResourceKey& key, const Handled& handled) {
    if (!handled.expected.should_exist || linked_.contains(key)) return;
    std::string what = handled.resource_type + " " + key.second;
    ++report_.checked;
    if (outstanding_.contains(key)) {
      Note(report_.skipped, "skipped " + what + ": deliveries outstanding");
      return;
    }
    if (const events::RemoteRecord* record = Match(key, handled)) {
      std::string id = record->target_id;
      claimed_.insert(id);
      Note(report_.relinked, Plan("relinked " + what + " to " + name_ + " id " + id +
                                  (record->scim_id.empty() ? " (same natural key)" : "")));
      if (!dry_run_) Redeliver(key, handled.resource_type, id, "update " + what);
      return;
    }
    Note(report_.unlinked, Plan("unlinked " + what + ": not at the target; deliver it"));
    if (!dry_run_ && Redeliver(key, handled.resource_type, std::nullopt, "deliver " + what)) {
      ++report_.repaired;
    }
  }

  // A record of a full listing that no link or repair accounts for.
  void CheckRemote(const events::RemoteRecord& record) {
    if (linked_target_ids_.contains(record.target_id) || claimed_.contains(record.target_id) ||
        record.scim_id.empty()) {
      return;  // accounted for, or not provably scimd's: left alone
    }
    std::string what = record.resource_type + " " + record.scim_id + " (" + name_ + " id " +
                       record.target_id + ")";
    if (auto same = handled_by_id_.find(record.scim_id); same != handled_by_id_.end()) {
      const ResourceKey& key = same->second;
      if (outstanding_.contains(key)) return;  // reported as skipped already
      auto link = linked_.find(key);
      Note(report_.kept, "kept duplicate " + what + ": the resource is linked to " +
                             (link != linked_.end() ? link->second : std::string("nothing")));
      return;
    }
    auto deleted = DeletedResource(record.scim_id);
    if (!deleted) return;  // a SCIM id scimd never issued (or still has): not ours to delete
    if (ResourceExists({deleted->first, record.scim_id})) return;
    ResourceKey key{deleted->first, record.scim_id};
    if (outstanding_.contains(key)) return;
    ++report_.checked;
    Note(report_.orphaned, Plan("orphaned " + what +
                                ": its resource was deleted; delete it at "
                                "the target"));
    if (!dry_run_) DeleteAtTarget(key, record.resource_type, record.target_id, "delete " + what);
  }

  // ---- output ----

  std::string Plan(const std::string& line) const { return dry_run_ ? "would: " + line : line; }

  void Note(int64_t& counter, const std::string& line) {
    ++counter;
    report_.lines.push_back(line);
  }

  store::Database& db_;
  store::DeliveryStore tables_;
  events::TargetAdapter& adapter_;
  events::Reconcilable& target_;
  std::string name_;
  bool dry_run_;
  int64_t calls_ = 0;

  std::vector<LinkRow> links_;
  std::map<ResourceKey, std::string> linked_;  // resource → linked target id
  std::set<std::string> linked_target_ids_;
  std::map<ResourceKey, Handled> handled_;
  std::multimap<std::string, ResourceKey> handled_by_id_;  // SCIM id → resource
  std::set<ResourceKey> outstanding_;
  events::RemoteInventory inventory_;
  std::map<std::string, size_t> by_target_id_;
  std::set<std::string> claimed_;  // target ids taken by a relink or a repair in this run
  ReconcileReport report_;
};

}  // namespace

Result<ReconcileReport> Reconcile(store::Database& db, events::TargetAdapter& adapter,
                                  const ReconcileOptions& options) {
  events::Reconcilable* target = adapter.AsReconcilable();
  if (target == nullptr) {
    return Error(ErrorCode::kInvalidValue,
                 "target '" + std::string(adapter.Name()) + "' (type " +
                     std::string(adapter.Type()) +
                     ") cannot be reconciled: its API offers no way to list what it holds");
  }
  try {
    return Reconciler(db, adapter, *target, options.dry_run).Run();
  } catch (const std::exception& e) {
    return store::Database::ConvertError(e);
  }
}

std::string ReconcileReportText(const std::string& target, const ReconcileReport& report,
                                bool dry_run) {
  std::string text;
  for (const std::string& line : report.lines) text += line + "\n";
  text += (dry_run ? "dry run: " : "") + target + ": checked " + std::to_string(report.checked) +
          ", missing " + std::to_string(report.missing) + ", unlinked " +
          std::to_string(report.unlinked) + ", relinked " + std::to_string(report.relinked) +
          ", orphaned " + std::to_string(report.orphaned) + ", repaired " +
          std::to_string(report.repaired) + ", skipped " + std::to_string(report.skipped) +
          ", kept " + std::to_string(report.kept) + ", errors " + std::to_string(report.errors) +
          "\n";
  return text;
}

}  // namespace scim::delivery
