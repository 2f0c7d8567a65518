#pragma once
// Client for Zoho Books API v3 users (contract: shared/contracts/zoho-books.md).
// - OAuth: an access token minted from the long-lived refresh token, cached and shared by all
//   threads, refreshed ahead of expiry (expires_in minus a twelfth, at most 5 minutes: at 55 of
//   60 minutes) and once when the API answers 401 (then the call is repeated once).
// - Every call carries `organization_id` and `Authorization: Zoho-oauthtoken <token>`.
// - A client-side RateLimiter (`requests_per_minute`) paces API calls; a 429 pauses it (so every
//   thread backs off) until the next minute boundary (Zoho sends no Retry-After), or for an hour
//   when the answer says the daily limit is reached.
// - Answers use Zoho's envelope {"code":0,"message":...}; a non-zero code is an error even with
//   HTTP 200. "Does not exist" (HTTP 404 or code 1002) is reported as not found, not as an error.

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "adapters/common/call_result.h"
#include "adapters/common/http_client.h"
#include "adapters/common/rate_limiter.h"

namespace scim::adapters::zoho_books {

struct ZohoUser {
  std::string user_id;
  std::string name;
  std::string email;
  std::string status;  // active | inactive | invited | deleted
  std::string role_id;
};

// Arguments of create/update (Zoho requires name and email on both).
struct ZohoUserFields {
  std::string name;
  std::string email;
  std::optional<std::string> role_id;
};

struct ZohoBooksSettings {
  std::string api_url;       // .../books/v3
  std::string accounts_url;  // full token URL .../oauth/v2/token
  std::string organization_id;
  std::string client_id;
  std::string client_secret;
  std::string refresh_token;
  int requests_per_minute = 100;
  std::chrono::milliseconds max_rate_wait{10000};  // longer waits become CallErrors with retry
  HttpClientOptions http;
};

// Thread-safe.
class ZohoBooksClient {
 public:
  explicit ZohoBooksClient(ZohoBooksSettings settings);

  // GET /users/{id}; nullopt when it does not exist.
  CallResult<std::optional<ZohoUser>> GetUser(const std::string& user_id);
  // Pages through GET /users?filter_by=Status.All and matches `email` case-insensitively,
  // skipping deleted users; nullopt when none matches.
  CallResult<std::optional<ZohoUser>> FindUserByEmail(const std::string& email);
  // Every user but the deleted ones: pages through GET /users?filter_by=Status.All (page from 1,
  // per_page 200, while page_context.has_more_page; zoho-books.md, "List parameters").
  CallResult<std::vector<ZohoUser>> ListUsers();
  // POST /users; the new user's id (found by email when the answer does not carry it).
  CallResult<std::string> CreateUser(const ZohoUserFields& fields);
  // PUT /users/{id}; false when it does not exist.
  CallResult<bool> UpdateUser(const std::string& user_id, const ZohoUserFields& fields);
  // POST /users/{id}/active or /inactive; false when it does not exist.
  CallResult<bool> SetActive(const std::string& user_id, bool active);
  // DELETE /users/{id}; false when it did not exist.
  CallResult<bool> DeleteUser(const std::string& user_id);

 private:
  // Pages through GET /users (every status but deleted), calling `visit` for each user until it
  // returns false. True when every page was read, false when `visit` stopped early.
  CallResult<bool> VisitUsers(const std::function<bool(ZohoUser&)>& visit);

  struct Answer {
    int status = 0;
    bool not_found = false;  // 404 or code 1002
    std::string body;
  };
  // One API call: rate limit, token, 401 → refresh and repeat once, envelope check.
  CallResult<Answer> Call(const std::string& method, const std::string& path,
                          const std::string& query, const std::string& body);
  // The cached token, minted when absent or due; when `rejected` equals the cached token, a new
  // one is minted (other threads may already have done it).
  CallResult<std::string> AccessToken(const std::string& rejected = {});
  CallResult<std::string> Refresh();

  ZohoBooksSettings settings_;
  HttpClient http_;
  RateLimiter limiter_;
  std::mutex token_mutex_;  // guards the token fields; held while refreshing (single flight)
  std::string access_token_;
  std::chrono::steady_clock::time_point refresh_at_;
  std::optional<std::chrono::steady_clock::time_point> refresh_failed_at_;
  std::string refresh_error_;
};

}  // namespace scim::adapters::zoho_books
