#pragma once
// A transaction whose nested writes take no savepoints (issue 11, /Bulk): on PostgreSQL every
// savepoint is two round trips (SAVEPOINT, RELEASE) and a subtransaction per write; a /Bulk
// transaction of 1,000 creates spent half its round trips on them. Without them, one failing
// write cannot be undone alone, so the first failure dooms the whole transaction: it rolls back
// whatever its work returns, and the caller (service/bulk.cc) runs the batch again with
// savepoints, where each write fails alone.

#include "scim/store/database.h"

namespace scim::store {

// Called inside `db`'s InTransaction on this thread (else does nothing): from now on,
// InTransaction and WithSession nested in it run on its session without a savepoint, and the
// first of them that fails (returns an error or throws) dooms the transaction: InTransaction
// then rolls back and returns that failure even if its work returned ok.
void NestWithoutSavepoints(const Database& db);

// Whether this thread's transaction on `db` is doomed (a nested failure after
// NestWithoutSavepoints): on PostgreSQL it is aborted, so nothing more should run in it.
bool TransactionDoomed(const Database& db);

}  // namespace scim::store
