#pragma once
// Binds SQL with named placeholders (":name") positionally: every occurrence gets its own
// parameter in textual order, so a name may appear several times (SOCI's named binding on
// PostgreSQL binds only the first occurrence of a repeated name).

#include <soci/soci.h>

#include <algorithm>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace scim::store {

class BoundSql {
 public:
  // `sql` uses :name placeholders; `values` gives each name's value (as text).
  BoundSql(std::string sql, std::map<std::string, std::string> values);

  const std::string& sql() const { return sql_; }
  // Values in the order their placeholders appear; false from ok() when a name had no value.
  const std::vector<std::string>& ordered_values() const { return ordered_; }
  bool ok() const { return missing_.empty(); }
  const std::string& missing() const { return missing_; }

  // Prepares a statement on `s` with every value bound; the BoundSql must outlive it. Throws
  // std::logic_error when a placeholder had no value (a bug in the caller, never user input).
  soci::details::prepare_temp_type Prepare(soci::session& s) const;

  // Runs the statement once with every value bound and `intos` (soci::into, vectors allowed)
  // filled: a one-time query, on PostgreSQL one PQexecParams round trip where Prepare costs a
  // PREPARE, an EXECUTE and a DEALLOCATE (issue 12). Throws like Prepare.
  template <typename... Into>
  void Once(soci::session& s, Into&&... intos) const {
    CheckBound();
    soci::details::once_temp_type query = (s << sql_);
    for (const std::string& value : ordered_) query, soci::use(value);
    (query, ..., std::forward<Into>(intos));
  }  // the query runs here, when `query` goes

 private:
  void CheckBound() const;

  std::string sql_;
  std::vector<std::string> ordered_;
  std::string missing_;
};

// Placeholders ":<prefix>0, :<prefix>1, ..." for an IN list of `values`; each value is added to
// `params` under its placeholder's name. `values` must not be empty.
std::string InList(const std::vector<std::string>& values, const std::string& prefix,
                   std::map<std::string, std::string>& params);

// IN lists of many values go in slices of this many (SQLite allows 32,766 parameters).
inline constexpr size_t kInListChunk = 500;

// Calls `each(slice)` for consecutive slices of at most `kInListChunk` of `values`, in order; not
// at all when `values` is empty.
template <class Each>
void ForEachInListChunk(const std::vector<std::string>& values, Each each) {
  for (size_t from = 0; from < values.size(); from += kInListChunk) {
    auto first = values.begin() + static_cast<std::ptrdiff_t>(from);
    auto last =
        values.begin() + static_cast<std::ptrdiff_t>(std::min(values.size(), from + kInListChunk));
    each(std::vector<std::string>(first, last));
  }
}

}  // namespace scim::store
