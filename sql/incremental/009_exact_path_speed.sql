-- 009_exact_path_speed.sql — the exact path of keyword and hybrid search made cheaper: tsvectors
-- read in place instead of copied, and the fusion planned once per session.
--
-- Idempotent file (CREATE OR REPLACE; safe to run again); frozen once released. Its downgrade
-- restores 007's keyword_list_sql and drops what it adds; the revision then runs 008 again.
--
-- Why (measured on SciFact, docs/benchmarks.md; results identical):
-- 1. 007 copied every candidate's tsvector once (`fts || ''::tsvector`) so that the ts_rank call
--    of each query term would not decompress it or fetch it from TOAST again. With STORAGE MAIN
--    (007) the tsvector of a typical document (an abstract, a chunk) is inline and uncompressed,
--    where ts_rank reads it in place and the copy is pure cost: tsvector_concat rebuilds the
--    whole value, 3.4 µs for a SciFact abstract against 0.6 to read it. Keyword search: 14.8 M
--    instructions a query to 10.7 M, p50 0.71-0.75x.
-- 2. The exact path of hybrid search writes its statement for each query (the keyword list's
--    scoring expression holds the query's terms as literals), so PostgreSQL planned the whole
--    fusion on every call, about 4.9 M instructions. vecpg.fuse now fuses two lists given as
--    arrays in static SQL, planned once per session; the statement written per query only
--    gathers the lists, calls it and joins the k rows back. Exact hybrid search: 21.6 M to
--    15.3 M instructions, p50 0.79x. The keyword index's search functions keep the fusion
--    inline (hybrid_inline_sql: their whole statement is planned once, and calling vecpg.fuse
--    cost them 7% more); both are made from vecpg.fusion_sql, the one definition of the
--    fusion methods.

-- How the scoring SQL refers to document d's tsvector: in place when it is inline and not
-- compressed, else a copy made once a row, since ts_rank would decompress it or fetch it from
-- TOAST for every query term. A long document's tsvector is usually out of line and not
-- compressed (its positions defeat pglz), so it is copied. PostgreSQL 17 tells out-of-line values
-- apart (pg_column_toast_chunk_id); before it, any tsvector of 2 kB or more is copied (one that
-- small is moved out of line only when other columns of the row could not be).
CREATE OR REPLACE FUNCTION vecpg.tsvector_once_sql(
    server_version integer DEFAULT current_setting('server_version_num')::integer
)
RETURNS text
LANGUAGE sql STABLE SECURITY INVOKER
AS $$
    SELECT format('CASE WHEN pg_column_compression(d.fts) IS NULL AND %s THEN d.fts ELSE d.fts || ''''::tsvector END',
                  CASE WHEN server_version >= 170000 THEN 'pg_column_toast_chunk_id(d.fts) IS NULL'
                       ELSE 'pg_column_size(d.fts) < 2048' END)
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
        'CROSS JOIN LATERAL (SELECT %s AS fts OFFSET 0) AS v '
        'WHERE d.fts @@ %L::tsquery %s ORDER BY score DESC, d.id LIMIT %s',
        columns, score_sql, c.schema_name, c.table_name, vecpg.tsvector_once_sql(), match::text,
        CASE WHEN predicate = 'true' THEN '' ELSE 'AND (' || predicate || ')' END
            || CASE WHEN required IS NULL THEN '' ELSE format(' AND d.fts @@ %L::tsquery', required::text) END,
        limit_sql)
    END
$$;

-- The fusion of two ranked lists, as CTEs `joined`, `weighed` and `fused` that read CTEs `vr`
-- and `kr` (id, sim, r: each list's documents, scores and ranks) and leave in `fused` the k best
-- (id, vr, vs, kr, ks, fused), ordered. The arguments name the parameters holding the method,
-- the two weights, rrf_k and k. The one definition of the fusion methods (as in
-- 004_search_functions.sql): hybrid_inline_sql and vecpg.fuse are both made from it.
CREATE OR REPLACE FUNCTION vecpg.fusion_sql(method text, vector_weight text, keyword_weight text, rrf_k text, k text)
RETURNS text
LANGUAGE sql IMMUTABLE SECURITY INVOKER
AS $$
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
$$;

-- The vector list of a hybrid search statement over collection c, as CTE `v` (id, distance;
-- $2 the query embedding, $3 how many, `predicate` the filter), and the expression of a row's
-- similarity in it. Shared by hybrid_sql and hybrid_inline_sql.
CREATE OR REPLACE FUNCTION vecpg.vector_list_sql(c vecpg.collection, predicate text, OUT cte text, OUT similarity text)
LANGUAGE sql STABLE SECURITY INVOKER
AS $$
    SELECT format(
        $q$
        v AS MATERIALIZED (
            SELECT d.id, (d.embedding %1$s $2)::double precision AS distance
            FROM %2$I.%3$I d WHERE d.embedding IS NOT NULL %4$s
            ORDER BY d.embedding %1$s $2 LIMIT $3::integer
        )
        $q$,
        format('OPERATOR(%I.%s)', vecpg.vector_schema(), vecpg.distance_operator(c.distance)),
        c.schema_name, c.table_name,
        CASE WHEN predicate = 'true' THEN '' ELSE 'AND (' || predicate || ')' END),
        CASE c.distance WHEN 'cosine' THEN '1 - v.distance' ELSE '-v.distance' END
$$;

-- A hybrid search statement for collection c with the fusion written into it, for statements
-- planned once (the keyword indexes' search functions): the vector list (filtered by
-- `predicate`) and the keyword list `keyword_list` (SQL returning id, score) fused by method.
-- Parameters as for hybrid_sql.
CREATE OR REPLACE FUNCTION vecpg.hybrid_inline_sql(c vecpg.collection, predicate text, keyword_list text)
RETURNS text
LANGUAGE sql STABLE SECURITY INVOKER
AS $$
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
            k integer
        )
        RETURNS TABLE (id text, score double precision, vector_rank integer, vector_score double precision,
                       keyword_rank integer, keyword_score double precision)
        LANGUAGE plpgsql STABLE SECURITY INVOKER
        SET plan_cache_mode = force_generic_plan
        AS $fn$
        #variable_conflict use_column
        BEGIN
            RETURN QUERY
            WITH vr AS (
                SELECT u.id, u.sim, u.r::integer AS r FROM unnest($1, $2) WITH ORDINALITY AS u(id, sim, r)
            ),
            kr AS (
                SELECT u.id, u.sim, u.r::integer AS r FROM unnest($3, $4) WITH ORDINALITY AS u(id, sim, r)
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
                               double precision, double precision, integer) IS
    'The k best of two ranked lists fused (method adaptive, rrf or convex; see vecpg.hybrid_search)';

-- A hybrid search statement for collection c: the vector list (filtered by `predicate`) and the
-- keyword list `keyword_list` (SQL returning id, score) fused by method in vecpg.fuse, which is
-- planned once per session while this statement is planned on every call (the exact path of
-- hybrid_search writes its keyword list for each query). Parameters: $1 filter, $2 query
-- embedding, $3 candidates per list, $4 method, $5 vector weight, $6 keyword weight, $7 rrf_k,
-- $8 k; a keyword list may use $9 onwards (and $1, when there is no filter).
CREATE OR REPLACE FUNCTION vecpg.hybrid_sql(c vecpg.collection, predicate text, keyword_list text)
RETURNS text
LANGUAGE sql STABLE SECURITY INVOKER
AS $$
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
$$;

-- A collection's hybrid search over its keyword index, as a function of its own in
-- vecpg_postings (created with the index, named after the collection like the postings table):
--   vecpg_postings.<collection>(query, query_embedding, candidates, method, vector_weight,
--       keyword_weight, rrf_k, k, max_postings, k1, b, ef_search, iterative_scan)
-- vecpg.hybrid_search calls it when the search allows; clients may call it directly. Static SQL
-- in PL/pgSQL is planned once per session, and always generically: planned anew, the statement
-- costs as much as it takes to run (the parameters do not change the best plan).
CREATE OR REPLACE FUNCTION vecpg.create_keyword_search_function(c vecpg.collection)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
AS $$
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
        c.name, vecpg.vector_schema(), vecpg.hybrid_inline_sql(c, 'true', vecpg.postings_list_sql(c)));
    EXECUTE format('COMMENT ON FUNCTION vecpg_postings.%I IS %L', c.name,
                   'Hybrid search of collection ' || c.name || ' over its keyword index (see vecpg.hybrid_search)');
    EXECUTE format('REVOKE EXECUTE ON FUNCTION vecpg_postings.%I FROM PUBLIC', c.name);
    EXECUTE format('GRANT EXECUTE ON FUNCTION vecpg_postings.%I TO vecpg_reader', c.name);
    IF pg_has_role('vecpg_admin', 'MEMBER') THEN  -- so that any admin may rebuild or drop it
        EXECUTE format('ALTER FUNCTION vecpg_postings.%I OWNER TO vecpg_admin', c.name);
    END IF;
END
$$;

-- Pin the search_path of every vecpg function, the replaced ones included.
SELECT vecpg.pin_search_paths();

-- The search functions are now made by hybrid_inline_sql: bring every one up to date.
DO $regenerate$
DECLARE
    c vecpg.collection;
BEGIN
    FOR c IN SELECT * FROM vecpg.collection x WHERE vecpg.keyword_index(x) IS NOT NULL LOOP
        PERFORM vecpg.create_keyword_search_function(c);
    END LOOP;
END
$regenerate$;
