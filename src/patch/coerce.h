#pragma once
// Value coercion: checks a client value against an attribute definition and returns it in
// canonical form (canonical sub-attribute names, booleans as booleans, normalized dateTimes,
// canonicalValues in the schema's spelling), accepting Entra ID's forms (dialect.h).

#include <string>

#include "scim/common/json.h"
#include "scim/common/result.h"
#include "scim/schema/attribute.h"

namespace scim::patch::internal {

class Coercer {
 public:
  explicit Coercer(json::Allocator& alloc) : alloc_(alloc) {}

  // A value for the whole attribute: an array for multi-valued attributes (a single element is
  // wrapped, null elements are dropped), a single value otherwise. `in` must not be null.
  // `parent` is the attribute `attr` is a sub-attribute of (nullptr for a top-level attribute).
  // `where` names the attribute in error details.
  Result<json::Value> Whole(const schema::Attribute& attr, const json::Value& in,
                            const std::string& where, const schema::Attribute* parent = nullptr);

  // One value of the attribute's type (one element, for a multi-valued attribute). readOnly
  // sub-attributes of a complex value are dropped unless `keep_read_only`.
  Result<json::Value> Single(const schema::Attribute& attr, const json::Value& in,
                             const std::string& where, bool keep_read_only,
                             const schema::Attribute* parent = nullptr);

 private:
  Result<json::Value> Simple(const schema::Attribute& attr, const json::Value& in,
                             const std::string& where, const schema::Attribute* parent);
  json::Value Canonical(const schema::Attribute& attr, const schema::Attribute* parent,
                        const json::Value& in);
  Result<json::Value> Complex(const schema::Attribute& attr, const json::Value& in,
                              const std::string& where, bool keep_read_only);
  Result<json::Value> BareComplex(const schema::Attribute& attr, const json::Value& in,
                                  const std::string& where, bool keep_read_only);
  Status AddSub(const schema::Attribute& attr, std::string_view name, const json::Value& value,
                const std::string& where, bool keep_read_only, json::Value& out);

  json::Allocator& alloc_;
};

}  // namespace scim::patch::internal
