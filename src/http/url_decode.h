#pragma once
// Percent-decoding for what Pistache 0.0.5 hands over verbatim: path parameters
// (req.param(":id")) and query values (req.query().get(...)). `%20` and `+` reach routes
// undecoded, so decode before parsing a SCIM filter or looking up an id.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "scim/common/result.h"

namespace Pistache::Http::Uri {
class Query;
}  // namespace Pistache::Http::Uri

namespace scim::http {

// Decodes %XX escapes (RFC 3986 §2.1; hex digits in either case). With `plus_as_space`, '+'
// becomes ' ' (application/x-www-form-urlencoded, which is how query strings are written);
// otherwise '+' stays. Errors (ErrorCode::kBadRequest, with a detail naming the offset): '%' not
// followed by two hex digits; an escape that decodes to NUL; a result that is not valid UTF-8.
Result<std::string> PercentDecode(std::string_view text, bool plus_as_space);

// A query value or name: PercentDecode(text, /*plus_as_space=*/true).
inline Result<std::string> DecodeQueryComponent(std::string_view text) {
  return PercentDecode(text, true);
}

// A path segment, e.g. a resource id from req.param(":id"): '+' is a literal plus.
inline Result<std::string> DecodePathSegment(std::string_view text) {
  return PercentDecode(text, false);
}

// Decoded query parameters in the order they were parsed. Names are compared exactly (SCIM
// query parameter names are case-sensitive, RFC 7644 §3.4.2).
class QueryParams {
 public:
  QueryParams() = default;

  // The value of the first parameter called `name`; nullopt when there is none. A parameter
  // written without '=' has the empty value.
  std::optional<std::string> Get(std::string_view name) const;
  bool Has(std::string_view name) const { return Get(name).has_value(); }

  void Add(std::string name, std::string value) {
    params_.emplace_back(std::move(name), std::move(value));
  }
  const std::vector<std::pair<std::string, std::string>>& params() const { return params_; }

 private:
  std::vector<std::pair<std::string, std::string>> params_;
};

// Parses a raw query string ("a=1&b=x%20y", with or without the leading '?'): splits on '&',
// then on the first '=', then decodes name and value with DecodeQueryComponent. Empty elements
// ("a=1&&b=2") and elements with an empty name are skipped. Repeated names are all kept, in
// order. Errors: those of PercentDecode.
Result<QueryParams> ParseQueryString(std::string_view raw);

// The decoded form of Pistache's parsed query (req.query()). Pistache splits the query on '&'
// and '=' before anything is decoded (so an encoded "%26" or "%3D" stays inside its value, as it
// should), keeps each value verbatim, and keeps only the FIRST of repeated names (its map cannot
// hold two); their order is lost. Names and values are decoded with DecodeQueryComponent; when
// two raw names decode to the same name (e.g. "count" and "c%6Funt") that is an error
// (kBadRequest), because which one Pistache kept is arbitrary.
Result<QueryParams> DecodeQuery(const Pistache::Http::Uri::Query& query);

}  // namespace scim::http
