// libFuzzer target for the resource bodies clients write (POST and PUT): json::Parse (nesting
// limit, UTF-8 validation, NUL rejection) → schema::NormalizeResource for User and Group (and the
// test-only Widget and Device types of fuzz_schemas.h, for the attribute types and
// characteristics the embedded schemas lack), in kCreate and in kReplace against a fixed stored
// resource → Project with a few fixed attribute
// selections → Serialize. The same bytes are also tried as the "attributes" and
// "excludedAttributes" query parameters (schema::ParseSelection). Beyond "no crash, no leak, no
// sanitizer report" it checks invariants:
//   - json::Parse fails with kInvalidSyntax (malformed, too deep) or kInvalidValue (NUL);
//   - NormalizeResource fails with a SCIM client error (kInvalidSyntax, kInvalidValue, and
//     kMutability in kReplace), never kInternal;
//   - an accepted resource is a fixed point: Normalize(Parse(Serialize(out))) == out, in the same
//     mode, and its serialization is stable;
//   - Project keeps id, schemas and meta.resourceType, drops password, only removes (the result
//     is contained in its input), is idempotent, and agrees with MayReturn;
//   - ParseSelection fails with kInvalidPath only.
// Build: CC=clang CXX=clang++ cmake -S . -B build-fuzz -DSCIMD_FUZZ=ON -DSCIMD_TESTS=OFF
//        cmake --build build-fuzz --target fuzz_resource
// Run:   build-fuzz/tests/fuzz/fuzz_resource -max_total_time=30 tests/fuzz/corpus/resource

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_invariant.h"
#include "fuzz/fuzz_schemas.h"
#include "scim/common/json.h"
#include "scim/common/strings.h"
#include "scim/schema/projection.h"
#include "scim/schema/registry.h"
#include "scim/schema/validator.h"

namespace {

using namespace scim;

using fuzzing::Fail;

// The stored resources PUT replaces (full resources, as the store returns them).
const char* kExistingUser = R"json({
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
              "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
  "id": "2819c223-7f76-453a-919d-413861904646", "externalId": "bjensen",
  "userName": "bjensen@example.com",
  "name": {"formatted": "Ms. Barbara J Jensen, III", "familyName": "Jensen",
           "givenName": "Barbara"},
  "displayName": "Babs Jensen", "active": true,
  "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true},
             {"value": "babs@jensen.org", "type": "home"}],
  "groups": [{"value": "e9e30dba", "display": "Tour Guides", "type": "direct"}],
  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
    "employeeNumber": "701984", "manager": {"value": "26118915", "displayName": "John Smith"}},
  "meta": {"resourceType": "User", "created": "2010-01-23T04:56:22.000Z",
           "lastModified": "2011-05-13T04:42:34.000Z", "version": "W/\"3\""}})json";

const char* kExistingGroup = R"json({
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group",
              "urn:scimd:params:scim:schemas:extension:2.0:Group"],
  "id": "e9e30dba-f08f-4109-8486-d5c6a331660a", "displayName": "Tour Guides",
  "members": [{"value": "2819c223-7f76-453a-919d-413861904646", "type": "User",
               "display": "Babs Jensen"},
              {"value": "902c246b-6245-4190-8e05-00816be7344a", "type": "Group"}],
  "urn:scimd:params:scim:schemas:extension:2.0:Group": {"kind": "store", "location": "Lyon"},
  "meta": {"resourceType": "Group", "created": "2010-01-23T04:56:22.000Z",
           "lastModified": "2011-05-13T04:42:34.000Z"}})json";

// Fixed "attributes" / "excludedAttributes" pairs, parsed per resource type (a pair that does
// not resolve for a type is skipped for it).
const std::pair<const char*, const char*> kSelections[] = {
    {"", ""},
    {"userName,emails.value,name.familyName", ""},
    {"", "emails,name.givenName,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"},
    {"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value,password", ""},
    {"", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager,meta"},
    {"displayName,members.display", ""},
    {"", "members,urn:scimd:params:scim:schemas:extension:2.0:Group:kind"},
    {"urn:scimd:params:scim:schemas:extension:2.0:Group,externalId", ""},
    {"code,parts.kind,since,secret", ""},
    {"", "parts,urn:scimd:test:schemas:extension:2.0:Widget:level,spec.size"},
    {"notes,interfaces.mac,name,pin", ""},
    {"", "firmware.version,urn:scimd:test:schemas:extension:2.0:Device,token"},
    {"urn:scimd:test:schemas:extension:2.0:Device:site,firmware", ""},
};

struct TypeFixture {
  const schema::ResourceType* type = nullptr;
  json::Document existing;
  std::vector<schema::AttributeSelection> selections;
};

struct Fixture {
  std::shared_ptr<const schema::Registry> registry;
  TypeFixture types[4];  // User, Group, Widget, Device
};

const Fixture& GetFixture() {
  static const Fixture* fixture = [] {
    auto* f = new Fixture;
    f->registry = fuzzing::LoadFuzzRegistry();
    const char* names[] = {"User", "Group", "Widget", "Device"};
    const char* existing[] = {kExistingUser, kExistingGroup, fuzzing::kStoredWidget,
                              fuzzing::kStoredDevice};
    for (int i = 0; i < 4; ++i) {
      TypeFixture& t = f->types[i];
      t.type = f->registry->FindResourceType(names[i]);
      if (t.type == nullptr || !json::Parse(existing[i], t.existing).ok()) std::abort();
      json::Document check;  // the fixture must be a valid stored resource
      Status valid = schema::NormalizeResource(*f->registry, *t.type, t.existing,
                                               schema::WriteMode::kReplace, &t.existing, check);
      if (!valid.ok()) {
        std::fprintf(stderr, "fixture %s: %s\n", names[i], valid.error().detail.c_str());
        std::abort();
      }
      for (const auto& [attributes, excluded] : kSelections) {
        auto sel = schema::ParseSelection(*f->registry, *t.type, attributes, excluded);
        if (sel.ok()) t.selections.push_back(std::move(*sel));
      }
      if (t.selections.size() < 3) std::abort();
    }
    return f;
  }();
  return *fixture;
}

// Whether `part` is `whole` with members, elements or sub-members removed (arrays: `part` is a
// subsequence of `whole`, each element contained in its counterpart).
bool ContainedIn(const json::Value& part, const json::Value& whole) {
  if (part.IsObject()) {
    if (!whole.IsObject()) return false;
    for (auto it = part.MemberBegin(); it != part.MemberEnd(); ++it) {
      auto w = whole.FindMember(it->name);
      if (w == whole.MemberEnd() || !ContainedIn(it->value, w->value)) return false;
    }
    return true;
  }
  if (part.IsArray()) {
    if (!whole.IsArray()) return false;
    rapidjson::SizeType j = 0;
    for (const json::Value& element : part.GetArray()) {
      while (j < whole.Size() && !ContainedIn(element, whole[j])) ++j;
      if (j == whole.Size()) return false;
      ++j;
    }
    return true;
  }
  return part == whole;
}

// Every attribute and sub-attribute a projection returned must be one MayReturn allows.
void CheckMayReturn(const schema::Registry& registry, const schema::ResourceType& type,
                    const schema::AttributeSelection& sel, const json::Value& projected,
                    std::string_view input) {
  auto check = [&](const std::string& path) {
    if (!registry.ResolvePath(type, path).ok()) return;  // "schemas", unknown stored members
    if (!schema::MayReturn(registry, type, sel, path))
      Fail("Project returned what MayReturn denies", input, path);
  };
  auto check_attribute = [&](const std::string& prefix, const json::Value& value) {
    check(prefix);
    auto subs = [&](const json::Value& object) {
      if (!object.IsObject()) return;
      for (auto it = object.MemberBegin(); it != object.MemberEnd(); ++it) {
        check(prefix + "." + std::string(json::View(it->name)));
      }
    };
    if (value.IsArray()) {
      for (const json::Value& element : value.GetArray()) subs(element);
    } else {
      subs(value);
    }
  };
  for (auto it = projected.MemberBegin(); it != projected.MemberEnd(); ++it) {
    std::string key(json::View(it->name));
    if (key == "schemas") continue;
    if (StartsWithIgnoreCase(key, "urn:") && it->value.IsObject()) {
      for (auto inner = it->value.MemberBegin(); inner != it->value.MemberEnd(); ++inner) {
        check_attribute(key + ":" + std::string(json::View(inner->name)), inner->value);
      }
      continue;
    }
    check_attribute(key, it->value);
  }
}

// Projects a copy of `stored` (a normalized resource plus id and meta) with each selection.
void CheckProjections(const Fixture& fx, const TypeFixture& t, const json::Value& stored,
                      std::string_view input) {
  for (const schema::AttributeSelection& sel : t.selections) {
    json::Document doc;
    doc.CopyFrom(stored, doc.GetAllocator());
    schema::Project(*fx.registry, *t.type, sel, doc, doc.GetAllocator());
    if (!doc.IsObject()) Fail("projection is not an object", input);
    if (!doc.HasMember("id") || !doc.HasMember("schemas"))
      Fail("projection lost id or schemas", input, json::Serialize(doc));
    auto meta = doc.FindMember("meta");
    if (meta == doc.MemberEnd() || !meta->value.IsObject() ||
        !meta->value.HasMember("resourceType")) {
      Fail("projection lost meta.resourceType", input, json::Serialize(doc));
    }
    if (json::FindMemberCI(doc, "password") != nullptr) Fail("projection returned password", input);
    if (!ContainedIn(doc, stored)) {
      Fail("projection added something", input,
           json::Serialize(doc) + "\nfrom " + json::Serialize(stored));
    }
    std::string once = json::Serialize(doc);
    schema::Project(*fx.registry, *t.type, sel, doc, doc.GetAllocator());
    if (json::Serialize(doc) != once) Fail("projection is not idempotent", input, once);
    CheckMayReturn(*fx.registry, *t.type, sel, doc, input);
  }
}

void CheckError(const Error& e, bool replace, std::string_view input, const char* where) {
  bool ok = e.code == ErrorCode::kInvalidSyntax || e.code == ErrorCode::kInvalidValue ||
            (replace && e.code == ErrorCode::kMutability);
  if (!ok) Fail(where, input, std::string(ErrorCodeName(e.code)) + ": " + e.detail);
  if (e.detail.empty()) Fail("error without detail", input);
}

void FuzzNormalize(const Fixture& fx, const TypeFixture& t, const json::Value& body,
                   schema::WriteMode mode, std::string_view input) {
  bool replace = mode == schema::WriteMode::kReplace;
  const json::Value* existing = replace ? &t.existing : nullptr;
  json::Document out;
  Status s = schema::NormalizeResource(*fx.registry, *t.type, body, mode, existing, out);
  if (!s.ok()) {
    CheckError(s.error(), replace, input, "normalize error code");
    return;
  }
  if (!out.IsObject()) Fail("normalized resource is not an object", input);
  if (out.HasMember("id") || out.HasMember("meta")) Fail("normalized resource kept id/meta", input);

  // Idempotence: the stored form, read back and written again, is itself.
  std::string text = json::Serialize(out);
  json::Document reread;
  Status p = json::Parse(text, reread);
  if (!p.ok()) Fail("normalized resource does not parse", input, text + "\n" + p.error().detail);
  json::Document again;
  Status s2 = schema::NormalizeResource(*fx.registry, *t.type, reread, mode, existing, again);
  if (!s2.ok()) {
    Fail("normalized resource is rejected", input,
         text + "\n" + ErrorCodeName(s2.error().code) + ": " + s2.error().detail);
  }
  if (!(again == out))
    Fail("normalize is not idempotent", input, text + "\n" + json::Serialize(again));
  if (json::Serialize(again) != text) Fail("normalize changed the member order", input, text);

  // A stored resource: the normalized body plus what the service adds.
  json::Document stored;
  stored.CopyFrom(out, stored.GetAllocator());
  auto& alloc = stored.GetAllocator();
  stored.AddMember("id", "0f3c6a1e-9d2b-4c55-8e31-7a0b2f1d9c44", alloc);
  json::Value meta(rapidjson::kObjectType);
  meta.AddMember("resourceType", json::String(t.type->name, alloc), alloc);
  meta.AddMember("created", "2024-01-01T00:00:00.000Z", alloc);
  meta.AddMember("lastModified", "2024-01-02T00:00:00.000Z", alloc);
  meta.AddMember("version", "W/\"1\"", alloc);
  stored.AddMember("meta", meta, alloc);
  CheckProjections(fx, t, stored, input);
}

// The bytes as query parameters; a selection that parses is applied to the stored resource.
void FuzzSelection(const Fixture& fx, const TypeFixture& t, std::string_view input) {
  for (int which = 0; which < 2; ++which) {
    auto sel = which == 0 ? schema::ParseSelection(*fx.registry, *t.type, input, "")
                          : schema::ParseSelection(*fx.registry, *t.type, "", input);
    if (!sel.ok()) {
      if (sel.error().code != ErrorCode::kInvalidPath) {
        Fail("selection error code", input, ErrorCodeName(sel.error().code));
      }
      continue;
    }
    json::Document doc;
    doc.CopyFrom(t.existing, doc.GetAllocator());
    schema::Project(*fx.registry, *t.type, *sel, doc, doc.GetAllocator());
    if (!doc.HasMember("id") || !ContainedIn(doc, t.existing)) {
      Fail("projection with a parsed selection", input, json::Serialize(doc));
    }
    CheckMayReturn(*fx.registry, *t.type, *sel, doc, input);
    (void)json::Serialize(doc);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const Fixture& fx = GetFixture();
  if (size < 512) {
    for (const TypeFixture& t : fx.types) FuzzSelection(fx, t, input);
  }
  json::Document body;
  Status parsed = json::Parse(input, body);
  if (!parsed.ok()) {
    ErrorCode c = parsed.error().code;
    if (c != ErrorCode::kInvalidSyntax && c != ErrorCode::kInvalidValue) {
      Fail("parse error code", input, parsed.error().detail);
    }
    return 0;
  }
  for (const TypeFixture& t : fx.types) {
    FuzzNormalize(fx, t, body, schema::WriteMode::kCreate, input);
    FuzzNormalize(fx, t, body, schema::WriteMode::kReplace, input);
  }
  return 0;
}
