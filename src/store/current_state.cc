#include "scim/store/current_state.h"

#include "store/membership.h"
#include "store/resource_writer.h"

namespace scim::store {

Result<std::optional<events::ChangeEvent>> CurrentStateEvent(Database& db,
                                                             const std::string& tenant,
                                                             const std::string& resource_type,
                                                             const std::string& id,
                                                             events::ChangeKind kind) {
  std::optional<events::ChangeEvent> event;
  SCIM_RETURN_IF_ERROR(db.WithSession([&](soci::session& s) -> Status {
    auto row = ReadRow(s, db.dialect(), tenant, resource_type, id, false);
    if (!row) return OkStatus();
    json::Document resource = AssembleResource(s, tenant, resource_type, *row, false, false);
    MembershipDelta members;
    members.replaced = true;
    if (resource_type == "Group") {
      members.all = LoadMemberRows(s, tenant, id);
      members.added = members.all;  // "added" lists every member when "replaced"
    }
    events::ChangeEvent e;
    e.tenant = tenant;
    e.resource_type = resource_type;
    e.resource_id = id;
    e.kind = kind;
    e.version = row->version;
    e.payload = OutboxPayload(s, tenant, &resource, resource_type == "Group" ? &members : nullptr);
    e.created = row->last_modified;
    event = std::move(e);
    return OkStatus();
  }));
  return event;
}

}  // namespace scim::store
