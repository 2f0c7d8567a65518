#include "service/bulk_plan.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <queue>

#include "scim/common/strings.h"

namespace scim::service {
namespace {

std::optional<std::string> StringMember(const json::Value& object, const char* name) {
  const json::Value* v = json::FindMemberCI(object, name);
  if (v == nullptr || !v->IsString()) return std::nullopt;
  return std::string(json::View(*v));
}

std::optional<std::string> BulkIdIn(std::string_view text) {
  if (!StartsWithIgnoreCase(text, kBulkIdPrefix)) return std::nullopt;
  return std::string(text.substr(kBulkIdPrefix.size()));
}

void CollectReferences(const json::Value& value, std::set<std::string>& out) {
  if (value.IsString()) {
    if (auto id = BulkIdIn(json::View(value))) out.insert(*id);
  } else if (value.IsObject()) {
    for (const auto& m : value.GetObject()) CollectReferences(m.value, out);
  } else if (value.IsArray()) {
    for (const auto& item : value.GetArray()) CollectReferences(item, out);
  }
}

Result<BulkOperation> ParseOne(const json::Value& op, size_t index) {
  std::string where = "Operations[" + std::to_string(index) + "]";
  if (!op.IsObject()) return Error(ErrorCode::kInvalidSyntax, where + " must be an object");
  BulkOperation parsed;
  parsed.index = index;
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
  if (parsed.data != nullptr) CollectReferences(*parsed.data, parsed.references);
  for (const std::string& segment : Split(parsed.path, '/')) {
    if (auto id = BulkIdIn(segment)) parsed.references.insert(*id);
  }
  return parsed;
}

// Tarjan's strongly connected components, iteratively (a chain of thousands of references must
// not exhaust the stack). Edges point from an operation to the POSTs it depends on. Returns the
// component of each operation.
std::vector<size_t> Components(const std::vector<std::vector<size_t>>& depends_on) {
  const size_t n = depends_on.size();
  constexpr size_t kUnvisited = static_cast<size_t>(-1);
  std::vector<size_t> order(n, kUnvisited), low(n, 0), component(n, kUnvisited);
  std::vector<bool> on_stack(n, false);
  std::vector<size_t> stack;
  std::vector<std::pair<size_t, size_t>> frames;  // (operation, next edge to look at)
  size_t counter = 0, components = 0;
  for (size_t root = 0; root < n; ++root) {
    if (order[root] != kUnvisited) continue;
    frames.push_back({root, 0});
    while (!frames.empty()) {
      auto& [v, edge] = frames.back();
      if (edge == 0 && order[v] == kUnvisited) {
        order[v] = low[v] = counter++;
        stack.push_back(v);
        on_stack[v] = true;
      }
      if (edge < depends_on[v].size()) {
        size_t w = depends_on[v][edge++];
        if (order[w] == kUnvisited) {
          frames.push_back({w, 0});
        } else if (on_stack[w]) {
          low[v] = std::min(low[v], order[w]);
        }
        continue;
      }
      size_t done = v;
      frames.pop_back();
      if (!frames.empty()) low[frames.back().first] = std::min(low[frames.back().first], low[done]);
      if (low[done] != order[done]) continue;
      size_t w;
      do {
        w = stack.back();
        stack.pop_back();
        on_stack[w] = false;
        component[w] = components;
      } while (w != done);
      ++components;
    }
  }
  return component;
}

}  // namespace

Result<std::vector<BulkOperation>> ParseBulkOperations(const json::Value& operations,
                                                       std::map<std::string, size_t>* creators) {
  std::vector<BulkOperation> parsed;
  std::map<std::string, size_t> defined;
  for (rapidjson::SizeType i = 0; i < operations.Size(); ++i) {
    SCIM_TRY(auto op, ParseOne(operations[i], i));
    if (op.method == "POST" && !defined.emplace(*op.bulk_id, i).second) {
      return Error(ErrorCode::kInvalidSyntax, "bulkId " + *op.bulk_id + " names two POSTs");
    }
    parsed.push_back(std::move(op));
  }
  if (creators != nullptr) *creators = std::move(defined);
  return parsed;
}

std::vector<BulkStep> PlanBulk(const std::vector<BulkOperation>& operations) {
  const size_t n = operations.size();
  std::map<std::string, size_t> creator;
  for (const BulkOperation& op : operations) {
    if (op.method == "POST") creator[*op.bulk_id] = op.index;
  }
  std::vector<std::vector<size_t>> depends_on(n);
  for (const BulkOperation& op : operations) {
    for (const std::string& ref : op.references) {
      if (auto it = creator.find(ref); it != creator.end())
        depends_on[op.index].push_back(it->second);
    }
  }
  // Steps are the components (a circle, or one operation); a step waits for the steps it
  // depends on and otherwise keeps the request order of its first operation.
  std::vector<size_t> component = Components(depends_on);
  size_t count = n == 0 ? 0 : *std::max_element(component.begin(), component.end()) + 1;
  std::vector<BulkStep> steps(count);
  std::vector<std::set<size_t>> dependents(count);
  std::vector<size_t> waiting(count, 0);
  for (size_t i = 0; i < n; ++i) {
    steps[component[i]].operations.push_back(i);
    for (size_t d : depends_on[i]) {
      if (d == i) steps[component[i]].circular = true;
      if (component[d] != component[i] && dependents[component[d]].insert(component[i]).second) {
        ++waiting[component[i]];
      }
    }
  }
  using Entry = std::pair<size_t, size_t>;  // (first operation, component)
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> ready;
  for (size_t c = 0; c < count; ++c) {
    steps[c].circular |= steps[c].operations.size() > 1;
    if (waiting[c] == 0) ready.push({steps[c].operations.front(), c});
  }
  std::vector<BulkStep> plan;
  while (!ready.empty()) {
    size_t c = ready.top().second;
    ready.pop();
    plan.push_back(steps[c]);
    for (size_t d : dependents[c]) {
      if (--waiting[d] == 0) ready.push({steps[d].operations.front(), d});
    }
  }
  return plan;
}

bool ReferencesAny(const json::Value& value, const std::set<std::string>& ids) {
  if (value.IsString()) {
    auto id = BulkIdIn(json::View(value));
    return id && ids.count(*id) > 0;
  }
  if (value.IsObject()) {
    for (const auto& m : value.GetObject()) {
      if (ReferencesAny(m.value, ids)) return true;
    }
  } else if (value.IsArray()) {
    for (const auto& item : value.GetArray()) {
      if (ReferencesAny(item, ids)) return true;
    }
  }
  return false;
}

std::optional<std::string> ResolveBulkIds(json::Value& value,
                                          const std::map<std::string, std::string>& ids,
                                          json::Allocator& alloc) {
  if (value.IsString()) {
    auto ref = BulkIdIn(json::View(value));
    if (!ref) return std::nullopt;
    auto it = ids.find(*ref);
    if (it == ids.end()) return ref;
    value.SetString(it->second.c_str(), static_cast<rapidjson::SizeType>(it->second.size()), alloc);
  } else if (value.IsObject()) {
    for (auto& m : value.GetObject()) {
      if (auto missing = ResolveBulkIds(m.value, ids, alloc)) return missing;
    }
  } else if (value.IsArray()) {
    for (auto& item : value.GetArray()) {
      if (auto missing = ResolveBulkIds(item, ids, alloc)) return missing;
    }
  }
  return std::nullopt;
}

}  // namespace scim::service
