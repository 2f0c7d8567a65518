#pragma once
// Client for Clerk's Backend API (contract: shared/contracts/clerk-organizations.md): users
// (keyed by `external_id`), organizations (the SCIM id in `private_metadata.scim_id`) and their
// memberships, addressed by (organization id, user id). `Authorization: Bearer <secret key>`;
// every success is a 200; errors are `{"errors":[{"message","long_message","code"}]}`.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "adapters/common/call_result.h"
#include "adapters/common/http_client.h"
#include "adapters/common/rate_limiter.h"

namespace scim::adapters::clerk {

// What scimd sets on a Clerk user.
struct ClerkUserFields {
  std::string external_id;  // the SCIM id
  std::string email;        // primary e-mail; empty: none sent
  std::string first_name;
  std::string last_name;
  bool banned = false;  // sent on create only (ban/unban afterwards)
};

// A Clerk user as scimd reads it.
struct ClerkUser {
  std::string id;
  std::string external_id;
  std::string primary_email;  // the address of primary_email_address_id
  bool banned = false;
};

// A Clerk organization as scimd reads it.
struct ClerkOrganization {
  std::string id;
  std::string name;
  std::string scim_id;  // private_metadata.scim_id; empty when not scimd's
};

// One membership: the member's user id and role key.
struct ClerkMembership {
  std::string user_id;
  std::string role;
};

// The answer to a create-membership.
enum class MembershipCreate { kCreated, kAlreadyMember, kNotFound };

// Thread-safe (stateless apart from the HttpClient and the rate limiter).
class ClerkClient {
 public:
  ClerkClient(std::string base_url, std::string secret_key, HttpClientOptions http_options,
              int requests_per_minute = 600,
              std::chrono::milliseconds max_rate_wait = std::chrono::milliseconds(10000));

  // GET /users?external_id=ID; nullopt when none carries it.
  CallResult<std::optional<ClerkUser>> FindUserByExternalId(const std::string& scim_id) const;
  // GET /users/{id}; nullopt on 404.
  CallResult<std::optional<ClerkUser>> GetUser(const std::string& id) const;
  // GET /users, every page (limit 500).
  CallResult<std::vector<ClerkUser>> ListUsers() const;
  // POST /users (external_id, email_address [primary], names, banned,
  // skip_password_requirement).
  CallResult<ClerkUser> CreateUser(const ClerkUserFields& fields) const;
  // PATCH /users/{id} {first_name,last_name,external_id}; nullopt on 404.
  CallResult<std::optional<ClerkUser>> UpdateUser(const std::string& id,
                                                  const ClerkUserFields& fields) const;
  // PUT /users/{id}/email_address: one verified primary address replaces the others.
  CallStatus ReplaceEmail(const std::string& id, const std::string& email) const;
  // POST /users/{id}/ban or /unban; false on 404.
  CallResult<bool> SetBanned(const std::string& id, bool banned) const;
  // DELETE /users/{id}; false on 404.
  CallResult<bool> DeleteUser(const std::string& id) const;

  // POST /organizations {name, private_metadata:{scim_id}}; the new id.
  CallResult<std::string> CreateOrganization(const std::string& name,
                                             const std::string& scim_id) const;
  // GET /organizations?query=NAME: the one whose private_metadata.scim_id is `scim_id`.
  CallResult<std::optional<ClerkOrganization>> FindOrganization(const std::string& name,
                                                                const std::string& scim_id) const;
  // GET /organizations?user_id=ID (every page): the organizations the user belongs to.
  CallResult<std::vector<ClerkOrganization>> OrganizationsOfUser(const std::string& user_id) const;
  // GET /organizations, every page.
  CallResult<std::vector<ClerkOrganization>> ListOrganizations() const;
  // PATCH /organizations/{id} {name}; false on 404.
  CallResult<bool> RenameOrganization(const std::string& id, const std::string& name) const;
  // DELETE /organizations/{id} (memberships go with it); false on 404.
  CallResult<bool> DeleteOrganization(const std::string& id) const;

  // POST /organizations/{id}/memberships {user_id, role}. 400
  // already_a_member_in_organization → kAlreadyMember; 404 → kNotFound.
  CallResult<MembershipCreate> CreateMembership(const std::string& org_id,
                                                const std::string& user_id,
                                                const std::string& role) const;
  // PATCH /organizations/{id}/memberships/{user} {role}; false on 404.
  CallResult<bool> UpdateMembership(const std::string& org_id, const std::string& user_id,
                                    const std::string& role) const;
  // DELETE /organizations/{id}/memberships/{user}; false on 404.
  CallResult<bool> DeleteMembership(const std::string& org_id, const std::string& user_id) const;
  // GET /organizations/{id}/memberships (every page; only `user_id`'s when given); nullopt on
  // 404.
  CallResult<std::optional<std::vector<ClerkMembership>>> ListMemberships(
      const std::string& org_id, const std::string& user_id = {}) const;

 private:
  CallResult<HttpResponse> Call(const std::string& method, const std::string& path,
                                const std::string& body) const;
  // One page of an organization list (`query` holds the filter parameters).
  CallResult<std::vector<ClerkOrganization>> OrganizationPages(const std::string& query) const;

  std::string base_url_;
  std::string secret_key_;
  HttpClient http_;
  // Clerk allows 100 requests per 10 s (development) / 1000 (production) per secret key: calls
  // wait for a slot up to max_rate_wait, and a 429 pauses every caller for its Retry-After.
  std::unique_ptr<RateLimiter> limiter_;
};

}  // namespace scim::adapters::clerk
