#pragma once
// Shared helpers for the schema module's tests: the embedded registry, a custom test registry
// with every attribute type, and JSON parsing shortcuts.

#include <boost/test/unit_test.hpp>
#include <memory>
#include <string>

#include "scim/common/json.h"
#include "scim/schema/registry.h"
#include "support/test_json.h"

namespace scim::schema::testing {

// The registry of the embedded scim-schemas/*.json (loaded once).
inline const Registry& Embedded() {
  static const std::shared_ptr<const Registry> registry = [] {
    auto loaded = Registry::LoadEmbedded();
    if (!loaded.ok()) BOOST_FAIL("LoadEmbedded failed: " + loaded.error().detail);
    return *loaded;
  }();
  return *registry;
}

inline const ResourceType& UserType() { return *Embedded().FindResourceType("User"); }
inline const ResourceType& GroupType() { return *Embedded().FindResourceType("Group"); }

// A resource type "Widget" (urn:test:Widget) with one attribute of each kind the core schemas
// lack: integer, decimal, dateTime, binary, immutable, returned request, a complex attribute with
// an immutable and a required sub-attribute, and a multi-valued string.
inline constexpr const char* kWidgetSchema = R"({
  "id": "urn:test:Widget", "name": "Widget", "attributes": [
    {"name": "label", "type": "string", "multiValued": false, "required": true},
    {"name": "count", "type": "integer", "multiValued": false},
    {"name": "ratio", "type": "decimal", "multiValued": false},
    {"name": "when", "type": "dateTime", "multiValued": false},
    {"name": "blob", "type": "binary", "multiValued": false},
    {"name": "serial", "type": "string", "multiValued": false, "mutability": "immutable",
     "caseExact": true},
    {"name": "secret", "type": "string", "multiValued": false, "returned": "request"},
    {"name": "tags", "type": "string", "multiValued": true},
    {"name": "spec", "type": "complex", "multiValued": false, "subAttributes": [
      {"name": "code", "type": "string", "multiValued": false, "mutability": "immutable"},
      {"name": "note", "type": "string", "multiValued": false},
      {"name": "level", "type": "string", "multiValued": false, "required": true,
       "canonicalValues": ["low", "high"]}]}
  ]})";
inline constexpr const char* kWidgetType = R"({
  "name": "Widget", "endpoint": "/Widgets", "schema": "urn:test:Widget"})";

inline const Registry& Widgets() {
  static const std::shared_ptr<const Registry> registry = [] {
    auto loaded = Registry::LoadFromTexts(
        {{"widget.json", kWidgetSchema}, {"widget_type.json", kWidgetType}});
    if (!loaded.ok()) BOOST_FAIL("widget registry failed: " + loaded.error().detail);
    return *loaded;
  }();
  return *registry;
}

inline const ResourceType& WidgetType() { return *Widgets().FindResourceType("Widget"); }

// The error detail of a failed Result/Status, "" when it succeeded (safe in test messages).
template <class R>
std::string ErrorOf(const R& result) {
  return result.ok() ? std::string() : result.error().detail;
}

using scim::testing::ParseJson;  // tests/support/test_json.h

// The member `name` of `v` (exact spelling), or nullptr.
inline const json::Value* Member(const json::Value& v, const char* name) {
  if (!v.IsObject()) return nullptr;
  auto it = v.FindMember(name);
  return it == v.MemberEnd() ? nullptr : &it->value;
}

inline std::string Str(const json::Value* v) {
  return v != nullptr && v->IsString() ? std::string(json::View(*v))
                                       : std::string("<not a string>");
}

inline bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace scim::schema::testing
