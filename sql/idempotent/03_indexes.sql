-- 03_indexes.sql — a collection's pgvector index (HNSW or IVFFlat): build, inspect, rebuild, drop.
--
-- One DDL builder, vecpg.index_ddl, writes the CREATE INDEX statement for both kinds of build:
-- vecpg.create_index runs it here, in the caller's transaction, with maintenance_work_mem and
-- parallel workers raised for that transaction only (vecpg.build_settings says how much);
-- CREATE INDEX CONCURRENTLY cannot run in a function or a transaction, so for a build that does
-- not block writers Python asks for the statement and runs it on an autocommit connection, with
-- the same settings for that session only (vecpg/index/builds.py).

CREATE OR REPLACE FUNCTION vecpg.index_info(collection text, named text DEFAULT NULL)
RETURNS TABLE (index_name text, method text, definition text, size_bytes bigint, valid boolean)
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
BEGIN
    -- valid is false while a concurrent build runs and after one failed: searches do not use
    -- the index, writes still maintain it, and a rebuild (or a new create_index) replaces it.
    RETURN QUERY
    SELECT i.relname::text, am.amname::text, pg_get_indexdef(i.oid), vecpg.tree_size(i.oid), x.indisvalid
    FROM pg_index x
    JOIN pg_class i ON i.oid = x.indexrelid
    JOIN pg_am am ON am.oid = i.relam
    WHERE x.indrelid = format('%I.%I', c.schema_name, c.table_name)::regclass
      AND am.amname IN ('hnsw', 'ivfflat')
      AND (named IS NULL OR i.relname = named)
    ORDER BY 1;
END
$$;
COMMENT ON FUNCTION vecpg.index_info(text, text) IS
    'Vector indexes of a collection (or the one named) with their sizes and whether they are valid';

CREATE OR REPLACE FUNCTION vecpg.index_name(collection text, method text DEFAULT 'hnsw', building boolean DEFAULT false)
RETURNS text
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
BEGIN
    method := lower(coalesce(method, 'hnsw'));
    -- Cast to name: truncated to 63 bytes the way PostgreSQL truncates the identifier it creates.
    -- While a concurrent build replaces an index of the same name, it is built under another.
    IF building THEN
        RETURN (left(c.table_name, 40) || '_embedding_' || method || '_new')::name::text;
    END IF;
    RETURN (left(c.table_name, 48) || '_embedding_' || method)::name::text;
END
$$;
COMMENT ON FUNCTION vecpg.index_name(text, text, boolean) IS
    'Name of a collection''s vector index of a method (building: the name a concurrent replacement is built under)';

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

-- Index builds are memory- and CPU-bound: what a build may use of both.
CREATE OR REPLACE FUNCTION vecpg.build_settings(params jsonb DEFAULT '{}')
RETURNS TABLE (name text, setting text)
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
DECLARE
    mem text := coalesce(params->>'maintenance_work_mem', '1GB');
    workers integer;
BEGIN
    IF pg_size_bytes(mem) < pg_size_bytes(current_setting('maintenance_work_mem')) THEN
        mem := current_setting('maintenance_work_mem');  -- raised, never lowered
    END IF;
    -- Workers: what the machine has, not more. PostgreSQL reports no CPU count, so the
    -- server's max_parallel_maintenance_workers stands for it (vecpg's embedded server sets it to
    -- the CPUs less one for the leader, at most 7; on a server of yours it is your DBA's figure).
    -- parallel_workers may ask for another number; either way a build never asks for more
    -- than max_parallel_workers or max_worker_processes can hand out, since its workers come
    -- from those pools.
    workers := least(vecpg._int_param(params, 'parallel_workers',
                                      current_setting('max_parallel_maintenance_workers')::integer, 0, 1024),
                     current_setting('max_parallel_workers')::integer,
                     current_setting('max_worker_processes')::integer);
    RETURN QUERY VALUES ('maintenance_work_mem', mem), ('max_parallel_maintenance_workers', workers::text);
END
$$;
COMMENT ON FUNCTION vecpg.build_settings(jsonb) IS
    'maintenance_work_mem and max_parallel_maintenance_workers for an index build (params: maintenance_work_mem, parallel_workers)';

CREATE OR REPLACE FUNCTION vecpg._raise_build_resources(params jsonb)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
BEGIN
    PERFORM set_config(s.name, s.setting, true) FROM vecpg.build_settings(params) s;
END
$$;

-- What a new index of collection c is built on: the quantization asked for ('none', 'halfvec',
-- 'binary'), or without one what pgvector can index at c's dimension: vectors up to 2,000
-- dimensions, halfvec up to 4,000, binary codes (with re-ranking) above. A collection that
-- stores halfvec indexes its column directly up to 4,000 dimensions: halfvec asked of it is that
-- index (its values are half precision already; NULL, as for 'none'), binary codes above.
CREATE OR REPLACE FUNCTION vecpg.index_quantization(c vecpg.collection, asked text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
DECLARE
    direct integer := vecpg.indexable_dimensions(c.storage);  -- what the column's own type allows
    half integer := vecpg.indexable_dimensions('halfvec');
BEGIN
    IF asked IS NULL THEN
        RETURN CASE WHEN c.dimension <= direct THEN NULL WHEN c.dimension <= half THEN 'halfvec' ELSE 'binary' END;
    END IF;
    IF asked NOT IN ('none', 'halfvec', 'binary') THEN
        RAISE EXCEPTION 'unknown quantization %: use none, halfvec or binary', quote_literal(asked) USING ERRCODE = 'VP005';
    END IF;
    IF asked = 'none' AND c.dimension > direct THEN
        RAISE EXCEPTION 'pgvector indexes % of up to % dimensions, collection "%" has %: use %binary quantization',
                        c.storage, direct, c.name, c.dimension,
                        CASE WHEN c.storage = 'vector' THEN format('halfvec (up to %s) or ', half) ELSE '' END
            USING ERRCODE = 'VP005';
    END IF;
    IF asked = 'halfvec' AND c.dimension > half THEN
        RAISE EXCEPTION 'pgvector indexes halfvec of up to % dimensions, collection "%" has %: use binary '
                        'quantization', half, c.name, c.dimension USING ERRCODE = 'VP005';
    END IF;
    IF asked = 'halfvec' AND c.storage = 'halfvec' THEN
        RETURN NULL;
    END IF;
    RETURN nullif(asked, 'none');
END
$$;

-- The indexed expression and operator class for a quantization: what nearest_sql orders by.
-- binary_quantize takes vector and halfvec alike.
CREATE OR REPLACE FUNCTION vecpg.index_expression(c vecpg.collection, quantization text)
RETURNS text
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT CASE quantization
        WHEN 'halfvec' THEN format('(embedding::%1$I.halfvec(%2$s)) %3$s', vecpg.vector_schema(), c.dimension,
                                   vecpg.vector_opclass(c.distance, 'halfvec'))
        WHEN 'binary' THEN format('(%1$I.binary_quantize(embedding)::bit(%2$s)) %1$I.bit_hamming_ops',
                                  vecpg.vector_schema(), c.dimension)
        ELSE 'embedding ' || vecpg.vector_opclass(c.distance, c.storage)
    END
$$;

-- After a build (in a transaction or concurrently): searches order by what the new index holds.
CREATE OR REPLACE FUNCTION vecpg.index_built(collection text, params jsonb DEFAULT '{}')
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
BEGIN
    UPDATE vecpg.collection x SET quantization = vecpg.index_quantization(c, coalesce(params, '{}')->>'quantization')
    WHERE x.name = c.name;
    PERFORM vecpg.reset_search_defaults(c.name);  -- a new graph has its own recall curve (12_tuning.sql)
    -- The keyword index's search function has the vector list written in: write it again.
    PERFORM vecpg.keyword_index_objects(c.name);
END
$$;

-- What follows ON <table> in the CREATE INDEX statement of a collection's vector index,
-- checked: USING <method> (<expression>) WITH (<parameters>). One builder for every kind of build
-- (in a transaction, concurrently, per partition: 18_partitions.sql).
CREATE OR REPLACE FUNCTION vecpg.index_body(collection text, method text DEFAULT 'hnsw', params jsonb DEFAULT '{}')
RETURNS text
LANGUAGE plpgsql STABLE SECURITY INVOKER
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
    PERFORM * FROM vecpg.build_settings(params);  -- its parameters are checked here too

    RETURN format('USING %s (%s) WITH (%s)', method,
                  vecpg.index_expression(c, vecpg.index_quantization(c, params->>'quantization')), with_clause);
END
$$;
COMMENT ON FUNCTION vecpg.index_body(text, text, jsonb) IS
    'USING ... (...) WITH (...) of a collection''s vector index, its parameters checked';

-- The CREATE INDEX statement of a collection's vector index, checked. index_name defaults to
-- vecpg.index_name(collection, method). A concurrent build of a partitioned collection's index
-- goes partition by partition instead (vecpg.partition_index_steps).
CREATE OR REPLACE FUNCTION vecpg.index_ddl(collection text, method text DEFAULT 'hnsw', params jsonb DEFAULT '{}',
                                           concurrently boolean DEFAULT false, index_name text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    body text := vecpg.index_body(collection, method, params);
BEGIN
    method := lower(coalesce(method, 'hnsw'));
    RETURN format('CREATE INDEX %s%I ON %I.%I %s', CASE WHEN index_ddl.concurrently THEN 'CONCURRENTLY ' ELSE '' END,
                  coalesce(index_name, vecpg.index_name(collection, method)), c.schema_name, c.table_name, body);
END
$$;
COMMENT ON FUNCTION vecpg.index_ddl(text, text, jsonb, boolean, text) IS
    'The CREATE INDEX [CONCURRENTLY] statement of a collection''s vector index (hnsw: m, ef_construction; ivfflat: lists)';

CREATE OR REPLACE FUNCTION vecpg.create_index(collection text, method text DEFAULT 'hnsw', params jsonb DEFAULT '{}')
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    ddl text := vecpg.index_ddl(collection, method, params);  -- checked before anything is dropped
BEGIN
    PERFORM vecpg.drop_index(collection);
    PERFORM vecpg._raise_build_resources(params);
    EXECUTE ddl;
    PERFORM vecpg.index_built(collection, params);
    RETURN vecpg.index_name(collection, method);
END
$$;
COMMENT ON FUNCTION vecpg.create_index(text, text, jsonb) IS
    'Build the vector index of a collection (hnsw: m, ef_construction; ivfflat: lists), replacing any other';

-- An invalid index beside a valid one is what a failed concurrent replacement left: it is
-- dropped (a new create_index builds what was asked for); every other index is rebuilt,
-- which makes an invalid one valid. Python's concurrent rebuild follows the same rule.
CREATE OR REPLACE FUNCTION vecpg.rebuild_index(collection text)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    ix record;
    any_valid boolean;
    rebuilt integer := 0;
BEGIN
    PERFORM vecpg._raise_build_resources('{}');
    SELECT coalesce(bool_or(i.valid), false) INTO any_valid FROM vecpg.index_info(collection) i;
    FOR ix IN SELECT * FROM vecpg.index_info(collection) LOOP
        IF any_valid AND NOT ix.valid THEN
            EXECUTE format('DROP INDEX %I.%I', c.schema_name, ix.index_name);
        ELSE
            EXECUTE format('REINDEX INDEX %I.%I', c.schema_name, ix.index_name);
            rebuilt := rebuilt + 1;
        END IF;
    END LOOP;
    RETURN rebuilt;
END
$$;
COMMENT ON FUNCTION vecpg.rebuild_index(text) IS
    'Rebuild the vector index of a collection in place (dropping what a failed concurrent replacement left)';

-- Loading a collection's table and vector index into shared buffers without pg_prewarm (which
-- the embedded build does not have): a sequential scan reads every heap page, and an iterative
-- index scan whose filter no row passes walks the whole HNSW graph (or every IVFFlat list).
-- Returns each part's size in pages, the buffer accesses of the scan that warmed it (the index
-- walk counts an access for every visit, and fetches heap rows to test its filter), and how many
-- pages had to be read in (the rest were in shared buffers). pgvector before 0.8 has no
-- iterative scans: its index walk stops after ef_search (at most 1,000) candidates.
CREATE OR REPLACE FUNCTION vecpg.prewarm(collection text)
RETURNS TABLE (part text, pages bigint, accesses bigint, pages_read bigint)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    tbl regclass := format('%I.%I', c.schema_name, c.table_name)::regclass;
    probe vector;
    plan jsonb;
BEGIN
    PERFORM set_config('enable_indexscan', 'off', true), set_config('enable_indexonlyscan', 'off', true),
            set_config('enable_bitmapscan', 'off', true);
    EXECUTE format('EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT count(*) FROM %s', tbl) INTO plan;
    part := 'table';
    pages := vecpg.tree_size(tbl) / current_setting('block_size')::bigint;
    accesses := (plan->0->'Plan'->>'Shared Hit Blocks')::bigint + (plan->0->'Plan'->>'Shared Read Blocks')::bigint;
    pages_read := (plan->0->'Plan'->>'Shared Read Blocks')::bigint;
    RETURN NEXT;

    EXECUTE format('SELECT embedding::vector FROM %s WHERE embedding IS NOT NULL LIMIT 1', tbl) INTO probe;
    SELECT sum(i.size_bytes) / current_setting('block_size')::bigint INTO pages
    FROM vecpg.index_info(collection) i WHERE i.valid;
    IF probe IS NULL OR pages IS NULL THEN
        RETURN;
    END IF;
    -- The walk must take the index and keep going: no row passes the filter (the planner cannot
    -- tell), iterative scans without a tuple limit, IVFFlat probing every list.
    PERFORM set_config('enable_indexscan', 'on', true), set_config('enable_seqscan', 'off', true),
            set_config('enable_sort', 'off', true), set_config('hnsw.ef_search', '1000', true),
            set_config('ivfflat.probes', '32768', true);
    IF vecpg.pgvector_version() >= '{0,8}' THEN
        PERFORM set_config('hnsw.iterative_scan', 'relaxed_order', true),
                set_config('hnsw.max_scan_tuples', '2147483647', true),
                set_config('hnsw.scan_mem_multiplier', '1000', true),
                set_config('ivfflat.iterative_scan', 'relaxed_order', true),
                set_config('ivfflat.max_probes', '32768', true);
    END IF;
    EXECUTE 'EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ' || vecpg.nearest_sql(c, 'd.id', 'md5(d.id) = ''''', '$1', '1')
        INTO plan USING probe;
    part := 'vector index';
    accesses := (plan->0->'Plan'->>'Shared Hit Blocks')::bigint + (plan->0->'Plan'->>'Shared Read Blocks')::bigint;
    pages_read := (plan->0->'Plan'->>'Shared Read Blocks')::bigint;
    RETURN NEXT;
END
$$;
COMMENT ON FUNCTION vecpg.prewarm(text) IS
    'Read a collection''s table and vector index into shared buffers (pg_prewarm''s job without it)';
