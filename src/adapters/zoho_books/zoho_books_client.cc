#include "adapters/zoho_books/zoho_books_client.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <functional>

#include "adapters/common/json_util.h"
#include "scim/common/json.h"
#include "scim/common/strings.h"

namespace scim::adapters::zoho_books {
namespace {

using Clock = std::chrono::steady_clock;

// Zoho's "<resource> does not exist" envelope code.
constexpr int64_t kCodeDoesNotExist = 1002;
// How long a failed token refresh is remembered before the next try (Zoho allows only ten
// refreshes per ten minutes).
constexpr std::chrono::seconds kRefreshFailureHold(10);
constexpr int kMaxListPages = 2000;  // 400,000 users (a guard against endless paging)
constexpr int kDailyLimitHoldSeconds = 3600;

std::optional<ZohoUser> ReadUser(const json::Value& v) {
  if (!v.IsObject()) return std::nullopt;
  ZohoUser user;
  auto id = IdMember(v, "user_id");
  if (!id) return std::nullopt;
  user.user_id = *id;
  user.name = StringMember(v, "name").value_or("");
  user.email = StringMember(v, "email").value_or("");
  if (auto ids = v.FindMember("email_ids"); ids != v.MemberEnd() && ids->value.IsArray()) {
    for (const auto& entry : ids->value.GetArray()) {
      auto email = StringMember(entry, "email");
      if (!email) continue;
      auto selected = entry.FindMember("is_selected");
      bool is_selected =
          selected != entry.MemberEnd() && selected->value.IsBool() && selected->value.GetBool();
      if (user.email.empty() || is_selected) user.email = *email;
    }
  }
  user.status = StringMember(v, "status").value_or("");
  user.role_id = IdMember(v, "role_id").value_or("");
  return user;
}

// Seconds to the next minute boundary (Zoho's per-minute window), at least 1.
int SecondsToNextMinute() {
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  return static_cast<int>(60 - now % 60);
}

std::string FormEncode(std::initializer_list<std::pair<const char*, const std::string*>> fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out += '&';
    out += name;
    out += '=';
    out += UrlEncode(*value);
  }
  return out;
}

std::string UserBody(const ZohoUserFields& fields) {
  JsonWriter w;
  w.StartObject();
  w.Field("name", fields.name);
  w.Field("email", fields.email);
  if (fields.role_id) w.Field("role_id", *fields.role_id);
  w.EndObject();
  return w.Text();
}

}  // namespace

ZohoBooksClient::ZohoBooksClient(ZohoBooksSettings settings)
    : settings_(std::move(settings)),
      http_(settings_.http),
      limiter_(settings_.requests_per_minute, settings_.max_rate_wait) {}

CallResult<std::string> ZohoBooksClient::Refresh() {
  const std::string grant = "refresh_token";
  HttpRequest request;
  request.method = "POST";
  request.url = settings_.accounts_url;
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                     {"Accept", "application/json"}};
  request.body = FormEncode({{"refresh_token", &settings_.refresh_token},
                             {"client_id", &settings_.client_id},
                             {"client_secret", &settings_.client_secret},
                             {"grant_type", &grant}});
  const auto started = Clock::now();  // expiry counts from before the request: conservative
  auto response = http_.Send(request);
  if (!response.ok()) {
    CallError error = response.error();
    error.message = "zoho_books token refresh: " + error.message;
    return error;
  }
  json::Document doc;
  bool parsed = json::Parse(response->body, doc).ok() && doc.IsObject();
  std::optional<std::string> token = parsed ? StringMember(doc, "access_token") : std::nullopt;
  if (token && !token->empty()) {
    int64_t expires_in = 3600;
    if (auto e = IdMember(doc, "expires_in")) {
      try {
        expires_in = std::stoll(*e);
      } catch (...) {
      }
    }
    if (expires_in <= 0) expires_in = 3600;
    // A twelfth of the lifetime ahead (at 55 of 60 minutes), at most 5 minutes, at least a
    // second for short-lived tokens (but never more than half the lifetime).
    int64_t margin = std::min<int64_t>(
        {300, std::max<int64_t>(1, expires_in / 12), std::max<int64_t>(0, expires_in / 2)});
    access_token_ = *token;
    refresh_at_ = started + std::chrono::seconds(expires_in - margin);
    refresh_failed_at_.reset();
    return access_token_;
  }
  // A refused refresh (HTTP 200 {"error":"invalid_code"} or a 4xx) is a target-level problem,
  // not this change's fault: retried later, so fixed credentials let the queue drain.
  std::string reason = parsed ? StringMember(doc, "error").value_or("") : "";
  if (reason.empty()) reason = "answer without access_token";
  bool server_side = response->status >= 500 || response->status == 429;
  CallError error;
  error.http_status = 0;
  error.code = reason;
  error.message = "zoho_books token refresh failed (HTTP " + std::to_string(response->status) +
                  ": " + reason + ")" +
                  (server_side ? "" : "; check client_id, client_secret and refresh_token");
  error.retry_after_seconds = static_cast<int>(kRefreshFailureHold.count());
  refresh_failed_at_ = Clock::now();
  refresh_error_ = error.message;
  access_token_.clear();
  return error;
}

CallResult<std::string> ZohoBooksClient::AccessToken(const std::string& rejected) {
  std::lock_guard lock(token_mutex_);
  auto now = Clock::now();
  if (!access_token_.empty() && access_token_ != rejected && now < refresh_at_) {
    return access_token_;
  }
  if (refresh_failed_at_ && now - *refresh_failed_at_ < kRefreshFailureHold) {
    CallError error = CallError::Transport(refresh_error_);
    error.retry_after_seconds = static_cast<int>(kRefreshFailureHold.count());
    return error;
  }
  return Refresh();
}

CallResult<ZohoBooksClient::Answer> ZohoBooksClient::Call(const std::string& method,
                                                          const std::string& path,
                                                          const std::string& query,
                                                          const std::string& body) {
  const std::string what = "zoho_books " + method + " " + path;
  std::string rejected;
  for (int attempt = 0;; ++attempt) {
    std::chrono::milliseconds needed(0);
    if (!limiter_.Acquire(&needed)) {
      CallError error = CallError::Transport(what + ": client-side limit of " +
                                             std::to_string(limiter_.per_minute()) +
                                             " requests a minute reached");
      error.retry_after_seconds = static_cast<int>(std::ceil(needed.count() / 1000.0));
      error.client_rate_limited = true;
      return error;
    }
    SCIM_TRY(auto token, AccessToken(rejected));

    HttpRequest request;
    request.method = method;
    request.url = settings_.api_url + path +
                  "?organization_id=" + UrlEncode(settings_.organization_id) +
                  (query.empty() ? "" : "&" + query);
    request.headers = {{"Authorization", "Zoho-oauthtoken " + token},
                       {"Accept", "application/json"}};
    if (!body.empty()) request.headers.emplace_back("Content-Type", "application/json");
    request.body = body;
    SCIM_TRY(auto response, http_.Send(request));

    if (response.status == 401 && attempt == 0) {
      rejected = token;  // expired or revoked: mint a new one and repeat once
      continue;
    }
    json::Document doc;
    bool envelope = response.IsJson() && json::Parse(response.body, doc).ok() && doc.IsObject();
    int64_t code = 0;
    std::string message;
    if (envelope) {
      if (auto c = doc.FindMember("code"); c != doc.MemberEnd() && c->value.IsInt64()) {
        code = c->value.GetInt64();
      }
      message = StringMember(doc, "message").value_or("");
    }
    std::string code_text = envelope ? std::to_string(code) : "";

    if (response.status == 429) {
      // Zoho sends no Retry-After. The per-minute limit frees at the next minute boundary; the
      // daily one ("... per day") is parked for an hour at a time (its reset time is unknown).
      bool daily = ToLower(message).find("per day") != std::string::npos;
      int wait = daily ? kDailyLimitHoldSeconds : SecondsToNextMinute();
      limiter_.Pause(std::chrono::seconds(wait));
      CallError error = ErrorFromResponse(what, response, message, code_text);
      if (!error.retry_after_seconds) error.retry_after_seconds = wait;
      return error;
    }
    if (response.status == 404 || (envelope && code == kCodeDoesNotExist)) {
      Answer answer;
      answer.status = response.status;
      answer.not_found = true;
      return answer;
    }
    if (!response.Success()) return ErrorFromResponse(what, response, message, code_text);
    if (!envelope) return CallError::Transport(what + ": answer is not a Zoho JSON envelope");
    if (code != 0) {
      CallError error;
      error.http_status = response.status;
      error.code = code_text;
      error.message = what + ": Zoho code " + code_text + ": " + message;
      error.permanent = true;
      return error;
    }
    Answer answer;
    answer.status = response.status;
    answer.body = std::move(response.body);
    return answer;
  }
}

CallResult<std::optional<ZohoUser>> ZohoBooksClient::GetUser(const std::string& user_id) {
  SCIM_TRY(auto answer, Call("GET", "/users/" + UrlEncode(user_id), "", ""));
  if (answer.not_found) return std::optional<ZohoUser>();
  json::Document doc;
  if (!json::Parse(answer.body, doc).ok() || !doc.HasMember("user")) {
    return CallError::Transport("zoho_books GET /users/{id}: answer has no user");
  }
  auto user = ReadUser(doc["user"]);
  if (!user) return CallError::Transport("zoho_books GET /users/{id}: answer has no user_id");
  return user;
}

CallResult<bool> ZohoBooksClient::VisitUsers(const std::function<bool(ZohoUser&)>& visit) {
  for (int page = 1; page <= kMaxListPages; ++page) {
    SCIM_TRY(auto answer,
             Call("GET", "/users",
                  "filter_by=Status.All&page=" + std::to_string(page) + "&per_page=200", ""));
    if (answer.not_found) return true;
    json::Document doc;
    if (!json::Parse(answer.body, doc).ok() || !doc.IsObject()) {
      return CallError::Transport("zoho_books GET /users: malformed answer");
    }
    if (auto users = doc.FindMember("users"); users != doc.MemberEnd() && users->value.IsArray()) {
      for (const auto& entry : users->value.GetArray()) {
        auto user = ReadUser(entry);
        if (user && user->status != "deleted" && !visit(*user)) return false;
      }
    }
    auto ctx = doc.FindMember("page_context");
    if (ctx == doc.MemberEnd() || !ctx->value.IsObject()) return true;
    auto more = ctx->value.FindMember("has_more_page");
    if (more == ctx->value.MemberEnd() || !more->value.IsBool() || !more->value.GetBool()) {
      return true;
    }
  }
  return CallError::Transport("zoho_books GET /users: more than " + std::to_string(kMaxListPages) +
                              " pages");
}

CallResult<std::optional<ZohoUser>> ZohoBooksClient::FindUserByEmail(const std::string& email) {
  std::string wanted = ToLower(email);
  std::optional<ZohoUser> found;
  SCIM_RETURN_IF_ERROR(VisitUsers([&](ZohoUser& user) {
    if (ToLower(user.email) != wanted) return true;
    found = std::move(user);
    return false;
  }));
  return found;
}

CallResult<std::vector<ZohoUser>> ZohoBooksClient::ListUsers() {
  std::vector<ZohoUser> all;
  SCIM_RETURN_IF_ERROR(VisitUsers([&](ZohoUser& user) {
    all.push_back(std::move(user));
    return true;
  }));
  return all;
}

CallResult<std::string> ZohoBooksClient::CreateUser(const ZohoUserFields& fields) {
  SCIM_TRY(auto answer, Call("POST", "/users", "", UserBody(fields)));
  if (!answer.not_found) {
    json::Document doc;
    if (json::Parse(answer.body, doc).ok() && doc.IsObject() && doc.HasMember("user")) {
      if (auto user = ReadUser(doc["user"])) return user->user_id;
    }
  }
  // The answer does not carry the user (documented for some versions): find it by email.
  SCIM_TRY(auto found, FindUserByEmail(fields.email));
  if (!found) {
    return CallError::Transport("zoho_books POST /users: created user not found by email");
  }
  return found->user_id;
}

CallResult<bool> ZohoBooksClient::UpdateUser(const std::string& user_id,
                                             const ZohoUserFields& fields) {
  SCIM_TRY(auto answer, Call("PUT", "/users/" + UrlEncode(user_id), "", UserBody(fields)));
  return !answer.not_found;
}

CallResult<bool> ZohoBooksClient::SetActive(const std::string& user_id, bool active) {
  SCIM_TRY(
      auto answer,
      Call("POST", "/users/" + UrlEncode(user_id) + (active ? "/active" : "/inactive"), "", ""));
  return !answer.not_found;
}

CallResult<bool> ZohoBooksClient::DeleteUser(const std::string& user_id) {
  SCIM_TRY(auto answer, Call("DELETE", "/users/" + UrlEncode(user_id), "", ""));
  return !answer.not_found;
}

}  // namespace scim::adapters::zoho_books
