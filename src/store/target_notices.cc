#include "scim/store/target_notices.h"

#include <soci/soci.h>

#include "scim/common/clock.h"

namespace scim::store {

Status SaveTargetNotices(Database& db, const std::string& target,
                         const std::map<std::string, std::optional<std::string>>& notices) {
  if (notices.empty()) return OkStatus();
  return db.InTransaction([&](soci::session& s) -> Status {
    std::string now = NowTimestamp();
    for (const auto& [topic, message] : notices) {
      if (!message) {
        s << "DELETE FROM target_notices WHERE target = :t AND topic = :p", soci::use(target),
            soci::use(topic);
        continue;
      }
      // The same text again only confirms it; a new text starts a new `since`.
      s << "UPDATE target_notices SET updated = :u WHERE target = :t AND topic = :p "
           "AND message = :m",
          soci::use(now), soci::use(target), soci::use(topic), soci::use(*message);
      s << "INSERT INTO target_notices (target, topic, message, since, updated) "
           "VALUES (:t, :p, :m, :s, :u) ON CONFLICT (target, topic) DO UPDATE SET "
           "message = excluded.message, since = excluded.since, updated = excluded.updated "
           "WHERE target_notices.message <> excluded.message",
          soci::use(target), soci::use(topic), soci::use(*message), soci::use(now), soci::use(now);
    }
    return OkStatus();
  });
}

Result<std::vector<TargetNotice>> TargetNoticesOf(Database& db, const std::string& target) {
  std::vector<TargetNotice> out;
  SCIM_RETURN_IF_ERROR(db.WithSession([&](soci::session& s) -> Status {
    out.clear();
    soci::rowset<soci::row> rows =
        (s.prepare << "SELECT topic, message, since, updated FROM target_notices "
                      "WHERE target = :t ORDER BY topic",
         soci::use(target));
    for (const soci::row& row : rows) {
      out.push_back({row.get<std::string>(0), row.get<std::string>(1), row.get<std::string>(2),
                     row.get<std::string>(3)});
    }
    return OkStatus();
  }));
  return out;
}

}  // namespace scim::store
