#include "store/bound_sql.h"

#include <cctype>
#include <stdexcept>

namespace scim::store {
namespace {

bool IsNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

}  // namespace

// Every placeholder is renamed :b0, :b1, ... in textual order: SQLite gives repeated names one
// shared slot, which positional binding cannot address.
BoundSql::BoundSql(std::string sql, std::map<std::string, std::string> values) {
  bool in_literal = false;
  for (size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (c == '\'') in_literal = !in_literal;
    bool placeholder = !in_literal && c == ':' && i + 1 < sql.size() && IsNameChar(sql[i + 1]) &&
                       (i == 0 || sql[i - 1] != ':');  // "::" is a cast, not a placeholder
    if (!placeholder) {
      sql_.push_back(c);
      continue;
    }
    size_t end = i + 1;
    while (end < sql.size() && IsNameChar(sql[end])) ++end;
    std::string name = sql.substr(i + 1, end - i - 1);
    auto it = values.find(name);
    if (it == values.end()) {
      missing_ = name;
      return;
    }
    sql_ += ":b" + std::to_string(ordered_.size());
    ordered_.push_back(it->second);
    i = end - 1;
  }
}

void BoundSql::CheckBound() const {
  if (!ok()) throw std::logic_error("unbound SQL parameter " + missing_);
}

soci::details::prepare_temp_type BoundSql::Prepare(soci::session& s) const {
  CheckBound();
  soci::details::prepare_temp_type prepared = (s.prepare << sql_);
  for (const std::string& value : ordered_) prepared, soci::use(value);
  return prepared;
}

std::string InList(const std::vector<std::string>& values, const std::string& prefix,
                   std::map<std::string, std::string>& params) {
  std::string list;
  for (size_t i = 0; i < values.size(); ++i) {
    std::string name = prefix + std::to_string(i);
    params[name] = values[i];
    list += (i == 0 ? ":" : ", :") + name;
  }
  return list;
}

}  // namespace scim::store
