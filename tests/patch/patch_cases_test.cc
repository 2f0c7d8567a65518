// The PATCH cases of tests/cases/patch/*.json (RFC 7644 §3.5.2 examples, Entra and Okta requests)
// run against the engine. conformance/patch_cases.py runs the same files against the server;
// tests/cases/patch/README.md describes the format. Per case: the resource named by "initial"
// (fixtures.json) or given inline, the Group's members (fed to the member loader), then each step's
// request and what it must leave: status/scimType, attributes, absent attributes, the resulting
// member list (the engine's delta applied to the members before), whether the resource was
// modified, and engine-only details ("engine": delta, changed attributes, member loads).

#include <algorithm>
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "patch/patch_test_util.h"

namespace scim::patch::testing {
namespace {

constexpr std::string_view kCaseDir = SCIMD_SOURCE_DIR "/tests/cases/patch/";

struct PatchCase {
  std::string file;
  std::string name;
  std::string text;  // the case, serialized; empty when the file could not be read
  std::string load_error;
};

std::ostream& operator<<(std::ostream& os, const PatchCase& c) {
  return os << c.file << ":" << c.name;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<PatchCase> LoadCases() {
  std::vector<PatchCase> cases;
  for (const char* file : {"rfc7644.json", "entra.json", "okta.json"}) {
    json::Document doc;
    Status parsed = json::Parse(ReadFile(std::string(kCaseDir) + file), doc);
    if (!parsed.ok() || !doc.IsObject() || !doc.HasMember("cases") || !doc["cases"].IsArray()) {
      cases.push_back(
          {file, "<file>", "", parsed.ok() ? "no \"cases\" array" : parsed.error().detail});
      continue;
    }
    for (const auto& c : doc["cases"].GetArray()) {
      std::string name = c.HasMember("name") ? std::string(json::View(c["name"])) : "<unnamed>";
      cases.push_back({file, name, json::Serialize(c), ""});
    }
  }
  return cases;
}

const std::vector<PatchCase>& Cases() {
  static const std::vector<PatchCase> cases = LoadCases();
  return cases;
}

const json::Document& Fixtures() {
  static const json::Document fixtures = [] {
    json::Document doc;
    Status parsed = json::Parse(ReadFile(std::string(kCaseDir) + "fixtures.json"), doc);
    if (!parsed.ok()) BOOST_FAIL("fixtures.json: " + parsed.error().detail);
    return doc;
  }();
  return fixtures;
}

// Replaces each ${name} by the fixture id of that name (${self}: the patched resource's id).
std::string Substitute(std::string text, const std::string& self_id) {
  const json::Value& ids = Fixtures()["ids"];
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t start = text.find("${", pos);
    if (start == std::string::npos) break;
    size_t end = text.find('}', start);
    BOOST_REQUIRE(end != std::string::npos);
    std::string name = text.substr(start + 2, end - start - 2);
    out.append(text, pos, start - pos);
    if (name == "self") {
      out += self_id;
    } else {
      BOOST_REQUIRE_MESSAGE(ids.HasMember(name.c_str()), "fixtures.json has no id " + name);
      out += json::View(ids[name.c_str()]);
    }
    pos = end + 1;
  }
  out.append(text, pos, std::string::npos);
  return out;
}

// Status and scimType of an engine error, as src/http's table maps them (RFC 7644 §3.12).
int StatusOf(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUniqueness:
    case ErrorCode::kConflict:
      return 409;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kInternal:
      return 500;
    default:
      return 400;
  }
}

bool HasScimType(ErrorCode code) {
  return code <= ErrorCode::kInvalidCursor;  // the scimType values come first in ErrorCode
}

std::vector<std::string> Strings(const json::Value& array) {
  std::vector<std::string> out;
  for (const auto& v : array.GetArray()) out.emplace_back(json::View(v));
  return out;
}

// The member list after `delta`, as the store applies it (patch.h: MemberDelta).
std::vector<std::string> Apply(std::vector<std::string> members, const MemberDelta& delta) {
  if (delta.replace_all || delta.remove_all) {
    members.clear();
  } else {
    for (const auto& id : delta.removed) std::erase(members, id);
  }
  for (const auto& ref : delta.added) {
    if (!Contains(members, ref.value)) members.push_back(ref.value);
  }
  return members;
}

void CheckEngine(const json::Value& engine, const PatchOutcome& out, const Run& run) {
  if (engine.HasMember("changed")) {
    for (const auto& name : Strings(engine["changed"])) {
      BOOST_CHECK_MESSAGE(Contains(out.changed_attributes, name), "changed: " << name);
    }
  }
  if (engine.HasMember("notChanged")) {
    for (const auto& name : Strings(engine["notChanged"])) {
      BOOST_CHECK_MESSAGE(!Contains(out.changed_attributes, name), "not changed: " << name);
    }
  }
  if (engine.HasMember("changedExactly")) {
    BOOST_CHECK(out.changed_attributes == Strings(engine["changedExactly"]));
  }
  if (engine.HasMember("loads")) BOOST_CHECK_EQUAL(run.loads, engine["loads"].GetInt());
  if (engine.HasMember("replaceAll")) {
    BOOST_CHECK_EQUAL(out.members.replace_all, engine["replaceAll"].GetBool());
  }
  if (engine.HasMember("removeAll")) {
    BOOST_CHECK_EQUAL(out.members.remove_all, engine["removeAll"].GetBool());
  }
  if (engine.HasMember("removed")) BOOST_CHECK(out.members.removed == Strings(engine["removed"]));
  if (engine.HasMember("added")) {
    const json::Value& added = engine["added"];
    BOOST_REQUIRE_EQUAL(out.members.added.size(), added.Size());
    for (rapidjson::SizeType i = 0; i < added.Size(); ++i) {
      const MemberRef& got = out.members.added[i];
      BOOST_CHECK_EQUAL(got.value, Str(added[i], "value"));
      if (added[i].HasMember("display")) BOOST_CHECK_EQUAL(got.display, Str(added[i], "display"));
      if (added[i].HasMember("type")) BOOST_CHECK_EQUAL(got.type, Str(added[i], "type"));
    }
  }
}

void RunCase(const PatchCase& c) {
  BOOST_REQUIRE_MESSAGE(c.load_error.empty(), c.file + ": " + c.load_error);
  json::Document raw = Json(c.text);

  // The resource: a fixture by name, or inline.
  json::Document resource;
  const json::Value& initial = raw["initial"];
  if (initial.IsString()) {
    const json::Value& resources = Fixtures()["resources"];
    std::string name(json::View(initial));
    BOOST_REQUIRE_MESSAGE(resources.HasMember(name.c_str()), "no fixture " + name);
    resource.CopyFrom(resources[name.c_str()], resource.GetAllocator());
  } else {
    resource.CopyFrom(initial, resource.GetAllocator());
  }
  resource.RemoveMember("comment");
  const std::string self_id = Str(resource, "id");
  const bool is_group =
      Contains(Strings(resource["schemas"]), "urn:ietf:params:scim:schemas:core:2.0:Group");
  const schema::ResourceType& type = is_group ? GroupType() : UserType();
  {
    json::Value meta(rapidjson::kObjectType);
    auto& a = resource.GetAllocator();
    meta.AddMember("resourceType", json::String(is_group ? "Group" : "User", a), a);
    meta.AddMember("created", json::String("2024-01-01T00:00:00.000Z", a), a);
    meta.AddMember("lastModified", json::String("2024-01-01T00:00:00.000Z", a), a);
    resource.AddMember("meta", meta, a);
  }

  json::Document spec = Json(Substitute(c.text, self_id));
  std::vector<std::string> members;
  if (spec.HasMember("members")) members = Strings(spec["members"]);

  std::vector<const json::Value*> steps;
  if (spec.HasMember("steps")) {
    for (const auto& s : spec["steps"].GetArray()) steps.push_back(&s);
  } else {
    steps.push_back(&spec);
  }
  int number = 0;
  for (const json::Value* step : steps) {
    BOOST_TEST_CONTEXT("step " << ++number) {
      const json::Value& expect = (*step)["expect"];
      json::Document before;
      before.CopyFrom(resource, before.GetAllocator());
      Run run;
      for (const auto& id : members) run.members.push_back(MemberRef{id, "User", ""});
      auto r = run(type, json::Serialize((*step)["request"]), resource);
      const int status = expect["status"].GetInt();
      if (status >= 300) {
        BOOST_REQUIRE_MESSAGE(!r.ok(), "patch succeeded, expected " << status);
        BOOST_CHECK_EQUAL(StatusOf(r.error().code), status);
        if (expect.HasMember("scimType")) {
          BOOST_CHECK(HasScimType(r.error().code));
          BOOST_CHECK_EQUAL(ErrorCodeName(r.error().code), Str(expect, "scimType"));
        }
        BOOST_CHECK_MESSAGE(resource == static_cast<const json::Value&>(before),
                            "a failed patch changed the resource");
      } else {
        const PatchOutcome& out = Ok(r);
        if (expect.HasMember("modified")) {
          BOOST_CHECK_EQUAL(out.modified, expect["modified"].GetBool());
          if (!expect["modified"].GetBool()) {
            BOOST_CHECK(resource == static_cast<const json::Value&>(before));
          }
        }
        members = Apply(members, out.members);
        // Membership comes out as a delta, never in the resource.
        if (is_group) BOOST_CHECK(Get(resource, "members") == nullptr);
        if (expect.HasMember("engine")) CheckEngine(expect["engine"], out, run);
      }
      if (expect.HasMember("attributes")) {
        for (const auto& m : expect["attributes"].GetObject()) {
          std::string name(json::View(m.name));
          const json::Value* got = Get(resource, name);
          BOOST_CHECK_MESSAGE(got != nullptr && *got == m.value,
                              name << ": got " << (got ? json::Serialize(*got) : "<absent>")
                                   << ", want " << json::Serialize(m.value));
        }
      }
      if (expect.HasMember("absent")) {
        for (const auto& name : Strings(expect["absent"])) {
          BOOST_CHECK_MESSAGE(Get(resource, name) == nullptr, name << " is present");
        }
      }
      if (expect.HasMember("members")) {
        std::vector<std::string> want = Strings(expect["members"]);
        std::vector<std::string> got = members;
        std::sort(want.begin(), want.end());
        std::sort(got.begin(), got.end());
        BOOST_CHECK_EQUAL_COLLECTIONS(got.begin(), got.end(), want.begin(), want.end());
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE(patch_cases)

BOOST_AUTO_TEST_CASE(every_file_has_cases) {
  for (const char* file : {"rfc7644.json", "entra.json", "okta.json"}) {
    size_t n = std::count_if(Cases().begin(), Cases().end(), [&](const PatchCase& c) {
      return c.file == file && c.load_error.empty();
    });
    BOOST_CHECK_MESSAGE(n >= 5, file << " has " << n << " cases");
  }
}

BOOST_DATA_TEST_CASE(engine, boost::unit_test::data::make(Cases()), patch_case) {
  RunCase(patch_case);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::patch::testing
