#pragma once
// Per-connection prepared statements on PostgreSQL for SQL whose text repeats with different
// values (filtered lists: the compiled filter's text depends on the filter's shape only, its
// literals are parameters). Issue 12: a statement prepared once per connection costs one round
// trip per execution and no parsing or planning, where a one-time query is parsed and planned
// every time. Internal to the store module.

#include <soci/soci.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "store/bound_sql.h"
#include "store/pg_prepared.h"
#include "store/resource_writer.h"

namespace scim::store {

// At most this many statements stay prepared per connection; the least recently used one is
// deallocated when another is prepared.
inline constexpr size_t kMaxCachedStatements = 64;

// Runs `sql` (a query returning rows) on `s`, a PostgreSQL session outside a transaction: the
// second time a connection sees a SQL text it prepares it (PQprepare), and from then on executes
// the prepared statement (PQexecPrepared); the first time it runs it as a one-time query, so a
// text seen once (a one-off filter shape) costs no PREPARE and no DEALLOCATE. A statement the
// server dropped (DEALLOCATE) fails with 26000 and is prepared again. Outside a transaction only
// (an error there would abort it). Throws soci::postgresql_soci_error when the statement fails.
PgResult RunCachedPg(soci::session& s, const BoundSql& sql);

// Row `row` of a result selected with RowColumns (resource_writer.h): 5 columns, or 7 with the
// related ones.
StoredRow StoredRowOf(const PgResult& res, int row);

// Forgets every statement cached for `conn` (before it closes or reconnects): a connection made
// later at the same address starts with an empty cache, so it neither counts texts the old one
// saw nor names statements the old one prepared.
void ForgetCachedQueries(const PGconn* conn);

// How many statements the cache holds for the connection of `s` (tests).
size_t CachedStatementCount(soci::session& s);

}  // namespace scim::store
