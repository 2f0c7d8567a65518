#include "scim/service/resource_service.h"

#include "scim/filter/bind.h"
#include "scim/patch/patch.h"
#include "scim/schema/validator.h"
#include "scim/service/selection.h"
#include "service/password_pool.h"
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

// The userName a write asked for (the body of a create or replace, or the patched resource).
std::optional<std::string> UserNameOf(const json::Value& resource) {
  const json::Value* name = json::FindMemberCI(resource, "userName");
  if (name == nullptr || !name->IsString()) return std::nullopt;
  return std::string(json::View(*name));
}

// A JSON string literal for a filter: "..." with \ and " escaped.
std::string FilterLiteral(const std::string& value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

store::WriteContext WriteContextOf(const RequestContext& ctx) {
  return {ctx.tenant, ctx.actor, ctx.client, ctx.request_id};
}

// PUT (RFC 7644 §3.5.1): the stored resource is replaced by the normalized body; attributes the
// client left out are cleared, readOnly ones kept, immutable ones must not change.
store::Mutator ReplaceMutator(const schema::Registry& registry, const schema::ResourceType& type,
                              const json::Value& body, int64_t max_values,
                              const PasswordHashes* hashes) {
  return [&registry, &type, &body, max_values, hashes](
             json::Document& resource, store::MembershipChange& members,
             std::optional<std::string>& password_hash) -> Status {
    json::Document normalized;
    SCIM_RETURN_IF_ERROR(schema::NormalizeResource(
        registry, type, body, schema::WriteMode::kReplace, &resource, normalized));
    SCIM_RETURN_IF_ERROR(CheckValuesPerAttribute(normalized, max_values));
    SCIM_TRY(auto input, ExtractWriteInput(normalized, hashes));
    password_hash = input.password_hash;
    if (type.name == "Group") {
      members.replace_all = true;
      members.add = input.members;
    }
    resource.Swap(normalized);
    return OkStatus();
  };
}

// `user_name` receives the userName the patched resource would have (for a 409's detail).
store::Mutator PatchMutator(const schema::Registry& registry, const schema::ResourceType& type,
                            const json::Value& body, const patch::MemberLoader& loader,
                            int64_t max_values, std::optional<std::string>* user_name) {
  return [&registry, &type, &body, loader, max_values, user_name](
             json::Document& resource, store::MembershipChange& members,
             std::optional<std::string>& password_hash) -> Status {
    SCIM_TRY(auto outcome, patch::ApplyPatch(registry, type, body, resource, loader));
    *user_name = UserNameOf(resource);
    SCIM_RETURN_IF_ERROR(CheckValuesPerAttribute(resource, max_values));
    SCIM_TRY(auto input, ExtractWriteInput(resource));
    password_hash = input.password_hash;
    members = ToMembershipChange(outcome.members);
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
  SCIM_TRY(auto input, ExtractWriteInput(normalized, ctx.password_hashes));
  store::MembershipChange members;
  members.add = input.members;
  std::optional<std::string> user_name = UserNameOf(normalized);
  auto created = store_->Create(WriteContextOf(ctx), type.name, std::move(normalized), members,
                                input.password_hash);
  if (!created.ok()) return UniquenessNamed(ctx, type, created.error(), user_name);
  return Committed(Result<json::Document>(Present(ctx, type, std::move(*created), selection)));
}

Result<json::Document> ResourceService::Get(const RequestContext& ctx,
                                            const schema::ResourceType& type, const std::string& id,
                                            const schema::AttributeSelection& selection) {
  SCIM_TRY(auto resource,
           store_->Get(ctx.tenant, type.name, id, ReadFor(*registry_, type, selection)));
  return Present(ctx, type, std::move(resource), selection);
}

Result<json::Document> ResourceService::Replace(const RequestContext& ctx,
                                                const schema::ResourceType& type,
                                                const std::string& id, const json::Value& body,
                                                std::optional<int64_t> if_match,
                                                const schema::AttributeSelection& selection) {
  // The password is hashed before the transaction: no row or write lock waits on PBKDF2.
  PasswordHashes hashed_here;
  const PasswordHashes* hashes = ctx.password_hashes;
  if (auto plain = PlainPassword(body); plain && (hashes == nullptr || !hashes->count(*plain))) {
    hashed_here = HashPasswords({*plain});
    hashes = &hashed_here;
  }
  auto replaced =
      store_->Modify(WriteContextOf(ctx), type.name, id, if_match, events::ChangeKind::kReplaced,
                     ReplaceMutator(*registry_, type, body, max_values_per_attribute_, hashes),
                     ReadFor(*registry_, type, selection));
  if (!replaced.ok()) return UniquenessNamed(ctx, type, replaced.error(), UserNameOf(body));
  return Committed(Result<json::Document>(Present(ctx, type, std::move(*replaced), selection)));
}

Result<json::Document> ResourceService::Patch(const RequestContext& ctx,
                                              const schema::ResourceType& type,
                                              const std::string& id, const json::Value& body,
                                              std::optional<int64_t> if_match,
                                              const schema::AttributeSelection& selection) {
  patch::MemberLoader loader = [this, &ctx, &id]() -> Result<std::vector<patch::MemberRef>> {
    SCIM_TRY(auto rows, store_->LoadMembers(ctx.tenant, id));
    std::vector<patch::MemberRef> members;
    for (const store::Member& m : rows) members.push_back({m.id, m.type, ""});
    return members;
  };
  std::optional<std::string> user_name;
  auto patched = store_->Modify(
      WriteContextOf(ctx), type.name, id, if_match, events::ChangeKind::kPatched,
      PatchMutator(*registry_, type, body, loader, max_values_per_attribute_, &user_name),
      ReadFor(*registry_, type, selection));
  if (!patched.ok()) return UniquenessNamed(ctx, type, patched.error(), user_name);
  return Committed(Result<json::Document>(Present(ctx, type, std::move(*patched), selection)));
}

Error ResourceService::UniquenessNamed(const RequestContext& ctx, const schema::ResourceType& type,
                                       Error error,
                                       const std::optional<std::string>& user_name) const {
  if (error.code != ErrorCode::kUniqueness) return error;
  // RFC 7644 §3.3: 409 uniqueness. Naming the holder lets a client (an HR system re-running an
  // import) turn its create into a PUT of that id.
  std::string detail = "userName is already taken";
  if (user_name && type.name == "User") {
    auto bound = filter::ParseAndBind("userName eq " + FilterLiteral(*user_name), *registry_, type);
    store::ListQuery query;
    query.count = 1;
    query.read = {false, false};
    if (bound.ok()) query.filter = std::move(*bound);
    auto page = bound.ok() ? store_->List(ctx.tenant, type.name, query)
                           : Result<store::ListPage>(bound.error());
    if (page.ok() && !page->resources.empty() && page->resources[0].HasMember("id")) {
      detail += " by id " + std::string(json::View(page->resources[0]["id"]));
    }
  }
  return Error(ErrorCode::kUniqueness, detail);
}

Status ResourceService::InOneTransaction(const std::function<Status()>& work, bool savepoints) {
  return Committed(store_->InOneTransaction(work, savepoints));
}

Status ResourceService::Delete(const RequestContext& ctx, const schema::ResourceType& type,
                               const std::string& id, std::optional<int64_t> if_match) {
  return Committed(store_->Delete(WriteContextOf(ctx), type.name, id, if_match));
}

}  // namespace scim::service
