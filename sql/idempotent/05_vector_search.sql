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

-- The results a search may ask for.
CREATE OR REPLACE FUNCTION vecpg.check_k(k integer)
RETURNS void
LANGUAGE plpgsql IMMUTABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
BEGIN
    IF k IS NULL OR k NOT BETWEEN 1 AND 1000 THEN
        RAISE EXCEPTION 'k must be between 1 and 1000, got %', k USING ERRCODE = 'VP005';
    END IF;
END
$$;

-- The checks every vector query makes before it runs.
CREATE OR REPLACE FUNCTION vecpg.check_vector_query(c vecpg.collection, query_embedding vector, k integer)
RETURNS void
LANGUAGE plpgsql IMMUTABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
BEGIN
    PERFORM vecpg.check_k(k);
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

-- The exact distance of row `d` to `query` (already in the stored type: vecpg.stored_query), as
-- SQL: what vector search orders by and returns, and what hybrid fusion asks of the keyword
-- list's documents.
CREATE OR REPLACE FUNCTION vecpg.exact_distance_sql(c vecpg.collection, query text)
RETURNS text
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT format('(d.embedding OPERATOR(%s.%s) %s)::double precision',
                  quote_ident(vecpg.vector_schema()), vecpg.distance_operator(c.distance), query)
$$;

-- The k nearest rows of collection c as one query: `columns` of d and their exact distance to
-- `query`, filtered by `predicate`, nearest first. The index scan orders by the expression the
-- collection's vector index is built on (the vectors, their halfvec copies, or their binary
-- codes), so the planner can use it; halfvec and binary candidates get their exact distances,
-- binary ones k * rerank of them, re-ranked. `query`, `k` and `rerank` are SQL expressions
-- (parameters such as $1); the query is a vector, compared in the type the collection stores
-- (vecpg.stored_query: cast to halfvec for halfvec storage, as its index compares).
CREATE OR REPLACE FUNCTION vecpg.nearest_sql(c vecpg.collection, columns text, predicate text, query text,
                                             k text, rerank text DEFAULT '4')
RETURNS text
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
DECLARE
    vs text := quote_ident(vecpg.vector_schema());
    op text := format('OPERATOR(%s.%s)', vs, vecpg.distance_operator(c.distance));
    exact text;
    filter text := vecpg.where_sql(predicate)
        || CASE WHEN vecpg.current_tenant() IS NULL THEN '' ELSE ' ' || vecpg.tenant_scope_sql(c) END;
BEGIN
    query := vecpg.stored_query(c, query);
    exact := vecpg.exact_distance_sql(c, query);
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

-- The options a vector search for k rows runs with, from the call's: a filter (`predicate`, or
-- row-level security's) turns on pgvector 0.8's iterative scans, since a filter applied after an
-- index scan would leave fewer than k rows and iterative scans read on until k rows pass (the
-- planner may also pick an exact scan through the metadata index when it expects few rows to
-- match); then the collection's search defaults (vecpg.search_options); and an HNSW scan
-- returns at most ef_search rows, so a larger scan raises it for the statement.
CREATE OR REPLACE FUNCTION vecpg.vector_search_options(c vecpg.collection, predicate text, options jsonb, k integer)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
BEGIN
    options := coalesce(options, '{}');
    IF vecpg.rows_filtered(predicate) AND NOT options ? 'iterative_scan' AND vecpg.pgvector_version() >= '{0,8}' THEN
        options := options || '{"iterative_scan": "relaxed_order"}';
    END IF;
    options := vecpg.search_options(c, options, k);  -- what tuning chose, unless the call says otherwise
    IF NOT options ? 'ef_search'
       AND vecpg.scan_rows(c, k, options) > coalesce(nullif(current_setting('hnsw.ef_search', true), '')::integer, 40) THEN
        options := options || jsonb_build_object('ef_search', least(vecpg.scan_rows(c, k, options), 1000));
    END IF;
    RETURN options;
END
$$;

-- A search result's score as SQL, from its `distance` expression: the similarity (1 - distance
-- for cosine, -distance for inner product); l2 has none.
CREATE OR REPLACE FUNCTION vecpg.score_sql(c vecpg.collection, distance text)
RETURNS text
LANGUAGE sql IMMUTABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT CASE c.distance WHEN 'cosine' THEN '1 - ' || distance
                           WHEN 'ip' THEN '-' || distance
                           ELSE 'NULL::double precision' END
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
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    predicate text;
    query text;
BEGIN
    PERFORM vecpg.check_vector_query(c, query_embedding, k);
    predicate := vecpg.compile_filter(coalesce(filter, '{}'), '$2', 'd');
    options := vecpg.vector_search_options(c, predicate, options, k);
    PERFORM vecpg.apply_search_options(options);
    -- No predicate at all for an empty filter: even "true" can change the planner's estimates.
    query := vecpg.nearest_sql(c, 'd.id, d.title, d.content, d.metadata', predicate, '$1', '$3',
                               vecpg.rerank_factor(options)::text);
    -- Relaxed iterative scans may return rows slightly out of order: sort the k rows again.
    RETURN QUERY EXECUTE format(
        'SELECT s.id, s.title, s.content, s.metadata, s.distance, %s FROM (%s) s ORDER BY s.distance',
        vecpg.score_sql(c, 'distance'), query)
        USING query_embedding, filter, k;
END
$$;
COMMENT ON FUNCTION vecpg.search(text, vector, integer, jsonb, jsonb) IS
    'k nearest documents of a collection to query_embedding that match the filter';
