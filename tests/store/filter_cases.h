#pragma once
// Differential testing of the filter→SQL compiler against the in-memory evaluator, reusable for
// any database SOCI reaches (SQLite in tests/store/filter_sql_test.cc; PostgreSQL through
// RunFilterDifferential with a PostgreSQL session).
//
//   1. GenerateDataset: deterministic resources (Users, Groups with members, test Widgets of
//      tests/filter/test_registry.h) whose values collide on purpose: case variants, LIKE and
//      GLOB metacharacters, quotes, backslashes, non-ASCII, empty strings, values longer than
//      kMaxIndexedValueBytes, dateTimes with offsets, empty elements.
//   2. IndexDataset: a test-local indexer that writes the rows the compiler expects (layout of
//      src/store/filter_sql.h), independently of src/store/resource_rows.cc.
//   3. GenerateFilters: random filters over every filterable attribute of each resource type.
//   4. RunFilterDifferential: for each filter, the ids the SQL returns must equal the ids for
//      which filter::Matches is true; sort keys are checked against an in-memory sort.

#include <soci/soci.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "filter/test_registry.h"
#include "scim/common/clock.h"
#include "scim/common/json.h"
#include "scim/common/strings.h"
#include "scim/common/utf8.h"
#include "scim/filter/ast.h"
#include "scim/filter/bind.h"
#include "scim/filter/evaluator.h"
#include "store/filter_sql.h"

namespace scim::testing {

inline constexpr const char* kEnterprise =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
inline constexpr const char* kScimdGroup = "urn:scimd:params:scim:schemas:extension:2.0:Group";

// ---------------------------------------------------------------------------------------------
// Random helpers

class Rng {
 public:
  explicit Rng(uint32_t seed) : gen_(seed) {}
  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(gen_) < p; }
  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(gen_); }
  template <class T>
  const T& Pick(const std::vector<T>& v) {
    return v[static_cast<size_t>(Int(0, static_cast<int>(v.size()) - 1))];
  }

 private:
  std::mt19937 gen_;
};

// Strings that stress the SQL: case variants, wildcards of LIKE/GLOB, quotes, backslashes,
// non-ASCII, empty, and values longer than the indexed prefix of attr_values.value_lc.
inline const std::vector<std::string>& Words() {
  static const std::vector<std::string> words = [] {
    std::vector<std::string> w = {"alpha",
                                  "Alpha",
                                  "ALPHA",
                                  "alp",
                                  "alphabet",
                                  "beta",
                                  "b%ta",
                                  "b_ta",
                                  "bXta",
                                  "b\\ta",
                                  "x\\y",
                                  "it's",
                                  "O'Malley",
                                  "o'malley",
                                  "",
                                  " ",
                                  "a b",
                                  "日本語",
                                  "日本",
                                  "élan",
                                  "Élan",
                                  "ÉLAN",
                                  "zoë",
                                  "z",
                                  "zz",
                                  "😀 smile",
                                  "[x]",
                                  "*star?",
                                  "100%",
                                  "50_50",
                                  "work",
                                  "home",
                                  "Work",
                                  "other",
                                  "mobile",
                                  "x@example.com",
                                  "X@Example.COM",
                                  "y@example.org",
                                  "Tour Guide",
                                  "tour guide",
                                  "Employee",
                                  "Intern",
                                  "\"quoted\"",
                                  "tab\there",
                                  "a]b",
                                  "~~"};
    // Unicode case folding (scim::FoldCase: full folding of the NFC form).
    for (const char* u :
         {"JÜRGEN", "jürgen", "ju\xCC\x88rgen" /* u + U+0308 */, "e\xCC\x81lan" /* e + U+0301 */,
          "Straße", "STRASSE", "ΣΊΣΥΦΟΣ", "σίσυφος", "ς", "İstanbul", "ıstanbul", "istanbul"}) {
      w.push_back(u);
    }
    std::string long_base(1100, 'a');
    w.push_back(long_base + "END");
    w.push_back(long_base + "end");
    w.push_back(long_base + "Mid" + long_base);
    w.push_back(std::string(997, 'a') + "ééé" + "tail");  // a UTF-8 sequence at the cut
    w.push_back(std::string(998, 'q'));                   // just under the indexed length
    return w;
  }();
  return words;
}

inline const std::vector<std::string>& Types() {
  static const std::vector<std::string> v = {"work", "home", "Work", "other", "WORK", ""};
  return v;
}

// Instants in canonical form, and other spellings of the same instants.
inline const std::vector<std::string>& Instants() {
  static const std::vector<std::string> v = {"2020-01-01T00:00:00.000Z", "2020-01-01T00:00:00.001Z",
                                             "2020-01-01T10:30:00.000Z", "2020-06-15T12:00:00.500Z",
                                             "2021-03-01T23:59:59.999Z", "2019-12-31T23:59:59.000Z",
                                             "1999-01-01T00:00:00.000Z"};
  return v;
}

inline std::string TimeSpelling(Rng& rng, const std::string& canonical) {
  switch (rng.Int(0, 3)) {
    case 0:
      return canonical;
    case 1:
      return canonical.substr(19) == ".000Z" ? canonical.substr(0, 19) + "Z" : canonical;
    case 2: {
      // The same instant two hours east: hh+2 (all our instants allow it except late ones).
      int hh = std::stoi(canonical.substr(11, 2));
      if (hh > 21) return canonical;
      char buf[64];
      std::snprintf(buf, sizeof buf, "%s%02d%s+02:00", canonical.substr(0, 11).c_str(), hh + 2,
                    canonical.substr(13, 10).c_str());
      return buf;
    }
    default:
      return canonical.substr(0, 10) + "t" + canonical.substr(11);
  }
}

inline std::string CaseVariant(Rng& rng, std::string s) {
  int mode = rng.Int(0, 3);
  for (char& c : s) {
    bool up = mode == 1 || (mode == 3 && rng.Chance(0.5));
    bool down = mode == 2 || (mode == 3 && !up);
    if (up && c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
    if (down && c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return s;
}

// A substring of `s` for co/sw/ew literals (falls back to `s` when the cut splits UTF-8).
inline std::string Piece(Rng& rng, const std::string& s, filter::CompareOp op) {
  if (s.empty()) return s;
  size_t n = s.size();
  size_t a = 0, b = n;
  if (op == filter::CompareOp::kSw)
    b = static_cast<size_t>(rng.Int(0, static_cast<int>(n)));
  else if (op == filter::CompareOp::kEw)
    a = static_cast<size_t>(rng.Int(0, static_cast<int>(n)));
  else {
    a = static_cast<size_t>(rng.Int(0, static_cast<int>(n)));
    b = static_cast<size_t>(rng.Int(static_cast<int>(a), static_cast<int>(n)));
  }
  std::string piece = s.substr(a, b - a);
  if (FindInvalidUtf8(piece) != std::string::npos) return s;
  return piece;
}

inline std::string JsonQuote(const std::string& s) {
  filter::Literal lit;
  lit.kind = filter::Literal::Kind::kString;
  lit.text = s;
  return lit.ToJson();
}

inline std::string IdOf(char kind, int i) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%c%07x-aaaa-4bbb-8ccc-%012d", kind, i * 2654435761u % 0xfffffff,
                i);
  return buf;
}

// ---------------------------------------------------------------------------------------------
// Dataset

struct TestResource {
  std::string type;  // "User" | "Group" | "Widget"
  std::string id;
  std::shared_ptr<json::Document> doc;  // the full resource, as the service returns it
};

struct Membership {
  std::string group_id;
  std::string member_id;
  std::string member_type;
};

struct Dataset {
  std::string tenant;
  std::vector<TestResource> resources;
  std::vector<Membership> memberships;
};

class DocBuilder {
 public:
  DocBuilder() : doc_(std::make_shared<json::Document>()) { doc_->SetObject(); }
  json::Allocator& a() { return doc_->GetAllocator(); }
  json::Value Str(const std::string& s) { return json::String(s, a()); }
  void Set(json::Value& obj, const std::string& key, json::Value v) {
    obj.AddMember(Str(key), v, a());
  }
  void Set(const std::string& key, json::Value v) { Set(*doc_, key, std::move(v)); }
  std::shared_ptr<json::Document> doc() { return doc_; }

 private:
  std::shared_ptr<json::Document> doc_;
};

inline void AddMeta(Rng& rng, DocBuilder& b, const std::string& type) {
  json::Value meta(rapidjson::kObjectType);
  b.Set(meta, "resourceType", b.Str(type));
  b.Set(meta, "created", b.Str(TimeSpelling(rng, rng.Pick(Instants()))));
  b.Set(meta, "lastModified", b.Str(TimeSpelling(rng, rng.Pick(Instants()))));
  b.Set("meta", std::move(meta));
}

inline void MaybeString(Rng& rng, DocBuilder& b, json::Value& obj, const std::string& key, double p,
                        const std::vector<std::string>& pool = Words()) {
  if (!rng.Chance(p)) return;
  if (rng.Chance(0.05)) {
    b.Set(obj, key, json::Value(rapidjson::kNullType));
    return;
  }
  b.Set(obj, key, b.Str(CaseVariant(rng, rng.Pick(pool))));
}

inline json::Value MultiComplex(Rng& rng, DocBuilder& b, int max, bool with_primary) {
  json::Value arr(rapidjson::kArrayType);
  int n = rng.Int(0, max);
  bool primary_given = false;
  for (int k = 0; k < n; ++k) {
    json::Value e(rapidjson::kObjectType);
    if (!rng.Chance(0.08)) {  // sometimes an empty element
      MaybeString(rng, b, e, "value", 0.85);
      MaybeString(rng, b, e, "type", 0.7, Types());
      if (with_primary && rng.Chance(0.4)) {
        bool p = !primary_given && rng.Chance(0.6);
        primary_given = primary_given || p;
        b.Set(e, "primary", json::Value(p));
      }
    }
    arr.PushBack(e, b.a());
  }
  return arr;
}

inline Dataset GenerateDataset(const std::string& tenant, uint32_t seed, int users, int groups,
                               int widgets) {
  Rng rng(seed);
  Dataset ds;
  ds.tenant = tenant;
  std::vector<std::string> user_ids, group_ids;
  for (int i = 0; i < users; ++i) user_ids.push_back(IdOf('a', i));
  for (int i = 0; i < groups; ++i) group_ids.push_back(IdOf('b', i));

  // Groups first: memberships decide the users' `groups`.
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> groups_of_user;
  for (int i = 0; i < groups; ++i) {
    DocBuilder b;
    const std::string& id = group_ids[static_cast<size_t>(i)];
    b.Set("id", b.Str(id));
    b.Set("displayName", b.Str(CaseVariant(rng, rng.Pick(Words()))));
    if (rng.Chance(0.5)) b.Set("externalId", b.Str(CaseVariant(rng, rng.Pick(Words()))));
    json::Value members(rapidjson::kArrayType);
    int n = rng.Int(0, 6);
    std::set<std::string> seen;
    for (int k = 0; k < n; ++k) {
      bool group_member = rng.Chance(0.2) && i > 0;
      std::string member =
          group_member ? group_ids[static_cast<size_t>(rng.Int(0, i - 1))] : rng.Pick(user_ids);
      if (!seen.insert(member).second) continue;
      std::string mtype = group_member ? "Group" : "User";
      json::Value m(rapidjson::kObjectType);
      b.Set(m, "value", b.Str(member));
      b.Set(m, "type", b.Str(mtype));
      b.Set(m, "display", b.Str("someone"));
      members.PushBack(m, b.a());
      ds.memberships.push_back({id, member, mtype});
      if (!group_member) groups_of_user[member].emplace_back(id, "g");
    }
    if (!members.Empty() || rng.Chance(0.5)) b.Set("members", std::move(members));
    if (rng.Chance(0.5)) {
      json::Value ext(rapidjson::kObjectType);
      MaybeString(rng, b, ext, "kind", 0.8, {"organization", "store", "Store"});
      MaybeString(rng, b, ext, "location", 0.5);
      b.Set(kScimdGroup, std::move(ext));
    }
    AddMeta(rng, b, "Group");
    ds.resources.push_back({"Group", id, b.doc()});
  }

  for (int i = 0; i < users; ++i) {
    DocBuilder b;
    const std::string& id = user_ids[static_cast<size_t>(i)];
    b.Set("id", b.Str(id));
    // userName is unique per tenant, case-insensitively.
    std::string base = rng.Pick(Words());
    if (base.size() > 200) base = base.substr(0, 200);
    b.Set("userName", b.Str(CaseVariant(rng, base + "#" + std::to_string(i))));
    MaybeString(rng, b, *b.doc(), "displayName", 0.7);
    MaybeString(rng, b, *b.doc(), "externalId", 0.6);
    MaybeString(rng, b, *b.doc(), "title", 0.5);
    MaybeString(rng, b, *b.doc(), "userType", 0.5, {"Employee", "employee", "Intern", ""});
    MaybeString(rng, b, *b.doc(), "nickName", 0.3);
    if (rng.Chance(0.8)) b.Set("active", json::Value(rng.Chance(0.6)));
    if (rng.Chance(0.7)) {
      json::Value name(rapidjson::kObjectType);
      MaybeString(rng, b, name, "givenName", 0.7);
      MaybeString(rng, b, name, "familyName", 0.7);
      b.Set("name", std::move(name));
    }
    if (rng.Chance(0.8)) b.Set("emails", MultiComplex(rng, b, 3, true));
    if (rng.Chance(0.4)) b.Set("phoneNumbers", MultiComplex(rng, b, 2, false));
    auto it = groups_of_user.find(id);
    if (it != groups_of_user.end()) {
      json::Value gs(rapidjson::kArrayType);
      for (const auto& [gid, _] : it->second) {
        json::Value g(rapidjson::kObjectType);
        b.Set(g, "value", b.Str(gid));
        b.Set(g, "display", b.Str("group"));
        gs.PushBack(g, b.a());
      }
      b.Set("groups", std::move(gs));
    }
    if (rng.Chance(0.6)) {
      json::Value ext(rapidjson::kObjectType);
      MaybeString(rng, b, ext, "employeeNumber", 0.7);
      MaybeString(rng, b, ext, "department", 0.5);
      if (rng.Chance(0.6)) {
        json::Value mgr(rapidjson::kObjectType);
        std::string who = rng.Chance(0.7) ? rng.Pick(user_ids) : rng.Pick(Words());
        b.Set(mgr, "value", b.Str(rng.Chance(0.3) ? CaseVariant(rng, who) : who));
        MaybeString(rng, b, mgr, "displayName", 0.5);
        b.Set(ext, "manager", std::move(mgr));
      }
      b.Set(kEnterprise, std::move(ext));
    }
    AddMeta(rng, b, "User");
    ds.resources.push_back({"User", id, b.doc()});
  }

  for (int i = 0; i < widgets; ++i) {
    DocBuilder b;
    std::string id = IdOf('c', i);
    b.Set("id", b.Str(id));
    MaybeString(rng, b, *b.doc(), "displayName", 0.5);
    MaybeString(rng, b, *b.doc(), "label", 0.7);
    MaybeString(rng, b, *b.doc(), "code", 0.7);
    if (rng.Chance(0.8)) b.Set("count", json::Value(rng.Int(-5, 20)));
    if (rng.Chance(0.7)) b.Set("score", json::Value(rng.Int(-40, 40) / 4.0));
    if (rng.Chance(0.7)) b.Set("enabled", json::Value(rng.Chance(0.5)));
    if (rng.Chance(0.7)) b.Set("since", b.Str(TimeSpelling(rng, rng.Pick(Instants()))));
    MaybeString(rng, b, *b.doc(), "blob", 0.3, {"AAEC", "aaec", "ZZZ="});
    MaybeString(rng, b, *b.doc(), "link", 0.4,
                {"https://example.com/a", "HTTPS://EXAMPLE.COM/b", "urn:x:y"});
    if (rng.Chance(0.7)) {
      json::Value tags(rapidjson::kArrayType);
      for (int k = rng.Int(0, 4); k > 0; --k)
        tags.PushBack(b.Str(CaseVariant(rng, rng.Pick(Words()))), b.a());
      b.Set("tags", std::move(tags));
    }
    if (rng.Chance(0.6)) {
      json::Value nums(rapidjson::kArrayType);
      for (int k = rng.Int(0, 3); k > 0; --k) nums.PushBack(json::Value(rng.Int(-3, 12)), b.a());
      b.Set("nums", std::move(nums));
    }
    if (rng.Chance(0.8)) {
      json::Value parts(rapidjson::kArrayType);
      bool primary_given = false;
      for (int k = rng.Int(0, 3); k > 0; --k) {
        json::Value p(rapidjson::kObjectType);
        if (!rng.Chance(0.08)) {
          MaybeString(rng, b, p, "value", 0.8);
          MaybeString(rng, b, p, "kind", 0.7, {"Metal", "metal", "wood", "WOOD", "b%ta"});
          if (rng.Chance(0.7)) b.Set(p, "weight", json::Value(rng.Int(0, 10)));
          if (rng.Chance(0.5)) b.Set(p, "at", b.Str(TimeSpelling(rng, rng.Pick(Instants()))));
          if (rng.Chance(0.5)) {
            bool pr = !primary_given && rng.Chance(0.5);
            primary_given = primary_given || pr;
            b.Set(p, "primary", json::Value(pr));
          }
        }
        parts.PushBack(p, b.a());
      }
      b.Set("parts", std::move(parts));
    }
    if (rng.Chance(0.6)) {
      json::Value spec(rapidjson::kObjectType);
      if (rng.Chance(0.7)) spec.AddMember("size", json::Value(rng.Int(0, 8) / 2.0), b.a());
      MaybeString(rng, b, spec, "label", 0.5);
      b.Set("spec", std::move(spec));
    }
    if (rng.Chance(0.6)) {
      json::Value ext(rapidjson::kObjectType);
      if (rng.Chance(0.7)) ext.AddMember("level", json::Value(rng.Int(0, 5)), b.a());
      if (rng.Chance(0.6)) {
        json::Value owner(rapidjson::kObjectType);
        MaybeString(rng, b, owner, "value", 0.8);
        MaybeString(rng, b, owner, "display", 0.5);
        b.Set(ext, "owner", std::move(owner));
      }
      b.Set(kWidgetExtSchema, std::move(ext));
    }
    AddMeta(rng, b, "Widget");
    ds.resources.push_back({"Widget", id, b.doc()});
  }
  return ds;
}

// ---------------------------------------------------------------------------------------------
// Test-local indexer (the storage contract of src/store/filter_sql.h)

struct ResourceRow {
  std::string id, type;
  std::optional<std::string> user_name, external_id, display_name;
  std::optional<int> active;
  std::string created, last_modified;
};

struct AttrRow {
  std::string resource_id, type, path;
  int ord = 0;
  std::string value, value_lc;
  std::optional<std::string> value_lc_full;
  std::optional<double> num;
};

inline bool OwnStorage(const std::string& name) {
  for (const char* n : {"id", "externalId", "userName", "displayName", "active", "meta", "members",
                        "groups", "password", "schemas"}) {
    if (EqualsIgnoreCase(name, n)) return true;
  }
  return false;
}

inline void IndexScalar(const schema::Attribute& attr, const json::Value& v, const TestResource& r,
                        const std::string& path, int ord, std::vector<AttrRow>& rows) {
  AttrRow row{r.id, r.type, path, ord, "", "", std::nullopt, std::nullopt};
  if (v.IsString()) {
    row.value = std::string(json::View(v));
    if (attr.type == schema::AttributeType::kDateTime) {
      if (auto canonical = NormalizeTimestamp(row.value)) row.value = *canonical;
    }
  } else if (v.IsBool()) {
    row.value = v.GetBool() ? "true" : "false";
  } else if (v.IsNumber()) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", v.GetDouble());
    row.value = buf;
    row.num = v.GetDouble();
  } else {
    return;
  }
  store::IndexedFold fold = store::IndexedValueFold(row.value);
  row.value_lc = fold.lc;
  row.value_lc_full = fold.full;
  rows.push_back(std::move(row));
}

inline void IndexValues(const schema::Attribute& attr, const json::Value& v, const TestResource& r,
                        const std::string& path, int ord, std::vector<AttrRow>& rows) {
  if (v.IsArray()) {
    for (const auto& item : v.GetArray()) IndexScalar(attr, item, r, path, ord, rows);
  } else {
    IndexScalar(attr, v, r, path, ord, rows);
  }
}

inline void IndexAttribute(const schema::Attribute& attr, const json::Value& v,
                           const TestResource& r, const std::string& path,
                           std::vector<AttrRow>& rows) {
  auto element = [&](const json::Value& e, int ord) {
    if (!e.IsObject()) return;
    for (const schema::Attribute& sub : attr.sub_attributes) {
      const json::Value* sv = json::FindMemberCI(e, sub.name);
      if (sv != nullptr) IndexValues(sub, *sv, r, path + "." + ToLower(sub.name), ord, rows);
    }
  };
  if (attr.type == schema::AttributeType::kComplex) {
    if (v.IsArray()) {
      int ord = 0;
      for (const auto& e : v.GetArray()) element(e, ord++);
    } else {
      element(v, 0);
    }
  } else if (attr.multi_valued && v.IsArray()) {
    int ord = 0;
    for (const auto& item : v.GetArray()) IndexScalar(attr, item, r, path, ord++, rows);
  } else {
    IndexScalar(attr, v, r, path, 0, rows);
  }
}

inline std::optional<std::string> StringAt(const json::Value& obj, const char* key) {
  const json::Value* v = json::FindMemberCI(obj, key);
  if (v == nullptr || !v->IsString()) return std::nullopt;
  return std::string(json::View(*v));
}

inline void IndexResource(const schema::Registry& registry, const TestResource& r, ResourceRow& row,
                          std::vector<AttrRow>& rows) {
  const json::Value& doc = *r.doc;
  row.id = r.id;
  row.type = r.type;
  row.user_name = StringAt(doc, "userName");
  row.external_id = StringAt(doc, "externalId");
  row.display_name = StringAt(doc, "displayName");
  if (const json::Value* a = json::FindMemberCI(doc, "active"); a && a->IsBool()) {
    row.active = a->GetBool() ? 1 : 0;
  }
  const json::Value& meta = *json::FindMemberCI(doc, "meta");
  row.created = *NormalizeTimestamp(*StringAt(meta, "created"));
  row.last_modified = *NormalizeTimestamp(*StringAt(meta, "lastModified"));
  const schema::ResourceType& type = TypeOf(registry, r.type);
  for (const schema::Schema* schema : registry.SchemasOf(type)) {
    bool core = EqualsIgnoreCase(schema->id, type.schema);
    const json::Value* base = core ? &doc : json::FindMemberCI(doc, schema->id);
    if (base == nullptr || !base->IsObject()) continue;
    std::string prefix = core ? "" : ToLower(schema->id) + ":";
    for (const schema::Attribute& attr : schema->attributes) {
      if (core && OwnStorage(attr.name)) continue;
      const json::Value* v = json::FindMemberCI(*base, attr.name);
      if (v != nullptr) IndexAttribute(attr, *v, r, prefix + ToLower(attr.name), rows);
    }
  }
}

// The statements of a migration file (';' at the end of a line ends one; '--' comments dropped).
inline std::vector<std::string> MigrationStatements(const std::string& file) {
  std::ifstream in(file);
  BOOST_TEST_REQUIRE(static_cast<bool>(in), "cannot read " << file);
  std::vector<std::string> out;
  std::string line, current;
  while (std::getline(in, line)) {
    if (auto c = line.find("--"); c != std::string::npos) line = line.substr(0, c);
    std::string_view t = Trim(line);
    if (t.empty()) continue;
    current.append(t).push_back('\n');
    if (t.back() == ';') {
      out.push_back(current);
      current.clear();
    }
  }
  return out;
}

// Writes the dataset's rows (resources, attr_values, group_members) in one transaction.
inline void LoadDataset(soci::session& s, const schema::Registry& registry, const Dataset& ds) {
  soci::transaction tr(s);
  std::string tenant = ds.tenant;
  for (const TestResource& r : ds.resources) {
    ResourceRow row;
    std::vector<AttrRow> rows;
    IndexResource(registry, r, row, rows);
    std::string user_name = row.user_name.value_or(""), user_name_lc = FoldCase(user_name);
    std::string external_id = row.external_id.value_or("");
    std::string display_name = row.display_name.value_or(""),
                display_name_lc = FoldCase(display_name);
    int active = row.active.value_or(0);
    soci::indicator i_user = row.user_name ? soci::i_ok : soci::i_null;
    soci::indicator i_ext = row.external_id ? soci::i_ok : soci::i_null;
    soci::indicator i_disp = row.display_name ? soci::i_ok : soci::i_null;
    soci::indicator i_active = row.active ? soci::i_ok : soci::i_null;
    s << "INSERT INTO resources (tenant, id, resource_type, user_name, user_name_lc, external_id, "
         "display_name, display_name_lc, active, created, last_modified, version, data) VALUES "
         "(:t, :id, :rt, :un, :unlc, :ext, :dn, :dnlc, :act, :cr, :lm, 1, '{}')",
        soci::use(tenant), soci::use(row.id), soci::use(row.type), soci::use(user_name, i_user),
        soci::use(user_name_lc, i_user), soci::use(external_id, i_ext),
        soci::use(display_name, i_disp), soci::use(display_name_lc, i_disp),
        soci::use(active, i_active), soci::use(row.created), soci::use(row.last_modified);
    for (AttrRow& a : rows) {
      double num = a.num.value_or(0);
      soci::indicator i_num = a.num ? soci::i_ok : soci::i_null;
      std::string full = a.value_lc_full.value_or("");
      soci::indicator i_full = a.value_lc_full ? soci::i_ok : soci::i_null;
      s << "INSERT INTO attr_values (tenant, resource_type, resource_id, path, ord, value, "
           "value_lc, value_lc_full, num) VALUES (:t, :rt, :id, :p, :o, :v, :vl, :vf, :n)",
          soci::use(tenant), soci::use(a.type), soci::use(a.resource_id), soci::use(a.path),
          soci::use(a.ord), soci::use(a.value), soci::use(a.value_lc), soci::use(full, i_full),
          soci::use(num, i_num);
    }
  }
  for (const Membership& m : ds.memberships) {
    std::string g = m.group_id, id = m.member_id, t = m.member_type;
    s << "INSERT INTO group_members (tenant, group_id, member_id, member_type) VALUES "
         "(:t, :g, :m, :mt)",
        soci::use(tenant), soci::use(g), soci::use(id), soci::use(t);
  }
  tr.commit();
}

// ---------------------------------------------------------------------------------------------
// Filter generation

enum class LitKind {
  kWord,
  kType,
  kUserName,
  kId,
  kMemberType,
  kBool,
  kInt,
  kDec,
  kTime,
  kComplex,
  kKind,
  kBlob,
  kLink
};

struct LeafSpec {
  std::string path;
  LitKind kind;
  std::vector<LeafSpec> subs;  // for value paths: the sub-attributes (relative names)
};

inline std::vector<LeafSpec> SpecsFor(const std::string& type) {
  using L = LitKind;
  std::string ent = std::string(kEnterprise) + ":";
  std::string wext = std::string(kWidgetExtSchema) + ":";
  std::vector<LeafSpec> common = {
      {"id", L::kId, {}},
      {"externalId", L::kWord, {}},
      {"meta.created", L::kTime, {}},
      {"meta.lastModified", L::kTime, {}},
      {"meta.resourceType", L::kWord, {}},
      {"meta", L::kComplex, {{"created", L::kTime, {}}, {"lastModified", L::kTime, {}}}}};
  std::vector<LeafSpec> specs;
  if (type == "User") {
    std::vector<LeafSpec> email_subs = {
        {"value", L::kWord, {}}, {"type", L::kType, {}}, {"primary", L::kBool, {}}};
    specs = {{"userName", L::kUserName, {}},
             {"displayName", L::kWord, {}},
             {"title", L::kWord, {}},
             {"userType", L::kWord, {}},
             {"nickName", L::kWord, {}},
             {"active", L::kBool, {}},
             {"name", L::kComplex, {{"givenName", L::kWord, {}}, {"familyName", L::kWord, {}}}},
             {"name.givenName", L::kWord, {}},
             {"name.familyName", L::kWord, {}},
             {"emails", L::kWord, email_subs},
             {"emails.value", L::kWord, {}},
             {"emails.type", L::kType, {}},
             {"emails.primary", L::kBool, {}},
             {"phoneNumbers", L::kComplex, {{"value", L::kWord, {}}, {"type", L::kType, {}}}},
             {"phoneNumbers.type", L::kType, {}},
             {"groups", L::kId, {{"value", L::kId, {}}}},
             {"groups.value", L::kId, {}},
             {"employeeNumber", L::kWord, {}},
             {ent + "department", L::kWord, {}},
             {ent + "manager", L::kComplex, {{"value", L::kId, {}}, {"displayName", L::kWord, {}}}},
             {ent + "manager.value", L::kId, {}}};
  } else if (type == "Group") {
    specs = {{"displayName", L::kWord, {}},
             {"members", L::kId, {{"value", L::kId, {}}, {"type", L::kMemberType, {}}}},
             {"members.value", L::kId, {}},
             {"members.type", L::kMemberType, {}},
             {std::string(kScimdGroup) + ":kind", L::kKind, {}},
             {"location", L::kWord, {}}};
  } else {
    specs = {{"displayName", L::kWord, {}},
             {"label", L::kWord, {}},
             {"code", L::kWord, {}},
             {"count", L::kInt, {}},
             {"score", L::kDec, {}},
             {"enabled", L::kBool, {}},
             {"since", L::kTime, {}},
             {"blob", L::kBlob, {}},
             {"link", L::kLink, {}},
             {"tags", L::kWord, {}},
             {"nums", L::kInt, {}},
             {"parts",
              L::kWord,
              {{"value", L::kWord, {}},
               {"kind", L::kKind, {}},
               {"weight", L::kInt, {}},
               {"at", L::kTime, {}},
               {"primary", L::kBool, {}}}},
             {"parts.kind", L::kKind, {}},
             {"parts.weight", L::kInt, {}},
             {"parts.at", L::kTime, {}},
             {"spec", L::kComplex, {{"size", L::kDec, {}}, {"label", L::kWord, {}}}},
             {"spec.size", L::kDec, {}},
             {wext + "level", L::kInt, {}},
             {"owner", L::kComplex, {{"value", L::kWord, {}}, {"display", L::kWord, {}}}},
             {wext + "owner.value", L::kWord, {}}};
  }
  specs.insert(specs.end(), common.begin(), common.end());
  return specs;
}

class FilterGenerator {
 public:
  FilterGenerator(uint32_t seed, std::string type) : rng_(seed), specs_(SpecsFor(type)) {
    (void)type;
    for (int i = 0; i < 40; ++i) ids_.push_back(IdOf('a', i));
    for (int i = 0; i < 15; ++i) ids_.push_back(IdOf('b', i));
    for (int i = 0; i < 5; ++i) ids_.push_back(IdOf('c', i));
  }

  std::string Next() { return Filter(0, nullptr); }

 private:
  std::string Filter(int depth, const std::vector<LeafSpec>* inner) {
    int pick = rng_.Int(0, 99);
    if (depth < 3 && pick < 22) {
      int n = rng_.Int(2, 3);
      const char* op = rng_.Chance(0.5) ? " and " : " or ";
      std::string out;
      for (int i = 0; i < n; ++i) {
        if (i > 0) out += op;
        out += "(" + Filter(depth + 1, inner) + ")";
      }
      return out;
    }
    if (depth < 3 && pick < 30) return "not (" + Filter(depth + 1, inner) + ")";
    if (inner != nullptr) {
      const LeafSpec& s = rng_.Pick(*inner);
      return Compare(s.path, s.kind);
    }
    const LeafSpec& s = rng_.Pick(specs_);
    if (!s.subs.empty() && rng_.Chance(0.45)) {
      return s.path + "[" + Filter(depth + 1, &s.subs) + "]";
    }
    return Compare(s.path, s.kind);
  }

  std::string StringLiteral(LitKind kind, filter::CompareOp op) {
    std::string base;
    switch (kind) {
      case LitKind::kType:
        base = rng_.Pick(Types());
        break;
      case LitKind::kUserName:
        base = rng_.Pick(Words());
        if (base.size() > 200) base = base.substr(0, 200);
        base += "#" + std::to_string(rng_.Int(0, 40));
        break;
      case LitKind::kId:
        base = rng_.Pick(ids_);
        break;
      case LitKind::kMemberType:
        base = rng_.Pick(std::vector<std::string>{"User", "Group", "user", "GROUP", "x"});
        break;
      case LitKind::kKind:
        base = rng_.Pick(std::vector<std::string>{"Metal", "metal", "wood", "WOOD", "b%ta",
                                                  "organization", "store", "Store", "met", "al"});
        break;
      case LitKind::kBlob:
        base = rng_.Pick(std::vector<std::string>{"AAEC", "aaec", "ZZZ="});
        break;
      case LitKind::kLink:
        base = rng_.Pick(std::vector<std::string>{"https://example.com/a", "https://",
                                                  "HTTPS://EXAMPLE.COM/b", "urn:x:y"});
        break;
      default:
        base = rng_.Pick(Words());
    }
    if (op == filter::CompareOp::kCo || op == filter::CompareOp::kSw ||
        op == filter::CompareOp::kEw) {
      if (rng_.Chance(0.7)) base = Piece(rng_, base, op);
    }
    if (rng_.Chance(0.5)) base = CaseVariant(rng_, base);
    return JsonQuote(base);
  }

  std::string Compare(const std::string& path, LitKind kind) {
    using filter::CompareOp;
    if (kind == LitKind::kComplex || rng_.Chance(0.08)) return path + " pr";
    if (rng_.Chance(0.04)) return path + (rng_.Chance(0.5) ? " eq null" : " ne null");
    std::vector<CompareOp> ops;
    switch (kind) {
      case LitKind::kBool:
        ops = {CompareOp::kEq, CompareOp::kNe};
        break;
      case LitKind::kInt:
      case LitKind::kDec:
      case LitKind::kTime:
        ops = {CompareOp::kEq, CompareOp::kNe, CompareOp::kGt,
               CompareOp::kGe, CompareOp::kLt, CompareOp::kLe};
        break;
      case LitKind::kBlob:
        ops = {CompareOp::kEq, CompareOp::kNe, CompareOp::kCo, CompareOp::kSw, CompareOp::kEw};
        break;
      default:
        ops = {CompareOp::kEq, CompareOp::kNe, CompareOp::kCo, CompareOp::kSw,
               CompareOp::kEw, CompareOp::kGt, CompareOp::kGe, CompareOp::kLt,
               CompareOp::kLe, CompareOp::kEq, CompareOp::kEq};
    }
    CompareOp op = rng_.Pick(ops);
    std::string value;
    switch (kind) {
      case LitKind::kBool:
        value = rng_.Pick(std::vector<std::string>{"true", "false", "\"True\"", "FALSE"});
        break;
      case LitKind::kInt:
        value = std::to_string(rng_.Int(-6, 21));
        break;
      case LitKind::kDec:
        value = rng_.Pick(std::vector<std::string>{"0", "1.5", "-2.25", "2.5e0", "4", "10"});
        break;
      case LitKind::kTime:
        value = JsonQuote(TimeSpelling(rng_, rng_.Pick(Instants())));
        break;
      default:
        value = StringLiteral(kind, op);
    }
    return path + " " + filter::CompareOpName(op) + " " + value;
  }

  Rng rng_;
  std::vector<LeafSpec> specs_;
  std::vector<std::string> ids_;
};

// ---------------------------------------------------------------------------------------------
// Running

// The ids of `type` in `tenant` that the compiled filter selects, in the given order.
inline std::vector<std::string> QueryIds(soci::session& s, const std::string& tenant,
                                         const std::string& type, const store::SqlFragment& where,
                                         const std::string& order_by = "") {
  std::string sql =
      "SELECT r.id FROM resources r WHERE r.tenant = :tenant AND r.resource_type = "
      ":rtype AND (" +
      where.sql + ")" + order_by;
  std::vector<std::pair<std::string, std::string>> params = where.params;
  params.emplace_back("tenant", tenant);
  params.emplace_back("rtype", type);
  std::vector<std::string> ids;
  soci::details::prepare_temp_type prepared = (s.prepare << sql);
  for (auto& [name, value] : params) prepared, soci::use(value, name);
  soci::rowset<std::string> rows(prepared);
  for (const std::string& id : rows) ids.push_back(id);
  return ids;
}

struct DifferentialStats {
  int filters = 0;
  int bind_errors = 0;
  int compile_errors = 0;
  int nonempty = 0;  // filters that selected at least one resource
  int partial = 0;   // ... and not all of them
  int mismatches = 0;
};

// Runs `count` generated filters per resource type over `ds` (already loaded with
// LoadDataset) and checks SQL == evaluator. Reports mismatches through Boost.Test.
inline DifferentialStats RunFilterDifferential(soci::session& s, store::Dialect dialect,
                                               const schema::Registry& registry, const Dataset& ds,
                                               int count, uint32_t seed) {
  DifferentialStats stats;
  for (const std::string type : {"User", "Group", "Widget"}) {
    const schema::ResourceType& rt = TypeOf(registry, type);
    std::vector<const TestResource*> candidates;
    for (const TestResource& r : ds.resources) {
      if (r.type == type) candidates.push_back(&r);
    }
    FilterGenerator gen(seed + static_cast<uint32_t>(type.size()), type);
    for (int i = 0; i < count; ++i) {
      std::string text = gen.Next();
      ++stats.filters;
      auto bound = filter::ParseAndBind(text, registry, rt);
      if (!bound.ok()) {
        ++stats.bind_errors;
        BOOST_TEST_MESSAGE("bind error: " << text << ": " << bound.error().detail);
        continue;
      }
      auto compiled = store::CompileFilter(*bound, dialect);
      if (!compiled.ok()) {
        ++stats.compile_errors;
        BOOST_TEST_MESSAGE("compile error: " << text << ": " << compiled.error().detail);
        continue;
      }
      std::set<std::string> expected;
      for (const TestResource* r : candidates) {
        if (filter::Matches(*bound, *r->doc)) expected.insert(r->id);
      }
      std::vector<std::string> got_list;
      try {
        got_list = QueryIds(s, ds.tenant, type, *compiled);
      } catch (const std::exception& e) {
        ++stats.mismatches;
        BOOST_ERROR("SQL failed for " << text << "\n  SQL: " << compiled->sql << "\n  "
                                      << e.what());
        continue;
      }
      std::set<std::string> got(got_list.begin(), got_list.end());
      if (got.size() != got_list.size()) {
        BOOST_ERROR("duplicate rows for " << text);
      }
      if (!expected.empty()) ++stats.nonempty;
      if (!expected.empty() && expected.size() < candidates.size()) ++stats.partial;
      if (got != expected) {
        ++stats.mismatches;
        std::ostringstream diff;
        for (const auto& id : expected) {
          if (!got.count(id)) diff << "\n  missing from SQL: " << id;
        }
        for (const auto& id : got) {
          if (!expected.count(id)) diff << "\n  extra in SQL: " << id;
        }
        if (stats.mismatches <= 10) {
          BOOST_ERROR("SQL and evaluator disagree on ["
                      << type << "] " << text << "\n  bound: " << bound->ToString()
                      << "\n  SQL: " << compiled->sql << diff.str());
        }
      }
    }
  }
  return stats;
}

// In-memory sort key of one resource, from the indexed rows (independent of the SQL).
struct SortValue {
  bool missing = true;
  bool numeric = false;
  double num = 0;
  std::string text;
};

inline bool SortLess(const SortValue& a, const SortValue& b) {
  if (a.numeric) return a.num < b.num;
  return a.text < b.text;
}

// Checks CompileSortKey for `path` (ascending and descending) against an in-memory sort.
inline void CheckSort(soci::session& s, store::Dialect dialect, const schema::Registry& registry,
                      const Dataset& ds, const std::string& type, const std::string& path_text) {
  const schema::ResourceType& rt = TypeOf(registry, type);
  auto path = registry.ResolvePath(rt, path_text);
  BOOST_TEST_REQUIRE(path.ok(), path_text);
  auto key = store::CompileSortKey(*path, dialect);
  BOOST_TEST_REQUIRE(key.ok(), path_text << ": " << (key.ok() ? "" : key.error().detail));

  schema::ResolvedPath leaf_path = *path;
  if (leaf_path.Leaf().type == schema::AttributeType::kComplex) {
    leaf_path.sub_attribute = leaf_path.Leaf().FindSub("value");
  }
  const schema::Attribute& leaf = leaf_path.Leaf();
  std::string attr_path = ToLower(leaf_path.QualifiedName());
  std::string primary_path;
  if (leaf_path.attribute->FindSub("primary")) {
    schema::ResolvedPath p = leaf_path;
    p.sub_attribute = leaf_path.attribute->FindSub("primary");
    primary_path = ToLower(p.QualifiedName());
  }
  bool numeric =
      leaf.type == schema::AttributeType::kInteger || leaf.type == schema::AttributeType::kDecimal;
  std::vector<std::pair<SortValue, std::string>> keyed;
  for (const TestResource& r : ds.resources) {
    if (r.type != type) continue;
    ResourceRow row;
    std::vector<AttrRow> rows;
    IndexResource(registry, r, row, rows);
    SortValue v;
    v.numeric = numeric;
    std::string name = leaf_path.CanonicalName();
    auto text_value = [&](const std::optional<std::string>& value, bool lower) {
      if (value) {
        v.missing = false;
        v.text = lower ? FoldCase(*value) : *value;
      }
    };
    if (name == "userName")
      text_value(row.user_name, !leaf.case_exact);
    else if (name == "displayName" && !leaf_path.in_extension)
      text_value(row.display_name, !leaf.case_exact);
    else if (name == "externalId")
      text_value(row.external_id, !leaf.case_exact);
    else if (name == "meta.lastModified")
      text_value(row.last_modified, false);
    else if (name == "meta.created")
      text_value(row.created, false);
    else {
      // attr_values: the primary element's value, else the lowest ord, then the smallest value.
      const AttrRow* best = nullptr;
      auto rank = [&](const AttrRow& a) {
        bool primary = false;
        for (const AttrRow& p : rows) {
          if (p.path == primary_path && p.ord == a.ord && p.value_lc == "true") primary = true;
        }
        return std::make_pair(primary && leaf_path.attribute->multi_valued ? 0 : 1, a.ord);
      };
      auto key_of = [&](const AttrRow& a) {
        SortValue k;
        k.missing = false;
        k.numeric = numeric;
        k.num = a.num.value_or(0);
        k.text = leaf.case_exact && !numeric ? a.value : a.value_lc;
        return k;
      };
      for (const AttrRow& a : rows) {
        if (a.path != attr_path) continue;
        if (numeric && !a.num) continue;
        if (best == nullptr || rank(a) < rank(*best) ||
            (rank(a) == rank(*best) && SortLess(key_of(a), key_of(*best)))) {
          best = &a;
        }
      }
      if (best != nullptr) v = key_of(*best);
    }
    keyed.emplace_back(v, r.id);
  }
  for (bool descending : {false, true}) {
    auto sorted = keyed;
    std::stable_sort(sorted.begin(), sorted.end(), [&](const auto& a, const auto& b) {
      const SortValue& x = a.first;
      const SortValue& y = b.first;
      if (x.missing != y.missing) return descending ? x.missing : y.missing;
      if (!x.missing) {
        if (SortLess(x, y)) return !descending;
        if (SortLess(y, x)) return descending;
      }
      return a.second < b.second;
    });
    std::vector<std::string> expected;
    for (const auto& [_, id] : sorted) expected.push_back(id);
    store::SqlFragment all{"1 = 1", key->params};
    // r.id is COLLATE "C" on PostgreSQL and BINARY on SQLite: byte order on both.
    std::vector<std::string> got = QueryIds(
        s, ds.tenant, type, all, " ORDER BY " + store::SortTerm(*key, descending) + ", r.id");
    BOOST_TEST(got == expected, "sortBy " << path_text << (descending ? " descending" : "")
                                          << "\n  key: " << key->sql);
  }
}

}  // namespace scim::testing
