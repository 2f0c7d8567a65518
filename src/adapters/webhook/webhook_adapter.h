#pragma once
// Publishes every change to Users and Groups as an RFC 9967 SCIM event inside a signed Security
// Event Token (RFC 8417), pushed per RFC 8935 (contract: events-and-webhooks.md).
//
// Claims: iss (setting `issuer`, default "scimd"), iat (now), jti (the delivery's idempotency key:
// identical on every retry, unique per event and target, so receivers dedupe on it), aud (setting
// `audience`, when set), txn (the outbox sequence: shared by the SETs of one change), toe (the
// commit time), sub_id {"format":"scim","uri":"/Users/<id>" or "/Groups/<id>"[,"externalId"]},
// and one event:
//   created  → urn:ietf:params:scim:event:prov:create:full {"data": resource, "version"}
//   replaced → urn:ietf:params:scim:event:prov:put:full    {"data": resource, "version"}
//   patched  → urn:ietf:params:scim:event:prov:patch:full  {"data": PatchOp, "version"}
//   deleted  → urn:ietf:params:scim:event:prov:delete      {}
// and, in the same SET, urn:ietf:params:scim:event:prov:activate / prov:deactivate {} when a
// replace or patch flipped a User's `active` (payload "active_before", scim/events/change_event.h;
// RFC 9967 §2.1: several event URIs in one SET describe one state change).
// The outbox keeps the resource after a patch, not the request, so the PatchOp sent is an
// equivalent one: a path-less replace of the resource's attributes plus member add/remove
// operations from the member delta. Group resources get "members" from the delta where it is
// complete (creates and whole-list replacements).

#include <memory>
#include <optional>
#include <set>
#include <string>

#include "adapters/webhook/set_signer.h"
#include "adapters/webhook/webhook_client.h"
#include "scim/events/target_adapter.h"

namespace scim::adapters::webhook {

struct SetOptions {
  std::string issuer = "scimd";
  std::optional<std::string> audience;  // one value, or several separated by commas
  std::optional<std::string> key_id;    // JOSE `kid`
};

class WebhookAdapter : public events::TargetAdapter {
 public:
  WebhookAdapter(std::string name, std::set<std::string> resources, SetOptions options,
                 std::unique_ptr<SetSigner> signer, std::unique_ptr<WebhookClient> client);

  std::string_view Name() const override { return name_; }
  std::string_view Type() const override { return "webhook"; }
  bool Handles(const events::ChangeEvent& event) const override;
  // A subscriber receives every change as its own SET (product.md): never coalesced.
  bool Coalesces() const override { return false; }

  // Builds, signs and pushes the SET. Nothing is linked (target_id stays empty).
  events::DeliveryOutcome Deliver(const events::ChangeEvent& event,
                                  const events::DeliveryContext& context) override;

  // The unsigned claims of the SET for `event` at time `iat` (exposed for tests and logs).
  Result<std::string> BuildClaims(const events::ChangeEvent& event,
                                  const events::DeliveryContext& context, int64_t iat) const;

 private:
  std::string name_;
  std::set<std::string> resources_;
  SetOptions options_;
  std::unique_ptr<SetSigner> signer_;
  std::unique_ptr<WebhookClient> client_;
};

}  // namespace scim::adapters::webhook
