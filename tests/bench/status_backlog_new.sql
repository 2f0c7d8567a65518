-- counts
SELECT status, CAST(SUM(n) AS BIGINT), COUNT(*) FROM delivery_counts WHERE target = 'events'
GROUP BY status
-- oldest
SELECT MIN((SELECT MIN(d.created) FROM deliveries d WHERE d.target = c.target
AND d.tenant = c.tenant AND d.status IN ('pending', 'in_flight') AND d.created IS NOT NULL)) FROM (SELECT target, tenant
FROM delivery_counts WHERE target = 'events' AND status IN ('pending', 'in_flight')
GROUP BY target, tenant HAVING SUM(n) > 0) c
-- blocked
SELECT COUNT(*) FROM (SELECT tenant, resource_id, MIN(seq) AS first_seq FROM deliveries
WHERE target = 'events' AND status = 'failed' AND blocks_resource = 1 GROUP BY tenant, resource_id) f
JOIN deliveries d ON d.target = 'events' AND d.tenant = f.tenant AND d.resource_id = f.resource_id
AND d.seq > f.first_seq AND d.status <> 'delivered' AND d.status = 'pending'
-- last_error
SELECT last_error FROM deliveries WHERE id IN (SELECT (SELECT e.id FROM deliveries e
WHERE e.target = c.target AND e.tenant = c.tenant AND e.last_error IS NOT NULL
AND e.status IN ('pending', 'in_flight', 'failed') ORDER BY e.updated DESC, e.id DESC LIMIT 1)
FROM (SELECT target, tenant FROM delivery_counts WHERE target = 'events'
AND status IN ('pending', 'in_flight', 'failed') GROUP BY target, tenant HAVING SUM(n) > 0) c)
ORDER BY updated DESC, id DESC LIMIT 1
-- outbox_depth
SELECT (SELECT COUNT(*) FROM outbox WHERE seq > (SELECT MIN(scanned_seq) FROM target_cursors))
+ (SELECT COUNT(*) FROM (SELECT DISTINCT seq FROM deliveries WHERE status IN ('pending', 'in_flight')
AND created IS NOT NULL AND seq <= (SELECT MIN(scanned_seq) FROM target_cursors)) y)
-- blocked, one tenant (the admin API)
SELECT COUNT(*) FROM (SELECT tenant, resource_id, MIN(seq) AS first_seq FROM deliveries
WHERE target = 'events' AND status = 'failed' AND blocks_resource = 1 AND tenant = 'default'
GROUP BY tenant, resource_id) f
JOIN deliveries d ON d.target = 'events' AND d.tenant = f.tenant AND d.resource_id = f.resource_id
AND d.seq > f.first_seq AND d.status <> 'delivered' AND d.status = 'pending'
