-- 00_catalog.sql — helpers every area uses: where pgvector lives, catalog lookups, parameters.
--
-- Idempotent: every function here is defined once, edited in place, and applied again at the
-- end of every upgrade (sql/README.md). Each pins its search_path to pg_catalog, pgvector's
-- schema (written @vector_schema@, substituted when the file is applied) and pg_temp, runs as
-- its caller (SECURITY INVOKER) so row-level security binds it, and builds dynamic SQL with
-- format('%I') for names and USING parameters for values. vecpg's SQLSTATEs:
--   VP001 collection not found   VP002 collection already exists   VP003 dimension mismatch
--   VP004 invalid filter         VP005 invalid argument

CREATE OR REPLACE FUNCTION vecpg.vector_schema()
RETURNS name
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT n.nspname
    FROM pg_catalog.pg_extension e
    JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
    WHERE e.extname = 'vector'
$$;
COMMENT ON FUNCTION vecpg.vector_schema() IS 'Schema holding the pgvector extension';

CREATE OR REPLACE FUNCTION vecpg.pgvector_version()
RETURNS integer[]
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT string_to_array(split_part(extversion, '-', 1), '.')::integer[] FROM pg_extension WHERE extname = 'vector'
$$;

CREATE OR REPLACE FUNCTION vecpg.get_collection(collection text)
RETURNS vecpg.collection
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection;
BEGIN
    SELECT * INTO c FROM vecpg.collection AS x WHERE x.name = collection;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'collection "%" does not exist', collection
            USING ERRCODE = 'VP001',
                  HINT = 'SELECT name FROM vecpg.collection lists the collections';
    END IF;
    RETURN c;
END
$$;
COMMENT ON FUNCTION vecpg.get_collection(text) IS 'Catalog row of a collection; VP001 when absent';

CREATE OR REPLACE FUNCTION vecpg._int_param(params jsonb, key text, fallback integer, lo integer, hi integer)
RETURNS integer
LANGUAGE plpgsql IMMUTABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
DECLARE
    v jsonb := params->key;
BEGIN
    IF v IS NULL OR v = 'null'::jsonb THEN
        RETURN fallback;
    END IF;
    IF jsonb_typeof(v) <> 'number' OR (v #>> '{}')::numeric <> trunc((v #>> '{}')::numeric)
       OR (v #>> '{}')::numeric NOT BETWEEN lo AND hi THEN
        RAISE EXCEPTION '% must be an integer between % and %, got %', key, lo, hi, v
            USING ERRCODE = 'VP005';
    END IF;
    RETURN (v #>> '{}')::numeric::integer;  -- 64.0 is 64: the check above allows it
END
$$;

CREATE OR REPLACE FUNCTION vecpg.distance_operator(distance text)
RETURNS text
LANGUAGE sql IMMUTABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT CASE distance WHEN 'cosine' THEN '<=>' WHEN 'l2' THEN '<->' WHEN 'ip' THEN '<#>' END
$$;
COMMENT ON FUNCTION vecpg.distance_operator(text) IS 'pgvector operator of a distance name';

-- The index operator class of a distance, schema-qualified (pgvector may live in any schema).
CREATE OR REPLACE FUNCTION vecpg.vector_opclass(distance text)
RETURNS text
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT format('%I.%I', vecpg.vector_schema(),
                  CASE distance WHEN 'cosine' THEN 'vector_cosine_ops' WHEN 'l2' THEN 'vector_l2_ops'
                                ELSE 'vector_ip_ops' END)
$$;

-- Statement-level triggers `prefix`_insert, _update and _delete on a collection table, each
-- calling `fn`(collection name) with transition tables: one call per statement, so a COPY of
-- 100,000 rows runs each once. `update_tables` names the transition tables an UPDATE passes.
CREATE OR REPLACE FUNCTION vecpg.statement_triggers(c vecpg.collection, prefix text, fn text, update_tables text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
DECLARE
    event text;
BEGIN
    FOREACH event IN ARRAY ARRAY['insert', 'update', 'delete'] LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I.%I', prefix || '_' || event, c.schema_name, c.table_name);
        EXECUTE format('CREATE TRIGGER %I AFTER %s ON %I.%I REFERENCING %s FOR EACH STATEMENT EXECUTE FUNCTION %s(%L)',
                       prefix || '_' || event, event, c.schema_name, c.table_name,
                       CASE event WHEN 'insert' THEN 'NEW TABLE AS new_rows'
                                  WHEN 'delete' THEN 'OLD TABLE AS old_rows'
                                  ELSE update_tables END,
                       fn, c.name);
    END LOOP;
END
$$;

-- 01_tenancy.sql — row-level security per tenant, shared rows, the audit log's triggers.
--
-- The tenant is the transaction setting vecpg.tenant_id (set_config('vecpg.tenant_id', 'acme',
-- true)). A session without one sees only rows without a tenant, never all rows. Policies are
-- FORCEd, so they bind table owners too; only superusers and BYPASSRLS roles see past them.
-- BM25 statistics follow the rows they count, so scores use only documents the caller can see.

CREATE OR REPLACE FUNCTION vecpg.current_tenant()
RETURNS text
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT nullif(current_setting('vecpg.tenant_id', true), '')
$$;
COMMENT ON FUNCTION vecpg.current_tenant() IS 'The tenant of the current transaction (vecpg.tenant_id), or NULL';

CREATE OR REPLACE FUNCTION vecpg.shares_rows(collection text)
RETURNS boolean
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT coalesce((SELECT c.shared_rows FROM vecpg.collection c WHERE c.name = collection), false)
$$;

-- Tenants whose statistics the caller's rows come from: NULL means every tenant.
CREATE OR REPLACE FUNCTION vecpg.visible_tenant_keys()
RETURNS text[]
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT CASE WHEN coalesce(current_setting('vecpg.tenant_id', true), '') = '' THEN NULL
                ELSE ARRAY[current_setting('vecpg.tenant_id', true), ''] END
$$;

-- Row-level security for one collection: policies per command, grants per role, ownership by
-- vecpg_admin (so that any admin may build its indexes).
CREATE OR REPLACE FUNCTION vecpg.apply_tenancy(collection text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    own text := 'tenant_id IS NOT DISTINCT FROM vecpg.current_tenant()';
    readable text;
    policy text;
BEGIN
    readable := own || CASE WHEN c.shared_rows THEN ' OR tenant_id IS NULL' ELSE '' END;
    EXECUTE format('ALTER TABLE %I.%I ENABLE ROW LEVEL SECURITY', c.schema_name, c.table_name);
    EXECUTE format('ALTER TABLE %I.%I FORCE ROW LEVEL SECURITY', c.schema_name, c.table_name);
    FOREACH policy IN ARRAY ARRAY['tenant_select', 'tenant_insert', 'tenant_update', 'tenant_delete'] LOOP
        EXECUTE format('DROP POLICY IF EXISTS %I ON %I.%I', policy, c.schema_name, c.table_name);
    END LOOP;
    EXECUTE format('CREATE POLICY tenant_select ON %I.%I FOR SELECT USING (%s)', c.schema_name, c.table_name, readable);
    EXECUTE format('CREATE POLICY tenant_insert ON %I.%I FOR INSERT WITH CHECK (%s)', c.schema_name, c.table_name, own);
    EXECUTE format('CREATE POLICY tenant_update ON %I.%I FOR UPDATE USING (%s) WITH CHECK (%s)',
                   c.schema_name, c.table_name, own, own);
    EXECUTE format('CREATE POLICY tenant_delete ON %I.%I FOR DELETE USING (%s)', c.schema_name, c.table_name, own);
    PERFORM vecpg.statement_triggers(c, 'audit', 'vecpg.audit_write', 'NEW TABLE AS new_rows');
    -- Rows inserted by any client without a tenant_id belong to the inserting tenant.
    EXECUTE format('ALTER TABLE %I.%I ALTER COLUMN tenant_id SET DEFAULT vecpg.current_tenant()',
                   c.schema_name, c.table_name);
    EXECUTE format('GRANT SELECT ON %I.%I TO vecpg_reader', c.schema_name, c.table_name);
    EXECUTE format('GRANT INSERT, UPDATE, DELETE ON %I.%I TO vecpg_writer', c.schema_name, c.table_name);
    IF pg_has_role('vecpg_admin', 'MEMBER') THEN
        EXECUTE format('ALTER TABLE %I.%I OWNER TO vecpg_admin', c.schema_name, c.table_name);
    END IF;
END
$$;
COMMENT ON FUNCTION vecpg.apply_tenancy(text) IS
    'Row-level security policies, audit triggers and grants for a collection';

CREATE OR REPLACE FUNCTION vecpg.set_shared_rows(collection text, shared boolean)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
    PERFORM vecpg.get_collection(collection);
    UPDATE vecpg.collection AS x SET shared_rows = coalesce(shared, false) WHERE x.name = collection;
    PERFORM vecpg.apply_tenancy(collection);
END
$$;
COMMENT ON FUNCTION vecpg.set_shared_rows(text, boolean) IS
    'Whether rows without a tenant are shared, read-only documents visible to every tenant';

-- SECURITY DEFINER so that writers need no privilege on the log (and cannot forge entries);
-- the pinned search_path below applies to it like to every vecpg function. It writes only
-- what the statement did: the operation, the collection, the ids and how many.
CREATE OR REPLACE FUNCTION vecpg.audit_write()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO vecpg.audit_log (tenant, operation, collection, ids, row_count)
        SELECT vecpg.current_tenant(), TG_OP, TG_ARGV[0], coalesce(array_agg(o.id ORDER BY o.id), '{}'), count(*)
        FROM old_rows o HAVING count(*) > 0;
    ELSE
        INSERT INTO vecpg.audit_log (tenant, operation, collection, ids, row_count)
        SELECT vecpg.current_tenant(), TG_OP, TG_ARGV[0], coalesce(array_agg(n.id ORDER BY n.id), '{}'), count(*)
        FROM new_rows n HAVING count(*) > 0;
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION vecpg.audit_append_only()
RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'vecpg.audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;

DROP TRIGGER IF EXISTS append_only ON vecpg.audit_log;
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON vecpg.audit_log
    FOR EACH ROW EXECUTE FUNCTION vecpg.audit_append_only();

-- Statistics follow the rows they count: a tenant sees its own, and the shared ones where the
-- collection shares rows. So BM25 scores use only the documents the caller can see.
DROP POLICY IF EXISTS tenant_stats ON vecpg.bm25_df;
CREATE POLICY tenant_stats ON vecpg.bm25_df
    USING (tenant_key = coalesce(vecpg.current_tenant(), '') OR (tenant_key = '' AND vecpg.shares_rows(collection)))
    WITH CHECK (tenant_key = coalesce(vecpg.current_tenant(), ''));
DROP POLICY IF EXISTS tenant_stats ON vecpg.bm25_totals;
CREATE POLICY tenant_stats ON vecpg.bm25_totals
    USING (tenant_key = coalesce(vecpg.current_tenant(), '') OR (tenant_key = '' AND vecpg.shares_rows(collection)))
    WITH CHECK (tenant_key = coalesce(vecpg.current_tenant(), ''));

-- 02_collections.sql — creating and dropping collections, and the one list of what vecpg adds
-- to a collection table (collection_created), each area contributing its part.
--
-- A collection is a table (vecpg_data.<name> unless a schema is given) with id, title, content,
-- embedding, metadata, tenant_id, timestamps and a generated tsvector, recorded in
-- vecpg.collection. Columns are created here; everything else comes from collection_created,
-- which 99_existing_collections.sql runs again for every collection at each upgrade.

CREATE OR REPLACE FUNCTION vecpg.touch_updated_at()
RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

-- A collection's storage part: vectors and tsvectors kept in the row (STORAGE MAIN) rather than
-- moved out of line into TOAST, where every distance computed from the table (an exact scan, the
-- score of each row an index scan returns) and every BM25 score would cost a TOAST fetch. MAIN
-- still moves a value out when the row would not fit in a page otherwise (vectors of more than
-- ~2,000 dimensions, long documents). Applies to rows written from now on; VACUUM FULL moves
-- the existing ones.
CREATE OR REPLACE FUNCTION vecpg.store_inline(collection text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
BEGIN
    EXECUTE format('ALTER TABLE %I.%I ALTER COLUMN fts SET STORAGE MAIN, ALTER COLUMN embedding SET STORAGE MAIN',
                   c.schema_name, c.table_name);
END
$$;

CREATE OR REPLACE FUNCTION vecpg.create_collection(
    name        text,
    dimension   integer,
    distance    text DEFAULT 'cosine',
    model       text DEFAULT NULL,
    language    regconfig DEFAULT 'english',
    schema_name name DEFAULT 'vecpg_data'
)
RETURNS vecpg.collection
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection;
    short text;
BEGIN
    IF name IS NULL OR name !~ '^[a-z_][a-z0-9_]{0,62}$' THEN
        RAISE EXCEPTION 'invalid collection name %: use 1-63 lowercase letters, digits or _, not starting with a digit',
            coalesce(quote_literal(name), 'NULL')
            USING ERRCODE = 'VP005';
    END IF;
    IF dimension IS NULL OR dimension NOT BETWEEN 1 AND 16000 THEN
        RAISE EXCEPTION 'invalid dimension %: must be between 1 and 16000', dimension
            USING ERRCODE = 'VP005';
    END IF;
    IF distance IS NULL OR distance NOT IN ('cosine', 'l2', 'ip') THEN
        RAISE EXCEPTION 'invalid distance %: use cosine, l2 or ip', coalesce(quote_literal(distance), 'NULL')
            USING ERRCODE = 'VP005';
    END IF;
    IF EXISTS (SELECT 1 FROM vecpg.collection AS x WHERE x.name = name) THEN
        RAISE EXCEPTION 'collection "%" already exists', name USING ERRCODE = 'VP002';
    END IF;

    -- Index names must stay under 63 bytes whatever the collection name.
    short := left(name, 48);
    EXECUTE format(
        $ddl$
        CREATE TABLE %1$I.%2$I (
            id          text PRIMARY KEY DEFAULT gen_random_uuid()::text,
            title       text,
            content     text NOT NULL DEFAULT '',
            embedding   %3$I.vector(%4$s),
            metadata    jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
            tenant_id   text,
            created_at  timestamptz NOT NULL DEFAULT now(),
            updated_at  timestamptz NOT NULL DEFAULT now(),
            fts         tsvector GENERATED ALWAYS AS (
                            setweight(to_tsvector(%5$L::regconfig, coalesce(title, '')), 'A')
                         || setweight(to_tsvector(%5$L::regconfig, content), 'B')
                        ) STORED
        )
        $ddl$,
        schema_name, name, vecpg.vector_schema(), dimension, language::text);
    EXECUTE format('CREATE INDEX %I ON %I.%I USING gin (fts)', short || '_fts_idx', schema_name, name);
    EXECUTE format('CREATE INDEX %I ON %I.%I USING gin (metadata jsonb_path_ops)',
                   short || '_metadata_idx', schema_name, name);
    EXECUTE format('CREATE TRIGGER touch_updated_at BEFORE UPDATE ON %I.%I '
                   'FOR EACH ROW EXECUTE FUNCTION vecpg.touch_updated_at()', schema_name, name);
    EXECUTE format('COMMENT ON TABLE %I.%I IS %L', schema_name, name, 'vecpg collection ' || name);

    INSERT INTO vecpg.collection (name, schema_name, table_name, dimension, distance, model, language)
    VALUES (name, schema_name, name, dimension, distance, model, language)
    RETURNING * INTO c;
    PERFORM vecpg.collection_created(name);
    RETURN c;
END
$$;
COMMENT ON FUNCTION vecpg.create_collection(text, integer, text, text, regconfig, name) IS
    'Create a collection table with its full-text and metadata indexes and record it in the catalog';

CREATE OR REPLACE FUNCTION vecpg.drop_collection(collection text, if_exists boolean DEFAULT false)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection;
BEGIN
    IF if_exists AND NOT EXISTS (SELECT 1 FROM vecpg.collection AS x WHERE x.name = collection) THEN
        RETURN false;
    END IF;
    c := vecpg.get_collection(collection);
    PERFORM vecpg.disable_chunking(collection);
    EXECUTE format('DROP TABLE IF EXISTS %I.%I', c.schema_name, c.table_name);
    DELETE FROM vecpg.collection AS x WHERE x.name = c.name;
    RETURN true;
END
$$;
COMMENT ON FUNCTION vecpg.drop_collection(text, boolean) IS 'Drop a collection and its documents';

CREATE OR REPLACE FUNCTION vecpg.collection_created(collection text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
BEGIN
    PERFORM vecpg.store_inline(collection);                 -- storage (this file)
    PERFORM vecpg.keyword_stats_triggers(collection);       -- 06_keyword_search.sql
    PERFORM vecpg.apply_tenancy(collection);                -- 01_tenancy.sql
    PERFORM vecpg.keyword_index_objects(collection);        -- 08_keyword_index.sql
    PERFORM vecpg.mirror_objects(collection);               -- 09_mirror.sql
    PERFORM vecpg.embedding_queue_objects(collection);      -- 10_embedding_queue.sql
    PERFORM vecpg.chunk_objects(collection);                -- 11_chunks.sql
END
$$;
COMMENT ON FUNCTION vecpg.collection_created(text) IS
    'Give a collection table everything vecpg adds to its columns: storage, triggers, policies, grants';

-- 03_indexes.sql — a collection's pgvector index (HNSW or IVFFlat): build, inspect, rebuild, drop.
--
-- One DDL builder, vecpg.index_ddl, writes the CREATE INDEX statement for both kinds of build:
-- vecpg.create_index runs it here, in the caller's transaction, with maintenance_work_mem and
-- parallel workers raised for that transaction only (vecpg.build_settings says how much);
-- CREATE INDEX CONCURRENTLY cannot run in a function or a transaction, so for a build that does
-- not block writers Python asks for the statement and runs it on an autocommit connection, with
-- the same settings for that session only (vecpg/index_builds.py).

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
    SELECT i.relname::text, am.amname::text, pg_get_indexdef(i.oid), pg_relation_size(i.oid), x.indisvalid
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

-- The CREATE INDEX statement of a collection's vector index, checked: one builder for both
-- kinds of build. index_name defaults to vecpg.index_name(collection, method).
CREATE OR REPLACE FUNCTION vecpg.index_ddl(collection text, method text DEFAULT 'hnsw', params jsonb DEFAULT '{}',
                                           concurrently boolean DEFAULT false, index_name text DEFAULT NULL)
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

    RETURN format('CREATE INDEX %s%I ON %I.%I USING %s (%s) WITH (%s)',
                  CASE WHEN index_ddl.concurrently THEN 'CONCURRENTLY ' ELSE '' END,
                  coalesce(index_name, vecpg.index_name(collection, method)),
                  c.schema_name, c.table_name, method,
                  vecpg.index_expression(c, vecpg.index_quantization(c, params->>'quantization')), with_clause);
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

-- 04_filters.sql — the JSON filter language, compiled to a SQL predicate.
--
-- A filter is a JSON object. Each key is a field: a metadata key (dotted for nested keys,
-- "author.name"; "metadata.id" for a metadata key that shadows a column) or one of the columns
-- id, created_at, updated_at. Its value is a value to equal or an object of operators:
--   $eq $ne $in $nin $gt $gte $lt $lte $exists $contains
-- and $and / $or (arrays of filters) and $not (a filter) combine filters. Equality on metadata
-- is JSON containment, served by the GIN jsonb_path_ops index; $gt..$lte compare numbers, or
-- ISO-8601 dates and times. The predicate never contains a value: it reads each one from the
-- filter itself, passed as a parameter, by its path ($2 #> '{price,$gt}'), so it depends only
-- on the filter's shape and clients may cache it by shape.

CREATE OR REPLACE FUNCTION vecpg._filter_error(message text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION '%', message USING ERRCODE = 'VP004';
END
$$;

-- A filter value as a point in time; VP004 naming the key when it is not one.
CREATE OR REPLACE FUNCTION vecpg.filter_time(value jsonb, key text)
RETURNS timestamptz
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
BEGIN
    IF jsonb_typeof(value) = 'string' AND value #>> '{}' ~ '^\d{4}-\d{2}-\d{2}' THEN
        BEGIN
            RETURN (value #>> '{}')::timestamptz;
        EXCEPTION WHEN others THEN
            NULL;  -- fall through to the error below
        END;
    END IF;
    RAISE EXCEPTION 'filter on %: % is not an ISO-8601 date or time', quote_literal(key), value
        USING ERRCODE = 'VP004';
END
$$;

-- A document's metadata value as a point in time, or NULL when it is not one (no match).
CREATE OR REPLACE FUNCTION vecpg.as_time(value jsonb)
RETURNS timestamptz
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
BEGIN
    IF jsonb_typeof(value) = 'string' AND value #>> '{}' ~ '^\d{4}-\d{2}-\d{2}' THEN
        RETURN (value #>> '{}')::timestamptz;
    END IF;
    RETURN NULL;
EXCEPTION WHEN others THEN
    RETURN NULL;
END
$$;

-- jsonb_build_object nesting that places expression `inner` at `path`, as SQL text.
CREATE OR REPLACE FUNCTION vecpg._nest(path text[], inner_sql text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
DECLARE
    out text := inner_sql;
    i integer;
BEGIN
    FOR i IN REVERSE cardinality(path)..1 LOOP
        out := format('jsonb_build_object(%L, %s)', path[i], out);
    END LOOP;
    RETURN out;
END
$$;

CREATE OR REPLACE FUNCTION vecpg._filter_field(field text, value jsonb, vpath text[], param text, alias text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
DECLARE
    column_name text;
    mpath text[];
    ops jsonb;
    op text;
    arg jsonb;
    v text;          -- SQL reading this operator's value from the filter parameter
    doc text;        -- SQL reading the document's metadata value
    parts text[] := '{}';
    operator text;
    implicit boolean := false;
BEGIN
    IF field = '' THEN
        PERFORM vecpg._filter_error('filter keys must not be empty');
    END IF;
    IF field IN ('id', 'created_at', 'updated_at') THEN
        column_name := field;
    ELSE
        mpath := string_to_array(CASE WHEN field LIKE 'metadata.%' THEN substr(field, 10) ELSE field END, '.');
        IF '' = ANY (mpath) OR cardinality(mpath) = 0 THEN
            PERFORM vecpg._filter_error(format('invalid filter key %L: empty part in a dotted path', field));
        END IF;
    END IF;

    -- An object of $operators, or a plain value meaning equality.
    IF jsonb_typeof(value) = 'object' AND EXISTS (SELECT 1 FROM jsonb_object_keys(value) k WHERE left(k, 1) = '$') THEN
        IF EXISTS (SELECT 1 FROM jsonb_object_keys(value) k WHERE left(k, 1) <> '$') THEN
            PERFORM vecpg._filter_error(format('filter on %L mixes operators and plain keys', field));
        END IF;
        ops := value;
    ELSE
        ops := jsonb_build_object('$eq', value);
        implicit := true;
    END IF;

    FOR op, arg IN SELECT * FROM jsonb_each(ops) LOOP
        -- An implicit $eq's value sits at the field's own path.
        v := format('(%s #> %L::text[])', param, CASE WHEN implicit THEN vpath ELSE vpath || op END);
        IF column_name IS NOT NULL THEN
            doc := format('%I.%I', alias, column_name);
            IF column_name = 'id' THEN
                IF op IN ('$eq', '$ne') THEN
                    IF jsonb_typeof(arg) <> 'string' THEN
                        PERFORM vecpg._filter_error(format('filter on id: %s needs a string', op));
                    END IF;
                    parts := parts || format('%s %s (%s #>> ''{}'')', doc, CASE op WHEN '$eq' THEN '=' ELSE '<>' END, v);
                ELSIF op IN ('$in', '$nin') THEN
                    IF jsonb_typeof(arg) <> 'array' THEN
                        PERFORM vecpg._filter_error(format('filter on id: %s needs an array', op));
                    END IF;
                    parts := parts || format('%s(%s = ANY (ARRAY(SELECT jsonb_array_elements_text(%s))))',
                                             CASE op WHEN '$nin' THEN 'NOT ' ELSE '' END, doc, v);
                ELSE
                    PERFORM vecpg._filter_error(format('operator %s is not supported on id (use $eq, $ne, $in, $nin)', op));
                END IF;
            ELSE
                operator := CASE op WHEN '$eq' THEN '=' WHEN '$ne' THEN '<>' WHEN '$gt' THEN '>'
                                    WHEN '$gte' THEN '>=' WHEN '$lt' THEN '<' WHEN '$lte' THEN '<=' END;
                IF operator IS NULL THEN
                    PERFORM vecpg._filter_error(format('operator %s is not supported on %s (use $eq, $ne, $gt, $gte, $lt, $lte)', op, column_name));
                END IF;
                PERFORM vecpg.filter_time(arg, field);
                parts := parts || format('%s %s vecpg.filter_time(%s, %L)', doc, operator, v, field);
            END IF;
            CONTINUE;
        END IF;

        doc := format('(%I.metadata #> %L::text[])', alias, mpath);
        CASE op
        WHEN '$eq' THEN
            parts := parts || format('%I.metadata @> %s', alias, vecpg._nest(mpath, v));
        WHEN '$ne' THEN
            parts := parts || format('NOT (%I.metadata @> %s)', alias, vecpg._nest(mpath, v));
        WHEN '$in', '$nin' THEN
            IF jsonb_typeof(arg) <> 'array' THEN
                PERFORM vecpg._filter_error(format('filter on %L: %s needs an array', field, op));
            END IF;
            parts := parts || format('%sEXISTS (SELECT 1 FROM jsonb_array_elements(%s) AS vecpg_in(v) WHERE %I.metadata @> %s)',
                                     CASE op WHEN '$nin' THEN 'NOT ' ELSE '' END, v, alias, vecpg._nest(mpath, 'vecpg_in.v'));
        WHEN '$gt', '$gte', '$lt', '$lte' THEN
            operator := CASE op WHEN '$gt' THEN '>' WHEN '$gte' THEN '>=' WHEN '$lt' THEN '<' ELSE '<=' END;
            IF jsonb_typeof(arg) = 'number' THEN
                -- Never NULL: under $not, "not comparable" must stay false, not unknown.
                parts := parts || format('coalesce(CASE WHEN jsonb_typeof(%1$s) = ''number'' THEN (%1$s)::numeric %2$s (%3$s)::numeric END, false)',
                                         doc, operator, v);
            ELSIF jsonb_typeof(arg) = 'string' THEN
                PERFORM vecpg.filter_time(arg, field);
                parts := parts || format('coalesce(vecpg.as_time(%s) %s vecpg.filter_time(%s, %L), false)', doc, operator, v, field);
            ELSE
                PERFORM vecpg._filter_error(format('filter on %L: %s needs a number or an ISO-8601 date, got %s',
                                                   field, op, jsonb_typeof(arg)));
            END IF;
        WHEN '$exists' THEN
            IF jsonb_typeof(arg) <> 'boolean' THEN
                PERFORM vecpg._filter_error(format('filter on %L: $exists needs true or false', field));
            END IF;
            -- The value's truth is read at run time: the predicate serves both.
            parts := parts || format('((%s IS NOT NULL) = (%s)::boolean)', doc, v);
        WHEN '$contains' THEN
            IF jsonb_typeof(arg) = 'array' THEN
                parts := parts || format('%I.metadata @> %s', alias, vecpg._nest(mpath, v));
            ELSE
                parts := parts || format('%I.metadata @> %s', alias, vecpg._nest(mpath, format('jsonb_build_array(%s)', v)));
            END IF;
        ELSE
            PERFORM vecpg._filter_error(format('unknown filter operator %s on %L (use $eq, $ne, $in, $nin, $gt, $gte, $lt, $lte, $exists, $contains)',
                                               op, field));
        END CASE;
    END LOOP;
    IF cardinality(parts) = 0 THEN
        PERFORM vecpg._filter_error(format('filter on %L has no operators', field));
    END IF;
    RETURN array_to_string(parts, ' AND ');
END
$$;

CREATE OR REPLACE FUNCTION vecpg._filter_node(node jsonb, path text[], param text, alias text, depth integer)
RETURNS text
LANGUAGE plpgsql IMMUTABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
DECLARE
    key text;
    value jsonb;
    parts text[] := '{}';
    sub text[];
    i integer;
BEGIN
    IF depth > 32 THEN
        PERFORM vecpg._filter_error('filter is nested more than 32 levels deep');
    END IF;
    IF jsonb_typeof(node) <> 'object' THEN
        PERFORM vecpg._filter_error(format('a filter must be a JSON object, got %s', jsonb_typeof(node)));
    END IF;
    FOR key, value IN SELECT * FROM jsonb_each(node) LOOP
        IF key IN ('$and', '$or') THEN
            IF jsonb_typeof(value) <> 'array' OR jsonb_array_length(value) = 0 THEN
                PERFORM vecpg._filter_error(format('%s needs a non-empty array of filters', key));
            END IF;
            sub := '{}';
            FOR i IN 0..jsonb_array_length(value) - 1 LOOP
                sub := sub || vecpg._filter_node(value -> i, path || key || i::text, param, alias, depth + 1);
            END LOOP;
            parts := parts || ('((' || array_to_string(sub, CASE key WHEN '$and' THEN ') AND (' ELSE ') OR (' END) || '))');
        ELSIF key = '$not' THEN
            parts := parts || format('NOT (%s)', vecpg._filter_node(value, path || key, param, alias, depth + 1));
        ELSIF left(key, 1) = '$' THEN
            PERFORM vecpg._filter_error(format('unknown filter operator %s (top-level operators: $and, $or, $not)', key));
        ELSE
            parts := parts || ('(' || vecpg._filter_field(key, value, path || key, param, alias) || ')');
        END IF;
    END LOOP;
    IF cardinality(parts) = 0 THEN
        RETURN 'true';
    END IF;
    RETURN array_to_string(parts, ' AND ');
END
$$;

CREATE OR REPLACE FUNCTION vecpg.compile_filter(filter jsonb, param text DEFAULT '$2', alias text DEFAULT 'd')
RETURNS text
LANGUAGE plpgsql IMMUTABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
BEGIN
    IF filter IS NULL THEN
        RETURN 'true';
    END IF;
    RETURN vecpg._filter_node(filter, '{}', param, alias, 0);
END
$$;
COMMENT ON FUNCTION vecpg.compile_filter(jsonb, text, text) IS
    'SQL predicate for a filter; it reads values from the filter passed as parameter `param`';

-- 05_vector_search.sql — k nearest documents to a query vector, with filters and tuning.
--
-- Search options (ef_search, probes, iterative_scan, max_scan_tuples) are set with
-- set_config(..., true): they end with the transaction and never reach the next user of a
-- pooled connection. Filtered and tenant searches turn on pgvector 0.8's iterative scans so
-- they still return k rows.

-- Vector search options checked and in canonical form (integers as integers, JSON nulls left
-- out), without applying them: the one list of their names, types and bounds on this side
-- (vecpg/search/options.py is Python's). apply_search_options applies what it returns, and
-- set_search_defaults stores it.
CREATE OR REPLACE FUNCTION vecpg.check_search_options(options jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
DECLARE
    k text;
    scan text;
    checked jsonb := '{}';
BEGIN
    options := coalesce(options, '{}');
    IF jsonb_typeof(options) <> 'object' THEN
        RAISE EXCEPTION 'search options must be a JSON object' USING ERRCODE = 'VP005';
    END IF;
    FOR k IN SELECT jsonb_object_keys(options) LOOP
        IF k NOT IN ('ef_search', 'probes', 'iterative_scan', 'max_scan_tuples', 'rerank') THEN
            RAISE EXCEPTION 'unknown search option %: use ef_search, probes, iterative_scan, max_scan_tuples or rerank',
                quote_literal(k) USING ERRCODE = 'VP005';
        END IF;
    END LOOP;
    options := jsonb_strip_nulls(options);
    IF options ? 'ef_search' THEN
        checked := checked || jsonb_build_object('ef_search', vecpg._int_param(options, 'ef_search', 40, 1, 1000));
    END IF;
    IF options ? 'probes' THEN
        checked := checked || jsonb_build_object('probes', vecpg._int_param(options, 'probes', 1, 1, 32768));
    END IF;
    IF options ? 'rerank' THEN  -- nearest_sql uses it
        checked := checked || jsonb_build_object('rerank', vecpg.rerank_factor(options));
    END IF;
    IF options ? 'iterative_scan' OR options ? 'max_scan_tuples' THEN
        IF vecpg.pgvector_version() < '{0,8}' THEN
            RAISE EXCEPTION 'iterative index scans need pgvector 0.8 or newer' USING ERRCODE = 'VP005';
        END IF;
    END IF;
    IF options ? 'iterative_scan' THEN
        scan := options->>'iterative_scan';
        IF scan NOT IN ('off', 'relaxed_order', 'strict_order') THEN
            RAISE EXCEPTION 'iterative_scan must be off, relaxed_order or strict_order' USING ERRCODE = 'VP005';
        END IF;
        checked := checked || jsonb_build_object('iterative_scan', scan);
    END IF;
    IF options ? 'max_scan_tuples' THEN
        checked := checked || jsonb_build_object('max_scan_tuples',
                                                 vecpg._int_param(options, 'max_scan_tuples', 20000, 1, 2147483647));
    END IF;
    RETURN checked;
END
$$;
COMMENT ON FUNCTION vecpg.check_search_options(jsonb) IS
    'Vector search options checked (names, types, bounds) and in canonical form, not applied';

-- Per-call search tuning, transaction-local (set_config(..., true)) so that a pooled
-- connection never carries one caller's settings into the next transaction.
CREATE OR REPLACE FUNCTION vecpg.apply_search_options(options jsonb)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
BEGIN
    options := vecpg.check_search_options(options);
    IF options ? 'ef_search' THEN
        PERFORM set_config('hnsw.ef_search', options->>'ef_search', true);
    END IF;
    IF options ? 'probes' THEN
        PERFORM set_config('ivfflat.probes', options->>'probes', true);
    END IF;
    IF options ? 'iterative_scan' THEN
        PERFORM set_config('hnsw.iterative_scan', options->>'iterative_scan', true);
        -- IVFFlat has no strict order; relaxed is its closest match.
        PERFORM set_config('ivfflat.iterative_scan',
                           CASE options->>'iterative_scan' WHEN 'off' THEN 'off' ELSE 'relaxed_order' END, true);
    END IF;
    IF options ? 'max_scan_tuples' THEN
        PERFORM set_config('hnsw.max_scan_tuples', options->>'max_scan_tuples', true);
    END IF;
END
$$;
COMMENT ON FUNCTION vecpg.apply_search_options(jsonb) IS
    'Set ef_search, probes and iterative scan options for the current transaction only';

-- Row-level security filters rows too: with a tenant set, its share of the index may be small,
-- so vector search turns iterative scans on as it does for filters.
CREATE OR REPLACE FUNCTION vecpg.rows_filtered(predicate text)
RETURNS boolean
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT predicate <> 'true' OR vecpg.current_tenant() IS NOT NULL
$$;

-- The checks every vector query makes before it runs.
CREATE OR REPLACE FUNCTION vecpg.check_vector_query(c vecpg.collection, query_embedding vector, k integer)
RETURNS void
LANGUAGE plpgsql IMMUTABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
BEGIN
    IF k IS NULL OR k NOT BETWEEN 1 AND 1000 THEN
        RAISE EXCEPTION 'k must be between 1 and 1000, got %', k USING ERRCODE = 'VP005';
    END IF;
    IF query_embedding IS NULL THEN
        RAISE EXCEPTION 'query_embedding must not be NULL' USING ERRCODE = 'VP005';
    END IF;
    IF vector_dims(query_embedding) <> c.dimension THEN
        RAISE EXCEPTION 'query has % dimensions but collection "%" holds %-dimensional vectors',
            vector_dims(query_embedding), c.name, c.dimension USING ERRCODE = 'VP003';
    END IF;
END
$$;

-- How many candidates per result a binary-quantized index scan fetches for exact re-ranking.
CREATE OR REPLACE FUNCTION vecpg.rerank_factor(options jsonb)
RETURNS integer
LANGUAGE sql IMMUTABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT vecpg._int_param(coalesce(options, '{}'), 'rerank', 4, 1, 100)
$$;

-- How many rows the index scan of a search for k rows reads: k, or k times the re-rank factor
-- when the index holds binary codes.
CREATE OR REPLACE FUNCTION vecpg.scan_rows(c vecpg.collection, k integer, options jsonb)
RETURNS integer
LANGUAGE sql IMMUTABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT CASE WHEN c.quantization = 'binary' THEN k * vecpg.rerank_factor(options) ELSE k END
$$;

-- The options of a search whose index scan must return the rows of a search for `rows`
-- results: the collection's search defaults (what tuning chose) under the call's own options.
-- A default ef_search is raised to the rows the scan must return (an HNSW scan returns at most
-- ef_search rows, and tuning measured at one k while a call may ask for more); a call's own
-- ef_search is taken as given. Python's vecpg/search/vector.py:search_settings is the same.
CREATE OR REPLACE FUNCTION vecpg.search_options(c vecpg.collection, options jsonb, rows integer)
RETURNS jsonb
LANGUAGE sql IMMUTABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT CASE WHEN m.merged ? 'ef_search' AND NOT coalesce(options, '{}') ? 'ef_search'
                THEN m.merged || jsonb_build_object('ef_search',
                         greatest(vecpg._int_param(m.merged, 'ef_search', 40, 1, 1000),
                                  least(vecpg.scan_rows(c, rows, m.merged), 1000)))
                ELSE m.merged END
    FROM (SELECT c.search_defaults || coalesce(options, '{}') AS merged) m
$$;

-- The k nearest rows of collection c as one query: `columns` of d and their exact distance to
-- `query`, filtered by `predicate`, nearest first. The index scan orders by the expression the
-- collection's vector index is built on (the vectors, their halfvec copies, or their binary
-- codes), so the planner can use it; halfvec and binary candidates get their exact distances,
-- binary ones k * rerank of them, re-ranked. `query`, `k` and `rerank` are SQL expressions
-- (parameters such as $1).
CREATE OR REPLACE FUNCTION vecpg.nearest_sql(c vecpg.collection, columns text, predicate text, query text,
                                             k text, rerank text DEFAULT '4')
RETURNS text
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
DECLARE
    vs text := quote_ident(vecpg.vector_schema());
    op text := format('OPERATOR(%s.%s)', vs, vecpg.distance_operator(c.distance));
    exact text := format('(d.embedding %s %s)::double precision', op, query);
    filter text := CASE WHEN predicate = 'true' THEN '' ELSE 'AND (' || predicate || ')' END;
BEGIN
    IF c.quantization IS NULL THEN
        RETURN format('SELECT %s, %s AS distance FROM %I.%I d WHERE d.embedding IS NOT NULL %s '
                      'ORDER BY d.embedding %s %s LIMIT %s',
                      columns, exact, c.schema_name, c.table_name, filter, op, query, k);
    ELSIF c.quantization = 'halfvec' THEN
        RETURN format('SELECT q.* FROM (SELECT %s, %s AS distance FROM %I.%I d WHERE d.embedding IS NOT NULL %s '
                      'ORDER BY (d.embedding::%s.halfvec(%s)) %s (%s::%s.halfvec(%s)) LIMIT %s) q ORDER BY q.distance',
                      columns, exact, c.schema_name, c.table_name, filter,
                      vs, c.dimension, op, query, vs, c.dimension, k);
    ELSE
        RETURN format('SELECT q.* FROM (SELECT %s, %s AS distance FROM %I.%I d WHERE d.embedding IS NOT NULL %s '
                      'ORDER BY (%s.binary_quantize(d.embedding)::bit(%s)) OPERATOR(%s.<~>) %s.binary_quantize(%s) '
                      'LIMIT (%s) * (%s)) q ORDER BY q.distance LIMIT %s',
                      columns, exact, c.schema_name, c.table_name, filter,
                      vs, c.dimension, vs, vs, query, k, rerank, k);
    END IF;
END
$$;

-- An HNSW scan returns at most ef_search rows: a k above it raises ef_search for the call.
CREATE OR REPLACE FUNCTION vecpg.search(
    collection      text,
    query_embedding vector,
    k               integer,
    filter          jsonb DEFAULT '{}',
    options         jsonb DEFAULT '{}'
)
RETURNS TABLE (id text, title text, content text, metadata jsonb, distance double precision, score double precision)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    predicate text;
    score text;
    query text;
BEGIN
    PERFORM vecpg.check_vector_query(c, query_embedding, k);
    predicate := vecpg.compile_filter(coalesce(filter, '{}'), '$2', 'd');
    options := coalesce(options, '{}');
    -- A filter applied after an index scan would leave fewer than k rows: pgvector 0.8's
    -- iterative scans read on until k rows pass. (The planner may also pick an exact scan
    -- through the metadata index when it expects few rows to match.)
    IF vecpg.rows_filtered(predicate) AND NOT options ? 'iterative_scan' AND vecpg.pgvector_version() >= '{0,8}' THEN
        options := options || '{"iterative_scan": "relaxed_order"}';
    END IF;
    options := vecpg.search_options(c, options, k);  -- what tuning chose, unless the call says otherwise
    -- An HNSW scan returns at most ef_search rows: a larger scan raises it for this statement.
    IF NOT options ? 'ef_search'
       AND vecpg.scan_rows(c, k, options) > coalesce(nullif(current_setting('hnsw.ef_search', true), '')::integer, 40) THEN
        options := options || jsonb_build_object('ef_search', least(vecpg.scan_rows(c, k, options), 1000));
    END IF;
    PERFORM vecpg.apply_search_options(options);

    score := CASE c.distance WHEN 'cosine' THEN '1 - distance'
                             WHEN 'ip' THEN '-distance'
                             ELSE 'NULL::double precision' END;
    -- No predicate at all for an empty filter: even "true" can change the planner's estimates.
    query := vecpg.nearest_sql(c, 'd.id, d.title, d.content, d.metadata', predicate, '$1', '$3',
                               vecpg.rerank_factor(options)::text);
    -- Relaxed iterative scans may return rows slightly out of order: sort the k rows again.
    RETURN QUERY EXECUTE format(
        'SELECT s.id, s.title, s.content, s.metadata, s.distance, %s FROM (%s) s ORDER BY s.distance',
        score, query)
        USING query_embedding, filter, k;
END
$$;
COMMENT ON FUNCTION vecpg.search(text, vector, integer, jsonb, jsonb) IS
    'k nearest documents of a collection to query_embedding that match the filter';

-- 06_keyword_search.sql — BM25 keyword search in SQL, and the statistics it needs.
--
-- Document frequencies and lengths live in vecpg.bm25_df / vecpg.bm25_totals per tenant, kept
-- exact by statement-level triggers (one aggregate per statement). Term frequencies come from
-- ts_rank, which finds a lexeme without copying the tsvector (vecpg.term_frequency is the
-- reference). A query scores the documents holding its rarest terms, up to max_candidates.
-- How these choices were measured: docs/notes/.

CREATE OR REPLACE FUNCTION vecpg.bm25_track()
RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
DECLARE
    coll text := TG_ARGV[0];
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO vecpg.bm25_df AS s (collection, tenant_key, lexeme, df)
        SELECT coll, coalesce(n.tenant_id, ''), u.lexeme, count(*)
        FROM new_rows n, unnest(n.fts) u
        GROUP BY 2, 3 ORDER BY 2, 3
        ON CONFLICT (collection, tenant_key, lexeme) DO UPDATE SET df = s.df + EXCLUDED.df;
        INSERT INTO vecpg.bm25_totals AS t (collection, tenant_key, n_docs, total_len)
        SELECT coll, coalesce(n.tenant_id, ''), count(*), sum(length(n.fts))
        FROM new_rows n GROUP BY 2 ORDER BY 2
        ON CONFLICT (collection, tenant_key) DO UPDATE
        SET n_docs = t.n_docs + EXCLUDED.n_docs, total_len = t.total_len + EXCLUDED.total_len;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO vecpg.bm25_df AS s (collection, tenant_key, lexeme, df)
        SELECT coll, coalesce(o.tenant_id, ''), u.lexeme, -count(*)
        FROM old_rows o, unnest(o.fts) u
        GROUP BY 2, 3 ORDER BY 2, 3
        ON CONFLICT (collection, tenant_key, lexeme) DO UPDATE SET df = s.df + EXCLUDED.df;
        INSERT INTO vecpg.bm25_totals AS t (collection, tenant_key, n_docs, total_len)
        SELECT coll, coalesce(o.tenant_id, ''), -count(*), -sum(length(o.fts))
        FROM old_rows o GROUP BY 2 ORDER BY 2
        ON CONFLICT (collection, tenant_key) DO UPDATE
        SET n_docs = t.n_docs + EXCLUDED.n_docs, total_len = t.total_len + EXCLUDED.total_len;
    ELSE
        INSERT INTO vecpg.bm25_df AS s (collection, tenant_key, lexeme, df)
        SELECT coll, d.tenant_key, d.lexeme, sum(d.delta)
        FROM (
            SELECT coalesce(o.tenant_id, '') AS tenant_key, u.lexeme, -1 AS delta FROM old_rows o, unnest(o.fts) u
            UNION ALL
            SELECT coalesce(n.tenant_id, ''), u.lexeme, 1 FROM new_rows n, unnest(n.fts) u
        ) d
        GROUP BY 2, 3 HAVING sum(d.delta) <> 0 ORDER BY 2, 3
        ON CONFLICT (collection, tenant_key, lexeme) DO UPDATE SET df = s.df + EXCLUDED.df;
        INSERT INTO vecpg.bm25_totals AS t (collection, tenant_key, n_docs, total_len)
        SELECT coll, d.tenant_key, sum(d.docs), sum(d.len)
        FROM (
            SELECT coalesce(o.tenant_id, '') AS tenant_key, -1 AS docs, -length(o.fts) AS len FROM old_rows o
            UNION ALL
            SELECT coalesce(n.tenant_id, ''), 1, length(n.fts) FROM new_rows n
        ) d
        GROUP BY 2 HAVING sum(d.docs) <> 0 OR sum(d.len) <> 0 ORDER BY 2
        ON CONFLICT (collection, tenant_key) DO UPDATE
        SET n_docs = t.n_docs + EXCLUDED.n_docs, total_len = t.total_len + EXCLUDED.total_len;
    END IF;
    RETURN NULL;
END
$$;

-- A collection's part of keeping BM25 statistics: the triggers (cheap, re-created by every upgrade).
CREATE OR REPLACE FUNCTION vecpg.keyword_stats_triggers(collection text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
BEGIN
    PERFORM vecpg.statement_triggers(vecpg.get_collection(collection), 'bm25', 'vecpg.bm25_track',
                                     'OLD TABLE AS old_rows NEW TABLE AS new_rows');
END
$$;

-- The statistics triggers, and the statistics recounted from the collection's rows.
CREATE OR REPLACE FUNCTION vecpg.refresh_keyword_stats(collection text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
BEGIN
    PERFORM vecpg.keyword_stats_triggers(collection);
    DELETE FROM vecpg.bm25_df AS s WHERE s.collection = c.name;
    DELETE FROM vecpg.bm25_totals AS t WHERE t.collection = c.name;
    EXECUTE format(
        'INSERT INTO vecpg.bm25_df (collection, tenant_key, lexeme, df) '
        'SELECT %L, coalesce(d.tenant_id, ''''), u.lexeme, count(*) FROM %I.%I d, unnest(d.fts) u GROUP BY 2, 3',
        c.name, c.schema_name, c.table_name);
    EXECUTE format(
        'INSERT INTO vecpg.bm25_totals (collection, tenant_key, n_docs, total_len) '
        'SELECT %L, coalesce(d.tenant_id, ''''), count(*), sum(length(d.fts)) FROM %I.%I d GROUP BY 2',
        c.name, c.schema_name, c.table_name);
END
$$;
COMMENT ON FUNCTION vecpg.refresh_keyword_stats(text) IS
    'Install BM25 statistics triggers on a collection and recompute its statistics';

-- A tsquery matching any of the lexemes (already normalised, so no further parsing).
CREATE OR REPLACE FUNCTION vecpg.any_lexeme_query(lexemes text[])
RETURNS tsquery
LANGUAGE sql IMMUTABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT string_agg('''' || replace(replace(l, '\', '\\'), '''', '''''') || '''', ' | ')::tsquery
    FROM unnest(lexemes) AS l
$$;

-- The term frequency of one lexeme in a document, from ts_rank as explained above. Callers that
-- care about speed write the expression inline (a function with a pinned search_path is never
-- inlined); this function is the reference the tests hold the inline form to.
CREATE OR REPLACE FUNCTION vecpg.term_frequency(document tsvector, lexeme text)
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT round(1 / ((1 - ts_rank('{1,1,1,1}', document, vecpg.any_lexeme_query(ARRAY[lexeme]))::double precision)
                      * 1.6449340668482264) - 0.5)::integer
$$;
COMMENT ON FUNCTION vecpg.term_frequency(tsvector, text) IS
    'How often a lexeme occurs in a tsvector (1 for a stripped one), without copying it';

-- SQL for BM25 over the given lexemes: sum of idf * (k1 + 1) * tf / (tf + K) with
-- K = k1 * (1 - b + b * length / avgdl), written idf * (k1 + 1) * (1 - K / (tf + K)) so that
-- tf, the costly part, appears once. Numbers become float8 literals and lexemes quoted
-- tsquery literals: the planner folds them once, the filter stays a parameter. The sum is
-- grouped in parentheses, 64 terms a group, two levels: one chain of 20,000 additions (a
-- pasted document as the query) exceeded PostgreSQL's stack depth while planning.
CREATE OR REPLACE FUNCTION vecpg.bm25_sql(lexemes text[], idfs double precision[], k1 double precision,
                                          b double precision, avgdl double precision, fts text DEFAULT 'v.fts')
RETURNS text
LANGUAGE sql IMMUTABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    -- At k1 = 0 a term the document lacks would be 0 / 0: k1 = 1e-9 instead changes scores by
    -- about a billionth (it may only order documents whose scores were tied).
    WITH norm AS (
        SELECT format('(%L::float8 + %L::float8 * length(%s))', k.k1 * (1 - b), k.k1 * b / avgdl, fts) AS sql
        FROM (SELECT greatest(k1, 1e-9::float8) AS k1) k
    ),
    parts AS (
        SELECT t.i - 1 AS i,
               format('%L::float8 * (1 - %s / (round(1 / ((1 - ts_rank(''{1,1,1,1}'', %s, %L::tsquery)::float8) '
                      '* 1.6449340668482264) - 0.5) + %s))',
                      t.idf * (k1 + 1), norm.sql, fts, vecpg.any_lexeme_query(ARRAY[t.lexeme])::text, norm.sql) AS sql
        FROM unnest(lexemes, idfs) WITH ORDINALITY AS t(lexeme, idf, i), norm
    ),
    groups AS (
        SELECT p.i / 64 AS g, '(' || string_agg(p.sql, ' + ' ORDER BY p.i) || ')' AS sql FROM parts p GROUP BY 1
    ),
    supergroups AS (
        SELECT g.g / 64 AS s, '(' || string_agg(g.sql, ' + ' ORDER BY g.g) || ')' AS sql FROM groups g GROUP BY 1
    )
    SELECT coalesce(string_agg(s.sql, ' + ' ORDER BY s.s), '0') FROM supergroups s
$$;

-- How a keyword query is run against collection c: which documents it matches (any of the
-- rarest terms, or web-search semantics), which it requires, and the SQL that scores one
-- document (whose tsvector keyword_list_sql names v.fts). All NULL when no document can match.
-- Shared by keyword and hybrid search.
CREATE OR REPLACE FUNCTION vecpg.keyword_plan(
    c vecpg.collection, query text, options jsonb,
    OUT match tsquery, OUT required tsquery, OUT score_sql text
)
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    keys text[] := vecpg.visible_tenant_keys();
    terms text[];
    dfs bigint[];
    n_docs double precision;
    avgdl double precision;
    k1 double precision;
    b double precision;
    ranking text;
    unknown text;
    match_terms text[];
    max_candidates bigint;
BEGIN
    options := coalesce(options, '{}');
    IF jsonb_typeof(options) <> 'object' THEN
        RAISE EXCEPTION 'keyword search options must be a JSON object' USING ERRCODE = 'VP005';
    END IF;
    SELECT string_agg(quote_literal(key), ', ') INTO unknown FROM jsonb_object_keys(options) AS key
    WHERE key NOT IN ('k1', 'b', 'ranking', 'max_candidates');
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'unknown keyword search option %: use k1, b, ranking or max_candidates', unknown
            USING ERRCODE = 'VP005';
    END IF;
    max_candidates := vecpg._int_param(options, 'max_candidates', 500, 1, 2147483647);
    k1 := coalesce((options->>'k1')::double precision, 0.9);
    b := coalesce((options->>'b')::double precision, 0.4);
    ranking := coalesce(options->>'ranking', 'bm25');
    IF k1 < 0 OR b < 0 OR b > 1 OR ranking NOT IN ('bm25', 'ts_rank_cd') THEN
        RAISE EXCEPTION 'keyword options: k1 >= 0, 0 <= b <= 1, ranking bm25 or ts_rank_cd' USING ERRCODE = 'VP005';
    END IF;

    -- Natural-language queries need no term to be present; quotes, OR and -word ask for
    -- web-search semantics, which then also decide which documents match.
    IF query ~ '"|\mOR\M|(^|\s)-\w' THEN
        required := websearch_to_tsquery(c.language, query);
    END IF;
    terms := ARRAY(SELECT DISTINCT u.lexeme FROM unnest(to_tsvector(c.language, coalesce(query, ''))) u ORDER BY 1);
    IF cardinality(terms) = 0 THEN
        required := NULL;
        RETURN;  -- empty or only stop words: nothing to rank by
    END IF;

    SELECT coalesce(sum(t.n_docs), 0), coalesce(sum(t.total_len)::double precision / nullif(sum(t.n_docs), 0), 1)
    INTO n_docs, avgdl
    FROM vecpg.bm25_totals t
    WHERE t.collection = c.name AND (keys IS NULL OR t.tenant_key = ANY (keys));
    dfs := ARRAY(
        SELECT coalesce((SELECT sum(s.df) FROM vecpg.bm25_df s
                         WHERE s.collection = c.name AND s.lexeme = l AND (keys IS NULL OR s.tenant_key = ANY (keys))), 0)
        FROM unnest(terms) WITH ORDINALITY AS q(l, i) ORDER BY i);
    -- Which documents get scored: those holding one of the rarest terms, taken rarest first while
    -- their document frequencies add up to at most max_candidates (at least one term). Common
    -- terms alone rarely lift a document into the top k, and scoring every document that shares
    -- a stop-like word with the query would cost a scan of the collection.
    match_terms := ARRAY(
        SELECT x.l FROM (
            SELECT t.l, sum(t.df) OVER (ORDER BY t.df, t.l) AS cumulative, row_number() OVER (ORDER BY t.df, t.l) AS n
            FROM unnest(terms, dfs) AS t(l, df) WHERE t.df > 0
        ) x
        WHERE x.cumulative <= max_candidates OR x.n = 1);
    IF cardinality(match_terms) = 0 THEN
        required := NULL;
        RETURN;  -- no document holds any query term
    END IF;

    match := coalesce(required, vecpg.any_lexeme_query(match_terms));
    IF ranking = 'ts_rank_cd' THEN
        score_sql := format('ts_rank_cd(v.fts, %L::tsquery)', vecpg.any_lexeme_query(terms)::text);
    ELSE
        score_sql := vecpg.bm25_sql(
            ARRAY(SELECT t.l FROM unnest(terms, dfs) AS t(l, df) WHERE t.df > 0),
            ARRAY(SELECT ln(1 + (n_docs - t.df + 0.5) / (t.df + 0.5)) FROM unnest(terms, dfs) AS t(l, df) WHERE t.df > 0),
            k1, b, avgdl);
    END IF;
END
$$;

-- How the scoring SQL refers to document d's tsvector: in place when it is inline and not
-- compressed, else a copy made once a row, since ts_rank would decompress it or fetch it from
-- TOAST for every query term. A long document's tsvector is usually out of line and not
-- compressed (its positions defeat pglz), so it is copied. PostgreSQL 17 tells out-of-line values
-- apart (pg_column_toast_chunk_id); before it, any tsvector of 2 kB or more is copied (one that
-- small is moved out of line only when other columns of the row could not be).
CREATE OR REPLACE FUNCTION vecpg.tsvector_once_sql(
    server_version integer DEFAULT current_setting('server_version_num')::integer
)
RETURNS text
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT format('CASE WHEN pg_column_compression(d.fts) IS NULL AND %s THEN d.fts ELSE d.fts || ''''::tsvector END',
                  CASE WHEN server_version >= 170000 THEN 'pg_column_toast_chunk_id(d.fts) IS NULL'
                       ELSE 'pg_column_size(d.fts) < 2048' END)
$$;

-- The SQL selecting `columns` and the score of the best `limit_sql` keyword matches of a plan
-- (see keyword_plan), filtered by `predicate`; with no match, an empty list of ids and scores.
CREATE OR REPLACE FUNCTION vecpg.keyword_list_sql(c vecpg.collection, match tsquery, required tsquery, score_sql text,
                                                  predicate text, limit_sql text, columns text DEFAULT 'd.id')
RETURNS text
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT CASE WHEN match IS NULL THEN
        'SELECT NULL::text AS id, NULL::double precision AS score WHERE false'
    ELSE format(
        'SELECT %s, (%s)::double precision AS score FROM %I.%I d '
        'CROSS JOIN LATERAL (SELECT %s AS fts OFFSET 0) AS v '
        'WHERE d.fts @@ %L::tsquery %s ORDER BY score DESC, d.id LIMIT %s',
        columns, score_sql, c.schema_name, c.table_name, vecpg.tsvector_once_sql(), match::text,
        CASE WHEN predicate = 'true' THEN '' ELSE 'AND (' || predicate || ')' END
            || CASE WHEN required IS NULL THEN '' ELSE format(' AND d.fts @@ %L::tsquery', required::text) END,
        limit_sql)
    END
$$;

CREATE OR REPLACE FUNCTION vecpg.keyword_search(
    collection text,
    query      text,
    k          integer,
    filter     jsonb DEFAULT '{}',
    options    jsonb DEFAULT '{}'
)
RETURNS TABLE (id text, title text, content text, metadata jsonb, score double precision)
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    predicate text;
    p record;
BEGIN
    IF k IS NULL OR k NOT BETWEEN 1 AND 1000 THEN
        RAISE EXCEPTION 'k must be between 1 and 1000, got %', k USING ERRCODE = 'VP005';
    END IF;
    predicate := vecpg.compile_filter(coalesce(filter, '{}'), '$1', 'd');  -- a bad filter is an error even when nothing matches
    p := vecpg.keyword_plan(c, query, options);
    IF p.match IS NULL THEN
        RETURN;
    END IF;
    -- Sorting carries content as a TOAST pointer: only the k rows returned are read in full.
    RETURN QUERY EXECUTE vecpg.keyword_list_sql(c, p.match, p.required, p.score_sql, predicate, '$2',
                                                'd.id, d.title, d.content, d.metadata')
        USING filter, k;
END
$$;
COMMENT ON FUNCTION vecpg.keyword_search(text, text, integer, jsonb, jsonb) IS
    'k best documents for a text query by BM25 (options: k1, b, ranking bm25|ts_rank_cd, max_candidates)';

-- 07_hybrid_search.sql — the vector list and the keyword list fused in one statement.
--
-- Methods (options.method):
--   adaptive (default)  each list's scores as z-scores, each list weighted per query by how
--                       clearly its best hit stands out ((max - mean) / stddev): a list that
--                       cannot tell its documents apart gets little say
--   rrf                 reciprocal rank fusion, sum of weight / (rrf_k + rank), rrf_k 60
--   convex              min-max normalised scores, 0.7 vector + 0.3 keyword unless weights given
-- vector_weight / keyword_weight scale each list in every method. A document found by only one
-- list still takes part (the other list gives it its floor: 0, or its lowest z-score).
-- The exact path writes its statement per query and fuses in vecpg.fuse (static SQL, planned
-- once per session); the keyword indexes' functions have the fusion written inline.

-- The fusion of two ranked lists, as CTEs `joined`, `weighed` and `fused` that read CTEs `vr`
-- and `kr` (id, sim, r: each list's documents, scores and ranks) and leave in `fused` the k best
-- (id, vr, vs, kr, ks, fused), ordered. The arguments name the parameters holding the method,
-- the two weights, rrf_k and k. The one definition of the fusion methods (as in
-- this file's header): hybrid_inline_sql and vecpg.fuse are both made from it.
CREATE OR REPLACE FUNCTION vecpg.fusion_sql(method text, vector_weight text, keyword_weight text, rrf_k text, k text)
RETURNS text
LANGUAGE sql IMMUTABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT format(
        $q$
        joined AS (
            SELECT coalesce(vr.id, kr.id) AS id, vr.r AS vr, vr.sim AS vs, kr.r AS kr, kr.sim AS ks,
                   -- aggregates over each list (NULLs, i.e. the other list's documents, are ignored)
                   avg(vr.sim) OVER () AS v_mean, stddev_pop(vr.sim) OVER () AS v_sd,
                   min(vr.sim) OVER () AS v_min, max(vr.sim) OVER () AS v_max,
                   avg(kr.sim) OVER () AS k_mean, stddev_pop(kr.sim) OVER () AS k_sd,
                   min(kr.sim) OVER () AS k_min, max(kr.sim) OVER () AS k_max
            FROM vr FULL JOIN kr ON vr.id = kr.id
        ),
        weighed AS (
            SELECT j.*,
                   %2$s::float8 * coalesce((j.v_max - j.v_mean) / nullif(j.v_sd, 0), 0) AS v_conf,
                   %3$s::float8 * coalesce((j.k_max - j.k_mean) / nullif(j.k_sd, 0), 0) AS k_conf
            FROM joined j
        ),
        fused AS (
            SELECT w.id, w.vr, w.vs, w.kr, w.ks,
                   CASE %1$s::text
                   WHEN 'adaptive' THEN
                       coalesce(w.v_conf / nullif(w.v_conf + w.k_conf, 0), 0.5)
                           * coalesce((coalesce(w.vs, w.v_min) - w.v_mean) / nullif(w.v_sd, 0), 0)
                     + coalesce(w.k_conf / nullif(w.v_conf + w.k_conf, 0), 0.5)
                           * coalesce((coalesce(w.ks, w.k_min) - w.k_mean) / nullif(w.k_sd, 0), 0)
                   WHEN 'rrf' THEN
                       coalesce(%2$s::float8 / (%4$s::float8 + w.vr), 0) + coalesce(%3$s::float8 / (%4$s::float8 + w.kr), 0)
                   ELSE
                       %2$s::float8 * coalesce((w.vs - w.v_min) / nullif(w.v_max - w.v_min, 0), CASE WHEN w.vr IS NULL THEN 0 ELSE 1 END)
                     + %3$s::float8 * coalesce((w.ks - w.k_min) / nullif(w.k_max - w.k_min, 0), CASE WHEN w.kr IS NULL THEN 0 ELSE 1 END)
                   END AS fused
            FROM weighed w
            ORDER BY fused DESC, w.id
            LIMIT %5$s::integer
        )
        $q$,
        method, vector_weight, keyword_weight, rrf_k, k)
$$;

-- Fusion of two ranked lists given as arrays (ids and scores, best first): the k best documents
-- with each list's rank and score. Static SQL, planned once per session, which is what makes the
-- exact path of hybrid_search cheaper than one statement planned on every call.
DO $fuse$
BEGIN
    EXECUTE format(
        $ddl$
        CREATE OR REPLACE FUNCTION vecpg.fuse(
            vector_ids text[], vector_scores double precision[], keyword_ids text[], keyword_scores double precision[],
            method text, vector_weight double precision, keyword_weight double precision, rrf_k double precision,
            k integer
        )
        RETURNS TABLE (id text, score double precision, vector_rank integer, vector_score double precision,
                       keyword_rank integer, keyword_score double precision)
        LANGUAGE plpgsql STABLE SECURITY INVOKER
        SET search_path = pg_catalog, @vector_schema@, pg_temp
        SET plan_cache_mode = force_generic_plan
        AS $fn$
        #variable_conflict use_column
        BEGIN
            RETURN QUERY
            WITH vr AS (
                SELECT u.id, u.sim, u.r::integer AS r FROM unnest($1, $2) WITH ORDINALITY AS u(id, sim, r)
            ),
            kr AS (
                SELECT u.id, u.sim, u.r::integer AS r FROM unnest($3, $4) WITH ORDINALITY AS u(id, sim, r)
            ),
            %s
            SELECT f.id, f.fused, f.vr, f.vs, f.kr, f.ks FROM fused f ORDER BY f.fused DESC, f.id;
        END
        $fn$
        $ddl$,
        vecpg.fusion_sql('$5', '$6', '$7', '$8', '$9'));
END
$fuse$;
COMMENT ON FUNCTION vecpg.fuse(text[], double precision[], text[], double precision[], text, double precision,
                               double precision, double precision, integer) IS
    'The k best of two ranked lists fused (method adaptive, rrf or convex; see vecpg.hybrid_search)';

-- The vector list of a hybrid search statement over collection c, as CTE `v` (id, distance;
-- $2 the query embedding, $3 how many, `predicate` the filter), and the expression of a row's
-- similarity in it. Shared by hybrid_sql and hybrid_inline_sql.
CREATE OR REPLACE FUNCTION vecpg.vector_list_sql(c vecpg.collection, predicate text, OUT cte text, OUT similarity text)
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT format('v AS MATERIALIZED (%s)',
                  vecpg.nearest_sql(c, 'd.id', predicate, '$2', '$3::integer',
                                    vecpg.rerank_factor(c.search_defaults)::text)),
        CASE c.distance WHEN 'cosine' THEN '1 - v.distance' ELSE '-v.distance' END
$$;

-- A hybrid search statement for collection c: the vector list (filtered by `predicate`) and the
-- keyword list `keyword_list` (SQL returning id, score) fused by method in vecpg.fuse, which is
-- planned once per session while this statement is planned on every call (the exact path of
-- hybrid_search writes its keyword list for each query). Parameters: $1 filter, $2 query
-- embedding, $3 candidates per list, $4 method, $5 vector weight, $6 keyword weight, $7 rrf_k,
-- $8 k; a keyword list may use $9 onwards (and $1, when there is no filter).
CREATE OR REPLACE FUNCTION vecpg.hybrid_sql(c vecpg.collection, predicate text, keyword_list text)
RETURNS text
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT format(
        $q$
        WITH %1$s,
        lists AS (
            SELECT (SELECT array_agg(v.id ORDER BY v.distance, v.id) FROM v) AS v_ids,
                   (SELECT array_agg(%2$s ORDER BY v.distance, v.id) FROM v) AS v_sims,
                   k.ids AS k_ids, k.scores AS k_sims
            FROM (SELECT array_agg(s.id ORDER BY s.score DESC, s.id) AS ids,
                         array_agg(s.score ORDER BY s.score DESC, s.id) AS scores FROM (%3$s) s) k
        )
        SELECT d.id, d.title, d.content, d.metadata, f.score, f.vector_rank, f.vector_score, f.keyword_rank, f.keyword_score
        FROM lists l
        CROSS JOIN LATERAL vecpg.fuse(l.v_ids, l.v_sims, l.k_ids, l.k_sims, $4::text, $5::float8, $6::float8, $7::float8, $8::integer) f
        JOIN %4$I.%5$I d ON d.id = f.id
        ORDER BY f.score DESC, f.id
        $q$,
        l.cte, l.similarity, keyword_list, c.schema_name, c.table_name)
    FROM vecpg.vector_list_sql(c, predicate) l
$$;

-- A hybrid search statement for collection c with the fusion written into it, for statements
-- planned once (the keyword indexes' search functions): the vector list (filtered by
-- `predicate`) and the keyword list `keyword_list` (SQL returning id, score) fused by method.
-- Parameters as for hybrid_sql.
CREATE OR REPLACE FUNCTION vecpg.hybrid_inline_sql(c vecpg.collection, predicate text, keyword_list text)
RETURNS text
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT format(
        $q$
        WITH %1$s,
        vr AS (
            SELECT v.id, %2$s AS sim, (row_number() OVER (ORDER BY v.distance, v.id))::integer AS r FROM v
        ),
        kr AS (
            SELECT s.id, s.score AS sim, (row_number() OVER (ORDER BY s.score DESC, s.id))::integer AS r FROM (%3$s) s
        ),
        %4$s
        SELECT d.id, d.title, d.content, d.metadata, f.fused, f.vr, f.vs, f.kr, f.ks
        FROM fused f JOIN %5$I.%6$I d ON d.id = f.id
        ORDER BY f.fused DESC, f.id
        $q$,
        l.cte, l.similarity, keyword_list, vecpg.fusion_sql('$4', '$5', '$6', '$7', '$8'), c.schema_name, c.table_name)
    FROM vecpg.vector_list_sql(c, predicate) l
$$;

-- The keyword list comes from the keyword index when the collection has one and the search
-- allows it (vecpg.uses_keyword_index), else from exact BM25.
CREATE OR REPLACE FUNCTION vecpg.hybrid_search(
    collection      text,
    query           text,
    query_embedding vector,
    k               integer,
    filter          jsonb DEFAULT '{}',
    options         jsonb DEFAULT '{}'
)
RETURNS TABLE (
    id text, title text, content text, metadata jsonb, score double precision,
    vector_rank integer, vector_score double precision, keyword_rank integer, keyword_score double precision
)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    opts jsonb := coalesce(options, '{}');
    method text := coalesce(opts->>'method', 'adaptive');
    candidates integer;
    rrf_k double precision := coalesce((opts->>'rrf_k')::double precision, 60);
    w_vector double precision;
    w_keyword double precision;
    max_postings integer;
    ef_search integer;
    vector_opts jsonb;
    keyword_opts jsonb;
    unknown text;
    predicate text;
    p record;
BEGIN
    PERFORM vecpg.check_vector_query(c, query_embedding, k);
    IF jsonb_typeof(opts) <> 'object' THEN
        RAISE EXCEPTION 'hybrid search options must be a JSON object' USING ERRCODE = 'VP005';
    END IF;
    SELECT string_agg(key, ', ') INTO unknown FROM jsonb_object_keys(opts) AS key
    WHERE key NOT IN ('method', 'candidates', 'rrf_k', 'vector_weight', 'keyword_weight',
                      'ef_search', 'probes', 'iterative_scan', 'max_scan_tuples', 'rerank', 'k1', 'b', 'ranking',
                      'max_candidates', 'max_postings', 'keyword_index');
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'unknown hybrid search option(s): %', unknown USING ERRCODE = 'VP005';
    END IF;
    IF method NOT IN ('adaptive', 'rrf', 'convex') THEN
        RAISE EXCEPTION 'hybrid method must be adaptive, rrf or convex, got %', quote_literal(method)
            USING ERRCODE = 'VP005';
    END IF;
    candidates := vecpg._int_param(opts, 'candidates', least(4 * k, 1000), k, 1000);
    max_postings := vecpg._int_param(opts, 'max_postings', 800, 1, 1000000);
    w_vector := coalesce((opts->>'vector_weight')::double precision, CASE method WHEN 'convex' THEN 0.7 ELSE 1 END);
    w_keyword := coalesce((opts->>'keyword_weight')::double precision, CASE method WHEN 'convex' THEN 0.3 ELSE 1 END);
    IF w_vector < 0 OR w_keyword < 0 OR rrf_k <= 0 THEN
        RAISE EXCEPTION 'weights must be >= 0 and rrf_k > 0' USING ERRCODE = 'VP005';
    END IF;
    IF jsonb_typeof(opts->'keyword_index') NOT IN ('boolean', 'null') THEN
        RAISE EXCEPTION 'keyword_index must be true or false' USING ERRCODE = 'VP005';
    END IF;
    predicate := vecpg.compile_filter(coalesce(filter, '{}'), '$1', 'd');

    vector_opts := vecpg.search_options(c, (SELECT coalesce(jsonb_object_agg(key, value), '{}') FROM jsonb_each(opts)
                                            WHERE key IN ('ef_search', 'probes', 'iterative_scan', 'max_scan_tuples', 'rerank')),
                                        candidates);
    -- The vector list (vector_list_sql) re-ranks binary candidates by the factor of this call.
    c.search_defaults := c.search_defaults || jsonb_build_object('rerank', vecpg.rerank_factor(vector_opts));
    -- An HNSW scan returns at most ef_search rows: the vector list needs `candidates` of them.
    IF NOT vector_opts ? 'ef_search' THEN
        vector_opts := vector_opts || jsonb_build_object('ef_search', least(vecpg.scan_rows(c, candidates, vector_opts), 1000));
    END IF;
    IF vecpg.rows_filtered(predicate) AND NOT vector_opts ? 'iterative_scan' AND vecpg.pgvector_version() >= '{0,8}' THEN
        vector_opts := vector_opts || '{"iterative_scan": "relaxed_order"}';
    END IF;
    PERFORM vecpg.apply_search_options(vector_opts);
    keyword_opts := (SELECT coalesce(jsonb_object_agg(key, value), '{}') FROM jsonb_each(opts)
                     WHERE key IN ('k1', 'b', 'ranking', 'max_candidates'));

    -- The keyword index's search function has its vector list written in, with the collection's
    -- own re-rank factor: a call's own factor takes the exact path.
    IF coalesce((opts->>'keyword_index')::boolean, true) AND NOT opts ? 'rerank'
       AND vecpg.uses_keyword_index(c, query, filter, keyword_opts) THEN
        p := vecpg.keyword_plan(c, NULL, keyword_opts);  -- checks the keyword options as the exact path would
        ef_search := vecpg._int_param(vector_opts, 'ef_search', candidates, 1, 1000);
        RETURN QUERY EXECUTE format('SELECT * FROM vecpg_postings.%I($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)',
                                    c.name)
            USING query, query_embedding, candidates, method, w_vector, w_keyword, rrf_k, k, max_postings,
                  coalesce((keyword_opts->>'k1')::double precision, 0.9), coalesce((keyword_opts->>'b')::double precision, 0.4),
                  ef_search, vector_opts->>'iterative_scan';
        RETURN;
    END IF;
    p := vecpg.keyword_plan(c, query, keyword_opts);
    RETURN QUERY EXECUTE vecpg.hybrid_sql(c, predicate, vecpg.keyword_list_sql(c, p.match, p.required, p.score_sql, predicate, '$3'))
        USING filter, query_embedding, candidates, method, w_vector, w_keyword, rrf_k, k;
END
$$;
COMMENT ON FUNCTION vecpg.hybrid_search(text, text, vector, integer, jsonb, jsonb) IS
    'Vector and BM25 keyword lists fused in one statement (method adaptive, rrf or convex); '
    'the keyword list comes from the keyword index when the collection has one';

-- 08_keyword_index.sql — the opt-in keyword index: impact-ordered postings per collection, so
-- that hybrid search reads the best postings of each term instead of scoring every candidate.
--
-- vecpg_postings.<collection> holds one row per (document, lexeme) with tf, the document's
-- length and the impact tf / (tf + k1 (1 - b + b len / avgdl)) at k1 0.9, b 0.4, indexed on
-- (tenant_key, lexeme, impact DESC) and kept by statement triggers. Hybrid search reads the best
-- max_postings (800) postings shared among the query's terms by idf, in a function of the
-- collection's own, vecpg_postings.<collection>(...), planned once per session. Impacts use the
-- average length of the moment (scores always use current statistics); enabling again
-- rebuilds them. Building over existing rows reads every tenant's documents: it needs a role
-- that row-level security does not restrict, or an empty collection. Filters, web-search
-- syntax, ts_rank_cd and max_candidates take the exact path.

-- The keyword index of a collection, or NULL when it has none.
CREATE OR REPLACE FUNCTION vecpg.keyword_index(c vecpg.collection)
RETURNS regclass
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT to_regclass(format('vecpg_postings.%I', c.name))
$$;

CREATE OR REPLACE FUNCTION vecpg.has_keyword_index(collection text)
RETURNS boolean
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT vecpg.keyword_index(vecpg.get_collection(collection)) IS NOT NULL
$$;
COMMENT ON FUNCTION vecpg.has_keyword_index(text) IS 'Whether a collection has a keyword index (hybrid search fast path)';

-- The postings of a set of rows (a transition table or the collection), as a SELECT list:
-- tenant_key, lexeme, id, tf, len, impact. tf is the number of positions (1 in a stripped
-- tsvector), len the number of distinct lexemes, as in vecpg.bm25_totals.
CREATE OR REPLACE FUNCTION vecpg.postings_sql(c vecpg.collection, source text)
RETURNS text
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT format(
        'SELECT coalesce(r.tenant_id, ''''), u.lexeme, r.id, x.tf, x.len, '
        '(x.tf / (x.tf + 0.9 * (0.6 + 0.4 * x.len / s.avgdl)))::real '
        'FROM %s r CROSS JOIN LATERAL unnest(r.fts) u '
        'CROSS JOIN LATERAL (SELECT coalesce(cardinality(u.positions), 1) AS tf, length(r.fts) AS len) x, '
        '(SELECT coalesce(sum(t.total_len)::float8 / nullif(sum(t.n_docs), 0), 1) AS avgdl '
        ' FROM vecpg.bm25_totals t WHERE t.collection = %L) s',
        source, c.name)
$$;

CREATE OR REPLACE FUNCTION vecpg.postings_track()
RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
DECLARE
    c vecpg.collection := vecpg.get_collection(TG_ARGV[0]);
    postings text := format('vecpg_postings.%I', c.name);
BEGIN
    IF TG_OP = 'INSERT' THEN
        EXECUTE format('INSERT INTO %s %s', postings, vecpg.postings_sql(c, 'new_rows'));
    ELSIF TG_OP = 'DELETE' THEN
        EXECUTE format('DELETE FROM %s p USING old_rows o WHERE p.id = o.id', postings);
    ELSE
        -- Updates that leave text and tenant alone (embeddings, metadata) leave postings alone.
        EXECUTE format(
            'DELETE FROM %s p USING old_rows o WHERE p.id = o.id AND NOT EXISTS ('
            'SELECT 1 FROM new_rows n WHERE n.id = o.id AND n.fts = o.fts '
            'AND n.tenant_id IS NOT DISTINCT FROM o.tenant_id)', postings);
        EXECUTE format(
            'INSERT INTO %s %s', postings,
            vecpg.postings_sql(c, '(SELECT n.* FROM new_rows n WHERE NOT EXISTS ('
                                  'SELECT 1 FROM old_rows o WHERE o.id = n.id AND o.fts = n.fts '
                                  'AND o.tenant_id IS NOT DISTINCT FROM n.tenant_id))'));
    END IF;
    RETURN NULL;
END
$$;

-- Create (or rebuild, refreshing every impact) a collection's keyword index; returns the
-- number of postings written.
CREATE OR REPLACE FUNCTION vecpg.enable_keyword_index(collection text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    -- Subqueries, so that the tenant is looked up once per scan rather than once per posting.
    own text := 'tenant_key = (SELECT coalesce(vecpg.current_tenant(), ''''))';
    written bigint;
BEGIN
    -- Row-level security would hide other tenants' documents from the fill: an index missing
    -- them would quietly drop them from their tenants' keyword lists.
    IF row_security_active(format('%I.%I', c.schema_name, c.table_name)::regclass)
       AND pg_relation_size(format('%I.%I', c.schema_name, c.table_name)::regclass) > 0 THEN
        RAISE EXCEPTION 'building the keyword index of "%" reads every tenant''s documents: run it as a role '
                        'that row-level security does not restrict (superuser or BYPASSRLS), or before loading',
                        c.name USING ERRCODE = 'insufficient_privilege';
    END IF;
    EXECUTE format('DROP FUNCTION IF EXISTS vecpg_postings.%I', c.name);
    EXECUTE format('DROP TABLE IF EXISTS vecpg_postings.%I', c.name);
    EXECUTE format(
        'CREATE TABLE vecpg_postings.%I ('
        ' tenant_key text NOT NULL, lexeme text NOT NULL, id text NOT NULL,'
        ' tf integer NOT NULL, len integer NOT NULL, impact real NOT NULL,'
        ' PRIMARY KEY (id, lexeme))', c.name);
    EXECUTE format('COMMENT ON TABLE vecpg_postings.%I IS %L', c.name, 'vecpg keyword index of collection ' || c.name);
    -- Rows follow the documents they come from: a tenant sees its own (and shared ones).
    EXECUTE format('ALTER TABLE vecpg_postings.%I ENABLE ROW LEVEL SECURITY', c.name);
    EXECUTE format('ALTER TABLE vecpg_postings.%I FORCE ROW LEVEL SECURITY', c.name);
    EXECUTE format('CREATE POLICY tenant_postings ON vecpg_postings.%I USING (%s OR (tenant_key = '''' AND (SELECT vecpg.shares_rows(%L)))) '
                   'WITH CHECK (%s)', c.name, own, c.name, own);
    EXECUTE format('GRANT SELECT ON vecpg_postings.%I TO vecpg_reader', c.name);
    EXECUTE format('GRANT INSERT, UPDATE, DELETE ON vecpg_postings.%I TO vecpg_writer', c.name);
    IF pg_has_role('vecpg_admin', 'MEMBER') THEN
        EXECUTE format('ALTER TABLE vecpg_postings.%I OWNER TO vecpg_admin', c.name);
    END IF;

    EXECUTE format('INSERT INTO vecpg_postings.%I %s', c.name,
                   vecpg.postings_sql(c, format('%I.%I', c.schema_name, c.table_name)));
    GET DIAGNOSTICS written = ROW_COUNT;
    -- Built after the fill: one sort instead of a hundred thousand index insertions.
    EXECUTE format('CREATE INDEX %I ON vecpg_postings.%I (tenant_key, lexeme, impact DESC) INCLUDE (id, tf, len)',
                   left(c.name, 50) || '_impact', c.name);
    EXECUTE format('ANALYZE vecpg_postings.%I', c.name);

    PERFORM vecpg.keyword_index_objects(collection);
    RETURN written;
END
$$;
COMMENT ON FUNCTION vecpg.enable_keyword_index(text) IS
    'Create or rebuild a collection''s impact-ordered keyword index (fast hybrid search); returns postings written';

CREATE OR REPLACE FUNCTION vecpg.disable_keyword_index(collection text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    event text;
    had boolean := vecpg.keyword_index(c) IS NOT NULL;
BEGIN
    FOREACH event IN ARRAY ARRAY['insert', 'update', 'delete'] LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I.%I', 'postings_' || event, c.schema_name, c.table_name);
    END LOOP;
    EXECUTE format('DROP FUNCTION IF EXISTS vecpg_postings.%I', c.name);
    EXECUTE format('DROP TABLE IF EXISTS vecpg_postings.%I', c.name);
    RETURN had;
END
$$;
COMMENT ON FUNCTION vecpg.disable_keyword_index(text) IS 'Drop a collection''s keyword index; false when it had none';

-- A keyword index goes with its collection, however the catalog row is deleted.
CREATE OR REPLACE FUNCTION vecpg.drop_keyword_index_of_collection()
RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
BEGIN
    EXECUTE format('DROP FUNCTION IF EXISTS vecpg_postings.%I', OLD.name);
    EXECUTE format('DROP TABLE IF EXISTS vecpg_postings.%I', OLD.name);
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS drop_keyword_index ON vecpg.collection;
CREATE TRIGGER drop_keyword_index AFTER DELETE ON vecpg.collection
    FOR EACH ROW EXECUTE FUNCTION vecpg.drop_keyword_index_of_collection();

-- The keyword list from the keyword index, as SQL returning (id, score): the query text $1 is
-- parsed with the collection's language; each query term, for each visible tenant, reads its
-- best postings, $9 of them in all shared among the terms by their idf (a rare term decides
-- more than a common one); BM25 with k1 $10 and b $11 is summed over the terms a document was
-- found by; the best $3 are returned.
CREATE OR REPLACE FUNCTION vecpg.postings_list_sql(c vecpg.collection)
RETURNS text
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT format(
        $q$
        WITH keys AS MATERIALIZED (
            -- no tenant: every tenant's statistics that row-level security lets the caller read
            SELECT coalesce(vecpg.visible_tenant_keys(),
                            ARRAY(SELECT t.tenant_key FROM vecpg.bm25_totals t WHERE t.collection = %1$L)) AS keys
        ),
        totals AS MATERIALIZED (
            SELECT coalesce(sum(t.n_docs), 0)::float8 AS n_docs,
                   coalesce(sum(t.total_len)::float8 / nullif(sum(t.n_docs), 0), 1) AS avgdl
            FROM vecpg.bm25_totals t, keys WHERE t.collection = %1$L AND t.tenant_key = ANY (keys.keys)
        ),
        idfs AS MATERIALIZED (
            SELECT q.lexeme, ln(1 + (totals.n_docs - f.df + 0.5) / (f.df + 0.5)) AS idf
            FROM (SELECT DISTINCT u.lexeme FROM unnest(to_tsvector(%2$L::regconfig, coalesce($1::text, ''))) u) q
            CROSS JOIN keys CROSS JOIN totals
            CROSS JOIN LATERAL (SELECT sum(s.df)::float8 AS df FROM vecpg.bm25_df s
                                WHERE s.collection = %1$L AND s.lexeme = q.lexeme AND s.tenant_key = ANY (keys.keys)) f
            WHERE f.df > 0
        ),
        terms AS MATERIALIZED (
            SELECT i.lexeme, i.idf * ($10::float8 + 1) AS weight,
                   greatest(1, ceil($9::integer * i.idf / nullif(sum(i.idf) OVER (), 0)))::integer AS reads
            FROM idfs i
        )
        SELECT p.id, sum(t.weight * p.tf / (p.tf + $10::float8 * (1 - $11::float8 + $11::float8 * p.len / totals.avgdl))) AS score
        FROM terms t CROSS JOIN keys CROSS JOIN totals
        CROSS JOIN LATERAL unnest(keys.keys) AS key
        CROSS JOIN LATERAL (
            SELECT x.id, x.tf, x.len FROM vecpg_postings.%3$I x
            WHERE x.tenant_key = key AND x.lexeme = t.lexeme
            ORDER BY x.impact DESC LIMIT t.reads
        ) p
        GROUP BY p.id
        ORDER BY score DESC, p.id
        LIMIT $3::integer
        $q$,
        c.name, c.language::text, c.name)
$$;

-- Whether a search of this shape may read its keyword list from a keyword index: no filter, no
-- web-search syntax, BM25 without a candidate cap (those need the exact path). Python asks it in
-- the statement that calls a collection's search function directly.
CREATE OR REPLACE FUNCTION vecpg.keyword_index_serves(query text, filter jsonb, options jsonb)
RETURNS boolean
LANGUAGE sql IMMUTABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT coalesce(filter, '{}') = '{}'
       AND NOT coalesce(query ~ '"|\mOR\M|(^|\s)-\w', false)
       AND coalesce(options->>'ranking', 'bm25') = 'bm25'
       AND NOT coalesce(options ? 'max_candidates', false)
$$;

-- Whether a hybrid search of collection c reads its keyword list from the keyword index.
CREATE OR REPLACE FUNCTION vecpg.uses_keyword_index(c vecpg.collection, query text, filter jsonb, options jsonb)
RETURNS boolean
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT vecpg.keyword_index(c) IS NOT NULL AND vecpg.keyword_index_serves(query, filter, options)
$$;

-- A collection's hybrid search over its keyword index, as a function of its own in
-- vecpg_postings (created with the index, named after the collection like the postings table):
--   vecpg_postings.<collection>(query, query_embedding, candidates, method, vector_weight,
--       keyword_weight, rrf_k, k, max_postings, k1, b, ef_search, iterative_scan)
-- vecpg.hybrid_search calls it when the search allows; clients may call it directly. Static SQL
-- in PL/pgSQL is planned once per session, and always generically: planned anew, the statement
-- costs as much as it takes to run (the parameters do not change the best plan).
CREATE OR REPLACE FUNCTION vecpg.create_keyword_search_function(c vecpg.collection)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
BEGIN
    EXECUTE format(
        $ddl$
        CREATE OR REPLACE FUNCTION vecpg_postings.%1$I(
            query text, query_embedding %2$I.vector, candidates integer, method text,
            vector_weight double precision, keyword_weight double precision, rrf_k double precision,
            k integer, max_postings integer, k1 double precision, b double precision,
            ef_search integer, iterative_scan text
        )
        RETURNS TABLE (
            id text, title text, content text, metadata jsonb, score double precision,
            vector_rank integer, vector_score double precision, keyword_rank integer, keyword_score double precision
        )
        LANGUAGE plpgsql VOLATILE SECURITY INVOKER
        SET search_path = pg_catalog, pg_temp
        SET plan_cache_mode = force_generic_plan
        AS $fn$
        #variable_conflict use_column
        BEGIN
            -- An HNSW scan returns at most ef_search rows; row-level security may filter them.
            PERFORM set_config('hnsw.ef_search', ef_search::text, true),
                    set_config('hnsw.iterative_scan',
                               coalesce(iterative_scan, current_setting('hnsw.iterative_scan', true), 'off'), true);
            RETURN QUERY %3$s;
        END
        $fn$
        $ddl$,
        c.name, vecpg.vector_schema(), vecpg.hybrid_inline_sql(c, 'true', vecpg.postings_list_sql(c)));
    EXECUTE format('COMMENT ON FUNCTION vecpg_postings.%I IS %L', c.name,
                   'Hybrid search of collection ' || c.name || ' over its keyword index (see vecpg.hybrid_search)');
    EXECUTE format('REVOKE EXECUTE ON FUNCTION vecpg_postings.%I FROM PUBLIC', c.name);
    EXECUTE format('GRANT EXECUTE ON FUNCTION vecpg_postings.%I TO vecpg_reader', c.name);
    IF pg_has_role('vecpg_admin', 'MEMBER') THEN  -- so that any admin may rebuild or drop it
        EXECUTE format('ALTER FUNCTION vecpg_postings.%I OWNER TO vecpg_admin', c.name);
    END IF;
END
$$;

-- A collection's part of its keyword index that is made from this file's functions: the
-- triggers keeping the postings (named after the bm25_* triggers, so they fire after them and
-- see the new totals) and its search function. Nothing when it has no keyword index.
CREATE OR REPLACE FUNCTION vecpg.keyword_index_objects(collection text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
BEGIN
    IF vecpg.keyword_index(c) IS NOT NULL THEN
        PERFORM vecpg.statement_triggers(c, 'postings', 'vecpg.postings_track', 'OLD TABLE AS old_rows NEW TABLE AS new_rows');
        PERFORM vecpg.create_keyword_search_function(c);
    END IF;
END
$$;


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
        WHERE (o.title, o.content, o.embedding, o.metadata, o.tenant_id)
              IS DISTINCT FROM (n.title, n.content, n.embedding, n.metadata, n.tenant_id)
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
    WHERE k NOT IN ('m', 'ef_construct', 'quantization', 'quantile', 'always_ram', 'payload_indexes', 'content');
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'unknown mirror setting(s): % (allowed: m, ef_construct, quantization, quantile, always_ram, '
                        'payload_indexes, content)', unknown USING ERRCODE = 'VP005';
    END IF;
    PERFORM vecpg._int_param(settings, 'm', 16, 2, 100), vecpg._int_param(settings, 'ef_construct', 64, 4, 1000);
    IF coalesce(settings->>'quantization', 'int8') <> 'int8' THEN
        RAISE EXCEPTION 'quantization must be int8 (or absent)' USING ERRCODE = 'VP005';
    END IF;
    IF settings ? 'quantile' AND (jsonb_typeof(settings->'quantile') <> 'number'
                                 OR (settings->>'quantile')::numeric NOT BETWEEN 0.5 AND 1) THEN
        RAISE EXCEPTION 'quantile must be a number between 0.5 and 1' USING ERRCODE = 'VP005';
    END IF;
    IF (settings ? 'always_ram' AND jsonb_typeof(settings->'always_ram') <> 'boolean')
       OR (settings ? 'content' AND jsonb_typeof(settings->'content') <> 'boolean') THEN
        RAISE EXCEPTION 'always_ram and content must be true or false' USING ERRCODE = 'VP005';
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
    'Mirror a collection to Qdrant (settings: m, ef_construct, quantization int8, quantile, always_ram, payload_indexes, content)';

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

-- 10_embedding_queue.sql — text written from any client becomes a vector through the workers.
--
-- A document of a collection with a model that is written without a vector (INSERT, COPY,
-- vecpg.add_document) is queued in the writing transaction; `vecpg worker` claims queued rows,
-- embeds their text and writes the vectors. Whether a document needs a new vector is decided
-- by its text, title and content as the model sees them (vecpg.embedding_text): a change of
-- metadata queues nothing; a change of text drops the old vector in the same statement (a
-- search never finds a document by the vector of a text it no longer has) and queues the new
-- text; a delete or a vector written by the client cancels (except, in a chunked collection, for
-- a text too long for one vector: the workers chunk it). A worker writes a vector only if
-- the row still has the text whose SHA-256 it claimed, so it never stores a stale one.

-- Function bodies here are strings, never BEGIN ATOMIC: those depend on the tables and
-- functions they name, which a downgrade drops first.

-- The text the collection's model embeds: what vecpg's Python embeds too (documents.py).
CREATE OR REPLACE FUNCTION vecpg.embedding_text(title text, content text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT CASE WHEN coalesce(title, '') = '' THEN coalesce(content, '')
                ELSE btrim(title || ' ' || coalesce(content, ''), ' ') END
$$;
COMMENT ON FUNCTION vecpg.embedding_text(text, text) IS 'The text a collection''s model embeds: title and content';

CREATE OR REPLACE FUNCTION vecpg.text_hash(title text, content text)
RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT sha256(convert_to(vecpg.embedding_text(title, content), 'UTF8'))
$$;
COMMENT ON FUNCTION vecpg.text_hash(text, text) IS 'SHA-256 of the text a collection''s model embeds';

-- Workers hold a session advisory lock (worker_lock_class(), their key) while they work; a
-- claim by a key whose lock nobody holds is free (its worker died or disconnected).
CREATE OR REPLACE FUNCTION vecpg.worker_lock_class()
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$ SELECT 1987208039 $$;  -- 'vpgw'

-- A text change with the vector left as it was: the vector is stale, so it goes now (the
-- statement trigger below queues the new text). BEFORE UPDATE, per row, only when the WHEN
-- clause of the trigger saw the text change.
CREATE OR REPLACE FUNCTION vecpg.drop_stale_embedding()
RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
BEGIN
    NEW.embedding := NULL;
    RETURN NEW;
END
$$;

-- Statement-level, with transition tables: the queue follows the rows the statement wrote.
-- SECURITY DEFINER so that writers queue rows in a table they may not read.
CREATE OR REPLACE FUNCTION vecpg.embedding_capture()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
DECLARE
    coll text := TG_ARGV[0];
    c vecpg.collection;
    chunked boolean;
    queued bigint := 0;
BEGIN
    SELECT * INTO c FROM vecpg.collection x WHERE x.name = coll;
    chunked := c.chunk_tokens IS NOT NULL;
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM vecpg.embedding_queue q WHERE q.collection = coll;
        IF chunked THEN
            EXECUTE format('TRUNCATE %I.%I', c.schema_name, vecpg.chunk_table(coll));
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        DELETE FROM vecpg.embedding_queue q USING old_rows o WHERE q.collection = coll AND q.doc_id = o.id;
        IF chunked THEN
            EXECUTE format('DELETE FROM %I.%I ch USING old_rows o WHERE ch.parent_id = o.id',
                           c.schema_name, vecpg.chunk_table(coll));
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' AND chunked THEN
        -- Chunks of a text that changed (or of an id that is gone) are stale: they go now, and
        -- the worker writes the new text's chunks with its vector.
        EXECUTE format(
            'DELETE FROM %I.%I ch USING old_rows o LEFT JOIN new_rows n ON n.id = o.id '
            'WHERE ch.parent_id = o.id AND (n.id IS NULL '
            '      OR vecpg.text_hash(o.title, o.content) <> vecpg.text_hash(n.title, n.content))',
            c.schema_name, vecpg.chunk_table(coll));
    END IF;
    IF TG_OP = 'UPDATE' THEN
        -- Given a vector by the writer, or renamed away: nothing left to embed under that id.
        DELETE FROM vecpg.embedding_queue q
        USING old_rows o
        WHERE q.collection = coll AND q.doc_id = o.id
          AND NOT EXISTS (SELECT 1 FROM new_rows n WHERE n.id = o.id AND n.embedding IS NULL);
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO vecpg.embedding_queue AS q (collection, doc_id, text_hash)
        SELECT coll, n.id, vecpg.text_hash(n.title, n.content)
        FROM new_rows n
        WHERE vecpg.embedding_text(n.title, n.content) <> ''
          AND (n.embedding IS NULL
               OR (chunked AND length(vecpg.embedding_text(n.title, n.content)) > c.chunk_tokens))
        ORDER BY n.id
        ON CONFLICT (collection, doc_id) DO UPDATE
            SET text_hash = EXCLUDED.text_hash, queued_at = now(), attempts = 0, retry_at = now(),
                last_error = NULL, failed_at = NULL, claimed_by = NULL, claimed_at = NULL;
        GET DIAGNOSTICS queued = ROW_COUNT;
    ELSIF TG_OP = 'UPDATE' THEN
        -- Queued: rows without a vector whose text changed, that lost their vector, or are new
        -- under a changed id; in a chunked collection, also long texts written with a vector
        -- (the client's one vector cannot stand for their chunks). A row still waiting with the
        -- same text keeps its place.
        INSERT INTO vecpg.embedding_queue AS q (collection, doc_id, text_hash)
        SELECT coll, n.id, vecpg.text_hash(n.title, n.content)
        FROM new_rows n LEFT JOIN old_rows o ON o.id = n.id
        WHERE vecpg.embedding_text(n.title, n.content) <> ''
          AND ((n.embedding IS NULL
                AND (o.id IS NULL OR o.embedding IS NOT NULL
                     OR vecpg.text_hash(o.title, o.content) <> vecpg.text_hash(n.title, n.content)))
               OR (chunked AND n.embedding IS NOT NULL
                   AND length(vecpg.embedding_text(n.title, n.content)) > c.chunk_tokens
                   AND (o.id IS NULL OR vecpg.text_hash(o.title, o.content) <> vecpg.text_hash(n.title, n.content))))
        ORDER BY n.id
        ON CONFLICT (collection, doc_id) DO UPDATE
            SET text_hash = EXCLUDED.text_hash, queued_at = now(), attempts = 0, retry_at = now(),
                last_error = NULL, failed_at = NULL, claimed_by = NULL, claimed_at = NULL
            WHERE q.text_hash IS DISTINCT FROM EXCLUDED.text_hash OR q.failed_at IS NOT NULL;
        GET DIAGNOSTICS queued = ROW_COUNT;
        -- Rows that changed id and left their text empty, or emptied it: nothing to embed.
        DELETE FROM vecpg.embedding_queue q
        USING new_rows n
        WHERE q.collection = coll AND q.doc_id = n.id AND vecpg.embedding_text(n.title, n.content) = '';
    END IF;
    IF queued > 0 THEN
        PERFORM pg_notify('vecpg_embed', coll);  -- wakes `vecpg worker`
    END IF;
    RETURN NULL;
END
$$;

-- A collection's embedding part: with a model, the triggers that keep the queue; without one,
-- none (nothing could embed its rows: they need vectors from the client).
CREATE OR REPLACE FUNCTION vecpg.embedding_queue_objects(collection text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    event text;
BEGIN
    EXECUTE format('DROP TRIGGER IF EXISTS embedding_stale ON %I.%I', c.schema_name, c.table_name);
    IF c.model IS NOT NULL THEN
        EXECUTE format('CREATE TRIGGER embedding_stale BEFORE UPDATE OF title, content ON %I.%I FOR EACH ROW '
                       'WHEN ((OLD.title, OLD.content) IS DISTINCT FROM (NEW.title, NEW.content) '
                       'AND NEW.embedding IS NOT NULL AND NEW.embedding IS NOT DISTINCT FROM OLD.embedding) '
                       'EXECUTE FUNCTION vecpg.drop_stale_embedding()', c.schema_name, c.table_name);
        PERFORM vecpg.statement_triggers(c, 'embedding', 'vecpg.embedding_capture',
                                         'OLD TABLE AS old_rows NEW TABLE AS new_rows');
        EXECUTE format('DROP TRIGGER IF EXISTS embedding_truncate ON %I.%I', c.schema_name, c.table_name);
        EXECUTE format('CREATE TRIGGER embedding_truncate AFTER TRUNCATE ON %I.%I FOR EACH STATEMENT '
                       'EXECUTE FUNCTION vecpg.embedding_capture(%L)', c.schema_name, c.table_name, c.name);
    ELSE
        FOREACH event IN ARRAY ARRAY['insert', 'update', 'delete', 'truncate'] LOOP
            EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I.%I', 'embedding_' || event, c.schema_name, c.table_name);
        END LOOP;
    END IF;
END
$$;

-- Queue every document of a collection that has text and no vector: rows written before the
-- collection was queued (an upgrade from 0008) or whose vectors were cleared by hand.
CREATE OR REPLACE FUNCTION vecpg.queue_missing_embeddings(collection text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    queued bigint;
BEGIN
    IF c.model IS NULL THEN
        RAISE EXCEPTION 'collection "%" has no model: its documents need vectors from the client', c.name
            USING ERRCODE = 'VP005';
    END IF;
    EXECUTE format(
        'INSERT INTO vecpg.embedding_queue (collection, doc_id, text_hash) '
        'SELECT %L, d.id, vecpg.text_hash(d.title, d.content) FROM %I.%I d '
        'WHERE d.embedding IS NULL AND vecpg.embedding_text(d.title, d.content) <> '''' '
        'ON CONFLICT (collection, doc_id) DO NOTHING', c.name, c.schema_name, c.table_name);
    GET DIAGNOSTICS queued = ROW_COUNT;
    IF queued > 0 THEN
        PERFORM pg_notify('vecpg_embed', c.name);
    END IF;
    RETURN queued;
END
$$;
COMMENT ON FUNCTION vecpg.queue_missing_embeddings(text) IS
    'Queue for embedding every document of a collection that has text and no vector';

-- Write a document's text and let the workers embed it: the way to add documents from any client.
CREATE OR REPLACE FUNCTION vecpg.add_document(
    collection text,
    id         text DEFAULT NULL,
    title      text DEFAULT NULL,
    content    text DEFAULT '',
    metadata   jsonb DEFAULT '{}'
)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    written text;
BEGIN
    IF c.model IS NULL THEN
        RAISE EXCEPTION 'collection "%" has no model to embed documents: insert them with their vectors', c.name
            USING ERRCODE = 'VP005';
    END IF;
    IF vecpg.embedding_text(title, content) = '' THEN
        RAISE EXCEPTION 'document % has no text to embed', coalesce(quote_literal(id), '(new)')
            USING ERRCODE = 'VP005';
    END IF;
    EXECUTE format(
        'INSERT INTO %I.%I AS d (id, title, content, metadata) VALUES (coalesce($1, gen_random_uuid()::text), $2, $3, $4) '
        'ON CONFLICT (id) DO UPDATE SET title = EXCLUDED.title, content = EXCLUDED.content, metadata = EXCLUDED.metadata '
        'RETURNING d.id', c.schema_name, c.table_name)
        INTO written USING id, title, coalesce(content, ''), coalesce(metadata, '{}');
    RETURN written;
END
$$;
COMMENT ON FUNCTION vecpg.add_document(text, text, text, text, jsonb) IS
    'Insert or update a document''s text and metadata; the embedding workers compute its vector';

-- Claim up to batch_size ready rows of a collection for the worker holding the advisory lock
-- (worker_lock_class(), worker): rows unclaimed, or claimed by a worker whose lock is gone.
-- Returns each row's text as the model sees it and the hash the vector must be written under.
CREATE OR REPLACE FUNCTION vecpg.claim_embeddings(collection text, worker integer, batch_size integer DEFAULT 64)
RETURNS TABLE (doc_id text, text_hash bytea, body text, attempts integer)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
BEGIN
    IF batch_size IS NULL OR batch_size NOT BETWEEN 1 AND 10000 THEN
        RAISE EXCEPTION 'invalid batch size %: must be between 1 and 10000', batch_size USING ERRCODE = 'VP005';
    END IF;
    RETURN QUERY EXECUTE format(
        $q$
        WITH alive AS (
            SELECT l.objid::bigint AS key FROM pg_catalog.pg_locks l
            WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
              AND l.classid = vecpg.worker_lock_class()::oid
        ), free AS (
            SELECT q.doc_id FROM vecpg.embedding_queue q
            WHERE q.collection = $1 AND q.failed_at IS NULL AND q.retry_at <= now()
              AND (q.claimed_by IS NULL OR q.claimed_by::bigint NOT IN (SELECT key FROM alive))
            ORDER BY q.retry_at, q.queued_at
            LIMIT $3
            FOR UPDATE SKIP LOCKED
        ), claimed AS (
            UPDATE vecpg.embedding_queue q SET claimed_by = $2, claimed_at = now()
            FROM free WHERE q.collection = $1 AND q.doc_id = free.doc_id
            RETURNING q.doc_id, q.text_hash, q.attempts
        )
        SELECT k.doc_id, k.text_hash, vecpg.embedding_text(d.title, d.content), k.attempts
        FROM claimed k JOIN %I.%I d ON d.id = k.doc_id
        ORDER BY k.doc_id
        $q$, c.schema_name, c.table_name)
        USING c.name, worker, batch_size;
END
$$;
COMMENT ON FUNCTION vecpg.claim_embeddings(text, integer, integer) IS
    'Claim queued documents for an embedding worker: their ids, text hashes and texts';

-- Write the vectors a worker computed, into the rows whose queue entry it still holds with the
-- text it embedded (a row changed meanwhile was queued again under its new hash; a row given a
-- vector by its writer left the queue); the queue rows of those texts go. For a chunked
-- collection, the chunks of the rows written replace their old ones in the same statement.
-- Records the batch for throughput.
CREATE OR REPLACE FUNCTION vecpg.store_embeddings(
    collection text, worker integer, ids text[], hashes bytea[], vectors @vector_schema@.vector[],
    seconds double precision DEFAULT 0,
    chunk_parents text[] DEFAULT '{}', chunk_nos integer[] DEFAULT '{}', chunk_starts integer[] DEFAULT '{}',
    chunk_ends integer[] DEFAULT '{}', chunk_texts text[] DEFAULT '{}', chunk_vectors @vector_schema@.vector[] DEFAULT '{}'
)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    written text[];
BEGIN
    IF cardinality(ids) IS DISTINCT FROM cardinality(hashes) OR cardinality(ids) IS DISTINCT FROM cardinality(vectors) THEN
        RAISE EXCEPTION 'ids, hashes and vectors must have the same length' USING ERRCODE = 'VP005';
    END IF;
    EXECUTE format(
        'WITH v AS (SELECT * FROM unnest($1, $2, $3) AS v(id, hash, vector)), '
        'mine AS (SELECT v.* FROM v JOIN vecpg.embedding_queue q ON q.doc_id = v.id AND q.text_hash = v.hash '
        '         WHERE q.collection = $4 AND q.claimed_by = $5), '
        'updated AS (UPDATE %I.%I d SET embedding = mine.vector FROM mine '
        '            WHERE d.id = mine.id AND vecpg.text_hash(d.title, d.content) = mine.hash RETURNING d.id) '
        'SELECT coalesce(array_agg(id), ''{}'') FROM updated',
        c.schema_name, c.table_name)
        INTO written USING ids, hashes, vectors, c.name, worker;
    IF c.chunk_tokens IS NOT NULL AND cardinality(written) > 0 THEN
        EXECUTE format('DELETE FROM %I.%I ch WHERE ch.parent_id = ANY($1)', c.schema_name, vecpg.chunk_table(c.name))
            USING written;
        EXECUTE format(
            'INSERT INTO %I.%I (parent_id, chunk_no, start_char, end_char, content, embedding) '
            'SELECT * FROM unnest($1, $2, $3, $4, $5, $6) AS x(p, n, s, e, t, v) WHERE x.p = ANY($7)',
            c.schema_name, vecpg.chunk_table(c.name))
            USING chunk_parents, chunk_nos, chunk_starts, chunk_ends, chunk_texts, chunk_vectors, written;
    END IF;
    -- Texts embedded, whether or not the row took the vector (deleted, changed, given one):
    -- a changed text was queued again under its new hash, which stays.
    DELETE FROM vecpg.embedding_queue q USING unnest(ids, hashes) AS v(id, hash)
    WHERE q.collection = c.name AND q.doc_id = v.id AND q.text_hash = v.hash;
    UPDATE vecpg.embedding_queue q SET claimed_by = NULL, claimed_at = NULL
    WHERE q.collection = c.name AND q.doc_id = ANY(ids) AND q.claimed_by = worker;
    INSERT INTO vecpg.embedding_log (collection, embedded, failed, seconds)
    VALUES (c.name, cardinality(written), 0, seconds);
    DELETE FROM vecpg.embedding_log l WHERE l.collection = c.name AND l.at < now() - interval '1 day';
    RETURN cardinality(written);
END
$$;
COMMENT ON FUNCTION vecpg.store_embeddings(text, integer, text[], bytea[], @vector_schema@.vector[], double precision,
                                           text[], integer[], integer[], integer[], text[], @vector_schema@.vector[]) IS
    'Write computed vectors (and chunks) into documents that still have the embedded text';

-- A worker could not embed these rows: keep the error, count the attempt, retry after a backoff
-- (30 s, doubling, at most an hour), and after max_attempts move them to the failed list.
CREATE OR REPLACE FUNCTION vecpg.embedding_failed(
    collection text, worker integer, ids text[], error text, max_attempts integer DEFAULT 5
)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    failed integer;
BEGIN
    UPDATE vecpg.embedding_queue q
    SET attempts = q.attempts + 1,
        last_error = left(error, 2000),
        retry_at = now() + least(interval '30 seconds' * power(2, q.attempts), interval '1 hour'),
        failed_at = CASE WHEN q.attempts + 1 >= max_attempts THEN now() END,
        claimed_by = NULL, claimed_at = NULL
    WHERE q.collection = c.name AND q.doc_id = ANY(ids) AND q.claimed_by = worker;
    GET DIAGNOSTICS failed = ROW_COUNT;
    INSERT INTO vecpg.embedding_log (collection, embedded, failed, seconds) VALUES (c.name, 0, failed, 0);
    RETURN failed;
END
$$;
COMMENT ON FUNCTION vecpg.embedding_failed(text, integer, text[], text, integer) IS
    'Record a failed embedding attempt: error, attempt count, backoff, failed list after max_attempts';

-- Give back claims a worker will not finish (it is stopping): the rows are ready again now.
CREATE OR REPLACE FUNCTION vecpg.release_embeddings(collection text, worker integer, ids text[])
RETURNS integer
LANGUAGE sql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    WITH released AS (
        UPDATE vecpg.embedding_queue q SET claimed_by = NULL, claimed_at = NULL
        WHERE q.collection = release_embeddings.collection AND q.doc_id = ANY(ids) AND q.claimed_by = worker
        RETURNING 1
    )
    SELECT count(*)::integer FROM released;
$$;

-- Requeue failed rows (of one collection, or all): `vecpg worker retry`.
CREATE OR REPLACE FUNCTION vecpg.retry_embeddings(collection text DEFAULT NULL)
RETURNS bigint
LANGUAGE sql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    WITH retried AS (
        UPDATE vecpg.embedding_queue q
        SET failed_at = NULL, attempts = 0, retry_at = now(), claimed_by = NULL, claimed_at = NULL
        WHERE q.failed_at IS NOT NULL AND (retry_embeddings.collection IS NULL OR q.collection = retry_embeddings.collection)
        RETURNING q.collection
    )
    SELECT count(*) FROM retried;
$$;
COMMENT ON FUNCTION vecpg.retry_embeddings(text) IS 'Move failed embeddings back into the queue';

-- Per collection with a model: documents, how many have a vector, the queue, failures and the
-- workers' throughput over the last five minutes.
CREATE OR REPLACE FUNCTION vecpg.embedding_status_rows()
RETURNS TABLE (
    collection text, documents bigint, embedded bigint, coverage double precision,
    queued bigint, oldest_queued interval, failed bigint, last_error text,
    embedded_5min bigint, docs_per_second double precision
)
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
DECLARE
    c vecpg.collection;
BEGIN
    FOR c IN SELECT * FROM vecpg.collection x WHERE x.model IS NOT NULL ORDER BY x.name LOOP
        collection := c.name;
        EXECUTE format('SELECT count(*), count(embedding) FROM %I.%I', c.schema_name, c.table_name)
            INTO documents, embedded;
        coverage := CASE WHEN documents = 0 THEN 1.0 ELSE embedded::double precision / documents END;
        SELECT count(*) FILTER (WHERE q.failed_at IS NULL), now() - min(q.queued_at) FILTER (WHERE q.failed_at IS NULL),
               count(*) FILTER (WHERE q.failed_at IS NOT NULL),
               (array_agg(q.last_error ORDER BY q.failed_at DESC) FILTER (WHERE q.failed_at IS NOT NULL))[1]
        INTO queued, oldest_queued, failed, last_error
        FROM vecpg.embedding_queue q WHERE q.collection = c.name;
        SELECT coalesce(sum(l.embedded), 0), sum(l.embedded) / nullif(sum(l.seconds), 0)
        INTO embedded_5min, docs_per_second
        FROM vecpg.embedding_log l WHERE l.collection = c.name AND l.at > now() - interval '5 minutes';
        RETURN NEXT;
    END LOOP;
END
$$;

CREATE OR REPLACE VIEW vecpg.embedding_status AS SELECT * FROM vecpg.embedding_status_rows();
COMMENT ON VIEW vecpg.embedding_status IS
    'Embedding pipeline per collection: coverage, queue, failures, throughput (docs/s while embedding)';

-- Which embedder computes a collection's vectors; NULL: the store's default. The same model
-- through another embedder gives the same vectors within rounding, so nothing is re-embedded.
CREATE OR REPLACE FUNCTION vecpg.set_embedder(collection text, embedder text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
BEGIN
    IF embedder IS NOT NULL AND embedder !~ '^[a-z][a-z0-9-]{0,40}$' THEN
        RAISE EXCEPTION 'invalid embedder name %', quote_literal(embedder) USING ERRCODE = 'VP005';
    END IF;
    UPDATE vecpg.collection x SET embedder = set_embedder.embedder WHERE x.name = c.name;
END
$$;
COMMENT ON FUNCTION vecpg.set_embedder(text, text) IS 'Choose the embedder of a collection (NULL: the store default)';

-- 11_chunks.sql — long documents as overlapping chunks, each with its own vector.
--
-- A model embeds only what its window holds (all-MiniLM-L6-v2: 256 tokens); the rest of a long
-- document is lost to vector search. A chunked collection (vecpg.enable_chunking) has a chunk
-- table beside it, <table>_chunks: for every document longer than chunk_tokens model tokens,
-- its chunks (chunk_tokens long, overlapping by chunk_overlap), where they sit in the text the
-- model sees, and their vectors. The embedding workers write the chunks with the document's
-- own vector (that of its first chunk), in one statement. vecpg.search_chunks ranks documents
-- by their best chunk and returns that chunk as the highlight. Chunks follow their document:
-- a text change, delete or TRUNCATE removes them in the same statement (10_embedding_queue.sql);
-- readers see the chunks of the documents they may see.

CREATE OR REPLACE FUNCTION vecpg.chunk_table(collection text)
RETURNS name
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT (left(c.table_name, 56) || '_chunks')::name FROM vecpg.collection c WHERE c.name = collection
$$;
COMMENT ON FUNCTION vecpg.chunk_table(text) IS 'Name of a collection''s chunk table (in the collection''s schema)';

-- A collection's chunk part: its chunk table, index, policy and grants when it is chunked.
CREATE OR REPLACE FUNCTION vecpg.chunk_objects(collection text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    chunks name := vecpg.chunk_table(collection);
BEGIN
    IF c.chunk_tokens IS NULL THEN
        RETURN;  -- disable_chunking drops the table; nothing here drops by name
    END IF;
    EXECUTE format(
        'CREATE TABLE IF NOT EXISTS %I.%I ('
        '  parent_id  text NOT NULL,'
        '  chunk_no   integer NOT NULL,'
        '  start_char integer NOT NULL,'
        '  end_char   integer NOT NULL,'
        '  content    text NOT NULL,'
        '  embedding  %I.vector(%s) NOT NULL,'
        '  PRIMARY KEY (parent_id, chunk_no))',
        c.schema_name, chunks, vecpg.vector_schema(), c.dimension);
    EXECUTE format('COMMENT ON TABLE %I.%I IS %L', c.schema_name, chunks, 'vecpg chunks of collection ' || c.name);
    -- pgvector indexes vectors of up to 2,000 dimensions; above, chunks are searched exactly.
    IF c.dimension <= 2000 THEN
        EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I.%I USING hnsw (embedding %s)',
                       left(c.table_name, 44) || '_chunks_hnsw', c.schema_name, chunks, vecpg.vector_opclass(c.distance));
    END IF;
    -- A chunk is visible to whoever may see its document: the document's own policies decide.
    EXECUTE format('ALTER TABLE %I.%I ENABLE ROW LEVEL SECURITY', c.schema_name, chunks);
    EXECUTE format('DROP POLICY IF EXISTS chunk_of_visible_document ON %I.%I', c.schema_name, chunks);
    EXECUTE format('CREATE POLICY chunk_of_visible_document ON %I.%I FOR SELECT '
                   'USING (EXISTS (SELECT 1 FROM %I.%I d WHERE d.id = parent_id))',
                   c.schema_name, chunks, c.schema_name, c.table_name);
    EXECUTE format('REVOKE ALL ON %I.%I FROM PUBLIC', c.schema_name, chunks);
    EXECUTE format('GRANT SELECT ON %I.%I TO vecpg_reader', c.schema_name, chunks);
    EXECUTE format('GRANT ALL ON %I.%I TO vecpg_admin', c.schema_name, chunks);
END
$$;

-- Chunk a collection's long documents from now on. Documents whose text may be longer than
-- chunk_tokens (more characters than that: a token is at least one character) are queued for
-- the workers; they keep their vectors meanwhile.
CREATE OR REPLACE FUNCTION vecpg.enable_chunking(collection text, chunk_tokens integer DEFAULT 240,
                                                 chunk_overlap integer DEFAULT 40)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    chunks name := vecpg.chunk_table(collection);
    queued bigint;
BEGIN
    IF c.model IS NULL THEN
        RAISE EXCEPTION 'collection "%" has no model: only collections the workers embed can be chunked', c.name
            USING ERRCODE = 'VP005';
    END IF;
    IF chunk_tokens IS NULL OR chunk_tokens NOT BETWEEN 16 AND 8192 THEN
        RAISE EXCEPTION 'chunk_tokens must be between 16 and 8192, got %', chunk_tokens USING ERRCODE = 'VP005';
    END IF;
    IF chunk_overlap IS NULL OR chunk_overlap < 0 OR chunk_overlap > chunk_tokens / 2 THEN
        RAISE EXCEPTION 'chunk_overlap must be between 0 and half of chunk_tokens (%), got %', chunk_tokens / 2,
            chunk_overlap USING ERRCODE = 'VP005';
    END IF;
    IF c.chunk_tokens IS NULL AND to_regclass(format('%I.%I', c.schema_name, chunks)) IS NOT NULL THEN
        RAISE EXCEPTION 'cannot chunk collection "%": a table %.% exists already', c.name, c.schema_name, chunks
            USING ERRCODE = 'VP002';
    END IF;
    UPDATE vecpg.collection x SET chunk_tokens = enable_chunking.chunk_tokens,
                                  chunk_overlap = enable_chunking.chunk_overlap
    WHERE x.name = c.name;
    PERFORM vecpg.collection_created(c.name);
    EXECUTE format(
        'INSERT INTO vecpg.embedding_queue AS q (collection, doc_id, text_hash) '
        'SELECT %L, d.id, vecpg.text_hash(d.title, d.content) FROM %I.%I d '
        'WHERE length(vecpg.embedding_text(d.title, d.content)) > $1 '
        'ON CONFLICT (collection, doc_id) DO NOTHING', c.name, c.schema_name, c.table_name)
        USING chunk_tokens;
    GET DIAGNOSTICS queued = ROW_COUNT;
    IF queued > 0 THEN
        PERFORM pg_notify('vecpg_embed', c.name);
    END IF;
    RETURN queued;
END
$$;
COMMENT ON FUNCTION vecpg.enable_chunking(text, integer, integer) IS
    'Split long documents into overlapping chunks with their own vectors; queues the long ones';

CREATE OR REPLACE FUNCTION vecpg.disable_chunking(collection text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
BEGIN
    IF c.chunk_tokens IS NULL THEN
        RETURN false;
    END IF;
    EXECUTE format('DROP TABLE IF EXISTS %I.%I', c.schema_name, vecpg.chunk_table(collection));
    UPDATE vecpg.collection x SET chunk_tokens = NULL, chunk_overlap = NULL WHERE x.name = c.name;
    RETURN true;
END
$$;
COMMENT ON FUNCTION vecpg.disable_chunking(text) IS 'Drop a collection''s chunks: one vector per document again';

-- Documents ranked by their best chunk (or their own vector, for those short enough to have
-- none), the best chunk as highlight (NULL when the document's own vector ranked it). Takes
-- the filters and options of vecpg.search. Candidates: 4k chunks and 4k documents, nearest
-- first, so k documents come back even when one document's chunks fill the chunk list.
CREATE OR REPLACE FUNCTION vecpg.search_chunks(
    collection      text,
    query_embedding vector,
    k               integer,
    filter          jsonb DEFAULT '{}',
    options         jsonb DEFAULT '{}'
)
RETURNS TABLE (id text, title text, content text, metadata jsonb, distance double precision,
               score double precision, chunk_no integer, highlight text)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    predicate text;
    op text;
    candidates integer := least(4 * k, 1000);
BEGIN
    PERFORM vecpg.check_vector_query(c, query_embedding, k);
    IF c.chunk_tokens IS NULL THEN
        RETURN QUERY SELECT s.*, NULL::integer, NULL::text
                     FROM vecpg.search(collection, query_embedding, k, filter, options) s;
        RETURN;
    END IF;
    predicate := vecpg.compile_filter(coalesce(filter, '{}'), '$2', 'd');
    options := vecpg.search_options(c, options, candidates);
    -- The chunk list is filtered by its documents (filters, tenants, current vectors): iterative
    -- scans keep reading until the candidates are found.
    IF NOT options ? 'iterative_scan' AND vecpg.pgvector_version() >= '{0,8}' THEN
        options := options || '{"iterative_scan": "relaxed_order"}';
    END IF;
    IF NOT options ? 'ef_search' AND candidates > coalesce(nullif(current_setting('hnsw.ef_search', true), '')::integer, 40) THEN
        options := options || jsonb_build_object('ef_search', candidates);
    END IF;
    PERFORM vecpg.apply_search_options(options);
    op := format('OPERATOR(%I.%s)', vecpg.vector_schema(), vecpg.distance_operator(c.distance));
    RETURN QUERY EXECUTE format(
        $q$
        WITH chunk_hits AS (
            SELECT ch.parent_id, ch.chunk_no, ch.content AS chunk, (ch.embedding %1$s $1)::double precision AS distance
            FROM %2$I.%4$I ch JOIN %2$I.%3$I d ON d.id = ch.parent_id
            WHERE d.embedding IS NOT NULL %5$s
            ORDER BY ch.embedding %1$s $1 LIMIT $4
        ), document_hits AS (%7$s
        ), best AS (
            SELECT DISTINCT ON (h.parent_id) h.*
            FROM (SELECT * FROM chunk_hits UNION ALL SELECT * FROM document_hits) h
            ORDER BY h.parent_id, h.distance, h.chunk_no NULLS LAST
        )
        SELECT d.id, d.title, d.content, d.metadata, b.distance, %6$s, b.chunk_no, b.chunk
        FROM best b JOIN %2$I.%3$I d ON d.id = b.parent_id
        ORDER BY b.distance, d.id
        LIMIT $3
        $q$,
        op, c.schema_name, c.table_name, vecpg.chunk_table(collection),
        CASE WHEN predicate = 'true' THEN '' ELSE 'AND (' || predicate || ')' END,
        CASE c.distance WHEN 'cosine' THEN '1 - b.distance' WHEN 'ip' THEN '-b.distance'
                        ELSE 'NULL::double precision' END,
        vecpg.nearest_sql(c, 'd.id AS parent_id, NULL::integer AS chunk_no, NULL::text AS chunk', predicate,
                          '$1', '$4', vecpg.rerank_factor(options)::text))
        USING query_embedding, filter, k, candidates;
END
$$;
COMMENT ON FUNCTION vecpg.search_chunks(text, vector, integer, jsonb, jsonb) IS
    'k documents nearest to query_embedding by their best chunk, with that chunk as highlight';

-- 12_tuning.sql — a collection's search defaults: the options every search uses unless the call
-- gives its own (vecpg.search_options merges them), and the measurement that chose them.
--
-- `vecpg index tune` / collection.tune() measure recall and store their choice here; an admin may
-- also set defaults by hand. Both columns describe the vector index they were chosen for, so
-- vecpg.drop_index (and create_index, which drops the old index first) resets them.

-- Store a collection's search defaults (replacing the old ones; checked as a search's options
-- are) and, when tuning chose them, what the measurement found. Returns the stored defaults.
CREATE OR REPLACE FUNCTION vecpg.set_search_defaults(collection text, defaults jsonb, tuning jsonb DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
BEGIN
    defaults := vecpg.check_search_options(defaults);
    IF tuning IS NOT NULL AND jsonb_typeof(tuning) <> 'object' THEN
        RAISE EXCEPTION 'tuning must be a JSON object or NULL' USING ERRCODE = 'VP005';
    END IF;
    UPDATE vecpg.collection x SET search_defaults = defaults, tuning = tuning WHERE x.name = c.name;
    -- The keyword index's search function has the vector list, and its re-rank factor, written in.
    PERFORM vecpg.keyword_index_objects(c.name);
    RETURN defaults;
END
$$;
COMMENT ON FUNCTION vecpg.set_search_defaults(text, jsonb, jsonb) IS
    'Store the search options a collection''s searches use unless a call gives its own, and the tuning that chose them';

-- Forget a collection's search defaults and tuning; false when it had none.
CREATE OR REPLACE FUNCTION vecpg.reset_search_defaults(collection text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
BEGIN
    IF c.search_defaults = '{}' AND c.tuning IS NULL THEN
        RETURN false;
    END IF;
    UPDATE vecpg.collection x SET search_defaults = '{}', tuning = NULL WHERE x.name = c.name;
    PERFORM vecpg.keyword_index_objects(c.name);
    RETURN true;
END
$$;
COMMENT ON FUNCTION vecpg.reset_search_defaults(text) IS
    'Forget a collection''s search defaults and tuning; false when it had none';

-- 90_privileges.sql — who may run which function.
--
-- Functions are executable by everyone (PostgreSQL's default) and run as their caller, so
-- row-level security and table grants decide what they may touch. The functions that change
-- collections, their storage, indexes or policies are for vecpg_admin only; the audit trigger,
-- and the mirror's and the embedding queue's capture triggers, the SECURITY DEFINER functions, may be attached by admins
-- and called by nobody else.
DO $grants$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
             WHERE p.pronamespace = 'vecpg'::regnamespace
               AND p.proname IN ('create_collection', 'drop_collection', 'collection_created',
                                 'store_inline', 'refresh_keyword_stats', 'keyword_stats_triggers',
                                 'statement_triggers', 'keyword_index_objects',
                                 'apply_tenancy', 'set_shared_rows', 'create_index', 'drop_index',
                                 'rebuild_index', 'index_built', 'enable_keyword_index', 'disable_keyword_index', 'audit_write',
                                 'mirror_objects', 'enable_mirror', 'disable_mirror', 'rebuild_mirror',
                                 'mirror_capture', 'embedding_queue_objects', 'embedding_capture',
                                 'queue_missing_embeddings', 'claim_embeddings', 'store_embeddings',
                                 'embedding_failed', 'release_embeddings', 'retry_embeddings',
                                 'embedding_status_rows', 'set_embedder', 'chunk_objects', 'enable_chunking',
                                 'disable_chunking', 'set_search_defaults', 'reset_search_defaults')
    LOOP
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO vecpg_admin', f);
    END LOOP;
END
$grants$;

-- 99_existing_collections.sql — every collection brought up to this layer.
--
-- Runs last, at the end of every upgrade: what collection_created gives a new collection
-- (storage settings, triggers, policies, grants, the keyword index's search function) is
-- made again for each existing one from the functions above, so none keeps an older copy.
-- All of it is DDL without a backfill: statistics and postings are kept, not recounted.
DO $existing$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT name FROM vecpg.collection ORDER BY name LOOP
        PERFORM vecpg.collection_created(c.name);
    END LOOP;
END
$existing$;
