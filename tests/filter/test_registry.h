#pragma once
// Registries for filter tests: the embedded one (User, Group and their extensions), and the same
// plus the test-only Widget resource type of widget_schemas.h. Shared by tests/filter and
// tests/store.

#include <boost/test/unit_test.hpp>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "filter/widget_schemas.h"
#include "scim/schema/registry.h"

namespace scim::testing {

// The embedded registry (loaded once).
inline const schema::Registry& EmbeddedRegistry() {
  static const std::shared_ptr<const schema::Registry> registry = [] {
    auto r = schema::Registry::LoadEmbedded();
    BOOST_TEST_REQUIRE(r.ok(), (r.ok() ? "" : r.error().detail));
    return *r;
  }();
  return *registry;
}

// Embedded schemas plus the Widget resource type (loaded once).
inline const schema::Registry& WidgetRegistry() {
  static const std::shared_ptr<const schema::Registry> registry = [] {
    auto r = LoadWidgetRegistry();
    BOOST_TEST_REQUIRE(r.ok(), (r.ok() ? "" : r.error().detail));
    return *r;
  }();
  return *registry;
}

inline const schema::ResourceType& TypeOf(const schema::Registry& registry, std::string_view name) {
  const schema::ResourceType* type = registry.FindResourceType(name);
  BOOST_TEST_REQUIRE(type != nullptr, std::string(name));
  return *type;
}

}  // namespace scim::testing
