-- 06_keyword_search.sql — BM25 keyword search in SQL, and the statistics it needs.
--
-- Document frequencies and lengths live in vecpg.bm25_df / vecpg.bm25_totals per tenant, kept
-- exact by statement-level triggers that append one aggregate per statement (a key's rows sum
-- to its statistic; compaction folds them now and then). Term frequencies come from
-- ts_rank, which finds a lexeme without copying the tsvector (vecpg.term_frequency is the
-- reference). A query scores the documents holding its rarest terms, up to max_candidates.
-- How these choices were measured: docs/notes/.

-- Statistics are appended, never updated in place: a statement adds one row per (tenant,
-- lexeme) it changed and one per tenant, rows no other writer ever locks, so concurrent
-- transactions neither queue on common words nor deadlock (sql/incremental/013). Readers sum a
-- key's rows. Every 64th statement (a sequence counts them) also folds the appended rows of
-- its tenants, if no other compaction of them runs (fold_keyword_stats says why that is safe):
-- often enough that a key has few rows to sum, rarely enough to cost writers little.
-- TRUNCATE empties the collection's statistics.
CREATE OR REPLACE FUNCTION vecpg.bm25_track()
RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
DECLARE
    coll text := TG_ARGV[0];
    keys text[];
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM vecpg.bm25_df AS s WHERE s.collection = coll;
        DELETE FROM vecpg.bm25_totals AS t WHERE t.collection = coll;
        RETURN NULL;
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO vecpg.bm25_df (collection, tenant_key, lexeme, df)
        SELECT coll, coalesce(n.tenant_id, ''), u.lexeme, count(*)
        FROM new_rows n, unnest(n.fts) u
        GROUP BY 2, 3;
        INSERT INTO vecpg.bm25_totals (collection, tenant_key, n_docs, total_len)
        SELECT coll, coalesce(n.tenant_id, ''), count(*), sum(length(n.fts))
        FROM new_rows n GROUP BY 2;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO vecpg.bm25_df (collection, tenant_key, lexeme, df)
        SELECT coll, coalesce(o.tenant_id, ''), u.lexeme, -count(*)
        FROM old_rows o, unnest(o.fts) u
        GROUP BY 2, 3;
        INSERT INTO vecpg.bm25_totals (collection, tenant_key, n_docs, total_len)
        SELECT coll, coalesce(o.tenant_id, ''), -count(*), -sum(length(o.fts))
        FROM old_rows o GROUP BY 2;
    ELSE
        INSERT INTO vecpg.bm25_df (collection, tenant_key, lexeme, df)
        SELECT coll, d.tenant_key, d.lexeme, sum(d.delta)
        FROM (
            SELECT coalesce(o.tenant_id, '') AS tenant_key, u.lexeme, -1 AS delta FROM old_rows o, unnest(o.fts) u
            UNION ALL
            SELECT coalesce(n.tenant_id, ''), u.lexeme, 1 FROM new_rows n, unnest(n.fts) u
        ) d
        GROUP BY 2, 3 HAVING sum(d.delta) <> 0;
        INSERT INTO vecpg.bm25_totals (collection, tenant_key, n_docs, total_len)
        SELECT coll, d.tenant_key, sum(d.docs), sum(d.len)
        FROM (
            SELECT coalesce(o.tenant_id, '') AS tenant_key, -1 AS docs, -length(o.fts) AS len FROM old_rows o
            UNION ALL
            SELECT coalesce(n.tenant_id, ''), 1, length(n.fts) FROM new_rows n
        ) d
        GROUP BY 2 HAVING sum(d.docs) <> 0 OR sum(d.len) <> 0;
    END IF;
    IF nextval('vecpg.bm25_statements') % 64 = 0 THEN
        IF TG_OP = 'INSERT' THEN
            keys := ARRAY(SELECT DISTINCT coalesce(n.tenant_id, '') FROM new_rows n);
        ELSIF TG_OP = 'DELETE' THEN
            keys := ARRAY(SELECT DISTINCT coalesce(o.tenant_id, '') FROM old_rows o);
        ELSE
            keys := ARRAY(SELECT coalesce(n.tenant_id, '') FROM new_rows n
                          UNION SELECT coalesce(o.tenant_id, '') FROM old_rows o);
        END IF;
        PERFORM vecpg.fold_keyword_stats(coll, k, wait => false) FROM unnest(keys) AS k;
    END IF;
    RETURN NULL;
END
$$;

-- Fold the appended statistics of one collection and tenant key into one row per lexeme (and
-- one total); returns the appended rows folded, or NULL when it did not run. Exact at every
-- moment: one statement deletes the appended rows it sees with the compacted rows of their
-- lexemes and inserts their sums, so a reader (one snapshot) sees either all of them or the
-- sums; rows of transactions not yet committed are not seen and stay for a later compaction.
-- Compactions of a key take turns (a transaction-level advisory lock): wait => false gives up
-- at once when another holds it, as writers do. Writers never touch compacted rows, so the
-- row locks a compaction holds to its commit stop no writer. Under REPEATABLE READ or
-- SERIALIZABLE it could try to delete rows a concurrent compaction folded after its snapshot,
-- and fail: it runs only under READ COMMITTED (NULL otherwise).
CREATE OR REPLACE FUNCTION vecpg.fold_keyword_stats(collection text, tenant_key text, wait boolean DEFAULT true)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    lock bigint := hashtextextended('vecpg.bm25:' || collection || ':' || tenant_key, 0);
    touched text[];
    folded bigint;
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RETURN NULL;
    END IF;
    IF wait THEN
        PERFORM pg_advisory_xact_lock(lock);
    ELSIF NOT pg_try_advisory_xact_lock(lock) THEN
        RETURN NULL;
    END IF;
    -- The lexemes as an array, not a join: the table grows fast between ANALYZEs, and a join
    -- planned on stale statistics can turn quadratic; "= ANY" reads the index, or at worst the
    -- table once.
    touched := ARRAY(SELECT DISTINCT s.lexeme FROM vecpg.bm25_df s
                     WHERE s.collection = collection AND s.tenant_key = tenant_key AND NOT s.base);
    WITH gone AS (
        DELETE FROM vecpg.bm25_df s
        WHERE s.collection = collection AND s.tenant_key = tenant_key AND s.lexeme = ANY (touched)
        RETURNING s.lexeme, s.df, s.base
    ), sums AS (
        INSERT INTO vecpg.bm25_df (collection, tenant_key, lexeme, df, base)
        SELECT collection, tenant_key, g.lexeme, sum(g.df), true FROM gone g GROUP BY g.lexeme HAVING sum(g.df) <> 0
    )
    SELECT count(*) FILTER (WHERE NOT g.base) INTO folded FROM gone g;
    WITH gone AS (
        DELETE FROM vecpg.bm25_totals t
        WHERE t.collection = collection AND t.tenant_key = tenant_key
          AND EXISTS (SELECT FROM vecpg.bm25_totals x
                      WHERE x.collection = collection AND x.tenant_key = tenant_key AND NOT x.base)
        RETURNING t.n_docs, t.total_len
    )
    INSERT INTO vecpg.bm25_totals (collection, tenant_key, n_docs, total_len, base)
    SELECT collection, tenant_key, sum(g.n_docs), sum(g.total_len), true FROM gone g
    HAVING count(*) > 0 AND (sum(g.n_docs) <> 0 OR sum(g.total_len) <> 0);
    RETURN folded;
END
$$;
COMMENT ON FUNCTION vecpg.fold_keyword_stats(text, text, boolean) IS
    'Fold the appended BM25 statistics of a collection and tenant key (empty for rows without a tenant)';

-- Every key of a collection this role may write (its tenant's, or all of them for a role that
-- row-level security does not bind); returns the appended rows folded.
CREATE OR REPLACE FUNCTION vecpg.compact_keyword_stats(collection text)
RETURNS bigint
LANGUAGE sql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT coalesce(sum(vecpg.fold_keyword_stats(c.name, k.key)), 0)::bigint
    FROM vecpg.get_collection(collection) c
    CROSS JOIN LATERAL (SELECT DISTINCT t.tenant_key AS key FROM vecpg.bm25_totals t
                        WHERE t.collection = c.name
                          AND t.tenant_key = coalesce(vecpg.current_tenant(), t.tenant_key)) k
$$;
COMMENT ON FUNCTION vecpg.compact_keyword_stats(text) IS
    'Fold the appended BM25 statistics of a collection (the tenant keys this role may write)';

-- What searches use, as a table: each key's rows summed (appended and compacted alike), keys
-- that sum to zero left out, for the tenants this role sees. For checks against a recount.
CREATE OR REPLACE FUNCTION vecpg.keyword_statistics(collection text)
RETURNS TABLE (tenant_key text, lexeme text, df bigint)
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT s.tenant_key, s.lexeme, sum(s.df)::bigint FROM vecpg.bm25_df s
    WHERE s.collection = (vecpg.get_collection(collection)).name
    GROUP BY 1, 2 HAVING sum(s.df) <> 0 ORDER BY 1, 2
$$;
COMMENT ON FUNCTION vecpg.keyword_statistics(text) IS 'BM25 document frequencies of a collection, per tenant key and lexeme';

CREATE OR REPLACE FUNCTION vecpg.keyword_totals(collection text)
RETURNS TABLE (tenant_key text, n_docs bigint, total_len bigint)
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT t.tenant_key, sum(t.n_docs)::bigint, sum(t.total_len)::bigint FROM vecpg.bm25_totals t
    WHERE t.collection = (vecpg.get_collection(collection)).name
    GROUP BY 1 HAVING sum(t.n_docs) <> 0 OR sum(t.total_len) <> 0 ORDER BY 1
$$;
COMMENT ON FUNCTION vecpg.keyword_totals(text) IS 'BM25 document counts and lengths of a collection, per tenant key';

-- A collection's part of keeping BM25 statistics: the triggers (cheap, re-created by every upgrade).
CREATE OR REPLACE FUNCTION vecpg.keyword_stats_triggers(collection text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
BEGIN
    PERFORM vecpg.statement_triggers(c, 'bm25', 'vecpg.bm25_track', 'OLD TABLE AS old_rows NEW TABLE AS new_rows');
    EXECUTE format('DROP TRIGGER IF EXISTS bm25_truncate ON %I.%I', c.schema_name, c.table_name);
    EXECUTE format('CREATE TRIGGER bm25_truncate AFTER TRUNCATE ON %I.%I FOR EACH STATEMENT '
                   'EXECUTE FUNCTION vecpg.bm25_track(%L)', c.schema_name, c.table_name, c.name);
END
$$;

-- The statistics triggers, and the statistics recounted from the collection's rows.
CREATE OR REPLACE FUNCTION vecpg.refresh_keyword_stats(collection text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
BEGIN
    PERFORM vecpg.keyword_stats_triggers(collection);
    -- Writers wait until the recount commits: one committing between the DELETE and the
    -- INSERTs below would be counted twice (its appended rows and the recount).
    EXECUTE format('LOCK TABLE %I.%I IN SHARE MODE', c.schema_name, c.table_name);
    DELETE FROM vecpg.bm25_df AS s WHERE s.collection = c.name;
    DELETE FROM vecpg.bm25_totals AS t WHERE t.collection = c.name;
    EXECUTE format(
        'INSERT INTO vecpg.bm25_df (collection, tenant_key, lexeme, df, base) '
        'SELECT %L, coalesce(d.tenant_id, ''''), u.lexeme, count(*), true FROM %I.%I d, unnest(d.fts) u GROUP BY 2, 3',
        c.name, c.schema_name, c.table_name);
    EXECUTE format(
        'INSERT INTO vecpg.bm25_totals (collection, tenant_key, n_docs, total_len, base) '
        'SELECT %L, coalesce(d.tenant_id, ''''), count(*), sum(length(d.fts)), true FROM %I.%I d GROUP BY 2',
        c.name, c.schema_name, c.table_name);
END
$$;
COMMENT ON FUNCTION vecpg.refresh_keyword_stats(text) IS
    'Install BM25 statistics triggers on a collection and recompute its statistics';

-- A tsquery matching any of the lexemes (already normalised, so no further parsing).
CREATE OR REPLACE FUNCTION vecpg.any_lexeme_query(lexemes text[])
RETURNS tsquery
LANGUAGE sql IMMUTABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT string_agg('''' || replace(replace(l, '\', '\\'), '''', '''''') || '''', ' | ')::tsquery
    FROM unnest(lexemes) AS l
$$;

-- The term frequency of one lexeme in a document, from ts_rank as explained above. Callers that
-- care about speed write the expression inline (a function with a pinned search_path is never
-- inlined); this function is the reference the tests hold the inline form to.
CREATE OR REPLACE FUNCTION vecpg.term_frequency(document tsvector, lexeme text)
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
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
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    -- At k1 = 0 a term the document lacks would be 0 / 0: k1 = 1e-9 instead changes scores by
    -- about a billionth (it may only order documents whose scores were tied).
    WITH norm AS (
        SELECT format('(%L::float8 + %L::float8 * length(%s))', k.k1 * (1 - b), k.k1 * b / avgdl, fts) AS sql
        FROM (SELECT greatest(k1, 1e-9::float8) AS k1) k
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
SET search_path = pg_catalog, @vector_schema@, pg_temp
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
SET search_path = pg_catalog, @vector_schema@, pg_temp
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
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT CASE WHEN match IS NULL THEN
        'SELECT NULL::text AS id, NULL::double precision AS score WHERE false'
    ELSE format(
        'SELECT %s, (%s)::double precision AS score FROM %I.%I d '
        'CROSS JOIN LATERAL (SELECT %s AS fts OFFSET 0) AS v '
        'WHERE d.fts @@ %L::tsquery %s ORDER BY score DESC, d.id LIMIT %s',
        columns, score_sql, c.schema_name, c.table_name, vecpg.tsvector_once_sql(), match::text,
        vecpg.where_sql(predicate)
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
SET search_path = pg_catalog, @vector_schema@, pg_temp
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
