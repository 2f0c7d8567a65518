#pragma once
// The routes of the public API (scim/http/api.h) on a Pistache router: ApiServer's wiring, kept
// private so that no other module sees Pistache.

#include <pistache/router.h>

#include <memory>

#include "scim/http/api.h"

namespace scim::http {

class Api;

// Registers every route on `router`. The returned Api object owns the handlers and must outlive
// the router.
std::shared_ptr<Api> BuildApi(std::shared_ptr<const schema::Registry> registry,
                              std::shared_ptr<store::Database> db,
                              std::shared_ptr<service::ResourceService> service,
                              std::shared_ptr<store::TokenStore> tokens, const ApiOptions& options,
                              Pistache::Rest::Router& router);

}  // namespace scim::http
