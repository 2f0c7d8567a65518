// libFuzzer target for the SCIM filter language: parse → bind (against the embedded schemas plus
// the test Widget type) → evaluate over fixed resources → compile to SQL for both dialects; and
// the same for PATCH paths. Beyond "no crash, no sanitizer report" it checks invariants:
//   - a parsed filter prints (Node::ToString) to text that parses back to the same tree;
//   - every error is kInvalidFilter (kInvalidPath for paths outside brackets);
//   - Matches(not F) == !Matches(F);
//   - compiled SQL names its parameters f0..fN, references each of them, and has balanced
//     parentheses outside string literals.
// Build: CC=clang CXX=clang++ cmake -S . -B build-fuzz -DSCIMD_FUZZ=ON -DSCIMD_TESTS=OFF
//        cmake --build build-fuzz --target fuzz_filter
// Run:   build-fuzz/tests/fuzz/fuzz_filter -max_total_time=30 tests/fuzz/corpus/filter

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "filter/widget_schemas.h"
#include "fuzz/fuzz_invariant.h"
#include "scim/common/json.h"
#include "scim/filter/bind.h"
#include "scim/filter/evaluator.h"
#include "scim/filter/parser.h"
#include "store/filter_sql.h"

namespace {

using namespace scim;

using fuzzing::Fail;

const char* kResources[] = {
    R"json({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
      "id": "2819c223-7f76-453a-919d-413861904646", "externalId": "701984",
      "userName": "bjensen@example.com", "displayName": "Babs Jensen", "nickName": "",
      "name": {"familyName": "Jensen", "givenName": "Barbara"}, "title": "Tour Guide",
      "active": true, "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true},
      {"value": "babs@jensen.org", "type": "home"}, {}],
      "groups": [{"value": "e9e30dba", "display": "Tour Guides"}],
      "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "701984",
        "manager": {"value": "26118915"}},
      "meta": {"resourceType": "User", "created": "2010-01-23T04:56:22Z",
               "lastModified": "2011-05-13T04:42:34Z"}})json",
    R"json({"id": "e9e30dba", "displayName": "Tour Guides",
      "members": [{"value": "2819c223-7f76-453a-919d-413861904646", "type": "User"}],
      "meta": {"resourceType": "Group", "created": "2010-01-23T04:56:22Z",
               "lastModified": "2011-05-13T04:42:34Z"}})json",
    R"json({"id": "w1", "code": "AbC", "count": 10, "score": 2.5, "enabled": false,
      "since": "2020-06-01T12:00:00+02:00", "tags": ["Red", ""], "nums": [1, 5],
      "parts": [{"value": "bolt", "kind": "Metal", "weight": 3, "primary": true}],
      "spec": {"size": 1.5},
      "urn:scimd:test:schemas:extension:2.0:Widget": {"level": 4, "owner": {"value": "o1"}},
      "meta": {"resourceType": "Widget", "created": "2020-01-01T00:00:00Z",
               "lastModified": "2020-01-02T00:00:00Z"}})json",
};

struct Fixture {
  std::shared_ptr<const schema::Registry> registry;
  json::Document resources[3];
  json::Document element;
};

const Fixture& GetFixture() {
  static const Fixture* fixture = [] {
    auto* f = new Fixture;
    auto r = testing::LoadWidgetRegistry();
    if (!r.ok()) {
      std::fprintf(stderr, "registry: %s\n", r.error().detail.c_str());
      std::abort();
    }
    f->registry = *r;
    for (int i = 0; i < 3; ++i) {
      if (!json::Parse(kResources[i], f->resources[i]).ok()) std::abort();
    }
    if (!json::Parse(R"({"value": "x@example.com", "type": "work", "primary": true,
                         "kind": "Metal", "weight": 3})",
                     f->element)
             .ok()) {
      std::abort();
    }
    return f;
  }();
  return *fixture;
}

// Parentheses balanced outside '...' literals (SQL-style, no escapes inside).
bool Balanced(const std::string& sql) {
  int depth = 0;
  bool quoted = false;
  for (char c : sql) {
    if (c == '\'') quoted = !quoted;
    if (quoted) continue;
    if (c == '(') ++depth;
    if (c == ')' && --depth < 0) return false;
  }
  return depth == 0 && !quoted;
}

void CheckSql(const filter::BoundFilter& bound, store::Dialect dialect, std::string_view input) {
  auto sql = store::CompileFilter(bound, dialect);
  if (!sql.ok()) {
    if (sql.error().code != ErrorCode::kInvalidFilter)
      Fail("compile error code", input, sql.error().detail);
    return;
  }
  for (size_t i = 0; i < sql->params.size(); ++i) {
    std::string name = "f" + std::to_string(i);
    if (sql->params[i].first != name) Fail("parameter name", input, sql->sql);
    // ":f1" must not be mistaken for a prefix of ":f10": check with a non-digit after it.
    bool found = false;
    for (size_t p = sql->sql.find(":" + name); p != std::string::npos;
         p = sql->sql.find(":" + name, p + 1)) {
      size_t after = p + 1 + name.size();
      if (after >= sql->sql.size() || !std::isdigit(static_cast<unsigned char>(sql->sql[after]))) {
        found = true;
        break;
      }
    }
    if (!found) Fail("unreferenced parameter", input, sql->sql);
  }
  if (!Balanced(sql->sql)) Fail("unbalanced SQL", input, sql->sql);
}

void FuzzFilter(std::string_view input) {
  const Fixture& fx = GetFixture();
  auto parsed = filter::ParseFilter(input);
  if (!parsed.ok()) {
    if (parsed.error().code != ErrorCode::kInvalidFilter) Fail("parse error code", input);
    return;
  }
  std::string printed = parsed->ToString();
  auto reparsed = filter::ParseFilter(printed);
  if (!reparsed.ok())
    Fail("printed filter does not parse", input, printed + "\n" + reparsed.error().detail);
  if (!filter::SameTree(*parsed, *reparsed)) Fail("round trip changed the tree", input, printed);

  const char* types[] = {"User", "Group", "Widget"};
  for (int t = 0; t < 3; ++t) {
    const schema::ResourceType* type = fx.registry->FindResourceType(types[t]);
    auto bound = filter::Bind(*parsed, *fx.registry, *type);
    if (!bound.ok()) {
      if (bound.error().code != ErrorCode::kInvalidFilter)
        Fail("bind error code", input, bound.error().detail);
      continue;
    }
    filter::BoundFilter negated;
    negated.root.kind = filter::BoundNode::Kind::kNot;
    negated.root.children.push_back(bound->root);
    for (const json::Document& resource : fx.resources) {
      if (filter::Matches(*bound, resource) == filter::Matches(negated, resource)) {
        Fail("not does not negate", input, bound->ToString());
      }
    }
    (void)bound->ToString();
    CheckSql(*bound, store::Dialect::kSqlite, input);
    CheckSql(*bound, store::Dialect::kPostgres, input);
  }
}

void FuzzPath(std::string_view input) {
  const Fixture& fx = GetFixture();
  auto parsed = filter::ParsePath(input);
  if (!parsed.ok()) {
    ErrorCode c = parsed.error().code;
    if (c != ErrorCode::kInvalidPath && c != ErrorCode::kInvalidFilter)
      Fail("path error code", input);
    return;
  }
  auto reparsed = filter::ParsePath(parsed->ToString());
  if (!reparsed.ok()) Fail("printed path does not parse", input, parsed->ToString());
  if (reparsed->ToString() != parsed->ToString())
    Fail("path round trip", input, parsed->ToString());
  for (const char* name : {"User", "Group", "Widget"}) {
    auto bound = filter::BindPath(*parsed, *fx.registry, *fx.registry->FindResourceType(name));
    if (!bound.ok()) {
      ErrorCode c = bound.error().code;
      if (c != ErrorCode::kInvalidPath && c != ErrorCode::kInvalidFilter)
        Fail("bind path error code", input);
      continue;
    }
    if (bound->value_filter) (void)filter::MatchesElement(*bound->value_filter, fx.element);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  FuzzFilter(input);
  FuzzPath(input);
  return 0;
}
