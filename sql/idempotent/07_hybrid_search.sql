-- 07_hybrid_search.sql — the vector list and the keyword list fused in one statement.
--
-- Methods (options.method):
--   adaptive (default)  both models score every candidate of either list (the vector model from
--                       each keyword hit's stored vector; BM25 is 0 for a vector hit outside the
--                       keyword list), each as z-scores over the pooled candidates; each model is
--                       weighted per query by how far its best candidate stands out (its largest
--                       z-score): a model that cannot tell the pool apart gets little say, and no
--                       document is scored on a guess of what the other model would say
--   rrf                 reciprocal rank fusion, sum of weight / (rrf_k + rank), rrf_k 60
--   convex              min-max normalised scores, 0.7 vector + 0.3 keyword unless weights given
-- vector_weight / keyword_weight scale each list in every method. A document found by only one
-- list still takes part (rrf and convex give it the other list's floor: 0).
-- The exact path writes its statement per query and fuses in vecpg.fuse (static SQL, planned
-- once per session); the keyword indexes' functions have the fusion written inline.
-- docs/notes/2026-12-07-fusion.md holds the measurements behind the adaptive method.

-- The fusion of two ranked lists, as CTEs `joined`, `pooled`, `weighed` and `fused` that read
-- CTEs `vr` (id, sim, r: the vector list's documents, similarities and ranks) and `kr` (id,
-- sim, r, vsim: the keyword list's, with each document's vector similarity, NULL when unknown)
-- and leave in `fused` the k best (id, vr, vs, kr, ks, fused), ordered. The arguments name the
-- parameters holding the method, the two weights, rrf_k and k. The one definition of the
-- fusion methods (as in this file's header): hybrid_inline_sql and vecpg.fuse are made from it.
CREATE OR REPLACE FUNCTION vecpg.fusion_sql(method text, vector_weight text, keyword_weight text, rrf_k text, k text)
RETURNS text
LANGUAGE sql IMMUTABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT format(
        $q$
        joined AS (
            SELECT coalesce(vr.id, kr.id) AS id, vr.r AS vr, vr.sim AS vs, kr.r AS kr, kr.sim AS ks,
                   -- the vector model's score for every candidate; a keyword hit whose vector is
                   -- unknown (vecpg.fuse called without them) gets the vector list's lowest
                   coalesce(vr.sim, kr.vsim, min(vr.sim) OVER ()) AS pv,
                   coalesce(kr.sim, 0) AS pk,
                   min(vr.sim) OVER () AS v_min, max(vr.sim) OVER () AS v_max,
                   min(kr.sim) OVER () AS k_min, max(kr.sim) OVER () AS k_max
            FROM vr FULL JOIN kr ON vr.id = kr.id
        ),
        pooled AS (
            SELECT j.*,
                   coalesce((j.pv - avg(j.pv) OVER ()) / nullif(stddev_pop(j.pv) OVER (), 0), 0) AS zv,
                   coalesce((j.pk - avg(j.pk) OVER ()) / nullif(stddev_pop(j.pk) OVER (), 0), 0) AS zk
            FROM joined j
        ),
        weighed AS (
            SELECT p.*,
                   %2$s::float8 * greatest(max(p.zv) OVER (), 0) AS v_conf,
                   %3$s::float8 * greatest(max(p.zk) OVER (), 0) AS k_conf
            FROM pooled p
        ),
        fused AS (
            SELECT w.id, w.vr, w.vs, w.kr, w.ks,
                   CASE %1$s::text
                   WHEN 'adaptive' THEN
                       coalesce(w.v_conf / nullif(w.v_conf + w.k_conf, 0), 0.5) * w.zv
                     + coalesce(w.k_conf / nullif(w.v_conf + w.k_conf, 0), 0.5) * w.zk
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
            k integer, keyword_vector_scores double precision[] DEFAULT NULL
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
                SELECT u.id, u.sim, u.r::integer AS r, u.vsim
                FROM unnest($3, $4, coalesce($10, '{}')) WITH ORDINALITY AS u(id, sim, vsim, r)
                WHERE u.id IS NOT NULL
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
                               double precision, double precision, integer, double precision[]) IS
    'The k best of two ranked lists fused (method adaptive, rrf or convex; see vecpg.hybrid_search); '
    'keyword_vector_scores, the vector similarity of each keyword hit, lets adaptive fusion score it exactly';

-- A distance as the similarity fusion compares (higher is nearer): 1 - distance for cosine,
-- -distance for the others (l2 included, which has no similarity of its own).
CREATE OR REPLACE FUNCTION vecpg.fusion_similarity_sql(c vecpg.collection, distance text)
RETURNS text
LANGUAGE sql IMMUTABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT CASE c.distance WHEN 'cosine' THEN '1 - ' ELSE '-' END || distance
$$;

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
        vecpg.fusion_similarity_sql(c, 'v.distance')
$$;

-- The keyword list `keyword_list` (SQL returning id, score) with each document's vector
-- similarity to the query embedding $2 (id, score, vsim), computed from its stored vector, so
-- that adaptive fusion scores every candidate with both models; expired documents left out (a
-- keyword index's postings keep them until the purge). Shared by hybrid_sql and
-- hybrid_inline_sql.
CREATE OR REPLACE FUNCTION vecpg.keyword_candidates_sql(c vecpg.collection, keyword_list text)
RETURNS text
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT format('SELECT s.id, s.score, %s AS vsim FROM (%s) s LEFT JOIN %I.%I d ON d.id = s.id WHERE true %s',
                  vecpg.fusion_similarity_sql(c, vecpg.exact_distance_sql(c, vecpg.stored_query(c, '$2'))),
                  keyword_list, c.schema_name, c.table_name, vecpg.where_sql('true'))
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
                   k.ids AS k_ids, k.scores AS k_sims, k.vsims AS k_vsims
            FROM (SELECT array_agg(s.id ORDER BY s.score DESC, s.id) AS ids,
                         array_agg(s.score ORDER BY s.score DESC, s.id) AS scores,
                         array_agg(s.vsim ORDER BY s.score DESC, s.id) AS vsims FROM (%3$s) s) k
        )
        SELECT d.id, d.title, d.content, d.metadata, f.score, f.vector_rank, f.vector_score, f.keyword_rank, f.keyword_score
        FROM lists l
        CROSS JOIN LATERAL vecpg.fuse(l.v_ids, l.v_sims, l.k_ids, l.k_sims, $4::text, $5::float8, $6::float8, $7::float8, $8::integer,
                                         l.k_vsims) f
        JOIN %4$I.%5$I d ON d.id = f.id
        ORDER BY f.score DESC, f.id
        $q$,
        l.cte, l.similarity, vecpg.keyword_candidates_sql(c, keyword_list), c.schema_name, c.table_name)
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
            SELECT s.id, s.score AS sim, (row_number() OVER (ORDER BY s.score DESC, s.id))::integer AS r, s.vsim
            FROM (%3$s) s
        ),
        %4$s
        SELECT d.id, d.title, d.content, d.metadata, f.fused, f.vr, f.vs, f.kr, f.ks
        FROM fused f JOIN %5$I.%6$I d ON d.id = f.id
        ORDER BY f.fused DESC, f.id
        $q$,
        l.cte, l.similarity, vecpg.keyword_candidates_sql(c, keyword_list), vecpg.fusion_sql('$4', '$5', '$6', '$7', '$8'),
        c.schema_name, c.table_name)
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
