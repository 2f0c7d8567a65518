// The PATCH engine proper: one operation at a time, from its op/path/value to the attribute
// operations or the member delta.

#include "patch/engine.h"

#include <optional>

#include "patch/dialect.h"
#include "patch/json_values.h"
#include "patch/target.h"
#include "scim/common/strings.h"

namespace scim::patch::internal {

namespace {

// "add", "remove" or "replace" in any letter case (Entra ID sends "Add", "Replace", "Remove").
std::optional<OpKind> ParseOpKind(std::string_view name) {
  if (EqualsIgnoreCase(name, "add")) return OpKind::kAdd;
  if (EqualsIgnoreCase(name, "remove")) return OpKind::kRemove;
  if (EqualsIgnoreCase(name, "replace")) return OpKind::kReplace;
  return std::nullopt;
}

}  // namespace

Status Engine::ApplyOperation(const json::Value& op) {
  if (!op.IsObject()) return Error(ErrorCode::kInvalidSyntax, "an operation must be an object");
  const json::Value* op_name = json::FindMemberCI(op, "op");
  if (op_name == nullptr || !op_name->IsString()) {
    return Error(ErrorCode::kInvalidSyntax, "an operation needs an \"op\" string");
  }
  std::optional<OpKind> kind = ParseOpKind(json::View(*op_name));
  if (!kind) {
    return Error(ErrorCode::kInvalidSyntax, "unknown op \"" + std::string(json::View(*op_name)) +
                                                "\" (expected add, remove or replace)");
  }
  const json::Value* path = json::FindMemberCI(op, "path");
  if (path != nullptr && !path->IsNull() && !path->IsString()) {
    return Error(ErrorCode::kInvalidSyntax, "\"path\" must be a string");
  }
  bool has_path = path != nullptr && path->IsString() && !Trim(json::View(*path)).empty();
  const json::Value* value = json::FindMemberCI(op, "value");
  if (*kind == OpKind::kRemove) {
    // §3.5.2.2: "If "path" is unspecified, the operation fails with HTTP status code 400 and a
    // "scimType" error code of "noTarget"."
    if (!has_path) return NoTarget("remove needs a \"path\"");
    return ApplyPath(*kind, json::View(*path), value);
  }
  if (value == nullptr) return InvalidValue(std::string(OpName(*kind)) + " needs a \"value\"");
  if (has_path) return ApplyPath(*kind, json::View(*path), value);
  return ApplyPathless(*kind, *value);
}

PatchOutcome Engine::Finish() {
  workspace_.SyncExtensions(changed_extensions_);
  PatchOutcome outcome;
  outcome.members = members_.Build();
  outcome.changed_attributes = changed_;
  if (!outcome.members.empty()) outcome.changed_attributes.push_back("members");
  outcome.modified = !outcome.changed_attributes.empty();
  return outcome;
}

// Path-less add/replace (§3.5.2.1 / §3.5.2.3 "If omitted, the target location is assumed to be
// the resource itself").
Status Engine::ApplyPathless(OpKind kind, const json::Value& value) {
  return ForEachPathless(
      registry_, type_, OpName(kind), value,
      [&](const std::string& path, const json::Value* v) { return ApplyPath(kind, path, v); });
}

Status Engine::ApplyPath(OpKind kind, std::string_view path, const json::Value* value) {
  SCIM_TRY(auto target, Resolve(registry_, type_, path));
  if (IsGroupMembers(type_, target)) return members_.Apply(kind, target, value);
  SCIM_TRY(auto changed, attributes_.Apply(kind, target, value));
  if (!changed) return OkStatus();
  AddOnce(changed_, target.qualified);
  if (!target.ext_urn.empty()) AddOnce(changed_extensions_, target.ext_urn);
  return OkStatus();
}

}  // namespace scim::patch::internal
