#include "scim/service/bulk.h"

#include <map>

#include "scim/common/strings.h"

namespace scim::service {
namespace {

constexpr std::string_view kBulkIdPrefix = "bulkId:";

struct ParsedOperation {
  std::string method;
  std::optional<std::string> bulk_id;
  std::optional<std::string> version;
  std::string path;
  const json::Value* data = nullptr;
};

std::optional<std::string> StringMember(const json::Value& object, const char* name) {
  const json::Value* v = json::FindMemberCI(object, name);
  if (v == nullptr || !v->IsString()) return std::nullopt;
  return std::string(json::View(*v));
}

Result<ParsedOperation> ParseOperation(const json::Value& op, size_t index) {
  std::string where = "Operations[" + std::to_string(index) + "]";
  if (!op.IsObject()) return Error(ErrorCode::kInvalidSyntax, where + " must be an object");
  ParsedOperation parsed;
  auto method = StringMember(op, "method");
  auto path = StringMember(op, "path");
  if (!method || !path) return Error(ErrorCode::kInvalidSyntax, where + " needs method and path");
  for (char& c : *method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  parsed.method = *method;
  parsed.path = *path;
  parsed.bulk_id = StringMember(op, "bulkId");
  parsed.version = StringMember(op, "version");
  parsed.data = json::FindMemberCI(op, "data");
  if (parsed.method == "POST" && !parsed.bulk_id) {
    return Error(ErrorCode::kInvalidSyntax, where + ": POST requires a bulkId (RFC 7644 §3.7)");
  }
  return parsed;
}

// Replaces every string "bulkId:<x>" in `value` by the id created for <x>. Returns the first
// unresolved reference, if any.
std::optional<std::string> ResolveReferences(json::Value& value,
                                             const std::map<std::string, std::string>& ids,
                                             json::Allocator& alloc) {
  if (value.IsString() && StartsWithIgnoreCase(json::View(value), kBulkIdPrefix)) {
    std::string ref(json::View(value).substr(kBulkIdPrefix.size()));
    auto it = ids.find(ref);
    if (it == ids.end()) return ref;
    value.SetString(it->second.c_str(), static_cast<rapidjson::SizeType>(it->second.size()), alloc);
  } else if (value.IsObject()) {
    for (auto& m : value.GetObject()) {
      if (auto missing = ResolveReferences(m.value, ids, alloc)) return missing;
    }
  } else if (value.IsArray()) {
    for (auto& item : value.GetArray()) {
      if (auto missing = ResolveReferences(item, ids, alloc)) return missing;
    }
  }
  return std::nullopt;
}

// Splits "/Users/abc" into the resource type and the id ("" for "/Users").
Result<std::pair<const schema::ResourceType*, std::string>> ResolveTarget(
    const schema::Registry& registry, const std::string& path) {
  auto slash = path.find('/', 1);
  std::string endpoint = path.substr(0, slash);
  const schema::ResourceType* type = registry.FindResourceTypeByEndpoint(endpoint);
  if (type == nullptr) return Error(ErrorCode::kInvalidPath, "unknown bulk path " + path);
  std::string id = slash == std::string::npos ? "" : path.substr(slash + 1);
  return std::make_pair(type, id);
}

Result<json::Document> Execute(ResourceService& service, const RequestContext& ctx,
                               const ParsedOperation& op, const schema::ResourceType& type,
                               const std::string& id, const json::Value* data) {
  schema::AttributeSelection all;
  std::optional<int64_t> if_match = op.version ? store::ParseVersion(*op.version) : std::nullopt;
  bool needs_id = op.method != "POST";
  if (needs_id == id.empty()) return Error(ErrorCode::kInvalidPath, "bad bulk path " + op.path);
  bool needs_data = op.method != "DELETE";
  if (needs_data && (data == nullptr || !data->IsObject())) {
    return Error(ErrorCode::kInvalidSyntax, op.method + " needs a data object");
  }
  if (op.method == "POST") return service.Create(ctx, type, *data, all);
  if (op.method == "PUT") return service.Replace(ctx, type, id, *data, if_match, all);
  if (op.method == "PATCH") return service.Patch(ctx, type, id, *data, if_match, all);
  if (op.method == "DELETE") {
    Status deleted = service.Delete(ctx, type, id, if_match);
    if (!deleted.ok()) return deleted.error();
    return json::Document();
  }
  return Error(ErrorCode::kInvalidSyntax, "unsupported bulk method " + op.method);
}

BulkOutcome RunOne(ResourceService& service, const RequestContext& ctx, const ParsedOperation& op,
                   std::map<std::string, std::string>& created_ids) {
  BulkOutcome outcome{op.method, op.bulk_id, std::nullopt, std::nullopt,
                      op.method == "POST" ? 201 : (op.method == "DELETE" ? 204 : 200), std::nullopt};
  json::Document data;
  if (op.data != nullptr) data.CopyFrom(*op.data, data.GetAllocator());
  json::Value path_value = json::String(op.path, data.GetAllocator());
  std::string missing = ResolveReferences(data, created_ids, data.GetAllocator())
                            .value_or(ResolveReferences(path_value, created_ids, data.GetAllocator())
                                          .value_or(""));
  if (!missing.empty()) {
    outcome.error = Error(ErrorCode::kConflict, "bulkId " + missing + " is not resolved");
    return outcome;
  }
  std::string path(json::View(path_value));
  auto target = ResolveTarget(service.registry(), path);
  if (!target.ok()) {
    outcome.error = target.error();
    return outcome;
  }
  auto result = Execute(service, ctx, op, *target->first, target->second,
                        op.data == nullptr ? nullptr : &data);
  if (!result.ok()) {
    outcome.error = result.error();
    return outcome;
  }
  if (result->IsObject()) {
    const json::Value& meta = (*result)["meta"];
    outcome.location = std::string(json::View(meta["location"]));
    outcome.version = std::string(json::View(meta["version"]));
    if (op.bulk_id) created_ids[*op.bulk_id] = (*result)["id"].GetString();
  } else {
    outcome.location = ctx.base_url + path;
  }
  return outcome;
}

}  // namespace

Result<std::vector<BulkOutcome>> RunBulk(ResourceService& service, const RequestContext& ctx,
                                         const json::Value& request, const BulkLimits& limits) {
  const json::Value* ops = json::FindMemberCI(request, "Operations");
  if (ops == nullptr || !ops->IsArray()) {
    return Error(ErrorCode::kInvalidSyntax, "a BulkRequest needs an Operations array");
  }
  if (static_cast<int64_t>(ops->Size()) > limits.max_operations) {
    return Error(ErrorCode::kPayloadTooLarge,
                 "more than " + std::to_string(limits.max_operations) + " operations");
  }
  const json::Value* fail_on = json::FindMemberCI(request, "failOnErrors");
  int64_t max_errors = fail_on != nullptr && fail_on->IsInt64() ? fail_on->GetInt64() : 0;
  std::vector<ParsedOperation> parsed;
  for (rapidjson::SizeType i = 0; i < ops->Size(); ++i) {
    auto op = ParseOperation((*ops)[i], i);
    if (!op.ok()) return op.error();
    parsed.push_back(*op);
  }
  std::vector<BulkOutcome> outcomes;
  std::map<std::string, std::string> created_ids;
  int64_t errors = 0;
  for (const ParsedOperation& op : parsed) {
    outcomes.push_back(RunOne(service, ctx, op, created_ids));
    if (outcomes.back().error && ++errors >= max_errors && max_errors > 0) break;
  }
  return outcomes;
}

}  // namespace scim::service
