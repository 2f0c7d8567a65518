// ResourceService::Search: list and .search requests (RFC 7644 §3.4.2, §3.4.3) with cursors
// (RFC 9865). Filtering, sorting and paging run in the database.

#include "scim/common/strings.h"
#include "scim/filter/bind.h"
#include "scim/filter/parser.h"
#include "scim/service/resource_service.h"
#include "scim/service/selection.h"

namespace scim::service {
namespace {

constexpr int64_t kDefaultCount = 100;

struct Window {
  int64_t start_index = 1;
  int64_t count = kDefaultCount;
};

// RFC 7644 §3.4.2.4: startIndex < 1 is taken as 1; a negative count as 0; count is capped at
// the advertised maximum.
Window PageWindow(const SearchParams& params, int64_t max_page_size) {
  Window w;
  w.start_index = std::max<int64_t>(1, params.start_index.value_or(1));
  w.count = std::clamp<int64_t>(params.count.value_or(std::min(kDefaultCount, max_page_size)), 0,
                                max_page_size);
  return w;
}

Result<bool> Descending(const SearchParams& params) {
  if (!params.sort_order || params.sort_order->empty()) return false;
  if (EqualsIgnoreCase(*params.sort_order, "ascending")) return false;
  if (EqualsIgnoreCase(*params.sort_order, "descending")) return true;
  return Error(ErrorCode::kInvalidValue, "sortOrder must be \"ascending\" or \"descending\"");
}

Result<store::ListQuery> BuildQuery(const schema::Registry& registry,
                                    const schema::ResourceType& type, const SearchParams& params,
                                    const schema::AttributeSelection& selection) {
  store::ListQuery query;
  if (params.filter) {
    SCIM_TRY(auto parsed, filter::ParseFilter(*params.filter));
    SCIM_TRY(auto bound, filter::Bind(parsed, registry, type));
    query.filter = std::move(bound);
  }
  if (params.sort_by && !params.sort_by->empty()) {
    auto path = registry.ResolvePath(type, *params.sort_by);
    if (!path.ok()) return Error(ErrorCode::kInvalidValue, "sortBy: " + path.error().detail);
    query.sort_by = *path;
  }
  SCIM_TRY(auto descending, Descending(params));
  query.descending = descending;
  query.cursor = params.cursor;
  query.read.include_members = schema::MayReturn(registry, type, selection, "members");
  query.read.include_groups = schema::MayReturn(registry, type, selection, "groups");
  return query;
}

json::Document EmptyListResponse(int64_t start_index, bool by_cursor) {
  json::Document out(rapidjson::kObjectType);
  auto& alloc = out.GetAllocator();
  json::Value schemas(rapidjson::kArrayType);
  schemas.PushBack(json::String(schema::kListResponseSchema, alloc), alloc);
  out.AddMember("schemas", schemas, alloc);
  out.AddMember("totalResults", 0, alloc);
  out.AddMember("itemsPerPage", 0, alloc);
  if (!by_cursor) out.AddMember("startIndex", start_index, alloc);
  out.AddMember("Resources", json::Value(rapidjson::kArrayType), alloc);
  return out;
}

}  // namespace

Result<json::Document> ResourceService::Search(
    const RequestContext& ctx, const std::vector<const schema::ResourceType*>& types,
    const SearchParams& params) {
  if (types.size() > 1 && params.cursor) {
    return Error(ErrorCode::kInvalidValue,
                 "cursor pagination is per resource type: use /Users/.search or /Groups/.search");
  }
  Window window = PageWindow(params, max_page_size_);
  size_t unfilterable = 0;
  json::Document out = EmptyListResponse(window.start_index, params.cursor.has_value());
  auto& alloc = out.GetAllocator();
  int64_t total = 0;
  int64_t skip = window.start_index - 1;  // across types for a root search
  int64_t room = window.count;
  for (const schema::ResourceType* type : types) {
    auto selection = service::ParseAttributeSelection(*registry_, *type, params.attributes,
                                                      params.excluded_attributes);
    if (!selection.ok() && types.size() > 1) selection = schema::AttributeSelection{};
    if (!selection.ok()) return selection.error();
    auto query = BuildQuery(*registry_, *type, params, *selection);
    if (!query.ok()) {
      // A root search (RFC 7644 §3.4.3) filters every type; a filter naming attributes only one
      // type has matches nothing of the others. It is an error only when no type can take it.
      if (types.size() > 1 && query.error().code == ErrorCode::kInvalidFilter &&
          ++unfilterable < types.size()) {
        continue;
      }
      return query.error();
    }
    query->start_index = skip + 1;
    query->count = room;
    SCIM_TRY(auto page, store_->List(ctx.tenant, type->name, *query));
    total += page.total_results;
    skip = std::max<int64_t>(0, skip - page.total_results);
    for (json::Document& resource : page.resources) {
      json::Document shown = Present(ctx, *type, std::move(resource), *selection);
      out["Resources"].PushBack(json::Value(shown, alloc), alloc);
      --room;
    }
    if (page.next_cursor) {
      out.AddMember("nextCursor", json::String(*page.next_cursor, alloc), alloc);
    }
  }
  out["totalResults"].SetInt64(total);
  out["itemsPerPage"].SetInt64(static_cast<int64_t>(out["Resources"].Size()));
  return out;
}

}  // namespace scim::service
