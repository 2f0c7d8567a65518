#include "adapters/webhook/webhook_client.h"

#include "adapters/common/json_util.h"
#include "scim/common/json.h"

namespace scim::adapters::webhook {

WebhookClient::WebhookClient(std::string url, std::optional<std::string> bearer_token,
                             HttpClientOptions http_options)
    : url_(std::move(url)),
      bearer_token_(std::move(bearer_token)),
      http_(std::move(http_options)) {}

CallStatus WebhookClient::Push(const std::string& compact_set) const {
  HttpRequest request;
  request.method = "POST";
  request.url = url_;
  request.headers = {{"Content-Type", "application/secevent+jwt"}, {"Accept", "application/json"}};
  if (bearer_token_) request.headers.emplace_back("Authorization", "Bearer " + *bearer_token_);
  request.body = compact_set;
  SCIM_TRY(auto response, http_.Send(request));
  if (response.Success()) return CallStatus();
  // RFC 8935 §2.3: {"err":"invalid_key","description":"..."}.
  std::string detail;
  std::string code;
  json::Document doc;
  if (json::Parse(response.body, doc).ok() && doc.IsObject()) {
    code = StringMember(doc, "err").value_or("");
    std::string description = StringMember(doc, "description").value_or("");
    detail = code.empty() ? description : code + (description.empty() ? "" : ": " + description);
  }
  return ErrorFromResponse("webhook POST " + UrlForLog(url_), response, detail, code);
}

}  // namespace scim::adapters::webhook
