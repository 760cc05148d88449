-- The function layer of revision 0002, read back from a database at it (vecpg.schema.freeze).
-- Generated and frozen: never edit (sql/frozen.txt holds its hash).

CREATE OR REPLACE FUNCTION vecpg._filter_error(message text)
 RETURNS void
 LANGUAGE plpgsql
 IMMUTABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
BEGIN
    RAISE EXCEPTION '%', message USING ERRCODE = 'VP004';
END
$function$;
COMMENT ON FUNCTION vecpg._filter_error(text) IS NULL;

CREATE OR REPLACE FUNCTION vecpg._filter_field(field text, value jsonb, vpath text[], param text, alias text)
 RETURNS text
 LANGUAGE plpgsql
 IMMUTABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
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
$function$;
COMMENT ON FUNCTION vecpg._filter_field(text,jsonb,text[],text,text) IS NULL;

CREATE OR REPLACE FUNCTION vecpg._filter_node(node jsonb, path text[], param text, alias text, depth integer)
 RETURNS text
 LANGUAGE plpgsql
 IMMUTABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
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
$function$;
COMMENT ON FUNCTION vecpg._filter_node(jsonb,text[],text,text,integer) IS NULL;

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

CREATE OR REPLACE FUNCTION vecpg._nest(path text[], inner_sql text)
 RETURNS text
 LANGUAGE plpgsql
 IMMUTABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
DECLARE
    out text := inner_sql;
    i integer;
BEGIN
    FOR i IN REVERSE cardinality(path)..1 LOOP
        out := format('jsonb_build_object(%L, %s)', path[i], out);
    END LOOP;
    RETURN out;
END
$function$;
COMMENT ON FUNCTION vecpg._nest(text[],text) IS NULL;

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

CREATE OR REPLACE FUNCTION vecpg.any_lexeme_query(lexemes text[])
 RETURNS tsquery
 LANGUAGE sql
 IMMUTABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
    SELECT string_agg('''' || replace(replace(l, '\', '\\'), '''', '''''') || '''', ' | ')::tsquery
    FROM unnest(lexemes) AS l
$function$;
COMMENT ON FUNCTION vecpg.any_lexeme_query(text[]) IS NULL;

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

CREATE OR REPLACE FUNCTION vecpg.as_time(value jsonb)
 RETURNS timestamp with time zone
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
BEGIN
    IF jsonb_typeof(value) = 'string' AND value #>> '{}' ~ '^\d{4}-\d{2}-\d{2}' THEN
        RETURN (value #>> '{}')::timestamptz;
    END IF;
    RETURN NULL;
EXCEPTION WHEN others THEN
    RETURN NULL;
END
$function$;
COMMENT ON FUNCTION vecpg.as_time(jsonb) IS NULL;

CREATE OR REPLACE FUNCTION vecpg.bm25_track()
 RETURNS trigger
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
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
$function$;
COMMENT ON FUNCTION vecpg.bm25_track() IS NULL;

CREATE OR REPLACE FUNCTION vecpg.collection_created(collection text)
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
BEGIN
    PERFORM vecpg.refresh_keyword_stats(collection);
END
$function$;
COMMENT ON FUNCTION vecpg.collection_created(text) IS NULL;

CREATE OR REPLACE FUNCTION vecpg.compile_filter(filter jsonb, param text DEFAULT '$2'::text, alias text DEFAULT 'd'::text)
 RETURNS text
 LANGUAGE plpgsql
 IMMUTABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
BEGIN
    IF filter IS NULL THEN
        RETURN 'true';
    END IF;
    RETURN vecpg._filter_node(filter, '{}', param, alias, 0);
END
$function$;
COMMENT ON FUNCTION vecpg.compile_filter(jsonb,text,text) IS 'SQL predicate for a filter; it reads values from the filter passed as parameter `param`';

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

CREATE OR REPLACE FUNCTION vecpg.filter_time(value jsonb, key text)
 RETURNS timestamp with time zone
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
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
$function$;
COMMENT ON FUNCTION vecpg.filter_time(jsonb,text) IS NULL;

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

CREATE OR REPLACE FUNCTION vecpg.hybrid_search(collection text, query text, query_embedding vector, k integer, filter jsonb DEFAULT '{}'::jsonb, options jsonb DEFAULT '{}'::jsonb)
 RETURNS TABLE(id text, title text, content text, metadata jsonb, score double precision, vector_rank integer, vector_score double precision, keyword_rank integer, keyword_score double precision)
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
#variable_conflict use_column
DECLARE
    opts jsonb := coalesce(options, '{}');
    method text := coalesce(opts->>'method', 'adaptive');
    candidates integer;
    rrf_k double precision := coalesce((opts->>'rrf_k')::double precision, 60);
    w_vector double precision;
    w_keyword double precision;
    vector_opts jsonb;
    keyword_opts jsonb;
    unknown text;
BEGIN
    IF k IS NULL OR k NOT BETWEEN 1 AND 1000 THEN
        RAISE EXCEPTION 'k must be between 1 and 1000, got %', k USING ERRCODE = 'VP005';
    END IF;
    IF jsonb_typeof(opts) <> 'object' THEN
        RAISE EXCEPTION 'hybrid search options must be a JSON object' USING ERRCODE = 'VP005';
    END IF;
    SELECT string_agg(key, ', ') INTO unknown FROM jsonb_object_keys(opts) AS key
    WHERE key NOT IN ('method', 'candidates', 'rrf_k', 'vector_weight', 'keyword_weight',
                      'ef_search', 'probes', 'iterative_scan', 'max_scan_tuples', 'k1', 'b', 'ranking',
                      'max_candidates');
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'unknown hybrid search option(s): %', unknown USING ERRCODE = 'VP005';
    END IF;
    IF method NOT IN ('adaptive', 'rrf', 'convex') THEN
        RAISE EXCEPTION 'hybrid method must be adaptive, rrf or convex, got %', quote_literal(method)
            USING ERRCODE = 'VP005';
    END IF;
    candidates := vecpg._int_param(opts, 'candidates', least(4 * k, 1000), k, 1000);
    w_vector := coalesce((opts->>'vector_weight')::double precision, CASE method WHEN 'convex' THEN 0.7 ELSE 1 END);
    w_keyword := coalesce((opts->>'keyword_weight')::double precision, CASE method WHEN 'convex' THEN 0.3 ELSE 1 END);
    IF w_vector < 0 OR w_keyword < 0 OR rrf_k <= 0 THEN
        RAISE EXCEPTION 'weights must be >= 0 and rrf_k > 0' USING ERRCODE = 'VP005';
    END IF;
    vector_opts := (SELECT coalesce(jsonb_object_agg(key, value), '{}') FROM jsonb_each(opts)
                    WHERE key IN ('ef_search', 'probes', 'iterative_scan', 'max_scan_tuples'));
    -- An HNSW scan returns at most ef_search rows: the vector list needs `candidates` of them.
    IF NOT vector_opts ? 'ef_search' THEN
        vector_opts := vector_opts || jsonb_build_object('ef_search', candidates);
    END IF;
    keyword_opts := (SELECT coalesce(jsonb_object_agg(key, value), '{}') FROM jsonb_each(opts)
                     WHERE key IN ('k1', 'b', 'ranking', 'max_candidates'));

    RETURN QUERY
    WITH v AS (
        SELECT s.id, s.title, s.content, s.metadata, s.score AS sim,
               (row_number() OVER (ORDER BY s.distance, s.id))::integer AS r
        FROM vecpg.search(collection, query_embedding, candidates, filter, vector_opts) s
    ),
    kw AS (
        SELECT s.id, s.title, s.content, s.metadata, s.score AS sim,
               (row_number() OVER (ORDER BY s.score DESC, s.id))::integer AS r
        FROM vecpg.keyword_search(collection, query, candidates, filter, keyword_opts) s
    ),
    joined AS (
        SELECT coalesce(v.id, kw.id) AS id, coalesce(v.title, kw.title) AS title,
               coalesce(v.content, kw.content) AS content, coalesce(v.metadata, kw.metadata) AS metadata,
               v.r AS vr, v.sim AS vs, kw.r AS kr, kw.sim AS ks,
               -- aggregates over each list (NULLs, i.e. the other list's documents, are ignored)
               avg(v.sim) OVER () AS v_mean, stddev_pop(v.sim) OVER () AS v_sd,
               min(v.sim) OVER () AS v_min, max(v.sim) OVER () AS v_max,
               avg(kw.sim) OVER () AS k_mean, stddev_pop(kw.sim) OVER () AS k_sd,
               min(kw.sim) OVER () AS k_min, max(kw.sim) OVER () AS k_max
        FROM v FULL JOIN kw ON v.id = kw.id
    ),
    weighed AS (
        SELECT j.*,
               w_vector * coalesce((j.v_max - j.v_mean) / nullif(j.v_sd, 0), 0) AS v_conf,
               w_keyword * coalesce((j.k_max - j.k_mean) / nullif(j.k_sd, 0), 0) AS k_conf
        FROM joined j
    )
    SELECT w.id, w.title, w.content, w.metadata,
           CASE method
           WHEN 'adaptive' THEN
               coalesce(w.v_conf / nullif(w.v_conf + w.k_conf, 0), 0.5)
                   * coalesce((coalesce(w.vs, w.v_min) - w.v_mean) / nullif(w.v_sd, 0), 0)
             + coalesce(w.k_conf / nullif(w.v_conf + w.k_conf, 0), 0.5)
                   * coalesce((coalesce(w.ks, w.k_min) - w.k_mean) / nullif(w.k_sd, 0), 0)
           WHEN 'rrf' THEN
               coalesce(w_vector / (rrf_k + w.vr), 0) + coalesce(w_keyword / (rrf_k + w.kr), 0)
           ELSE
               w_vector * coalesce((w.vs - w.v_min) / nullif(w.v_max - w.v_min, 0), CASE WHEN w.vr IS NULL THEN 0 ELSE 1 END)
             + w_keyword * coalesce((w.ks - w.k_min) / nullif(w.k_max - w.k_min, 0), CASE WHEN w.kr IS NULL THEN 0 ELSE 1 END)
           END AS fused,
           w.vr, w.vs, w.kr, w.ks
    FROM weighed w
    ORDER BY fused DESC, w.id
    LIMIT k;
END
$function$;
COMMENT ON FUNCTION vecpg.hybrid_search(text,text,vector,integer,jsonb,jsonb) IS 'Vector and BM25 keyword lists fused in one statement (method adaptive, rrf or convex)';

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

CREATE OR REPLACE FUNCTION vecpg.keyword_search(collection text, query text, k integer, filter jsonb DEFAULT '{}'::jsonb, options jsonb DEFAULT '{}'::jsonb)
 RETURNS TABLE(id text, title text, content text, metadata jsonb, score double precision)
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    predicate text;
    terms text[];
    dfs bigint[];
    n_docs double precision;
    avgdl double precision;
    keys text[] := vecpg.visible_tenant_keys();
    k1 double precision;
    b double precision;
    ranking text;
    required tsquery;
    key text;
    match_terms text[];
    max_candidates bigint;
BEGIN
    IF k IS NULL OR k NOT BETWEEN 1 AND 1000 THEN
        RAISE EXCEPTION 'k must be between 1 and 1000, got %', k USING ERRCODE = 'VP005';
    END IF;
    options := coalesce(options, '{}');
    IF jsonb_typeof(options) <> 'object' THEN
        RAISE EXCEPTION 'keyword search options must be a JSON object' USING ERRCODE = 'VP005';
    END IF;
    FOR key IN SELECT jsonb_object_keys(options) LOOP
        IF key NOT IN ('k1', 'b', 'ranking', 'max_candidates') THEN
            RAISE EXCEPTION 'unknown keyword search option %: use k1, b, ranking or max_candidates', quote_literal(key)
                USING ERRCODE = 'VP005';
        END IF;
    END LOOP;
    max_candidates := vecpg._int_param(options, 'max_candidates', 500, 1, 2147483647);
    k1 := coalesce((options->>'k1')::double precision, 0.9);
    b := coalesce((options->>'b')::double precision, 0.4);
    ranking := coalesce(options->>'ranking', 'bm25');
    IF k1 < 0 OR b < 0 OR b > 1 OR ranking NOT IN ('bm25', 'ts_rank_cd') THEN
        RAISE EXCEPTION 'keyword options: k1 >= 0, 0 <= b <= 1, ranking bm25 or ts_rank_cd' USING ERRCODE = 'VP005';
    END IF;
    predicate := vecpg.compile_filter(coalesce(filter, '{}'), '$1', 'd');

    -- Natural-language queries need no term to be present; quotes, OR and -word ask for
    -- web-search semantics, which then also decide which documents match.
    IF query ~ '"|\mOR\M|(^|\s)-\w' THEN
        required := websearch_to_tsquery(c.language, query);
    END IF;
    terms := ARRAY(SELECT DISTINCT u.lexeme FROM unnest(to_tsvector(c.language, coalesce(query, ''))) u ORDER BY 1);
    IF cardinality(terms) = 0 THEN
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
        RETURN;  -- no document holds any query term
    END IF;

    RETURN QUERY EXECUTE format(
        $q$
        WITH terms AS (
            SELECT t.lexeme, ln(1 + ($4 - t.df + 0.5) / (t.df + 0.5)) AS idf
            FROM unnest($2::text[], $3::bigint[]) AS t(lexeme, df)
        ),
        scored AS (
            SELECT d.id, %4$s AS score
            FROM %1$I.%2$I d
            WHERE d.fts @@ $5 %3$s
        ),
        top AS (SELECT * FROM scored ORDER BY score DESC, id LIMIT $10)
        SELECT d.id, d.title, d.content, d.metadata, top.score::double precision
        FROM top JOIN %1$I.%2$I d ON d.id = top.id
        ORDER BY top.score DESC, d.id
        $q$,
        c.schema_name, c.table_name,
        CASE WHEN predicate = 'true' THEN '' ELSE 'AND (' || predicate || ')' END
            || CASE WHEN required IS NULL THEN '' ELSE ' AND d.fts @@ $6' END,
        CASE ranking
        WHEN 'ts_rank_cd' THEN 'ts_rank_cd(d.fts, $11)'
        -- tf from the positions of the query's lexemes only: setweight marks them, ts_filter
        -- keeps them, so unnest() never walks the whole document. Length: distinct lexemes.
        ELSE '(SELECT sum(terms.idf * cardinality(u.positions) * ($7 + 1)
                          / (cardinality(u.positions) + $7 * (1 - $8 + $8 * length(d.fts) / $9)))
                FROM unnest(ts_filter(setweight(setweight(d.fts, ''D''), ''A'', $2), ''{a}'')) u
                JOIN terms ON terms.lexeme = u.lexeme)'
        END)
        USING filter, terms, dfs, n_docs,
              CASE WHEN required IS NULL THEN vecpg.any_lexeme_query(match_terms) ELSE required END,
              required, k1, b, avgdl, k, vecpg.any_lexeme_query(terms);
END
$function$;
COMMENT ON FUNCTION vecpg.keyword_search(text,text,integer,jsonb,jsonb) IS 'k best documents for a text query by BM25 (options: k1, b, ranking bm25|ts_rank_cd)';

CREATE OR REPLACE FUNCTION vecpg.pgvector_version()
 RETURNS integer[]
 LANGUAGE sql
 STABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
    SELECT string_to_array(split_part(extversion, '-', 1), '.')::integer[] FROM pg_extension WHERE extname = 'vector'
$function$;
COMMENT ON FUNCTION vecpg.pgvector_version() IS NULL;

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

CREATE OR REPLACE FUNCTION vecpg.refresh_keyword_stats(collection text)
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    event text;
    transition text;
BEGIN
    FOREACH event IN ARRAY ARRAY['insert', 'update', 'delete'] LOOP
        transition := CASE event WHEN 'insert' THEN 'NEW TABLE AS new_rows'
                                 WHEN 'delete' THEN 'OLD TABLE AS old_rows'
                                 ELSE 'OLD TABLE AS old_rows NEW TABLE AS new_rows' END;
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I.%I', 'bm25_' || event, c.schema_name, c.table_name);
        EXECUTE format('CREATE TRIGGER %I AFTER %s ON %I.%I REFERENCING %s FOR EACH STATEMENT '
                       'EXECUTE FUNCTION vecpg.bm25_track(%L)',
                       'bm25_' || event, event, c.schema_name, c.table_name, transition, c.name);
    END LOOP;
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
$function$;
COMMENT ON FUNCTION vecpg.refresh_keyword_stats(text) IS 'Install BM25 statistics triggers on a collection and recompute its statistics';

CREATE OR REPLACE FUNCTION vecpg.rows_filtered(predicate text)
 RETURNS boolean
 LANGUAGE sql
 STABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
    SELECT predicate <> 'true'
$function$;
COMMENT ON FUNCTION vecpg.rows_filtered(text) IS NULL;

CREATE OR REPLACE FUNCTION vecpg.search(collection text, query_embedding vector, k integer, filter jsonb DEFAULT '{}'::jsonb, options jsonb DEFAULT '{}'::jsonb)
 RETURNS TABLE(id text, title text, content text, metadata jsonb, distance double precision, score double precision)
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    predicate text;
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
    predicate := vecpg.compile_filter(coalesce(filter, '{}'), '$2', 'd');
    options := coalesce(options, '{}');
    -- A filter applied after an index scan would leave fewer than k rows: pgvector 0.8's
    -- iterative scans read on until k rows pass. (The planner may also pick an exact scan
    -- through the metadata index when it expects few rows to match.)
    IF vecpg.rows_filtered(predicate) AND NOT options ? 'iterative_scan' AND vecpg.pgvector_version() >= '{0,8}' THEN
        options := options || '{"iterative_scan": "relaxed_order"}';
    END IF;
    PERFORM vecpg.apply_search_options(options);

    op := format('OPERATOR(%I.%s)', vecpg.vector_schema(), vecpg.distance_operator(c.distance));
    score := CASE c.distance WHEN 'cosine' THEN '1 - distance'
                             WHEN 'ip' THEN '-distance'
                             ELSE 'NULL::double precision' END;
    -- No predicate at all for an empty filter: even "true" can change the planner's estimates.
    query := format(
        'SELECT d.id, d.title, d.content, d.metadata, (d.embedding %1$s $1)::double precision AS distance '
        'FROM %2$I.%3$I d WHERE d.embedding IS NOT NULL %4$s ORDER BY d.embedding %1$s $1 LIMIT $3',
        op, c.schema_name, c.table_name,
        CASE WHEN predicate = 'true' THEN '' ELSE 'AND (' || predicate || ')' END);
    -- Relaxed iterative scans may return rows slightly out of order: sort the k rows again.
    RETURN QUERY EXECUTE format(
        'SELECT s.id, s.title, s.content, s.metadata, s.distance, %s FROM (%s) s ORDER BY s.distance',
        score, query)
        USING query_embedding, filter, k;
END
$function$;
COMMENT ON FUNCTION vecpg.search(text,vector,integer,jsonb,jsonb) IS 'k nearest documents of a collection to query_embedding that match the filter';

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

CREATE OR REPLACE FUNCTION vecpg.visible_tenant_keys()
 RETURNS text[]
 LANGUAGE sql
 STABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
    SELECT CASE WHEN coalesce(current_setting('vecpg.tenant_id', true), '') = '' THEN NULL
                ELSE ARRAY[current_setting('vecpg.tenant_id', true), ''] END
$function$;
COMMENT ON FUNCTION vecpg.visible_tenant_keys() IS NULL;

DO $reset$
DECLARE
    f record;
BEGIN
    FOR f IN SELECT DISTINCT p.oid::regprocedure AS proc, a.grantee
             FROM pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
             WHERE p.oid = ANY (ARRAY[
        'vecpg._filter_error(text)',
        'vecpg._filter_field(text,jsonb,text[],text,text)',
        'vecpg._filter_node(jsonb,text[],text,text,integer)',
        'vecpg._int_param(jsonb,text,integer,integer,integer)',
        'vecpg._nest(text[],text)',
        'vecpg._raise_build_resources(jsonb)',
        'vecpg.any_lexeme_query(text[])',
        'vecpg.apply_search_options(jsonb)',
        'vecpg.as_time(jsonb)',
        'vecpg.bm25_track()',
        'vecpg.collection_created(text)',
        'vecpg.compile_filter(jsonb,text,text)',
        'vecpg.create_collection(text,integer,text,text,regconfig,name)',
        'vecpg.create_index(text,text,jsonb)',
        'vecpg.distance_operator(text)',
        'vecpg.drop_collection(text,boolean)',
        'vecpg.drop_index(text)',
        'vecpg.filter_time(jsonb,text)',
        'vecpg.get_collection(text)',
        'vecpg.hybrid_search(text,text,vector,integer,jsonb,jsonb)',
        'vecpg.index_info(text)',
        'vecpg.keyword_search(text,text,integer,jsonb,jsonb)',
        'vecpg.pgvector_version()',
        'vecpg.pin_search_paths()',
        'vecpg.rebuild_index(text)',
        'vecpg.refresh_keyword_stats(text)',
        'vecpg.rows_filtered(text)',
        'vecpg.search(text,vector,integer,jsonb,jsonb)',
        'vecpg.touch_updated_at()',
        'vecpg.vector_schema()',
        'vecpg.visible_tenant_keys()']::regprocedure[]) AND a.grantee <> p.proowner LOOP
        IF f.grantee = 0 THEN
            EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f.proc);
        ELSE
            EXECUTE format('REVOKE ALL ON FUNCTION %s FROM %I', f.proc, f.grantee::regrole::text);
        END IF;
    END LOOP;
END
$reset$;

GRANT EXECUTE ON FUNCTION vecpg._filter_error(text) TO PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg._filter_field(text,jsonb,text[],text,text) TO PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg._filter_node(jsonb,text[],text,text,integer) TO PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg._int_param(jsonb,text,integer,integer,integer) TO PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg._nest(text[],text) TO PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg._raise_build_resources(jsonb) TO PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg.any_lexeme_query(text[]) TO PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg.apply_search_options(jsonb) TO PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg.as_time(jsonb) TO PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg.bm25_track() TO PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg.collection_created(text) TO PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg.compile_filter(jsonb,text,text) TO PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg.create_collection(text,integer,text,text,regconfig,name) TO PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg.create_index(text,text,jsonb) TO PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg.distance_operator(text) TO PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg.drop_collection(text,boolean) TO PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg.drop_index(text) TO PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg.filter_time(jsonb,text) TO PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg.get_collection(text) TO PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg.hybrid_search(text,text,vector,integer,jsonb,jsonb) TO PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg.index_info(text) TO PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg.keyword_search(text,text,integer,jsonb,jsonb) TO PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg.pgvector_version() TO PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg.pin_search_paths() TO PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg.rebuild_index(text) TO PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg.refresh_keyword_stats(text) TO PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg.rows_filtered(text) TO PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg.search(text,vector,integer,jsonb,jsonb) TO PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg.touch_updated_at() TO PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg.vector_schema() TO PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg.visible_tenant_keys() TO PUBLIC;
