#include "adapters/webhook/webhook_adapter.h"

#include <chrono>
#include <cstdio>
#include <ctime>

#include "adapters/common/scim_resource.h"
#include "scim/common/clock.h"
#include "scim/common/json.h"
#include "scim/common/strings.h"

namespace scim::adapters::webhook {
namespace {

using events::DeliveryOutcome;

constexpr const char* kCreateFull = "urn:ietf:params:scim:event:prov:create:full";
constexpr const char* kPutFull = "urn:ietf:params:scim:event:prov:put:full";
constexpr const char* kPatchFull = "urn:ietf:params:scim:event:prov:patch:full";
constexpr const char* kDelete = "urn:ietf:params:scim:event:prov:delete";
constexpr const char* kActivate = "urn:ietf:params:scim:event:prov:activate";
constexpr const char* kDeactivate = "urn:ietf:params:scim:event:prov:deactivate";
constexpr const char* kPatchOpUrn = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

// Unix seconds of an xsd:dateTime; nullopt when it is not one.
std::optional<int64_t> EpochSeconds(std::string_view timestamp) {
  auto canonical = NormalizeTimestamp(timestamp);  // "YYYY-MM-DDTHH:MM:SS.mmmZ"
  if (!canonical) return std::nullopt;
  std::tm tm{};
  if (std::sscanf(canonical->c_str(), "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm));
}

json::Value MemberArray(const std::vector<MemberRef>& members, json::Allocator& alloc) {
  json::Value array(rapidjson::kArrayType);
  for (const MemberRef& m : members) {
    json::Value entry(rapidjson::kObjectType);
    entry.AddMember("value", json::String(m.value, alloc), alloc);
    if (!m.type.empty()) entry.AddMember("type", json::String(m.type, alloc), alloc);
    array.PushBack(entry, alloc);
  }
  return array;
}

// An RFC 7644 §3.5.2 PatchOp equivalent to the change: a path-less replace of every attribute
// the resource has now (minus id, meta, schemas and members), then the member delta.
json::Value EquivalentPatchOp(const json::Value& resource, const MembersDelta& members,
                              json::Allocator& alloc) {
  json::Value op(rapidjson::kObjectType);
  json::Value schemas(rapidjson::kArrayType);
  schemas.PushBack(json::String(kPatchOpUrn, alloc), alloc);
  op.AddMember("schemas", schemas, alloc);
  json::Value operations(rapidjson::kArrayType);

  json::Value value(rapidjson::kObjectType);
  for (auto it = resource.MemberBegin(); it != resource.MemberEnd(); ++it) {
    std::string_view name = json::View(it->name);
    if (EqualsIgnoreCase(name, "id") || EqualsIgnoreCase(name, "meta") ||
        EqualsIgnoreCase(name, "schemas") || EqualsIgnoreCase(name, "members")) {
      continue;
    }
    value.AddMember(json::Value(it->name, alloc), json::Value(it->value, alloc), alloc);
  }
  json::Value replace(rapidjson::kObjectType);
  replace.AddMember("op", "replace", alloc);
  replace.AddMember("value", value, alloc);
  operations.PushBack(replace, alloc);

  if (members.present && members.replaced) {
    json::Value op_members(rapidjson::kObjectType);
    op_members.AddMember("op", "replace", alloc);
    op_members.AddMember("path", "members", alloc);
    op_members.AddMember("value", MemberArray(members.added, alloc), alloc);
    operations.PushBack(op_members, alloc);
  } else if (members.present) {
    if (!members.added.empty()) {
      json::Value add(rapidjson::kObjectType);
      add.AddMember("op", "add", alloc);
      add.AddMember("path", "members", alloc);
      add.AddMember("value", MemberArray(members.added, alloc), alloc);
      operations.PushBack(add, alloc);
    }
    for (const MemberRef& m : members.removed) {
      json::Value remove(rapidjson::kObjectType);
      remove.AddMember("op", "remove", alloc);
      std::string path = "members[value eq \"" + m.value + "\"]";
      remove.AddMember("path", json::String(path, alloc), alloc);
      operations.PushBack(remove, alloc);
    }
  }
  op.AddMember("Operations", operations, alloc);
  return op;
}

}  // namespace

WebhookAdapter::WebhookAdapter(std::string name, std::set<std::string> resources,
                               SetOptions options, std::unique_ptr<SetSigner> signer,
                               std::unique_ptr<WebhookClient> client)
    : name_(std::move(name)),
      resources_(std::move(resources)),
      options_(std::move(options)),
      signer_(std::move(signer)),
      client_(std::move(client)) {}

bool WebhookAdapter::Handles(const events::ChangeEvent& event) const {
  return resources_.contains(event.resource_type);
}

Result<std::string> WebhookAdapter::BuildClaims(const events::ChangeEvent& event,
                                                const events::DeliveryContext& context,
                                                int64_t iat) const {
  SCIM_TRY(auto payload, EventPayload::Parse(event));
  json::Document claims(rapidjson::kObjectType);
  json::Allocator& alloc = claims.GetAllocator();

  claims.AddMember("iss", json::String(options_.issuer, alloc), alloc);
  claims.AddMember("iat", iat, alloc);
  std::string jti = context.idempotency_key.empty() ? name_ + ":" + std::to_string(event.seq)
                                                    : context.idempotency_key;
  claims.AddMember("jti", json::String(jti, alloc), alloc);
  if (options_.audience) {
    std::vector<std::string> audiences;
    for (const std::string& a : Split(*options_.audience, ',')) {
      if (!Trim(a).empty()) audiences.emplace_back(Trim(a));
    }
    if (audiences.size() == 1) {
      claims.AddMember("aud", json::String(audiences[0], alloc), alloc);
    } else if (!audiences.empty()) {
      json::Value aud(rapidjson::kArrayType);
      for (const auto& a : audiences) aud.PushBack(json::String(a, alloc), alloc);
      claims.AddMember("aud", aud, alloc);
    }
  }
  claims.AddMember("txn", json::String(std::to_string(event.seq), alloc), alloc);
  claims.AddMember("toe", EpochSeconds(event.created).value_or(iat), alloc);

  const std::string collection = event.resource_type == "Group" ? "/Groups/" : "/Users/";
  json::Value sub_id(rapidjson::kObjectType);
  sub_id.AddMember("format", "scim", alloc);
  sub_id.AddMember("uri", json::String(collection + event.resource_id, alloc), alloc);
  if (payload.resource() != nullptr) {
    if (auto external_id = StringAttr(*payload.resource(), "externalId")) {
      sub_id.AddMember("externalId", json::String(*external_id, alloc), alloc);
    }
  }
  claims.AddMember("sub_id", sub_id, alloc);

  json::Value body(rapidjson::kObjectType);
  const char* uri = kDelete;
  if (event.kind != events::ChangeKind::kDeleted) {
    const json::Value& resource = *payload.resource();
    const MembersDelta& members = payload.members();
    json::Value data;
    if (event.kind == events::ChangeKind::kPatched) {
      uri = kPatchFull;
      data = EquivalentPatchOp(resource, members, alloc);
    } else {
      uri = event.kind == events::ChangeKind::kCreated ? kCreateFull : kPutFull;
      data.CopyFrom(resource, alloc);
      bool complete = event.kind == events::ChangeKind::kCreated || members.replaced;
      if (event.resource_type == "Group" && members.present && complete) {
        json::RemoveMemberCI(data, "members");
        data.AddMember("members", MemberArray(members.added, alloc), alloc);
      }
    }
    body.AddMember("data", data, alloc);
    std::string version = "W/\"" + std::to_string(event.version) + "\"";
    body.AddMember("version", json::String(version, alloc), alloc);
  }
  json::Value events_claim(rapidjson::kObjectType);
  events_claim.AddMember(json::String(uri, alloc), body, alloc);
  // A replace or patch that flipped a User's `active` is also an activation or deactivation
  // (RFC 9967, draft-ietf-scim-events-16 §2.4.5/§2.4.6). Same SET: "A SET with multiple event URIs
  // indicates that the events arise from the same transaction or resource state change" (§2.1), so
  // a follower sees the (de)activation without diffing and the full event still carries the state.
  if (payload.active_before() && payload.resource() != nullptr &&
      *payload.active_before() != IsActive(*payload.resource())) {
    const char* flip = IsActive(*payload.resource()) ? kActivate : kDeactivate;
    events_claim.AddMember(json::String(flip, alloc), json::Value(rapidjson::kObjectType), alloc);
  }
  claims.AddMember("events", events_claim, alloc);
  return json::Serialize(claims);
}

DeliveryOutcome WebhookAdapter::Deliver(const events::ChangeEvent& event,
                                        const events::DeliveryContext& context) {
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  auto claims = BuildClaims(event, context, now);
  if (!claims.ok()) return DeliveryOutcome::Failed(claims.error().detail);
  std::string header = "{\"alg\":\"" + std::string(signer_->Algorithm()) + "\"";
  if (options_.key_id) {
    json::Document kid;
    header += ",\"kid\":" + json::Serialize(json::String(*options_.key_id, kid.GetAllocator()));
  }
  header += ",\"typ\":\"secevent+jwt\"}";
  auto token = signer_->Sign(header, *claims);
  if (!token.ok()) return DeliveryOutcome::Retry(token.error().detail);
  auto pushed = client_->Push(*token);
  if (!pushed.ok()) return pushed.error().ToOutcome();
  return DeliveryOutcome::Delivered();
}

}  // namespace scim::adapters::webhook
