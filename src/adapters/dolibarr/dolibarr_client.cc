#include "adapters/dolibarr/dolibarr_client.h"

#include "adapters/common/json_util.h"
#include "adapters/dolibarr/dolibarr_errors.h"
#include "scim/common/json.h"

namespace scim::adapters::dolibarr {
namespace {

std::optional<ThirdParty> ReadThirdParty(const json::Value& v) {
  if (!v.IsObject()) return std::nullopt;
  ThirdParty tp;
  auto id = IdMember(v, "id");
  if (!id) return std::nullopt;
  tp.id = *id;
  tp.name = StringMember(v, "name").value_or("");
  tp.email = StringMember(v, "email").value_or("");
  tp.ref_ext = StringMember(v, "ref_ext").value_or("");
  if (auto status = IdMember(v, "status")) tp.status = *status == "0" ? 0 : 1;
  return tp;
}

}  // namespace

DolibarrClient::DolibarrClient(std::string base_url, std::string api_key,
                               std::string department_field, HttpClientOptions http_options)
    : base_url_(std::move(base_url)),
      api_key_(std::move(api_key)),
      department_field_(std::move(department_field)),
      http_(std::move(http_options)) {}

CallResult<HttpResponse> DolibarrClient::Call(const std::string& method, const std::string& path,
                                              const std::string& body) const {
  HttpRequest request;
  request.method = method;
  request.url = base_url_ + path;
  request.headers = {{"DOLAPIKEY", api_key_}, {"Accept", "application/json"}};
  if (!body.empty()) request.headers.emplace_back("Content-Type", "application/json");
  request.body = body;
  SCIM_TRY(auto response, http_.Send(request));
  // A JSON 404 with a detail is Dolibarr's "not found" (callers decide); everything else that
  // is not a JSON 2xx becomes an error naming the status and its cause (dolibarr_errors.h).
  if (auto error = ClassifyAnswer("dolibarr " + method + " " + UrlForLog(path), response)) {
    return *std::move(error);
  }
  return response;
}

CallResult<std::optional<ThirdParty>> DolibarrClient::GetOne(const std::string& path,
                                                             bool list) const {
  SCIM_TRY(auto response, Call("GET", path, ""));
  if (response.status == 404) return std::optional<ThirdParty>();
  json::Document doc;
  if (!json::Parse(response.body, doc).ok()) {
    return CallError::Transport("dolibarr GET " + UrlForLog(path) + ": malformed JSON answer");
  }
  if (list) {
    const json::Value* items = &doc;
    if (doc.IsObject() && doc.HasMember("data")) items = &doc["data"];  // pagination_data form
    if (!items->IsArray() || items->Empty()) return std::optional<ThirdParty>();
    return ReadThirdParty((*items)[0]);
  }
  return ReadThirdParty(doc);
}

CallResult<std::optional<ThirdParty>> DolibarrClient::Get(const std::string& id) const {
  return GetOne("/thirdparties/" + UrlEncode(id), false);
}

CallResult<std::optional<ThirdParty>> DolibarrClient::FindByEmail(const std::string& email) const {
  return GetOne("/thirdparties/email/" + UrlEncode(email), false);
}

CallResult<std::vector<ThirdParty>> DolibarrClient::FindAllByEmail(const std::string& email,
                                                                   int limit) const {
  if (!Filterable(email)) {
    // Not writable in a filter: the e-mail endpoint, which cannot list several.
    std::vector<ThirdParty> found;
    SCIM_TRY(auto one, FindByEmail(email));
    if (one) found.push_back(*one);
    return found;
  }
  return ListFiltered("(t.email:=:'" + email + "')", limit);
}

CallResult<std::optional<std::vector<ThirdParty>>> DolibarrClient::FindByRefExtOrEmail(
    const std::string& ref_ext, const std::string& email, int limit) const {
  using Found = std::optional<std::vector<ThirdParty>>;
  if (!Filterable(ref_ext) || email.empty() || !Filterable(email)) return Found();
  // dolibarr.md, "List: sqlfilters": criteria combine with and/or (Dolibarr's
  // forgeSQLFromUniversalSearchCriteria); an empty result is the 404 "not found".
  SCIM_TRY(auto rows,
           ListFiltered("(t.ref_ext:=:'" + ref_ext + "') or (t.email:=:'" + email + "')", limit));
  return Found(std::move(rows));
}

bool DolibarrClient::Filterable(const std::string& value) {
  // sqlfilters values may not hold parentheses; a quote would end the string.
  return value.find_first_of("'()") == std::string::npos;
}

CallResult<std::vector<ThirdParty>> DolibarrClient::ListFiltered(const std::string& filter,
                                                                 int limit) const {
  std::vector<ThirdParty> found;
  std::string path =
      "/thirdparties?sortfield=t.rowid&sortorder=ASC&sqlfilters=" + UrlEncode(filter) +
      "&limit=" + std::to_string(limit);
  SCIM_TRY(auto response, Call("GET", path, ""));
  if (response.status == 404) return found;  // "No third parties found"
  json::Document doc;
  if (!json::Parse(response.body, doc).ok()) {
    return CallError::Transport("dolibarr GET /thirdparties: malformed JSON answer");
  }
  const json::Value* items = &doc;
  if (doc.IsObject() && doc.HasMember("data")) items = &doc["data"];  // pagination_data form
  if (!items->IsArray()) return CallError::Transport("dolibarr GET /thirdparties: not a list");
  for (const auto& item : items->GetArray()) {
    if (auto tp = ReadThirdParty(item)) found.push_back(std::move(*tp));
  }
  return found;
}

CallResult<std::optional<bool>> DolibarrClient::ExtraFieldDefined() const {
  std::string path = "/setup/extrafields/societe/" + UrlEncode(department_field_);
  auto response = Call("GET", path, "");
  if (!response.ok()) {
    const CallError& error = response.error();
    // Only an admin may read extra-field definitions: no answer either way.
    if (error.http_status == 401 || error.http_status == 403) return std::optional<bool>();
    return error;
  }
  if (response->status == 404) return std::optional<bool>(false);
  // Capture step `extrafield_get`: {"societe":{"department":{...}}}.
  json::Document doc;
  if (!json::Parse(response->body, doc).ok() || !doc.IsObject()) {
    return CallError::Transport("dolibarr GET /setup/extrafields: malformed JSON answer");
  }
  auto kind = doc.FindMember("societe");
  bool defined = kind != doc.MemberEnd() && kind->value.IsObject() &&
                 kind->value.HasMember(department_field_.c_str());
  return std::optional<bool>(defined);
}

CallResult<std::optional<ThirdParty>> DolibarrClient::FindByRefExt(
    const std::string& ref_ext) const {
  if (!Filterable(ref_ext)) return std::optional<ThirdParty>();
  std::string filter = "(t.ref_ext:=:'" + ref_ext + "')";
  return GetOne("/thirdparties?sqlfilters=" + UrlEncode(filter) + "&limit=1", true);
}

CallResult<std::vector<ThirdParty>> DolibarrClient::ListAll(int page_size) const {
  std::vector<ThirdParty> all;
  for (int page = 0;; ++page) {
    std::string path =
        "/thirdparties?sortfield=t.rowid&sortorder=ASC&limit=" + std::to_string(page_size) +
        "&page=" + std::to_string(page);
    SCIM_TRY(auto response, Call("GET", path, ""));
    if (response.status == 404) break;  // "Thirdparties not found": an empty page
    json::Document doc;
    if (!json::Parse(response.body, doc).ok()) {
      return CallError::Transport("dolibarr GET /thirdparties: malformed JSON answer");
    }
    const json::Value* items = &doc;
    if (doc.IsObject() && doc.HasMember("data")) items = &doc["data"];  // pagination_data form
    if (!items->IsArray()) {
      return CallError::Transport("dolibarr GET /thirdparties: answer is not a list");
    }
    for (const auto& item : items->GetArray()) {
      if (auto tp = ReadThirdParty(item)) all.push_back(std::move(*tp));
    }
    if (static_cast<int>(items->Size()) < page_size) break;
  }
  return all;
}

std::string DolibarrClient::Body(const ThirdPartyFields& fields) const {
  JsonWriter w;
  w.StartObject();
  w.Field("name", fields.name);
  if (fields.email) w.Field("email", *fields.email);
  if (fields.phone) w.Field("phone", *fields.phone);
  if (fields.status) w.Field("status", static_cast<int64_t>(*fields.status));
  if (fields.customer_supplier_flags) {
    w.Field("client", int64_t{0});
    w.Field("fournisseur", int64_t{0});
  }
  if (fields.ref_ext) w.Field("ref_ext", *fields.ref_ext);
  if (fields.department) {
    w.KeyOnly("array_options");
    w.StartObject();
    w.Field("options_" + department_field_, *fields.department);
    w.EndObject();
  }
  w.Field("caller", "scimd");
  w.EndObject();
  return w.Text();
}

CallResult<std::string> DolibarrClient::Create(const ThirdPartyFields& fields) const {
  SCIM_TRY(auto response, Call("POST", "/thirdparties", Body(fields)));
  if (response.status == 404) {
    return ErrorFromResponse("dolibarr POST /thirdparties", response, ErrorDetail(response));
  }
  json::Document doc;
  std::optional<std::string> id;
  if (json::Parse(response.body, doc).ok()) id = IdText(doc);
  if (!id) {
    // The create probably happened: a retry finds it by ref_ext instead of duplicating it.
    return CallError::Transport("dolibarr POST /thirdparties: answer holds no id: " +
                                response.body.substr(0, 100));
  }
  return *id;
}

CallResult<UpdateAnswer> DolibarrClient::Update(const std::string& id,
                                                const ThirdPartyFields& fields) const {
  SCIM_TRY(auto response, Call("PUT", "/thirdparties/" + UrlEncode(id), Body(fields)));
  UpdateAnswer answer;
  answer.found = response.status != 404;
  json::Document doc;
  if (answer.found && json::Parse(response.body, doc).ok() && doc.IsObject()) {
    // Dolibarr lists every defined extra field, null when unset; [] when none is defined
    // (capture steps `get_created_with_status0`, `get_by_email_ambiguous`).
    auto options = doc.FindMember("array_options");
    if (options != doc.MemberEnd() && options->value.IsObject()) {
      answer.department_field_listed =
          options->value.HasMember(("options_" + department_field_).c_str());
    } else if (options != doc.MemberEnd() && options->value.IsArray()) {
      answer.department_field_listed = false;
    }
  }
  return answer;
}

CallResult<bool> DolibarrClient::Delete(const std::string& id) const {
  SCIM_TRY(auto response, Call("DELETE", "/thirdparties/" + UrlEncode(id), ""));
  return response.status != 404;
}

}  // namespace scim::adapters::dolibarr
