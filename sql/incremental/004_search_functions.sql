-- 004_search_functions.sql — the filter language, BM25 keyword search, hybrid search, and
-- collections that keep their BM25 statistics current.
--
-- Idempotent file (CREATE OR REPLACE only, plus a block that is safe to run again); frozen once
-- released. Its downgrade drops what it adds and runs 002_functions.sql again.
-- Same rules as 002: SECURITY INVOKER, pinned search_path, identifiers through %I, values as
-- parameters. SQLSTATEs: VP001 no collection, VP003 dimension, VP004 filter, VP005 argument.

------------------------------------------------------------------------------------------------
-- Filter language
--
-- A filter is a JSON object. Each key is a field: a metadata key (dotted for nested keys,
-- "author.name"; "metadata.id" for a metadata key that shadows a column) or one of the columns
-- id, created_at, updated_at. Its value is either a value to equal or an object of operators:
--   $eq $ne $in $nin $gt $gte $lt $lte $exists $contains
-- and the keys $and / $or (arrays of filters) and $not (a filter) combine filters.
-- Equality on metadata is JSON containment (an array field "contains" the value), so it is
-- served by the GIN jsonb_path_ops index; $gt..$lte compare numbers, or ISO-8601 dates/times.
--
-- The compiled predicate never contains a value: it reads each value from the filter itself,
-- passed as a query parameter, by its path (e.g. $2 #> '{price,$gt}'). So a predicate depends
-- only on the filter's shape, values stay parameters, and clients may cache predicates by shape.
------------------------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION vecpg._filter_error(message text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE SECURITY INVOKER
AS $$
BEGIN
    RAISE EXCEPTION '%', message USING ERRCODE = 'VP004';
END
$$;

-- A filter value as a point in time; VP004 naming the key when it is not one.
CREATE OR REPLACE FUNCTION vecpg.filter_time(value jsonb, key text)
RETURNS timestamptz
LANGUAGE plpgsql STABLE SECURITY INVOKER
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

------------------------------------------------------------------------------------------------
-- BM25 statistics, kept current by statement-level triggers on each collection table
--
-- One trigger per statement (not per row) with transition tables: a COPY of 100,000 documents
-- updates the statistics once. Rows are upserted in (tenant_key, lexeme) order so concurrent
-- writers take their row locks in the same order and cannot deadlock; they do queue on the
-- lexemes they share until the first commits.
------------------------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION vecpg.bm25_track()
RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER
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

-- Install the statistics triggers on a collection and rebuild its statistics from its rows.
CREATE OR REPLACE FUNCTION vecpg.refresh_keyword_stats(collection text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
AS $$
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
$$;
COMMENT ON FUNCTION vecpg.refresh_keyword_stats(text) IS
    'Install BM25 statistics triggers on a collection and recompute its statistics';

------------------------------------------------------------------------------------------------
-- New collections get BM25 statistics triggers
------------------------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION vecpg.collection_created(collection text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
AS $$
BEGIN
    PERFORM vecpg.refresh_keyword_stats(collection);
END
$$;

------------------------------------------------------------------------------------------------
-- Vector search with the filter language; filtered searches still return k rows
------------------------------------------------------------------------------------------------

DROP FUNCTION IF EXISTS vecpg.check_filter(jsonb);  -- replaced by compile_filter

CREATE OR REPLACE FUNCTION vecpg.pgvector_version()
RETURNS integer[]
LANGUAGE sql STABLE SECURITY INVOKER
AS $$
    SELECT string_to_array(split_part(extversion, '-', 1), '.')::integer[] FROM pg_extension WHERE extname = 'vector'
$$;

-- Whether a search's rows are filtered after the index scan (later: row-level security too).
CREATE OR REPLACE FUNCTION vecpg.rows_filtered(predicate text)
RETURNS boolean
LANGUAGE sql STABLE SECURITY INVOKER
AS $$
    SELECT predicate <> 'true'
$$;

CREATE OR REPLACE FUNCTION vecpg.search(
    collection      text,
    query_embedding vector,
    k               integer,
    filter          jsonb DEFAULT '{}',
    options         jsonb DEFAULT '{}'
)
RETURNS TABLE (id text, title text, content text, metadata jsonb, distance double precision, score double precision)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
AS $$
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
$$;
COMMENT ON FUNCTION vecpg.search(text, vector, integer, jsonb, jsonb) IS
    'k nearest documents of a collection to query_embedding that match the filter';

------------------------------------------------------------------------------------------------
-- Keyword search: BM25 over the collection's tsvector, in SQL
------------------------------------------------------------------------------------------------

-- Tenants whose statistics the caller's rows come from: NULL means every tenant.
CREATE OR REPLACE FUNCTION vecpg.visible_tenant_keys()
RETURNS text[]
LANGUAGE sql STABLE SECURITY INVOKER
AS $$
    SELECT CASE WHEN coalesce(current_setting('vecpg.tenant_id', true), '') = '' THEN NULL
                ELSE ARRAY[current_setting('vecpg.tenant_id', true), ''] END
$$;

-- A tsquery matching any of the lexemes (already normalised, so no further parsing).
CREATE OR REPLACE FUNCTION vecpg.any_lexeme_query(lexemes text[])
RETURNS tsquery
LANGUAGE sql IMMUTABLE SECURITY INVOKER
AS $$
    SELECT string_agg('''' || replace(replace(l, '\', '\\'), '''', '''''') || '''', ' | ')::tsquery
    FROM unnest(lexemes) AS l
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
AS $$
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
$$;
COMMENT ON FUNCTION vecpg.keyword_search(text, text, integer, jsonb, jsonb) IS
    'k best documents for a text query by BM25 (options: k1, b, ranking bm25|ts_rank_cd)';

------------------------------------------------------------------------------------------------
-- Hybrid search: the vector list and the keyword list fused in one statement
------------------------------------------------------------------------------------------------

-- Methods (options.method):
--   adaptive (default)  scores of each list as z-scores, lists weighted per query by how clearly
--                       their best hit stands out ((max - mean) / stddev of their candidates): a
--                       list that cannot tell its documents apart gets little say. Measured on
--                       SciFact (docs/benchmarks.md) it beat RRF and fixed weights, and stayed
--                       within 0.02 of the better list when either list was made much weaker.
--   rrf                 reciprocal rank fusion, sum of weight / (rrf_k + rank), rrf_k 60
--   convex              min-max normalised scores, 0.7 vector + 0.3 keyword unless weights given
-- vector_weight / keyword_weight scale each list in every method. A document found by only
-- one list still takes part (the other list contributes its floor: 0, or its lowest z-score).
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
AS $$
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
$$;
COMMENT ON FUNCTION vecpg.hybrid_search(text, text, vector, integer, jsonb, jsonb) IS
    'Vector and BM25 keyword lists fused in one statement (method adaptive, rrf or convex)';

-- Collections created before this file get their statistics triggers and statistics now.
DO $install$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT name FROM vecpg.collection LOOP
        PERFORM vecpg.refresh_keyword_stats(c.name);
    END LOOP;
END
$install$;

-- Pin the search_path of every vecpg function, the new ones included.
SELECT vecpg.pin_search_paths();
