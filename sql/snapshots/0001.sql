-- The function layer of revision 0001, read back from a database at it (vecpg.schema.freeze).
-- Generated and frozen: never edit (sql/frozen.txt holds its hash).

CREATE OR REPLACE FUNCTION vecpg._int_param(params jsonb, key text, fallback integer, lo integer, hi integer)
 RETURNS integer
 LANGUAGE plpgsql
 IMMUTABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
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
    RETURN (v #>> '{}')::integer;
END
$function$;
COMMENT ON FUNCTION vecpg._int_param(jsonb,text,integer,integer,integer) IS NULL;

CREATE OR REPLACE FUNCTION vecpg._raise_build_resources(params jsonb)
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
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
$function$;
COMMENT ON FUNCTION vecpg._raise_build_resources(jsonb) IS NULL;

CREATE OR REPLACE FUNCTION vecpg.apply_search_options(options jsonb)
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
DECLARE
    k text;
    scan text;
BEGIN
    options := coalesce(options, '{}');
    IF jsonb_typeof(options) <> 'object' THEN
        RAISE EXCEPTION 'search options must be a JSON object' USING ERRCODE = 'VP005';
    END IF;
    FOR k IN SELECT jsonb_object_keys(options) LOOP
        IF k NOT IN ('ef_search', 'probes', 'iterative_scan', 'max_scan_tuples') THEN
            RAISE EXCEPTION 'unknown search option %: use ef_search, probes, iterative_scan or max_scan_tuples',
                quote_literal(k) USING ERRCODE = 'VP005';
        END IF;
    END LOOP;
    IF options ? 'ef_search' THEN
        PERFORM set_config('hnsw.ef_search', vecpg._int_param(options, 'ef_search', 40, 1, 1000)::text, true);
    END IF;
    IF options ? 'probes' THEN
        PERFORM set_config('ivfflat.probes', vecpg._int_param(options, 'probes', 1, 1, 32768)::text, true);
    END IF;
    IF options ? 'iterative_scan' OR options ? 'max_scan_tuples' THEN
        IF (SELECT string_to_array(extversion, '.')::int[] < '{0,8}' FROM pg_extension WHERE extname = 'vector') THEN
            RAISE EXCEPTION 'iterative index scans need pgvector 0.8 or newer' USING ERRCODE = 'VP005';
        END IF;
    END IF;
    IF options ? 'iterative_scan' THEN
        scan := options->>'iterative_scan';
        IF scan NOT IN ('off', 'relaxed_order', 'strict_order') THEN
            RAISE EXCEPTION 'iterative_scan must be off, relaxed_order or strict_order' USING ERRCODE = 'VP005';
        END IF;
        PERFORM set_config('hnsw.iterative_scan', scan, true);
        -- IVFFlat has no strict order; relaxed is its closest match.
        PERFORM set_config('ivfflat.iterative_scan', CASE scan WHEN 'off' THEN 'off' ELSE 'relaxed_order' END, true);
    END IF;
    IF options ? 'max_scan_tuples' THEN
        PERFORM set_config('hnsw.max_scan_tuples',
                           vecpg._int_param(options, 'max_scan_tuples', 20000, 1, 2147483647)::text, true);
    END IF;
END
$function$;
COMMENT ON FUNCTION vecpg.apply_search_options(jsonb) IS 'Set ef_search, probes and iterative scan options for the current transaction only';

CREATE OR REPLACE FUNCTION vecpg.check_filter(filter jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 IMMUTABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
DECLARE
    k text;
BEGIN
    IF filter IS NULL THEN
        RETURN '{}';
    END IF;
    IF jsonb_typeof(filter) <> 'object' THEN
        RAISE EXCEPTION 'filter must be a JSON object, got %', jsonb_typeof(filter) USING ERRCODE = 'VP004';
    END IF;
    FOR k IN SELECT jsonb_object_keys(filter) LOOP
        IF k = '' OR left(k, 1) = '$' THEN
            RAISE EXCEPTION 'unsupported filter key %: only equality on metadata keys is supported',
                quote_literal(k) USING ERRCODE = 'VP004';
        END IF;
    END LOOP;
    RETURN filter;
END
$function$;
COMMENT ON FUNCTION vecpg.check_filter(jsonb) IS 'Validate a metadata equality filter; VP004 when malformed';

CREATE OR REPLACE FUNCTION vecpg.collection_created(collection text)
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
BEGIN
    NULL;
END
$function$;
COMMENT ON FUNCTION vecpg.collection_created(text) IS NULL;

CREATE OR REPLACE FUNCTION vecpg.create_collection(name text, dimension integer, distance text DEFAULT 'cosine'::text, model text DEFAULT NULL::text, language regconfig DEFAULT 'english'::regconfig, schema_name name DEFAULT 'vecpg_data'::name)
 RETURNS vecpg.collection
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
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
$function$;
COMMENT ON FUNCTION vecpg.create_collection(text,integer,text,text,regconfig,name) IS 'Create a collection table with its full-text and metadata indexes and record it in the catalog';

CREATE OR REPLACE FUNCTION vecpg.create_index(collection text, method text DEFAULT 'hnsw'::text, params jsonb DEFAULT '{}'::jsonb)
 RETURNS text
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
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

    opclass := format('%I.%I', vecpg.vector_schema(),
                      CASE c.distance WHEN 'cosine' THEN 'vector_cosine_ops'
                                      WHEN 'l2' THEN 'vector_l2_ops'
                                      ELSE 'vector_ip_ops' END);
    PERFORM vecpg.drop_index(collection);
    PERFORM vecpg._raise_build_resources(params);
    index_name := left(c.table_name, 48) || '_embedding_' || method;
    EXECUTE format('CREATE INDEX %I ON %I.%I USING %s (embedding %s) WITH (%s)',
                   index_name, c.schema_name, c.table_name, method, opclass, with_clause);
    RETURN index_name;
END
$function$;
COMMENT ON FUNCTION vecpg.create_index(text,text,jsonb) IS 'Build the vector index of a collection (hnsw: m, ef_construction; ivfflat: lists), replacing any other';

CREATE OR REPLACE FUNCTION vecpg.distance_operator(distance text)
 RETURNS text
 LANGUAGE sql
 IMMUTABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
    SELECT CASE distance WHEN 'cosine' THEN '<=>' WHEN 'l2' THEN '<->' WHEN 'ip' THEN '<#>' END
$function$;
COMMENT ON FUNCTION vecpg.distance_operator(text) IS 'pgvector operator of a distance name';

CREATE OR REPLACE FUNCTION vecpg.drop_collection(collection text, if_exists boolean DEFAULT false)
 RETURNS boolean
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
#variable_conflict use_variable
DECLARE
    c vecpg.collection;
BEGIN
    IF if_exists AND NOT EXISTS (SELECT 1 FROM vecpg.collection AS x WHERE x.name = collection) THEN
        RETURN false;
    END IF;
    c := vecpg.get_collection(collection);
    EXECUTE format('DROP TABLE IF EXISTS %I.%I', c.schema_name, c.table_name);
    DELETE FROM vecpg.collection AS x WHERE x.name = c.name;
    RETURN true;
END
$function$;
COMMENT ON FUNCTION vecpg.drop_collection(text,boolean) IS 'Drop a collection and its documents';

CREATE OR REPLACE FUNCTION vecpg.drop_index(collection text)
 RETURNS integer
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
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
$function$;
COMMENT ON FUNCTION vecpg.drop_index(text) IS 'Drop the vector index of a collection; returns how many were dropped';

CREATE OR REPLACE FUNCTION vecpg.get_collection(collection text)
 RETURNS vecpg.collection
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
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
$function$;
COMMENT ON FUNCTION vecpg.get_collection(text) IS 'Catalog row of a collection; VP001 when absent';

CREATE OR REPLACE FUNCTION vecpg.index_info(collection text)
 RETURNS TABLE(index_name text, method text, definition text, size_bytes bigint)
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
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
$function$;
COMMENT ON FUNCTION vecpg.index_info(text) IS 'Vector indexes of a collection with their sizes';

CREATE OR REPLACE FUNCTION vecpg.pin_search_paths()
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid::regprocedure FROM pg_proc p WHERE p.pronamespace = 'vecpg'::regnamespace LOOP
        EXECUTE format('ALTER FUNCTION %s SET search_path = pg_catalog, %I, pg_temp', f, vecpg.vector_schema());
    END LOOP;
END
$function$;
COMMENT ON FUNCTION vecpg.pin_search_paths() IS NULL;

CREATE OR REPLACE FUNCTION vecpg.rebuild_index(collection text)
 RETURNS integer
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
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
$function$;
COMMENT ON FUNCTION vecpg.rebuild_index(text) IS 'Rebuild the vector index of a collection in place';

CREATE OR REPLACE FUNCTION vecpg.search(collection text, query_embedding vector, k integer, filter jsonb DEFAULT '{}'::jsonb, options jsonb DEFAULT '{}'::jsonb)
 RETURNS TABLE(id text, title text, content text, metadata jsonb, distance double precision, score double precision)
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    op text;
    score text;
    query text;
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
    filter := vecpg.check_filter(filter);
    PERFORM vecpg.apply_search_options(options);

    op := format('OPERATOR(%I.%s)', vecpg.vector_schema(), vecpg.distance_operator(c.distance));
    score := CASE c.distance WHEN 'cosine' THEN '1 - distance'
                             WHEN 'ip' THEN '-distance'
                             ELSE 'NULL::double precision' END;
    -- An empty filter adds no predicate: "metadata @> '{}'" would only mislead the planner.
    query := format(
        'SELECT d.id, d.title, d.content, d.metadata, (d.embedding %1$s $1)::double precision AS distance '
        'FROM %2$I.%3$I d WHERE d.embedding IS NOT NULL %4$s ORDER BY d.embedding %1$s $1 LIMIT $3',
        op, c.schema_name, c.table_name,
        CASE WHEN filter = '{}'::jsonb THEN '' ELSE 'AND d.metadata @> $2' END);
    -- Relaxed iterative scans may return rows slightly out of order: sort the k rows again.
    RETURN QUERY EXECUTE format(
        'SELECT s.id, s.title, s.content, s.metadata, s.distance, %s FROM (%s) s ORDER BY s.distance',
        score, query)
        USING query_embedding, filter, k;
END
$function$;
COMMENT ON FUNCTION vecpg.search(text,vector,integer,jsonb,jsonb) IS 'k nearest documents of a collection to query_embedding, optionally filtered by metadata equality';

CREATE OR REPLACE FUNCTION vecpg.touch_updated_at()
 RETURNS trigger
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$function$;
COMMENT ON FUNCTION vecpg.touch_updated_at() IS NULL;

CREATE OR REPLACE FUNCTION vecpg.vector_schema()
 RETURNS name
 LANGUAGE sql
 STABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
    SELECT n.nspname
    FROM pg_catalog.pg_extension e
    JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
    WHERE e.extname = 'vector'
$function$;
COMMENT ON FUNCTION vecpg.vector_schema() IS 'Schema holding the pgvector extension';

DO $reset$
DECLARE
    f record;
BEGIN
    FOR f IN SELECT DISTINCT p.oid::regprocedure AS proc, a.grantee
             FROM pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
             WHERE p.oid = ANY (ARRAY[
        'vecpg._int_param(jsonb,text,integer,integer,integer)',
        'vecpg._raise_build_resources(jsonb)',
        'vecpg.apply_search_options(jsonb)',
        'vecpg.check_filter(jsonb)',
        'vecpg.collection_created(text)',
        'vecpg.create_collection(text,integer,text,text,regconfig,name)',
        'vecpg.create_index(text,text,jsonb)',
        'vecpg.distance_operator(text)',
        'vecpg.drop_collection(text,boolean)',
        'vecpg.drop_index(text)',
        'vecpg.get_collection(text)',
        'vecpg.index_info(text)',
        'vecpg.pin_search_paths()',
        'vecpg.rebuild_index(text)',
        'vecpg.search(text,vector,integer,jsonb,jsonb)',
        'vecpg.touch_updated_at()',
        'vecpg.vector_schema()']::regprocedure[]) AND a.grantee <> p.proowner LOOP
        IF f.grantee = 0 THEN
            EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f.proc);
        ELSE
            EXECUTE format('REVOKE ALL ON FUNCTION %s FROM %I', f.proc, f.grantee::regrole::text);
        END IF;
    END LOOP;
END
$reset$;

GRANT EXECUTE ON FUNCTION vecpg._int_param(jsonb,text,integer,integer,integer) TO PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg._raise_build_resources(jsonb) TO PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg.apply_search_options(jsonb) TO PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg.check_filter(jsonb) TO PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg.collection_created(text) TO PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg.create_collection(text,integer,text,text,regconfig,name) TO PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg.create_index(text,text,jsonb) TO PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg.distance_operator(text) TO PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg.drop_collection(text,boolean) TO PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg.drop_index(text) TO PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg.get_collection(text) TO PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg.index_info(text) TO PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg.pin_search_paths() TO PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg.rebuild_index(text) TO PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg.search(text,vector,integer,jsonb,jsonb) TO PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg.touch_updated_at() TO PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg.vector_schema() TO PUBLIC;
