-- ingest_checkpoint_get: how far the ingest of a file (source) into a collection got, for the
-- tenant of the transaction ('' without one). Row-level security shows a tenant only its own
-- checkpoints; the tenant_key test keeps roles it does not bind (superusers) to theirs too.
SELECT fingerprint, records, finished_at IS NOT NULL AS finished
FROM vecpg.ingest_checkpoint
WHERE collection = %(collection)s
  AND source = %(source)s
  AND tenant_key = coalesce(vecpg.current_tenant(), '')
