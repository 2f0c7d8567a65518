#include "scim/schema/projection.h"

#include <optional>

#include "scim/common/strings.h"

namespace scim::schema {
namespace {

bool Has(const std::vector<std::string>& list, std::string_view path) {
  for (const std::string& item : list) {
    if (EqualsIgnoreCase(item, path)) return true;
  }
  return false;
}

// Whether `list` names a sub-attribute of the attribute at `path` ("emails" → "emails.value").
bool HasChildOf(const std::vector<std::string>& list, std::string_view path) {
  for (const std::string& item : list) {
    if (item.size() > path.size() && item[path.size()] == '.' && StartsWithIgnoreCase(item, path)) {
      return true;
    }
  }
  return false;
}

// An attribute as Project sees it: definition, qualified path, and the URN of its extension
// ("" for core and common attributes).
struct Target {
  const Attribute& attr;
  std::string path;
  std::string urn;
};

// Whether the attribute itself is selected (its "returned" plus the query parameters).
bool Selected(const Target& t, const AttributeSelection& sel) {
  Returned returned = t.attr.returned;
  if (returned == Returned::kNever) return false;
  if (returned == Returned::kAlways) return true;
  if (!sel.attributes.empty()) {
    bool named = Has(sel.attributes, t.path) || HasChildOf(sel.attributes, t.path);
    if (returned == Returned::kRequest) return named;
    return named || (!t.urn.empty() && Has(sel.attributes, t.urn));
  }
  if (returned == Returned::kRequest) return false;
  return !Has(sel.excluded_attributes, t.path) &&
         !(!t.urn.empty() && Has(sel.excluded_attributes, t.urn));
}

bool HasAlwaysSub(const Attribute& attr) {
  for (const Attribute& sub : attr.sub_attributes) {
    if (sub.returned == Returned::kAlways) return true;
  }
  return false;
}

// Whether the attribute can appear at all: selected, or holding an "always" sub-attribute.
bool Present(const Target& t, const AttributeSelection& sel) {
  if (t.attr.returned == Returned::kNever) return false;
  return Selected(t, sel) || HasAlwaysSub(t.attr);
}

// Whether sub-attribute `sub_name` (definition `sub`, nullptr when the schema does not know it)
// of a present attribute is kept. `parent_selected` is Selected() of the parent.
bool KeepSub(const Target& parent, bool parent_selected, const Attribute* sub,
             std::string_view sub_name, const AttributeSelection& sel) {
  Returned returned = sub ? sub->returned : Returned::kDefault;
  if (returned == Returned::kNever) return false;
  if (returned == Returned::kAlways) return true;
  if (!parent_selected) return false;
  std::string path = parent.path + "." + std::string(sub_name);
  if (!sel.attributes.empty()) {
    if (Has(sel.attributes, path)) return true;
    if (returned == Returned::kRequest) return false;
    return !HasChildOf(sel.attributes, parent.path) || Has(sel.attributes, parent.path) ||
           (!parent.urn.empty() && Has(sel.attributes, parent.urn));
  }
  if (returned == Returned::kRequest) return false;
  return !Has(sel.excluded_attributes, path);
}

bool IsEmpty(const json::Value& v) {
  return (v.IsObject() && v.MemberCount() == 0) || (v.IsArray() && v.Empty());
}

void FilterObject(const Target& t, bool selected, const AttributeSelection& sel,
                  json::Value& object) {
  if (!object.IsObject()) return;
  for (auto it = object.MemberBegin(); it != object.MemberEnd();) {
    std::string_view name = json::View(it->name);
    if (KeepSub(t, selected, t.attr.FindSub(name), name, sel)) {
      ++it;
    } else {
      it = object.EraseMember(it);
    }
  }
}

// Projects one attribute value in place; returns false when the attribute must be removed.
bool ProjectAttribute(const Target& t, const AttributeSelection& sel, json::Value& value) {
  if (!Present(t, sel)) return false;
  if (t.attr.type != AttributeType::kComplex) return true;
  bool selected = Selected(t, sel);
  if (value.IsArray()) {
    for (auto item = value.Begin(); item != value.End();) {
      FilterObject(t, selected, sel, *item);
      item = IsEmpty(*item) ? value.Erase(item) : item + 1;
    }
  } else {
    FilterObject(t, selected, sel, value);
  }
  return !IsEmpty(value);
}

// A member the schemas do not define (not written by the validator, but possible in stored
// data): treated as a "default" attribute.
bool KeepUnknown(const std::string& path, const AttributeSelection& sel) {
  if (!sel.attributes.empty()) return Has(sel.attributes, path);
  return !Has(sel.excluded_attributes, path);
}

bool ProjectMember(const Attribute* attr, std::string path, std::string urn,
                   const AttributeSelection& sel, json::Value& value) {
  if (attr == nullptr) return KeepUnknown(path, sel);
  return ProjectAttribute(Target{*attr, std::move(path), std::move(urn)}, sel, value);
}

void ProjectExtension(const Schema& schema, const AttributeSelection& sel, json::Value& object) {
  if (!object.IsObject()) return;
  for (auto it = object.MemberBegin(); it != object.MemberEnd();) {
    std::string_view name = json::View(it->name);
    const Attribute* attr = schema.FindAttribute(name);
    std::string path = schema.id + ":" + (attr ? attr->name : std::string(name));
    if (ProjectMember(attr, std::move(path), schema.id, sel, it->value)) {
      ++it;
    } else {
      it = object.EraseMember(it);
    }
  }
}

const Schema* ExtensionNamed(const Registry& registry, const ResourceType& type,
                             std::string_view urn) {
  for (const SchemaExtensionRef& ext : type.extensions) {
    if (EqualsIgnoreCase(ext.schema, urn)) return registry.FindSchema(ext.schema);
  }
  return nullptr;
}

// Visits the characters of `text` from `from` on that are outside quoted strings (a quoted
// string with its backslash escapes and its quotes is skipped): stops at the first for which
// `visit` returns false and returns its index, else text.size().
template <class Visit>
size_t ScanUnquoted(std::string_view text, size_t from, Visit&& visit) {
  bool quoted = false;
  for (size_t i = from; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        quoted = false;
    } else if (c == '"') {
      quoted = true;
    } else if (!visit(i, c)) {
      return i;
    }
  }
  return text.size();
}

// Splits a comma-separated list at the commas outside brackets and quoted strings (a value
// filter may hold both: emails[type eq "a,b"]).
std::vector<std::string_view> SplitItems(std::string_view text) {
  std::vector<std::string_view> items;
  size_t start = 0;
  int depth = 0;
  ScanUnquoted(text, 0, [&](size_t i, char c) {
    if (c == '[') {
      ++depth;
    } else if (c == ']') {
      --depth;
    } else if (c == ',' && depth == 0) {
      items.push_back(text.substr(start, i - start));
      start = i + 1;
    }
    return true;
  });
  items.push_back(text.substr(start));
  return items;
}

// "emails[type eq \"work\"].value" → "emails.value", the path without its value filter; nullopt
// when `item` has no '[' ; kInvalidPath when the brackets do not close (outside quotes).
Result<std::optional<std::string>> WithoutValueFilter(std::string_view item) {
  size_t open = item.find('[');
  if (open == std::string_view::npos) return std::optional<std::string>();
  size_t close = ScanUnquoted(item, open + 1, [](size_t, char c) { return c != ']'; });
  if (close < item.size()) {
    std::string_view rest = item.substr(close + 1);
    if (rest.empty() || rest[0] == '.') {
      return std::optional<std::string>(std::string(item.substr(0, open)) + std::string(rest));
    }
  }
  return Error(ErrorCode::kInvalidPath, "'" + std::string(item) + "' is not an attribute path");
}

Status ParseList(const Registry& registry, const ResourceType& type, std::string_view text,
                 std::vector<std::string>& out, std::vector<std::string>* value_filtered) {
  for (std::string_view item : SplitItems(text)) {
    std::string_view path = Trim(item);
    if (path.empty()) continue;
    auto unfiltered = WithoutValueFilter(path);
    if (!unfiltered.ok()) return unfiltered.error();
    std::string plain;
    if (*unfiltered) {
      if (value_filtered == nullptr) {
        return Error(ErrorCode::kInvalidPath,
                     "'" + std::string(path) + "': excludedAttributes takes no value filter");
      }
      plain = std::move(**unfiltered);
      Result<ResolvedPath> resolved = registry.ResolvePath(type, plain);
      if (!resolved.ok()) return resolved.error();
      if (resolved->attribute->type != AttributeType::kComplex ||
          !resolved->attribute->multi_valued) {
        return Error(ErrorCode::kInvalidPath, "'" + std::string(path) +
                                                  "': a value filter needs a multi-valued "
                                                  "complex attribute");
      }
      std::string whole(path);
      if (!Has(*value_filtered, whole)) value_filtered->push_back(std::move(whole));
      path = plain;
    }
    std::string canonical;
    if (EqualsIgnoreCase(path, "schemas")) {
      canonical = "schemas";  // RFC 7643 §3: every resource has it; always returned
    } else if (const Schema* ext = ExtensionNamed(registry, type, path)) {
      canonical = ext->id;
    } else {
      Result<ResolvedPath> resolved = registry.ResolvePath(type, path);
      if (!resolved.ok()) return resolved.error();
      canonical = resolved->QualifiedName();
    }
    if (!Has(out, canonical)) out.push_back(std::move(canonical));
  }
  return OkStatus();
}

}  // namespace

Result<AttributeSelection> ParseSelection(const Registry& registry, const ResourceType& type,
                                          std::string_view attributes, std::string_view excluded) {
  AttributeSelection selection;
  SCIM_RETURN_IF_ERROR(
      ParseList(registry, type, attributes, selection.attributes, &selection.value_filtered));
  SCIM_RETURN_IF_ERROR(ParseList(registry, type, excluded, selection.excluded_attributes, nullptr));
  return selection;
}

void Project(const Registry& registry, const ResourceType& type,
             const AttributeSelection& selection, json::Value& resource,
             json::Allocator& /*alloc*/) {
  const Schema* core = registry.FindSchema(type.schema);
  if (!resource.IsObject() || core == nullptr) return;
  for (auto it = resource.MemberBegin(); it != resource.MemberEnd();) {
    std::string_view key = json::View(it->name);
    bool keep = true;
    if (EqualsIgnoreCase(key, "schemas")) {
      keep = true;
    } else if (const Schema* ext = ExtensionNamed(registry, type, key)) {
      ProjectExtension(*ext, selection, it->value);
      keep = !IsEmpty(it->value);
    } else {
      const Attribute* attr = core->FindAttribute(key);
      if (attr == nullptr) attr = FindCommonAttribute(key);
      keep = ProjectMember(attr, attr ? attr->name : std::string(key), "", selection, it->value);
    }
    it = keep ? it + 1 : resource.EraseMember(it);
  }
}

bool MayReturn(const Registry& registry, const ResourceType& type,
               const AttributeSelection& selection, std::string_view attribute) {
  if (EqualsIgnoreCase(attribute, "schemas")) return true;
  Result<ResolvedPath> resolved = registry.ResolvePath(type, attribute);
  if (!resolved.ok()) return false;
  const ResolvedPath& path = *resolved;
  std::string urn = path.in_extension ? path.schema_urn : "";
  std::string top_path = urn.empty() ? path.attribute->name : urn + ":" + path.attribute->name;
  Target top{*path.attribute, top_path, urn};
  if (!Present(top, selection)) return false;
  if (path.sub_attribute == nullptr) return true;
  return KeepSub(top, Selected(top, selection), path.sub_attribute, path.sub_attribute->name,
                 selection);
}

}  // namespace scim::schema
