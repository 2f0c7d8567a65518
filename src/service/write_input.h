#pragma once
// Splits a normalized client resource into what the store keeps in different places: the
// password (hashed) and the group members (rows).

#include <optional>
#include <string>

#include "scim/common/json.h"
#include "scim/common/result.h"
#include "scim/patch/patch.h"
#include "scim/store/resource_store.h"
#include "service/password_pool.h"

namespace scim::service {

struct WriteInput {
  std::optional<std::string> password_hash;
  std::vector<store::Member> members;
  bool has_members = false;
};

// Removes `password` and `members` from `resource`; hashes the password (RFC 7643 §4.1.1: never
// returned, stored with a salted slow hash), or takes its hash from `prehashed` when there.
Result<WriteInput> ExtractWriteInput(json::Value& resource,
                                     const PasswordHashes* prehashed = nullptr);

// The plain password a create or replace body carries, if any.
std::optional<std::string> PlainPassword(const json::Value& body);

// The store's form of a PATCH member delta.
store::MembershipChange ToMembershipChange(const patch::MemberDelta& delta);

}  // namespace scim::service
