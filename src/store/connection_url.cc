#include "store/connection_url.h"

#include <cctype>

namespace scim::store {
namespace {

// libpq keyword values are quoted so spaces and quotes in them are safe.
std::string QuoteLibpq(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "'";
}

std::string PercentDecode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

Result<ConnectionUrl> ParsePostgres(const std::string& url, size_t scheme_len) {
  std::string rest = url.substr(scheme_len);
  auto at = rest.rfind('@');
  auto slash = rest.find('/', at == std::string::npos ? 0 : at);
  if (at == std::string::npos || slash == std::string::npos || slash + 1 >= rest.size()) {
    return Error(ErrorCode::kInvalidValue,
                 "database URL must be postgresql://USER[:PASSWORD]@HOST:PORT/DBNAME");
  }
  std::string userinfo = rest.substr(0, at);
  std::string hostport = rest.substr(at + 1, slash - at - 1);
  std::string dbname = rest.substr(slash + 1);
  if (auto q = dbname.find('?'); q != std::string::npos) dbname.resize(q);
  std::string user = userinfo, password;
  if (auto colon = userinfo.find(':'); colon != std::string::npos) {
    user = userinfo.substr(0, colon);
    password = PercentDecode(userinfo.substr(colon + 1));
  }
  std::string host = hostport, port = "5432";
  if (auto colon = hostport.rfind(':'); colon != std::string::npos) {
    host = hostport.substr(0, colon);
    port = hostport.substr(colon + 1);
  }
  ConnectionUrl out{Dialect::kPostgres, "", "", ""};
  out.connect_string = "host=" + QuoteLibpq(host) + " port=" + QuoteLibpq(port) +
                       " dbname=" + QuoteLibpq(PercentDecode(dbname)) +
                       " user=" + QuoteLibpq(PercentDecode(user)) + " connect_timeout=5";
  if (!password.empty()) out.connect_string += " password=" + QuoteLibpq(password);
  out.redacted = "postgresql://" + user + "@" + hostport + "/" + dbname;
  return out;
}

}  // namespace

std::string FirstLine(const std::string& text) {
  auto nl = text.find('\n');
  return nl == std::string::npos ? text : text.substr(0, nl);
}

Result<ConnectionUrl> ParseConnectionUrl(const std::string& url) {
  for (const char* scheme : {"postgresql://", "postgres://"}) {
    std::string s = scheme;
    if (url.rfind(s, 0) == 0) return ParsePostgres(url, s.size());
  }
  for (const char* scheme : {"sqlite://", "sqlite:"}) {
    std::string s = scheme;
    if (url.rfind(s, 0) == 0 && url.size() > s.size()) {
      std::string path = url.substr(s.size());
      return ConnectionUrl{Dialect::kSqlite, "db=" + path + " timeout=10", url, path};
    }
  }
  return Error(ErrorCode::kInvalidValue,
               "unsupported database URL '" + url + "' (use sqlite:PATH or postgresql://...)");
}

}  // namespace scim::store
