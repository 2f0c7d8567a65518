#include "scim/schema/attribute.h"

#include "scim/common/strings.h"

namespace scim::schema {

const Attribute* Attribute::FindSub(std::string_view sub_name) const {
  for (const Attribute& sub : sub_attributes) {
    if (EqualsIgnoreCase(sub.name, sub_name)) return &sub;
  }
  return nullptr;
}

const char* AttributeTypeName(AttributeType t) {
  switch (t) {
    case AttributeType::kString:
      return "string";
    case AttributeType::kBoolean:
      return "boolean";
    case AttributeType::kDecimal:
      return "decimal";
    case AttributeType::kInteger:
      return "integer";
    case AttributeType::kDateTime:
      return "dateTime";
    case AttributeType::kReference:
      return "reference";
    case AttributeType::kBinary:
      return "binary";
    case AttributeType::kComplex:
      return "complex";
  }
  return "string";
}

const char* MutabilityName(Mutability m) {
  switch (m) {
    case Mutability::kReadOnly:
      return "readOnly";
    case Mutability::kReadWrite:
      return "readWrite";
    case Mutability::kImmutable:
      return "immutable";
    case Mutability::kWriteOnly:
      return "writeOnly";
  }
  return "readWrite";
}

const char* ReturnedName(Returned r) {
  switch (r) {
    case Returned::kAlways:
      return "always";
    case Returned::kNever:
      return "never";
    case Returned::kDefault:
      return "default";
    case Returned::kRequest:
      return "request";
  }
  return "default";
}

const char* UniquenessName(Uniqueness u) {
  switch (u) {
    case Uniqueness::kNone:
      return "none";
    case Uniqueness::kServer:
      return "server";
    case Uniqueness::kGlobal:
      return "global";
  }
  return "none";
}

}  // namespace scim::schema
