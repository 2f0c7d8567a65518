#include "scim/schema/registry.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "schema/loader.h"
#include "scim/common/log.h"
#include "scim/common/strings.h"
#include "scim/schema/embedded.h"

namespace scim::schema {
namespace {

Attribute MakeCommon(std::string name, AttributeType type, Mutability mutability, Returned returned,
                     bool case_exact) {
  Attribute a;
  a.name = std::move(name);
  a.type = type;
  a.mutability = mutability;
  a.returned = returned;
  a.case_exact = case_exact;
  return a;
}

// RFC 7643 §3.1. meta.resourceType is returned always so that every projected resource still
// says what it is (with id and schemas, the minimum a client can rely on).
std::vector<Attribute> BuildCommonAttributes() {
  using enum AttributeType;
  Attribute id = MakeCommon("id", kString, Mutability::kReadOnly, Returned::kAlways, true);
  id.uniqueness = Uniqueness::kServer;
  id.description = "A unique identifier for a SCIM resource as defined by the service provider.";
  Attribute external_id =
      MakeCommon("externalId", kString, Mutability::kReadWrite, Returned::kDefault, true);
  external_id.description =
      "A String that is an identifier for the resource as defined by the "
      "provisioning client.";
  Attribute meta = MakeCommon("meta", kComplex, Mutability::kReadOnly, Returned::kDefault, false);
  meta.description = "A complex attribute containing resource metadata.";
  meta.sub_attributes = {
      MakeCommon("resourceType", kString, Mutability::kReadOnly, Returned::kAlways, true),
      MakeCommon("created", kDateTime, Mutability::kReadOnly, Returned::kDefault, false),
      MakeCommon("lastModified", kDateTime, Mutability::kReadOnly, Returned::kDefault, false),
      MakeCommon("location", kReference, Mutability::kReadOnly, Returned::kDefault, true),
      MakeCommon("version", kString, Mutability::kReadOnly, Returned::kDefault, true),
  };
  meta.sub_attributes[3].reference_types = {"uri"};
  return {std::move(id), std::move(external_id), std::move(meta)};
}

const std::vector<Attribute>& CommonAttributes() {
  static const std::vector<Attribute> attributes = BuildCommonAttributes();
  return attributes;
}

Status ReadFile(const std::filesystem::path& path, std::string& text) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorCode::kInternal, "cannot open schema file " + path.string());
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return Error(ErrorCode::kInternal, "cannot read schema file " + path.string());
  text = buffer.str();
  return OkStatus();
}

}  // namespace

const Attribute* Schema::FindAttribute(std::string_view attr_name) const {
  for (const Attribute& a : attributes) {
    if (EqualsIgnoreCase(a.name, attr_name)) return &a;
  }
  return nullptr;
}

const Attribute* FindCommonAttribute(std::string_view name) {
  for (const Attribute& a : CommonAttributes()) {
    if (EqualsIgnoreCase(a.name, name)) return &a;
  }
  return nullptr;
}

const Attribute& CommonAttribute(std::string_view name) {
  const Attribute* a = FindCommonAttribute(name);
  if (a == nullptr) {
    log::Error("CommonAttribute: '" + std::string(name) + "' is not a common attribute");
    std::abort();
  }
  return *a;
}

Result<std::shared_ptr<const Registry>> Registry::LoadEmbedded() {
  std::vector<std::pair<std::string, std::string>> files;
  for (const EmbeddedFile& f : EmbeddedSchemaFiles()) files.emplace_back(f.name, f.text);
  return LoadFromTexts(files);
}

Result<std::shared_ptr<const Registry>> Registry::LoadDirectory(const std::string& directory) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<fs::path> paths;
  for (fs::directory_iterator it(directory, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == ".json") paths.push_back(it->path());
  }
  if (ec) {
    return Error(ErrorCode::kInternal,
                 "cannot list schema directory " + directory + ": " + ec.message());
  }
  std::sort(paths.begin(), paths.end());
  std::vector<std::pair<std::string, std::string>> files;
  for (const fs::path& path : paths) {
    std::string text;
    SCIM_RETURN_IF_ERROR(ReadFile(path, text));
    files.emplace_back(path.filename().string(), std::move(text));
  }
  return LoadFromTexts(files);
}

Result<std::shared_ptr<const Registry>> Registry::LoadFromTexts(
    const std::vector<std::pair<std::string, std::string>>& files) {
  internal::Loader loader;
  for (const auto& [name, text] : files) SCIM_RETURN_IF_ERROR(loader.AddFile(name, text));
  SCIM_RETURN_IF_ERROR(loader.Finish());
  auto registry = std::make_shared<Registry>();
  registry->schemas_ = std::move(loader.schemas());
  registry->resource_types_ = std::move(loader.resource_types());
  return std::shared_ptr<const Registry>(std::move(registry));
}

const Schema* Registry::FindSchema(std::string_view urn) const {
  for (const Schema& s : schemas_) {
    if (EqualsIgnoreCase(s.id, urn)) return &s;
  }
  return nullptr;
}

const ResourceType* Registry::FindResourceType(std::string_view name) const {
  for (const ResourceType& t : resource_types_) {
    if (EqualsIgnoreCase(t.name, name)) return &t;
  }
  return nullptr;
}

const ResourceType* Registry::FindResourceTypeByEndpoint(std::string_view endpoint) const {
  for (const ResourceType& t : resource_types_) {
    if (EqualsIgnoreCase(t.endpoint, endpoint)) return &t;
  }
  return nullptr;
}

std::vector<const Schema*> Registry::SchemasOf(const ResourceType& type) const {
  std::vector<const Schema*> out;
  if (const Schema* core = FindSchema(type.schema)) out.push_back(core);
  for (const SchemaExtensionRef& ext : type.extensions) {
    if (const Schema* s = FindSchema(ext.schema)) out.push_back(s);
  }
  return out;
}

std::string ResolvedPath::CanonicalName() const {
  if (attribute == nullptr) return "";
  if (sub_attribute == nullptr) return attribute->name;
  return attribute->name + "." + sub_attribute->name;
}

std::string ResolvedPath::QualifiedName() const {
  if (!in_extension) return CanonicalName();
  return schema_urn + ":" + CanonicalName();
}

}  // namespace scim::schema
