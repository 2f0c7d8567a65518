#include "adapters/dolibarr/dolibarr_adapter.h"

#include "adapters/common/scim_resource.h"
#include "adapters/dolibarr/dolibarr_errors.h"
#include "scim/common/strings.h"

namespace scim::adapters::dolibarr {
namespace {

using events::DeliveryOutcome;

// The fields of a third party for `user`. On updates, absent attributes are sent empty so a
// removed email/phone/department is cleared in Dolibarr too.
ThirdPartyFields MapUser(const std::string& scim_id, const json::Value& user, bool create) {
  ThirdPartyFields fields;
  fields.name = PersonName(user);
  auto email = PrimaryValue(user, "emails");
  auto phone = PrimaryValue(user, "phoneNumbers");
  auto department = Department(user);
  if (email || !create) fields.email = email.value_or("");
  if (phone || !create) fields.phone = phone.value_or("");
  if (department || !create) fields.department = department.value_or("");
  fields.status = IsActive(user) ? 1 : 0;
  fields.ref_ext = scim_id;
  fields.customer_supplier_flags = create;
  return fields;
}

// The outcome of a failed call: a create Dolibarr refuses because of SOCIETE_EMAIL_UNIQUE is
// this record's failure (no retry can fix it), whatever its 500 says.
DeliveryOutcome OutcomeOf(const CallError& error) {
  if (error.code == kEmailTakenCode) return DeliveryOutcome::Failed(error.message);
  return error.ToOutcome();
}

}  // namespace

DolibarrAdapter::DolibarrAdapter(std::string name, std::set<std::string> resources,
                                 std::unique_ptr<DolibarrClient> client,
                                 std::chrono::seconds department_recheck)
    : name_(std::move(name)),
      resources_(std::move(resources)),
      client_(std::move(client)),
      department_recheck_(department_recheck) {}

CallResult<bool> DolibarrAdapter::CheckDepartmentField(bool has_department,
                                                       DeliveryOutcome& outcome) {
  using Clock = std::chrono::steady_clock;
  const std::string& field = client_->department_field();
  bool stale;
  {
    std::lock_guard<std::mutex> lock(department_mu_);
    stale = !department_checked_ || Clock::now() - department_checked_at_ >= department_recheck_;
  }
  if (stale) {
    auto defined = client_->ExtraFieldDefined();
    if (!defined.ok()) {
      // Dolibarr unwell: the delivery would fail the same way. Anything else (an older Dolibarr
      // without this endpoint): send the value as before and check again later.
      if (defined.error().Transient()) return defined.error();
    }
    std::lock_guard<std::mutex> lock(department_mu_);
    department_checked_ = true;
    department_checked_at_ = Clock::now();
    department_defined_ = defined.ok() ? *defined : std::nullopt;
    if (department_defined_.value_or(false)) {
      outcome.notices["department"] = std::nullopt;  // defined (again): nothing to report
      department_reported_ = false;
    } else if (!department_defined_) {
      outcome.notices["department"] =
          "cannot check whether Dolibarr defines the extra field '" + field + "' (" +
          (defined.ok() ? "the API key's user is not an admin" : defined.error().message) +
          "); department values are sent, and Dolibarr drops them silently if it does not";
    }
  }
  std::lock_guard<std::mutex> lock(department_mu_);
  if (department_defined_ != std::optional<bool>(false)) return true;
  if (has_department &&
      (!department_reported_ || Clock::now() - department_reported_at_ >= department_recheck_)) {
    outcome.notices["department"] = NotDefinedNotice();
    department_reported_ = true;
    department_reported_at_ = Clock::now();
  }
  return false;
}

bool DolibarrAdapter::Handles(const events::ChangeEvent& event) const {
  return resources_.contains(event.resource_type);
}

DeliveryOutcome DolibarrAdapter::Deliver(const events::ChangeEvent& event,
                                         const events::DeliveryContext& context) {
  if (event.resource_type != "User") return DeliveryOutcome::Delivered();
  auto payload = EventPayload::Parse(event);
  if (!payload.ok()) return DeliveryOutcome::Failed(payload.error().detail);

  if (event.kind == events::ChangeKind::kDeleted) {
    // A create whose link was never recorded (crash after the POST) left it under ref_ext.
    return DeleteLinkedOrFound(
        context.target_id, [&] { return client_->FindByRefExt(event.resource_id); },
        [&](const std::string& id) { return client_->Delete(id); });
  }

  const json::Value& user = *payload->resource();
  ThirdPartyFields update = MapUser(event.resource_id, user, /*create=*/false);
  if (update.name.empty()) {
    return DeliveryOutcome::Failed("user " + event.resource_id + " has no name to send");
  }
  // Notices found on the way ride on whatever outcome this delivery has.
  DeliveryOutcome noted;
  auto with_notices = [&noted](DeliveryOutcome outcome) {
    outcome.notices = std::move(noted.notices);
    return outcome;
  };
  auto send_department = CheckDepartmentField(Department(user).has_value(), noted);
  if (!send_department.ok()) return with_notices(OutcomeOf(send_department.error()));
  if (!*send_department) update.department.reset();

  if (context.target_id) {
    auto updated = client_->Update(*context.target_id, update);
    if (!updated.ok()) {
      return with_notices(UpdateFailure(*context.target_id, update, updated.error()));
    }
    if (updated->found) {
      LearnDepartmentField(*updated, Department(user).has_value(), noted);
      return with_notices(DeliveryOutcome::Delivered(context.target_id));
    }
    // 404: deleted in Dolibarr behind scimd's back; find or recreate it below.
  }

  std::optional<std::string> existing;
  const bool has_email = update.email && !update.email->empty();
  // The e-mail's holders, when known. One call asks for both (ref_ext = SCIM id, or the
  // e-mail), sorted by id: the first row whose ref_ext is the SCIM id is what the ref_ext
  // look-up alone would find (Dolibarr compares without case); without one, every row holds
  // the e-mail. A full page may have cut a ref_ext row off: then ask for it alone.
  std::optional<std::vector<ThirdParty>> holders;
  if (has_email) {
    constexpr int kLookupLimit = 10;
    auto both = client_->FindByRefExtOrEmail(event.resource_id, *update.email, kLookupLimit);
    if (!both.ok()) return with_notices(OutcomeOf(both.error()));
    if (*both) {
      const std::string scim_id = ToLower(event.resource_id);
      for (const ThirdParty& tp : **both) {
        if (ToLower(tp.ref_ext) == scim_id) {
          existing = tp.id;
          break;
        }
      }
      if (existing || (*both)->size() < static_cast<size_t>(kLookupLimit)) {
        holders = std::move(**both);
      }
    }
  }
  if (!existing && !holders) {
    auto by_ref = client_->FindByRefExt(event.resource_id);
    if (!by_ref.ok()) return with_notices(OutcomeOf(by_ref.error()));
    if (*by_ref) existing = (*by_ref)->id;
  }
  if (!existing && has_email) {
    if (!holders) {
      auto by_email = client_->FindAllByEmail(*update.email);
      if (!by_email.ok()) return with_notices(OutcomeOf(by_email.error()));
      holders = std::move(*by_email);
    }
    std::vector<std::string> ids, unowned;
    for (const ThirdParty& tp : *holders) {
      ids.push_back(tp.id);
      if (tp.ref_ext == event.resource_id) existing = tp.id;
      if (tp.ref_ext.empty()) unowned.push_back(tp.id);
    }
    if (!existing && ids.size() == 1 && unowned.size() == 1) {
      existing = unowned[0];  // one third party with this e-mail, no SCIM user's: adopt it
    } else if (!existing && ids.size() > 1) {
      // Which one is this user's? Guessing could merge two people; creating one more adds a
      // third twin. An operator decides (sets ref_ext of the right one, or merges them).
      std::string list;
      for (const std::string& id : ids) list += (list.empty() ? "" : ", ") + id;
      return with_notices(DeliveryOutcome::Failed(
          "conflict: Dolibarr third parties " + list + " share the e-mail " + *update.email +
          " and none has ref_ext " + event.resource_id +
          "; set that ref_ext on the one that is this user (or merge them), then retry"));
    }
    // One third party with this e-mail that another SCIM user owns: this user gets its own.
  }
  if (existing) {
    auto updated = client_->Update(*existing, update);
    if (!updated.ok()) return with_notices(UpdateFailure(*existing, update, updated.error()));
    if (updated->found) {
      LearnDepartmentField(*updated, Department(user).has_value(), noted);
      return with_notices(DeliveryOutcome::Delivered(existing));
    }
  }
  ThirdPartyFields create = MapUser(event.resource_id, user, /*create=*/true);
  if (!*send_department) create.department.reset();
  auto created = client_->Create(create);
  if (!created.ok()) return with_notices(OutcomeOf(created.error()));
  return with_notices(DeliveryOutcome::Delivered(*created));
}

void DolibarrAdapter::LearnDepartmentField(const UpdateAnswer& answer, bool has_department,
                                           DeliveryOutcome& outcome) {
  std::lock_guard<std::mutex> lock(department_mu_);
  // Only when the extra-field API could not tell (a key whose user is not an admin).
  if (!department_checked_ || department_defined_ || !answer.department_field_listed) return;
  department_defined_ = *answer.department_field_listed;
  department_checked_at_ = std::chrono::steady_clock::now();
  if (*department_defined_) {
    outcome.notices["department"] = std::nullopt;
    return;
  }
  outcome.notices["department"] = NotDefinedNotice();
  department_reported_ = has_department;
  department_reported_at_ = std::chrono::steady_clock::now();
}

std::string DolibarrAdapter::NotDefinedNotice() const {
  return "Dolibarr defines no extra field '" + client_->department_field() +
         "' for third parties; department values are not sent (add it in Dolibarr: Setup, "
         "Modules, Third parties, Extra attributes)";
}

DeliveryOutcome DolibarrAdapter::UpdateFailure(const std::string& id,
                                               const ThirdPartyFields& fields,
                                               const CallError& error) const {
  // Capture step `email_unique_put_dup`: an update to an e-mail another third party has, with
  // SOCIETE_EMAIL_UNIQUE set, is a bare 500 "Internal Server Error". Look for that holder.
  if (error.http_status == 500 && fields.email && !fields.email->empty()) {
    auto holders = client_->FindAllByEmail(*fields.email);
    if (holders.ok()) {
      std::string others;
      for (const ThirdParty& tp : *holders) {
        if (tp.id != id) others += (others.empty() ? "" : ", ") + tp.id;
      }
      if (!others.empty()) {
        return DeliveryOutcome::Failed(error.message + "; conflict: Dolibarr third party " +
                                       others + " already has the e-mail " + *fields.email +
                                       " (SOCIETE_EMAIL_UNIQUE refuses it on third party " + id +
                                       ")");
      }
    }
  }
  return OutcomeOf(error);
}

events::Expectation DolibarrAdapter::Expect(const events::ChangeEvent& current) const {
  events::Expectation expected;
  if (current.resource_type != "User" || !Handles(current)) return expected;
  auto payload = EventPayload::Parse(current);
  if (!payload.ok() || payload->resource() == nullptr) return expected;
  const json::Value& user = *payload->resource();
  expected.should_exist = !PersonName(user).empty();
  expected.natural_key = ToLower(PrimaryValue(user, "emails").value_or(""));
  return expected;
}

Result<events::RemoteInventory> DolibarrAdapter::Inventory(
    const std::vector<events::RemoteProbe>&) {
  auto all = client_->ListAll();
  if (!all.ok()) return Error(ErrorCode::kUnavailable, all.error().message);
  events::RemoteInventory inventory;
  for (const ThirdParty& tp : *all) {
    inventory.records.push_back({"User", tp.id, tp.ref_ext, ToLower(tp.email)});
  }
  return inventory;
}

}  // namespace scim::adapters::dolibarr
