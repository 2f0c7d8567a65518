#include "adapters/crm/crm_client.h"

#include "adapters/common/budgeted_send.h"
#include "adapters/common/json_util.h"
#include "scim/common/json.h"

namespace scim::adapters::crm {
namespace {

// A CallError from the CRM's error shape {"error":{"code","message",...}}.
CallError Fail(const std::string& what, const HttpResponse& response) {
  json::Document doc;
  std::string message;
  std::string code;
  if (json::Parse(response.body, doc).ok() && doc.IsObject()) {
    if (auto e = doc.FindMember("error"); e != doc.MemberEnd() && e->value.IsObject()) {
      code = StringMember(e->value, "code").value_or("");
      message = StringMember(e->value, "message").value_or("");
      if (message.empty())
        message = code;
      else if (!code.empty())
        message = code + ": " + message;
    }
  }
  return ErrorFromResponse(what, response, message, code);
}

// A 2xx answer's JSON object, or a transient error (a proxy page, a truncated answer).
CallResult<json::Document> Body(const std::string& what, const HttpResponse& response) {
  json::Document doc;
  if (!json::Parse(response.body, doc).ok() || !doc.IsObject()) {
    return CallError::Transport(what + ": answer is not a JSON object");
  }
  return doc;
}

std::optional<CrmUser> ReadUser(const json::Value& v) {
  auto id = IdMember(v, "id");
  if (!id) return std::nullopt;
  CrmUser user;
  user.id = *id;
  user.email = StringMember(v, "email").value_or("");
  if (auto ids = v.FindMember("externalIds"); ids != v.MemberEnd() && ids->value.IsObject()) {
    for (auto it = ids->value.MemberBegin(); it != ids->value.MemberEnd(); ++it) {
      if (auto value = IdText(it->value))
        user.external_ids[std::string(json::View(it->name))] = *value;
    }
  }
  return user;
}

// The POST/PATCH body; `patch` adds `"system": null` for every cleared external id (the CRM
// merges externalIds key by key, and null drops a key).
std::string UserBody(const CrmUserFields& fields, bool patch) {
  JsonWriter w;
  w.StartObject();
  w.Field("email", fields.email);
  w.Field("name", fields.name);
  w.Field("active", fields.active);
  if (fields.role) w.Field("role", *fields.role);
  w.KeyOnly("externalIds");
  w.StartObject();
  for (const auto& [system, id] : fields.external_ids) w.Field(system, id);
  if (patch) {
    for (const std::string& system : fields.cleared_external_ids) {
      if (fields.external_ids.contains(system)) continue;
      w.KeyOnly(system);
      w.Null();
    }
  }
  w.EndObject();
  w.EndObject();
  return w.Text();
}

}  // namespace

CrmClient::CrmClient(std::string base_url, std::string token, HttpClientOptions http_options,
                     int requests_per_minute, std::chrono::milliseconds max_rate_wait)
    : base_url_(std::move(base_url)),
      token_(std::move(token)),
      http_(std::move(http_options)),
      limiter_(std::make_unique<RateLimiter>(requests_per_minute, max_rate_wait)) {}

CallResult<HttpResponse> CrmClient::Call(const std::string& method, const std::string& path,
                                         const std::string& body,
                                         const std::string& idempotency_key) const {
  HttpRequest request;
  request.method = method;
  request.url = base_url_ + path;
  request.headers = {{"Authorization", "Bearer " + token_}, {"Accept", "application/json"}};
  if (!body.empty()) request.headers.emplace_back("Content-Type", "application/json");
  if (!idempotency_key.empty()) request.headers.emplace_back("Idempotency-Key", idempotency_key);
  request.body = body;
  return SendWithinBudget(http_, *limiter_, request, "crm " + method + " " + path,
                          std::chrono::seconds(60));
}

CallResult<CreatedUser> CrmClient::CreateUser(const CrmUserFields& fields,
                                              const std::string& idempotency_key) const {
  const std::string what = "crm POST /users";
  SCIM_TRY(auto response, Call("POST", "/users", UserBody(fields, false), idempotency_key));
  if (response.status == 409) {
    json::Document doc;
    if (json::Parse(response.body, doc).ok() && doc.IsObject() && doc.HasMember("error")) {
      const json::Value& error = doc["error"];
      if (StringMember(error, "code").value_or("") == "email_taken") {
        if (auto existing = IdMember(error, "existing_id")) return CreatedUser{*existing, true};
      }
    }
  }
  if (!response.Success()) return Fail(what, response);
  SCIM_TRY(auto doc, Body(what, response));
  auto id = IdMember(doc, "id");
  if (!id) return CallError::Transport(what + ": answer has no id");
  return CreatedUser{*id, false};
}

CallResult<std::optional<CrmUser>> CrmClient::GetUser(const std::string& id) const {
  const std::string what = "crm GET /users/{id}";
  SCIM_TRY(auto response, Call("GET", "/users/" + UrlEncode(id), ""));
  if (response.status == 404) return std::optional<CrmUser>();
  if (!response.Success()) return Fail(what, response);
  SCIM_TRY(auto doc, Body(what, response));
  return ReadUser(doc);
}

CallResult<std::optional<CrmUser>> CrmClient::FindUserByScimId(const std::string& scim_id) const {
  const std::string what = "crm GET /users?externalId.scim";
  SCIM_TRY(auto response, Call("GET", "/users?externalId.scim=" + UrlEncode(scim_id), ""));
  if (!response.Success()) return Fail(what, response);
  SCIM_TRY(auto doc, Body(what, response));
  auto data = doc.FindMember("data");
  if (data == doc.MemberEnd() || !data->value.IsArray()) {
    return CallError::Transport(what + ": answer has no data array");
  }
  for (const auto& entry : data->value.GetArray()) {
    auto user = ReadUser(entry);
    if (user && user->external_ids["scim"] == scim_id) return user;
  }
  return std::optional<CrmUser>();
}

CallResult<bool> CrmClient::PatchUser(const std::string& id, const CrmUserFields& fields) const {
  SCIM_TRY(auto response, Call("PATCH", "/users/" + UrlEncode(id), UserBody(fields, true)));
  if (response.status == 404) return false;
  if (!response.Success()) return Fail("crm PATCH /users/{id}", response);
  return true;
}

CallResult<bool> CrmClient::DeleteUser(const std::string& id) const {
  SCIM_TRY(auto response, Call("DELETE", "/users/" + UrlEncode(id), ""));
  if (response.status == 404) return false;
  if (!response.Success()) return Fail("crm DELETE /users/{id}", response);
  return true;
}

CallResult<std::string> CrmClient::CreateOrganization(const std::string& name,
                                                      const std::string& external_id,
                                                      const std::string& idempotency_key) const {
  const std::string what = "crm POST /organizations";
  JsonWriter w;
  w.StartObject();
  w.Field("name", name);
  w.Field("externalId", external_id);
  w.EndObject();
  SCIM_TRY(auto response, Call("POST", "/organizations", w.Text(), idempotency_key));
  if (!response.Success()) return Fail(what, response);
  SCIM_TRY(auto doc, Body(what, response));
  auto id = IdMember(doc, "id");
  if (!id) return CallError::Transport(what + ": answer has no id");
  return *id;
}

CallResult<bool> CrmClient::RenameOrganization(const std::string& id,
                                               const std::string& name) const {
  JsonWriter w;
  w.StartObject();
  w.Field("name", name);
  w.EndObject();
  SCIM_TRY(auto response, Call("PATCH", "/organizations/" + UrlEncode(id), w.Text()));
  if (response.status == 404) return false;
  if (!response.Success()) return Fail("crm PATCH /organizations/{id}", response);
  return true;
}

CallResult<bool> CrmClient::DeleteOrganization(const std::string& id) const {
  SCIM_TRY(auto response, Call("DELETE", "/organizations/" + UrlEncode(id), ""));
  if (response.status == 404) return false;
  if (!response.Success()) return Fail("crm DELETE /organizations/{id}", response);
  return true;
}

CallResult<bool> CrmClient::PutMembership(const std::string& org_id, const std::string& user_id,
                                          const std::string& role) const {
  JsonWriter w;
  w.StartObject();
  w.Field("role", role);
  w.EndObject();
  SCIM_TRY(auto response,
           Call("PUT", "/organizations/" + UrlEncode(org_id) + "/memberships/" + UrlEncode(user_id),
                w.Text()));
  if (response.status == 404) return false;
  if (!response.Success()) return Fail("crm PUT /organizations/{id}/memberships/{user}", response);
  return true;
}

CallResult<bool> CrmClient::DeleteMembership(const std::string& org_id,
                                             const std::string& user_id) const {
  SCIM_TRY(auto response,
           Call("DELETE",
                "/organizations/" + UrlEncode(org_id) + "/memberships/" + UrlEncode(user_id), ""));
  if (response.status == 404) return false;
  if (!response.Success()) {
    return Fail("crm DELETE /organizations/{id}/memberships/{user}", response);
  }
  return true;
}

CallResult<std::optional<std::vector<Membership>>> CrmClient::ListMemberships(
    const std::string& org_id) const {
  const std::string what = "crm GET /organizations/{id}/memberships";
  SCIM_TRY(auto response, Call("GET", "/organizations/" + UrlEncode(org_id) + "/memberships", ""));
  if (response.status == 404) return std::optional<std::vector<Membership>>();
  if (!response.Success()) return Fail(what, response);
  SCIM_TRY(auto doc, Body(what, response));
  std::vector<Membership> out;
  if (auto data = doc.FindMember("data"); data != doc.MemberEnd() && data->value.IsArray()) {
    for (const auto& entry : data->value.GetArray()) {
      auto user = IdMember(entry, "userId");
      if (user) out.push_back({*user, StringMember(entry, "role").value_or("")});
    }
  }
  return std::optional<std::vector<Membership>>(std::move(out));
}

CallStatus CrmClient::UpsertStore(const CrmStore& store) const {
  SCIM_TRY(auto errors, UpsertStores({store}));
  if (!errors.front()) return CallStatus();
  CallError error = CallError::Permanent(*errors.front());
  error.http_status = 200;
  return error;
}

CallResult<std::vector<std::optional<std::string>>> CrmClient::UpsertStores(
    const std::vector<CrmStore>& stores) const {
  const std::string what = "crm POST /stores/bulk-import";
  JsonWriter w;
  w.StartObject();
  w.KeyOnly("stores");
  w.StartArray();
  for (const CrmStore& store : stores) {
    w.StartObject();
    w.Field("name", store.name);
    w.Field("location", store.location);
    w.Field("address", store.address);
    w.Field("phone", store.phone);
    w.Field("external_id", store.external_id);
    w.EndObject();
  }
  w.EndArray();
  w.Field("mode", "create_or_update");
  w.EndObject();
  SCIM_TRY(auto response, Call("POST", "/stores/bulk-import", w.Text()));
  if (!response.Success()) return Fail(what, response);
  SCIM_TRY(auto doc, Body(what, response));
  std::vector<std::optional<std::string>> errors(stores.size());
  int64_t failed = 0;
  if (auto f = doc.FindMember("failed"); f != doc.MemberEnd() && f->value.IsInt64()) {
    failed = f->value.GetInt64();
  }
  bool success = true;
  if (auto s = doc.FindMember("success"); s != doc.MemberEnd() && s->value.IsBool()) {
    success = s->value.GetBool();
  }
  if (failed == 0 && success) return errors;
  // Per-store errors (crm.md): {index, external_id, message}; the index says which store, the
  // external_id confirms it (or finds it when the index is missing or out of range).
  size_t matched = 0;
  if (auto list = doc.FindMember("errors"); list != doc.MemberEnd() && list->value.IsArray()) {
    for (const auto& e : list->value.GetArray()) {
      if (!e.IsObject()) continue;
      std::string message = StringMember(e, "message").value_or("rejected");
      std::optional<std::string> external = StringMember(e, "external_id");
      std::optional<size_t> at;
      if (auto i = e.FindMember("index");
          i != e.MemberEnd() && i->value.IsInt64() && i->value.GetInt64() >= 0 &&
          static_cast<size_t>(i->value.GetInt64()) < stores.size()) {
        at = static_cast<size_t>(i->value.GetInt64());
        if (external && stores[*at].external_id != *external) at.reset();
      }
      if (!at && external) {
        for (size_t k = 0; k < stores.size(); ++k) {
          if (stores[k].external_id == *external) at = k;
        }
      }
      if (!at) continue;
      if (!errors[*at]) ++matched;
      errors[*at] = what + ": store " + stores[*at].external_id + " rejected: " + message;
    }
  }
  if (matched == 0) {
    // Failed without saying which store: every store of the call is in doubt.
    for (size_t k = 0; k < stores.size(); ++k) {
      errors[k] = what + ": store " + stores[k].external_id + " rejected (" +
                  std::to_string(failed) + " of " + std::to_string(stores.size()) +
                  " failed, no per-store error given)";
    }
  }
  return errors;
}

CallResult<bool> CrmClient::DeleteStore(const std::string& external_id) const {
  SCIM_TRY(auto response, Call("DELETE", "/stores/" + UrlEncode(external_id), ""));
  if (response.status == 404) return false;
  if (!response.Success()) return Fail("crm DELETE /stores/{external_id}", response);
  return true;
}

}  // namespace scim::adapters::crm
