#pragma once
// Client for the CRM's REST API (contract: shared/contracts/crm.md): users with an `externalIds`
// map, organizations with memberships and roles, stores upserted by `external_id`.
// `Authorization: Bearer <token>`; POSTs carry an Idempotency-Key so a repeated POST returns the
// first answer instead of creating twice.

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "adapters/common/call_result.h"
#include "adapters/common/http_client.h"
#include "adapters/common/rate_limiter.h"

namespace scim::adapters::crm {

struct CrmUserFields {
  std::string email;
  std::string name;
  bool active = true;
  std::optional<std::string> role;                  // admin | manager | sales
  std::map<std::string, std::string> external_ids;  // merged key by key on PATCH
  std::set<std::string> cleared_external_ids;       // sent as null on PATCH: links now gone
};

struct CrmUser {
  std::string id;
  std::string email;
  std::map<std::string, std::string> external_ids;
};

// The answer to a user create: the new user, or the existing one holding the email (409
// email_taken).
struct CreatedUser {
  std::string id;
  bool email_taken = false;
};

struct CrmStore {
  std::string external_id;  // the SCIM Group id
  std::string name;
  std::string location;
  std::string address;
  std::string phone;
};

struct Membership {
  std::string user_id;
  std::string role;
};

// The most stores one bulk import takes (crm.md: 413 above it).
inline constexpr size_t kMaxStoresPerImport = 1000;

// Thread-safe (stateless apart from the HttpClient).
class CrmClient {
 public:
  CrmClient(std::string base_url, std::string token, HttpClientOptions http_options,
            int requests_per_minute = 100,
            std::chrono::milliseconds max_rate_wait = std::chrono::milliseconds(10000));

  // POST /users with `idempotency_key`.
  CallResult<CreatedUser> CreateUser(const CrmUserFields& fields,
                                     const std::string& idempotency_key) const;
  // GET /users/{id}; nullopt on 404.
  CallResult<std::optional<CrmUser>> GetUser(const std::string& id) const;
  // GET /users?externalId.scim=ID; nullopt when none.
  CallResult<std::optional<CrmUser>> FindUserByScimId(const std::string& scim_id) const;
  // PATCH /users/{id}; false on 404.
  CallResult<bool> PatchUser(const std::string& id, const CrmUserFields& fields) const;
  // DELETE /users/{id}; false on 404.
  CallResult<bool> DeleteUser(const std::string& id) const;

  // POST /organizations {"name","externalId"} with `idempotency_key`; the new id.
  CallResult<std::string> CreateOrganization(const std::string& name,
                                             const std::string& external_id,
                                             const std::string& idempotency_key) const;
  // PATCH /organizations/{id} {"name"}; false on 404.
  CallResult<bool> RenameOrganization(const std::string& id, const std::string& name) const;
  // DELETE /organizations/{id}; false on 404.
  CallResult<bool> DeleteOrganization(const std::string& id) const;
  // PUT /organizations/{id}/memberships/{user}; false on 404 (organization or user unknown).
  CallResult<bool> PutMembership(const std::string& org_id, const std::string& user_id,
                                 const std::string& role) const;
  // DELETE /organizations/{id}/memberships/{user}; false on 404 (not a member).
  CallResult<bool> DeleteMembership(const std::string& org_id, const std::string& user_id) const;
  // GET /organizations/{id}/memberships; nullopt on 404.
  CallResult<std::optional<std::vector<Membership>>> ListMemberships(
      const std::string& org_id) const;

  // POST /stores/bulk-import with one store, mode create_or_update. A per-store error in the
  // answer is a permanent CallError carrying the CRM's message.
  CallStatus UpsertStore(const CrmStore& store) const;
  // POST /stores/bulk-import with `stores` (at most kMaxStoresPerImport), mode
  // create_or_update, in one call: element i is nullopt when stores[i] was created or updated,
  // else the CRM's per-store error for it. A failed call (no answer, 4xx/5xx) is the CallError.
  CallResult<std::vector<std::optional<std::string>>> UpsertStores(
      const std::vector<CrmStore>& stores) const;
  // DELETE /stores/{external_id}; false on 404.
  CallResult<bool> DeleteStore(const std::string& external_id) const;

 private:
  CallResult<HttpResponse> Call(const std::string& method, const std::string& path,
                                const std::string& body,
                                const std::string& idempotency_key = {}) const;

  std::string base_url_;
  std::string token_;
  HttpClient http_;
  // The CRM allows `requests_per_minute` per token (contract default 100): calls wait for a slot,
  // up to max_rate_wait, and a 429 pauses every caller for its Retry-After.
  std::unique_ptr<RateLimiter> limiter_;
};

}  // namespace scim::adapters::crm
