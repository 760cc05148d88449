-- Revision 0003's layer as a delta from 0004's (python -m vecpg.schema.freeze 0003):
-- applied after 0004's layer, it gives 0003's. Generated: never edit by hand.

-- Functions 0004 added.
DROP FUNCTION
    vecpg.bm25_sql(text[],double precision[],double precision,double precision,double precision,text),
    vecpg.check_vector_query(vecpg.collection,vector,integer),
    vecpg.keyword_list_sql(vecpg.collection,tsquery,tsquery,text,text,text,text),
    vecpg.keyword_plan(vecpg.collection,text,jsonb), vecpg.store_fts_inline(text),
    vecpg.term_frequency(tsvector,text);

CREATE OR REPLACE FUNCTION vecpg.collection_created(collection text)
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
BEGIN
    PERFORM vecpg.refresh_keyword_stats(collection);
    PERFORM vecpg.apply_tenancy(collection);
END
$function$;
COMMENT ON FUNCTION vecpg.collection_created(text) IS NULL;

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
