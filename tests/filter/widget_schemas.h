#pragma once
// A test-only "Widget" resource type whose schemas have an attribute of every SCIM type (integer,
// decimal, dateTime, binary, reference, caseExact strings, multi-valued simple and complex, a
// singular complex, a returned-never attribute) and an extension, so that filters on every type
// can be exercised. No test framework dependency (used by the fuzzer too).

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "scim/common/result.h"
#include "scim/schema/embedded.h"
#include "scim/schema/registry.h"

namespace scim::testing {

inline constexpr const char* kWidgetSchema = "urn:scimd:test:schemas:2.0:Widget";
inline constexpr const char* kWidgetExtSchema = "urn:scimd:test:schemas:extension:2.0:Widget";

inline const char* WidgetSchemaJson() {
  return R"json({
  "id": "urn:scimd:test:schemas:2.0:Widget",
  "name": "Widget",
  "description": "test only",
  "attributes": [
    {"name": "displayName", "type": "string", "multiValued": false, "caseExact": false},
    {"name": "label", "type": "string", "multiValued": false, "caseExact": false},
    {"name": "code", "type": "string", "multiValued": false, "caseExact": true},
    {"name": "count", "type": "integer", "multiValued": false},
    {"name": "score", "type": "decimal", "multiValued": false},
    {"name": "enabled", "type": "boolean", "multiValued": false},
    {"name": "since", "type": "dateTime", "multiValued": false},
    {"name": "blob", "type": "binary", "multiValued": false},
    {"name": "link", "type": "reference", "multiValued": false, "referenceTypes": ["external"]},
    {"name": "tags", "type": "string", "multiValued": true, "caseExact": false},
    {"name": "nums", "type": "integer", "multiValued": true},
    {"name": "secret", "type": "string", "multiValued": false, "returned": "never",
     "mutability": "writeOnly"},
    {"name": "parts", "type": "complex", "multiValued": true, "subAttributes": [
      {"name": "value", "type": "string", "multiValued": false, "caseExact": false},
      {"name": "kind", "type": "string", "multiValued": false, "caseExact": true},
      {"name": "weight", "type": "integer", "multiValued": false},
      {"name": "at", "type": "dateTime", "multiValued": false},
      {"name": "primary", "type": "boolean", "multiValued": false}
    ]},
    {"name": "spec", "type": "complex", "multiValued": false, "subAttributes": [
      {"name": "size", "type": "decimal", "multiValued": false},
      {"name": "label", "type": "string", "multiValued": false, "caseExact": false}
    ]}
  ]
})json";
}

inline const char* WidgetExtSchemaJson() {
  return R"json({
  "id": "urn:scimd:test:schemas:extension:2.0:Widget",
  "name": "WidgetExtension",
  "description": "test only",
  "attributes": [
    {"name": "level", "type": "integer", "multiValued": false},
    {"name": "owner", "type": "complex", "multiValued": false, "subAttributes": [
      {"name": "value", "type": "string", "multiValued": false, "caseExact": false},
      {"name": "display", "type": "string", "multiValued": false, "caseExact": false}
    ]}
  ]
})json";
}

inline const char* WidgetTypeJson() {
  return R"json({
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
  "id": "Widget", "name": "Widget", "endpoint": "/Widgets", "description": "test only",
  "schema": "urn:scimd:test:schemas:2.0:Widget",
  "schemaExtensions": [{"schema": "urn:scimd:test:schemas:extension:2.0:Widget", "required": false}]
})json";
}

// The embedded schemas plus the Widget resource type.
inline Result<std::shared_ptr<const schema::Registry>> LoadWidgetRegistry() {
  std::vector<std::pair<std::string, std::string>> files;
  for (const auto& f : schema::EmbeddedSchemaFiles()) files.emplace_back(f.name, f.text);
  files.emplace_back("test_widget.json", WidgetSchemaJson());
  files.emplace_back("test_widget_ext.json", WidgetExtSchemaJson());
  files.emplace_back("test_widget_type.json", WidgetTypeJson());
  return schema::Registry::LoadFromTexts(files);
}

}  // namespace scim::testing
