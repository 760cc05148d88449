-- Revision 0010's layer as a delta from 0011's (python -m vecpg.schema.freeze 0010):
-- applied after 0011's layer, it gives 0010's. Generated: never edit by hand.

-- Functions 0011 added.
DROP FUNCTION vecpg.check_k(integer), vecpg.check_mmr_lambda(double precision),
    vecpg.compact_keyword_stats(text), vecpg.cosine_similarity(vector,vector),
    vecpg.estimated_tokens(text), vecpg.exact_distance_sql(vecpg.collection,text),
    vecpg.fold_keyword_stats(text,text,boolean),
    vecpg.fuse(text[],double precision[],text[],double precision[],text,double precision,double precision,double precision,integer,double precision[]),
    vecpg.fusion_similarity_sql(vecpg.collection,text),
    vecpg.keyword_candidates_sql(vecpg.collection,text), vecpg.keyword_statistics(text),
    vecpg.keyword_totals(text),
    vecpg.mmr_search(text,vector,integer,double precision,integer,jsonb,jsonb),
    vecpg.mmr_select(text,vector,text[],double precision[],integer,double precision),
    vecpg.rag_context(text,text,vector,integer,integer,jsonb,jsonb,integer),
    vecpg.rag_passages(text,vector,text[],integer), vecpg.score_sql(vecpg.collection,text),
    vecpg.search_many(text,vector[],integer,jsonb,jsonb,boolean),
    vecpg.vector_search_options(vecpg.collection,text,jsonb,integer);

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

CREATE OR REPLACE FUNCTION vecpg.check_vector_query(c vecpg.collection, query_embedding vector, k integer)
 RETURNS void
 LANGUAGE plpgsql
 IMMUTABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
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
$function$;
COMMENT ON FUNCTION vecpg.check_vector_query(vecpg.collection,vector,integer) IS NULL;

CREATE OR REPLACE FUNCTION vecpg.fuse(vector_ids text[], vector_scores double precision[], keyword_ids text[], keyword_scores double precision[], method text, vector_weight double precision, keyword_weight double precision, rrf_k double precision, k integer)
 RETURNS TABLE(id text, score double precision, vector_rank integer, vector_score double precision, keyword_rank integer, keyword_score double precision)
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
 SET plan_cache_mode TO 'force_generic_plan'
AS $function$
        #variable_conflict use_column
        BEGIN
            RETURN QUERY
            WITH vr AS (
                SELECT u.id, u.sim, u.r::integer AS r FROM unnest($1, $2) WITH ORDINALITY AS u(id, sim, r)
            ),
            kr AS (
                SELECT u.id, u.sim, u.r::integer AS r FROM unnest($3, $4) WITH ORDINALITY AS u(id, sim, r)
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
                   $6::float8 * coalesce((j.v_max - j.v_mean) / nullif(j.v_sd, 0), 0) AS v_conf,
                   $7::float8 * coalesce((j.k_max - j.k_mean) / nullif(j.k_sd, 0), 0) AS k_conf
            FROM joined j
        ),
        fused AS (
            SELECT w.id, w.vr, w.vs, w.kr, w.ks,
                   CASE $5::text
                   WHEN 'adaptive' THEN
                       coalesce(w.v_conf / nullif(w.v_conf + w.k_conf, 0), 0.5)
                           * coalesce((coalesce(w.vs, w.v_min) - w.v_mean) / nullif(w.v_sd, 0), 0)
                     + coalesce(w.k_conf / nullif(w.v_conf + w.k_conf, 0), 0.5)
                           * coalesce((coalesce(w.ks, w.k_min) - w.k_mean) / nullif(w.k_sd, 0), 0)
                   WHEN 'rrf' THEN
                       coalesce($6::float8 / ($8::float8 + w.vr), 0) + coalesce($7::float8 / ($8::float8 + w.kr), 0)
                   ELSE
                       $6::float8 * coalesce((w.vs - w.v_min) / nullif(w.v_max - w.v_min, 0), CASE WHEN w.vr IS NULL THEN 0 ELSE 1 END)
                     + $7::float8 * coalesce((w.ks - w.k_min) / nullif(w.k_max - w.k_min, 0), CASE WHEN w.kr IS NULL THEN 0 ELSE 1 END)
                   END AS fused
            FROM weighed w
            ORDER BY fused DESC, w.id
            LIMIT $9::integer
        )
        
            SELECT f.id, f.fused, f.vr, f.vs, f.kr, f.ks FROM fused f ORDER BY f.fused DESC, f.id;
        END
        $function$;
COMMENT ON FUNCTION vecpg.fuse(text[],double precision[],text[],double precision[],text,double precision,double precision,double precision,integer) IS 'The k best of two ranked lists fused (method adaptive, rrf or convex; see vecpg.hybrid_search)';

CREATE OR REPLACE FUNCTION vecpg.fusion_sql(method text, vector_weight text, keyword_weight text, rrf_k text, k text)
 RETURNS text
 LANGUAGE sql
 IMMUTABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
    SELECT format(
        $q$
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
                   %2$s::float8 * coalesce((j.v_max - j.v_mean) / nullif(j.v_sd, 0), 0) AS v_conf,
                   %3$s::float8 * coalesce((j.k_max - j.k_mean) / nullif(j.k_sd, 0), 0) AS k_conf
            FROM joined j
        ),
        fused AS (
            SELECT w.id, w.vr, w.vs, w.kr, w.ks,
                   CASE %1$s::text
                   WHEN 'adaptive' THEN
                       coalesce(w.v_conf / nullif(w.v_conf + w.k_conf, 0), 0.5)
                           * coalesce((coalesce(w.vs, w.v_min) - w.v_mean) / nullif(w.v_sd, 0), 0)
                     + coalesce(w.k_conf / nullif(w.v_conf + w.k_conf, 0), 0.5)
                           * coalesce((coalesce(w.ks, w.k_min) - w.k_mean) / nullif(w.k_sd, 0), 0)
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
$function$;
COMMENT ON FUNCTION vecpg.fusion_sql(text,text,text,text,text) IS NULL;

CREATE OR REPLACE FUNCTION vecpg.hybrid_inline_sql(c vecpg.collection, predicate text, keyword_list text)
 RETURNS text
 LANGUAGE sql
 STABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
    SELECT format(
        $q$
        WITH %1$s,
        vr AS (
            SELECT v.id, %2$s AS sim, (row_number() OVER (ORDER BY v.distance, v.id))::integer AS r FROM v
        ),
        kr AS (
            SELECT s.id, s.score AS sim, (row_number() OVER (ORDER BY s.score DESC, s.id))::integer AS r FROM (%3$s) s
        ),
        %4$s
        SELECT d.id, d.title, d.content, d.metadata, f.fused, f.vr, f.vs, f.kr, f.ks
        FROM fused f JOIN %5$I.%6$I d ON d.id = f.id
        ORDER BY f.fused DESC, f.id
        $q$,
        l.cte, l.similarity, keyword_list, vecpg.fusion_sql('$4', '$5', '$6', '$7', '$8'), c.schema_name, c.table_name)
    FROM vecpg.vector_list_sql(c, predicate) l
$function$;
COMMENT ON FUNCTION vecpg.hybrid_inline_sql(vecpg.collection,text,text) IS NULL;

CREATE OR REPLACE FUNCTION vecpg.hybrid_sql(c vecpg.collection, predicate text, keyword_list text)
 RETURNS text
 LANGUAGE sql
 STABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
    SELECT format(
        $q$
        WITH %1$s,
        lists AS (
            SELECT (SELECT array_agg(v.id ORDER BY v.distance, v.id) FROM v) AS v_ids,
                   (SELECT array_agg(%2$s ORDER BY v.distance, v.id) FROM v) AS v_sims,
                   k.ids AS k_ids, k.scores AS k_sims
            FROM (SELECT array_agg(s.id ORDER BY s.score DESC, s.id) AS ids,
                         array_agg(s.score ORDER BY s.score DESC, s.id) AS scores FROM (%3$s) s) k
        )
        SELECT d.id, d.title, d.content, d.metadata, f.score, f.vector_rank, f.vector_score, f.keyword_rank, f.keyword_score
        FROM lists l
        CROSS JOIN LATERAL vecpg.fuse(l.v_ids, l.v_sims, l.k_ids, l.k_sims, $4::text, $5::float8, $6::float8, $7::float8, $8::integer) f
        JOIN %4$I.%5$I d ON d.id = f.id
        ORDER BY f.score DESC, f.id
        $q$,
        l.cte, l.similarity, keyword_list, c.schema_name, c.table_name)
    FROM vecpg.vector_list_sql(c, predicate) l
$function$;
COMMENT ON FUNCTION vecpg.hybrid_sql(vecpg.collection,text,text) IS NULL;

CREATE OR REPLACE FUNCTION vecpg.keyword_stats_triggers(collection text)
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
BEGIN
    PERFORM vecpg.statement_triggers(vecpg.get_collection(collection), 'bm25', 'vecpg.bm25_track',
                                     'OLD TABLE AS old_rows NEW TABLE AS new_rows');
END
$function$;
COMMENT ON FUNCTION vecpg.keyword_stats_triggers(text) IS NULL;

CREATE OR REPLACE FUNCTION vecpg.nearest_sql(c vecpg.collection, columns text, predicate text, query text, k text, rerank text DEFAULT '4'::text)
 RETURNS text
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
DECLARE
    vs text := quote_ident(vecpg.vector_schema());
    op text := format('OPERATOR(%s.%s)', vs, vecpg.distance_operator(c.distance));
    exact text;
    filter text := CASE WHEN predicate = 'true' THEN '' ELSE 'AND (' || predicate || ')' END;
BEGIN
    query := vecpg.stored_query(c, query);
    exact := format('(d.embedding %s %s)::double precision', op, query);
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
$function$;
COMMENT ON FUNCTION vecpg.nearest_sql(vecpg.collection,text,text,text,text,text) IS NULL;

CREATE OR REPLACE FUNCTION vecpg.postings_list_sql(c vecpg.collection)
 RETURNS text
 LANGUAGE sql
 STABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
    SELECT format(
        $q$
        WITH keys AS MATERIALIZED (
            -- no tenant: every tenant's statistics that row-level security lets the caller read
            SELECT coalesce(vecpg.visible_tenant_keys(),
                            ARRAY(SELECT t.tenant_key FROM vecpg.bm25_totals t WHERE t.collection = %1$L)) AS keys
        ),
        totals AS MATERIALIZED (
            SELECT coalesce(sum(t.n_docs), 0)::float8 AS n_docs,
                   coalesce(sum(t.total_len)::float8 / nullif(sum(t.n_docs), 0), 1) AS avgdl
            FROM vecpg.bm25_totals t, keys WHERE t.collection = %1$L AND t.tenant_key = ANY (keys.keys)
        ),
        idfs AS MATERIALIZED (
            SELECT q.lexeme, ln(1 + (totals.n_docs - f.df + 0.5) / (f.df + 0.5)) AS idf
            FROM (SELECT DISTINCT u.lexeme FROM unnest(to_tsvector(%2$L::regconfig, coalesce($1::text, ''))) u) q
            CROSS JOIN keys CROSS JOIN totals
            CROSS JOIN LATERAL (SELECT sum(s.df)::float8 AS df FROM vecpg.bm25_df s
                                WHERE s.collection = %1$L AND s.lexeme = q.lexeme AND s.tenant_key = ANY (keys.keys)) f
            WHERE f.df > 0
        ),
        terms AS MATERIALIZED (
            SELECT i.lexeme, i.idf * ($10::float8 + 1) AS weight,
                   greatest(1, ceil($9::integer * i.idf / nullif(sum(i.idf) OVER (), 0)))::integer AS reads
            FROM idfs i
        )
        SELECT p.id, sum(t.weight * p.tf / (p.tf + $10::float8 * (1 - $11::float8 + $11::float8 * p.len / totals.avgdl))) AS score
        FROM terms t CROSS JOIN keys CROSS JOIN totals
        CROSS JOIN LATERAL unnest(keys.keys) AS key
        CROSS JOIN LATERAL (
            SELECT x.id, x.tf, x.len FROM vecpg_postings.%3$I x
            WHERE x.tenant_key = key AND x.lexeme = t.lexeme
            ORDER BY x.impact DESC LIMIT t.reads
        ) p
        GROUP BY p.id
        ORDER BY score DESC, p.id
        LIMIT $3::integer
        $q$,
        c.name, c.language::text, c.name)
$function$;
COMMENT ON FUNCTION vecpg.postings_list_sql(vecpg.collection) IS NULL;

CREATE OR REPLACE FUNCTION vecpg.refresh_keyword_stats(collection text)
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
BEGIN
    PERFORM vecpg.keyword_stats_triggers(collection);
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

CREATE OR REPLACE FUNCTION vecpg.search(collection text, query_embedding vector, k integer, filter jsonb DEFAULT '{}'::jsonb, options jsonb DEFAULT '{}'::jsonb)
 RETURNS TABLE(id text, title text, content text, metadata jsonb, distance double precision, score double precision)
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    predicate text;
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
    options := vecpg.search_options(c, options, k);  -- what tuning chose, unless the call says otherwise
    -- An HNSW scan returns at most ef_search rows: a larger scan raises it for this statement.
    IF NOT options ? 'ef_search'
       AND vecpg.scan_rows(c, k, options) > coalesce(nullif(current_setting('hnsw.ef_search', true), '')::integer, 40) THEN
        options := options || jsonb_build_object('ef_search', least(vecpg.scan_rows(c, k, options), 1000));
    END IF;
    PERFORM vecpg.apply_search_options(options);

    score := CASE c.distance WHEN 'cosine' THEN '1 - distance'
                             WHEN 'ip' THEN '-distance'
                             ELSE 'NULL::double precision' END;
    -- No predicate at all for an empty filter: even "true" can change the planner's estimates.
    query := vecpg.nearest_sql(c, 'd.id, d.title, d.content, d.metadata', predicate, '$1', '$3',
                               vecpg.rerank_factor(options)::text);
    -- Relaxed iterative scans may return rows slightly out of order: sort the k rows again.
    RETURN QUERY EXECUTE format(
        'SELECT s.id, s.title, s.content, s.metadata, s.distance, %s FROM (%s) s ORDER BY s.distance',
        score, query)
        USING query_embedding, filter, k;
END
$function$;
COMMENT ON FUNCTION vecpg.search(text,vector,integer,jsonb,jsonb) IS 'k nearest documents of a collection to query_embedding that match the filter';

CREATE OR REPLACE FUNCTION vecpg.vector_list_sql(c vecpg.collection, predicate text, OUT cte text, OUT similarity text)
 RETURNS record
 LANGUAGE sql
 STABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
    SELECT format('v AS MATERIALIZED (%s)',
                  vecpg.nearest_sql(c, 'd.id', predicate, '$2', '$3::integer',
                                    vecpg.rerank_factor(c.search_defaults)::text)),
        CASE c.distance WHEN 'cosine' THEN '1 - v.distance' ELSE '-v.distance' END
$function$;
COMMENT ON FUNCTION vecpg.vector_list_sql(vecpg.collection,text) IS NULL;
