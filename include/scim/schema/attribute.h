#pragma once
// One attribute definition of a SCIM schema (RFC 7643 §7), as loaded from scim-schemas/*.json.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace scim::schema {

enum class AttributeType { kString, kBoolean, kDecimal, kInteger, kDateTime, kReference, kBinary, kComplex };
enum class Mutability { kReadOnly, kReadWrite, kImmutable, kWriteOnly };
enum class Returned { kAlways, kNever, kDefault, kRequest };
enum class Uniqueness { kNone, kServer, kGlobal };

struct Attribute {
  std::string name;  // as the schema spells it ("userName", "familyName")
  AttributeType type = AttributeType::kString;
  bool multi_valued = false;
  bool required = false;
  bool case_exact = false;
  Mutability mutability = Mutability::kReadWrite;
  Returned returned = Returned::kDefault;
  Uniqueness uniqueness = Uniqueness::kNone;
  std::vector<std::string> canonical_values;
  std::vector<std::string> reference_types;
  std::vector<Attribute> sub_attributes;  // only for kComplex
  std::string description;

  // Case-insensitive lookup of a sub-attribute; nullptr when absent.
  const Attribute* FindSub(std::string_view sub_name) const;
};

const char* AttributeTypeName(AttributeType t);  // "string", "boolean", ... as in RFC 7643 §7
// The RFC 7643 §7 spellings of the other characteristics, as /Schemas serves them.
const char* MutabilityName(Mutability m);  // "readOnly", "readWrite", "immutable", "writeOnly"
const char* ReturnedName(Returned r);      // "always", "never", "default", "request"
const char* UniquenessName(Uniqueness u);  // "none", "server", "global"

}  // namespace scim::schema
