#include "scim/filter/parser.h"

#include <charconv>
#include <cstdint>
#include <string>
#include <system_error>

#include "scim/common/strings.h"
#include "scim/common/utf8.h"

namespace scim::filter {
namespace {

bool IsWs(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsNameChar(char c) { return IsAlpha(c) || IsDigit(c) || c == '-' || c == '_'; }
// Characters that may appear in an attrPath token (URN, name, sub-attribute).
bool IsPathChar(char c) { return IsNameChar(c) || c == ':' || c == '.' || c == '$'; }

// ATTRNAME = ALPHA *(nameChar), optionally prefixed with '$' ("$ref").
bool IsValidName(std::string_view name) {
  if (!name.empty() && name[0] == '$') name.remove_prefix(1);
  if (name.empty() || !IsAlpha(name[0])) return false;
  for (char c : name) {
    if (!IsNameChar(c)) return false;
  }
  return true;
}

// JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool IsJsonNumber(std::string_view s, bool& integral) {
  size_t i = 0;
  integral = true;
  if (i < s.size() && s[i] == '-') ++i;
  if (i >= s.size()) return false;
  if (s[i] == '0') {
    ++i;
  } else if (s[i] >= '1' && s[i] <= '9') {
    while (i < s.size() && IsDigit(s[i])) ++i;
  } else {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    integral = false;
    ++i;
    size_t start = i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    if (i == start) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    integral = false;
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t start = i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    if (i == start) return false;
  }
  return i == s.size();
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class Parser {
 public:
  Parser(std::string_view text, ErrorCode code) : in_(text), code_(code) {}

  Result<Node> ParseWholeFilter() {
    SCIM_RETURN_IF_ERROR(CheckInput("filter"));
    SkipWs();
    if (AtEnd()) return Fail("empty filter", pos_);
    auto node = ParseOr();
    if (!node.ok()) return node.error();
    SkipWs();
    if (!AtEnd()) {
      if (Peek() == ')') return Fail("unbalanced ')'", pos_);
      return Fail("expected 'and', 'or' or end of filter", pos_);
    }
    return node;
  }

  Result<PatchPath> ParseWholePath() {
    SCIM_RETURN_IF_ERROR(CheckInput("path"));
    // Trailing whitespace is not part of the path.
    size_t end = in_.size();
    while (end > 0 && IsWs(in_[end - 1])) --end;
    in_ = in_.substr(0, end);
    SkipWs();
    if (AtEnd()) return Fail("empty path", pos_);
    PatchPath out;
    out.text = std::string(in_.substr(pos_));
    SCIM_TRY(auto attr, ParseAttrPath());
    out.attr = std::move(attr);
    out.sub_attr = std::move(out.attr.sub_attr);
    out.attr.sub_attr.clear();
    if (!AtEnd() && Peek() == '[') {
      if (!out.sub_attr.empty()) {
        return Fail("a value filter must follow an attribute without sub-attribute", pos_);
      }
      SCIM_TRY(auto filter, ParseBrackets());
      out.value_filter = std::move(filter);
      if (!AtEnd() && Peek() == '.') {
        size_t start = ++pos_;
        while (!AtEnd() && (IsNameChar(Peek()) || Peek() == '$')) ++pos_;
        std::string_view sub = in_.substr(start, pos_ - start);
        if (!IsValidName(sub)) return Fail("expected sub-attribute name", start);
        out.sub_attr = std::string(sub);
      }
    }
    if (!AtEnd()) return Fail("unexpected character in path", pos_);
    return out;
  }

 private:
  Error Fail(const std::string& what, size_t at) const {
    return Error(code_, what + " at offset " + std::to_string(at));
  }

  Status CheckInput(const char* what) {
    if (in_.size() > kMaxFilterLength) {
      return Error(code_, std::string(what) + " is longer than " +
                              std::to_string(kMaxFilterLength) + " bytes");
    }
    if (size_t bad = FindInvalidUtf8(in_); bad != std::string_view::npos) {
      return Fail("invalid UTF-8", bad);
    }
    return OkStatus();
  }

  bool AtEnd() const { return pos_ >= in_.size(); }
  char Peek() const { return in_[pos_]; }
  void SkipWs() {
    while (!AtEnd() && IsWs(Peek())) ++pos_;
  }

  // True when the word `kw` (case-insensitive) starts at pos_ and is not followed by a name
  // character. Consumes nothing.
  bool LookingAtWord(std::string_view kw) const {
    if (in_.size() - pos_ < kw.size()) return false;
    if (!EqualsIgnoreCase(in_.substr(pos_, kw.size()), kw)) return false;
    size_t after = pos_ + kw.size();
    return after >= in_.size() || !IsPathChar(in_[after]);
  }

  Status Enter(size_t at) {
    if (++depth_ > kMaxFilterDepth) {
      return Fail("filter nested deeper than " + std::to_string(kMaxFilterDepth) + " levels", at);
    }
    return OkStatus();
  }

  // or-expression: and-expression *("or" and-expression)
  Result<Node> ParseOr() {
    return ParseChain("or", Node::Kind::kOr, [this] { return ParseAnd(); });
  }

  // and-expression: primary *("and" primary)
  Result<Node> ParseAnd() {
    return ParseChain("and", Node::Kind::kAnd, [this] { return ParsePrimary(); });
  }

  template <class Next>
  Result<Node> ParseChain(std::string_view keyword, Node::Kind kind, Next next) {
    SkipWs();
    size_t start = pos_;
    SCIM_TRY(auto first, next());
    Node chain;
    chain.kind = kind;
    chain.offset = start;
    chain.children.push_back(std::move(first));
    while (true) {
      size_t save = pos_;
      SkipWs();
      if (AtEnd() || !LookingAtWord(keyword)) {
        pos_ = save;
        break;
      }
      pos_ += keyword.size();
      SkipWs();
      SCIM_TRY(auto child, next());
      chain.children.push_back(std::move(child));
    }
    if (chain.children.size() == 1) return std::move(chain.children[0]);
    return chain;
  }

  // primary: "(" filter ")" / "not" "(" filter ")" / attrPath "[" valFilter "]" / attrExp
  Result<Node> ParsePrimary() {
    SkipWs();
    size_t start = pos_;
    if (AtEnd()) return Fail("expected attribute path, '(' or 'not'", pos_);
    if (Peek() == '(') return ParseGroup(start);
    if (LookingAtWord("not")) {
      size_t p = pos_ + 3;
      while (p < in_.size() && IsWs(in_[p])) ++p;
      if (p < in_.size() && in_[p] == '(') {
        pos_ = p;
        SCIM_TRY(auto inner, ParseGroup(p));
        Node node;
        node.kind = Node::Kind::kNot;
        node.offset = start;
        node.children.push_back(std::move(inner));
        return node;
      }
      // Otherwise "not" is an attribute name.
    }
    if (Peek() == ')' || Peek() == ']') return Fail("expected attribute path, '(' or 'not'", pos_);
    SCIM_TRY(auto attr, ParseAttrPath());
    Node node;
    node.offset = start;
    node.attr = std::move(attr);
    if (!AtEnd() && Peek() == '[') {
      if (!node.attr.sub_attr.empty()) {
        return Fail("a value filter must follow an attribute without sub-attribute", pos_);
      }
      auto inner = ParseBrackets();
      if (!inner.ok()) return inner.error();
      node.kind = Node::Kind::kValuePath;
      if (!AtEnd() && Peek() == '.') {
        auto merged = ParseValuePathComparison(std::move(*inner));
        if (!merged.ok()) return merged.error();
        inner = std::move(merged);
      }
      node.children.push_back(std::move(*inner));
      return node;
    }
    SCIM_RETURN_IF_ERROR(ParseComparison(node));
    return node;
  }

  // Microsoft Entra ID writes `emails[type eq "work"].value eq "x"`, which RFC 7644 §3.4.2.2's
  // grammar does not have; it means `emails[type eq "work" and value eq "x"]`. With pos_ at the
  // '.', returns that inner filter.
  Result<Node> ParseValuePathComparison(Node inner) {
    size_t sub_start = ++pos_;
    while (!AtEnd() && IsNameChar(Peek())) ++pos_;
    if (pos_ == sub_start) return Fail("expected sub-attribute name", sub_start);
    if (!IsValidName(in_.substr(sub_start, pos_ - sub_start))) {
      return Fail("invalid sub-attribute name", sub_start);
    }
    Node compare;
    compare.offset = sub_start;
    compare.attr.name = std::string(in_.substr(sub_start, pos_ - sub_start));
    compare.attr.offset = sub_start;
    SCIM_RETURN_IF_ERROR(ParseComparison(compare));
    Node both;
    both.kind = Node::Kind::kAnd;
    both.offset = inner.offset;
    both.children.push_back(std::move(inner));
    both.children.push_back(std::move(compare));
    return both;
  }

  // The operator and value of `node`, whose attribute path is parsed.
  Status ParseComparison(Node& node) {
    node.kind = Node::Kind::kCompare;
    SkipWs();
    size_t op_start = pos_;
    while (!AtEnd() && IsAlpha(Peek())) ++pos_;
    std::string op = ToLower(in_.substr(op_start, pos_ - op_start));
    bool op_ok = (AtEnd() || !IsPathChar(Peek()));
    if (op == "eq")
      node.op = CompareOp::kEq;
    else if (op == "ne")
      node.op = CompareOp::kNe;
    else if (op == "co")
      node.op = CompareOp::kCo;
    else if (op == "sw")
      node.op = CompareOp::kSw;
    else if (op == "ew")
      node.op = CompareOp::kEw;
    else if (op == "gt")
      node.op = CompareOp::kGt;
    else if (op == "ge")
      node.op = CompareOp::kGe;
    else if (op == "lt")
      node.op = CompareOp::kLt;
    else if (op == "le")
      node.op = CompareOp::kLe;
    else if (op == "pr")
      node.op = CompareOp::kPr;
    else
      op_ok = false;
    if (!op_ok) return Fail("expected comparison operator", op_start);
    if (node.op == CompareOp::kPr) return OkStatus();
    SkipWs();
    SCIM_TRY(auto value, ParseValue());
    node.value = std::move(value);
    return OkStatus();
  }

  // "(" filter ")" with pos_ at the "(".
  Result<Node> ParseGroup(size_t start) {
    SCIM_RETURN_IF_ERROR(Enter(start));
    ++pos_;
    auto inner = ParseOr();
    if (!inner.ok()) return inner.error();
    SkipWs();
    if (AtEnd() || Peek() != ')') return Fail("expected ')'", pos_);
    ++pos_;
    --depth_;
    return inner;
  }

  // "[" valFilter "]" with pos_ at the "[". Errors inside are kInvalidFilter even in a path.
  Result<Node> ParseBrackets() {
    if (in_brackets_) return Fail("nested value filter", pos_);
    ErrorCode saved = code_;
    code_ = ErrorCode::kInvalidFilter;
    SCIM_RETURN_IF_ERROR(Enter(pos_));
    ++pos_;
    in_brackets_ = true;
    auto inner = ParseOr();
    if (!inner.ok()) return inner.error();
    SkipWs();
    if (AtEnd() || Peek() != ']') return Fail("expected ']'", pos_);
    ++pos_;
    in_brackets_ = false;
    --depth_;
    code_ = saved;
    return inner;
  }

  // attrPath = [URI ":"] ATTRNAME *1subAttr; the URI ends at the last ':' of the token.
  Result<AttrPath> ParseAttrPath() {
    size_t start = pos_;
    while (!AtEnd() && IsPathChar(Peek())) ++pos_;
    std::string_view token = in_.substr(start, pos_ - start);
    if (token.empty()) return Fail("expected attribute path", start);
    AttrPath path;
    path.offset = start;
    size_t colon = token.rfind(':');
    std::string_view rest = token;
    size_t rest_offset = start;
    if (colon != std::string_view::npos) {
      std::string_view uri = token.substr(0, colon);
      if (uri.empty() || !IsAlpha(uri[0])) return Fail("invalid schema URN", start);
      if (size_t dollar = uri.find('$'); dollar != std::string_view::npos) {
        return Fail("invalid character in schema URN", start + dollar);
      }
      path.uri = std::string(uri);
      rest = token.substr(colon + 1);
      rest_offset = start + colon + 1;
    }
    size_t dot = rest.find('.');
    std::string_view name = rest.substr(0, dot);
    if (!IsValidName(name)) return Fail("invalid attribute name", rest_offset);
    path.name = std::string(name);
    if (dot != std::string_view::npos) {
      std::string_view sub = rest.substr(dot + 1);
      if (size_t extra = sub.find('.'); extra != std::string_view::npos) {
        return Fail("more than one sub-attribute", rest_offset + dot + 1 + extra);
      }
      if (!IsValidName(sub)) return Fail("invalid sub-attribute name", rest_offset + dot + 1);
      path.sub_attr = std::string(sub);
    }
    return path;
  }

  // compValue: a JSON string, number, true, false or null; or a bare token (a string).
  Result<Literal> ParseValue() {
    size_t start = pos_;
    if (AtEnd() || Peek() == ')' || Peek() == ']') return Fail("expected comparison value", pos_);
    Literal lit;
    lit.offset = start;
    if (Peek() == '"') {
      SCIM_TRY(auto text, ParseQuoted());
      lit.kind = Literal::Kind::kString;
      lit.text = std::move(text);
      return lit;
    }
    while (!AtEnd() && !IsWs(Peek()) && Peek() != ')' && Peek() != ']') ++pos_;
    std::string_view token = in_.substr(start, pos_ - start);
    lit.bare = true;
    bool integral = false;
    if (EqualsIgnoreCase(token, "true") || EqualsIgnoreCase(token, "false")) {
      lit.kind = Literal::Kind::kBoolean;
      lit.boolean = EqualsIgnoreCase(token, "true");
      lit.text = lit.boolean ? "true" : "false";
    } else if (EqualsIgnoreCase(token, "null")) {
      lit.kind = Literal::Kind::kNull;
      lit.text = "null";
    } else if (IsJsonNumber(token, integral)) {
      lit.kind = Literal::Kind::kNumber;
      lit.text = std::string(token);
      auto [p, ec] = std::from_chars(token.data(), token.data() + token.size(), lit.number);
      if (ec != std::errc() || p != token.data() + token.size()) {
        return Fail("number out of range", start);
      }
      if (integral) {
        int64_t i = 0;
        auto [pi, eci] = std::from_chars(token.data(), token.data() + token.size(), i);
        if (eci == std::errc() && pi == token.data() + token.size()) lit.integer = i;
      }
    } else {
      if (token.find('"') != std::string_view::npos) {
        return Fail("unexpected '\"' in unquoted value", start + token.find('"'));
      }
      for (size_t i = 0; i < token.size(); ++i) {
        if (static_cast<unsigned char>(token[i]) < 0x20 || token[i] == 0x7F) {
          return Fail("control character in unquoted value", start + i);
        }
      }
      lit.kind = Literal::Kind::kString;
      lit.text = std::string(token);
    }
    return lit;
  }

  // A JSON string (RFC 8259 §7) with pos_ at the opening quote.
  Result<std::string> ParseQuoted() {
    size_t start = pos_++;
    std::string out;
    while (true) {
      if (AtEnd()) return Fail("unterminated string", start);
      char c = in_[pos_];
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (static_cast<unsigned char>(c) < 0x20) {
        return Fail("unescaped control character in string", pos_);
      }
      if (c != '\\') {
        out.push_back(c);
        ++pos_;
        continue;
      }
      size_t esc = pos_;
      if (pos_ + 1 >= in_.size()) return Fail("unterminated string", start);
      char e = in_[pos_ + 1];
      pos_ += 2;
      switch (e) {
        case '"':
          out.push_back('"');
          break;
        case '\\':
          out.push_back('\\');
          break;
        case '/':
          out.push_back('/');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u': {
          SCIM_TRY(auto cp, ReadHex4(esc));
          uint32_t code = cp;
          if (code >= 0xDC00 && code <= 0xDFFF)
            return Fail("unpaired surrogate in \\u escape", esc);
          if (code >= 0xD800 && code <= 0xDBFF) {
            if (pos_ + 1 >= in_.size() || in_[pos_] != '\\' || in_[pos_ + 1] != 'u') {
              return Fail("unpaired surrogate in \\u escape", esc);
            }
            size_t low_at = pos_;
            pos_ += 2;
            SCIM_TRY(auto low, ReadHex4(low_at));
            if (low < 0xDC00 || low > 0xDFFF) {
              return Fail("unpaired surrogate in \\u escape", esc);
            }
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
          }
          if (code == 0) return Fail("\\u0000 is not allowed in a filter value", esc);
          AppendUtf8(code, out);
          break;
        }
        default:
          return Fail("invalid escape sequence in string", esc);
      }
    }
  }

  // Four hex digits at pos_ (after "\u" which starts at `esc`).
  Result<uint32_t> ReadHex4(size_t esc) {
    if (in_.size() - pos_ < 4) return Fail("invalid \\u escape", esc);
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      int h = HexValue(in_[pos_ + i]);
      if (h < 0) return Fail("invalid \\u escape", esc);
      v = v * 16 + static_cast<uint32_t>(h);
    }
    pos_ += 4;
    return v;
  }

  std::string_view in_;
  ErrorCode code_;
  size_t pos_ = 0;
  int depth_ = 0;
  bool in_brackets_ = false;
};

}  // namespace

Result<Node> ParseFilter(std::string_view text) {
  return Parser(text, ErrorCode::kInvalidFilter).ParseWholeFilter();
}

Result<PatchPath> ParsePath(std::string_view text) {
  return Parser(text, ErrorCode::kInvalidPath).ParseWholePath();
}

}  // namespace scim::filter
