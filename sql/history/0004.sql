-- Revision 0004's layer as a delta from 0005's (python -m vecpg.schema.freeze 0004):
-- applied after 0005's layer, it gives 0004's. Generated: never edit by hand.

-- Functions 0005 added.
DROP FUNCTION vecpg.create_keyword_search_function(vecpg.collection),
    vecpg.disable_keyword_index(text), vecpg.drop_keyword_index_of_collection(),
    vecpg.enable_keyword_index(text), vecpg.has_keyword_index(text),
    vecpg.hybrid_sql(vecpg.collection,text,text), vecpg.keyword_index(vecpg.collection),
    vecpg.postings_list_sql(vecpg.collection), vecpg.postings_sql(vecpg.collection,text),
    vecpg.postings_track(), vecpg.store_vectors_inline(text),
    vecpg.uses_keyword_index(vecpg.collection,text,jsonb,jsonb);

CREATE OR REPLACE FUNCTION vecpg.collection_created(collection text)
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
BEGIN
    PERFORM vecpg.store_fts_inline(collection);
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
$function$;
COMMENT ON FUNCTION vecpg.hybrid_search(text,text,vector,integer,jsonb,jsonb) IS 'Vector and BM25 keyword lists fused in one statement (method adaptive, rrf or convex)';

-- finish: this revision's own, in place of the newer revision's
