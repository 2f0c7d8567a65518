#pragma once
// The private copy of the resource a PATCH request is applied to: reading and writing the value
// of a target's attribute in the core object or its extension object, and keeping `schemas` and
// the extension objects in step with the extension attributes present.

#include <string>
#include <vector>

#include "patch/target.h"
#include "scim/common/json.h"
#include "scim/schema/registry.h"

namespace scim::patch::internal {

class Workspace {
 public:
  Workspace(const schema::ResourceType& type, json::Document& work)
      : type_(type), work_(work), alloc_(work.GetAllocator()) {}

  json::Allocator& alloc() { return alloc_; }

  // The attribute's current value, nullptr when absent.
  json::Value* Current(const Target& t);
  // Sets the attribute to `value` (moved), creating its extension object if needed.
  void Set(const Target& t, json::Value& value);
  // Removes the attribute.
  void Erase(const Target& t);
  // The attribute as a (possibly new, empty) array.
  json::Value& ArrayOf(const Target& t);

  // Once all operations ran: removes the extension objects left empty and, for the extensions in
  // `changed` (whose attributes changed), adds the URN to `schemas` when the extension has
  // attributes, or removes it (unless the extension is required) when it has none.
  void SyncExtensions(const std::vector<std::string>& changed);

 private:
  json::Value* Container(const Target& t, bool create);
  void SyncExtension(const std::string& urn, bool changed);
  bool IsRequiredExtension(const std::string& urn) const;
  json::Value* SchemasArray(bool create);

  const schema::ResourceType& type_;
  json::Document& work_;
  json::Allocator& alloc_;
  std::vector<std::string> created_extensions_;  // extension objects created by this request
};

}  // namespace scim::patch::internal
