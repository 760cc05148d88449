-- 08_keyword_index.sql — the opt-in keyword index: impact-ordered postings per collection, so
-- that hybrid search reads the best postings of each term instead of scoring every candidate.
--
-- vecpg_postings.<collection> holds one row per (document, lexeme) with tf, the document's
-- length and the impact tf / (tf + k1 (1 - b + b len / avgdl)) at k1 0.9, b 0.4, indexed on
-- (tenant_key, lexeme, impact DESC) and kept by statement triggers. Hybrid search reads the best
-- max_postings (800) postings shared among the query's terms by idf, in a function of the
-- collection's own, vecpg_postings.<collection>(...), planned once per session. Impacts use the
-- average length of the moment (scores always use current statistics); enabling again
-- rebuilds them. Building over existing rows reads every tenant's documents: it needs a role
-- that row-level security does not restrict, or an empty collection. Filters, web-search
-- syntax, ts_rank_cd and max_candidates take the exact path.

-- The keyword index of a collection, or NULL when it has none.
CREATE OR REPLACE FUNCTION vecpg.keyword_index(c vecpg.collection)
RETURNS regclass
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT to_regclass(format('vecpg_postings.%I', c.name))
$$;

CREATE OR REPLACE FUNCTION vecpg.has_keyword_index(collection text)
RETURNS boolean
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
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
SET search_path = pg_catalog, @vector_schema@, pg_temp
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
SET search_path = pg_catalog, @vector_schema@, pg_temp
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
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    -- Subqueries, so that the tenant is looked up once per scan rather than once per posting.
    own text := 'tenant_key = (SELECT coalesce(vecpg.current_tenant(), ''''))';
    written bigint;
BEGIN
    -- Row-level security would hide other tenants' documents from the fill: an index missing
    -- them would quietly drop them from their tenants' keyword lists.
    IF row_security_active(format('%I.%I', c.schema_name, c.table_name)::regclass)
       AND vecpg.tree_size(format('%I.%I', c.schema_name, c.table_name)::regclass) > 0 THEN
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

    PERFORM vecpg.keyword_index_objects(collection);
    RETURN written;
END
$$;
COMMENT ON FUNCTION vecpg.enable_keyword_index(text) IS
    'Create or rebuild a collection''s impact-ordered keyword index (fast hybrid search); returns postings written';

CREATE OR REPLACE FUNCTION vecpg.disable_keyword_index(collection text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
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
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
BEGIN
    EXECUTE format('DROP FUNCTION IF EXISTS vecpg_postings.%I', OLD.name);
    EXECUTE format('DROP TABLE IF EXISTS vecpg_postings.%I', OLD.name);
    RETURN NULL;
END
$$;

-- The keyword list from the keyword index, as SQL returning (id, score): the query text $1 is
-- parsed with the collection's language; each query term, for each visible tenant, reads its
-- best postings, $9 of them in all shared among the terms by their idf (a rare term decides
-- more than a common one); BM25 with k1 $10 and b $11 is summed over the terms a document was
-- found by; the best $3 are returned.
CREATE OR REPLACE FUNCTION vecpg.postings_list_sql(c vecpg.collection)
RETURNS text
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT format(
        $q$
        WITH keys AS MATERIALIZED (
            -- no tenant: every tenant's statistics that row-level security lets the caller read
            SELECT coalesce(vecpg.visible_tenant_keys(),
                            ARRAY(SELECT DISTINCT t.tenant_key FROM vecpg.bm25_totals t WHERE t.collection = %1$L)) AS keys
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

-- Whether a search of this shape may read its keyword list from a keyword index: no filter, no
-- web-search syntax, BM25 without a candidate cap (those need the exact path). Python asks it in
-- the statement that calls a collection's search function directly.
CREATE OR REPLACE FUNCTION vecpg.keyword_index_serves(query text, filter jsonb, options jsonb)
RETURNS boolean
LANGUAGE sql IMMUTABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT coalesce(filter, '{}') = '{}'
       AND NOT coalesce(query ~ '"|\mOR\M|(^|\s)-\w', false)
       AND coalesce(options->>'ranking', 'bm25') = 'bm25'
       AND NOT coalesce(options ? 'max_candidates', false)
$$;

-- Whether a hybrid search of collection c reads its keyword list from the keyword index.
CREATE OR REPLACE FUNCTION vecpg.uses_keyword_index(c vecpg.collection, query text, filter jsonb, options jsonb)
RETURNS boolean
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT vecpg.keyword_index(c) IS NOT NULL AND vecpg.keyword_index_serves(query, filter, options)
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
SET search_path = pg_catalog, @vector_schema@, pg_temp
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

-- A collection's part of its keyword index that is made from this file's functions: the
-- triggers keeping the postings (named after the bm25_* triggers, so they fire after them and
-- see the new totals) and its search function. Nothing when it has no keyword index.
CREATE OR REPLACE FUNCTION vecpg.keyword_index_objects(collection text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
BEGIN
    IF vecpg.keyword_index(c) IS NOT NULL THEN
        PERFORM vecpg.statement_triggers(c, 'postings', 'vecpg.postings_track', 'OLD TABLE AS old_rows NEW TABLE AS new_rows');
        PERFORM vecpg.create_keyword_search_function(c);
    END IF;
END
$$;

