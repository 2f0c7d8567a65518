#include "scim/filter/bind.h"

#include <charconv>
#include <system_error>

#include "scim/common/clock.h"
#include "scim/common/strings.h"
#include "scim/filter/parser.h"

namespace scim::filter {
namespace {

using schema::Attribute;
using schema::AttributeType;
using schema::ResolvedPath;

Error Invalid(const std::string& detail) { return Error(ErrorCode::kInvalidFilter, detail); }

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

bool IsOrdering(CompareOp op) {
  return op == CompareOp::kGt || op == CompareOp::kGe || op == CompareOp::kLt ||
         op == CompareOp::kLe;
}
bool IsSubstring(CompareOp op) {
  return op == CompareOp::kCo || op == CompareOp::kSw || op == CompareOp::kEw;
}

bool ParseNumber(std::string_view text, double& out) {
  // Accept only JSON-shaped numbers: from_chars alone would take "inf" or "1." too.
  if (text.empty()) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E')) {
      return false;
    }
  }
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && p == text.data() + text.size();
}

class Binder {
 public:
  Binder(const schema::Registry& registry, const schema::ResourceType& type)
      : registry_(registry), type_(type) {}

  // `parent` is the value path's attribute when binding inside brackets, else nullptr.
  Result<BoundNode> BindNode(const Node& node, const AttrPath* parent) {
    switch (node.kind) {
      case Node::Kind::kAnd:
      case Node::Kind::kOr:
      case Node::Kind::kNot: {
        BoundNode out;
        out.kind = node.kind == Node::Kind::kAnd  ? BoundNode::Kind::kAnd
                   : node.kind == Node::Kind::kOr ? BoundNode::Kind::kOr
                                                  : BoundNode::Kind::kNot;
        for (const Node& child : node.children) {
          SCIM_TRY(auto bound, BindNode(child, parent));
          out.children.push_back(std::move(bound));
        }
        return out;
      }
      case Node::Kind::kValuePath:
        return BindValuePath(node, parent);
      case Node::Kind::kCompare:
        return BindCompare(node, parent);
    }
    return Invalid("unknown filter node");
  }

  // Resolves `path` (relative to `parent` when set) for use in a filter.
  Result<ResolvedPath> Resolve(const AttrPath& path, const AttrPath* parent) {
    std::string full;
    if (parent != nullptr) {
      if (!path.uri.empty() || !path.sub_attr.empty()) {
        return Invalid("inside " + Quote(parent->ToString()) +
                       "[...] an attribute path must be a sub-attribute name, not " +
                       Quote(path.ToString()));
      }
      full = parent->ToString() + "." + path.name;
    } else {
      full = path.ToString();
    }
    auto resolved = registry_.ResolvePath(type_, full, /*for_filter=*/true);
    if (!resolved.ok()) {
      if (resolved.error().code == ErrorCode::kInvalidFilter) return resolved.error();
      return Invalid(resolved.error().detail);
    }
    const ResolvedPath& rp = *resolved;
    if (rp.attribute->returned == schema::Returned::kNever ||
        (rp.sub_attribute != nullptr && rp.sub_attribute->returned == schema::Returned::kNever)) {
      return Invalid("attribute " + Quote(full) + " cannot be used in a filter");
    }
    return resolved;
  }

  Result<BoundNode> BindValuePath(const Node& node, const AttrPath* parent) {
    if (parent != nullptr) return Invalid("nested value filter in " + Quote(parent->ToString()));
    SCIM_TRY(auto rp, Resolve(node.attr, nullptr));
    if (rp.Leaf().type != AttributeType::kComplex) {
      return Invalid("value filter on " + Quote(node.attr.ToString()) +
                     ", which is not a complex attribute");
    }
    SCIM_TRY(auto inner, BindNode(node.children.at(0), &node.attr));
    BoundNode out;
    out.kind = BoundNode::Kind::kValuePath;
    out.path = std::move(rp);
    out.children.push_back(std::move(inner));
    return out;
  }

  Result<BoundNode> BindCompare(const Node& node, const AttrPath* parent) {
    SCIM_TRY(auto resolved, Resolve(node.attr, parent));
    ResolvedPath rp = std::move(resolved);
    std::string name = parent ? parent->ToString() + "." + node.attr.name : node.attr.ToString();
    const Literal& lit = node.value;

    BoundNode out;
    out.kind = BoundNode::Kind::kCompare;
    out.op = node.op;

    // pr, and eq/ne null, test presence (of the complex attribute itself when complex).
    bool null_test = node.op != CompareOp::kPr && lit.kind == Literal::Kind::kNull;
    if (null_test && node.op != CompareOp::kEq && node.op != CompareOp::kNe) {
      return Invalid("null can only be compared with eq or ne (" + Quote(name) + ")");
    }
    if (node.op == CompareOp::kPr || null_test) {
      out.op = CompareOp::kPr;
      out.path = std::move(rp);
      if (null_test && node.op == CompareOp::kEq) return Negate(std::move(out));
      return out;
    }

    if (rp.Leaf().type == AttributeType::kComplex) {
      const Attribute* value_sub = rp.Leaf().FindSub("value");
      if (value_sub == nullptr || rp.sub_attribute != nullptr) {
        return Invalid("complex attribute " + Quote(name) +
                       " needs a sub-attribute to be compared");
      }
      rp.sub_attribute = value_sub;
      if (value_sub->returned == schema::Returned::kNever) {
        return Invalid("attribute " + Quote(name + ".value") + " cannot be used in a filter");
      }
    }

    bool negate = node.op == CompareOp::kNe;
    CompareOp op = negate ? CompareOp::kEq : node.op;
    out.op = op;
    const Attribute& leaf = rp.Leaf();
    const char* op_name = CompareOpName(node.op);
    auto type_error = [&](const char* type_name) {
      return Invalid(std::string("operator '") + op_name + "' cannot be used with " + type_name +
                     " attribute " + Quote(name));
    };

    switch (leaf.type) {
      case AttributeType::kBoolean:
        if (op != CompareOp::kEq) return type_error("boolean");
        out.value.type = BoundValue::Type::kBoolean;
        if (lit.kind == Literal::Kind::kBoolean) {
          out.value.boolean = lit.boolean;
        } else if (lit.kind == Literal::Kind::kString &&
                   (EqualsIgnoreCase(lit.text, "true") || EqualsIgnoreCase(lit.text, "false"))) {
          out.value.boolean = EqualsIgnoreCase(lit.text, "true");
        } else {
          return Invalid(Quote(name) + " is boolean: expected true or false, got " + lit.ToJson());
        }
        out.value.text = out.value.boolean ? "true" : "false";
        break;
      case AttributeType::kInteger:
      case AttributeType::kDecimal:
        if (IsSubstring(op)) return type_error("numeric");
        out.value.type = BoundValue::Type::kNumber;
        if (lit.kind == Literal::Kind::kNumber) {
          out.value.number = lit.number;
          out.value.text = lit.text;
        } else if (lit.kind == Literal::Kind::kString && ParseNumber(lit.text, out.value.number)) {
          out.value.text = lit.text;
        } else {
          return Invalid(Quote(name) + " is numeric: expected a number, got " + lit.ToJson());
        }
        break;
      case AttributeType::kDateTime: {
        if (IsSubstring(op)) return type_error("dateTime");
        std::optional<std::string> canonical;
        if (lit.kind == Literal::Kind::kString) canonical = NormalizeTimestamp(lit.text);
        if (!canonical) {
          return Invalid(Quote(name) + " is a dateTime: " + lit.ToJson() +
                         " is not an xsd:dateTime");
        }
        out.value.type = BoundValue::Type::kDateTime;
        out.value.text = std::move(*canonical);
        break;
      }
      case AttributeType::kBinary:
        if (IsOrdering(op)) return type_error("binary");
        [[fallthrough]];
      case AttributeType::kString:
      case AttributeType::kReference:
        out.value.type = BoundValue::Type::kString;
        out.value.text = lit.text;  // a bare number or boolean keeps its text
        break;
      case AttributeType::kComplex:
        return Invalid("complex attribute " + Quote(name) + " cannot be compared");
    }
    out.path = std::move(rp);
    if (negate) return Negate(std::move(out));
    return out;
  }

  static BoundNode Negate(BoundNode node) {
    BoundNode out;
    out.kind = BoundNode::Kind::kNot;
    out.children.push_back(std::move(node));
    return out;
  }

 private:
  const schema::Registry& registry_;
  const schema::ResourceType& type_;
};

void AppendBound(const BoundNode& node, std::string& out) {
  switch (node.kind) {
    case BoundNode::Kind::kCompare: {
      out += node.path.attribute ? node.path.QualifiedName() : "?";
      out.push_back(' ');
      out += CompareOpName(node.op);
      if (node.op != CompareOp::kPr) {
        out.push_back(' ');
        Literal lit;
        switch (node.value.type) {
          case BoundValue::Type::kNumber:
            lit.kind = Literal::Kind::kNumber;
            break;
          case BoundValue::Type::kBoolean:
            lit.kind = Literal::Kind::kBoolean;
            lit.boolean = node.value.boolean;
            break;
          default:
            lit.kind = Literal::Kind::kString;
        }
        lit.text = node.value.text;
        out += lit.ToJson();
      }
      return;
    }
    case BoundNode::Kind::kAnd:
    case BoundNode::Kind::kOr: {
      const char* sep = node.kind == BoundNode::Kind::kAnd ? " and " : " or ";
      for (size_t i = 0; i < node.children.size(); ++i) {
        if (i > 0) out += sep;
        const BoundNode& child = node.children[i];
        bool group = child.kind == BoundNode::Kind::kAnd || child.kind == BoundNode::Kind::kOr;
        if (group) out.push_back('(');
        AppendBound(child, out);
        if (group) out.push_back(')');
      }
      return;
    }
    case BoundNode::Kind::kNot:
      out += "not (";
      if (!node.children.empty()) AppendBound(node.children[0], out);
      out.push_back(')');
      return;
    case BoundNode::Kind::kValuePath:
      out += node.path.attribute ? node.path.QualifiedName() : "?";
      out.push_back('[');
      if (!node.children.empty()) AppendBound(node.children[0], out);
      out.push_back(']');
      return;
  }
}

}  // namespace

std::string BoundNode::ToString() const {
  std::string out;
  AppendBound(*this, out);
  return out;
}

Result<BoundFilter> Bind(const Node& filter, const schema::Registry& registry,
                         const schema::ResourceType& type) {
  Binder binder(registry, type);
  SCIM_TRY(auto root, binder.BindNode(filter, nullptr));
  return BoundFilter{std::move(root)};
}

Result<BoundFilter> ParseAndBind(std::string_view text, const schema::Registry& registry,
                                 const schema::ResourceType& type) {
  SCIM_TRY(auto parsed, ParseFilter(text));
  return Bind(parsed, registry, type);
}

Result<BoundPath> BindPath(const PatchPath& path, const schema::Registry& registry,
                           const schema::ResourceType& type) {
  auto invalid_path = [](const Error& e) { return Error(ErrorCode::kInvalidPath, e.detail); };
  auto top = registry.ResolvePath(type, path.attr.ToString(), /*for_filter=*/false);
  if (!top.ok()) return invalid_path(top.error());
  BoundPath out;
  out.attribute = *top;
  out.target = *top;
  if (!path.sub_attr.empty()) {
    AttrPath full = path.attr;
    full.sub_attr = path.sub_attr;
    auto target = registry.ResolvePath(type, full.ToString(), /*for_filter=*/false);
    if (!target.ok()) return invalid_path(target.error());
    out.target = std::move(*target);
  }
  if (path.value_filter) {
    if (top->Leaf().type != AttributeType::kComplex) {
      return Error(ErrorCode::kInvalidPath, "value filter on '" + path.attr.ToString() +
                                                "', which is not a complex attribute");
    }
    Binder binder(registry, type);
    SCIM_TRY(auto inner, binder.BindNode(*path.value_filter, &path.attr));
    out.value_filter = BoundFilter{std::move(inner)};
  }
  return out;
}

}  // namespace scim::filter
