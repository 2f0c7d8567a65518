#pragma once
// The registry of fuzz_resource and fuzz_patch: the embedded schemas (User with the enterprise
// extension, Group with the scimd extension) plus two test-only resource types whose schemas
// reach what the embedded ones cannot: the Widget of tests/filter/widget_schemas.h (integer,
// decimal, dateTime, binary, multi-valued simple attributes) and a "Device" with immutable
// attributes and sub-attributes, required attributes and sub-attributes, canonicalValues, a
// required extension and an optional one with a required and an immutable attribute.

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "filter/widget_schemas.h"
#include "scim/schema/embedded.h"
#include "scim/schema/registry.h"

namespace scim::fuzzing {

inline constexpr const char* kDeviceSchema = "urn:scimd:test:schemas:2.0:Device";
inline constexpr const char* kDeviceExtSchema = "urn:scimd:test:schemas:extension:2.0:Device";
inline constexpr const char* kWarrantySchema = "urn:scimd:test:schemas:extension:2.0:Warranty";

inline const char* DeviceSchemaJson() {
  return R"json({
  "id": "urn:scimd:test:schemas:2.0:Device", "name": "Device", "description": "test only",
  "attributes": [
    {"name": "name", "type": "string", "required": true},
    {"name": "serial", "type": "string", "mutability": "immutable", "caseExact": true},
    {"name": "status", "type": "string", "canonicalValues": ["active", "retired", "Lost"]},
    {"name": "firmware", "type": "complex", "subAttributes": [
      {"name": "version", "type": "string", "required": true},
      {"name": "builtAt", "type": "dateTime", "mutability": "immutable"},
      {"name": "channel", "type": "string", "canonicalValues": ["stable", "beta"]},
      {"name": "checksum", "type": "string", "mutability": "readOnly"}]},
    {"name": "lastSeen", "type": "dateTime"},
    {"name": "ports", "type": "integer", "multiValued": true},
    {"name": "score", "type": "decimal"},
    {"name": "certified", "type": "boolean"},
    {"name": "key", "type": "binary", "caseExact": true},
    {"name": "owner", "type": "reference", "referenceTypes": ["User", "Group"]},
    {"name": "interfaces", "type": "complex", "multiValued": true, "subAttributes": [
      {"name": "value", "type": "string", "required": true, "caseExact": true},
      {"name": "type", "type": "string", "canonicalValues": ["ethernet", "wifi"]},
      {"name": "mode", "type": "string", "canonicalValues": ["access", "trunk"]},
      {"name": "mac", "type": "string", "mutability": "immutable"},
      {"name": "primary", "type": "boolean"}]},
    {"name": "token", "type": "string", "mutability": "readOnly", "returned": "always"},
    {"name": "pin", "type": "string", "mutability": "writeOnly", "returned": "never"},
    {"name": "notes", "type": "string", "returned": "request"}
  ]
})json";
}

inline const char* DeviceExtSchemaJson() {
  return R"json({
  "id": "urn:scimd:test:schemas:extension:2.0:Device", "name": "DeviceSite",
  "description": "test only",
  "attributes": [
    {"name": "site", "type": "string", "required": true},
    {"name": "rack", "type": "integer"},
    {"name": "installedAt", "type": "dateTime", "mutability": "immutable"}
  ]
})json";
}

inline const char* WarrantySchemaJson() {
  return R"json({
  "id": "urn:scimd:test:schemas:extension:2.0:Warranty", "name": "Warranty",
  "description": "test only",
  "attributes": [
    {"name": "vendor", "type": "string", "required": true},
    {"name": "purchasedAt", "type": "dateTime", "mutability": "immutable"},
    {"name": "years", "type": "integer"}
  ]
})json";
}

inline const char* DeviceTypeJson() {
  return R"json({
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
  "id": "Device", "name": "Device", "endpoint": "/Devices", "description": "test only",
  "schema": "urn:scimd:test:schemas:2.0:Device",
  "schemaExtensions": [
    {"schema": "urn:scimd:test:schemas:extension:2.0:Device", "required": true},
    {"schema": "urn:scimd:test:schemas:extension:2.0:Warranty", "required": false}]
})json";
}

// Aborts when the schemas do not load (a broken fixture, not a finding).
inline std::shared_ptr<const schema::Registry> LoadFuzzRegistry() {
  std::vector<std::pair<std::string, std::string>> files;
  for (const auto& f : schema::EmbeddedSchemaFiles()) files.emplace_back(f.name, f.text);
  files.emplace_back("test_widget.json", testing::WidgetSchemaJson());
  files.emplace_back("test_widget_ext.json", testing::WidgetExtSchemaJson());
  files.emplace_back("test_widget_type.json", testing::WidgetTypeJson());
  files.emplace_back("test_device.json", DeviceSchemaJson());
  files.emplace_back("test_device_ext.json", DeviceExtSchemaJson());
  files.emplace_back("test_warranty.json", WarrantySchemaJson());
  files.emplace_back("test_device_type.json", DeviceTypeJson());
  auto loaded = schema::Registry::LoadFromTexts(files);
  if (!loaded.ok()) {
    std::fprintf(stderr, "fuzz registry: %s\n", loaded.error().detail.c_str());
    std::abort();
  }
  return *loaded;
}

// A stored Widget and Device (what PATCH starts from and a PUT replaces), valid under the
// schemas above; the fuzzers' inputs are applied to them.
inline constexpr const char* kStoredWidget = R"json({
  "schemas": ["urn:scimd:test:schemas:2.0:Widget", "urn:scimd:test:schemas:extension:2.0:Widget"],
  "id": "w1", "code": "AbC", "count": 10, "score": 2.5, "enabled": false,
  "since": "2020-06-01T10:00:00.000Z", "tags": ["Red", "blue"], "nums": [1, 5],
  "parts": [{"value": "bolt", "kind": "Metal", "weight": 3, "primary": true,
             "at": "2021-01-01T00:00:00.000Z"}, {"value": "nut", "kind": "metal"}],
  "spec": {"size": 1.5, "label": "L"}, "secret": "s3cr3t",
  "urn:scimd:test:schemas:extension:2.0:Widget": {"level": 4, "owner": {"value": "o1"}},
  "meta": {"resourceType": "Widget", "created": "2020-01-01T00:00:00.000Z",
           "lastModified": "2020-01-02T00:00:00.000Z"}
})json";

inline constexpr const char* kStoredDevice = R"json({
  "schemas": ["urn:scimd:test:schemas:2.0:Device", "urn:scimd:test:schemas:extension:2.0:Device",
              "urn:scimd:test:schemas:extension:2.0:Warranty"],
  "id": "d1", "name": "router", "serial": "SN-1", "status": "Lost",
  "firmware": {"version": "1.0", "builtAt": "2024-01-01T00:00:00.000Z", "channel": "stable",
               "checksum": "abc"},
  "lastSeen": "2024-02-01T08:00:00.000Z", "ports": [22, 443], "score": 0.5, "certified": true,
  "interfaces": [{"value": "eth0", "type": "ethernet", "mac": "00:11:22:33:44:55",
                  "primary": true}, {"value": "wlan0", "type": "wifi"}],
  "token": "t0k3n", "notes": "rack 4",
  "urn:scimd:test:schemas:extension:2.0:Device": {"site": "Lyon", "rack": 4,
                                                  "installedAt": "2024-01-02T00:00:00.000Z"},
  "urn:scimd:test:schemas:extension:2.0:Warranty": {"vendor": "ACME",
                                                    "purchasedAt": "2023-12-24T00:00:00.000Z"},
  "meta": {"resourceType": "Device", "created": "2024-01-01T00:00:00.000Z",
           "lastModified": "2024-02-01T00:00:00.000Z"}
})json";

}  // namespace scim::fuzzing
