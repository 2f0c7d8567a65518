#include "http/console.h"

#include "http/error_response.h"
#include "scim/http/console_files.h"

namespace scim::http {

std::string ConsoleContentType(const std::string& name) {
  auto dot = name.rfind('.');
  std::string ext = dot == std::string::npos ? "" : name.substr(dot + 1);
  if (ext == "html") return "text/html; charset=utf-8";
  if (ext == "js") return "text/javascript; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "svg") return "image/svg+xml";
  if (ext == "png") return "image/png";
  if (ext == "ico") return "image/x-icon";
  if (ext == "json") return "application/json";
  if (ext == "txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

HttpResponse ServeConsole(const std::string& path) {
  static const std::string kPrefix = "/console/";
  if (path == "/console") {
    HttpResponse redirect;
    redirect.status = 301;
    redirect.location = kPrefix;
    redirect.content_type = "text/plain; charset=utf-8";
    redirect.body = "moved to /console/\n";
    redirect.static_file = true;
    return redirect;
  }
  if (path.rfind(kPrefix, 0) != 0) return ErrorResponse(ErrorCode::kNotFound, "no such file");
  std::string name = path.substr(kPrefix.size());
  if (name.empty()) name = "index.html";
  // Exact match against the embedded names only: no file system, nothing to traverse.
  for (const auto& file : ConsoleFiles()) {
    if (name != file.path) continue;
    HttpResponse response;
    response.content_type = ConsoleContentType(name);
    response.body.assign(reinterpret_cast<const char*>(file.data), file.size);
    response.static_file = true;
    return response;
  }
  HttpResponse missing = ErrorResponse(ErrorCode::kNotFound, "no such console file");
  missing.static_file = true;
  return missing;
}

}  // namespace scim::http
