#include "scim/service/resource_service.h"

#include "scim/patch/patch.h"
#include "scim/schema/validator.h"
#include "scim/service/selection.h"
#include "service/value_limits.h"
#include "service/write_input.h"

namespace scim::service {
namespace {

store::ReadOptions ReadFor(const schema::Registry& registry, const schema::ResourceType& type,
                           const schema::AttributeSelection& selection) {
  store::ReadOptions read;
  read.include_members = schema::MayReturn(registry, type, selection, "members");
  read.include_groups = schema::MayReturn(registry, type, selection, "groups");
  return read;
}

void SetLocation(const RequestContext& ctx, const schema::ResourceType& type,
                 json::Document& resource) {
  auto& alloc = resource.GetAllocator();
  auto meta = resource.FindMember("meta");
  auto id = resource.FindMember("id");
  if (meta == resource.MemberEnd() || id == resource.MemberEnd() || !id->value.IsString()) return;
  std::string location = ctx.base_url + type.endpoint + "/" + std::string(json::View(id->value));
  json::RemoveMemberCI(meta->value, "location");
  meta->value.AddMember("location", json::String(location, alloc), alloc);
}

// members[].$ref and groups[].$ref: the URI of the referenced resource (RFC 7643 §4.1.2, §4.2),
// built from its type's endpoint; an element whose type is unknown keeps no $ref.
void SetReferences(const RequestContext& ctx, const schema::Registry& registry,
                   json::Document& resource) {
  auto& alloc = resource.GetAllocator();
  for (const char* name : {"members", "groups"}) {
    auto list = resource.FindMember(name);
    if (list == resource.MemberEnd() || !list->value.IsArray()) continue;
    bool groups = std::string_view(name) == "groups";
    for (auto& element : list->value.GetArray()) {
      auto value = element.FindMember("value");
      auto type = element.FindMember("type");
      if (value == element.MemberEnd() || !value->value.IsString()) continue;
      std::string type_name = groups ? "Group" : "";
      if (!groups && type != element.MemberEnd() && type->value.IsString())
        type_name = std::string(json::View(type->value));
      const schema::ResourceType* referenced = registry.FindResourceType(type_name);
      if (referenced == nullptr) continue;
      std::string ref =
          ctx.base_url + referenced->endpoint + "/" + std::string(json::View(value->value));
      json::RemoveMemberCI(element, "$ref");
      element.AddMember("$ref", json::String(ref, alloc), alloc);
    }
  }
}

store::WriteContext WriteContextOf(const RequestContext& ctx) {
  return {ctx.tenant, ctx.actor, ctx.client, ctx.request_id};
}

// PUT (RFC 7644 §3.5.1): the stored resource is replaced by the normalized body; attributes the
// client left out are cleared, readOnly ones kept, immutable ones must not change.
store::Mutator ReplaceMutator(const schema::Registry& registry, const schema::ResourceType& type,
                              const json::Value& body, int64_t max_values) {
  return [&registry, &type, &body, max_values](
             json::Document& resource, store::MembershipChange& members,
             std::optional<std::string>& password_hash) -> Status {
    json::Document normalized;
    SCIM_RETURN_IF_ERROR(schema::NormalizeResource(
        registry, type, body, schema::WriteMode::kReplace, &resource, normalized));
    SCIM_RETURN_IF_ERROR(CheckValuesPerAttribute(normalized, max_values));
    auto input = ExtractWriteInput(normalized);
    if (!input.ok()) return input.error();
    password_hash = input->password_hash;
    if (type.name == "Group") {
      members.replace_all = true;
      members.add = input->members;
    }
    resource.Swap(normalized);
    return OkStatus();
  };
}

store::Mutator PatchMutator(const schema::Registry& registry, const schema::ResourceType& type,
                            const json::Value& body, const patch::MemberLoader& loader,
                            int64_t max_values) {
  return [&registry, &type, &body, loader, max_values](
             json::Document& resource, store::MembershipChange& members,
             std::optional<std::string>& password_hash) -> Status {
    auto outcome = patch::ApplyPatch(registry, type, body, resource, loader);
    if (!outcome.ok()) return outcome.error();
    SCIM_RETURN_IF_ERROR(CheckValuesPerAttribute(resource, max_values));
    auto input = ExtractWriteInput(resource);
    if (!input.ok()) return input.error();
    password_hash = input->password_hash;
    members = ToMembershipChange(outcome->members);
    return OkStatus();
  };
}

}  // namespace

ResourceService::ResourceService(std::shared_ptr<const schema::Registry> registry,
                                 std::shared_ptr<store::ResourceStore> store, int64_t max_page_size)
    : registry_(std::move(registry)), store_(std::move(store)), max_page_size_(max_page_size) {}

json::Document ResourceService::Present(const RequestContext& ctx, const schema::ResourceType& type,
                                        json::Document resource,
                                        const schema::AttributeSelection& selection) const {
  SetLocation(ctx, type, resource);
  SetReferences(ctx, *registry_, resource);
  ApplyValueFilters(*registry_, type, selection, resource, resource.GetAllocator());
  schema::Project(*registry_, type, selection, resource, resource.GetAllocator());
  return resource;
}

Result<json::Document> ResourceService::Create(const RequestContext& ctx,
                                               const schema::ResourceType& type,
                                               const json::Value& body,
                                               const schema::AttributeSelection& selection) {
  json::Document normalized;
  SCIM_RETURN_IF_ERROR(schema::NormalizeResource(*registry_, type, body, schema::WriteMode::kCreate,
                                                 nullptr, normalized));
  SCIM_RETURN_IF_ERROR(CheckValuesPerAttribute(normalized, max_values_per_attribute_));
  auto input = ExtractWriteInput(normalized);
  if (!input.ok()) return input.error();
  store::MembershipChange members;
  members.add = input->members;
  auto created = store_->Create(WriteContextOf(ctx), type.name, std::move(normalized), members,
                                input->password_hash);
  if (!created.ok()) {
    if (created.error().code == ErrorCode::kUniqueness) {
      return Error(ErrorCode::kUniqueness, "userName is already taken");  // RFC 7644 §3.3: 409
    }
    return created.error();
  }
  return Committed(Result<json::Document>(Present(ctx, type, std::move(*created), selection)));
}

Result<json::Document> ResourceService::Get(const RequestContext& ctx,
                                            const schema::ResourceType& type, const std::string& id,
                                            const schema::AttributeSelection& selection) {
  auto resource = store_->Get(ctx.tenant, type.name, id, ReadFor(*registry_, type, selection));
  if (!resource.ok()) return resource.error();
  return Present(ctx, type, std::move(*resource), selection);
}

Result<json::Document> ResourceService::Replace(const RequestContext& ctx,
                                                const schema::ResourceType& type,
                                                const std::string& id, const json::Value& body,
                                                std::optional<int64_t> if_match,
                                                const schema::AttributeSelection& selection) {
  auto replaced =
      store_->Modify(WriteContextOf(ctx), type.name, id, if_match, events::ChangeKind::kReplaced,
                     ReplaceMutator(*registry_, type, body, max_values_per_attribute_),
                     ReadFor(*registry_, type, selection));
  if (!replaced.ok()) {
    if (replaced.error().code == ErrorCode::kUniqueness) {
      return Error(ErrorCode::kUniqueness, "userName is already taken");
    }
    return replaced.error();
  }
  return Committed(Result<json::Document>(Present(ctx, type, std::move(*replaced), selection)));
}

Result<json::Document> ResourceService::Patch(const RequestContext& ctx,
                                              const schema::ResourceType& type,
                                              const std::string& id, const json::Value& body,
                                              std::optional<int64_t> if_match,
                                              const schema::AttributeSelection& selection) {
  patch::MemberLoader loader = [this, &ctx, &id]() -> Result<std::vector<patch::MemberRef>> {
    auto rows = store_->LoadMembers(ctx.tenant, id);
    if (!rows.ok()) return rows.error();
    std::vector<patch::MemberRef> members;
    for (const store::Member& m : *rows) members.push_back({m.id, m.type, ""});
    return members;
  };
  auto patched =
      store_->Modify(WriteContextOf(ctx), type.name, id, if_match, events::ChangeKind::kPatched,
                     PatchMutator(*registry_, type, body, loader, max_values_per_attribute_),
                     ReadFor(*registry_, type, selection));
  if (!patched.ok()) {
    if (patched.error().code == ErrorCode::kUniqueness) {
      return Error(ErrorCode::kUniqueness, "userName is already taken");
    }
    return patched.error();
  }
  return Committed(Result<json::Document>(Present(ctx, type, std::move(*patched), selection)));
}

Status ResourceService::Delete(const RequestContext& ctx, const schema::ResourceType& type,
                               const std::string& id, std::optional<int64_t> if_match) {
  return Committed(store_->Delete(WriteContextOf(ctx), type.name, id, if_match));
}

}  // namespace scim::service
