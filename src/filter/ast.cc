#include "scim/filter/ast.h"

#include <cstdio>

namespace scim::filter {
namespace {

void AppendJsonString(std::string_view s, std::string& out) {
  out.push_back('"');
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(c));
          out += buf;
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

void AppendNode(const Node& node, std::string& out) {
  switch (node.kind) {
    case Node::Kind::kCompare:
      out += node.attr.ToString();
      out.push_back(' ');
      out += CompareOpName(node.op);
      if (node.op != CompareOp::kPr) {
        out.push_back(' ');
        out += node.value.ToJson();
      }
      return;
    case Node::Kind::kAnd:
    case Node::Kind::kOr: {
      const char* sep = node.kind == Node::Kind::kAnd ? " and " : " or ";
      for (size_t i = 0; i < node.children.size(); ++i) {
        if (i > 0) out += sep;
        const Node& child = node.children[i];
        bool group = child.kind == Node::Kind::kAnd || child.kind == Node::Kind::kOr;
        if (group) out.push_back('(');
        AppendNode(child, out);
        if (group) out.push_back(')');
      }
      return;
    }
    case Node::Kind::kNot:
      out += "not (";
      if (!node.children.empty()) AppendNode(node.children[0], out);
      out.push_back(')');
      return;
    case Node::Kind::kValuePath:
      out += node.attr.ToString();
      out.push_back('[');
      if (!node.children.empty()) AppendNode(node.children[0], out);
      out.push_back(']');
      return;
  }
}

bool SamePath(const AttrPath& a, const AttrPath& b) {
  return a.uri == b.uri && a.name == b.name && a.sub_attr == b.sub_attr;
}

bool SameLiteral(const Literal& a, const Literal& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Literal::Kind::kString:
      return a.text == b.text;
    case Literal::Kind::kNumber:
      return a.text == b.text;
    case Literal::Kind::kBoolean:
      return a.boolean == b.boolean;
    case Literal::Kind::kNull:
      return true;
  }
  return false;
}

}  // namespace

const char* CompareOpName(CompareOp op) {
  switch (op) {
    case CompareOp::kEq:
      return "eq";
    case CompareOp::kNe:
      return "ne";
    case CompareOp::kCo:
      return "co";
    case CompareOp::kSw:
      return "sw";
    case CompareOp::kEw:
      return "ew";
    case CompareOp::kGt:
      return "gt";
    case CompareOp::kGe:
      return "ge";
    case CompareOp::kLt:
      return "lt";
    case CompareOp::kLe:
      return "le";
    case CompareOp::kPr:
      return "pr";
  }
  return "?";
}

std::string AttrPath::ToString() const {
  std::string out;
  if (!uri.empty()) {
    out += uri;
    out.push_back(':');
  }
  out += name;
  if (!sub_attr.empty()) {
    out.push_back('.');
    out += sub_attr;
  }
  return out;
}

std::string Literal::ToJson() const {
  switch (kind) {
    case Kind::kString: {
      std::string out;
      AppendJsonString(text, out);
      return out;
    }
    case Kind::kNumber:
      return text;
    case Kind::kBoolean:
      return boolean ? "true" : "false";
    case Kind::kNull:
      return "null";
  }
  return "null";
}

std::string Node::ToString() const {
  std::string out;
  AppendNode(*this, out);
  return out;
}

bool SameTree(const Node& a, const Node& b) {
  if (a.kind != b.kind || a.children.size() != b.children.size()) return false;
  if (a.kind == Node::Kind::kCompare || a.kind == Node::Kind::kValuePath) {
    if (!SamePath(a.attr, b.attr)) return false;
  }
  if (a.kind == Node::Kind::kCompare) {
    if (a.op != b.op) return false;
    if (a.op != CompareOp::kPr && !SameLiteral(a.value, b.value)) return false;
  }
  for (size_t i = 0; i < a.children.size(); ++i) {
    if (!SameTree(a.children[i], b.children[i])) return false;
  }
  return true;
}

std::string PatchPath::ToString() const {
  AttrPath top = attr;
  top.sub_attr.clear();
  std::string out = top.ToString();
  if (value_filter) {
    out.push_back('[');
    out += value_filter->ToString();
    out.push_back(']');
  }
  if (!sub_attr.empty()) {
    out.push_back('.');
    out += sub_attr;
  }
  return out;
}

}  // namespace scim::filter
