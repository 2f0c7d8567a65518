#pragma once
// Resource endpoints matched case-insensitively: vendors' SCIM test suites (and some clients)
// send /scim/v2/users for /Users. RFC 7644 §3.2 names the endpoints ("/Users", "/Groups", ...)
// but says nothing of case; URL paths are case-sensitive (RFC 3986 §6.2.2.1), so scimd keeps its
// routes as they are and rewrites the endpoint segment of a request target to its canonical
// spelling before routing (RequestFramer, for every route and method at once).

#include <string>
#include <string_view>

namespace scim::http {

// `target` (a request-target: path and optional "?query") with the endpoint name after
// "/scim/v2/" (Users, Groups, Bulk, ServiceProviderConfig, ResourceTypes, Schemas, Me, .search)
// and, below /Users and /Groups, ".search", in their canonical case; anything else (the root
// itself, ids, schema URNs, the query) unchanged. The result has the length of `target`.
std::string CanonicalScimTarget(std::string_view target);

}  // namespace scim::http
