-- 007_keyword_speed.sql — BM25 scoring without copying tsvectors, tsvectors stored inline,
-- hybrid search as one statement, and vector search that returns k rows for k > ef_search.
--
-- Idempotent file (CREATE OR REPLACE; safe to run again); frozen once released. Its downgrade
-- runs 004 and 006 again, which restore the functions it replaces.
--
-- Measured on SciFact (5,183 abstracts, docs/benchmarks.md), two costs dominated keyword search:
-- 1. Term frequencies came from copying each candidate's tsvector twice (setweight) and once
--    more (ts_filter), then unnesting it in a subquery: about 12 µs a document. ts_rank finds a
--    lexeme by binary search without copying anything, and with all weights 1 its value for a
--    one-lexeme query is H(tf) / (pi^2/6), where H(tf) = sum of 1/j^2 for j = 1..tf (PostgreSQL's
--    calc_rank_or). H(tf) is close to pi^2/6 - 1/(tf + 1/2), so tf = round(1 / ((1 - rank) *
--    pi^2/6) - 1/2), exact for every tf a tsvector can hold (at most 255 positions a lexeme;
--    tests/test_search_keyword.py checks it against unnest() positions). About 0.3 µs a lexeme.
-- 2. The tsvector of a typical abstract (1.5 kB) was moved out of line into TOAST, so reading
--    it cost an index lookup in the TOAST table per candidate: STORAGE MAIN keeps it in the row.
--    Long documents still get a compressed or out-of-line tsvector, which every ts_rank call
--    would decompress or fetch again: the scoring query copies it out once per row.

-- The term frequency of one lexeme in a document, from ts_rank as explained above. Callers that
-- care about speed write the expression inline (a function with a pinned search_path is never
-- inlined); this function is the reference the tests hold the inline form to.
CREATE OR REPLACE FUNCTION vecpg.term_frequency(document tsvector, lexeme text)
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE SECURITY INVOKER
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
AS $$
    WITH norm AS (
        SELECT format('(%L::float8 + %L::float8 * length(%s))', k1 * (1 - b), k1 * b / avgdl, fts) AS sql
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

-- The SQL selecting `columns` and the score of the best `limit_sql` keyword matches of a plan
-- (see keyword_plan), filtered by `predicate`; with no match, an empty list of ids and scores.
CREATE OR REPLACE FUNCTION vecpg.keyword_list_sql(c vecpg.collection, match tsquery, required tsquery, score_sql text,
                                                  predicate text, limit_sql text, columns text DEFAULT 'd.id')
RETURNS text
LANGUAGE sql STABLE SECURITY INVOKER
AS $$
    SELECT CASE WHEN match IS NULL THEN
        'SELECT NULL::text AS id, NULL::double precision AS score WHERE false'
    ELSE format(
        'SELECT %s, (%s)::double precision AS score FROM %I.%I d '
        -- Each ts_rank call would decompress or fetch a TOASTed tsvector anew: one copy per row.
        'CROSS JOIN LATERAL (SELECT d.fts || ''''::tsvector AS fts OFFSET 0) AS v '
        'WHERE d.fts @@ %L::tsquery %s ORDER BY score DESC, d.id LIMIT %s',
        columns, score_sql, c.schema_name, c.table_name, match::text,
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

------------------------------------------------------------------------------------------------
-- Vector search returns k rows for any k up to 1000
------------------------------------------------------------------------------------------------

-- The checks every vector query makes before it runs.
CREATE OR REPLACE FUNCTION vecpg.check_vector_query(c vecpg.collection, query_embedding vector, k integer)
RETURNS void
LANGUAGE plpgsql IMMUTABLE SECURITY INVOKER
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

-- As in 004, except for the ef_search floor (with ef_search 40, k = 100 returned 40 rows).
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
    PERFORM vecpg.check_vector_query(c, query_embedding, k);
    predicate := vecpg.compile_filter(coalesce(filter, '{}'), '$2', 'd');
    options := coalesce(options, '{}');
    -- A filter applied after an index scan would leave fewer than k rows: pgvector 0.8's
    -- iterative scans read on until k rows pass. (The planner may also pick an exact scan
    -- through the metadata index when it expects few rows to match.)
    IF vecpg.rows_filtered(predicate) AND NOT options ? 'iterative_scan' AND vecpg.pgvector_version() >= '{0,8}' THEN
        options := options || '{"iterative_scan": "relaxed_order"}';
    END IF;
    -- An HNSW scan returns at most ef_search rows: a larger k raises it for this statement.
    IF NOT options ? 'ef_search' AND k > coalesce(nullif(current_setting('hnsw.ef_search', true), '')::integer, 40) THEN
        options := options || jsonb_build_object('ef_search', k);
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
-- Hybrid search in one planned statement
------------------------------------------------------------------------------------------------

-- The same methods and options as before (see 004_search_functions.sql), now one statement:
-- both lists carry ids and scores only, and the other columns are read for the k rows
-- returned. Calling search() and keyword_search() cost a plan and a PL/pgSQL call each and
-- read content for every candidate. The vector list's score is the similarity (1 - distance
-- for cosine, -distance for inner product and l2), so that every method also works for l2.
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
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    opts jsonb := coalesce(options, '{}');
    method text := coalesce(opts->>'method', 'adaptive');
    candidates integer;
    rrf_k double precision := coalesce((opts->>'rrf_k')::double precision, 60);
    w_vector double precision;
    w_keyword double precision;
    vector_opts jsonb;
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
    predicate := vecpg.compile_filter(coalesce(filter, '{}'), '$1', 'd');

    vector_opts := (SELECT coalesce(jsonb_object_agg(key, value), '{}') FROM jsonb_each(opts)
                    WHERE key IN ('ef_search', 'probes', 'iterative_scan', 'max_scan_tuples'));
    -- An HNSW scan returns at most ef_search rows: the vector list needs `candidates` of them.
    IF NOT vector_opts ? 'ef_search' THEN
        vector_opts := vector_opts || jsonb_build_object('ef_search', candidates);
    END IF;
    IF vecpg.rows_filtered(predicate) AND NOT vector_opts ? 'iterative_scan' AND vecpg.pgvector_version() >= '{0,8}' THEN
        vector_opts := vector_opts || '{"iterative_scan": "relaxed_order"}';
    END IF;
    PERFORM vecpg.apply_search_options(vector_opts);
    p := vecpg.keyword_plan(c, query, (SELECT coalesce(jsonb_object_agg(key, value), '{}') FROM jsonb_each(opts)
                                       WHERE key IN ('k1', 'b', 'ranking', 'max_candidates')));

    RETURN QUERY EXECUTE format(
        $q$
        WITH v AS MATERIALIZED (
            SELECT d.id, (d.embedding %1$s $2)::double precision AS distance
            FROM %2$I.%3$I d WHERE d.embedding IS NOT NULL %4$s
            ORDER BY d.embedding %1$s $2 LIMIT $3
        ),
        vr AS (
            SELECT v.id, %5$s AS sim, (row_number() OVER (ORDER BY v.distance, v.id))::integer AS r FROM v
        ),
        kr AS (
            SELECT s.id, s.score AS sim, (row_number() OVER (ORDER BY s.score DESC, s.id))::integer AS r FROM (%6$s) s
        ),
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
                   $5 * coalesce((j.v_max - j.v_mean) / nullif(j.v_sd, 0), 0) AS v_conf,
                   $6 * coalesce((j.k_max - j.k_mean) / nullif(j.k_sd, 0), 0) AS k_conf
            FROM joined j
        ),
        fused AS (
            SELECT w.id, w.vr, w.vs, w.kr, w.ks,
                   CASE $4
                   WHEN 'adaptive' THEN
                       coalesce(w.v_conf / nullif(w.v_conf + w.k_conf, 0), 0.5)
                           * coalesce((coalesce(w.vs, w.v_min) - w.v_mean) / nullif(w.v_sd, 0), 0)
                     + coalesce(w.k_conf / nullif(w.v_conf + w.k_conf, 0), 0.5)
                           * coalesce((coalesce(w.ks, w.k_min) - w.k_mean) / nullif(w.k_sd, 0), 0)
                   WHEN 'rrf' THEN
                       coalesce($5 / ($7 + w.vr), 0) + coalesce($6 / ($7 + w.kr), 0)
                   ELSE
                       $5 * coalesce((w.vs - w.v_min) / nullif(w.v_max - w.v_min, 0), CASE WHEN w.vr IS NULL THEN 0 ELSE 1 END)
                     + $6 * coalesce((w.ks - w.k_min) / nullif(w.k_max - w.k_min, 0), CASE WHEN w.kr IS NULL THEN 0 ELSE 1 END)
                   END AS fused
            FROM weighed w
            ORDER BY fused DESC, w.id
            LIMIT $8
        )
        SELECT d.id, d.title, d.content, d.metadata, f.fused, f.vr, f.vs, f.kr, f.ks
        FROM fused f JOIN %2$I.%3$I d ON d.id = f.id
        ORDER BY f.fused DESC, f.id
        $q$,
        format('OPERATOR(%I.%s)', vecpg.vector_schema(), vecpg.distance_operator(c.distance)),
        c.schema_name, c.table_name,
        CASE WHEN predicate = 'true' THEN '' ELSE 'AND (' || predicate || ')' END,
        CASE c.distance WHEN 'cosine' THEN '1 - v.distance' ELSE '-v.distance' END,
        vecpg.keyword_list_sql(c, p.match, p.required, p.score_sql, predicate, '$3'))
        USING filter, query_embedding, candidates, method, w_vector, w_keyword, rrf_k, k;
END
$$;
COMMENT ON FUNCTION vecpg.hybrid_search(text, text, vector, integer, jsonb, jsonb) IS
    'Vector and BM25 keyword lists fused in one statement (method adaptive, rrf or convex)';

------------------------------------------------------------------------------------------------
-- tsvectors stay in the row
------------------------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION vecpg.store_fts_inline(collection text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
BEGIN
    -- Applies to rows written from now on; VACUUM FULL moves the existing ones.
    EXECUTE format('ALTER TABLE %I.%I ALTER COLUMN fts SET STORAGE MAIN', c.schema_name, c.table_name);
END
$$;

CREATE OR REPLACE FUNCTION vecpg.collection_created(collection text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
AS $$
BEGIN
    PERFORM vecpg.store_fts_inline(collection);
    PERFORM vecpg.refresh_keyword_stats(collection);
    PERFORM vecpg.apply_tenancy(collection);
END
$$;

DO $install$
DECLARE
    c record;
    f regprocedure;
BEGIN
    FOR c IN SELECT name FROM vecpg.collection LOOP
        PERFORM vecpg.store_fts_inline(c.name);
    END LOOP;
    -- Like the other functions that change collections, only for admins.
    f := 'vecpg.store_fts_inline(text)'::regprocedure;
    EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO vecpg_admin', f);
END
$install$;

-- Pin the search_path of every vecpg function, the new ones included.
SELECT vecpg.pin_search_paths();
