#pragma once
// The SCIM operations on Users and Groups (RFC 7644 §3.3–§3.6), independent of HTTP: validation
// against the schemas, password hashing, PATCH, membership, projection and meta.location.
// The HTTP layer (and Bulk) call these and map the Error codes to responses.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "scim/common/json.h"
#include "scim/common/result.h"
#include "scim/schema/projection.h"
#include "scim/schema/registry.h"
#include "scim/store/resource_store.h"

namespace scim::service {

// Plain password → its stored hash, computed ahead (service/password_pool.h).
using PasswordHashes = std::map<std::string, std::string>;

// Who is asking, and where the resources live on the wire.
struct RequestContext {
  std::string tenant;
  std::string actor;
  std::string base_url;     // SCIM root for meta.location, e.g. "https://id.example.com/scim/v2"
  std::string client = {};  // the client's address, for the audit log
  std::string request_id = {};  // X-Request-Id (the client's or generated), for the audit log
  // Hashes computed before the request's transaction (a /Bulk hashes all its passwords at once,
  // off the request thread); a write whose password is not here hashes it itself.
  const PasswordHashes* password_hashes = nullptr;
};

// A list or search request (RFC 7644 §3.4.2, §3.4.3), already taken out of query or body.
struct SearchParams {
  std::optional<std::string> filter;
  std::optional<std::string> sort_by;
  std::optional<std::string> sort_order;
  std::optional<int64_t> start_index;
  std::optional<int64_t> count;
  std::optional<std::string> cursor;  // RFC 9865
  std::string attributes;
  std::string excluded_attributes;
};

class ResourceService {
 public:
  ResourceService(std::shared_ptr<const schema::Registry> registry,
                  std::shared_ptr<store::ResourceStore> store, int64_t max_page_size);

  // Each returns the resource as the client should see it (projected by `selection`).
  Result<json::Document> Create(const RequestContext& ctx, const schema::ResourceType& type,
                                const json::Value& body,
                                const schema::AttributeSelection& selection);
  Result<json::Document> Get(const RequestContext& ctx, const schema::ResourceType& type,
                             const std::string& id, const schema::AttributeSelection& selection);
  Result<json::Document> Replace(const RequestContext& ctx, const schema::ResourceType& type,
                                 const std::string& id, const json::Value& body,
                                 std::optional<int64_t> if_match,
                                 const schema::AttributeSelection& selection);
  Result<json::Document> Patch(const RequestContext& ctx, const schema::ResourceType& type,
                               const std::string& id, const json::Value& body,
                               std::optional<int64_t> if_match,
                               const schema::AttributeSelection& selection);
  Status Delete(const RequestContext& ctx, const schema::ResourceType& type, const std::string& id,
                std::optional<int64_t> if_match);

  // Runs `work` (calls of this service) in one database transaction; see
  // store::ResourceStore::InOneTransaction. Each call inside still succeeds or fails on its own;
  // all of them become durable (and visible) when this returns ok. `savepoints` false: the
  // first call that fails dooms the whole transaction (see the store's InOneTransaction).
  Status InOneTransaction(const std::function<Status()>& work, bool savepoints = true);

  // A ListResponse (RFC 7644 §3.4.2). `types` holds one resource type, or several for a search
  // at the SCIM root (then the filter applies to each and results are concatenated by type).
  Result<json::Document> Search(const RequestContext& ctx,
                                const std::vector<const schema::ResourceType*>& types,
                                const SearchParams& params);

  // Called after every committed write (the delivery engine wakes up on it). Set once, before
  // requests arrive.
  void SetCommitListener(std::function<void()> listener) { on_commit_ = std::move(listener); }

  // The most values a multi-valued attribute may hold after a create, replace or patch (config
  // limits.max_values_per_attribute; default 1000); more is kInvalidValue naming the attribute.
  // Group "members" is not capped. <= 0: no cap. Set once, before requests arrive.
  void SetMaxValuesPerAttribute(int64_t max_values) { max_values_per_attribute_ = max_values; }

  const schema::Registry& registry() const { return *registry_; }
  int64_t max_page_size() const { return max_page_size_; }

 private:
  // A kUniqueness error of a write, its detail naming the id that holds `user_name`; any other
  // error unchanged.
  Error UniquenessNamed(const RequestContext& ctx, const schema::ResourceType& type, Error error,
                        const std::optional<std::string>& user_name) const;

  json::Document Present(const RequestContext& ctx, const schema::ResourceType& type,
                         json::Document resource,
                         const schema::AttributeSelection& selection) const;

  // Tells the commit listener about a successful write and passes `result` on.
  template <class T>
  T Committed(T result) const {
    if (result.ok() && on_commit_) on_commit_();
    return result;
  }

  std::shared_ptr<const schema::Registry> registry_;
  std::shared_ptr<store::ResourceStore> store_;
  int64_t max_page_size_;
  int64_t max_values_per_attribute_ = 1000;
  std::function<void()> on_commit_;
};

}  // namespace scim::service
