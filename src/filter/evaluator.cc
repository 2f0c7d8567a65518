#include "scim/filter/evaluator.h"

#include "scim/common/clock.h"
#include "scim/common/strings.h"

namespace scim::filter {
namespace {

using schema::Attribute;
using schema::AttributeType;
using schema::ResolvedPath;

// A scalar JSON value counts as a value of an attribute (as the SQL index stores it): strings
// (even ""), booleans and numbers. null, arrays and objects are not scalars.
bool IsScalar(const json::Value& v) { return v.IsString() || v.IsBool() || v.IsNumber(); }

// A scalar that `pr` accepts: not null and not the empty string.
bool IsPresentScalar(const json::Value& v) {
  return v.IsBool() || v.IsNumber() || (v.IsString() && v.GetStringLength() > 0);
}

// Calls fn on every scalar of `v` (v itself, or the items of an array) until fn returns true.
template <class Fn>
bool AnyScalar(const json::Value& v, Fn&& fn) {
  if (v.IsArray()) {
    for (const auto& item : v.GetArray()) {
      if (IsScalar(item) && fn(item)) return true;
    }
    return false;
  }
  return IsScalar(v) && fn(v);
}

// Calls fn on every element of a complex attribute value (the items of an array, or the object
// itself) until fn returns true.
template <class Fn>
bool AnyElement(const json::Value& v, Fn&& fn) {
  if (v.IsArray()) {
    for (const auto& item : v.GetArray()) {
      if (item.IsObject() && fn(item)) return true;
    }
    return false;
  }
  return v.IsObject() && fn(v);
}

// Whether an element of complex attribute `attr` has a sub-attribute of the schema with a
// scalar value (`require_present`: a value `pr` accepts).
bool ElementHasValue(const Attribute& attr, const json::Value& element, bool require_present) {
  for (const Attribute& sub : attr.sub_attributes) {
    const json::Value* v = json::FindMemberCI(element, sub.name);
    if (v == nullptr) continue;
    bool found = AnyScalar(
        *v, [&](const json::Value& s) { return require_present ? IsPresentScalar(s) : true; });
    if (found) return true;
  }
  return false;
}

// The value of the path's top-level attribute in `resource`, or nullptr.
const json::Value* TopLevelValue(const json::Value& resource, const ResolvedPath& path) {
  const json::Value* base = &resource;
  if (path.in_extension) {
    base = json::FindMemberCI(resource, path.schema_urn);
    if (base == nullptr) return nullptr;
  }
  return json::FindMemberCI(*base, path.attribute->name);
}

int Compare(std::string_view a, std::string_view b) { return a.compare(b); }

bool OrderingHolds(CompareOp op, int cmp) {
  switch (op) {
    case CompareOp::kEq:
      return cmp == 0;
    case CompareOp::kGt:
      return cmp > 0;
    case CompareOp::kGe:
      return cmp >= 0;
    case CompareOp::kLt:
      return cmp < 0;
    case CompareOp::kLe:
      return cmp <= 0;
    default:
      return false;
  }
}

bool StringMatches(CompareOp op, std::string_view value, std::string_view literal) {
  switch (op) {
    case CompareOp::kCo:
      return value.find(literal) != std::string_view::npos;
    case CompareOp::kSw:
      return value.substr(0, literal.size()) == literal;
    case CompareOp::kEw:
      return value.size() >= literal.size() &&
             value.substr(value.size() - literal.size()) == literal;
    default:
      return OrderingHolds(op, Compare(value, literal));
  }
}

// One scalar against the comparison of `node` (op != pr).
bool ScalarMatches(const BoundNode& node, const json::Value& v) {
  const Attribute& leaf = node.path.Leaf();
  switch (node.value.type) {
    case BoundValue::Type::kBoolean:
      return v.IsBool() && v.GetBool() == node.value.boolean;
    case BoundValue::Type::kNumber: {
      if (!v.IsNumber()) return false;
      double d = v.GetDouble();
      int cmp = d < node.value.number ? -1 : (d > node.value.number ? 1 : 0);
      return OrderingHolds(node.op, cmp);
    }
    case BoundValue::Type::kDateTime: {
      if (!v.IsString()) return false;
      auto canonical = NormalizeTimestamp(json::View(v));
      return canonical && OrderingHolds(node.op, Compare(*canonical, node.value.text));
    }
    case BoundValue::Type::kString: {
      if (!v.IsString()) return false;
      if (leaf.case_exact) return StringMatches(node.op, json::View(v), node.value.text);
      return StringMatches(node.op, FoldCase(json::View(v)), FoldCase(node.value.text));
    }
    case BoundValue::Type::kNone:
      return false;
  }
  return false;
}

bool Eval(const BoundNode& node, const json::Value& scope, bool element_scope);

// A kCompare node over `scope`: the resource, or one element of the parent complex attribute.
bool EvalCompare(const BoundNode& node, const json::Value& scope, bool element_scope) {
  const ResolvedPath& path = node.path;
  const Attribute& leaf = path.Leaf();
  if (element_scope) {
    if (path.sub_attribute == nullptr) return false;
    const json::Value* v = json::FindMemberCI(scope, path.sub_attribute->name);
    if (v == nullptr) return false;
    if (node.op == CompareOp::kPr) return AnyScalar(*v, IsPresentScalar);
    return AnyScalar(*v, [&](const json::Value& s) { return ScalarMatches(node, s); });
  }
  const json::Value* top = TopLevelValue(scope, path);
  if (top == nullptr) return false;
  if (node.op == CompareOp::kPr && leaf.type == AttributeType::kComplex) {
    return AnyElement(*top, [&](const json::Value& element) {
      return ElementHasValue(leaf, element, /*require_present=*/true);
    });
  }
  auto test = [&](const json::Value& s) {
    return node.op == CompareOp::kPr ? IsPresentScalar(s) : ScalarMatches(node, s);
  };
  if (path.sub_attribute == nullptr) return AnyScalar(*top, test);
  return AnyElement(*top, [&](const json::Value& element) {
    const json::Value* v = json::FindMemberCI(element, path.sub_attribute->name);
    return v != nullptr && AnyScalar(*v, test);
  });
}

bool Eval(const BoundNode& node, const json::Value& scope, bool element_scope) {
  switch (node.kind) {
    case BoundNode::Kind::kAnd:
      for (const BoundNode& child : node.children) {
        if (!Eval(child, scope, element_scope)) return false;
      }
      return true;
    case BoundNode::Kind::kOr:
      for (const BoundNode& child : node.children) {
        if (Eval(child, scope, element_scope)) return true;
      }
      return false;
    case BoundNode::Kind::kNot:
      return !Eval(node.children.at(0), scope, element_scope);
    case BoundNode::Kind::kCompare:
      return EvalCompare(node, scope, element_scope);
    case BoundNode::Kind::kValuePath: {
      if (element_scope) return false;  // the binder never nests value paths
      const json::Value* top = TopLevelValue(scope, node.path);
      if (top == nullptr) return false;
      const Attribute& attr = node.path.Leaf();
      return AnyElement(*top, [&](const json::Value& element) {
        // An element without any value does not exist for filtering (it has no index rows).
        return ElementHasValue(attr, element, /*require_present=*/false) &&
               Eval(node.children.at(0), element, /*element_scope=*/true);
      });
    }
  }
  return false;
}

}  // namespace

bool Matches(const BoundFilter& filter, const json::Value& resource) {
  return Eval(filter.root, resource, /*element_scope=*/false);
}

bool MatchesElement(const BoundFilter& value_filter, const json::Value& element) {
  return element.IsObject() && Eval(value_filter.root, element, /*element_scope=*/true);
}

}  // namespace scim::filter
