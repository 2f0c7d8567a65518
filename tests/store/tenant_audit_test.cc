// Issue 10 in the store, on SQLite and on PostgreSQL (when SCIMD_TEST_PG_URL names a server):
// tenants as records (disabled tenants' tokens are flagged at look-up), token usage written back
// in batches, tenant-scoped token revocation, audit entries with who/where/what and old/new
// values, newest-first paging, and manual syncs as outbox events.

#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <filesystem>

#include "scim/auth/token.h"
#include "scim/schema/registry.h"
#include "scim/store/audit_log.h"
#include "scim/store/resource_store.h"
#include "scim/store/tenant_store.h"
#include "scim/store/token_store.h"
#include "support/pg_configured.h"
#include "support/scratch_database.h"

namespace scim::store {
namespace {

using testing::ScratchDatabase;

auth::TokenRecord Token(const std::string& name, const std::string& tenant) {
  auth::TokenRecord t;
  t.name = name;
  t.tenant = tenant;
  t.secret_hash = auth::HashTokenSecret("secret-of-" + name);
  t.scopes = {auth::Scope::kAdmin};
  t.created = "2026-12-01T00:00:00.000Z";
  return t;
}

json::Document Doc(const std::string& text) {
  json::Document d;
  BOOST_TEST_REQUIRE(json::Parse(text, d).ok());
  return d;
}

void CheckTenantsAndTokens(const std::shared_ptr<Database>& db) {
  TenantStore tenants(db);
  BOOST_TEST(
      tenants.Create({"acme", std::string("Acme"), std::nullopt, "2026-12-01T00:00:00.000Z"}).ok());
  auto dup = tenants.Create({"acme", std::nullopt, std::nullopt, "2026-12-01T00:00:00.000Z"});
  BOOST_TEST_REQUIRE(!dup.ok());
  BOOST_TEST((dup.error().code == ErrorCode::kUniqueness));
  BOOST_TEST(!tenants.Create({"bad name", std::nullopt, std::nullopt, "x"}).ok());
  auto made = tenants.EnsureExists("beta", "2026-12-01T00:00:00.000Z");
  BOOST_TEST_REQUIRE(made.ok());
  BOOST_TEST(*made);
  auto again = tenants.EnsureExists("beta", "2026-12-01T00:00:00.000Z");
  BOOST_TEST_REQUIRE(again.ok());
  BOOST_TEST(!*again);

  TokenStore tokens(db);
  BOOST_TEST_REQUIRE(tokens.Create(Token("a-admin", "acme")).ok());
  BOOST_TEST_REQUIRE(tokens.Create(Token("b-admin", "beta")).ok());
  BOOST_TEST_REQUIRE(tokens.Create(Token("no-tenant", "")).ok());
  auto found = tokens.FindByHash(auth::HashTokenSecret("secret-of-no-tenant"));
  BOOST_TEST_REQUIRE((found.ok() && found->has_value()));
  BOOST_TEST((*found)->tenant == "default");

  // Usage: counts add up across batches; last_used never moves back.
  BOOST_TEST(tokens.AddUsage({{"a-admin", 3, "2026-12-02T00:00:00.000Z"}}).ok());
  BOOST_TEST(tokens
                 .AddUsage({{"a-admin", 2, "2026-12-01T12:00:00.000Z"},
                            {"b-admin", 1, "2026-12-03T00:00:00.000Z"}})
                 .ok());
  auto acme = tokens.List(std::string("acme"));
  BOOST_TEST_REQUIRE(acme.ok());
  BOOST_TEST_REQUIRE(acme->size() == 1u);
  BOOST_TEST(acme->front().request_count == 5);
  BOOST_TEST(acme->front().last_used.value_or("") == "2026-12-02T00:00:00.000Z");

  // Revocation is tenant-scoped: acme cannot revoke beta's token.
  auto cross = tokens.Revoke("b-admin", "2026-12-04T00:00:00.000Z", std::string("acme"));
  BOOST_TEST_REQUIRE(!cross.ok());
  BOOST_TEST((cross.error().code == ErrorCode::kNotFound));
  BOOST_TEST(tokens.Revoke("b-admin", "2026-12-04T00:00:00.000Z", std::string("beta")).ok());

  // Disabling a tenant flags its tokens at look-up.
  auto before = tokens.FindByHash(auth::HashTokenSecret("secret-of-a-admin"));
  BOOST_TEST_REQUIRE((before.ok() && before->has_value()));
  BOOST_TEST(!(*before)->tenant_disabled);
  BOOST_TEST(tenants.Disable("acme", "2026-12-05T00:00:00.000Z").ok());
  auto after = tokens.FindByHash(auth::HashTokenSecret("secret-of-a-admin"));
  BOOST_TEST_REQUIRE((after.ok() && after->has_value()));
  BOOST_TEST((*after)->tenant_disabled);
  BOOST_TEST((tenants.Disable("nobody", "x").error().code == ErrorCode::kNotFound));
  auto summary = tenants.Summary("acme");
  BOOST_TEST_REQUIRE(summary.ok());
  BOOST_TEST(summary->tenant.disabled.has_value());
  BOOST_TEST((tenants.Summary("nobody").error().code == ErrorCode::kNotFound));
}

void CheckAuditAndManualSync(const std::shared_ptr<Database>& db) {
  auto registry = schema::Registry::LoadEmbedded();
  BOOST_TEST_REQUIRE(registry.ok());
  ResourceStore store(db, *registry);
  WriteContext ctx{"acme", "acme-admin", "10.0.0.7", "req-1"};
  auto created = store.Create(
      ctx, "User",
      Doc(R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada",)"
          R"("name":{"givenName":"Ada","familyName":"Byron"},"title":"Countess"})"),
      {}, std::string("pbkdf2-hash"));
  BOOST_TEST_REQUIRE(created.ok());
  std::string id = (*created)["id"].GetString();
  WriteContext patch_ctx{"acme", "acme-admin", "10.0.0.8", "req-2"};
  auto modified = store.Modify(
      patch_ctx, "User", id, std::nullopt, events::ChangeKind::kPatched,
      [](json::Document& resource, MembershipChange&, std::optional<std::string>& password) {
        resource["name"]["familyName"].SetString("Lovelace");
        resource.RemoveMember("title");
        password = "another-hash";
        return OkStatus();
      },
      {});
  BOOST_TEST_REQUIRE(modified.ok());
  WriteContext other{"beta", "beta-admin", "10.0.0.9", "req-3"};
  BOOST_TEST_REQUIRE(store
                         .Create(other, "User",
                                 Doc(R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],)"
                                     R"("userName":"bob"})"),
                                 {}, std::nullopt)
                         .ok());

  AuditQuery query;
  query.tenant = "acme";
  query.newest_first = true;
  auto entries = ReadAuditLog(*db, query);
  BOOST_TEST_REQUIRE(entries.ok());
  BOOST_TEST_REQUIRE(entries->size() == 2u);
  const AuditEntry& patch = entries->front();
  BOOST_TEST(patch.action == "patch");
  BOOST_TEST(patch.client.value_or("") == "10.0.0.8");
  BOOST_TEST(patch.request_id.value_or("") == "req-2");
  // The outbox event of the change carries the request id too (events::ChangeEvent payload).
  std::string payload;
  BOOST_TEST(db->WithSession([&](soci::session& s) -> Status {
                 s << "SELECT payload FROM outbox WHERE tenant = 'acme' AND version = 2",
                     soci::into(payload);
                 return OkStatus();
               }).ok());
  json::Document outbox_event = Doc(payload);
  auto request_id = outbox_event.FindMember("request_id");
  BOOST_TEST_REQUIRE((request_id != outbox_event.MemberEnd() && request_id->value.IsString()),
                     payload);
  BOOST_TEST(request_id->value.GetString() == std::string("req-2"));
  BOOST_TEST(patch.version == 2);
  json::Document changes = Doc(patch.changes.value_or("null"));
  BOOST_TEST_REQUIRE(changes.IsArray());
  json::Document expected =
      Doc(R"([{"attribute":"name.familyName","old":"Byron","new":"Lovelace"},)"
          R"({"attribute":"title","old":"Countess","new":null},)"
          R"({"attribute":"password","changed":true}])");
  BOOST_TEST((changes == expected), patch.changes.value_or(""));
  BOOST_TEST(patch.changes->find("hash") == std::string::npos);
  const AuditEntry& create = entries->back();
  BOOST_TEST(create.action == "create");
  BOOST_TEST(create.changes->find("\"userName\"") != std::string::npos);

  // Paging newest first: the cursor is the last entry's seq.
  query.limit = 1;
  auto page1 = ReadAuditLog(*db, query);
  BOOST_TEST_REQUIRE((page1.ok() && page1->size() == 1u));
  query.before_seq = page1->front().seq;
  auto page2 = ReadAuditLog(*db, query);
  BOOST_TEST_REQUIRE((page2.ok() && page2->size() == 1u));
  BOOST_TEST(page2->front().action == "create");
  query.before_seq = page2->front().seq;
  auto page3 = ReadAuditLog(*db, query);
  BOOST_TEST_REQUIRE(page3.ok());
  BOOST_TEST(page3->empty());
  AuditQuery by_actor;
  by_actor.actor = "beta-admin";
  auto beta = ReadAuditLog(*db, by_actor);
  BOOST_TEST_REQUIRE(beta.ok());
  BOOST_TEST_REQUIRE(beta->size() == 1u);
  BOOST_TEST(beta->front().tenant == "beta");

  // A manual sync: another tenant's id is not found; the own one is an outbox event.
  AuditRecord who;
  who.actor = "beta-admin";
  auto cross = RecordManualSync(*db, std::string("beta"), id, std::nullopt, who);
  BOOST_TEST_REQUIRE(!cross.ok());
  BOOST_TEST((cross.error().code == ErrorCode::kNotFound));
  who.actor = "acme-admin";
  auto synced = RecordManualSync(*db, std::string("acme"), id, std::string("crm"), who);
  BOOST_TEST_REQUIRE(synced.ok());
  BOOST_TEST(synced->version == 2);
  std::string event, only;
  BOOST_TEST(db->WithSession([&](soci::session& s) -> Status {
                 s << "SELECT event, only_target FROM outbox ORDER BY seq DESC LIMIT 1",
                     soci::into(event), soci::into(only);
                 return OkStatus();
               }).ok());
  BOOST_TEST(event == "replaced");
  BOOST_TEST(only == "crm");
  AuditQuery syncs;
  syncs.action = "sync";
  auto sync_entries = ReadAuditLog(*db, syncs);
  BOOST_TEST_REQUIRE((sync_entries.ok() && sync_entries->size() == 1u));
  BOOST_TEST(sync_entries->front().tenant == "acme");

  // A delete keeps the values the resource had.
  BOOST_TEST_REQUIRE(store.Delete(ctx, "User", id, std::nullopt).ok());
  AuditQuery deletes;
  deletes.action = "delete";
  auto deleted = ReadAuditLog(*db, deletes);
  BOOST_TEST_REQUIRE((deleted.ok() && deleted->size() == 1u));
  BOOST_TEST(deleted->front().changes.value_or("").find(
                 R"({"attribute":"userName","old":"ada","new":null})") != std::string::npos,
             deleted->front().changes.value_or(""));
}

BOOST_AUTO_TEST_SUITE(tenants_audit)

BOOST_AUTO_TEST_CASE(tenants_and_tokens_on_sqlite) {
  ScratchDatabase scratch(false, "tenants");
  CheckTenantsAndTokens(scratch.db);
}

BOOST_AUTO_TEST_CASE(tenants_and_tokens_on_postgres,
                     *boost::unit_test::precondition(testing::PostgresConfigured())) {
  ScratchDatabase scratch(true, "tenants");
  CheckTenantsAndTokens(scratch.db);
}

BOOST_AUTO_TEST_CASE(audit_and_manual_sync_on_sqlite) {
  ScratchDatabase scratch(false, "tenants");
  CheckAuditAndManualSync(scratch.db);
}

BOOST_AUTO_TEST_CASE(audit_and_manual_sync_on_postgres,
                     *boost::unit_test::precondition(testing::PostgresConfigured())) {
  ScratchDatabase scratch(true, "tenants");
  CheckAuditAndManualSync(scratch.db);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace scim::store
