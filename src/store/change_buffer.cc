#include "store/change_buffer.h"

#include <map>
#include <utility>

#include "store/cached_sql.h"
#include "store/pg_prepared.h"
#include "store/resource_counts.h"

namespace scim::store {
namespace {

thread_local ChangeBuffer* t_current = nullptr;
thread_local const soci::session* t_session = nullptr;

// Rows per multi-row INSERT on PostgreSQL: 500 × 10 parameters stays far below the protocol's
// 65,535, and a statement of that size is still cheap to parse.
constexpr size_t kRowsPerStatement = 500;

const char* OrNull(const std::string& value) { return value.empty() ? nullptr : value.c_str(); }

// INSERT INTO <head> VALUES ($1, ..., $n), (...), ... for `rows` rows of `columns` parameters.
std::string MultiRowInsert(const std::string& head, size_t rows, size_t columns) {
  std::string sql = "INSERT INTO " + head + " VALUES ";
  size_t n = 0;
  for (size_t r = 0; r < rows; ++r) {
    sql += r == 0 ? "(" : ", (";
    for (size_t c = 0; c < columns; ++c) {
      if (c > 0) sql += ", ";
      sql += "$" + std::to_string(++n);
    }
    sql += ")";
  }
  return sql;
}

constexpr const char* kAuditHead =
    "audit_log (tenant, time, actor, action, resource_type, resource_id, version, client, "
    "request_id, changes)";
constexpr const char* kOutboxHead =
    "outbox (tenant, resource_type, resource_id, event, version, payload, created)";

}  // namespace

ChangeBuffer::ChangeBuffer(soci::session& s, Dialect dialect)
    : s_(s), dialect_(dialect), previous_(t_current) {
  t_current = this;
  t_session = &s;
}

ChangeBuffer::~ChangeBuffer() {
  t_current = previous_;
  t_session = previous_ != nullptr ? &previous_->s_ : nullptr;
}

ChangeBuffer* ChangeBuffer::For(const soci::session& s) {
  return t_current != nullptr && t_session == &s ? t_current : nullptr;
}

ChangeBuffer* ChangeBuffer::Current() { return t_current; }

void ChangeBuffer::RollbackTo(const Mark& mark) {
  if (audit_.size() > mark.audit) audit_.resize(mark.audit);
  if (outbox_.size() > mark.outbox) outbox_.resize(mark.outbox);
  if (counts_.size() > mark.counts) counts_.resize(mark.counts);
}

void ChangeBuffer::Flush() {
  std::vector<AuditRow> audit = std::move(audit_);
  std::vector<OutboxRow> outbox = std::move(outbox_);
  std::vector<Count> counts = std::move(counts_);
  audit_.clear();
  outbox_.clear();
  counts_.clear();
  // Written directly while flushing (AdjustResourceCount would add to the buffer again).
  struct Unregistered {
    ChangeBuffer* self;
    explicit Unregistered(ChangeBuffer* b) : self(b) { t_current = nullptr; }
    ~Unregistered() {
      t_current = self;
      t_session = &self->s_;
    }
  } unregistered(this);
  InsertAuditRows(s_, dialect_, audit);
  InsertOutboxRows(s_, dialect_, outbox);
  std::map<std::pair<std::string, std::string>, int> sums;
  for (const Count& c : counts) sums[{c.tenant, c.resource_type}] += c.delta;
  for (const auto& [key, delta] : sums) {
    if (delta != 0) AdjustResourceCount(s_, dialect_, key.first, key.second, delta);
  }
}

void InsertAuditRows(soci::session& s, Dialect dialect, const std::vector<AuditRow>& rows) {
  if (rows.empty()) return;
  if (dialect == Dialect::kPostgres && rows.size() > 1) {
    for (size_t first = 0; first < rows.size(); first += kRowsPerStatement) {
      size_t n = std::min(kRowsPerStatement, rows.size() - first);
      std::vector<std::string> versions;
      versions.reserve(n);
      std::vector<const char*> params;
      params.reserve(n * 10);
      for (size_t i = first; i < first + n; ++i) {
        const AuditRow& r = rows[i];
        versions.push_back(std::to_string(r.version));
        for (const std::string* v :
             {&r.tenant, &r.time, &r.actor, &r.action, &r.resource_type, &r.resource_id}) {
          params.push_back(v->c_str());
        }
        params.push_back(versions.back().c_str());
        params.push_back(OrNull(r.client));
        params.push_back(OrNull(r.request_id));
        params.push_back(OrNull(r.changes));
      }
      ExecOnce(s, MultiRowInsert(kAuditHead, n, 10), params);
    }
    return;
  }
  // SQLite (in-process, no round trips to save), or one row: a statement kept prepared.
  for (const AuditRow& r : rows) {
    std::string version = std::to_string(r.version);
    RunCached(s, dialect, "audit_insert",
              std::string("INSERT INTO ") + kAuditHead +
                  " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
              {r.tenant, r.time, r.actor, r.action, r.resource_type, r.resource_id, version,
               OrNull(r.client), OrNull(r.request_id), OrNull(r.changes)});
  }
}

void InsertOutboxRows(soci::session& s, Dialect dialect, const std::vector<OutboxRow>& rows) {
  if (rows.empty()) return;
  if (dialect == Dialect::kPostgres && rows.size() > 1) {
    for (size_t first = 0; first < rows.size(); first += kRowsPerStatement) {
      size_t n = std::min(kRowsPerStatement, rows.size() - first);
      std::vector<std::string> versions;
      versions.reserve(n);
      std::vector<const char*> params;
      params.reserve(n * 7);
      for (size_t i = first; i < first + n; ++i) {
        const OutboxRow& r = rows[i];
        versions.push_back(std::to_string(r.version));
        params.push_back(r.tenant.c_str());
        params.push_back(r.resource_type.c_str());
        params.push_back(r.resource_id.c_str());
        params.push_back(r.event.c_str());
        params.push_back(versions.back().c_str());
        params.push_back(r.payload.c_str());
        params.push_back(r.created.c_str());
      }
      ExecOnce(s, MultiRowInsert(kOutboxHead, n, 7), params);
    }
    return;
  }
  for (const OutboxRow& r : rows) {
    std::string version = std::to_string(r.version);
    RunCached(s, dialect, "outbox_insert",
              std::string("INSERT INTO ") + kOutboxHead + " VALUES ($1, $2, $3, $4, $5, $6, $7)",
              {r.tenant, r.resource_type, r.resource_id, r.event, version, r.payload, r.created});
  }
}

}  // namespace scim::store
