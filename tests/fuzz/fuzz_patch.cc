// libFuzzer target for PATCH request bodies (RFC 7644 §3.5.2): json::Parse → patch::ApplyPatch
// against fixed resources (a rich User with the enterprise extension, a plain User, a Group with
// the scimd extension whose MemberLoader returns a few members, and the test-only Widget and
// Device of fuzz_schemas.h for the attribute types and characteristics the embedded schemas
// lack: integers, decimals, dateTimes, immutable and required (sub-)attributes). Beyond "no crash,
// no leak, no sanitizer report" it checks the promises of include/scim/patch/patch.h:
//   - errors are SCIM client errors (invalidSyntax, invalidValue, invalidPath, invalidFilter,
//     noTarget, mutability), never kInternal;
//   - atomicity: on error the resource is byte-for-byte what it was;
//   - on success the result re-validates with NormalizeResource(kReplace, existing = original);
//     `modified` false means the resource did not change; a Group never gets `members` in its
//     JSON and a User never gets a member delta; changed_attributes are distinct canonical names;
//   - MemberDelta: no id both added and removed, `removed` empty when replace_all or remove_all
//     (which are exclusive), `added` ids unique and non-empty; the loader runs at most once.
// Build: CC=clang CXX=clang++ cmake -S . -B build-fuzz -DSCIMD_FUZZ=ON -DSCIMD_TESTS=OFF
//        cmake --build build-fuzz --target fuzz_patch
// Run:   build-fuzz/tests/fuzz/fuzz_patch -max_total_time=30 tests/fuzz/corpus/patch

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_invariant.h"
#include "fuzz/fuzz_schemas.h"
#include "scim/common/json.h"
#include "scim/common/strings.h"
#include "scim/patch/patch.h"
#include "scim/schema/registry.h"
#include "scim/schema/validator.h"

namespace {

using namespace scim;

using fuzzing::Fail;

// Resources as the store hands them to the engine (a Group without `members`).
const char* kRichUser = R"json({
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
              "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
  "id": "2819c223-7f76-453a-919d-413861904646", "externalId": "bjensen",
  "meta": {"resourceType": "User", "created": "2010-01-23T04:56:22.000Z",
           "lastModified": "2011-05-13T04:42:34.000Z", "version": "W/\"3\"",
           "location": "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646"},
  "userName": "bjensen@example.com",
  "name": {"formatted": "Ms. Barbara J Jensen, III", "familyName": "Jensen",
           "givenName": "Barbara", "middleName": "Jane"},
  "displayName": "Babs Jensen", "nickName": "Babs", "title": "Tour Guide",
  "userType": "Employee", "preferredLanguage": "en-US", "locale": "en-US",
  "timezone": "America/Los_Angeles", "active": true,
  "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true},
             {"value": "babs@jensen.org", "type": "home"},
             {"value": "BJensen@Example.com", "type": "other", "display": "old"}],
  "phoneNumbers": [{"value": "555-555-5555", "type": "work"},
                   {"value": "555-555-4444", "type": "mobile", "primary": true}],
  "ims": [{"value": "someaimhandle", "type": "aim"}],
  "photos": [{"value": "https://photos.example.com/profilephoto/72930000000Ccne/F",
              "type": "photo"}],
  "addresses": [
    {"type": "work", "streetAddress": "100 Universal City Plaza", "locality": "Hollywood",
     "region": "CA", "postalCode": "91608", "country": "USA", "primary": true},
    {"type": "home", "streetAddress": "456 Hollywood Blvd", "locality": "Hollywood",
     "region": "CA", "postalCode": "91608", "country": "USA"}],
  "groups": [{"value": "e9e30dba-f08f-4109-8486-d5c6a331660a", "display": "Tour Guides",
              "type": "direct"}],
  "entitlements": [{"value": "license-e3", "type": "license"}],
  "roles": [{"value": "admin", "display": "Administrator", "primary": true},
            {"value": "user"}],
  "x509Certificates": [{"value": "MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAw"}],
  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
    "employeeNumber": "701984", "costCenter": "4130", "organization": "Universal Studios",
    "division": "Theme Park", "department": "Tour Operations",
    "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d", "displayName": "John Smith"}}
})json";

const char* kPlainUser = R"json({
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
  "id": "5b50642d-79fc-4410-9e90-4c077cdd1a59",
  "meta": {"resourceType": "User", "created": "2024-01-01T00:00:00.000Z",
           "lastModified": "2024-01-01T00:00:00.000Z"},
  "userName": "Test_User_dfeef4c5-5681-4387-b016-bdf221e82081", "active": false
})json";

const char* kGroup = R"json({
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group",
              "urn:scimd:params:scim:schemas:extension:2.0:Group"],
  "id": "acbf3ae7-8463-4692-b4fd-9b4da3f908ce", "externalId": "tour-guides",
  "displayName": "Tour Guides",
  "urn:scimd:params:scim:schemas:extension:2.0:Group": {"kind": "store", "location": "Lyon"},
  "meta": {"resourceType": "Group", "created": "2010-01-23T04:56:22.000Z",
           "lastModified": "2011-05-13T04:42:34.000Z"}
})json";

struct Case {
  const schema::ResourceType* type = nullptr;
  json::Document resource;
  std::string text;  // Serialize(resource)
  bool group = false;
};

struct Fixture {
  std::shared_ptr<const schema::Registry> registry;
  Case cases[5];
  std::vector<patch::MemberRef> members;
};

const Fixture& GetFixture() {
  static const Fixture* fixture = [] {
    auto* f = new Fixture;
    f->registry = fuzzing::LoadFuzzRegistry();
    const char* texts[] = {kRichUser, kPlainUser, kGroup, fuzzing::kStoredWidget,
                           fuzzing::kStoredDevice};
    const char* types[] = {"User", "User", "Group", "Widget", "Device"};
    for (int i = 0; i < 5; ++i) {
      Case& c = f->cases[i];
      c.type = f->registry->FindResourceType(types[i]);
      c.group = i == 2;
      if (c.type == nullptr || !json::Parse(texts[i], c.resource).ok()) std::abort();
      c.text = json::Serialize(c.resource);
      // The fixtures themselves must be valid stored resources.
      json::Document check;
      Status s = schema::NormalizeResource(*f->registry, *c.type, c.resource,
                                           schema::WriteMode::kReplace, &c.resource, check);
      if (!s.ok()) {
        std::fprintf(stderr, "fixture %d: %s\n", i, s.error().detail.c_str());
        std::abort();
      }
    }
    f->members = {
        {"2819c223-7f76-453a-919d-413861904646", "User", "Babs Jensen"},
        {"902c246b-6245-4190-8e05-00816be7344a", "Group", ""},
        {"5b50642d-79fc-4410-9e90-4c077cdd1a59", "User", ""},
        {"c3a7e2b0-1f4d-4e8a-9b6c-0d5e7f8a9b1c", "", "Ted"},
    };
    return f;
  }();
  return *fixture;
}

bool AllowedError(ErrorCode c) {
  switch (c) {
    case ErrorCode::kInvalidSyntax:
    case ErrorCode::kInvalidValue:
    case ErrorCode::kInvalidPath:
    case ErrorCode::kInvalidFilter:
    case ErrorCode::kNoTarget:
    case ErrorCode::kMutability:
      return true;
    default:
      return false;
  }
}

void CheckDelta(const patch::MemberDelta& d, bool group, std::string_view input) {
  if (!group) {
    if (!d.empty()) Fail("member delta for a User", input);
    return;
  }
  if (d.replace_all && d.remove_all) Fail("replace_all and remove_all both set", input);
  if ((d.replace_all || d.remove_all) && !d.removed.empty()) {
    Fail("removed not empty with replace_all/remove_all", input);
  }
  std::set<std::string> added;
  for (const patch::MemberRef& m : d.added) {
    if (m.value.empty()) Fail("added member without id", input);
    if (!added.insert(m.value).second) Fail("member added twice", input, m.value);
  }
  std::set<std::string> removed;
  for (const std::string& id : d.removed) {
    if (added.count(id)) Fail("member both added and removed", input, id);
    if (!removed.insert(id).second) Fail("member removed twice", input, id);
  }
}

// `v` without what NormalizeResource leaves out of a stored resource: "schemas" (compared apart),
// id, meta, readOnly attributes and readOnly sub-attributes.
void StripServerOwned(const schema::Registry& registry, const schema::ResourceType& type,
                      json::Value& v) {
  auto strip_subs = [](const schema::Attribute& attr, json::Value& value) {
    auto one = [&](json::Value& object) {
      if (!object.IsObject()) return;
      for (auto it = object.MemberBegin(); it != object.MemberEnd();) {
        const schema::Attribute* sub = attr.FindSub(json::View(it->name));
        if (sub != nullptr && sub->mutability == schema::Mutability::kReadOnly) {
          it = object.EraseMember(it);
        } else {
          ++it;
        }
      }
    };
    if (value.IsArray()) {
      for (json::Value& element : value.GetArray()) one(element);
    } else {
      one(value);
    }
  };
  auto strip_object = [&](const schema::Schema& schema, json::Value& object, bool core) {
    for (auto it = object.MemberBegin(); it != object.MemberEnd();) {
      std::string_view name = json::View(it->name);
      const schema::Attribute* attr = schema.FindAttribute(name);
      if (attr == nullptr && core) attr = schema::FindCommonAttribute(name);
      if (attr != nullptr && attr->mutability == schema::Mutability::kReadOnly) {
        it = object.EraseMember(it);
        continue;
      }
      if (attr != nullptr) strip_subs(*attr, it->value);
      ++it;
    }
  };
  json::RemoveMemberCI(v, "schemas");
  for (const schema::Schema* s : registry.SchemasOf(type)) {
    if (EqualsIgnoreCase(s->id, type.schema)) {
      strip_object(*s, v, true);
    } else if (json::Value* ext = json::FindMemberCI(v, s->id); ext != nullptr && ext->IsObject()) {
      strip_object(*s, *ext, false);
      if (ext->MemberCount() == 0) json::RemoveMemberCI(v, s->id);
    }
  }
}

void CheckOutcome(const Fixture& fx, const Case& c, const patch::PatchOutcome& out,
                  const json::Document& result, std::string_view input) {
  CheckDelta(out.members, c.group, input);
  if (!result.IsObject()) Fail("patched resource is not an object", input);
  if (c.group && json::FindMemberCI(result, "members") != nullptr) {
    Fail("members written into the Group JSON", input, json::Serialize(result));
  }
  std::set<std::string> seen;
  for (const std::string& name : out.changed_attributes) {
    if (!seen.insert(name).second) Fail("changed attribute listed twice", input, name);
    if (name == "members") {
      if (!c.group || out.members.empty()) Fail("\"members\" changed without a delta", input);
      continue;
    }
    auto resolved = fx.registry->ResolvePath(*c.type, name);
    if (!resolved.ok() || resolved->sub_attribute != nullptr || resolved->QualifiedName() != name) {
      Fail("changed attribute is not a canonical top-level name", input, name);
    }
  }
  if (out.modified != !out.changed_attributes.empty()) Fail("modified disagrees", input);
  if (!out.modified && !(result == c.resource)) {
    Fail("unmodified but changed", input, json::Serialize(result));
  }
  // id and meta are the service's.
  auto id = result.FindMember("id");
  auto old_id = c.resource.FindMember("id");
  if (id == result.MemberEnd() || !(id->value == old_id->value)) Fail("id changed", input);
  auto meta = result.FindMember("meta");
  if (meta == result.MemberEnd() || !(meta->value == c.resource["meta"])) {
    Fail("meta changed", input, json::Serialize(result));
  }
  json::Document normalized;
  Status valid = schema::NormalizeResource(*fx.registry, *c.type, result,
                                           schema::WriteMode::kReplace, &c.resource, normalized);
  if (!valid.ok()) {
    Fail("patched resource does not re-validate", input,
         json::Serialize(result) + "\n" + ErrorCodeName(valid.error().code) + ": " +
             valid.error().detail);
  }
  // What PATCH stores is what a PUT of it would store: values in normalized form (canonical
  // names and spellings, booleans as booleans, nothing empty left behind).
  json::Document stripped;
  stripped.CopyFrom(result, stripped.GetAllocator());
  StripServerOwned(*fx.registry, *c.type, stripped);
  json::RemoveMemberCI(normalized, "schemas");
  if (!(stripped == normalized)) {
    Fail("patched resource is not in normalized form", input,
         "patched:    " + json::Serialize(stripped) +
             "\nnormalized: " + json::Serialize(normalized));
  }
}

void FuzzCase(const Fixture& fx, const Case& c, const json::Value& request,
              std::string_view input) {
  json::Document resource;
  resource.CopyFrom(c.resource, resource.GetAllocator());
  int loads = 0;
  patch::MemberLoader loader = [&]() -> Result<std::vector<patch::MemberRef>> {
    ++loads;
    return fx.members;
  };
  auto result = patch::ApplyPatch(*fx.registry, *c.type, request, resource, loader);
  if (loads > 1) Fail("member loader called more than once", input);
  if (!c.group && loads > 0) Fail("member loader called for a User", input);
  if (!result.ok()) {
    if (!AllowedError(result.error().code)) {
      Fail("patch error code", input,
           std::string(ErrorCodeName(result.error().code)) + ": " + result.error().detail);
    }
    if (result.error().detail.empty()) Fail("error without detail", input);
    if (json::Serialize(resource) != c.text) {
      Fail("resource changed by a failed patch", input, json::Serialize(resource));
    }
    return;
  }
  CheckOutcome(fx, c, *result, resource, input);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const Fixture& fx = GetFixture();
  json::Document request;
  if (!json::Parse(input, request).ok()) return 0;
  for (const Case& c : fx.cases) FuzzCase(fx, c, request, input);
  return 0;
}
