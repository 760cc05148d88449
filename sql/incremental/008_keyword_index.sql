-- 008_keyword_index.sql — an impact-ordered keyword index per collection, so that hybrid
-- search no longer scores every candidate document; hybrid search built from shared parts;
-- vectors stored in the row.
--
-- Idempotent file (CREATE ... IF NOT EXISTS, CREATE OR REPLACE; safe to run again); frozen once
-- released. Its downgrade drops what it adds and runs 007 again.
--
-- Why: exact BM25 (007) scores every candidate document with every query term, ~0.3 µs per
-- term and candidate: for a ten-term query over ~500 candidates the keyword list costs three to
-- four HNSW searches. Search engines keep, per term, its postings ordered by their contribution
-- to the score ("impact") and read only the best of each list. Here that list is a table per
-- collection, vecpg_postings.<collection>: one row per (document, lexeme) with the term
-- frequency, the document length and the impact tf / (tf + k1 (1 - b + b len / avgdl)) at the
-- default k1 0.9, b 0.4, indexed on (tenant_key, lexeme, impact DESC). A hybrid search reads the
-- best `max_postings` (default 800) postings from that index, shared among the query's terms by
-- their idf, adds up BM25 from their tf and len with the current statistics, and fuses that list
-- with the vector list as before, in a function of the collection's own whose plan is made once
-- per session. Measured on SciFact (docs/benchmarks.md): ~0.5 ms for the keyword list instead
-- of ~4.5, hybrid nDCG@10 within 0.01 of exact BM25 fusion.
--
-- What it costs: a table of about one row per distinct lexeme of every document (larger than
-- the collection's own text), written by statement triggers in the same transaction as the
-- documents. Impacts are computed with the average length of the moment; as the collection
-- grows they drift, which only changes which postings count as "the best" (scores always use
-- current statistics): vecpg.enable_keyword_index() run again rebuilds them. Building it over
-- existing rows reads every tenant's documents, so it needs a role that row-level security
-- does not restrict (a superuser or BYPASSRLS); on an empty collection any admin may.
--
-- It is opt-in per collection (vecpg.enable_keyword_index). Searches with a filter, web-search
-- syntax (quotes, OR, -word), the ts_rank_cd ranking or max_candidates keep the exact path, as
-- does keyword_search: keyword-only search ranks exactly.

CREATE SCHEMA IF NOT EXISTS vecpg_postings;
COMMENT ON SCHEMA vecpg_postings IS 'vecpg keyword indexes: impact-ordered postings, one table per collection';
GRANT USAGE ON SCHEMA vecpg_postings TO vecpg_reader;
GRANT CREATE ON SCHEMA vecpg_postings TO vecpg_admin;

-- The keyword index of a collection, or NULL when it has none.
CREATE OR REPLACE FUNCTION vecpg.keyword_index(c vecpg.collection)
RETURNS regclass
LANGUAGE sql STABLE SECURITY INVOKER
AS $$
    SELECT to_regclass(format('vecpg_postings.%I', c.name))
$$;

CREATE OR REPLACE FUNCTION vecpg.has_keyword_index(collection text)
RETURNS boolean
LANGUAGE sql STABLE SECURITY INVOKER
AS $$
    SELECT vecpg.keyword_index(vecpg.get_collection(collection)) IS NOT NULL
$$;
COMMENT ON FUNCTION vecpg.has_keyword_index(text) IS 'Whether a collection has a keyword index (hybrid search fast path)';

-- The postings of a set of rows (a transition table or the collection), as a SELECT list:
-- tenant_key, lexeme, id, tf, len, impact. tf is the number of positions (1 in a stripped
-- tsvector), len the number of distinct lexemes, as in vecpg.bm25_totals.
CREATE OR REPLACE FUNCTION vecpg.postings_sql(c vecpg.collection, source text)
RETURNS text
LANGUAGE sql STABLE SECURITY INVOKER
AS $$
    SELECT format(
        'SELECT coalesce(r.tenant_id, ''''), u.lexeme, r.id, x.tf, x.len, '
        '(x.tf / (x.tf + 0.9 * (0.6 + 0.4 * x.len / s.avgdl)))::real '
        'FROM %s r CROSS JOIN LATERAL unnest(r.fts) u '
        'CROSS JOIN LATERAL (SELECT coalesce(cardinality(u.positions), 1) AS tf, length(r.fts) AS len) x, '
        '(SELECT coalesce(sum(t.total_len)::float8 / nullif(sum(t.n_docs), 0), 1) AS avgdl '
        ' FROM vecpg.bm25_totals t WHERE t.collection = %L) s',
        source, c.name)
$$;

CREATE OR REPLACE FUNCTION vecpg.postings_track()
RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER
AS $$
DECLARE
    c vecpg.collection := vecpg.get_collection(TG_ARGV[0]);
    postings text := format('vecpg_postings.%I', c.name);
BEGIN
    IF TG_OP = 'INSERT' THEN
        EXECUTE format('INSERT INTO %s %s', postings, vecpg.postings_sql(c, 'new_rows'));
    ELSIF TG_OP = 'DELETE' THEN
        EXECUTE format('DELETE FROM %s p USING old_rows o WHERE p.id = o.id', postings);
    ELSE
        -- Updates that leave text and tenant alone (embeddings, metadata) leave postings alone.
        EXECUTE format(
            'DELETE FROM %s p USING old_rows o WHERE p.id = o.id AND NOT EXISTS ('
            'SELECT 1 FROM new_rows n WHERE n.id = o.id AND n.fts = o.fts '
            'AND n.tenant_id IS NOT DISTINCT FROM o.tenant_id)', postings);
        EXECUTE format(
            'INSERT INTO %s %s', postings,
            vecpg.postings_sql(c, '(SELECT n.* FROM new_rows n WHERE NOT EXISTS ('
                                  'SELECT 1 FROM old_rows o WHERE o.id = n.id AND o.fts = n.fts '
                                  'AND o.tenant_id IS NOT DISTINCT FROM n.tenant_id))'));
    END IF;
    RETURN NULL;
END
$$;

-- Create (or rebuild, refreshing every impact) a collection's keyword index; returns the
-- number of postings written.
CREATE OR REPLACE FUNCTION vecpg.enable_keyword_index(collection text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    -- Subqueries, so that the tenant is looked up once per scan rather than once per posting.
    own text := 'tenant_key = (SELECT coalesce(vecpg.current_tenant(), ''''))';
    event text;
    written bigint;
BEGIN
    -- Row-level security would hide other tenants' documents from the fill: an index missing
    -- them would quietly drop them from their tenants' keyword lists.
    IF row_security_active(format('%I.%I', c.schema_name, c.table_name)::regclass)
       AND pg_relation_size(format('%I.%I', c.schema_name, c.table_name)::regclass) > 0 THEN
        RAISE EXCEPTION 'building the keyword index of "%" reads every tenant''s documents: run it as a role '
                        'that row-level security does not restrict (superuser or BYPASSRLS), or before loading',
                        c.name USING ERRCODE = 'insufficient_privilege';
    END IF;
    EXECUTE format('DROP FUNCTION IF EXISTS vecpg_postings.%I', c.name);
    EXECUTE format('DROP TABLE IF EXISTS vecpg_postings.%I', c.name);
    EXECUTE format(
        'CREATE TABLE vecpg_postings.%I ('
        ' tenant_key text NOT NULL, lexeme text NOT NULL, id text NOT NULL,'
        ' tf integer NOT NULL, len integer NOT NULL, impact real NOT NULL,'
        ' PRIMARY KEY (id, lexeme))', c.name);
    EXECUTE format('COMMENT ON TABLE vecpg_postings.%I IS %L', c.name, 'vecpg keyword index of collection ' || c.name);
    -- Rows follow the documents they come from: a tenant sees its own (and shared ones).
    EXECUTE format('ALTER TABLE vecpg_postings.%I ENABLE ROW LEVEL SECURITY', c.name);
    EXECUTE format('ALTER TABLE vecpg_postings.%I FORCE ROW LEVEL SECURITY', c.name);
    EXECUTE format('CREATE POLICY tenant_postings ON vecpg_postings.%I USING (%s OR (tenant_key = '''' AND (SELECT vecpg.shares_rows(%L)))) '
                   'WITH CHECK (%s)', c.name, own, c.name, own);
    EXECUTE format('GRANT SELECT ON vecpg_postings.%I TO vecpg_reader', c.name);
    EXECUTE format('GRANT INSERT, UPDATE, DELETE ON vecpg_postings.%I TO vecpg_writer', c.name);
    IF pg_has_role('vecpg_admin', 'MEMBER') THEN
        EXECUTE format('ALTER TABLE vecpg_postings.%I OWNER TO vecpg_admin', c.name);
    END IF;

    EXECUTE format('INSERT INTO vecpg_postings.%I %s', c.name,
                   vecpg.postings_sql(c, format('%I.%I', c.schema_name, c.table_name)));
    GET DIAGNOSTICS written = ROW_COUNT;
    -- Built after the fill: one sort instead of a hundred thousand index insertions.
    EXECUTE format('CREATE INDEX %I ON vecpg_postings.%I (tenant_key, lexeme, impact DESC) INCLUDE (id, tf, len)',
                   left(c.name, 50) || '_impact', c.name);
    EXECUTE format('ANALYZE vecpg_postings.%I', c.name);

    -- Named after the bm25_* triggers, so they fire after them (by name) and see the new totals.
    FOREACH event IN ARRAY ARRAY['insert', 'update', 'delete'] LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I.%I', 'postings_' || event, c.schema_name, c.table_name);
        EXECUTE format('CREATE TRIGGER %I AFTER %s ON %I.%I REFERENCING %s FOR EACH STATEMENT '
                       'EXECUTE FUNCTION vecpg.postings_track(%L)',
                       'postings_' || event, event, c.schema_name, c.table_name,
                       CASE event WHEN 'insert' THEN 'NEW TABLE AS new_rows'
                                  WHEN 'delete' THEN 'OLD TABLE AS old_rows'
                                  ELSE 'OLD TABLE AS old_rows NEW TABLE AS new_rows' END,
                       c.name);
    END LOOP;
    PERFORM vecpg.create_keyword_search_function(c);
    RETURN written;
END
$$;
COMMENT ON FUNCTION vecpg.enable_keyword_index(text) IS
    'Create or rebuild a collection''s impact-ordered keyword index (fast hybrid search); returns postings written';

CREATE OR REPLACE FUNCTION vecpg.disable_keyword_index(collection text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    event text;
    had boolean := vecpg.keyword_index(c) IS NOT NULL;
BEGIN
    FOREACH event IN ARRAY ARRAY['insert', 'update', 'delete'] LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I.%I', 'postings_' || event, c.schema_name, c.table_name);
    END LOOP;
    EXECUTE format('DROP FUNCTION IF EXISTS vecpg_postings.%I', c.name);
    EXECUTE format('DROP TABLE IF EXISTS vecpg_postings.%I', c.name);
    RETURN had;
END
$$;
COMMENT ON FUNCTION vecpg.disable_keyword_index(text) IS 'Drop a collection''s keyword index; false when it had none';

-- A keyword index goes with its collection, however the catalog row is deleted.
CREATE OR REPLACE FUNCTION vecpg.drop_keyword_index_of_collection()
RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER
AS $$
BEGIN
    EXECUTE format('DROP FUNCTION IF EXISTS vecpg_postings.%I', OLD.name);
    EXECUTE format('DROP TABLE IF EXISTS vecpg_postings.%I', OLD.name);
    RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS drop_keyword_index ON vecpg.collection;
CREATE TRIGGER drop_keyword_index AFTER DELETE ON vecpg.collection
    FOR EACH ROW EXECUTE FUNCTION vecpg.drop_keyword_index_of_collection();

------------------------------------------------------------------------------------------------
-- Vectors stay in the row
------------------------------------------------------------------------------------------------

-- pgvector stores vectors EXTERNAL: a 384-d vector (1.5 kB) beside a document's text and
-- tsvector is moved out of line, so every distance computed from the table (an exact scan, the
-- score of each row an index scan returns) costs a TOAST fetch. MAIN keeps it in the row and
-- moves it out only when the row would not fit in a page otherwise (vectors of more than ~2,000
-- dimensions). Measured in docs/benchmarks.md. Applies to rows written from now on; VACUUM
-- FULL moves the existing ones.
CREATE OR REPLACE FUNCTION vecpg.store_vectors_inline(collection text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
BEGIN
    EXECUTE format('ALTER TABLE %I.%I ALTER COLUMN embedding SET STORAGE MAIN', c.schema_name, c.table_name);
END
$$;

CREATE OR REPLACE FUNCTION vecpg.collection_created(collection text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
AS $$
BEGIN
    PERFORM vecpg.store_fts_inline(collection);
    PERFORM vecpg.store_vectors_inline(collection);
    PERFORM vecpg.refresh_keyword_stats(collection);
    PERFORM vecpg.apply_tenancy(collection);
END
$$;

DO $install$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT name FROM vecpg.collection LOOP
        PERFORM vecpg.store_vectors_inline(c.name);
    END LOOP;
END
$install$;

------------------------------------------------------------------------------------------------
-- Hybrid search: one statement, two ways to get the keyword list
------------------------------------------------------------------------------------------------

-- The keyword list from the keyword index, as SQL returning (id, score): the query text $1 is
-- parsed with the collection's language; each query term, for each visible tenant, reads its
-- best postings, $9 of them in all shared among the terms by their idf (a rare term decides
-- more than a common one); BM25 with k1 $10 and b $11 is summed over the terms a document was
-- found by; the best $3 are returned.
CREATE OR REPLACE FUNCTION vecpg.postings_list_sql(c vecpg.collection)
RETURNS text
LANGUAGE sql STABLE SECURITY INVOKER
AS $$
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
$$;

-- A hybrid search statement for collection c: the vector list (filtered by `predicate`) and the
-- keyword list `keyword_list` (SQL returning id, score) fused by method. Parameters: $1 filter,
-- $2 query embedding, $3 candidates per list, $4 method, $5 vector weight, $6 keyword weight,
-- $7 rrf_k, $8 k; a keyword list may use $9 onwards (and $1, when there is no filter). Methods
-- as in 004_search_functions.sql.
CREATE OR REPLACE FUNCTION vecpg.hybrid_sql(c vecpg.collection, predicate text, keyword_list text)
RETURNS text
LANGUAGE sql STABLE SECURITY INVOKER
AS $$
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
        c.name, vecpg.vector_schema(), vecpg.hybrid_sql(c, 'true', vecpg.postings_list_sql(c)));
    EXECUTE format('COMMENT ON FUNCTION vecpg_postings.%I IS %L', c.name,
                   'Hybrid search of collection ' || c.name || ' over its keyword index (see vecpg.hybrid_search)');
    EXECUTE format('REVOKE EXECUTE ON FUNCTION vecpg_postings.%I FROM PUBLIC', c.name);
    EXECUTE format('GRANT EXECUTE ON FUNCTION vecpg_postings.%I TO vecpg_reader', c.name);
    IF pg_has_role('vecpg_admin', 'MEMBER') THEN  -- so that any admin may rebuild or drop it
        EXECUTE format('ALTER FUNCTION vecpg_postings.%I OWNER TO vecpg_admin', c.name);
    END IF;
END
$$;

-- Whether a hybrid search can read its keyword list from the keyword index: no filter, no
-- web-search syntax, BM25 without a candidate cap (those need the exact path).
CREATE OR REPLACE FUNCTION vecpg.uses_keyword_index(c vecpg.collection, query text, filter jsonb, options jsonb)
RETURNS boolean
LANGUAGE sql STABLE SECURITY INVOKER
AS $$
    SELECT vecpg.keyword_index(c) IS NOT NULL
       AND coalesce(filter, '{}') = '{}'
       AND NOT coalesce(query ~ '"|\mOR\M|(^|\s)-\w', false)
       AND coalesce(options->>'ranking', 'bm25') = 'bm25'
       AND NOT coalesce(options ? 'max_candidates', false)
$$;

-- As in 007, with the keyword list from the keyword index when the search allows it.
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
                      'ef_search', 'probes', 'iterative_scan', 'max_scan_tuples', 'k1', 'b', 'ranking',
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
    keyword_opts := (SELECT coalesce(jsonb_object_agg(key, value), '{}') FROM jsonb_each(opts)
                     WHERE key IN ('k1', 'b', 'ranking', 'max_candidates'));

    IF coalesce((opts->>'keyword_index')::boolean, true) AND vecpg.uses_keyword_index(c, query, filter, keyword_opts) THEN
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

-- Only admins create and drop keyword indexes and change storage.
DO $grants$
DECLARE
    f regprocedure;
BEGIN
    FOREACH f IN ARRAY ARRAY['vecpg.enable_keyword_index(text)'::regprocedure,
                             'vecpg.disable_keyword_index(text)'::regprocedure,
                             'vecpg.store_vectors_inline(text)'::regprocedure] LOOP
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO vecpg_admin', f);
    END LOOP;
END
$grants$;

-- Pin the search_path of every vecpg function, the new ones included.
SELECT vecpg.pin_search_paths();

-- Search functions are generated from hybrid_sql and postings_list_sql: run again (or by a
-- later file that changes those), this brings every existing one up to date.
DO $regenerate$
DECLARE
    c vecpg.collection;
BEGIN
    FOR c IN SELECT * FROM vecpg.collection x WHERE vecpg.keyword_index(x) IS NOT NULL LOOP
        PERFORM vecpg.create_keyword_search_function(c);
    END LOOP;
END
$regenerate$;
