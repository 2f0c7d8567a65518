#pragma once
// The add, replace and remove operations (RFC 7644 §3.5.2.1-3) on attributes other than group
// members, with the checks every change must pass: mutability (RFC 7643 §2.2), required
// attributes and sub-attributes, and one "primary" value (RFC 7643 §2.4, RFC 7644 §3.5.2).
// Implemented in attribute_ops.cc (the checks), add_replace.cc and remove.cc.

#include <string>
#include <vector>

#include "patch/coerce.h"
#include "patch/operation.h"
#include "patch/target.h"
#include "patch/workspace.h"
#include "scim/common/json.h"
#include "scim/common/result.h"

namespace scim::patch::internal {

class AttributeWriter {
 public:
  AttributeWriter(Workspace& ws, Coercer& coercer) : ws_(ws), coercer_(coercer) {}

  // Applies one operation to the attribute `t` names. `value` is the operation's value (may be
  // null for remove; null for add/replace means "unassigned" and removes). True when the
  // attribute's value changed.
  Result<bool> Apply(OpKind kind, const Target& t, const json::Value* value);

 private:
  // attribute_ops.cc
  Status Write(OpKind kind, const Target& t, const json::Value* value,
               std::vector<size_t>& made_primary);
  Status CheckRemovable(const Target& t) const;
  Status CheckMutability(const Target& t, const json::Value* before) const;
  Status CheckResult(OpKind kind, const Target& t, const json::Value* after) const;
  Status CheckRequiredSubs(const Target& t, const json::Value& value, OpKind kind) const;
  Status EnforcePrimary(const Target& t, const std::vector<size_t>& made_primary);

  // add_replace.cc
  Status Add(const Target& t, const json::Value& value, std::vector<size_t>& made_primary);
  Status Replace(const Target& t, const json::Value& value, std::vector<size_t>& made_primary);
  Status AddElements(const Target& t, json::Value& elements, std::vector<size_t>& made_primary);
  Status ReplaceElements(const Target& t, json::Value& elements, std::vector<size_t>& made_primary);
  Status SubWithoutFilter(const Target& t, const json::Value& value, const std::string& hint);
  Status WriteFiltered(OpKind kind, const Target& t, const json::Value& value,
                       std::vector<size_t>& made_primary);
  void WriteElement(OpKind kind, const Target& t, json::Value& element, json::Value& value);
  Status AppendFromFilter(const Target& t, json::Value& value, std::vector<size_t>& made_primary);
  Status SetOrMerge(const Target& t, json::Value& coerced);
  Status SetSub(const Target& t, const json::Value& value);

  // remove.cc
  Status Remove(const Target& t, const json::Value* value);
  Status RemoveValues(const Target& t, json::Value& array, const json::Value& value);
  Status RemoveSub(const Target& t, json::Value& current);
  Status RemoveFiltered(const Target& t, json::Value& array);

  Workspace& ws_;
  Coercer& coercer_;
  json::Document scratch_;  // snapshots of attributes before each operation
};

}  // namespace scim::patch::internal
