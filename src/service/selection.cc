#include "scim/service/selection.h"

#include <map>
#include <vector>

#include "scim/common/strings.h"
#include "scim/filter/bind.h"
#include "scim/filter/evaluator.h"
#include "scim/filter/parser.h"

namespace scim::service {
namespace {

Result<filter::BoundPath> BindValueFiltered(const schema::Registry& registry,
                                            const schema::ResourceType& type,
                                            std::string_view text) {
  SCIM_TRY(auto parsed, filter::ParsePath(text));
  auto bound = filter::BindPath(parsed, registry, type);
  if (!bound.ok()) return bound.error();
  if (!bound->value_filter) {
    return Error(ErrorCode::kInvalidPath, "'" + std::string(text) + "' has no value filter");
  }
  return bound;
}

// The object holding the top-level attribute of `path`: the resource, or its extension object.
json::Value* Holder(const schema::ResolvedPath& path, json::Value& resource) {
  if (!path.in_extension) return &resource;
  json::Value* ext = json::FindMemberCI(resource, path.schema_urn);
  return ext != nullptr && ext->IsObject() ? ext : nullptr;
}

}  // namespace

Result<schema::AttributeSelection> ParseAttributeSelection(const schema::Registry& registry,
                                                           const schema::ResourceType& type,
                                                           std::string_view attributes,
                                                           std::string_view excluded) {
  auto selection = schema::ParseSelection(registry, type, attributes, excluded);
  if (!selection.ok()) return selection.error();
  for (const std::string& text : selection->value_filtered) {
    SCIM_RETURN_IF_ERROR(BindValueFiltered(registry, type, text));
  }
  return selection;
}

void ApplyValueFilters(const schema::Registry& registry, const schema::ResourceType& type,
                       const schema::AttributeSelection& selection, json::Value& resource,
                       json::Allocator& alloc) {
  if (selection.value_filtered.empty() || !resource.IsObject()) return;
  // Filters by top-level attribute: an element stays when one of its attribute's filters
  // selects it ("emails[type eq \"work\"],emails[primary eq true]").
  std::map<const schema::Attribute*, std::vector<filter::BoundPath>> by_attribute;
  for (const std::string& text : selection.value_filtered) {
    auto bound = BindValueFiltered(registry, type, text);
    if (bound.ok()) by_attribute[bound->attribute.attribute].push_back(std::move(*bound));
  }
  for (const auto& [attribute, filters] : by_attribute) {
    json::Value* holder = Holder(filters.front().attribute, resource);
    if (holder == nullptr) continue;
    json::Value* values = json::FindMemberCI(*holder, attribute->name);
    if (values == nullptr || !values->IsArray()) continue;
    json::Value kept(rapidjson::kArrayType);
    for (auto& element : values->GetArray()) {
      bool selected = false;
      for (const filter::BoundPath& f : filters) {
        if (filter::MatchesElement(*f.value_filter, element)) selected = true;
      }
      if (selected) kept.PushBack(element.Move(), alloc);
    }
    if (kept.Empty()) {
      // No element selected: the attribute is left out (RFC 7643 §2.5, an empty multi-valued
      // attribute is unassigned).
      for (auto it = holder->MemberBegin(); it != holder->MemberEnd(); ++it) {
        if (&it->value == values) {
          holder->EraseMember(it);
          break;
        }
      }
    } else {
      values->Swap(kept);
    }
  }
}

}  // namespace scim::service
