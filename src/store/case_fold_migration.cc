#include "store/case_fold_migration.h"

#include <optional>
#include <vector>

#include "scim/common/strings.h"
#include "store/filter_sql.h"
#include "store/sql_util.h"

namespace scim::store {
namespace {

// True when `column` (text) holds a character outside ASCII: its byte and character lengths
// differ (both databases store UTF-8).
std::string NonAscii(Dialect dialect, const std::string& column) {
  if (dialect == Dialect::kPostgres) {
    return "octet_length(" + column + ") <> char_length(" + column + ")";
  }
  return "length(CAST(" + column + " AS BLOB)) <> length(" + column + ")";
}

std::string ByteLength(Dialect dialect, const std::string& column) {
  if (dialect == Dialect::kPostgres) return "octet_length(" + column + ")";
  return "length(CAST(" + column + " AS BLOB))";
}

std::optional<std::string> OptionalString(const soci::row& r, size_t i) {
  if (r.get_indicator(i) == soci::i_null) return std::nullopt;
  return r.get<std::string>(i);
}

struct ResourceKeys {
  std::string tenant, id, type;
  std::optional<std::string> user_name, user_name_lc, display_name;
};

void RefoldResources(soci::session& s, Dialect dialect,
                     const std::function<void(const std::string&)>& log) {
  std::vector<ResourceKeys> rows;
  soci::rowset<soci::row> found =
      (s.prepare << "SELECT tenant, id, resource_type, user_name, user_name_lc, display_name "
                    "FROM resources WHERE " +
                        NonAscii(dialect, "user_name") + " OR " +
                        NonAscii(dialect, "display_name") + " ORDER BY tenant, created, id");
  for (const soci::row& r : found) {
    rows.push_back(ResourceKeys{r.get<std::string>(0), r.get<std::string>(1), r.get<std::string>(2),
                                OptionalString(r, 3), OptionalString(r, 4), OptionalString(r, 5)});
  }
  for (const ResourceKeys& row : rows) {
    if (row.display_name) {
      std::string folded = FoldCase(*row.display_name);
      s << "UPDATE resources SET display_name_lc = :lc WHERE tenant = :t AND id = :id",
          soci::use(folded, "lc"), soci::use(row.tenant, "t"), soci::use(row.id, "id");
    }
    if (!row.user_name) continue;
    std::string folded = FoldCase(*row.user_name);
    if (row.user_name_lc && *row.user_name_lc == folded) continue;
    std::string other;
    soci::indicator other_ind = soci::i_null;
    s << "SELECT id FROM resources WHERE tenant = :t AND resource_type = :rt AND user_name_lc = "
         ":lc AND id <> :id",
        soci::use(row.tenant, "t"), soci::use(row.type, "rt"), soci::use(folded, "lc"),
        soci::use(row.id, "id"), soci::into(other, other_ind);
    if (s.got_data() && other_ind == soci::i_ok) {
      log("migration 008: userName of " + row.type + " " + row.id + " (tenant " + row.tenant +
          ") folds like the userName of " + other +
          " (case-insensitive uniqueness is Unicode now); it keeps its ASCII-lower-cased key "
          "until one of the two is renamed");
      continue;
    }
    s << "UPDATE resources SET user_name_lc = :lc WHERE tenant = :t AND id = :id",
        soci::use(folded, "lc"), soci::use(row.tenant, "t"), soci::use(row.id, "id");
  }
}

struct ValueKey {
  std::string tenant, resource_id, path;
  long long ord = 0;
  std::string value;
};

void RefoldAttrValues(soci::session& s, Dialect dialect) {
  std::vector<ValueKey> rows;
  // ASCII values of up to kMaxIndexedValueBytes bytes fold exactly as before: left as they are.
  soci::rowset<soci::row> found =
      (s.prepare << "SELECT DISTINCT tenant, resource_id, path, ord, value FROM attr_values "
                    "WHERE " +
                        NonAscii(dialect, "value") + " OR " + ByteLength(dialect, "value") + " > " +
                        std::to_string(kMaxIndexedValueBytes));
  for (const soci::row& r : found) {
    rows.push_back(ValueKey{r.get<std::string>(0), r.get<std::string>(1), r.get<std::string>(2),
                            IntegerAt(r, 3), r.get<std::string>(4)});
  }
  if (rows.empty()) return;
  ValueKey key;
  int ord = 0;
  std::string lc, full;
  soci::indicator full_ind = soci::i_null;
  soci::statement update =
      (s.prepare << "UPDATE attr_values SET value_lc = :lc, value_lc_full = :full WHERE tenant = "
                    ":t AND resource_id = :id AND path = :p AND ord = :o AND value = :v",
       soci::use(lc, "lc"), soci::use(full, full_ind, "full"), soci::use(key.tenant, "t"),
       soci::use(key.resource_id, "id"), soci::use(key.path, "p"), soci::use(ord, "o"),
       soci::use(key.value, "v"));
  for (ValueKey& row : rows) {
    IndexedFold fold = IndexedValueFold(row.value);
    key = std::move(row);
    ord = static_cast<int>(key.ord);
    lc = std::move(fold.lc);
    full = fold.full.value_or("");
    full_ind = fold.full ? soci::i_ok : soci::i_null;
    update.execute(true);
  }
}

}  // namespace

void RefoldCaseKeys(soci::session& s, Dialect dialect,
                    const std::function<void(const std::string&)>& log) {
  RefoldResources(s, dialect, log);
  RefoldAttrValues(s, dialect);
}

}  // namespace scim::store
