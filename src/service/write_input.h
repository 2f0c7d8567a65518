#pragma once
// Splits a normalized client resource into what the store keeps in different places: the
// password (hashed) and the group members (rows).

#include <optional>
#include <string>

#include "scim/common/json.h"
#include "scim/common/result.h"
#include "scim/patch/patch.h"
#include "scim/store/resource_store.h"

namespace scim::service {

struct WriteInput {
  std::optional<std::string> password_hash;
  std::vector<store::Member> members;
  bool has_members = false;
};

// Removes `password` and `members` from `resource`; hashes the password (RFC 7643 §4.1.1: never
// returned, stored with a salted slow hash).
Result<WriteInput> ExtractWriteInput(json::Value& resource);

// The store's form of a PATCH member delta.
store::MembershipChange ToMembershipChange(const patch::MemberDelta& delta);

}  // namespace scim::service
