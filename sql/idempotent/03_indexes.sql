-- 03_indexes.sql — a collection's pgvector index (HNSW or IVFFlat): build, inspect, rebuild, drop.
--
-- Builds raise maintenance_work_mem and parallel workers for their own transaction only.

CREATE OR REPLACE FUNCTION vecpg.index_info(collection text)
RETURNS TABLE (index_name text, method text, definition text, size_bytes bigint)
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
BEGIN
    RETURN QUERY
    SELECT i.relname::text, am.amname::text, pg_get_indexdef(i.oid), pg_relation_size(i.oid)
    FROM pg_index x
    JOIN pg_class i ON i.oid = x.indexrelid
    JOIN pg_am am ON am.oid = i.relam
    WHERE x.indrelid = format('%I.%I', c.schema_name, c.table_name)::regclass
      AND am.amname IN ('hnsw', 'ivfflat')
    ORDER BY 1;
END
$$;
COMMENT ON FUNCTION vecpg.index_info(text) IS 'Vector indexes of a collection with their sizes';

CREATE OR REPLACE FUNCTION vecpg.drop_index(collection text)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    ix record;
    dropped integer := 0;
BEGIN
    FOR ix IN SELECT * FROM vecpg.index_info(collection) LOOP
        EXECUTE format('DROP INDEX %I.%I', c.schema_name, ix.index_name);
        dropped := dropped + 1;
    END LOOP;
    RETURN dropped;
END
$$;
COMMENT ON FUNCTION vecpg.drop_index(text) IS 'Drop the vector index of a collection; returns how many were dropped';

-- Index builds are memory- and CPU-bound: give this transaction, and only it, more of both.
CREATE OR REPLACE FUNCTION vecpg._raise_build_resources(params jsonb)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
DECLARE
    mem text := coalesce(params->>'maintenance_work_mem', '1GB');
    workers integer;
BEGIN
    IF pg_size_bytes(mem) > pg_size_bytes(current_setting('maintenance_work_mem')) THEN
        PERFORM set_config('maintenance_work_mem', mem, true);
    END IF;
    workers := coalesce((params->>'parallel_workers')::integer,
                        least(current_setting('max_parallel_workers')::integer, 7));
    PERFORM set_config('max_parallel_maintenance_workers', workers::text, true);
END
$$;

CREATE OR REPLACE FUNCTION vecpg.create_index(collection text, method text DEFAULT 'hnsw', params jsonb DEFAULT '{}')
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    opclass text;
    with_clause text;
    rows bigint;
    lists integer;
    m integer;
    efc integer;
    unknown text;
    allowed text[];
    index_name text;
BEGIN
    method := lower(coalesce(method, 'hnsw'));
    params := coalesce(params, '{}');
    IF jsonb_typeof(params) <> 'object' THEN
        RAISE EXCEPTION 'index params must be a JSON object' USING ERRCODE = 'VP005';
    END IF;
    IF method = 'hnsw' THEN
        allowed := ARRAY['m', 'ef_construction', 'maintenance_work_mem', 'parallel_workers'];
    ELSIF method = 'ivfflat' THEN
        allowed := ARRAY['lists', 'maintenance_work_mem', 'parallel_workers'];
    ELSE
        RAISE EXCEPTION 'unknown index method %: use hnsw or ivfflat', quote_literal(method)
            USING ERRCODE = 'VP005';
    END IF;
    SELECT string_agg(k, ', ') INTO unknown FROM jsonb_object_keys(params) AS k WHERE k <> ALL (allowed);
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'unknown % parameter(s): % (allowed: %)', method, unknown, array_to_string(allowed, ', ')
            USING ERRCODE = 'VP005';
    END IF;

    IF method = 'hnsw' THEN
        m := vecpg._int_param(params, 'm', 16, 2, 100);
        efc := vecpg._int_param(params, 'ef_construction', 64, 4, 1000);
        IF efc < 2 * m THEN
            RAISE EXCEPTION 'ef_construction (%) must be at least twice m (%)', efc, m USING ERRCODE = 'VP005';
        END IF;
        with_clause := format('m = %s, ef_construction = %s', m, efc);
    ELSE
        EXECUTE format('SELECT count(*) FROM %I.%I WHERE embedding IS NOT NULL', c.schema_name, c.table_name)
            INTO rows;
        -- pgvector's guidance: rows/1000 lists up to a million rows, sqrt(rows) beyond.
        lists := vecpg._int_param(params, 'lists',
                     CASE WHEN rows <= 1000000 THEN greatest(1, rows / 1000)::integer
                          ELSE floor(sqrt(rows))::integer END,
                     1, 32768);
        with_clause := format('lists = %s', lists);
    END IF;

    opclass := vecpg.vector_opclass(c.distance);
    PERFORM vecpg.drop_index(collection);
    PERFORM vecpg._raise_build_resources(params);
    index_name := left(c.table_name, 48) || '_embedding_' || method;
    EXECUTE format('CREATE INDEX %I ON %I.%I USING %s (embedding %s) WITH (%s)',
                   index_name, c.schema_name, c.table_name, method, opclass, with_clause);
    RETURN index_name;
END
$$;
COMMENT ON FUNCTION vecpg.create_index(text, text, jsonb) IS
    'Build the vector index of a collection (hnsw: m, ef_construction; ivfflat: lists), replacing any other';

CREATE OR REPLACE FUNCTION vecpg.rebuild_index(collection text)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    ix record;
    rebuilt integer := 0;
BEGIN
    PERFORM vecpg._raise_build_resources('{}');
    FOR ix IN SELECT * FROM vecpg.index_info(collection) LOOP
        EXECUTE format('REINDEX INDEX %I.%I', c.schema_name, ix.index_name);
        rebuilt := rebuilt + 1;
    END LOOP;
    RETURN rebuilt;
END
$$;
COMMENT ON FUNCTION vecpg.rebuild_index(text) IS 'Rebuild the vector index of a collection in place';
