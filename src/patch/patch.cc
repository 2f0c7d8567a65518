// scim::patch::ApplyPatch (include/scim/patch/patch.h): checks the PatchOp request, applies its
// operations to a copy of the resource with the engine (engine.h), re-validates the result and
// swaps it in only when everything succeeded.

#include "scim/patch/patch.h"

#include "patch/engine.h"
#include "scim/common/strings.h"
#include "scim/schema/validator.h"

namespace scim::patch {
namespace {

bool HasPatchOpSchema(const json::Value& patch_request) {
  const json::Value* schemas = json::FindMemberCI(patch_request, "schemas");
  if (schemas == nullptr || !schemas->IsArray()) return false;
  for (const auto& s : schemas->GetArray()) {
    if (s.IsString() && EqualsIgnoreCase(json::View(s), schema::kPatchOpSchema)) return true;
  }
  return false;
}

// The request's non-empty "Operations" array, or kInvalidSyntax.
Result<const json::Value*> Operations(const json::Value& patch_request) {
  if (!patch_request.IsObject()) {
    return Error(ErrorCode::kInvalidSyntax, "a PATCH request body must be a JSON object");
  }
  if (!HasPatchOpSchema(patch_request)) {
    return Error(ErrorCode::kInvalidSyntax,
                 "\"schemas\" must contain \"" + std::string(schema::kPatchOpSchema) + "\"");
  }
  const json::Value* operations = json::FindMemberCI(patch_request, "Operations");
  if (operations == nullptr || !operations->IsArray() || operations->Empty()) {
    return Error(ErrorCode::kInvalidSyntax, "\"Operations\" must be a non-empty array");
  }
  return operations;
}

std::string Prefixed(size_t index, const Error& error) {
  return "Operations[" + std::to_string(index) + "]: " + error.detail;
}

}  // namespace

Result<PatchOutcome> ApplyPatch(const schema::Registry& registry, const schema::ResourceType& type,
                                const json::Value& patch_request, json::Document& resource,
                                const MemberLoader& load_members) {
  auto operations = Operations(patch_request);
  if (!operations.ok()) return operations.error();
  if (!resource.IsObject()) return Error(ErrorCode::kInternal, "the resource is not an object");

  // All operations apply to a copy; the resource is only swapped in when every one succeeded
  // (§3.5.2: "If a single operation encounters an error condition, the original SCIM resource
  // MUST be restored").
  json::Document work;
  work.CopyFrom(resource, work.GetAllocator());
  internal::Engine engine(registry, type, work, load_members);
  for (rapidjson::SizeType i = 0; i < (*operations)->Size(); ++i) {
    Status status = engine.ApplyOperation((**operations)[i]);
    if (!status.ok()) return Error(status.error().code, Prefixed(i, status.error()));
  }
  PatchOutcome outcome = engine.Finish();
  // Re-validate the whole result as a PUT of it would be (types, canonical values, required
  // attributes, string sizes, one primary, immutability against the stored resource); the
  // normalized copy is only used as a check, since it drops id, meta and readOnly attributes.
  if (outcome.modified) {
    json::Document normalized;
    SCIM_RETURN_IF_ERROR(schema::NormalizeResource(
        registry, type, work, schema::WriteMode::kReplace, &resource, normalized));
  }
  resource.Swap(work);
  return outcome;
}

}  // namespace scim::patch
