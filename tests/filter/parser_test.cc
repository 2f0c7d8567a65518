// Parser tests: every construct of RFC 7644 §3.4.2.2 Figure 1, precedence, escapes, lenient
// forms real clients send, errors with offsets, and the length/depth bounds.
#include "scim/filter/parser.h"

#include <boost/test/unit_test.hpp>

namespace scim::filter {
namespace {

Node MustParse(std::string_view text) {
  auto r = ParseFilter(text);
  BOOST_TEST_REQUIRE(r.ok(), "ParseFilter(" << text << "): " << (r.ok() ? "" : r.error().detail));
  return std::move(*r);
}

std::string ParseError(std::string_view text) {
  auto r = ParseFilter(text);
  BOOST_TEST_REQUIRE(!r.ok(), "expected an error for: " << text);
  BOOST_TEST(static_cast<int>(r.error().code) == static_cast<int>(ErrorCode::kInvalidFilter));
  return r.error().detail;
}

// The canonical form of the parse tree.
std::string Canon(std::string_view text) { return MustParse(text).ToString(); }

}  // namespace

BOOST_AUTO_TEST_SUITE(filter_parser)

BOOST_AUTO_TEST_CASE(simple_comparison) {
  Node n = MustParse("userName eq \"bjensen\"");
  BOOST_TEST(static_cast<int>(n.kind) == static_cast<int>(Node::Kind::kCompare));
  BOOST_TEST(n.attr.name == "userName");
  BOOST_TEST(n.attr.uri.empty());
  BOOST_TEST(n.attr.sub_attr.empty());
  BOOST_TEST(static_cast<int>(n.op) == static_cast<int>(CompareOp::kEq));
  BOOST_TEST(static_cast<int>(n.value.kind) == static_cast<int>(Literal::Kind::kString));
  BOOST_TEST(n.value.text == "bjensen");
  BOOST_TEST(!n.value.bare);
  BOOST_TEST(n.value.offset == 12u);
}

BOOST_AUTO_TEST_CASE(all_operators_any_case) {
  const std::pair<const char*, CompareOp> ops[] = {
      {"eq", CompareOp::kEq}, {"NE", CompareOp::kNe}, {"Co", CompareOp::kCo},
      {"sW", CompareOp::kSw}, {"ew", CompareOp::kEw}, {"GT", CompareOp::kGt},
      {"ge", CompareOp::kGe}, {"lt", CompareOp::kLt}, {"Le", CompareOp::kLe}};
  for (const auto& [name, op] : ops) {
    Node n = MustParse(std::string("title ") + name + " \"x\"");
    BOOST_TEST(static_cast<int>(n.op) == static_cast<int>(op), name);
  }
  Node pr = MustParse("title PR");
  BOOST_TEST(static_cast<int>(pr.op) == static_cast<int>(CompareOp::kPr));
  BOOST_TEST(Canon("title PR") == "title pr");
}

BOOST_AUTO_TEST_CASE(and_binds_tighter_than_or) {
  Node n = MustParse("a pr or b pr and c pr");
  BOOST_TEST(static_cast<int>(n.kind) == static_cast<int>(Node::Kind::kOr));
  BOOST_TEST_REQUIRE(n.children.size() == 2u);
  BOOST_TEST(n.children[0].attr.name == "a");
  BOOST_TEST(static_cast<int>(n.children[1].kind) == static_cast<int>(Node::Kind::kAnd));
  BOOST_TEST(Canon("a pr and b pr or c pr") == "(a pr and b pr) or c pr");
  BOOST_TEST(Canon("a pr or b pr and c pr or d pr") == "a pr or (b pr and c pr) or d pr");
  // A chain is one n-ary node.
  BOOST_TEST(MustParse("a pr and b pr and c pr").children.size() == 3u);
}

// Microsoft Entra ID's `attr[filter].sub op value` means `attr[filter and sub op value]`.
BOOST_AUTO_TEST_CASE(entra_value_path_comparison) {
  Node entra = MustParse("emails[type eq \"work\"].value eq \"x@example.com\"");
  Node rfc = MustParse("emails[type eq \"work\" and value eq \"x@example.com\"]");
  BOOST_TEST(SameTree(entra, rfc));
}

BOOST_AUTO_TEST_CASE(parentheses_and_not) {
  BOOST_TEST(Canon("(a pr or b pr) and c pr") == "(a pr or b pr) and c pr");
  BOOST_TEST(Canon("((a pr))") == "a pr");
  Node n = MustParse("not (a pr)");
  BOOST_TEST(static_cast<int>(n.kind) == static_cast<int>(Node::Kind::kNot));
  BOOST_TEST(Canon("NOT(a pr or b pr)") == "not (a pr or b pr)");
  BOOST_TEST(Canon("userType ne \"Employee\" and not (emails co \"example.com\" or "
                   "emails.value co \"example.org\")") ==
             "userType ne \"Employee\" and not (emails co \"example.com\" or emails.value co "
             "\"example.org\")");
  // "not" not followed by "(" is an attribute name.
  Node attr = MustParse("not eq 1");
  BOOST_TEST(attr.attr.name == "not");
  BOOST_TEST(MustParse("notes pr").attr.name == "notes");
  BOOST_TEST(MustParse("order pr").attr.name == "order");
  BOOST_TEST(MustParse("android pr").attr.name == "android");
}

BOOST_AUTO_TEST_CASE(value_paths) {
  Node n = MustParse("emails[type eq \"work\" and value co \"@example.com\"]");
  BOOST_TEST(static_cast<int>(n.kind) == static_cast<int>(Node::Kind::kValuePath));
  BOOST_TEST(n.attr.name == "emails");
  BOOST_TEST_REQUIRE(n.children.size() == 1u);
  BOOST_TEST(static_cast<int>(n.children[0].kind) == static_cast<int>(Node::Kind::kAnd));
  BOOST_TEST(n.children[0].children[0].attr.name == "type");
  BOOST_TEST(Canon("userType eq \"Employee\" and emails[type eq \"work\" and value co "
                   "\"@example.com\"]") ==
             "userType eq \"Employee\" and emails[type eq \"work\" and value co \"@example.com\"]");
  BOOST_TEST(Canon("emails[not (type eq \"work\") or primary eq true]") ==
             "emails[not (type eq \"work\") or primary eq true]");
  BOOST_TEST(Canon("members[value eq \"2819c223\"]") == "members[value eq \"2819c223\"]");
}

BOOST_AUTO_TEST_CASE(urn_paths) {
  Node n = MustParse(
      "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"26118915\"");
  BOOST_TEST(n.attr.uri == "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User");
  BOOST_TEST(n.attr.name == "manager");
  BOOST_TEST(n.attr.sub_attr == "value");
  Node core = MustParse("urn:ietf:params:scim:schemas:core:2.0:User:name.familyName sw \"J\"");
  BOOST_TEST(core.attr.uri == "urn:ietf:params:scim:schemas:core:2.0:User");
  BOOST_TEST(core.attr.name == "name");
  BOOST_TEST(core.attr.sub_attr == "familyName");
  Node emp = MustParse(
      "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq \"701984\"");
  BOOST_TEST(emp.attr.name == "employeeNumber");
  BOOST_TEST(emp.attr.ToString() ==
             "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber");
  Node ref = MustParse("members.$ref pr");
  BOOST_TEST(ref.attr.sub_attr == "$ref");
  BOOST_TEST(MustParse("meta.lastModified gt \"2011-05-13T04:42:34Z\"").attr.sub_attr ==
             "lastModified");
}

BOOST_AUTO_TEST_CASE(string_escapes) {
  Node n = MustParse(R"(title eq "q\" b\\ s\/ \b\f\n\r\t \u00e9 \u20AC \ud83d\ude00")");
  BOOST_TEST(n.value.text == "q\" b\\ s/ \b\f\n\r\t \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
  // Raw UTF-8 passes through.
  BOOST_TEST(MustParse("title eq \"日本\"").value.text == "日本");
  // ToString re-escapes so that the result parses back to the same tree.
  Node back = MustParse(n.ToString());
  BOOST_TEST(SameTree(n, back));
  BOOST_TEST(MustParse("title eq \"\"").value.text.empty());
}

BOOST_AUTO_TEST_CASE(numbers_booleans_null) {
  Node i = MustParse("count gt 42");
  BOOST_TEST(static_cast<int>(i.value.kind) == static_cast<int>(Literal::Kind::kNumber));
  BOOST_TEST(i.value.number == 42.0);
  BOOST_TEST_REQUIRE(i.value.integer.has_value());
  BOOST_TEST(*i.value.integer == 42);
  Node d = MustParse("score le -1.5e2");
  BOOST_TEST(d.value.number == -150.0);
  BOOST_TEST(!d.value.integer.has_value());
  BOOST_TEST(d.value.text == "-1.5e2");
  BOOST_TEST(MustParse("x eq 0").value.number == 0.0);
  BOOST_TEST(MustParse("x eq 0.25").value.number == 0.25);
  BOOST_TEST(MustParse("x eq 1E+3").value.number == 1000.0);
  // 2^63 is not an int64 but is a number.
  Node big = MustParse("x eq 9223372036854775808");
  BOOST_TEST(!big.value.integer.has_value());
  BOOST_TEST(MustParse("x eq 9223372036854775807").value.integer.value() == INT64_MAX);

  Node t = MustParse("active eq true");
  BOOST_TEST(static_cast<int>(t.value.kind) == static_cast<int>(Literal::Kind::kBoolean));
  BOOST_TEST(t.value.boolean);
  Node f = MustParse("active eq False");  // any case
  BOOST_TEST(!f.value.boolean);
  BOOST_TEST(static_cast<int>(MustParse("x eq null").value.kind) ==
             static_cast<int>(Literal::Kind::kNull));
  // Quoted keywords and numbers stay strings.
  Node qs = MustParse("x eq \"true\"");
  BOOST_TEST(static_cast<int>(qs.value.kind) == static_cast<int>(Literal::Kind::kString));
  BOOST_TEST(static_cast<int>(MustParse("x eq \"12\"").value.kind) ==
             static_cast<int>(Literal::Kind::kString));
  BOOST_TEST(ParseError("x eq 1e999").find("number out of range at offset 5") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(bare_values) {
  Node n = MustParse("externalId eq jyoung");
  BOOST_TEST(static_cast<int>(n.value.kind) == static_cast<int>(Literal::Kind::kString));
  BOOST_TEST(n.value.text == "jyoung");
  BOOST_TEST(n.value.bare);
  // Not JSON numbers: strings.
  BOOST_TEST(static_cast<int>(MustParse("x eq 01").value.kind) ==
             static_cast<int>(Literal::Kind::kString));
  BOOST_TEST(MustParse("x eq 1.2.3").value.text == "1.2.3");
  BOOST_TEST(MustParse("meta.lastModified gt 2011-05-13T04:42:34Z").value.text ==
             "2011-05-13T04:42:34Z");
  // A bare value ends at whitespace, ')' or ']'.
  Node grouped = MustParse("(externalId eq abc) and emails[type eq work]");
  BOOST_TEST(grouped.children[0].value.text == "abc");
  BOOST_TEST(grouped.children[1].children[0].value.text == "work");
  BOOST_TEST(ParseError("x eq ab\"c").find("offset 7") != std::string::npos);
  BOOST_TEST(ParseError(std::string_view("x eq a\0b", 8)) ==
             "control character in unquoted value at offset 6");
  BOOST_TEST(ParseError("x eq a\x01") == "control character in unquoted value at offset 6");
}

BOOST_AUTO_TEST_CASE(whitespace_tolerance) {
  BOOST_TEST(Canon("  userName   eq\t\"a\"  ") == "userName eq \"a\"");
  BOOST_TEST(Canon("a eq \"x\"and b pr") == "a eq \"x\" and b pr");
  BOOST_TEST(Canon("(a pr)or(b pr)") == "a pr or b pr");
  BOOST_TEST(Canon("not(a pr)") == "not (a pr)");
  BOOST_TEST(Canon("a eq \"x\"\nor\r\nb pr") == "a eq \"x\" or b pr");
}

BOOST_AUTO_TEST_CASE(errors_carry_offsets) {
  BOOST_TEST(ParseError("userName xx \"bjensen\"") == "expected comparison operator at offset 9");
  BOOST_TEST(ParseError("userName eq") == "expected comparison value at offset 11");
  BOOST_TEST(ParseError("userName") == "expected comparison operator at offset 8");
  BOOST_TEST(ParseError("userName eqx 1") == "expected comparison operator at offset 9");
  BOOST_TEST(ParseError("(userName pr") == "expected ')' at offset 12");
  BOOST_TEST(ParseError("userName pr)") == "unbalanced ')' at offset 11");
  BOOST_TEST(ParseError("userName pr userName pr") ==
             "expected 'and', 'or' or end of filter at offset 12");
  BOOST_TEST(ParseError("userName pr and") == "expected attribute path, '(' or 'not' at offset 15");
  BOOST_TEST(ParseError("") == "empty filter at offset 0");
  BOOST_TEST(ParseError("   ") == "empty filter at offset 3");
  BOOST_TEST(ParseError("title eq \"abc") == "unterminated string at offset 9");
  BOOST_TEST(ParseError("title eq \"a\\qb\"") == "invalid escape sequence in string at offset 11");
  BOOST_TEST(ParseError("title eq \"\\u12\"") == "invalid \\u escape at offset 10");
  BOOST_TEST(ParseError("title eq \"\\ud83d\"") == "unpaired surrogate in \\u escape at offset 10");
  BOOST_TEST(ParseError("title eq \"\\ude00\"") == "unpaired surrogate in \\u escape at offset 10");
  BOOST_TEST(ParseError("title eq \"\\u0000\"") ==
             "\\u0000 is not allowed in a filter value at offset 10");
  BOOST_TEST(ParseError("title eq \"a\tb\"") ==
             "unescaped control character in string at offset 11");
  BOOST_TEST(ParseError("title eq \"\xC3\"") == "invalid UTF-8 at offset 10");
  BOOST_TEST(ParseError("title eq \"\xED\xA0\x80\"") == "invalid UTF-8 at offset 10");
  BOOST_TEST(ParseError("a.b.c pr") == "more than one sub-attribute at offset 3");
  BOOST_TEST(ParseError("1abc pr") == "invalid attribute name at offset 0");
  BOOST_TEST(ParseError("name. pr") == "invalid sub-attribute name at offset 5");
  BOOST_TEST(ParseError(":name pr") == "invalid schema URN at offset 0");
  BOOST_TEST(ParseError("emails[type eq \"work\"") == "expected ']' at offset 21");
  BOOST_TEST(ParseError("emails[type eq \"work\"].value") == "expected comparison operator at offset 28");
  BOOST_TEST(ParseError("emails[type eq \"work\"]. eq \"x\"") ==
             "expected sub-attribute name at offset 23");
  // Found by fuzz_filter: a sub-attribute after ']' must be an ATTRNAME too.
  BOOST_TEST(ParseError("emails[type eq \"work\"].5itle pr") ==
             "invalid sub-attribute name at offset 23");
  BOOST_TEST(ParseError("emails[addresses[type pr]]") == "nested value filter at offset 16");
  BOOST_TEST(ParseError("name.givenName[x pr]") ==
             "a value filter must follow an attribute without sub-attribute at offset 14");
  BOOST_TEST(ParseError("emails[]") == "expected attribute path, '(' or 'not' at offset 7");
  BOOST_TEST(ParseError("not (a pr") == "expected ')' at offset 9");
  BOOST_TEST(ParseError("a eq )") == "expected comparison value at offset 5");
}

BOOST_AUTO_TEST_CASE(depth_bound) {
  std::string ok = std::string(kMaxFilterDepth, '(') + "a pr" + std::string(kMaxFilterDepth, ')');
  BOOST_TEST(ParseFilter(ok).ok());
  std::string deep =
      std::string(kMaxFilterDepth + 1, '(') + "a pr" + std::string(kMaxFilterDepth + 1, ')');
  BOOST_TEST(ParseError(deep) == "filter nested deeper than 32 levels at offset 32");
  std::string nots;
  for (int i = 0; i < kMaxFilterDepth + 1; ++i) nots += "not (";
  nots += "a pr" + std::string(kMaxFilterDepth + 1, ')');
  BOOST_TEST(ParseError(nots).find("nested deeper") != std::string::npos);
  // A value path counts as one level.
  std::string vp = std::string(kMaxFilterDepth - 1, '(') + "emails[type pr]" +
                   std::string(kMaxFilterDepth - 1, ')');
  BOOST_TEST(ParseFilter(vp).ok());
  std::string vp_deep =
      std::string(kMaxFilterDepth, '(') + "emails[type pr]" + std::string(kMaxFilterDepth, ')');
  BOOST_TEST(ParseError(vp_deep).find("nested deeper") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(length_bound) {
  std::string text = "title eq \"" + std::string(kMaxFilterLength - 11, 'x') + "\"";
  BOOST_TEST(text.size() == kMaxFilterLength);
  BOOST_TEST(ParseFilter(text).ok());
  text.insert(10, "x");
  BOOST_TEST(ParseError(text) == "filter is longer than 8192 bytes");
  // A long chain is flat, not deep.
  std::string chain = "a pr";
  while (chain.size() < kMaxFilterLength - 10) chain += " or a pr";
  auto parsed = ParseFilter(chain);
  BOOST_TEST_REQUIRE(parsed.ok());
  BOOST_TEST(parsed->children.size() > 900u);
}

BOOST_AUTO_TEST_CASE(round_trip) {
  const char* filters[] = {
      "userName eq \"bjensen\"",
      "name.familyName co \"O'Malley\"",
      "userName sw \"J\"",
      "urn:ietf:params:scim:schemas:core:2.0:User:userName sw \"J\"",
      "title pr",
      "meta.lastModified gt \"2011-05-13T04:42:34Z\"",
      "title pr and userType eq \"Employee\"",
      "title pr or userType eq \"Intern\"",
      "schemas eq \"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"",
      "userType eq \"Employee\" and (emails co \"example.com\" or emails.value co \"example.org\")",
      "userType ne \"Employee\" and not (emails co \"example.com\" or emails.value co "
      "\"example.org\")",
      "userType eq \"Employee\" and (emails.type eq \"work\")",
      "userType eq \"Employee\" and emails[type eq \"work\" and value co \"@example.com\"]",
      "emails[type eq \"work\" and value co \"@example.com\"] or ims[type eq \"xmpp\" and value co "
      "\"@foo.com\"]",
      "x eq -0.5 or y eq 1e10 or z eq true or w eq null",
  };
  for (const char* f : filters) {
    Node a = MustParse(f);
    Node b = MustParse(a.ToString());
    BOOST_TEST(SameTree(a, b), f << " -> " << a.ToString());
    BOOST_TEST(a.ToString() == b.ToString());
  }
}

BOOST_AUTO_TEST_CASE(patch_paths) {
  auto p = ParsePath("emails[type eq \"work\"].value");
  BOOST_TEST_REQUIRE(p.ok());
  BOOST_TEST(p->attr.name == "emails");
  BOOST_TEST(p->attr.sub_attr.empty());
  BOOST_TEST_REQUIRE(p->value_filter.has_value());
  BOOST_TEST(p->value_filter->attr.name == "type");
  BOOST_TEST(p->sub_attr == "value");
  BOOST_TEST(p->ToString() == "emails[type eq \"work\"].value");

  auto m = ParsePath("members[value eq \"2819c223-7f76-453a-919d-413861904646\"]");
  BOOST_TEST_REQUIRE(m.ok());
  BOOST_TEST(m->attr.name == "members");
  BOOST_TEST(m->sub_attr.empty());
  BOOST_TEST(m->value_filter->value.text == "2819c223-7f76-453a-919d-413861904646");

  auto mgr = ParsePath("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value");
  BOOST_TEST_REQUIRE(mgr.ok());
  BOOST_TEST(mgr->attr.uri == "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User");
  BOOST_TEST(mgr->attr.name == "manager");
  BOOST_TEST(mgr->sub_attr == "value");
  BOOST_TEST(!mgr->value_filter.has_value());

  auto simple = ParsePath("  name.familyName ");
  BOOST_TEST_REQUIRE(simple.ok());
  BOOST_TEST(simple->attr.name == "name");
  BOOST_TEST(simple->sub_attr == "familyName");
  BOOST_TEST(simple->text == "name.familyName");
  BOOST_TEST(ParsePath("userName").ok());
  BOOST_TEST(ParsePath("members[value eq \"a\" or value eq \"b\"]").ok());
  BOOST_TEST(ParsePath("addresses[type eq \"work\" and not (primary eq true)].locality").ok());

  auto code = [](std::string_view text) {
    auto r = ParsePath(text);
    BOOST_TEST_REQUIRE(!r.ok(), text);
    return std::make_pair(std::string(ErrorCodeName(r.error().code)), r.error().detail);
  };
  BOOST_TEST(code("").first == "invalidPath");
  BOOST_TEST(code("emails[type eq]").first == "invalidFilter");
  BOOST_TEST(code("emails[type eq]").second == "expected comparison value at offset 14");
  BOOST_TEST(code("emails..x").first == "invalidPath");
  BOOST_TEST(code("name.familyName[x pr]").first == "invalidPath");
  BOOST_TEST(code("emails[type pr].").second == "expected sub-attribute name at offset 16");
  BOOST_TEST(code("emails[type pr]x").second == "unexpected character in path at offset 15");
  BOOST_TEST(code("emails[type pr].value.x").first == "invalidPath");
  BOOST_TEST(code("userName eq \"x\"").first == "invalidPath");
  BOOST_TEST(code("emails[type pr][value pr]").first == "invalidPath");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace scim::filter
