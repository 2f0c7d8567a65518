#include "store/filter_sql.h"

#include <cstdio>

#include "scim/common/strings.h"
#include "scim/common/utf8.h"
#include "store/filter_sql_storage.h"
#include "store/indexed_fold.h"

namespace scim::store {
namespace {

using filter::BoundNode;
using filter::BoundValue;
using filter::CompareOp;
using schema::Attribute;
using schema::AttributeType;
using schema::ResolvedPath;
using namespace filter_sql_detail;

std::string LikeEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '%' || c == '_') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

std::string GlobEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '*')
      out += "[*]";
    else if (c == '?')
      out += "[?]";
    else if (c == '[')
      out += "[[]";
    else
      out.push_back(c);
  }
  return out;
}

std::string FormatDouble(double d) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", d);
  return buf;
}

const char* SqlOp(CompareOp op) {
  switch (op) {
    case CompareOp::kEq:
      return "=";
    case CompareOp::kGt:
      return ">";
    case CompareOp::kGe:
      return ">=";
    case CompareOp::kLt:
      return "<";
    case CompareOp::kLe:
      return "<=";
    default:
      return "=";
  }
}

class Compiler : public SqlWriter {
 public:
  using SqlWriter::SqlWriter;

  std::string Like(const std::string& expr, const std::string& pattern) {
    return expr + " LIKE " + P(pattern) + (pg() ? "" : " ESCAPE '\\'");
  }

  // SQLite co/ew on a value whose folded copy `lc` may be cut short: matched on `lc` (read
  // from the covering look-up index, which `lc >= ''` makes SQLite scan instead of the table),
  // and on the whole folded value `full` only where `lc` may have been cut. PostgreSQL matches
  // `full`, which its trigram index (migrations/postgresql/008) serves.
  std::string InsideTruncated(const std::string& lc, const std::string& full, CompareOp op,
                              const std::string& pattern) {
    std::string cut = "length(CAST(" + lc + " AS BLOB)) > " + std::to_string(kShortLiteral);
    std::string in_lc = Like(lc, pattern);
    // A cut value contains what its prefix contains, but need not end as its prefix does.
    if (op == CompareOp::kEw) in_lc = "NOT " + cut + " AND " + in_lc;
    return lc + " >= '' AND (" + in_lc + " OR (" + cut + " AND " + Like(full, pattern) + "))";
  }

  // Case-sensitive co/sw/ew on `expr`.
  std::string ExactMatch(const std::string& expr, CompareOp op, const std::string& lit) {
    if (pg()) {
      std::string esc = LikeEscape(lit);
      std::string pattern = op == CompareOp::kSw   ? esc + "%"
                            : op == CompareOp::kEw ? "%" + esc
                                                   : "%" + esc + "%";
      return expr + " LIKE " + P(pattern);
    }
    std::string esc = GlobEscape(lit);
    std::string pattern = op == CompareOp::kSw   ? esc + "*"
                          : op == CompareOp::kEw ? "*" + esc
                                                 : "*" + esc + "*";
    return expr + " GLOB " + P(pattern);
  }

  // expr starts with `prefix` (byte order), as an index range.
  std::string Range(const std::string& expr, bool is_c, const std::string& prefix) {
    std::string e = Ordered(expr, is_c);
    std::string upper = Utf8PrefixUpperBound(prefix);
    std::string sql = e + " >= " + P(prefix);
    if (!upper.empty()) sql += " AND " + e + " < " + P(upper);
    return sql;
  }

  // A comparison (op != pr) of one scalar read through `s`.
  Result<std::string> Predicate(const BoundNode& node, const Source& s) {
    const BoundValue& value = node.value;
    CompareOp op = node.op;
    switch (value.type) {
      case BoundValue::Type::kBoolean:
        if (s.is_active)
          return s.exact + " = CAST(" + P(value.boolean ? "1" : "0") + " AS INTEGER)";
        if (s.lc.empty()) return Unsupported(node.path);
        return s.lc + " = " + P(value.boolean ? "true" : "false");
      case BoundValue::Type::kNumber:
        if (s.num.empty()) return Unsupported(node.path);
        return s.num + " " + SqlOp(op) + " " + CastNumber(P(FormatDouble(value.number)));
      case BoundValue::Type::kDateTime:
        if (!s.lc.empty())
          return Ordered(s.lc, s.lc_is_c) + " " + SqlOp(op) + " " + P(ToLower(value.text));
        return Ordered(s.exact, s.exact_is_c) + " " + SqlOp(op) + " " + P(value.text);
      case BoundValue::Type::kString:
        return StringPredicate(op, node.path.Leaf().case_exact, s, value.text);
      case BoundValue::Type::kNone:
        break;
    }
    return Error(ErrorCode::kInvalidFilter, "comparison without a value");
  }

  std::string StringPredicate(CompareOp op, bool case_exact, const Source& s,
                              const std::string& lit) {
    std::string lit_lc = FoldCase(lit);
    bool truncated = !s.lc.empty() && s.lc_truncated;
    bool long_literal = lit_lc.size() > kShortLiteral;
    if (!case_exact) {
      std::string lc = s.lc.empty() ? AsciiLower(s.exact) : s.lc;
      bool lc_is_c = s.lc.empty() ? false : s.lc_is_c;
      // The whole folded value (lc itself unless it is truncated).
      std::string full = truncated ? s.lc_full : lc;
      bool full_is_c = truncated ? true : lc_is_c;
      switch (op) {
        case CompareOp::kEq:
          if (truncated && long_literal) {
            std::string narrow = P(std::string(Utf8Prefix(lit_lc, kMaxIndexedValueBytes)));
            std::string exact = P(lit_lc);
            return lc + " = " + narrow + " AND " + full + " = " + exact;
          }
          return lc + " = " + P(lit_lc);
        case CompareOp::kSw:
          if (lit.empty()) return "1 = 1";
          if (truncated && long_literal) {
            std::string range = Range(lc, lc_is_c, std::string(Utf8Prefix(lit_lc, kShortLiteral)));
            return range + " AND " + Like(full, LikeEscape(lit_lc) + "%");
          }
          return Range(lc, lc_is_c, lit_lc);
        case CompareOp::kCo:
        case CompareOp::kEw: {
          if (lit.empty()) return "1 = 1";
          std::string pattern = "%" + LikeEscape(lit_lc) + (op == CompareOp::kCo ? "%" : "");
          if (truncated && !pg()) return InsideTruncated(lc, full, op, pattern);
          return Like(full, pattern);
        }
        default:
          if (truncated && long_literal) {
            return Ordered(full, full_is_c) + " " + SqlOp(op) + " " + P(lit_lc);
          }
          return Ordered(lc, lc_is_c) + " " + SqlOp(op) + " " + P(lit_lc);
      }
    }
    switch (op) {
      case CompareOp::kEq:
        if (!s.lc.empty() && s.lc != s.exact) {
          // Narrow through the index on the lower-cased column, then compare exactly.
          std::string narrow =
              P(truncated ? std::string(Utf8Prefix(lit_lc, kMaxIndexedValueBytes)) : lit_lc);
          std::string exact = P(lit);
          return s.lc + " = " + narrow + " AND " + s.exact + " = " + exact;
        }
        return s.exact + " = " + P(lit);
      case CompareOp::kSw:
        if (lit.empty()) return "1 = 1";
        if (!s.lc.empty() && s.lc != s.exact) {
          // Narrow through the folded column only with a safe prefix (indexed_fold.h).
          if (auto prefix = CaseExactFoldedPrefix(lit, truncated)) {
            std::string range = Range(s.lc, s.lc_is_c, *prefix);  // sequenced: f1, f2, then f3
            return range + " AND " + ExactMatch(s.exact, op, lit);
          }
          return ExactMatch(s.exact, op, lit);
        }
        return Range(s.exact, s.exact_is_c, lit);
      case CompareOp::kCo:
      case CompareOp::kEw:
        if (lit.empty()) return "1 = 1";
        return ExactMatch(s.exact, op, lit);
      default:
        return Ordered(s.exact, s.exact_is_c) + " " + SqlOp(op) + " " + P(lit);
    }
  }

  // pr on one scalar read through `s`.
  static std::string PresentPredicate(const Source& s) {
    if (s.is_active) return s.exact + " IS NOT NULL";
    return s.exact + " <> ''";
  }

  // A comparison or `pr` of one scalar through `s` (op may be kPr).
  Result<std::string> Leaf(const BoundNode& node, const Source& s) {
    if (node.op == CompareOp::kPr) return PresentPredicate(s);
    return Predicate(node, s);
  }

  // The lower-cased attr_values paths of every sub-attribute of complex attribute `path`.
  std::string SubPathList(const ResolvedPath& path) {
    std::string base = QualifiedLc(path);
    std::string list;
    for (const Attribute& sub : path.Leaf().sub_attributes) {
      if (!list.empty()) list += ", ";
      list += P(base + "." + ToLower(sub.name));
    }
    return list;
  }

  static std::string Combine(const std::vector<std::string>& parts, size_t lo, size_t hi,
                             const char* op) {
    if (hi - lo == 1) return parts[lo];
    size_t mid = lo + (hi - lo) / 2;
    return "(" + Combine(parts, lo, mid, op) + " " + op + " " + Combine(parts, mid, hi, op) + ")";
  }

  // and/or/not over children compiled by `child`.
  template <class Fn>
  Result<std::string> Logical(const BoundNode& node, Fn&& child) {
    if (node.kind == BoundNode::Kind::kNot) {
      SCIM_TRY(auto inner, child(node.children.at(0)));
      return "NOT (" + inner + ")";
    }
    std::vector<std::string> parts;
    for (const BoundNode& c : node.children) {
      SCIM_TRY(auto part, child(c));
      parts.push_back(std::move(part));
    }
    if (parts.empty()) return std::string(node.kind == BoundNode::Kind::kAnd ? "1 = 1" : "1 = 0");
    // Balanced, so that long chains do not exceed SQLite's expression depth limit.
    return Combine(parts, 0, parts.size(), node.kind == BoundNode::Kind::kAnd ? "AND" : "OR");
  }

  // A node over resources `r`.
  Result<std::string> Resource(const BoundNode& node) {
    switch (node.kind) {
      case BoundNode::Kind::kAnd:
      case BoundNode::Kind::kOr:
      case BoundNode::Kind::kNot:
        return Logical(node, [this](const BoundNode& c) { return Resource(c); });
      case BoundNode::Kind::kCompare:
        return ResourceCompare(node);
      case BoundNode::Kind::kValuePath:
        return ResourceValuePath(node);
    }
    return Error(ErrorCode::kInvalidFilter, "unknown filter node");
  }

  Result<std::string> ResourceCompare(const BoundNode& node) {
    Target target = Classify(node.path);
    switch (target.where) {
      case Where::kUnsupported:
        return Unsupported(node.path);
      case Where::kMeta:
        if (node.op != CompareOp::kPr) return Unsupported(node.path);
        return std::string("r.created IS NOT NULL");
      case Where::kColumn: {
        SCIM_TRY(auto pred, Leaf(node, target.source));
        // The value and its lower-cased column are NULL together; the indexed one serves best.
        const Source& src = target.source;
        const std::string& guard = src.lc.empty() ? src.exact : src.lc;
        return "(" + guard + " IS NOT NULL AND " + pred + ")";
      }
      case Where::kMembers:
      case Where::kGroups: {
        std::string m = Alias("m");
        std::string sql = MembershipSelect(target.where, m);
        if (node.path.sub_attribute == nullptr) {
          if (node.op != CompareOp::kPr) return Unsupported(node.path);
          return sql + ")";
        }
        auto source = MembershipSource(target.where, node.path.sub_attribute, m);
        if (!source) return Unsupported(node.path);
        SCIM_TRY(auto pred, Leaf(node, *source));
        return sql + " AND " + pred + ")";
      }
      case Where::kAttrValues: {
        std::string v = Alias("v");
        std::string sql = AttrValuesSelect(v);
        if (node.path.sub_attribute == nullptr &&
            node.path.Leaf().type == AttributeType::kComplex) {
          // pr on a complex attribute: some sub-attribute has a non-empty value.
          if (node.path.Leaf().sub_attributes.empty()) return std::string("1 = 0");
          std::string paths = SubPathList(node.path);
          return sql + " AND " + v + ".path IN (" + paths + ") AND " + v + ".value <> '')";
        }
        std::string path = P(QualifiedLc(node.path));
        SCIM_TRY(auto pred, Leaf(node, AttrValuesSource(v)));
        return sql + " AND " + v + ".path = " + path + " AND " + pred + ")";
      }
    }
    return Unsupported(node.path);
  }

  // "r.id IN (SELECT ... FROM group_members m WHERE m.tenant = :tenant" (without ')').
  static std::string MembershipSelect(Where where, const std::string& m) {
    if (where == Where::kMembers) {
      return "r.id IN (SELECT " + m + ".group_id FROM group_members " + m + " WHERE " + m +
             ".tenant = :tenant";
    }
    return "r.id IN (SELECT " + m + ".member_id FROM group_members " + m + " WHERE " + m +
           ".tenant = :tenant";
  }

  // "r.id IN (SELECT v.resource_id FROM attr_values v WHERE <tenant, type>" (without ')').
  static std::string AttrValuesSelect(const std::string& v) {
    return "r.id IN (SELECT " + v + ".resource_id FROM attr_values " + v + " WHERE " + v +
           ".tenant = :tenant AND " + v + ".resource_type = :rtype";
  }

  Result<std::string> ResourceValuePath(const BoundNode& node) {
    Target target = Classify(node.path);
    const BoundNode& inner = node.children.at(0);
    if (target.where == Where::kMembers || target.where == Where::kGroups) {
      std::string m = Alias("m");
      SCIM_TRY(auto cond, Element(inner, target.where, m));
      return MembershipSelect(target.where, m) + " AND (" + cond + "))";
    }
    // meta is one object whose sub-attributes are columns of r: its element is the resource.
    if (target.where == Where::kMeta) return Resource(inner);
    if (target.where != Where::kAttrValues) return Unsupported(node.path);
    std::string e = Alias("v");
    // Drive the query from one positive comparison when the inner filter is one, or a
    // conjunction containing one: its rows are the candidate elements (resource_id, ord).
    const BoundNode* anchor = nullptr;
    std::vector<const BoundNode*> rest;
    if (inner.kind == BoundNode::Kind::kCompare) {
      anchor = &inner;
    } else if (inner.kind == BoundNode::Kind::kAnd) {
      for (const BoundNode& c : inner.children) {
        if (anchor == nullptr && c.kind == BoundNode::Kind::kCompare)
          anchor = &c;
        else
          rest.push_back(&c);
      }
    }
    std::string sql = AttrValuesSelect(e);
    if (anchor != nullptr) {
      std::string path = P(QualifiedLc(anchor->path));
      SCIM_TRY(auto pred, Leaf(*anchor, AttrValuesSource(e)));
      sql += " AND " + e + ".path = " + path + " AND " + pred;
      for (const BoundNode* c : rest) {
        SCIM_TRY(auto cond, Element(*c, Where::kAttrValues, e));
        sql += " AND " + cond;
      }
    } else {
      if (node.path.Leaf().sub_attributes.empty()) return std::string("1 = 0");
      std::string paths = SubPathList(node.path);
      SCIM_TRY(auto cond, Element(inner, Where::kAttrValues, e));
      sql += " AND " + e + ".path IN (" + paths + ") AND (" + cond + ")";
    }
    return sql + ")";
  }

  // A node of a value path's inner filter, over one element identified by alias `e`: an
  // attr_values row (tenant, resource_id, ord) or a group_members row.
  Result<std::string> Element(const BoundNode& node, Where where, const std::string& e) {
    switch (node.kind) {
      case BoundNode::Kind::kAnd:
      case BoundNode::Kind::kOr:
      case BoundNode::Kind::kNot:
        return Logical(node, [&](const BoundNode& c) { return Element(c, where, e); });
      case BoundNode::Kind::kValuePath:
        return Error(ErrorCode::kInvalidFilter, "nested value filter");
      case BoundNode::Kind::kCompare:
        break;
    }
    if (where != Where::kAttrValues) {
      auto source = MembershipSource(where, node.path.sub_attribute, e);
      if (!source) return Unsupported(node.path);
      return Leaf(node, *source);
    }
    std::string x = Alias("v");
    std::string path = P(QualifiedLc(node.path));
    SCIM_TRY(auto pred, Leaf(node, AttrValuesSource(x)));
    return "EXISTS (SELECT 1 FROM attr_values " + x + " WHERE " + x + ".tenant = " + e +
           ".tenant AND " + x + ".resource_id = " + e + ".resource_id AND " + x + ".ord = " + e +
           ".ord AND " + x + ".path = " + path + " AND " + pred + ")";
  }
};

}  // namespace

Result<SqlFragment> CompileFilter(const filter::BoundFilter& filter, Dialect dialect) {
  Compiler compiler(dialect, "f");
  SCIM_TRY(auto sql, compiler.Resource(filter.root));
  return compiler.Finish(std::move(sql));
}

}  // namespace scim::store
