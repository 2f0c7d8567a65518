#include "adapters/dolibarr/dolibarr_errors.h"

#include "adapters/common/json_util.h"
#include "scim/common/json.h"
#include "scim/common/strings.h"

namespace scim::adapters::dolibarr {
namespace {

// The first `n` bytes of an HTML or text body with tags removed and whitespace folded.
std::string TextOf(std::string_view body, size_t n = 120) {
  std::string out;
  bool in_tag = false, space = false;
  for (char c : body) {
    if (c == '<') {
      in_tag = true;
      continue;
    }
    if (c == '>') {
      in_tag = false;
      space = true;
      continue;
    }
    if (in_tag) continue;
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
    if (out.size() >= n) break;
  }
  return out;
}

std::string ContentType(const HttpResponse& response) {
  std::string type = response.Header("content-type").value_or("no content type");
  if (auto semi = type.find(';'); semi != std::string::npos) type.resize(semi);
  return type;
}

}  // namespace

std::string ErrorDetail(const HttpResponse& response) {
  json::Document doc;
  if (!json::Parse(response.body, doc).ok() || !doc.IsObject()) return {};
  auto error = doc.FindMember("error");
  if (error == doc.MemberEnd() || !error->value.IsObject()) return {};
  std::string detail = StringMember(error->value, "message").value_or("");
  for (auto it = error->value.MemberBegin(); it != error->value.MemberEnd(); ++it) {
    std::string_view key = json::View(it->name);
    if (!key.empty() && key.find_first_not_of("0123456789") == std::string_view::npos &&
        it->value.IsString()) {
      detail += detail.empty() ? "" : " ";
      detail += "(" + std::string(json::View(it->value)) + ")";
    }
  }
  return detail;
}

std::optional<CallError> ClassifyAnswer(std::string_view what, const HttpResponse& response) {
  const std::string status = std::to_string(response.status);
  const bool json = response.IsJson();
  if (response.Success() && json) return std::nullopt;
  if (response.Success()) {
    std::string text = TextOf(response.body);
    std::string head = std::string(what) + ": Dolibarr answered " + status + " with " +
                       (ContentType(response) == "text/html" ? "HTML" : ContentType(response));
    // Capture step `database_down`: MariaDB stopped, PHP up: the error page, status 202.
    if (response.status == 202 || text.find("DolibarrHasDetectedError") != std::string::npos) {
      return CallError::Transport(head + ": its database may be down (\"" + text + "\")");
    }
    // Capture step `api_module_disabled`: "Module Api must be enabled", status 200.
    if (text.find("Module Api") != std::string::npos) {
      return CallError::Transport(head + ": its API module is disabled (\"" + text + "\")");
    }
    return CallError::Transport(head + ", not JSON (\"" + text + "\")");
  }
  std::string detail = json ? ErrorDetail(response) : TextOf(response.body);
  CallError error = ErrorFromResponse(what, response, detail);
  switch (response.status) {
    case 401:
      error.message =
          std::string(what) + ": HTTP 401: Dolibarr does not accept the API key (" + detail + ")";
      return error;
    case 403:
      error.message = std::string(what) +
                      ": HTTP 403: the API key's Dolibarr user lacks a permission this call needs "
                      "(third parties: read, create, delete; extra fields: admin) (" +
                      detail + ")";
      return error;
    case 404:
      if (!json) {
        error.message = std::string(what) + ": HTTP 404 with " + ContentType(response) +
                        ": no Dolibarr API at this URL (is `url` <dolibarr root>/api/index.php?)";
        return error;
      }
      // Restler's router: an unknown path or method is a bare "Not Found" (capture
      // `wrong_method`); a missing record carries a detail ("Thirdparty not found").
      if (detail == "Not Found" || detail.empty()) {
        error.message = std::string(what) +
                        ": HTTP 404 Not Found from Dolibarr's router: this Dolibarr has no such "
                        "API method (an older version, or its module is disabled)";
        return error;
      }
      return std::nullopt;
    case 500:
      // Capture step `email_unique_create_dup`.
      if (detail.find("is assigned to another third") != std::string::npos) {
        error.code = std::string(kEmailTakenCode);
        error.message = std::string(what) +
                        ": HTTP 500: Dolibarr refuses a second third party with this e-mail "
                        "(SOCIETE_EMAIL_UNIQUE is set): " +
                        detail;
      }
      return error;
    default:
      return error;
  }
}

}  // namespace scim::adapters::dolibarr
