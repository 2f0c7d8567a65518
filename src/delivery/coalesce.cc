#include "delivery/coalesce.h"

#include <optional>
#include <set>

#include "scim/common/json.h"

namespace scim::delivery {
namespace {

bool HasMember(const events::ChangeEvent& event, const char* name) {
  json::Document doc;
  if (!json::Parse(event.payload, doc).ok() || !doc.IsObject()) return false;
  return doc.HasMember(name);
}

// `active` of a resource object (absent counts as true, as in the payload's "active_before").
bool IsActive(const json::Value& resource) {
  const json::Value* active = json::FindMemberCI(resource, "active");
  if (active == nullptr) return true;
  if (active->IsBool()) return active->GetBool();
  if (active->IsString()) return json::View(*active) != "false" && json::View(*active) != "False";
  return true;
}

}  // namespace

bool CanCoalesce(const std::vector<const events::ChangeEvent*>& run,
                 const events::ChangeEvent& next) {
  if (run.empty()) return false;
  const events::ChangeEvent& last = *run.back();
  if (last.kind == events::ChangeKind::kDeleted) return false;
  if (next.resource_type != last.resource_type || next.resource_id != last.resource_id ||
      next.tenant != last.tenant) {
    return false;
  }
  if (next.resource_type == "Group" && HasMember(next, "members")) {
    for (const events::ChangeEvent* e : run) {
      if (HasMember(*e, "members")) return false;
    }
  }
  return true;
}

events::ChangeEvent CoalesceEvents(const std::vector<const events::ChangeEvent*>& events) {
  const events::ChangeEvent& first = *events.front();
  const events::ChangeEvent& last = *events.back();
  events::ChangeEvent out = last;
  if (first.kind == events::ChangeKind::kCreated && last.kind != events::ChangeKind::kDeleted) {
    out.kind = events::ChangeKind::kCreated;
  }
  json::Document doc;
  if (!json::Parse(last.payload, doc).ok() || !doc.IsObject()) return out;
  auto& alloc = doc.GetAllocator();
  // What each event says, in seq order.
  std::optional<bool> active_before_run;  // unknown for a run that starts with a create
  std::set<std::string> removed;
  json::Document first_role, last_role, members;
  bool have_role = false, have_members = false;
  for (size_t i = 0; i < events.size(); ++i) {
    json::Document e;
    if (!json::Parse(events[i]->payload, e).ok() || !e.IsObject()) continue;
    if (i == 0 && events[i]->kind != events::ChangeKind::kCreated) {
      // `active` before the first change: its "active_before" when it flipped it, else what it
      // left (it did not change it).
      if (auto it = e.FindMember("active_before"); it != e.MemberEnd() && it->value.IsBool()) {
        active_before_run = it->value.GetBool();
      } else if (auto r = e.FindMember("resource"); r != e.MemberEnd() && r->value.IsObject()) {
        active_before_run = IsActive(r->value);
      }
    }
    if (auto it = e.FindMember("external_ids_removed");
        it != e.MemberEnd() && it->value.IsArray()) {
      for (const json::Value& v : it->value.GetArray()) {
        if (v.IsString()) removed.insert(std::string(json::View(v)));
      }
    }
    if (auto it = e.FindMember("role_change"); it != e.MemberEnd() && it->value.IsObject()) {
      if (!have_role) first_role.CopyFrom(it->value, first_role.GetAllocator());
      last_role.CopyFrom(it->value, last_role.GetAllocator());
      have_role = true;
    }
    if (auto it = e.FindMember("members"); it != e.MemberEnd()) {
      members.CopyFrom(it->value, members.GetAllocator());
      have_members = true;
    }
  }
  doc.RemoveMember("active_before");
  if (auto r = doc.FindMember("resource"); active_before_run && r != doc.MemberEnd() &&
                                           r->value.IsObject() &&
                                           IsActive(r->value) != *active_before_run) {
    doc.AddMember("active_before", json::Value(*active_before_run), alloc);
  }
  doc.RemoveMember("external_ids_removed");
  if (!removed.empty()) {
    json::Value list(rapidjson::kArrayType);
    for (const std::string& system : removed) list.PushBack(json::String(system, alloc), alloc);
    doc.AddMember("external_ids_removed", list, alloc);
  }
  doc.RemoveMember("role_change");
  if (have_role) {
    json::Value change(last_role, alloc);
    if (auto before = first_role.FindMember("before"); before != first_role.MemberEnd()) {
      change.RemoveMember("before");
      change.AddMember("before", json::Value(before->value, alloc), alloc);
    }
    doc.AddMember("role_change", change, alloc);
  }
  doc.RemoveMember("members");
  if (have_members) doc.AddMember("members", json::Value(members, alloc), alloc);
  out.payload = json::Serialize(doc);
  return out;
}

bool NothingToSend(const store::ClaimedDelivery& head) {
  if (head.coalesced.empty() || head.attempts > 0 || head.requeues > 0) return false;
  return head.event.kind == events::ChangeKind::kCreated &&
         head.coalesced.back().event.kind == events::ChangeKind::kDeleted;
}

std::string CoalescedNote(const store::ClaimedDelivery& head) {
  const int64_t last = head.coalesced.empty() ? head.seq : head.coalesced.back().seq;
  return "coalesced: seq " + std::to_string(head.seq) + ".." + std::to_string(last) + " (" +
         std::to_string(head.coalesced.size() + 1) + " changes) in one call as delivery " +
         std::to_string(head.id);
}

}  // namespace scim::delivery
