-- Revision 0010's layer as a delta from 0011's (python -m vecpg.schema.freeze 0010):
-- applied after 0011's layer, it gives 0010's. Generated: never edit by hand.

-- Functions 0011 added.
DROP FUNCTION vecpg.check_k(integer), vecpg.check_mmr_lambda(double precision),
    vecpg.compact_keyword_stats(text), vecpg.cosine_similarity(vector,vector),
    vecpg.fold_keyword_stats(text,text,boolean), vecpg.keyword_statistics(text),
    vecpg.keyword_totals(text),
    vecpg.mmr_search(text,vector,integer,double precision,integer,jsonb,jsonb),
    vecpg.mmr_select(text,vector,text[],double precision[],integer,double precision),
    vecpg.score_sql(vecpg.collection,text),
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
