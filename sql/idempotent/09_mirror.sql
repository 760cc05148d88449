-- 09_mirror.sql — change capture for the Qdrant mirror.
--
-- Triggers on a mirrored collection record, in the writing transaction, the id of every
-- document whose mirrored fields (title, content, embedding, metadata, tenant_id) changed, from
-- any client: psql, the ORM, COPY, another language. The sync (vecpg mirror sync) copies each
-- id's *current* state to Qdrant, so replaying or reordering events can never bring back an old
-- version; it deletes what no longer exists or has no vector yet. An event without an id (on
-- enabling, TRUNCATE, or vecpg.rebuild_mirror) asks for the whole collection to be copied again.

-- Statement-level, with transition tables: one INSERT into the outbox per statement. SECURITY
-- DEFINER so that writers append to an outbox they may not read (it names every tenant's ids).
CREATE OR REPLACE FUNCTION vecpg.mirror_capture()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
DECLARE
    coll text := TG_ARGV[0];
    written bigint;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO vecpg.mirror_outbox (collection, doc_id) VALUES (coll, NULL);
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO vecpg.mirror_outbox (collection, doc_id) SELECT coll, n.id FROM new_rows n ORDER BY n.id;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO vecpg.mirror_outbox (collection, doc_id) SELECT coll, o.id FROM old_rows o ORDER BY o.id;
    ELSE
        -- An update that changes nothing the mirror holds (updated_at aside) is not an event; a
        -- changed id is two: the old id goes, the new one comes.
        INSERT INTO vecpg.mirror_outbox (collection, doc_id)
        SELECT coll, coalesce(n.id, o.id)
        FROM old_rows o FULL JOIN new_rows n ON n.id = o.id
        WHERE (o.title, o.content, o.embedding, o.metadata, o.tenant_id, o.expires_at)
              IS DISTINCT FROM (n.title, n.content, n.embedding, n.metadata, n.tenant_id, n.expires_at)
        ORDER BY 2;
    END IF;
    GET DIAGNOSTICS written = ROW_COUNT;
    IF written > 0 THEN
        PERFORM pg_notify('vecpg_mirror', coll);  -- wakes `vecpg mirror sync --follow`
    END IF;
    RETURN NULL;
END
$$;

-- A collection's mirror part: the capture triggers when it is mirrored, none when it is not.
CREATE OR REPLACE FUNCTION vecpg.mirror_objects(collection text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    event text;
BEGIN
    IF EXISTS (SELECT 1 FROM vecpg.mirror m WHERE m.collection = c.name) THEN
        PERFORM vecpg.statement_triggers(c, 'mirror', 'vecpg.mirror_capture', 'OLD TABLE AS old_rows NEW TABLE AS new_rows');
        EXECUTE format('DROP TRIGGER IF EXISTS mirror_truncate ON %I.%I', c.schema_name, c.table_name);
        EXECUTE format('CREATE TRIGGER mirror_truncate AFTER TRUNCATE ON %I.%I FOR EACH STATEMENT '
                       'EXECUTE FUNCTION vecpg.mirror_capture(%L)', c.schema_name, c.table_name, c.name);
    ELSE
        FOREACH event IN ARRAY ARRAY['insert', 'update', 'delete', 'truncate'] LOOP
            EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I.%I', 'mirror_' || event, c.schema_name, c.table_name);
        END LOOP;
    END IF;
END
$$;

-- The settings of a mirror's Qdrant collection, checked: HNSW m and ef_construct, optional int8
-- scalar quantization (quantile, always_ram), metadata keys to index, whether content is copied.
CREATE OR REPLACE FUNCTION vecpg.check_mirror_settings(settings jsonb)
RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
DECLARE
    unknown text;
BEGIN
    settings := coalesce(settings, '{}');
    IF jsonb_typeof(settings) <> 'object' THEN
        RAISE EXCEPTION 'mirror settings must be a JSON object' USING ERRCODE = 'VP005';
    END IF;
    SELECT string_agg(k, ', ') INTO unknown FROM jsonb_object_keys(settings) AS k
    WHERE k NOT IN ('m', 'ef_construct', 'quantization', 'quantile', 'always_ram', 'payload_indexes', 'content',
                    'shard_number', 'replication_factor', 'write_consistency_factor', 'shard_by_tenant');
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'unknown mirror setting(s): % (allowed: m, ef_construct, quantization, quantile, always_ram, '
                        'payload_indexes, content, shard_number, replication_factor, write_consistency_factor, '
                        'shard_by_tenant)', unknown USING ERRCODE = 'VP005';
    END IF;
    PERFORM vecpg._int_param(settings, 'm', 16, 2, 100), vecpg._int_param(settings, 'ef_construct', 64, 4, 1000),
            vecpg._int_param(settings, 'shard_number', 1, 1, 1000);
    -- A Qdrant cluster's layout (docs/qdrant-cluster.md): a write needs at most as many replicas as exist.
    IF vecpg._int_param(settings, 'write_consistency_factor', 1, 1, 100)
       > vecpg._int_param(settings, 'replication_factor', 1, 1, 100) THEN
        RAISE EXCEPTION 'write_consistency_factor must not exceed replication_factor' USING ERRCODE = 'VP005';
    END IF;
    IF coalesce(settings->>'quantization', 'int8') <> 'int8' THEN
        RAISE EXCEPTION 'quantization must be int8 (or absent)' USING ERRCODE = 'VP005';
    END IF;
    IF settings ? 'quantile' AND (jsonb_typeof(settings->'quantile') <> 'number'
                                 OR (settings->>'quantile')::numeric NOT BETWEEN 0.5 AND 1) THEN
        RAISE EXCEPTION 'quantile must be a number between 0.5 and 1' USING ERRCODE = 'VP005';
    END IF;
    IF (settings ? 'always_ram' AND jsonb_typeof(settings->'always_ram') <> 'boolean')
       OR (settings ? 'content' AND jsonb_typeof(settings->'content') <> 'boolean')
       OR (settings ? 'shard_by_tenant' AND jsonb_typeof(settings->'shard_by_tenant') <> 'boolean') THEN
        RAISE EXCEPTION 'always_ram, content and shard_by_tenant must be true or false' USING ERRCODE = 'VP005';
    END IF;
    IF settings ? 'payload_indexes' AND (jsonb_typeof(settings->'payload_indexes') <> 'array'
       OR EXISTS (SELECT 1 FROM jsonb_array_elements(settings->'payload_indexes') e WHERE jsonb_typeof(e) <> 'string')) THEN
        RAISE EXCEPTION 'payload_indexes must be an array of metadata keys' USING ERRCODE = 'VP005';
    END IF;
    RETURN settings;
END
$$;

-- Mirror a collection to Qdrant (or change its settings): capture starts in this transaction,
-- and the first sync copies every document that exists by then.
CREATE OR REPLACE FUNCTION vecpg.enable_mirror(collection text, settings jsonb DEFAULT '{}')
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
BEGIN
    settings := vecpg.check_mirror_settings(settings);
    INSERT INTO vecpg.mirror AS m (collection, settings) VALUES (c.name, settings)
    ON CONFLICT ON CONSTRAINT mirror_pkey DO UPDATE SET settings = EXCLUDED.settings;
    PERFORM vecpg.mirror_objects(c.name);
    PERFORM vecpg.rebuild_mirror(c.name);
END
$$;
COMMENT ON FUNCTION vecpg.enable_mirror(text, jsonb) IS
    'Mirror a collection to Qdrant (settings: m, ef_construct, quantization int8, quantile, always_ram, payload_indexes, '
    'content; on a Qdrant cluster shard_number, replication_factor, write_consistency_factor, shard_by_tenant)';

-- Ask the next sync to copy the whole collection again (its Qdrant collection is recreated).
CREATE OR REPLACE FUNCTION vecpg.rebuild_mirror(collection text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
    IF NOT EXISTS (SELECT 1 FROM vecpg.mirror m WHERE m.collection = collection) THEN
        PERFORM vecpg.get_collection(collection);  -- VP001 for an unknown collection
        RAISE EXCEPTION 'collection "%" is not mirrored', collection
            USING ERRCODE = 'VP005', HINT = 'SELECT vecpg.enable_mirror(...) starts mirroring it';
    END IF;
    INSERT INTO vecpg.mirror_outbox (collection, doc_id) VALUES (collection, NULL);
    PERFORM pg_notify('vecpg_mirror', collection);
END
$$;

CREATE OR REPLACE FUNCTION vecpg.disable_mirror(collection text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    had boolean;
BEGIN
    DELETE FROM vecpg.mirror m WHERE m.collection = c.name;  -- and its outbox, by cascade
    had := FOUND;
    PERFORM vecpg.mirror_objects(c.name);
    RETURN had;
END
$$;
COMMENT ON FUNCTION vecpg.disable_mirror(text) IS 'Stop mirroring a collection; false when it was not mirrored';

-- Per mirrored collection: events waiting, the oldest one's time and age, whether a full copy is
-- due. SECURITY DEFINER: searches through the mirror check its lag as any reader, and these
-- counts tell nothing of the ids in the outbox.
CREATE OR REPLACE FUNCTION vecpg.mirror_status()
RETURNS TABLE (collection text, backlog bigint, oldest timestamptz, lag interval, full_copy_pending boolean)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT m.collection, count(o.seq), min(o.at), now() - min(o.at),
           coalesce(bool_or(o.seq IS NOT NULL AND o.doc_id IS NULL), false)  -- NULLs of the outer join are no event
    FROM vecpg.mirror m LEFT JOIN vecpg.mirror_outbox o ON o.collection = m.collection
    GROUP BY m.collection ORDER BY m.collection
$$;
COMMENT ON FUNCTION vecpg.mirror_status() IS 'Backlog, oldest unsynced event and lag of each mirrored collection';
