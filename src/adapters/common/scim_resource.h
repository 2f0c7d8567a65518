#pragma once
// Reading a ChangeEvent's payload and the SCIM attributes adapters map. Attribute names are
// matched case-insensitively (RFC 7643 §2.1).

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scim/common/json.h"
#include "scim/common/result.h"
#include "scim/events/change_event.h"

namespace scim::adapters {

inline constexpr std::string_view kEnterpriseUserUrn =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
inline constexpr std::string_view kScimdGroupUrn =
    "urn:scimd:params:scim:schemas:extension:2.0:Group";

// One entry of the payload's member delta.
struct MemberRef {
  std::string value;  // the member's SCIM id
  std::string type;   // "User" | "Group" (empty when the payload does not say)
  std::string role;   // for added User members: their organization role ("member" by default)
};

// The payload's "members" object: who joined and who left in this change. When `replaced` is
// true the change replaced the whole member list and `added` holds all of the new members.
struct MembersDelta {
  bool present = false;  // the payload has "members" (membership changed)
  bool replaced = false;
  std::vector<MemberRef> added;
  std::vector<MemberRef> removed;
};

// A parsed ChangeEvent payload (layout in scim/events/change_event.h).
class EventPayload {
 public:
  // kInvalidSyntax when the payload is not JSON or "resource" is missing on a non-delete event.
  static Result<EventPayload> Parse(const events::ChangeEvent& event);

  // The full resource after the change; nullptr for deletes.
  const json::Value* resource() const { return resource_; }
  const MembersDelta& members() const { return members_; }
  // A User's `active` before the change, when this change flipped it (payload "active_before").
  std::optional<bool> active_before() const { return active_before_; }
  // The whole payload object, for fields only one adapter reads (e.g. "external_ids_removed",
  // "role_change" of the CRM).
  const json::Value& document() const { return *document_; }

 private:
  std::shared_ptr<json::Document> document_;
  const json::Value* resource_ = nullptr;
  MembersDelta members_;
  std::optional<bool> active_before_;
};

// A string attribute of `object` (case-insensitive name); nullopt when absent, not a string or
// empty.
std::optional<std::string> StringAttr(const json::Value& object, std::string_view name);

// The value of the primary entry of a multi-valued attribute ("emails", "phoneNumbers", "roles"),
// else of the first entry with a value.
std::optional<std::string> PrimaryValue(const json::Value& resource, std::string_view attribute);

// `active`, true when absent. Accepts the strings "true"/"false" too (Entra sends "False").
bool IsActive(const json::Value& user);

// The name a person is shown under: displayName, else "givenName familyName", else
// name.formatted, else userName.
std::string PersonName(const json::Value& user);

// The Enterprise User extension's `department`.
std::optional<std::string> Department(const json::Value& user);

// The scimd Group extension object, or nullptr.
const json::Value* GroupExtension(const json::Value& group);

enum class GroupKind { kPlain, kOrganization, kStore };

// `kind` of the scimd Group extension (kPlain when absent or unknown).
GroupKind KindOfGroup(const json::Value& group);

// A store attribute of the Group extension as text: strings as they are; an object (address)
// as its "formatted" member, else its string members joined with ", ".
std::optional<std::string> StoreAttr(const json::Value& group, std::string_view name);

}  // namespace scim::adapters
