#pragma once
// The PATCH engine proper: reads each operation of a request (op, path, value), resolves its
// targets and hands them to the attribute operations (attribute_ops.h) or, for group members, to
// the member delta (members.h); at the end it builds the PatchOutcome.

#include <string>
#include <string_view>
#include <vector>

#include "patch/attribute_ops.h"
#include "patch/coerce.h"
#include "patch/members.h"
#include "patch/operation.h"
#include "patch/workspace.h"
#include "scim/common/json.h"
#include "scim/common/result.h"
#include "scim/patch/patch.h"
#include "scim/schema/registry.h"

namespace scim::patch::internal {

// Applies operations to `work`, a private copy of the resource.
class Engine {
 public:
  Engine(const schema::Registry& registry, const schema::ResourceType& type, json::Document& work,
         const MemberLoader& load_members)
      : registry_(registry),
        type_(type),
        workspace_(type, work),
        coercer_(work.GetAllocator()),
        attributes_(workspace_, coercer_),
        members_(load_members) {}

  // One element of the request's "Operations".
  Status ApplyOperation(const json::Value& op);

  // Keeps `schemas` in step with the extension objects touched, then builds the outcome.
  PatchOutcome Finish();

 private:
  Status ApplyPathless(OpKind kind, const json::Value& value);
  Status ApplyPath(OpKind kind, std::string_view path, const json::Value* value);

  const schema::Registry& registry_;
  const schema::ResourceType& type_;
  Workspace workspace_;
  Coercer coercer_;
  AttributeWriter attributes_;
  MemberChanges members_;
  std::vector<std::string> changed_;             // canonical names of the changed attributes
  std::vector<std::string> changed_extensions_;  // extensions whose attributes changed
};

}  // namespace scim::patch::internal
