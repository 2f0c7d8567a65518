#include "adapters/common/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <mutex>
#include <vector>

#include "scim/common/strings.h"

namespace scim::adapters {
namespace {

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Transfer {
  HttpResponse* response;
  size_t max_bytes;
  bool too_large = false;
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  size_t n = size * count;
  if (transfer->response->body.size() + n > transfer->max_bytes) {
    transfer->too_large = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  transfer->response->body.append(data, n);
  return n;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  size_t n = size * count;
  std::string_view line(data, n);
  if (line.starts_with("HTTP/")) {
    transfer->response->headers.clear();  // a new status line (after 100 Continue)
    return n;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  std::string name = ToLower(Trim(line.substr(0, colon)));
  transfer->response->headers[name] = std::string(Trim(line.substr(colon + 1)));
  return n;
}

}  // namespace

// The connection/DNS/TLS-session cache shared by every request of one client, and its idle easy
// handles. A handle is reused (curl_easy_reset between requests) rather than made per request:
// curl_easy_perform on a new handle creates an internal multi handle, with a socketpair and its
// fcntl/close calls, every time (3 % of scimd's CPU in the delivery lag bench's profile).
struct HttpClient::Shared {
  CURLSH* share = nullptr;
  std::array<std::mutex, CURL_LOCK_DATA_LAST> locks;
  static constexpr size_t kMaxIdle = 16;
  std::mutex idle_mu;
  std::vector<CURL*> idle;

  // An idle handle (options at their defaults), or a new one; nullptr when curl cannot make one.
  CURL* Take() {
    {
      std::lock_guard<std::mutex> lock(idle_mu);
      if (!idle.empty()) {
        CURL* curl = idle.back();
        idle.pop_back();
        return curl;
      }
    }
    return curl_easy_init();
  }

  // Hands `curl` back: reset (no pointer into the finished request stays set), kept for the next
  // request unless kMaxIdle are idle already. Its connections live in the share either way.
  void Give(CURL* curl) {
    curl_easy_reset(curl);
    {
      std::lock_guard<std::mutex> lock(idle_mu);
      if (idle.size() < kMaxIdle) {
        idle.push_back(curl);
        return;
      }
    }
    curl_easy_cleanup(curl);
  }

  static void Lock(CURL*, curl_lock_data data, curl_lock_access, void* user) {
    static_cast<Shared*>(user)->locks[data].lock();
  }
  static void Unlock(CURL*, curl_lock_data data, void* user) {
    static_cast<Shared*>(user)->locks[data].unlock();
  }

  Shared() {
    share = curl_share_init();
    curl_share_setopt(share, CURLSHOPT_LOCKFUNC, &Shared::Lock);
    curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, &Shared::Unlock);
    curl_share_setopt(share, CURLSHOPT_USERDATA, this);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  }
  ~Shared() {
    for (CURL* curl : idle) curl_easy_cleanup(curl);  // before the share they use
    curl_share_cleanup(share);
  }
};

std::optional<std::string> HttpResponse::Header(std::string_view name) const {
  auto it = headers.find(ToLower(name));
  if (it == headers.end()) return std::nullopt;
  return it->second;
}

bool HttpResponse::IsJson() const {
  auto type = Header("content-type");
  return type && ToLower(*type).find("json") != std::string::npos;
}

HttpClient::HttpClient(HttpClientOptions options) : options_(std::move(options)) {
  GlobalInitOnce();
  shared_ = std::make_unique<Shared>();
}

HttpClient::~HttpClient() = default;

CallResult<HttpResponse> HttpClient::Send(const HttpRequest& request) const {
  std::string what = request.method + " " + UrlForLog(request.url);
  CURL* curl = shared_->Take();
  if (curl == nullptr) return CallError::Transport(what + ": cannot create a curl handle");

  HttpResponse response;
  Transfer transfer{&response, options_.max_response_bytes};
  char error_buffer[CURL_ERROR_SIZE] = {0};
  curl_slist* headers = nullptr;
  for (const auto& [name, value] : request.headers) {
    headers = curl_slist_append(headers, (name + ": " + value).c_str());
  }
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip

  curl_easy_setopt(curl, CURLOPT_SHARE, shared_->share);
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");  // whatever curl can decode

  if (request.method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else {
    if (request.method != "POST") {
      curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
    if (!request.body.empty() || request.method == "POST" || request.method == "PUT" ||
        request.method == "PATCH") {
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.c_str());
    }
  }

  CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  shared_->Give(curl);
  curl_slist_free_all(headers);

  if (rc != CURLE_OK) {
    if (transfer.too_large) {
      return CallError::Transport(what + ": answer larger than " +
                                  std::to_string(options_.max_response_bytes) + " bytes");
    }
    std::string reason = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(rc);
    CallError error = CallError::Transport(what + ": " + reason);
    error.no_answer = true;
    error.unreachable = rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST;
    return error;
  }
  response.status = static_cast<int>(status);
  return response;
}

std::optional<int> ParseRetryAfter(std::string_view value,
                                   std::chrono::system_clock::time_point now) {
  std::string_view v = Trim(value);
  if (v.empty()) return std::nullopt;
  if (std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c); })) {
    if (v.size() > 9) return 999999999;
    return std::stoi(std::string(v));
  }
  time_t when = curl_getdate(std::string(v).c_str(), nullptr);
  if (when < 0) return std::nullopt;
  auto delta = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::from_time_t(when) - now)
                   .count();
  return static_cast<int>(std::max<int64_t>(0, delta));
}

std::string UrlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string UrlForLog(std::string_view url) {
  auto end = url.find_first_of("?#");
  return std::string(url.substr(0, end));
}

CallError ErrorFromResponse(std::string_view what, const HttpResponse& response, std::string detail,
                            std::string code) {
  CallError error;
  error.http_status = response.status;
  error.code = std::move(code);
  if (detail.empty()) {
    detail = std::string(Trim(response.body.substr(0, 200)));
  }
  error.message = std::string(what) + ": HTTP " + std::to_string(response.status);
  if (!detail.empty()) error.message += ": " + detail;
  if (auto retry_after = response.Header("retry-after")) {
    error.retry_after_seconds = ParseRetryAfter(*retry_after);
  }
  return error;
}

}  // namespace scim::adapters
