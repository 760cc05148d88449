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
    IF c.quantization IS NOT NULL THEN  -- searches order by the vectors themselves again
        UPDATE vecpg.collection x SET quantization = NULL WHERE x.name = c.name;
        PERFORM vecpg.keyword_index_objects(c.name);
    END IF;
    PERFORM vecpg.reset_search_defaults(c.name);  -- they were chosen for the index just dropped (12_tuning.sql)
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

-- What a new index of collection c is built on: the quantization asked for ('none', 'halfvec',
-- 'binary'), or without one what pgvector can index at c's dimension: vectors up to 2,000
-- dimensions, halfvec up to 4,000, binary codes (with re-ranking) above.
CREATE OR REPLACE FUNCTION vecpg.index_quantization(c vecpg.collection, asked text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
BEGIN
    IF asked IS NULL THEN
        RETURN CASE WHEN c.dimension <= 2000 THEN NULL WHEN c.dimension <= 4000 THEN 'halfvec' ELSE 'binary' END;
    END IF;
    IF asked NOT IN ('none', 'halfvec', 'binary') THEN
        RAISE EXCEPTION 'unknown quantization %: use none, halfvec or binary', quote_literal(asked) USING ERRCODE = 'VP005';
    END IF;
    IF asked = 'none' AND c.dimension > 2000 THEN
        RAISE EXCEPTION 'pgvector indexes vectors of up to 2000 dimensions, collection "%" has %: use halfvec '
                        '(up to 4000) or binary quantization', c.name, c.dimension USING ERRCODE = 'VP005';
    END IF;
    IF asked = 'halfvec' AND c.dimension > 4000 THEN
        RAISE EXCEPTION 'pgvector indexes halfvec of up to 4000 dimensions, collection "%" has %: use binary '
                        'quantization', c.name, c.dimension USING ERRCODE = 'VP005';
    END IF;
    RETURN nullif(asked, 'none');
END
$$;

-- The indexed expression and operator class for a quantization: what nearest_sql orders by.
CREATE OR REPLACE FUNCTION vecpg.index_expression(c vecpg.collection, quantization text)
RETURNS text
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT CASE quantization
        WHEN 'halfvec' THEN format('(embedding::%1$I.halfvec(%2$s)) %1$I.%3$I', vecpg.vector_schema(), c.dimension,
                                   'halfvec_' || CASE c.distance WHEN 'cosine' THEN 'cosine' WHEN 'l2' THEN 'l2'
                                                                 ELSE 'ip' END || '_ops')
        WHEN 'binary' THEN format('(%1$I.binary_quantize(embedding)::bit(%2$s)) %1$I.bit_hamming_ops',
                                  vecpg.vector_schema(), c.dimension)
        ELSE 'embedding ' || vecpg.vector_opclass(c.distance)
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
    with_clause text;
    rows bigint;
    lists integer;
    m integer;
    efc integer;
    unknown text;
    allowed text[];
    index_name text;
    quant text;
BEGIN
    method := lower(coalesce(method, 'hnsw'));
    params := coalesce(params, '{}');
    IF jsonb_typeof(params) <> 'object' THEN
        RAISE EXCEPTION 'index params must be a JSON object' USING ERRCODE = 'VP005';
    END IF;
    IF method = 'hnsw' THEN
        allowed := ARRAY['m', 'ef_construction', 'quantization', 'maintenance_work_mem', 'parallel_workers'];
    ELSIF method = 'ivfflat' THEN
        allowed := ARRAY['lists', 'quantization', 'maintenance_work_mem', 'parallel_workers'];
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

    quant := vecpg.index_quantization(c, params->>'quantization');
    PERFORM vecpg.drop_index(collection);
    PERFORM vecpg._raise_build_resources(params);
    index_name := left(c.table_name, 48) || '_embedding_' || method;
    EXECUTE format('CREATE INDEX %I ON %I.%I USING %s (%s) WITH (%s)',
                   index_name, c.schema_name, c.table_name, method, vecpg.index_expression(c, quant), with_clause);
    UPDATE vecpg.collection x SET quantization = quant WHERE x.name = c.name;
    -- The keyword index's search function has the vector list written in: write it again.
    PERFORM vecpg.keyword_index_objects(c.name);
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
