-- 17_expiry.sql — documents that expire: a collection's time to live, and the purge.
--
-- A document past its expires_at is gone for every read at once (vecpg.where_sql, in every
-- search and in the Python reads); the purge deletes it later, a small batch per call, through
-- the table's own DELETE triggers, so the keyword statistics, the keyword index's postings, the
-- chunks and the mirror's outbox follow as for any delete.

-- A row written to a collection with a TTL (TG_ARGV[0]) without an expiry of its own gets one:
-- an insert, and an upsert that brings none (the TTL restarts at each write of the document),
-- while an update that leaves expires_at as it was (metadata, the embedding worker) keeps it.
CREATE OR REPLACE FUNCTION vecpg.expire_by_ttl()
RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
BEGIN
    IF NEW.expires_at IS NULL THEN
        NEW.expires_at := now() + TG_ARGV[0]::interval;
    END IF;
    RETURN NEW;
END
$$;

-- A collection's expiry part: a partial index on expires_at (what the purge reads; only rows
-- that expire are in it) and, when the collection has a TTL, the trigger that applies it.
CREATE OR REPLACE FUNCTION vecpg.expiry_objects(collection text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
BEGIN
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I.%I (expires_at) WHERE expires_at IS NOT NULL',
                   left(c.name, 48) || '_expires_idx', c.schema_name, c.table_name);
    EXECUTE format('DROP TRIGGER IF EXISTS expire_by_ttl ON %I.%I', c.schema_name, c.table_name);
    IF c.ttl IS NOT NULL THEN
        EXECUTE format('CREATE TRIGGER expire_by_ttl BEFORE INSERT OR UPDATE ON %I.%I '
                       'FOR EACH ROW EXECUTE FUNCTION vecpg.expire_by_ttl(%L)', c.schema_name, c.table_name, c.ttl::text);
    END IF;
END
$$;

-- Set (or with NULL, clear) a collection's TTL. It applies to the documents written from now
-- on; with apply_to_existing, every visible document without an expiry gets one too, counted
-- from its last update (one UPDATE: the mirror copies the new expiries). Returns the number of
-- documents given an expiry.
CREATE OR REPLACE FUNCTION vecpg.set_ttl(collection text, ttl interval, apply_to_existing boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    kept text := current_setting('vecpg.keep_updated_at', true);
    n bigint := 0;
BEGIN
    IF ttl IS NOT NULL AND ttl <= interval '0' THEN
        RAISE EXCEPTION 'invalid ttl %: must be positive', ttl USING ERRCODE = 'VP005';
    END IF;
    UPDATE vecpg.collection x SET ttl = set_ttl.ttl WHERE x.name = c.name;
    PERFORM vecpg.expiry_objects(c.name);
    IF apply_to_existing AND ttl IS NOT NULL THEN
        -- Giving a row its expiry is not an edit of the document: updated_at stays.
        PERFORM set_config('vecpg.keep_updated_at', 'on', true);
        EXECUTE format('UPDATE %I.%I SET expires_at = updated_at + $1 WHERE expires_at IS NULL',
                       c.schema_name, c.table_name) USING ttl;
        GET DIAGNOSTICS n = ROW_COUNT;
        PERFORM set_config('vecpg.keep_updated_at', coalesce(kept, ''), true);
    END IF;
    RETURN n;
END
$$;
COMMENT ON FUNCTION vecpg.set_ttl(text, interval, boolean) IS
    'Set or clear (NULL) how long a collection''s documents live after their last write';

-- Delete up to batch_size expired documents of a collection (those row-level security shows the
-- caller), skipping rows another transaction holds, and return how many went. Each call is one
-- short transaction of its own: call it until it returns less than batch_size (vecpg maintain
-- does). Rows are found through the partial index and deleted by their physical address.
CREATE OR REPLACE FUNCTION vecpg.purge_expired(collection text, batch_size integer DEFAULT 1000)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    tbl regclass := format('%I.%I', c.schema_name, c.table_name)::regclass;
    leaf regclass;
    n bigint;
    purged bigint := 0;
BEGIN
    IF batch_size IS NULL OR batch_size NOT BETWEEN 1 AND 100000 THEN
        RAISE EXCEPTION 'invalid batch_size %: must be between 1 and 100000', batch_size USING ERRCODE = 'VP005';
    END IF;
    -- Through the collection table (its statement triggers fire), one leaf table at a time: a
    -- TID scan needs ctids of one table (a collection partitioned by tenant repeats them). A
    -- plain table is its own leaf (pg_partition_tree lists nothing for it).
    FOR leaf IN SELECT t.relid FROM pg_partition_tree(tbl) t WHERE t.isleaf
                UNION ALL SELECT tbl WHERE NOT EXISTS (SELECT FROM pg_partitioned_table p WHERE p.partrelid = tbl)
                ORDER BY 1 LOOP
        EXIT WHEN purged >= batch_size;
        EXECUTE format('DELETE FROM %s d WHERE d.tableoid = $2 AND d.ctid = ANY (ARRAY('
                       'SELECT x.ctid FROM ONLY %s x WHERE x.expires_at <= now() LIMIT $1 FOR UPDATE SKIP LOCKED))',
                       tbl, leaf) USING batch_size - purged, leaf;
        GET DIAGNOSTICS n = ROW_COUNT;
        purged := purged + n;
    END LOOP;
    RETURN purged;
END
$$;
COMMENT ON FUNCTION vecpg.purge_expired(text, integer) IS
    'Delete up to batch_size expired documents of a collection; returns how many';

-- How many of a collection's documents have expired and wait for the purge (doctor reads it).
CREATE OR REPLACE FUNCTION vecpg.expired_count(collection text)
RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    n bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM %I.%I WHERE expires_at <= now()', c.schema_name, c.table_name) INTO n;
    RETURN n;
END
$$;
COMMENT ON FUNCTION vecpg.expired_count(text) IS 'How many of a collection''s documents have expired and wait for the purge';
