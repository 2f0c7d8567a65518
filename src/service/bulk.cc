#include "scim/service/bulk.h"

#include <map>

#include "scim/common/strings.h"
#include "service/bulk_plan.h"
#include "service/password_pool.h"
#include "service/write_input.h"

namespace scim::service {
namespace {

using IdMap = std::map<std::string, std::string>;

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

// What an operation's result needs of the written resource: id, meta.location and meta.version
// (RFC 7644 §3.7.3: status, location, version; no response body on success). Leaving out a
// User's groups and a Group's members spares the write a read of them per operation (the
// groups of every PUT, a group's whole member list); single POST/PUT/PATCH answers are not
// affected.
const schema::AttributeSelection& ResultSelection() {
  static const schema::AttributeSelection selection{{}, {"groups", "members"}, {}};
  return selection;
}

int SuccessStatus(const std::string& method) {
  if (method == "POST") return 201;
  return method == "DELETE" ? 204 : 200;
}

// The PATCH that links what a circular POST was created without (RFC 7644 §3.7.1).
json::Document LinkPatch() {
  json::Document patch(rapidjson::kObjectType);
  auto& alloc = patch.GetAllocator();
  json::Value schemas(rapidjson::kArrayType);
  schemas.PushBack(json::String(schema::kPatchOpSchema, alloc), alloc);
  patch.AddMember("schemas", schemas, alloc);
  patch.AddMember("Operations", json::Value(rapidjson::kArrayType), alloc);
  return patch;
}

void AddPatchOperation(json::Document& patch, const char* op, const std::string& path,
                       json::Value value) {
  auto& alloc = patch.GetAllocator();
  json::Value operation(rapidjson::kObjectType);
  operation.AddMember("op", json::String(op, alloc), alloc);
  operation.AddMember("path", json::String(path, alloc), alloc);
  operation.AddMember("value", value, alloc);
  patch["Operations"].PushBack(operation, alloc);
}

// Moves the values of `attribute` (at `path`) that refer to `pending` bulkIds into `patch`:
// elements of a multi-valued attribute become an "add", anything else a "replace".
// Returns whether the attribute itself must go (it referred to them as a whole).
bool DeferAttribute(json::Value& attribute, const std::string& path,
                    const std::set<std::string>& pending, json::Document& patch,
                    json::Allocator& data_alloc) {
  if (!ReferencesAny(attribute, pending)) return false;
  auto& alloc = patch.GetAllocator();
  if (!attribute.IsArray()) {
    AddPatchOperation(patch, "replace", path, json::Value(attribute, alloc));
    return true;
  }
  json::Value later(rapidjson::kArrayType);
  json::Value now(rapidjson::kArrayType);
  for (auto& element : attribute.GetArray()) {
    if (ReferencesAny(element, pending)) {
      later.PushBack(json::Value(element, alloc), alloc);
    } else {
      now.PushBack(json::Value(element, data_alloc), data_alloc);
    }
  }
  AddPatchOperation(patch, "add", path, std::move(later));
  attribute.SetArray();
  for (auto& element : now.GetArray()) attribute.PushBack(element, data_alloc);
  return false;
}

// Takes the references to `pending` bulkIds out of a POST's `data` (top-level attributes and
// the attributes of extension objects) into the PATCH that will link them once they exist.
void DeferCircularReferences(json::Value& data, const std::set<std::string>& pending,
                             json::Document& patch, json::Allocator& data_alloc) {
  std::vector<std::string> drop;
  for (auto& member : data.GetObject()) {
    std::string name(json::View(member.name));
    bool extension = name.rfind("urn:", 0) == 0 && member.value.IsObject();
    if (!extension) {
      if (DeferAttribute(member.value, name, pending, patch, data_alloc)) drop.push_back(name);
      continue;
    }
    std::vector<std::string> drop_inner;
    for (auto& inner : member.value.GetObject()) {
      std::string inner_name(json::View(inner.name));
      if (DeferAttribute(inner.value, name + ":" + inner_name, pending, patch, data_alloc)) {
        drop_inner.push_back(inner_name);
      }
    }
    for (const auto& n : drop_inner) json::RemoveMemberCI(member.value, n);
  }
  for (const auto& n : drop) json::RemoveMemberCI(data, n);
}

class BulkRun {
 public:
  // `creators`: the POST of each bulkId (ParseBulkOperations).
  BulkRun(ResourceService& service, const RequestContext& ctx,
          const std::vector<BulkOperation>& ops, const std::map<std::string, size_t>& creators,
          int64_t max_errors)
      : service_(service),
        ctx_(ctx),
        ops_(ops),
        creators_(creators),
        max_errors_(max_errors),
        outcomes_(ops.size()) {
    for (const BulkOperation& op : ops) ResetOutcome(op.index);
  }

  std::vector<BulkOutcome> Run(const std::vector<BulkStep>& plan) {
    size_t next = 0;
    while (next < plan.size() && !Stopped()) next = RunChunk(plan, next);
    for (; next < plan.size(); ++next) {
      for (size_t i : plan[next].operations) {
        outcomes_[i].error =
            Error(ErrorCode::kPreconditionFailed,
                  "not attempted: failOnErrors (" + std::to_string(max_errors_) + ") was reached");
      }
    }
    return std::move(outcomes_);
  }

 private:
  bool Stopped() const { return max_errors_ > 0 && errors_ >= max_errors_; }

  // Runs steps from `first` in one transaction, up to kBulkOperationsPerTransaction operations;
  // returns the index of the first step not run.
  // First without savepoints (on PostgreSQL the SAVEPOINT and RELEASE of each operation are two
  // of its four round trips for a create): as long as every operation succeeds, the chunk
  // commits as it is. At the first failure the chunk is rolled back whole and run again with a
  // savepoint per operation, so that each fails alone (RFC 7644 §3.7: the others still apply),
  // and so is the rest of the request.
  size_t RunChunk(const std::vector<BulkStep>& plan, size_t first) {
    if (!with_savepoints_) {
      const int64_t errors_before = errors_;
      size_t next = first;
      std::vector<size_t> ran;
      Status committed = service_.InOneTransaction(
          [&]() -> Status { return RunSteps(plan, next, ran, errors_before); }, false);
      if (committed.ok()) return next;
      for (size_t i : ran) {
        if (ops_[i].bulk_id) created_.erase(*ops_[i].bulk_id);
        ResetOutcome(i);
      }
      errors_ = errors_before;
      with_savepoints_ = true;
    }
    size_t next = first;
    std::vector<size_t> ran;
    Status committed = service_.InOneTransaction(
        [&]() -> Status { return RunSteps(plan, next, ran, std::nullopt); });
    if (!committed.ok()) ForgetUncommitted(ran, committed.error());
    return next;
  }

  // Runs steps from `next` (advancing it, noting their operations in `ran`) up to the chunk's
  // size. `stop_above`: an error count; once exceeded, stops with an error (the transaction then
  // rolls back).
  Status RunSteps(const std::vector<BulkStep>& plan, size_t& next, std::vector<size_t>& ran,
                  std::optional<int64_t> stop_above) {
    size_t count = 0;
    while (next < plan.size() && !Stopped() &&
           (count == 0 || count + plan[next].operations.size() <= kBulkOperationsPerTransaction)) {
      const BulkStep& step = plan[next++];
      ran.insert(ran.end(), step.operations.begin(), step.operations.end());
      step.circular ? RunCircle(step.operations) : RunSingle(ops_[step.operations[0]]);
      count += step.operations.size();
      if (stop_above && errors_ > *stop_above) {
        return Error(ErrorCode::kConflict, "an operation failed: running again with savepoints");
      }
    }
    return OkStatus();
  }

  void ResetOutcome(size_t i) {
    const BulkOperation& op = ops_[i];
    outcomes_[i] = {op.method,   op.bulk_id, std::nullopt, std::nullopt, SuccessStatus(op.method),
                    std::nullopt};
  }

  // The chunk's commit failed: nothing of it is durable, so nothing of it succeeded.
  void ForgetUncommitted(const std::vector<size_t>& ran, const Error& error) {
    for (size_t i : ran) {
      if (ops_[i].bulk_id) created_.erase(*ops_[i].bulk_id);
      if (outcomes_[i].error) continue;
      outcomes_[i].error = error;
      outcomes_[i].version.reset();
      if (ops_[i].method == "POST") outcomes_[i].location.reset();
      ++errors_;
    }
  }

  void Fail(size_t i, Error error) {
    outcomes_[i].error = std::move(error);
    ++errors_;
  }

  void RunSingle(const BulkOperation& op) {
    json::Document data;
    auto result = Prepare(op, data);
    if (result.ok()) result = Execute(op, data, result->first, result->second);
    if (!result.ok()) return Fail(op.index, result.error());
  }

  // Resolves the bulkIds of `op`'s data (into `data`) and path; returns the target.
  Result<std::pair<const schema::ResourceType*, std::string>> Prepare(const BulkOperation& op,
                                                                      json::Document& data) {
    if (op.data != nullptr) data.CopyFrom(*op.data, data.GetAllocator());
    std::string path_text;
    auto missing = ResolveBulkIds(data, created_, data.GetAllocator());
    if (!missing) missing = ResolvePath(op.path, path_text);
    if (missing) {
      const bool defined = creators_.count(*missing) > 0;
      return Error(ErrorCode::kConflict,
                   "bulkId " + *missing +
                       (defined ? " was not created: its operation failed"
                                : " is not resolved: no POST of this request has that bulkId"));
    }
    if (op.method != "POST") outcomes_[op.index].location = ctx_.base_url + path_text;
    return ResolveTarget(service_.registry(), path_text);
  }

  // "/Users/bulkId:x" → "/Users/<id of x>" into `resolved`; returns the first unknown bulkId.
  std::optional<std::string> ResolvePath(const std::string& path, std::string& resolved) const {
    json::Document segment;
    for (const std::string& part : Split(path, '/')) {
      segment.SetString(part.c_str(), static_cast<rapidjson::SizeType>(part.size()));
      if (auto missing = ResolveBulkIds(segment, created_, segment.GetAllocator())) return missing;
      if (!resolved.empty() || !part.empty()) resolved += "/";
      resolved += json::View(segment);
    }
    return std::nullopt;
  }

  Result<std::pair<const schema::ResourceType*, std::string>> Execute(
      const BulkOperation& op, const json::Document& data, const schema::ResourceType* type,
      const std::string& id) {
    SCIM_TRY(auto done, Dispatch(op, data, *type, id));
    Record(op, done);
    return std::make_pair(type, id);
  }

  Result<json::Document> Dispatch(const BulkOperation& op, const json::Document& data,
                                  const schema::ResourceType& type, const std::string& id) {
    const schema::AttributeSelection& result = ResultSelection();
    std::optional<int64_t> if_match;
    if (op.version && op.method != "POST") {
      // `version` is an If-Match (RFC 7644 §3.7, §3.14): one that is not ours matches nothing.
      if_match = store::ParseVersion(*op.version);
      if (!if_match) {
        return Error(ErrorCode::kPreconditionFailed, "version " + *op.version + " is not current");
      }
    }
    if ((op.method != "POST") == id.empty() || id.find('/') != std::string::npos) {
      return Error(ErrorCode::kInvalidPath, "bad bulk path " + op.path);
    }
    bool needs_data = op.method != "DELETE";
    if (needs_data && (op.data == nullptr || !data.IsObject())) {
      return Error(ErrorCode::kInvalidSyntax, op.method + " needs a data object");
    }
    if (op.method == "POST") return service_.Create(ctx_, type, data, result);
    if (op.method == "PUT") return service_.Replace(ctx_, type, id, data, if_match, result);
    if (op.method == "PATCH") return service_.Patch(ctx_, type, id, data, if_match, result);
    if (op.method == "DELETE") {
      SCIM_RETURN_IF_ERROR(service_.Delete(ctx_, type, id, if_match));
      return json::Document();
    }
    return Error(ErrorCode::kInvalidSyntax, "unsupported bulk method " + op.method);
  }

  void Record(const BulkOperation& op, const json::Document& resource) {
    if (!resource.IsObject()) return;
    const json::Value& meta = resource["meta"];
    outcomes_[op.index].location = std::string(json::View(meta["location"]));
    outcomes_[op.index].version = std::string(json::View(meta["version"]));
    if (op.bulk_id && op.method == "POST") created_[*op.bulk_id] = resource["id"].GetString();
  }

  // POSTs referring to each other (RFC 7644 §3.7.1): each is created without the references to
  // the circle's other members, then linked by a PATCH, in one savepoint. When any of that
  // fails, every operation of the circle gets 409 naming the cause and none of it remains.
  void RunCircle(const std::vector<size_t>& circle) {
    std::set<std::string> pending;
    for (size_t i : circle) pending.insert(*ops_[i].bulk_id);
    std::vector<json::Document> links(circle.size());
    Error cause;
    Status linked = service_.InOneTransaction([&]() -> Status {
      for (size_t k = 0; k < circle.size(); ++k) {
        SCIM_RETURN_IF_ERROR(CreateWithout(ops_[circle[k]], pending, links[k]));
      }
      for (size_t k = 0; k < circle.size(); ++k) {
        SCIM_RETURN_IF_ERROR(Link(ops_[circle[k]], links[k]));
      }
      // Linking one member can move another's version (a new member's "groups" changed).
      for (size_t i : circle) SCIM_RETURN_IF_ERROR(RefreshVersion(ops_[i]));
      return OkStatus();
    });
    if (linked.ok()) return;
    std::string names;
    for (size_t i : circle) names += (names.empty() ? "" : ", ") + *ops_[i].bulk_id;
    for (size_t i : circle) {
      created_.erase(*ops_[i].bulk_id);
      outcomes_[i].location.reset();
      outcomes_[i].version.reset();
      Fail(i, Error(ErrorCode::kConflict, "circular bulkId references (" + names +
                                              ") could not be resolved: " + linked.error().detail));
    }
  }

  Status CreateWithout(const BulkOperation& op, const std::set<std::string>& pending,
                       json::Document& link) {
    json::Document data;
    if (op.data == nullptr || !op.data->IsObject()) {
      return Error(ErrorCode::kInvalidSyntax, "POST needs a data object");
    }
    data.CopyFrom(*op.data, data.GetAllocator());
    link = LinkPatch();
    DeferCircularReferences(data, pending, link, data.GetAllocator());
    if (auto missing = ResolveBulkIds(data, created_, data.GetAllocator())) {
      return Error(ErrorCode::kConflict, "bulkId " + *missing + " is not resolved");
    }
    SCIM_TRY(auto target, ResolveTarget(service_.registry(), op.path));
    SCIM_RETURN_IF_ERROR(Execute(op, data, target.first, target.second));
    return OkStatus();
  }

  Status RefreshVersion(const BulkOperation& op) {
    SCIM_TRY(auto target, ResolveTarget(service_.registry(), op.path));
    SCIM_TRY(auto now,
             service_.Get(ctx_, *target.first, created_.at(*op.bulk_id), ResultSelection()));
    outcomes_[op.index].version = std::string(json::View(now["meta"]["version"]));
    return OkStatus();
  }

  Status Link(const BulkOperation& op, json::Document& link) {
    if (link["Operations"].Empty()) return OkStatus();
    if (auto missing = ResolveBulkIds(link, created_, link.GetAllocator())) {
      return Error(ErrorCode::kConflict, "bulkId " + *missing + " is not resolved");
    }
    SCIM_TRY(auto target, ResolveTarget(service_.registry(), op.path));
    const std::string& id = created_.at(*op.bulk_id);
    SCIM_RETURN_IF_ERROR(
        service_.Patch(ctx_, *target.first, id, link, std::nullopt, ResultSelection()));
    return OkStatus();
  }

  ResourceService& service_;
  const RequestContext& ctx_;
  const std::vector<BulkOperation>& ops_;
  const std::map<std::string, size_t>& creators_;
  int64_t max_errors_;
  std::vector<BulkOutcome> outcomes_;
  IdMap created_;
  int64_t errors_ = 0;
  bool with_savepoints_ = false;  // RunChunk: after a failure, each operation in a savepoint
};

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
  if (fail_on != nullptr && (!fail_on->IsInt64() || fail_on->GetInt64() < 1)) {
    return Error(ErrorCode::kInvalidValue, "failOnErrors must be a positive integer");
  }
  int64_t max_errors = fail_on != nullptr ? fail_on->GetInt64() : 0;
  std::map<std::string, size_t> creators;
  SCIM_TRY(auto parsed, ParseBulkOperations(*ops, &creators));
  // Every password of the request is hashed up front, in parallel and at low priority, before
  // any transaction opens (see password_pool.h).
  std::vector<std::string> passwords;
  for (const BulkOperation& op : parsed) {
    if (op.data == nullptr || (op.method != "POST" && op.method != "PUT")) continue;
    if (auto plain = PlainPassword(*op.data)) passwords.push_back(std::move(*plain));
  }
  PasswordHashes hashes = HashPasswords(passwords);
  RequestContext with_hashes = ctx;
  with_hashes.password_hashes = &hashes;
  return BulkRun(service, with_hashes, parsed, creators, max_errors).Run(PlanBulk(parsed));
}

int64_t CountBulkOperations(const json::Value& request) {
  if (!request.IsObject()) return 0;
  const json::Value* ops = json::FindMemberCI(request, "Operations");
  return ops != nullptr && ops->IsArray() ? static_cast<int64_t>(ops->Size()) : 0;
}

}  // namespace scim::service
