#pragma once
// The SCIM PATCH engine (RFC 7644 §3.5.2). It applies a PatchOp request body to a resource held as
// JSON and knows nothing of HTTP or SQL. Group membership never goes into the JSON: it comes back
// as a MemberDelta that the store applies row by row, so a patch of a group with 100,000 members
// costs what it costs for a group of 10 (the engine only loads the member list when a remove or
// replace selects members with a filter other than `value eq "..."`).

#include <functional>
#include <string>
#include <vector>

#include "scim/common/json.h"
#include "scim/common/result.h"
#include "scim/schema/registry.h"

namespace scim::patch {

// One group member as the store keeps it.
struct MemberRef {
  std::string value;    // the member's SCIM id
  std::string type;     // "User" / "Group", or empty when the client did not say
  std::string display;  // optional display name sent by the client
};

// The membership change a PATCH asks for. The store applies it in this order, which gives the
// result of all the request's member operations in request order:
//   1. if `replace_all` or `remove_all`: delete every membership row of the group;
//      otherwise delete the rows of `removed`;
//   2. insert `added` (ids already present are kept as they are; adding twice is not an error).
// The engine keeps the parts consistent: an id is never in both `added` and `removed`, `removed` is
// empty when `replace_all` or `remove_all` is set, and `added` holds each id once.
struct MemberDelta {
  bool replace_all = false;          // "replace" of members: `added` is the new full list
  bool remove_all = false;           // "remove" of members without value or filter (§3.5.2.2)
  std::vector<MemberRef> added;      // members to add, in request order
  std::vector<std::string> removed;  // ids of members to remove

  // True when the request did not touch membership at all.
  bool empty() const { return !replace_all && !remove_all && added.empty() && removed.empty(); }
};

// Supplies the group's current members. Called at most once per ApplyPatch, and only when a remove
// or replace selects members with a value filter other than `value eq "..."` (for example
// `members[type eq "Group"]`). Its error is returned by ApplyPatch as is.
using MemberLoader = std::function<Result<std::vector<MemberRef>>()>;

struct PatchOutcome {
  MemberDelta members;
  // The attributes whose value changed, once each, by canonical name: core and common attributes
  // without URN ("userName", "name", "emails", "active"), extension attributes with their schema
  // URN ("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"), and
  // "members" when `members` is not empty. Top-level attributes only: a change to
  // "name.givenName" is reported as "name".
  std::vector<std::string> changed_attributes;
  // False when the request changed nothing (every add found its value already there, every
  // remove found nothing to remove, ...): §3.5.2.1 says such a request SHALL NOT change the
  // modify timestamp. Note a non-empty member delta counts as a modification: whether the rows
  // change is only known to the store.
  bool modified = false;
};

// Applies a PatchOp request body (RFC 7644 §3.5.2) to `resource`, a full SCIM resource of `type`
// (for Groups WITHOUT the `members` attribute; membership changes come back in
// PatchOutcome::members and are never written into `resource`).
//
// Promises:
// - Atomic (§3.5.2: "A patch request, regardless of the number of operations, SHALL be treated as
//   atomic"): on error `resource` is left exactly as it was and nothing must be stored.
// - The request must be an object whose `schemas` contains
//   "urn:ietf:params:scim:api:messages:2.0:PatchOp" and whose `Operations` is a non-empty array of
//   objects, each with `op` "add", "remove" or "replace" in any letter case (Entra ID sends "Add",
//   "Replace", "Remove"); anything else is kInvalidSyntax. `value` is required for add and replace
//   (kInvalidValue when missing); `path` is required for remove (kNoTarget, §3.5.2.2).
// - Paths (§3.5.2, figure 7): attrPath, attrPath.subAttr, attrPath[valFilter],
//   attrPath[valFilter].subAttr, each with an optional schema URN prefix, attribute names matched
//   case-insensitively. A path-less add/replace takes an object whose keys are themselves paths
//   (Entra: "name.givenName", "emails[type eq \"work\"].value", full extension URN keys like
//   "urn:...:enterprise:2.0:User:employeeNumber") or an extension schema URN whose value is an
//   object of that extension's attributes. Paths are parsed and bound by the filter module
//   (filter::ParsePath / BindPath). Unknown attributes, malformed paths, a value filter on a
//   single-valued attribute, or a sub-attribute of a multi-valued attribute without a filter
//   ("emails.value"): kInvalidPath. A malformed filter between the brackets: kInvalidFilter
//   (RFC 7644 §3.12 lists invalidFilter for PATCH path filters).
// - add (§3.5.2.1): multi-valued attributes get the new values appended, a value already present
//   (same `value` and `type`) is merged, not added twice; complex singular attributes are merged
//   sub-attribute by sub-attribute; simple ones replaced. With a value filter, the matching
//   elements are updated; when none matches, a new element is created from the filter's `attr eq
//   "literal"` terms plus the value (Entra ID: add on `emails[type eq "work"].value` creates
//   {"type":"work","value":...}; §3.5.2.1 does not cover this case).
// - remove (§3.5.2.2): whole attribute, sub-attribute, or the elements a filter matches (a filter
//   matching nothing is a no-op, so retries are idempotent). Removing `value` of filtered elements
//   removes the elements. A `value` array of {"value": ...} on a multi-valued attribute removes
//   those values (Entra ID removes members that way). Removing a required attribute → kMutability.
// - replace (§3.5.2.3): attribute-level replace of multi-valued attributes replaces all values;
//   of complex singular attributes merges (unspecified sub-attributes are left unchanged); a value
//   filter that matches no element of a non-empty attribute → kNoTarget (an attribute with no
//   values at all is treated as an add, per "If the target location path specifies an attribute
//   that does not exist, the service provider SHALL treat the operation as an add").
// - Mutability (RFC 7643 §2.2, RFC 7644 §3.5.2): readOnly attributes (id, meta, groups of a User)
//   cannot be changed and immutable ones cannot be changed once set → kMutability. Setting a
//   readOnly attribute to the value it already has is accepted as a no-op (Okta sends the group's
//   own `id` in path-less replaces). readOnly sub-attributes inside a complex value
//   (manager.displayName) are ignored.
// - Values are checked against the attribute type (kInvalidValue): booleans also accept the strings
//   "true"/"false" in any case (Entra sends "False"), dateTimes are normalized, a string given for
//   a complex attribute with a `value` sub-attribute becomes {"value": string} (Entra sends
//   manager that way), a one-element array [{"value": v}] for a singular simple attribute becomes v
//   (Entra's pre-2020 form), and null means "unassigned" (RFC 7643 §2.5) and removes.
// - Setting `primary` to true on an element clears it on the other elements of that attribute
//   (§3.5.2), including an element that was primary before and that the same operation merges or
//   re-sends without `primary`; two different elements marked primary by one operation →
//   kInvalidValue (as a PUT with two primaries, RFC 7643 §2.4). A value given twice counts once.
// - Members: operations on `members`, `members[...]` or a path-less value's `members` key go into
//   the delta; member values must be objects with a string `value` (kInvalidValue otherwise).
//   replace → replace_all; remove without value/filter → remove_all; `members[value eq "ID"]`
//   removes ID without loading anything; other filters call `load_members` (once; an empty
//   std::function there is kInternal).
// - On success `resource` is replaced by the patched document (its allocator included), so
//   pointers into it taken before the call are invalid afterwards. The result is re-checked with
//   schema::NormalizeResource(kReplace, existing = the original) before it is swapped in.
// - Extension attributes: writing one adds the extension URN to `schemas`; removing the last one
//   removes the extension object and (unless the extension is required) its URN.
Result<PatchOutcome> ApplyPatch(const schema::Registry& registry, const schema::ResourceType& type,
                                const json::Value& patch_request, json::Document& resource,
                                const MemberLoader& load_members);

}  // namespace scim::patch
