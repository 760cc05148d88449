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

-- The index operator class of a distance over a storage ('vector' or 'halfvec', the type of the
-- column indexed), schema-qualified (pgvector may live in any schema).
CREATE OR REPLACE FUNCTION vecpg.vector_opclass(distance text, storage text)
RETURNS text
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT format('%I.%I', vecpg.vector_schema(),
                  CASE storage WHEN 'halfvec' THEN 'halfvec' ELSE 'vector' END
                  || CASE distance WHEN 'cosine' THEN '_cosine_ops' WHEN 'l2' THEN '_l2_ops' ELSE '_ip_ops' END)
$$;

-- A collection's storage: the pgvector type its embedding columns have ('vector', 4 bytes a
-- dimension, or 'halfvec', 2 bytes), with the dimension, schema-qualified.
CREATE OR REPLACE FUNCTION vecpg.storage_type(storage text, dimension integer)
RETURNS text
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT format('%I.%I(%s)', vecpg.vector_schema(), storage, dimension)
$$;

-- The most dimensions pgvector's HNSW and IVFFlat index in a column of this storage.
CREATE OR REPLACE FUNCTION vecpg.indexable_dimensions(storage text)
RETURNS integer
LANGUAGE sql IMMUTABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT CASE storage WHEN 'halfvec' THEN 4000 ELSE 2000 END
$$;

-- A query vector (the SQL expression `query`, a vector) in the type collection c stores, to
-- compare with its embedding column: as it is for vector storage, cast to halfvec(dimension)
-- for halfvec storage, so that "embedding <op> query" is the operator its index was built with
-- (and a query beyond half precision's range is an error, not an infinity).
CREATE OR REPLACE FUNCTION vecpg.stored_query(c vecpg.collection, query text)
RETURNS text
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT CASE c.storage WHEN 'halfvec' THEN format('(%s)::%s', query, vecpg.storage_type(c.storage, c.dimension))
                          ELSE query END
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
