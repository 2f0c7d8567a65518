#pragma once
// Where each filterable attribute is stored, and the SQL text builder (named parameters, dialect
// spellings) shared by the filter compiler (filter_sql.cc) and the sort compiler
// (filter_sql_sort.cc). Internal to the store module; the storage contract is in filter_sql.h.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "scim/common/result.h"
#include "scim/schema/registry.h"
#include "store/filter_sql.h"

namespace scim::store::filter_sql_detail {

// Where the values of an attribute are stored.
enum class Where {
  kColumn,      // a column of resources
  kAttrValues,  // rows of attr_values
  kMembers,     // group_members, seen from the group (Group.members)
  kGroups,      // group_members, seen from the member (User.groups)
  kMeta,        // the meta object as a whole (always present)
  kUnsupported,
};

// How to read one scalar value in SQL.
struct Source {
  std::string exact;          // the value as text (or INTEGER for r.active)
  std::string lc;             // the value lower-cased (ASCII), "" when there is no such column
  bool lc_truncated = false;  // lc holds IndexedValueLc(value)
  bool exact_is_c = false;    // `exact` has C (byte-order) collation on PostgreSQL
  bool lc_is_c = false;
  std::string num;         // numeric column, "" when none
  bool is_active = false;  // r.active: 1 / 0
  std::string lc_full;     // when lc_truncated: the whole folded value (C collation)
};

struct Target {
  Where where = Where::kUnsupported;
  Source source;  // kColumn
};

bool NameIs(const schema::Attribute* attr, std::string_view name);

// The attr_values path of `path`: its lower-cased qualified name.
std::string QualifiedLc(const schema::ResolvedPath& path);

Target Classify(const schema::ResolvedPath& path);

// The group_members column of a members/groups sub-attribute, or nullopt when not stored.
std::optional<Source> MembershipSource(Where where, const schema::Attribute* sub,
                                       const std::string& m);

// The columns of attr_values row alias `alias`.
Source AttrValuesSource(const std::string& alias);

// kInvalidFilter: no storage to filter on.
Error Unsupported(const schema::ResolvedPath& path);

// SQL text with named parameters ":<prefix>0, :<prefix>1, ..." in the given dialect.
class SqlWriter {
 public:
  SqlWriter(Dialect dialect, const char* prefix) : dialect_(dialect), prefix_(prefix) {}

  SqlFragment Finish(std::string sql) { return SqlFragment{std::move(sql), std::move(params_)}; }

  // A new named parameter; returns its placeholder (":f3").
  std::string P(std::string value) {
    std::string name = prefix_ + std::to_string(params_.size());
    params_.emplace_back(name, std::move(value));
    return ":" + name;
  }

  std::string Alias(const char* base) { return base + std::to_string(++aliases_); }

  bool pg() const { return dialect_ == Dialect::kPostgres; }

  // ASCII-only lower-casing, like scim::ToLower, for columns that hold ASCII only (there
  // scim::FoldCase is the same). Neither database's lower() is Unicode case folding (SQLite's is
  // ASCII; PostgreSQL's lowers by the collation's rules without full folding: "ß" stays, "ς" is
  // not "σ"), so non-ASCII values are folded in C++ into the *_lc columns.
  std::string AsciiLower(const std::string& expr) const {
    if (!pg()) return "lower(" + expr + ")";
    return "translate(" + expr + ", 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')";
  }

  // `expr` compared in byte order.
  std::string Ordered(const std::string& expr, bool is_c) const {
    return pg() && !is_c ? expr + " COLLATE \"C\"" : expr;
  }

  std::string CastNumber(const std::string& placeholder) const {
    return "CAST(" + placeholder + (pg() ? " AS DOUBLE PRECISION)" : " AS REAL)");
  }

 private:
  Dialect dialect_;
  std::string prefix_;
  std::vector<std::pair<std::string, std::string>> params_;
  int aliases_ = 0;
};

}  // namespace scim::store::filter_sql_detail
