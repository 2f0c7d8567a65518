#include "scim/store/retention.h"

#include <soci/soci.h>

#include <limits>
#include <vector>

namespace scim::store {
namespace {

std::string InList(const std::vector<long long>& seqs) {
  std::string out;
  for (long long seq : seqs) out += (out.empty() ? "" : ",") + std::to_string(seq);
  return out;
}

// The highest seq every target has fanned out; everything when there is no target.
long long FannedOutToAll(soci::session& s) {
  long long low = 0;
  soci::indicator ind = soci::i_null;
  s << "SELECT MIN(last_seq) FROM target_cursors", soci::into(low, ind);
  return ind == soci::i_ok ? low : std::numeric_limits<long long>::max();
}

Status PruneOutbox(Database& db, const std::string& before, int batch, PruneCounts& counts) {
  return db.InTransaction([&](soci::session& s) -> Status {
    long long fanned = FannedOutToAll(s);
    std::vector<long long> seqs(static_cast<size_t>(batch));
    s << "SELECT o.seq FROM outbox o WHERE o.created < :before AND o.seq <= :fanned "
         "AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.seq = o.seq "
         "AND d.status <> 'delivered') "
         "AND EXISTS (SELECT 1 FROM outbox n WHERE n.tenant = o.tenant "
         "AND n.resource_id = o.resource_id AND n.seq > o.seq) "
         "ORDER BY o.seq LIMIT :n",
        soci::use(before), soci::use(fanned), soci::use(batch), soci::into(seqs);
    if (seqs.empty()) return OkStatus();
    soci::statement deliveries =
        (s.prepare << "DELETE FROM deliveries WHERE seq IN (" + InList(seqs) + ")");
    deliveries.execute(true);
    counts.deliveries += deliveries.get_affected_rows();
    soci::statement outbox =
        (s.prepare << "DELETE FROM outbox WHERE seq IN (" + InList(seqs) + ")");
    outbox.execute(true);
    counts.outbox += outbox.get_affected_rows();
    counts.more = counts.more || static_cast<int>(seqs.size()) == batch;
    return OkStatus();
  });
}

Status PruneAudit(Database& db, const std::string& before, int batch, PruneCounts& counts) {
  return db.InTransaction([&](soci::session& s) -> Status {
    std::vector<long long> seqs(static_cast<size_t>(batch));
    s << "SELECT seq FROM audit_log WHERE time < :before ORDER BY seq LIMIT :n", soci::use(before),
        soci::use(batch), soci::into(seqs);
    if (seqs.empty()) return OkStatus();
    soci::statement audit =
        (s.prepare << "DELETE FROM audit_log WHERE seq IN (" + InList(seqs) + ")");
    audit.execute(true);
    counts.audit += audit.get_affected_rows();
    counts.more = counts.more || static_cast<int>(seqs.size()) == batch;
    return OkStatus();
  });
}

}  // namespace

Result<PruneCounts> PruneOnce(Database& db, const std::string& delivered_before,
                              const std::string& audit_before, int batch) {
  PruneCounts counts;
  if (batch < 1) return Error(ErrorCode::kInvalidValue, "prune batch must be positive");
  if (!delivered_before.empty()) {
    SCIM_RETURN_IF_ERROR(PruneOutbox(db, delivered_before, batch, counts));
  }
  if (!audit_before.empty()) SCIM_RETURN_IF_ERROR(PruneAudit(db, audit_before, batch, counts));
  return counts;
}

}  // namespace scim::store
