-- Reverts 011_embedding_queue.sql: the status view, chunk tables and the queue's triggers first
-- (they use functions the older layer lacks), then the tables and the catalog columns.
DROP VIEW IF EXISTS vecpg.embedding_status;
DO $unqueue$
DECLARE
    c record;
    name text;
BEGIN
    FOR c IN SELECT * FROM vecpg.collection LOOP
        IF c.chunk_tokens IS NOT NULL THEN
            EXECUTE format('DROP TABLE IF EXISTS %I.%I', c.schema_name, vecpg.chunk_table(c.name));
        END IF;
        FOREACH name IN ARRAY ARRAY['embedding_stale', 'embedding_insert', 'embedding_update', 'embedding_delete',
                                    'embedding_truncate'] LOOP
            EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I.%I', name, c.schema_name, c.table_name);
        END LOOP;
    END LOOP;
END
$unqueue$;
DROP TABLE vecpg.ingest_checkpoint;
DROP TABLE vecpg.embedding_log;
DROP TABLE vecpg.embedding_queue;
ALTER TABLE vecpg.collection DROP COLUMN embedder, DROP COLUMN chunk_tokens, DROP COLUMN chunk_overlap,
    DROP COLUMN quantization, DROP COLUMN search_defaults, DROP COLUMN tuning;
