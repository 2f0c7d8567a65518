#pragma once
// Shared fixtures for the PATCH engine tests: the embedded schema registry, sample resources and
// small helpers to run a patch and look at the result.

#include <boost/test/unit_test.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "scim/common/json.h"
#include "scim/common/strings.h"
#include "scim/patch/patch.h"
#include "scim/schema/registry.h"
#include "support/test_json.h"

namespace scim::patch::testing {

inline const schema::Registry& Registry() {
  static const std::shared_ptr<const schema::Registry> registry = [] {
    auto loaded = schema::Registry::LoadEmbedded();
    if (!loaded.ok()) {
      BOOST_FAIL("cannot load the embedded schemas: " + loaded.error().detail);
    }
    return *loaded;
  }();
  return *registry;
}

inline const schema::ResourceType& UserType() { return *Registry().FindResourceType("User"); }
inline const schema::ResourceType& GroupType() { return *Registry().FindResourceType("Group"); }

inline constexpr std::string_view kEnterprise =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

inline json::Document Json(std::string_view text) { return scim::testing::ParseJson(text); }

// A User close to RFC 7643 §8.2 (the resource the RFC 7644 §3.5.2 examples patch).
inline json::Document BaseUser() {
  return Json(R"({
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
    "id": "2819c223-7f76-453a-919d-413861904646",
    "externalId": "bjensen",
    "meta": {"resourceType": "User", "created": "2010-01-23T04:56:22.000Z",
             "lastModified": "2011-05-13T04:42:34.000Z",
             "location": "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646"},
    "userName": "bjensen@example.com",
    "name": {"formatted": "Ms. Barbara J Jensen, III", "familyName": "Jensen",
             "givenName": "Barbara"},
    "displayName": "Babs Jensen",
    "active": true,
    "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true},
               {"value": "babs@jensen.org", "type": "home"}],
    "addresses": [
      {"type": "work", "streetAddress": "100 Universal City Plaza", "locality": "Hollywood",
       "region": "CA", "postalCode": "91608", "country": "USA",
       "formatted": "100 Universal City Plaza\nHollywood, CA 91608 USA", "primary": true},
      {"type": "home", "streetAddress": "456 Hollywood Blvd", "locality": "Hollywood",
       "region": "CA", "postalCode": "91608", "country": "USA",
       "formatted": "456 Hollywood Blvd\nHollywood, CA 91608 USA"}],
    "phoneNumbers": [{"value": "555-555-5555", "type": "work"}],
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
      "employeeNumber": "701984", "department": "Tour Operations",
      "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d", "displayName": "John Smith"}}
  })");
}

// A minimal User: no emails, no enterprise extension.
inline json::Document PlainUser() {
  return Json(R"({
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
    "id": "5b50642d-79fc-4410-9e90-4c077cdd1a59",
    "meta": {"resourceType": "User", "created": "2024-01-01T00:00:00.000Z",
             "lastModified": "2024-01-01T00:00:00.000Z"},
    "userName": "Test_User_dfeef4c5-5681-4387-b016-bdf221e82081",
    "active": true
  })");
}

// A Group as the engine sees it: without `members`.
inline json::Document BaseGroup() {
  return Json(R"({
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
    "id": "acbf3ae7-8463-4692-b4fd-9b4da3f908ce",
    "displayName": "Tour Guides",
    "meta": {"resourceType": "Group", "created": "2010-01-23T04:56:22.000Z",
             "lastModified": "2011-05-13T04:42:34.000Z"}
  })");
}

// Runs a patch; `loads` counts calls of the member loader, which returns `members`.
struct Run {
  std::vector<MemberRef> members;
  int loads = 0;

  Result<PatchOutcome> operator()(const schema::ResourceType& type, std::string_view request,
                                  json::Document& resource) {
    json::Document body = Json(request);
    MemberLoader loader = [this]() -> Result<std::vector<MemberRef>> {
      ++loads;
      return members;
    };
    return ApplyPatch(Registry(), type, body, resource, loader);
  }
};

inline Result<PatchOutcome> Patch(const schema::ResourceType& type, std::string_view request,
                                  json::Document& resource) {
  Run run;
  return run(type, request, resource);
}

// Fails the test with the error when `r` is not ok.
inline PatchOutcome Ok(const Result<PatchOutcome>& r) {
  if (!r.ok()) {
    BOOST_FAIL(std::string("patch failed: ") + ErrorCodeName(r.error().code) + ": " +
               r.error().detail);
  }
  return *r;
}

// The error code of a failed patch; kInternal (and a test error) when it succeeded.
inline ErrorCode CodeOf(const Result<PatchOutcome>& r) {
  if (r.ok()) {
    BOOST_ERROR("patch succeeded but an error was expected");
    return ErrorCode::kInternal;
  }
  return r.error().code;
}

// Member lookup by exact name (the engine writes canonical names).
inline const json::Value* Get(const json::Value& object, std::string_view name) {
  if (!object.IsObject()) return nullptr;
  auto it = object.FindMember(
      rapidjson::Value(name.data(), static_cast<rapidjson::SizeType>(name.size())));
  return it == object.MemberEnd() ? nullptr : &it->value;
}

inline std::string Str(const json::Value& object, std::string_view name) {
  const json::Value* v = Get(object, name);
  if (v == nullptr || !v->IsString()) return "<absent>";
  return std::string(json::View(*v));
}

// Whether `actual` equals the JSON text `expected` (object member order ignored).
inline bool JsonEquals(const json::Value& actual, std::string_view expected) {
  json::Document e = Json(expected);
  return actual == static_cast<const json::Value&>(e);
}

#define SCIM_CHECK_JSON(actual, expected)                                       \
  BOOST_CHECK_MESSAGE(::scim::patch::testing::JsonEquals((actual), (expected)), \
                      "got " << ::scim::json::Serialize(actual) << "\nwant " << (expected))

// The ids of a member list.
inline std::vector<std::string> Ids(const std::vector<MemberRef>& refs) {
  std::vector<std::string> out;
  for (const auto& r : refs) out.push_back(r.value);
  return out;
}

inline bool Contains(const std::vector<std::string>& list, std::string_view item) {
  for (const auto& s : list) {
    if (s == item) return true;
  }
  return false;
}

}  // namespace scim::patch::testing
