#pragma once
// The rows a /Bulk transaction writes once, just before it commits, instead of one statement
// per operation: the audit entries and outbox events (one INSERT each, in the order the
// operations recorded them) and the resource count adjustments (one upsert per tenant and type).
//
// ResourceStore::InOneTransaction opens a buffer for its transaction; while it is open on this
// thread, RecordChange() and AdjustResourceCount() on that transaction's session add to it.
// Each operation runs in a savepoint: when the savepoint is rolled back, so are the rows it
// added (Mark / RollbackTo). The rows are written in the same transaction as the changes they
// describe (the outbox rule), before COMMIT; if writing them fails, the transaction fails.
// On PostgreSQL the audit rows come first: the transaction already has its xid from the
// changes' own rows, so every outbox seq is drawn after it (DeliveryStore::FanOut's rule).

#include <soci/soci.h>

#include <cstddef>
#include <string>
#include <vector>

#include "scim/store/database.h"

namespace scim::store {

struct AuditRow {
  std::string tenant, time, actor, action, resource_type, resource_id;
  long long version = 0;
  std::string client, request_id, changes;  // empty: NULL
};

struct OutboxRow {
  std::string tenant, resource_type, resource_id, event;
  long long version = 0;
  std::string payload, created;
};

class ChangeBuffer {
  struct Count {
    std::string tenant, resource_type;
    int delta;
  };

 public:
  // Opens the buffer of the transaction running on `s` for this thread (one at a time).
  ChangeBuffer(soci::session& s, Dialect dialect);
  ~ChangeBuffer();
  ChangeBuffer(const ChangeBuffer&) = delete;
  ChangeBuffer& operator=(const ChangeBuffer&) = delete;

  // The buffer open on this thread for session `s`, else nullptr (write at once).
  static ChangeBuffer* For(const soci::session& s);
  // The buffer open on this thread, whatever its session.
  static ChangeBuffer* Current();

  struct Mark {
    size_t audit = 0, outbox = 0, counts = 0;
  };
  Mark Position() const { return {audit_.size(), outbox_.size(), counts_.size()}; }
  // Drops what was added since `mark` (its savepoint was rolled back).
  void RollbackTo(const Mark& mark);

  void Add(AuditRow row) { audit_.push_back(std::move(row)); }
  void Add(OutboxRow row) { outbox_.push_back(std::move(row)); }
  void AddCount(const std::string& tenant, const std::string& resource_type, int delta) {
    counts_.push_back({tenant, resource_type, delta});
  }

  // The sum of the count adjustments buffered for (tenant, resource_type): what a count read
  // inside the transaction adds to the stored rows, to see the transaction's own writes.
  int PendingCount(const std::string& tenant, const std::string& resource_type) const {
    int sum = 0;
    for (const Count& c : counts_) {
      if (c.tenant == tenant && c.resource_type == resource_type) sum += c.delta;
    }
    return sum;
  }

  // Writes everything buffered (audit rows, outbox rows, counts) and empties the buffer.
  // Throws on a failing statement, like any statement of the transaction.
  void Flush();

 private:
  soci::session& s_;
  Dialect dialect_;
  std::vector<AuditRow> audit_;
  std::vector<OutboxRow> outbox_;
  std::vector<Count> counts_;
  ChangeBuffer* previous_;
};

// Writes audit rows / outbox rows at once: one prepared INSERT of unnested arrays on
// PostgreSQL (one round trip), one prepared statement run per row on SQLite.
void InsertAuditRows(soci::session& s, Dialect dialect, const std::vector<AuditRow>& rows);
void InsertOutboxRows(soci::session& s, Dialect dialect, const std::vector<OutboxRow>& rows);

}  // namespace scim::store
