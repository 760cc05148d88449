-- Revision 0005's layer as a delta from 0006's (python -m vecpg.schema.freeze 0005):
-- applied after 0006's layer, it gives 0005's. Generated: never edit by hand.

-- Functions 0006 added.
DROP FUNCTION
    vecpg.fuse(text[],double precision[],text[],double precision[],text,double precision,double precision,double precision,integer),
    vecpg.fusion_sql(text,text,text,text,text), vecpg.hybrid_inline_sql(vecpg.collection,text,text),
    vecpg.tsvector_once_sql(integer), vecpg.vector_list_sql(vecpg.collection,text);

CREATE OR REPLACE FUNCTION vecpg.create_keyword_search_function(c vecpg.collection)
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
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
        c.name, vecpg.vector_schema(), vecpg.hybrid_sql(c, 'true', vecpg.postings_list_sql(c)));
    EXECUTE format('COMMENT ON FUNCTION vecpg_postings.%I IS %L', c.name,
                   'Hybrid search of collection ' || c.name || ' over its keyword index (see vecpg.hybrid_search)');
    EXECUTE format('REVOKE EXECUTE ON FUNCTION vecpg_postings.%I FROM PUBLIC', c.name);
    EXECUTE format('GRANT EXECUTE ON FUNCTION vecpg_postings.%I TO vecpg_reader', c.name);
    IF pg_has_role('vecpg_admin', 'MEMBER') THEN  -- so that any admin may rebuild or drop it
        EXECUTE format('ALTER FUNCTION vecpg_postings.%I OWNER TO vecpg_admin', c.name);
    END IF;
END
$function$;
COMMENT ON FUNCTION vecpg.create_keyword_search_function(vecpg.collection) IS NULL;

CREATE OR REPLACE FUNCTION vecpg.hybrid_sql(c vecpg.collection, predicate text, keyword_list text)
 RETURNS text
 LANGUAGE sql
 STABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
    SELECT format(
        $q$
        WITH v AS MATERIALIZED (
            SELECT d.id, (d.embedding %1$s $2)::double precision AS distance
            FROM %2$I.%3$I d WHERE d.embedding IS NOT NULL %4$s
            ORDER BY d.embedding %1$s $2 LIMIT $3::integer
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
                   $5::float8 * coalesce((j.v_max - j.v_mean) / nullif(j.v_sd, 0), 0) AS v_conf,
                   $6::float8 * coalesce((j.k_max - j.k_mean) / nullif(j.k_sd, 0), 0) AS k_conf
            FROM joined j
        ),
        fused AS (
            SELECT w.id, w.vr, w.vs, w.kr, w.ks,
                   CASE $4::text
                   WHEN 'adaptive' THEN
                       coalesce(w.v_conf / nullif(w.v_conf + w.k_conf, 0), 0.5)
                           * coalesce((coalesce(w.vs, w.v_min) - w.v_mean) / nullif(w.v_sd, 0), 0)
                     + coalesce(w.k_conf / nullif(w.v_conf + w.k_conf, 0), 0.5)
                           * coalesce((coalesce(w.ks, w.k_min) - w.k_mean) / nullif(w.k_sd, 0), 0)
                   WHEN 'rrf' THEN
                       coalesce($5::float8 / ($7::float8 + w.vr), 0) + coalesce($6::float8 / ($7::float8 + w.kr), 0)
                   ELSE
                       $5::float8 * coalesce((w.vs - w.v_min) / nullif(w.v_max - w.v_min, 0), CASE WHEN w.vr IS NULL THEN 0 ELSE 1 END)
                     + $6::float8 * coalesce((w.ks - w.k_min) / nullif(w.k_max - w.k_min, 0), CASE WHEN w.kr IS NULL THEN 0 ELSE 1 END)
                   END AS fused
            FROM weighed w
            ORDER BY fused DESC, w.id
            LIMIT $8::integer
        )
        SELECT d.id, d.title, d.content, d.metadata, f.fused, f.vr, f.vs, f.kr, f.ks
        FROM fused f JOIN %2$I.%3$I d ON d.id = f.id
        ORDER BY f.fused DESC, f.id
        $q$,
        format('OPERATOR(%I.%s)', vecpg.vector_schema(), vecpg.distance_operator(c.distance)),
        c.schema_name, c.table_name,
        CASE WHEN predicate = 'true' THEN '' ELSE 'AND (' || predicate || ')' END,
        CASE c.distance WHEN 'cosine' THEN '1 - v.distance' ELSE '-v.distance' END,
        keyword_list)
$function$;
COMMENT ON FUNCTION vecpg.hybrid_sql(vecpg.collection,text,text) IS NULL;

CREATE OR REPLACE FUNCTION vecpg.keyword_list_sql(c vecpg.collection, match tsquery, required tsquery, score_sql text, predicate text, limit_sql text, columns text DEFAULT 'd.id'::text)
 RETURNS text
 LANGUAGE sql
 STABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
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
$function$;
COMMENT ON FUNCTION vecpg.keyword_list_sql(vecpg.collection,tsquery,tsquery,text,text,text,text) IS NULL;
