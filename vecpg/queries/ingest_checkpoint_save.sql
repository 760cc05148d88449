-- ingest_checkpoint_save: record that the first %(records)s records of a file are committed,
-- in the transaction that commits them, and whether that is the whole file. tenant_key takes
-- its default, the tenant of the transaction. The row changes only if it still holds what this
-- ingest last saw (%(was_*)s; all NULL: no row): no row changed means that another ingest of
-- the file committed meanwhile, and the caller rolls its chunk back.
INSERT INTO vecpg.ingest_checkpoint AS c (collection, source, fingerprint, records, finished_at)
VALUES (%(collection)s, %(source)s, %(fingerprint)s, %(records)s, CASE WHEN %(finished)s THEN now() END)
ON CONFLICT (collection, tenant_key, source) DO UPDATE
SET fingerprint = EXCLUDED.fingerprint,
    records = EXCLUDED.records,
    updated_at = now(),
    finished_at = EXCLUDED.finished_at
WHERE (c.fingerprint, c.records, c.finished_at IS NOT NULL)
      IS NOT DISTINCT FROM (%(was_fingerprint)s::text, %(was_records)s::bigint, %(was_finished)s::boolean)
