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

const char* OrNull(const std::string& value) { return value.empty() ? nullptr : value.c_str(); }

// INSERT INTO <head> VALUES ($1, ..., $n), (...), ... for `rows` rows of `columns` parameters
// (SQLite, and one row on PostgreSQL).
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

namespace {

// A PostgreSQL array literal of text elements ({"a","b",NULL}): each element quoted, `"` and `\`
// escaped with a backslash; nullptr is NULL.
void AppendArrayElement(std::string& out, const char* value) {
  out += out.empty() ? "{" : ",";
  if (value == nullptr) {
    out += "NULL";
    return;
  }
  out += '"';
  for (const char* p = value; *p != '\0'; ++p) {
    if (*p == '"' || *p == '\\') out += '\\';
    out += *p;
  }
  out += '"';
}

// INSERT INTO <head> SELECT * FROM unnest($1::<t1>[], ..., $n::<tn>[]) in the order of the
// arrays: one statement whatever the number of rows, so it is prepared (and planned) once per
// connection. A multi-row VALUES list of 500 rows × 10 parameters was a new statement for every
// row count, parsed and planned per Bulk: 32 ms of planning per 500 audit rows (issue 11,
// pg_stat_statements' total_plan_time).
std::string UnnestInsert(const std::string& head, const std::vector<const char*>& types) {
  std::string columns, args, names;
  for (size_t c = 0; c < types.size(); ++c) {
    const std::string name = "c" + std::to_string(c);
    columns += (c > 0 ? ", " : "") + name;
    args += (c > 0 ? ", CAST($" : "CAST($") + std::to_string(c + 1) + " AS " + types[c] + "[])";
    names += name + ", ";
  }
  return "INSERT INTO " + head + " SELECT " + columns + " FROM unnest(" + args +
         ") WITH ORDINALITY AS x(" + names + "o) ORDER BY o";
}

// Inserts `rows` into `head` (`columns` parameters a row): on PostgreSQL, all rows in one
// prepared INSERT of unnested arrays (`types`: the columns' types); on SQLite (in-process, no
// round trips to save) or for one row, the statement kept prepared as `name`.
// `params_of(row, version, out)` appends a row's parameters, `version` being the row's version as
// text.
template <typename Row, typename ParamsOf>
void InsertRows(soci::session& s, Dialect dialect, const std::vector<Row>& rows, const char* head,
                const char* name, const std::vector<const char*>& types, ParamsOf params_of) {
  const size_t columns = types.size();
  if (dialect == Dialect::kPostgres && rows.size() > 1) {
    std::vector<std::string> arrays(columns);
    std::vector<const char*> row_params;
    for (const Row& r : rows) {
      std::string version = std::to_string(r.version);
      row_params.clear();
      params_of(r, version, row_params);
      for (size_t c = 0; c < columns; ++c) AppendArrayElement(arrays[c], row_params[c]);
    }
    std::vector<const char*> params;
    for (std::string& a : arrays) {
      a += "}";
      params.push_back(a.c_str());
    }
    ExecPrepared(s, std::string(name) + "_unnest", UnnestInsert(head, types), params);
    return;
  }
  const std::string sql = MultiRowInsert(head, 1, columns);
  for (const Row& r : rows) {
    std::string version = std::to_string(r.version);
    std::vector<const char*> params;
    params_of(r, version, params);
    RunCached(s, dialect, name, sql, std::vector<SqlArg>(params.begin(), params.end()));
  }
}

}  // namespace

void InsertAuditRows(soci::session& s, Dialect dialect, const std::vector<AuditRow>& rows) {
  InsertRows(s, dialect, rows, kAuditHead, "audit_insert",
             {"text", "text", "text", "text", "text", "text", "bigint", "text", "text", "text"},
             [](const AuditRow& r, const std::string& version, std::vector<const char*>& out) {
               for (const std::string* v : {&r.tenant, &r.time, &r.actor, &r.action,
                                            &r.resource_type, &r.resource_id, &version}) {
                 out.push_back(v->c_str());
               }
               out.push_back(OrNull(r.client));
               out.push_back(OrNull(r.request_id));
               out.push_back(OrNull(r.changes));
             });
}

void InsertOutboxRows(soci::session& s, Dialect dialect, const std::vector<OutboxRow>& rows) {
  InsertRows(s, dialect, rows, kOutboxHead, "outbox_insert",
             {"text", "text", "text", "text", "bigint", "text", "text"},
             [](const OutboxRow& r, const std::string& version, std::vector<const char*>& out) {
               for (const std::string* v : {&r.tenant, &r.resource_type, &r.resource_id, &r.event,
                                            &version, &r.payload, &r.created}) {
                 out.push_back(v->c_str());
               }
             });
}

}  // namespace scim::store
