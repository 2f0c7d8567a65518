#pragma once
// RFC 7644 §4 discovery endpoints: /ServiceProviderConfig, /ResourceTypes, /Schemas. They
// advertise only what scimd implements.

#include <memory>
#include <string>

#include "http/exchange.h"
#include "http/scim_handlers.h"
#include "scim/schema/registry.h"

namespace scim::http {

struct Capabilities {
  int64_t max_page_size = 1000;
  int64_t bulk_max_operations = 1000;
  int64_t max_payload_bytes = 1048576;
  bool bulk_supported = false;
  // A `webhook` target is configured: ServiceProviderConfig advertises the RFC 9967 events it
  // sends (securityEvents.eventUris).
  bool security_events = false;
};

class DiscoveryHandlers {
 public:
  DiscoveryHandlers(std::shared_ptr<const schema::Registry> registry, Capabilities capabilities);

  HttpResponse ServiceProviderConfig(const std::string& base_url) const;
  HttpResponse ResourceTypes(const std::string& base_url) const;
  HttpResponse ResourceType(const std::string& base_url, const std::string& name) const;
  HttpResponse Schemas(const std::string& base_url) const;
  HttpResponse Schema(const std::string& base_url, const std::string& urn) const;

 private:
  std::shared_ptr<const schema::Registry> registry_;
  Capabilities capabilities_;
};

}  // namespace scim::http
