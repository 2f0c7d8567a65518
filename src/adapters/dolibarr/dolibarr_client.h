#pragma once
// Client for Dolibarr's third-party REST API (contract: shared/contracts/dolibarr.md).
// Auth with the DOLAPIKEY header; every POST/PUT body carries "caller":"scimd" so Dolibarr's
// triggers can tell scimd's writes apart.

#include <optional>
#include <string>
#include <vector>

#include "adapters/common/call_result.h"
#include "adapters/common/http_client.h"

namespace scim::adapters::dolibarr {

// The fields scimd reads back from a third party.
struct ThirdParty {
  std::string id;
  std::string name;
  std::string email;
  std::string ref_ext;
  int status = 1;
};

// What to write. Unset optionals are not sent; on an update an empty string clears the field.
struct ThirdPartyFields {
  std::string name;
  std::optional<std::string> email;
  std::optional<std::string> phone;
  std::optional<int> status;              // 1 in activity, 0 ceased
  std::optional<std::string> ref_ext;     // the SCIM id
  std::optional<std::string> department;  // extra field array_options.options_<department_field>
  bool customer_supplier_flags = false;   // send client=0, fournisseur=0 (creates only)
};

// What a PUT answered.
struct UpdateAnswer {
  bool found = false;  // false: 404, no such third party
  // Whether the answer's array_options lists options_<department_field> (Dolibarr answers every
  // defined extra field, null when unset); nullopt when the answer does not say.
  std::optional<bool> department_field_listed;
};

// Thread-safe (stateless apart from the HttpClient).
class DolibarrClient {
 public:
  // `base_url` is `<root>/api/index.php`; `department_field` is the extra field's attribute name
  // (without the "options_" prefix).
  DolibarrClient(std::string base_url, std::string api_key, std::string department_field,
                 HttpClientOptions http_options);

  // GET /thirdparties/{id}; nullopt on 404.
  CallResult<std::optional<ThirdParty>> Get(const std::string& id) const;
  // GET /thirdparties/email/{email}; nullopt on 404.
  CallResult<std::optional<ThirdParty>> FindByEmail(const std::string& email) const;
  // Every third party (up to `limit`, by id) whose e-mail is `email` (Dolibarr compares without
  // case): GET /thirdparties?sqlfilters=(t.email:=:'...'). GET /thirdparties/email/{email} cannot
  // serve: with two matches it answers 200 with an empty object (capture `get_by_email_ambiguous`).
  // An e-mail that cannot be written in a filter falls back on it (at most one found).
  CallResult<std::vector<ThirdParty>> FindAllByEmail(const std::string& email,
                                                     int limit = 10) const;
  // Whether Dolibarr defines the third-party extra field `department_field` (GET
  // /setup/extrafields/societe/{attr}; 404 = no). nullopt when the key may not read extra-field
  // definitions (401/403: admin only).
  CallResult<std::optional<bool>> ExtraFieldDefined() const;
  const std::string& department_field() const { return department_field_; }
  // GET /thirdparties?sqlfilters=(t.ref_ext:=:'...')&limit=1; nullopt on 404 (Dolibarr's empty
  // list) or when `ref_ext` cannot be written in a filter (quotes, parentheses).
  CallResult<std::optional<ThirdParty>> FindByRefExt(const std::string& ref_ext) const;
  // Every third party (up to `limit`, by id) whose ref_ext is `ref_ext` or whose e-mail is
  // `email`, in one call: GET /thirdparties?sqlfilters=(t.ref_ext:=:'...') or (t.email:=:'...').
  // nullopt (nothing asked) when either cannot be written in a filter or `email` is empty.
  CallResult<std::optional<std::vector<ThirdParty>>> FindByRefExtOrEmail(const std::string& ref_ext,
                                                                         const std::string& email,
                                                                         int limit = 10) const;
  // Every third party: GET /thirdparties?sortfield=t.rowid&limit=N&page=P from page 0 until a
  // page holds fewer than N (dolibarr.md, "List"); Dolibarr's 404 on an empty page ends it too.
  CallResult<std::vector<ThirdParty>> ListAll(int page_size = 100) const;
  // POST /thirdparties; the new id.
  CallResult<std::string> Create(const ThirdPartyFields& fields) const;
  // PUT /thirdparties/{id} with the set fields; found = false on 404.
  CallResult<UpdateAnswer> Update(const std::string& id, const ThirdPartyFields& fields) const;
  // DELETE /thirdparties/{id}; false on 404 (already gone).
  CallResult<bool> Delete(const std::string& id) const;

 private:
  CallResult<HttpResponse> Call(const std::string& method, const std::string& path,
                                const std::string& body) const;
  CallResult<std::optional<ThirdParty>> GetOne(const std::string& path, bool list) const;
  // GET /thirdparties?sortfield=t.rowid&sortorder=ASC&sqlfilters=<filter>&limit=<limit>; the
  // 404 of an empty list is an empty vector.
  CallResult<std::vector<ThirdParty>> ListFiltered(const std::string& filter, int limit) const;
  // Whether `value` can be written as a quoted sqlfilters value.
  static bool Filterable(const std::string& value);
  std::string Body(const ThirdPartyFields& fields) const;

  std::string base_url_;
  std::string api_key_;
  std::string department_field_;
  HttpClient http_;
};

}  // namespace scim::adapters::dolibarr
