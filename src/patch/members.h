#pragma once
// Group membership changes of a PATCH request: operations on `members` never touch the JSON;
// they accumulate into a scim::patch::MemberDelta that the store applies row by row. The stored
// member list is loaded (once) only when a remove or replace selects members with a value filter
// other than `value eq "..."`.

#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "patch/operation.h"
#include "patch/target.h"
#include "scim/common/json.h"
#include "scim/common/result.h"
#include "scim/patch/patch.h"

namespace scim::patch::internal {

class MemberChanges {
 public:
  explicit MemberChanges(const MemberLoader& load_members) : load_members_(load_members) {}

  // Applies one operation on `members` (`t` names it, with or without a value filter). `value` is
  // the operation's value (may be null for remove).
  Status Apply(OpKind kind, const Target& t, const json::Value* value);

  // The delta of all operations applied so far, in the order MemberDelta documents.
  MemberDelta Build() const;

 private:
  Status Add(const Target& t, const json::Value& value);
  Status Replace(const Target& t, const json::Value& value);
  Status Remove(const Target& t, const json::Value* value);

  void DeltaAdd(const MemberRef& ref);
  void DeltaRemove(const std::string& id);
  void DeltaClear(bool replace);
  Result<std::vector<MemberRef>> EffectiveMembers();
  Result<std::vector<std::string>> SelectMembers(const Target& t);

  const MemberLoader& load_members_;
  bool clear_first_ = false;
  bool replace_all_ = false;
  bool remove_all_ = false;
  std::unordered_map<std::string, MemberRef> added_;
  std::vector<std::string> added_order_;
  std::unordered_set<std::string> removed_;
  std::vector<std::string> removed_order_;
  bool loaded_ = false;
  std::vector<MemberRef> loaded_members_;
};

}  // namespace scim::patch::internal
