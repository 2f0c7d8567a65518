// PATCH targets: path resolution against the schemas and value-filter targeting.

#include "patch/target.h"

#include "patch/json_values.h"
#include "patch/operation.h"
#include "scim/common/strings.h"
#include "scim/filter/evaluator.h"
#include "scim/filter/parser.h"

namespace scim::patch::internal {

using schema::Attribute;
using schema::AttributeType;

Result<Target> Resolve(const schema::Registry& registry, const schema::ResourceType& type,
                       std::string_view path) {
  SCIM_TRY(auto parsed, filter::ParsePath(path));
  SCIM_TRY(auto bound, filter::BindPath(parsed, registry, type));
  Target t;
  t.text = std::string(Trim(path));
  t.attr = bound.attribute.attribute;
  t.sub = bound.target.sub_attribute;
  if (bound.attribute.in_extension) t.ext_urn = bound.attribute.schema_urn;
  t.qualified = t.ext_urn.empty() ? t.attr->name : t.ext_urn + ":" + t.attr->name;
  if (bound.value_filter) {
    if (!t.attr->multi_valued) {
      return InvalidPath("a value filter needs a multi-valued attribute, in \"" + t.text + "\"");
    }
    t.filter = std::move(bound.value_filter);
  }
  return t;
}

bool IsGroupMembers(const schema::ResourceType& type, const Target& t) {
  return t.ext_urn.empty() && EqualsIgnoreCase(t.attr->name, "members") &&
         EqualsIgnoreCase(type.schema, schema::kGroupSchema);
}

std::vector<size_t> Matching(const Target& t, const json::Value* array) {
  std::vector<size_t> out;
  if (array == nullptr || !array->IsArray()) return out;
  for (size_t i = 0; i < array->Size(); ++i) {
    if (filter::MatchesElement(*t.filter, (*array)[i])) out.push_back(i);
  }
  return out;
}

std::optional<std::string> SingleValueEq(const filter::BoundFilter& f) {
  const filter::BoundNode& n = f.root;
  if (n.kind != filter::BoundNode::Kind::kCompare || n.op != filter::CompareOp::kEq ||
      n.value.type != filter::BoundValue::Type::kString || n.path.sub_attribute == nullptr ||
      !EqualsIgnoreCase(n.path.sub_attribute->name, "value")) {
    return std::nullopt;
  }
  return n.value.text;
}

namespace {

using EqualityTerm = std::pair<const Attribute*, filter::BoundValue>;

void CollectEqualities(const filter::BoundNode& node, bool& ok, std::vector<EqualityTerm>& out) {
  if (!ok) return;
  if (node.kind == filter::BoundNode::Kind::kAnd) {
    for (const auto& child : node.children) CollectEqualities(child, ok, out);
  } else if (node.kind == filter::BoundNode::Kind::kCompare && node.op == filter::CompareOp::kEq &&
             node.path.sub_attribute != nullptr &&
             node.value.type != filter::BoundValue::Type::kNone) {
    out.emplace_back(node.path.sub_attribute, node.value);
  } else {
    ok = false;
  }
}

// When a value filter is `a eq lit` or a conjunction of such terms: the (sub-attribute, literal)
// pairs, from which a new element can be built. nullopt otherwise.
std::optional<std::vector<EqualityTerm>> EqualityTerms(const filter::BoundFilter& f) {
  std::vector<EqualityTerm> out;
  bool ok = true;
  CollectEqualities(f.root, ok, out);
  if (!ok) return std::nullopt;
  return out;
}

json::Value BoundValueToJson(const filter::BoundValue& v, json::Allocator& alloc) {
  switch (v.type) {
    case filter::BoundValue::Type::kString:
    case filter::BoundValue::Type::kDateTime:
      return json::String(v.text, alloc);
    case filter::BoundValue::Type::kBoolean:
      return json::Value(v.boolean);
    case filter::BoundValue::Type::kNumber: {
      json::Document doc;
      if (json::Parse(v.text, doc).ok() && doc.IsNumber()) return json::Value(doc, alloc);
      return json::Value(v.number);
    }
    case filter::BoundValue::Type::kNone:
      break;
  }
  return json::Value();
}

void AddExtra(const Target& t, json::Value& element, json::Value* extra, json::Allocator& alloc) {
  if (extra == nullptr) return;
  if (t.sub != nullptr) {
    SetMember(element, t.sub->name, *extra, alloc);
  } else if (extra->IsObject()) {
    MergeObject(element, *extra, alloc);
  }
}

}  // namespace

Result<json::Value> ElementFromFilter(const Target& t, Coercer& coercer, json::Value* extra,
                                      json::Allocator& alloc) {
  auto terms = EqualityTerms(*t.filter);
  if (!terms || t.attr->type != AttributeType::kComplex) {
    return NoTarget("no value of \"" + t.attr->name + "\" matches \"" + t.text +
                    "\" and the filter does not describe a new one");
  }
  json::Value element(rapidjson::kObjectType);
  for (const auto& [sub, literal] : *terms) {
    json::Value raw = BoundValueToJson(literal, alloc);
    auto v = coercer.Single(*sub, raw, t.attr->name + "." + sub->name, false, t.attr);
    if (!v.ok()) return v;
    SetMember(element, sub->name, *v, alloc);
  }
  AddExtra(t, element, extra, alloc);
  return element;
}

}  // namespace scim::patch::internal
