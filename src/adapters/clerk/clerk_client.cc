#include "adapters/clerk/clerk_client.h"

#include <algorithm>

#include "adapters/common/budgeted_send.h"
#include "adapters/common/json_util.h"
#include "scim/common/json.h"

namespace scim::adapters::clerk {
namespace {

constexpr int kPageSize = 500;  // Clerk's largest `limit`

// The first entry of a ClerkErrors body {"errors":[{"message","long_message","code"}]}.
struct ClerkErrorInfo {
  std::string code;
  std::string message;
};

ClerkErrorInfo ReadError(const HttpResponse& response) {
  ClerkErrorInfo info;
  json::Document doc;
  if (!json::Parse(response.body, doc).ok() || !doc.IsObject()) return info;
  auto errors = doc.FindMember("errors");
  if (errors == doc.MemberEnd() || !errors->value.IsArray() || errors->value.Empty()) return info;
  const json::Value& first = errors->value[0];
  info.code = StringMember(first, "code").value_or("");
  info.message =
      StringMember(first, "long_message").value_or(StringMember(first, "message").value_or(""));
  return info;
}

// A CallError naming Clerk's code and long message.
CallError Fail(const std::string& what, const HttpResponse& response) {
  ClerkErrorInfo info = ReadError(response);
  std::string detail = info.code.empty() ? info.message : info.code + ": " + info.message;
  return ErrorFromResponse(what, response, detail, info.code);
}

// A 2xx answer's JSON (object or array), or a transient error (a proxy page, a truncated
// answer).
CallResult<json::Document> Body(const std::string& what, const HttpResponse& response,
                                bool array = false) {
  json::Document doc;
  if (!json::Parse(response.body, doc).ok() || (array ? !doc.IsArray() : !doc.IsObject())) {
    return CallError::Transport(what + ": answer is not a JSON " + (array ? "array" : "object"));
  }
  return doc;
}

// The `data` array of a paged list answer, or nullptr.
const json::Value* DataArray(const json::Value& doc) {
  auto data = doc.FindMember("data");
  if (data == doc.MemberEnd() || !data->value.IsArray()) return nullptr;
  return &data->value;
}

std::optional<ClerkUser> ReadUser(const json::Value& v) {
  auto id = IdMember(v, "id");
  if (!id) return std::nullopt;
  ClerkUser user;
  user.id = *id;
  user.external_id = StringMember(v, "external_id").value_or("");
  auto banned = v.FindMember("banned");
  user.banned = banned != v.MemberEnd() && banned->value.IsBool() && banned->value.GetBool();
  std::string primary = StringMember(v, "primary_email_address_id").value_or("");
  auto emails = v.FindMember("email_addresses");
  if (emails != v.MemberEnd() && emails->value.IsArray()) {
    for (const auto& e : emails->value.GetArray()) {
      if (StringMember(e, "id").value_or("") == primary) {
        user.primary_email = StringMember(e, "email_address").value_or("");
      }
    }
  }
  return user;
}

std::optional<ClerkOrganization> ReadOrganization(const json::Value& v) {
  auto id = IdMember(v, "id");
  if (!id) return std::nullopt;
  ClerkOrganization org;
  org.id = *id;
  org.name = StringMember(v, "name").value_or("");
  auto meta = v.FindMember("private_metadata");
  if (meta != v.MemberEnd()) org.scim_id = StringMember(meta->value, "scim_id").value_or("");
  return org;
}

std::optional<ClerkMembership> ReadMembership(const json::Value& v) {
  auto user = v.FindMember("public_user_data");
  if (user == v.MemberEnd()) return std::nullopt;
  auto user_id = StringMember(user->value, "user_id");
  if (!user_id) return std::nullopt;
  return ClerkMembership{*user_id, StringMember(v, "role").value_or("")};
}

std::string UserBody(const ClerkUserFields& f, bool create) {
  JsonWriter w;
  w.StartObject();
  w.Field("external_id", f.external_id);
  w.Field("first_name", f.first_name);
  w.Field("last_name", f.last_name);
  if (create) {
    if (!f.email.empty()) {
      w.KeyOnly("email_address");
      w.StartArray();
      w.String(f.email.data(), static_cast<rapidjson::SizeType>(f.email.size()));
      w.EndArray();
    }
    w.Field("skip_password_requirement", true);
    w.Field("banned", f.banned);
  }
  w.EndObject();
  return w.Text();
}

std::string OrgPath(const std::string& org_id) { return "/organizations/" + UrlEncode(org_id); }

std::string MemberPath(const std::string& org_id, const std::string& user_id) {
  return OrgPath(org_id) + "/memberships/" + UrlEncode(user_id);
}

}  // namespace

ClerkClient::ClerkClient(std::string base_url, std::string secret_key,
                         HttpClientOptions http_options, int requests_per_minute,
                         std::chrono::milliseconds max_rate_wait)
    : base_url_(std::move(base_url)),
      secret_key_(std::move(secret_key)),
      http_(std::move(http_options)),
      limiter_(std::make_unique<RateLimiter>(requests_per_minute, max_rate_wait)) {}

CallResult<HttpResponse> ClerkClient::Call(const std::string& method, const std::string& path,
                                           const std::string& body) const {
  HttpRequest request;
  request.method = method;
  request.url = base_url_ + path;
  request.headers = {{"Authorization", "Bearer " + secret_key_}, {"Accept", "application/json"}};
  if (!body.empty()) request.headers.emplace_back("Content-Type", "application/json");
  request.body = body;
  return SendWithinBudget(http_, *limiter_, request, "clerk " + method + " " + UrlForLog(path),
                          std::chrono::seconds(10));
}

CallResult<std::optional<ClerkUser>> ClerkClient::FindUserByExternalId(
    const std::string& scim_id) const {
  const std::string what = "clerk GET /users?external_id";
  SCIM_TRY(auto response, Call("GET", "/users?external_id=" + UrlEncode(scim_id), ""));
  if (!response.Success()) return Fail(what, response);
  SCIM_TRY(auto doc, Body(what, response, true));
  for (const auto& entry : doc.GetArray()) {
    auto user = ReadUser(entry);
    if (user && user->external_id == scim_id) return user;  // unknown filters return everyone
  }
  return std::optional<ClerkUser>();
}

CallResult<std::optional<ClerkUser>> ClerkClient::GetUser(const std::string& id) const {
  const std::string what = "clerk GET /users/{id}";
  SCIM_TRY(auto response, Call("GET", "/users/" + UrlEncode(id), ""));
  if (response.status == 404) return std::optional<ClerkUser>();
  if (!response.Success()) return Fail(what, response);
  SCIM_TRY(auto doc, Body(what, response));
  return ReadUser(doc);
}

CallResult<std::vector<ClerkUser>> ClerkClient::ListUsers() const {
  const std::string what = "clerk GET /users";
  std::vector<ClerkUser> users;
  for (int offset = 0;; offset += kPageSize) {
    SCIM_TRY(auto response, Call("GET",
                                 "/users?limit=" + std::to_string(kPageSize) + "&offset=" +
                                     std::to_string(offset) + "&order_by=%2Bcreated_at",
                                 ""));
    if (!response.Success()) return Fail(what, response);
    SCIM_TRY(auto doc, Body(what, response, true));
    for (const auto& entry : doc.GetArray()) {
      if (auto user = ReadUser(entry)) users.push_back(std::move(*user));
    }
    if (doc.Size() < static_cast<rapidjson::SizeType>(kPageSize)) return users;
  }
}

CallResult<ClerkUser> ClerkClient::CreateUser(const ClerkUserFields& fields) const {
  const std::string what = "clerk POST /users";
  SCIM_TRY(auto response, Call("POST", "/users", UserBody(fields, true)));
  if (!response.Success()) return Fail(what, response);
  SCIM_TRY(auto doc, Body(what, response));
  auto user = ReadUser(doc);
  if (!user) return CallError::Transport(what + ": answer has no id");
  return *user;
}

CallResult<std::optional<ClerkUser>> ClerkClient::UpdateUser(const std::string& id,
                                                             const ClerkUserFields& fields) const {
  const std::string what = "clerk PATCH /users/{id}";
  SCIM_TRY(auto response, Call("PATCH", "/users/" + UrlEncode(id), UserBody(fields, false)));
  if (response.status == 404) return std::optional<ClerkUser>();
  if (!response.Success()) return Fail(what, response);
  SCIM_TRY(auto doc, Body(what, response));
  return ReadUser(doc);
}

CallStatus ClerkClient::ReplaceEmail(const std::string& id, const std::string& email) const {
  JsonWriter w;
  w.StartObject();
  w.Field("email_address", email);
  w.EndObject();
  SCIM_TRY(auto response, Call("PUT", "/users/" + UrlEncode(id) + "/email_address", w.Text()));
  if (!response.Success()) return Fail("clerk PUT /users/{id}/email_address", response);
  return {};
}

CallResult<bool> ClerkClient::SetBanned(const std::string& id, bool banned) const {
  const std::string action = banned ? "ban" : "unban";
  SCIM_TRY(auto response, Call("POST", "/users/" + UrlEncode(id) + "/" + action, ""));
  if (response.status == 404) return false;
  if (!response.Success()) return Fail("clerk POST /users/{id}/" + action, response);
  return true;
}

CallResult<bool> ClerkClient::DeleteUser(const std::string& id) const {
  SCIM_TRY(auto response, Call("DELETE", "/users/" + UrlEncode(id), ""));
  if (response.status == 404) return false;
  if (!response.Success()) return Fail("clerk DELETE /users/{id}", response);
  return true;
}

CallResult<std::string> ClerkClient::CreateOrganization(const std::string& name,
                                                        const std::string& scim_id) const {
  const std::string what = "clerk POST /organizations";
  JsonWriter w;
  w.StartObject();
  w.Field("name", name);
  w.KeyOnly("private_metadata");
  w.StartObject();
  w.Field("scim_id", scim_id);
  w.EndObject();
  w.EndObject();
  SCIM_TRY(auto response, Call("POST", "/organizations", w.Text()));
  if (!response.Success()) return Fail(what, response);
  SCIM_TRY(auto doc, Body(what, response));
  auto id = IdMember(doc, "id");
  if (!id) return CallError::Transport(what + ": answer has no id");
  return *id;
}

CallResult<std::vector<ClerkOrganization>> ClerkClient::OrganizationPages(
    const std::string& query) const {
  const std::string what = "clerk GET /organizations";
  std::vector<ClerkOrganization> orgs;
  for (int offset = 0;; offset += kPageSize) {
    SCIM_TRY(auto response, Call("GET",
                                 "/organizations?limit=" + std::to_string(kPageSize) +
                                     "&offset=" + std::to_string(offset) + query,
                                 ""));
    if (!response.Success()) return Fail(what, response);
    SCIM_TRY(auto doc, Body(what, response));
    const json::Value* data = DataArray(doc);
    if (data == nullptr) return CallError::Transport(what + ": answer has no data array");
    for (const auto& entry : data->GetArray()) {
      if (auto org = ReadOrganization(entry)) orgs.push_back(std::move(*org));
    }
    if (data->Size() < static_cast<rapidjson::SizeType>(kPageSize)) return orgs;
  }
}

CallResult<std::optional<ClerkOrganization>> ClerkClient::FindOrganization(
    const std::string& name, const std::string& scim_id) const {
  SCIM_TRY(auto orgs, OrganizationPages("&query=" + UrlEncode(name)));
  for (ClerkOrganization& org : orgs) {
    if (org.scim_id == scim_id) return std::optional<ClerkOrganization>(std::move(org));
  }
  return std::optional<ClerkOrganization>();
}

CallResult<std::vector<ClerkOrganization>> ClerkClient::OrganizationsOfUser(
    const std::string& user_id) const {
  return OrganizationPages("&user_id=" + UrlEncode(user_id));
}

CallResult<std::vector<ClerkOrganization>> ClerkClient::ListOrganizations() const {
  return OrganizationPages("&order_by=%2Bcreated_at");
}

CallResult<bool> ClerkClient::RenameOrganization(const std::string& id,
                                                 const std::string& name) const {
  JsonWriter w;
  w.StartObject();
  w.Field("name", name);
  w.EndObject();
  SCIM_TRY(auto response, Call("PATCH", OrgPath(id), w.Text()));
  if (response.status == 404) return false;
  if (!response.Success()) return Fail("clerk PATCH /organizations/{id}", response);
  return true;
}

CallResult<bool> ClerkClient::DeleteOrganization(const std::string& id) const {
  SCIM_TRY(auto response, Call("DELETE", OrgPath(id), ""));
  if (response.status == 404) return false;
  if (!response.Success()) return Fail("clerk DELETE /organizations/{id}", response);
  return true;
}

CallResult<MembershipCreate> ClerkClient::CreateMembership(const std::string& org_id,
                                                           const std::string& user_id,
                                                           const std::string& role) const {
  JsonWriter w;
  w.StartObject();
  w.Field("user_id", user_id);
  w.Field("role", role);
  w.EndObject();
  SCIM_TRY(auto response, Call("POST", OrgPath(org_id) + "/memberships", w.Text()));
  if (response.status == 404) return MembershipCreate::kNotFound;
  if (response.status == 400 && ReadError(response).code == "already_a_member_in_organization") {
    return MembershipCreate::kAlreadyMember;
  }
  if (!response.Success()) return Fail("clerk POST /organizations/{id}/memberships", response);
  return MembershipCreate::kCreated;
}

CallResult<bool> ClerkClient::UpdateMembership(const std::string& org_id,
                                               const std::string& user_id,
                                               const std::string& role) const {
  JsonWriter w;
  w.StartObject();
  w.Field("role", role);
  w.EndObject();
  SCIM_TRY(auto response, Call("PATCH", MemberPath(org_id, user_id), w.Text()));
  if (response.status == 404) return false;
  if (!response.Success()) {
    return Fail("clerk PATCH /organizations/{id}/memberships/{user}", response);
  }
  return true;
}

CallResult<bool> ClerkClient::DeleteMembership(const std::string& org_id,
                                               const std::string& user_id) const {
  SCIM_TRY(auto response, Call("DELETE", MemberPath(org_id, user_id), ""));
  if (response.status == 404) return false;
  if (!response.Success()) {
    return Fail("clerk DELETE /organizations/{id}/memberships/{user}", response);
  }
  return true;
}

CallResult<std::optional<std::vector<ClerkMembership>>> ClerkClient::ListMemberships(
    const std::string& org_id, const std::string& user_id) const {
  const std::string what = "clerk GET /organizations/{id}/memberships";
  std::vector<ClerkMembership> members;
  std::string filter = user_id.empty() ? "" : "&user_id=" + UrlEncode(user_id);
  for (int offset = 0;; offset += kPageSize) {
    SCIM_TRY(auto response,
             Call("GET",
                  OrgPath(org_id) + "/memberships?limit=" + std::to_string(kPageSize) +
                      "&offset=" + std::to_string(offset) + filter,
                  ""));
    if (response.status == 404) return std::optional<std::vector<ClerkMembership>>();
    if (!response.Success()) return Fail(what, response);
    SCIM_TRY(auto doc, Body(what, response));
    const json::Value* data = DataArray(doc);
    if (data == nullptr) return CallError::Transport(what + ": answer has no data array");
    for (const auto& entry : data->GetArray()) {
      auto m = ReadMembership(entry);
      // A filter the API ignored would list everyone: keep only the asked-for user.
      if (m && (user_id.empty() || m->user_id == user_id)) members.push_back(std::move(*m));
    }
    if (data->Size() < static_cast<rapidjson::SizeType>(kPageSize)) {
      return std::optional<std::vector<ClerkMembership>>(std::move(members));
    }
  }
}

}  // namespace scim::adapters::clerk
