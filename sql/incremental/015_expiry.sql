-- 015_expiry.sql — documents that expire, and collections with a time to live (revision 0013).
--
-- Incremental: runs once, frozen after release. A document past its expires_at is gone for every
-- read at once (vecpg.where_sql in the idempotent layer); `vecpg maintain` / vecpg.purge_expired
-- delete it later, in small batches. The per-collection index and TTL trigger come from the
-- layer's vecpg.expiry_objects, run for every collection at the end of the upgrade.

-- How long a document of the collection lives after its last write when it brings no expiry of
-- its own; NULL: documents live until deleted (or until their own expires_at).
ALTER TABLE vecpg.collection ADD COLUMN ttl interval
    CONSTRAINT collection_ttl_check CHECK (ttl > interval '0');

-- Every existing collection table gets the column (new ones have it from create_collection).
DO $columns$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT schema_name, table_name FROM vecpg.collection ORDER BY name LOOP
        EXECUTE format('ALTER TABLE %I.%I ADD COLUMN expires_at timestamptz', c.schema_name, c.table_name);
    END LOOP;
END
$columns$;
