-- Tenant fairness of claims (issue 11, store/delivery_claim.cc): the tenants with pending rows of
-- a target are found by a loose index scan (one MIN(tenant) > previous probe per tenant), and
-- each tenant's oldest due rows by walking its own part of this index in seq order.
CREATE INDEX deliveries_tenant_pending ON deliveries (target, tenant, seq, next_attempt_at)
  WHERE status = 'pending';
