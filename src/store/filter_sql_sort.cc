// sortBy (RFC 7644 §3.4.2.3) compiled to SQL: the correlated sort key, and the sorts an index
// gives (IndexedSort, paged by IndexedSortPager in listing.cc).

#include "scim/common/strings.h"
#include "store/filter_sql.h"
#include "store/filter_sql_storage.h"

namespace scim::store {
namespace {

using schema::Attribute;
using schema::AttributeType;
using schema::ResolvedPath;
using namespace filter_sql_detail;

Error Unsortable(const ResolvedPath& path, const std::string& why) {
  return Error(ErrorCode::kInvalidValue, "cannot sort by '" + path.QualifiedName() + "': " + why);
}

// The path a sortBy really sorts on: a complex attribute sorts by its `value` sub-attribute.
Result<ResolvedPath> SortablePath(const schema::ResolvedPath& resolved) {
  if (resolved.attribute == nullptr)
    return Error(ErrorCode::kInvalidValue, "sortBy without attribute");
  ResolvedPath path = resolved;
  if (path.attribute->returned == schema::Returned::kNever ||
      (path.sub_attribute && path.sub_attribute->returned == schema::Returned::kNever)) {
    return Unsortable(path, "the attribute is never returned");
  }
  if (path.Leaf().type == AttributeType::kComplex) {
    const Attribute* value = path.Leaf().FindSub("value");
    if (value == nullptr || path.sub_attribute != nullptr) {
      return Unsortable(path, "a complex attribute without 'value'");
    }
    path.sub_attribute = value;
  }
  return path;
}

// The attr_values column a leaf sorts by; "" for case-exact strings (s.value, unindexed).
std::string IndexedSortColumn(const Attribute& leaf) {
  switch (leaf.type) {
    case AttributeType::kInteger:
    case AttributeType::kDecimal:
      return "num";
    case AttributeType::kString:
    case AttributeType::kReference:
    case AttributeType::kBinary:
      return leaf.case_exact ? "" : "value_lc";
    default:
      return "value_lc";
  }
}

}  // namespace

Result<SqlFragment> CompileSortKey(const schema::ResolvedPath& resolved, Dialect dialect) {
  SCIM_TRY(auto sortable, SortablePath(resolved));
  const ResolvedPath& path = sortable;
  SqlWriter compiler(dialect, "s");
  Target target = Classify(path);
  bool pg = dialect == Dialect::kPostgres;
  auto collate = [pg](const std::string& expr, bool is_c) {
    return pg && !is_c ? expr + " COLLATE \"C\"" : expr;
  };
  const Attribute& leaf = path.Leaf();
  switch (target.where) {
    case Where::kColumn: {
      const Source& s = target.source;
      if (s.is_active || leaf.type == AttributeType::kDateTime || leaf.case_exact) {
        return compiler.Finish(collate(s.exact, s.exact_is_c || s.is_active));
      }
      if (!s.lc.empty()) return compiler.Finish(collate(s.lc, s.lc_is_c));
      return compiler.Finish(collate(compiler.AsciiLower(s.exact), false));
    }
    case Where::kAttrValues:
      break;
    default:
      return Unsortable(path, "not supported");
  }
  std::string column = IndexedSortColumn(leaf);
  std::string key = column.empty() ? collate("s.value", false) : "s." + column;
  std::string from =
      " FROM attr_values s WHERE s.tenant = r.tenant AND s.resource_id = r.id AND "
      "s.path = " +
      compiler.P(QualifiedLc(path));
  if (!path.attribute->multi_valued) {
    return compiler.Finish("(SELECT MIN(" + key + ")" + from + ")");
  }
  // Multi-valued: the primary element's value, else the first element's (RFC 7644 §3.4.2.3).
  std::string order;
  const Attribute* primary = path.attribute->FindSub("primary");
  if (path.attribute->type == AttributeType::kComplex && primary != nullptr &&
      primary->type == AttributeType::kBoolean) {
    ResolvedPath primary_path = path;
    primary_path.sub_attribute = primary;
    std::string primary_param = compiler.P(QualifiedLc(primary_path));
    std::string true_param = compiler.P("true");
    order =
        "CASE WHEN EXISTS (SELECT 1 FROM attr_values p WHERE p.tenant = s.tenant AND "
        "p.resource_id = s.resource_id AND p.ord = s.ord AND p.path = " +
        primary_param + " AND p.value_lc = " + true_param + ") THEN 0 ELSE 1 END, ";
  }
  return compiler.Finish("(SELECT " + key + from + " ORDER BY " + order + "s.ord, " + key +
                         " LIMIT 1)");
}

std::optional<IndexedSort> CompileIndexedSort(const schema::ResolvedPath& resolved) {
  auto path = SortablePath(resolved);
  if (!path.ok() || Classify(*path).where != Where::kAttrValues || path->attribute->multi_valued)
    return std::nullopt;
  std::string column = IndexedSortColumn(path->Leaf());
  if (column.empty()) return std::nullopt;
  return IndexedSort{column, QualifiedLc(*path)};
}

std::string SortTerm(const SqlFragment& key, bool descending) {
  return key.sql + (descending ? " DESC NULLS FIRST" : " ASC NULLS LAST");
}

}  // namespace scim::store
