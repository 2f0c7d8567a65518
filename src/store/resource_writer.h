#pragma once
// Reading resource rows and assembling SCIM resources from them. The write steps of a transaction
// are in row_writes.h (resource and attr_values rows) and change_record.h (outbox event, audit
// entry); both are included here for the callers that use all of them.

#include <soci/soci.h>

#include <optional>
#include <string>
#include <vector>

#include "scim/common/json.h"
#include "scim/schema/registry.h"
#include "scim/store/database.h"
#include "store/change_record.h"
#include "store/membership.h"
#include "store/resource_rows.h"
#include "store/row_writes.h"

namespace scim::store {

// A row of `resources` as read back.
struct StoredRow {
  std::string id;
  std::string data;
  std::string created;
  std::string last_modified;
  long long version = 0;
  // Read with the row (RowColumns, Users): the groups as a JSON array of [group id, displayName]
  // pairs (empty, or "[]", when none or not asked for) and the manager's current name.
  bool related = false;
  std::string groups_json = {};
  std::optional<std::string> manager_name = {};
  // Read with the locked row (ReadRow's `with_attr_values`, PostgreSQL): its attr_values rows,
  // so that a replace needs no second read of them (WriteResourceRows).
  std::optional<std::vector<AttrValueRow>> attr_values = std::nullopt;
};

// The select list of a one-row read: id, data, created, last_modified, version of `resources r`,
// and for Users the groups (`include_groups`, else NULL) of the resource bound as :t/:id and the
// manager's name as sub-queries, so a resource and what it shows come back in one statement (one
// round trip on PostgreSQL, issue 12).
std::string RowColumns(Dialect dialect, const std::string& resource_type, bool include_groups);

// Fills a StoredRow from a row selected with RowColumns.
StoredRow RowFrom(const soci::row& r);

// Reads one row with its related values (RowColumns); nullopt when absent. On PostgreSQL outside
// a transaction (`in_transaction` false) as a prepared statement kept per connection.
std::optional<StoredRow> ReadRowWithRelated(soci::session& s, Dialect dialect,
                                            const std::string& tenant,
                                            const std::string& resource_type, const std::string& id,
                                            bool include_groups, bool in_transaction);

// Reads one row; `for_update` takes the row lock on PostgreSQL. nullopt when absent.
// `with_attr_values` (PostgreSQL, for_update): the row's attr_values rows come in the same
// statement (StoredRow::attr_values): a PUT's reads are one round trip.
std::optional<StoredRow> ReadRow(soci::session& s, Dialect dialect, const std::string& tenant,
                                 const std::string& resource_type, const std::string& id,
                                 bool for_update, bool with_attr_values = false);

// Builds the SCIM resource from a row: schemas, id, attributes, meta (without location), and
// members/groups as asked.
json::Document AssembleResource(soci::session& s, const std::string& tenant,
                                const std::string& resource_type, const StoredRow& row,
                                bool include_members, bool include_groups);

// AssembleResource for a page of rows, in their order: User.groups and the managers' display
// names are read in one query each for the whole page (Group.members stay one query per group).
std::vector<json::Document> AssembleResources(soci::session& s, const std::string& tenant,
                                              const std::string& resource_type,
                                              const std::vector<StoredRow>& rows,
                                              bool include_members, bool include_groups);

// Fills the Enterprise manager.displayName from the referenced user, when it exists.
void FillManagerDisplayName(soci::session& s, const std::string& tenant, json::Value& resource,
                            json::Allocator& alloc);

}  // namespace scim::store
