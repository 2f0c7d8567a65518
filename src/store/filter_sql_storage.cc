#include "store/filter_sql_storage.h"

#include "scim/common/strings.h"

namespace scim::store::filter_sql_detail {

using schema::Attribute;
using schema::AttributeType;
using schema::ResolvedPath;

bool NameIs(const Attribute* attr, std::string_view name) {
  return attr != nullptr && EqualsIgnoreCase(attr->name, name);
}

std::string QualifiedLc(const ResolvedPath& path) { return ToLower(path.QualifiedName()); }

Target Classify(const ResolvedPath& path) {
  Target t;
  const Attribute* top = path.attribute;
  const Attribute* sub = path.sub_attribute;
  bool core = !path.in_extension;
  if (core && NameIs(top, "meta")) {
    if (sub == nullptr) {
      t.where = Where::kMeta;
    } else if (NameIs(sub, "created")) {
      t.where = Where::kColumn;
      t.source = Source{"r.created", "", false, true, false, "", false, ""};
    } else if (NameIs(sub, "lastModified")) {
      t.where = Where::kColumn;
      t.source = Source{"r.last_modified", "", false, true, false, "", false, ""};
    } else if (NameIs(sub, "resourceType")) {
      t.where = Where::kColumn;
      t.source = Source{"r.resource_type", "", false, false, false, "", false, ""};
    }
    return t;
  }
  if (core && NameIs(top, "members")) {
    t.where = Where::kMembers;
    return t;
  }
  if (core && NameIs(top, "groups")) {
    t.where = Where::kGroups;
    return t;
  }
  if (core && sub == nullptr) {
    if (NameIs(top, "id")) {
      t.where = Where::kColumn;
      // Ids are lower-case: the column is its own lower-cased form.
      t.source = Source{"r.id", "r.id", false, true, true, "", false, ""};
      return t;
    }
    if (NameIs(top, "externalId")) {
      t.where = Where::kColumn;
      t.source = Source{"r.external_id", "", false, true, false, "", false, ""};
      return t;
    }
    if (NameIs(top, "userName")) {
      t.where = Where::kColumn;
      t.source = Source{"r.user_name", "r.user_name_lc", false, false, true, "", false, ""};
      return t;
    }
    if (NameIs(top, "displayName")) {
      t.where = Where::kColumn;
      t.source = Source{"r.display_name", "r.display_name_lc", false, false, true, "", false, ""};
      return t;
    }
    if (NameIs(top, "active") && top->type == AttributeType::kBoolean) {
      t.where = Where::kColumn;
      t.source = Source{"r.active", "", false, false, false, "", true, ""};
      return t;
    }
    if (NameIs(top, "schemas") || NameIs(top, "password")) return t;
  }
  t.where = Where::kAttrValues;
  return t;
}

// The group_members column of a members/groups sub-attribute, or nullopt when not stored.
std::optional<Source> MembershipSource(Where where, const Attribute* sub, const std::string& m) {
  if (sub == nullptr) return std::nullopt;
  if (NameIs(sub, "value")) {
    std::string col = m + (where == Where::kMembers ? ".member_id" : ".group_id");
    return Source{col, col, false, false, false, "", false, ""};
  }
  if (where == Where::kMembers && NameIs(sub, "type")) {
    return Source{m + ".member_type", "", false, false, false, "", false, ""};
  }
  return std::nullopt;
}

Source AttrValuesSource(const std::string& alias) {
  return Source{alias + ".value",
                alias + ".value_lc",
                true,
                false,
                true,
                alias + ".num",
                false,
                "COALESCE(" + alias + ".value_lc_full, " + alias + ".value_lc)"};
}

Error Unsupported(const ResolvedPath& path) {
  return Error(ErrorCode::kInvalidFilter,
               "filtering on '" + path.QualifiedName() + "' is not supported");
}

}  // namespace scim::store::filter_sql_detail
