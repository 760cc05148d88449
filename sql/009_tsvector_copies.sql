-- 009_tsvector_copies.sql — keyword scoring reads a document's tsvector in place when it is
-- inline, instead of copying every candidate's.
--
-- Idempotent file (CREATE OR REPLACE; safe to run again); frozen once released. Its downgrade
-- restores 007's keyword_list_sql and drops tsvector_once_sql.
--
-- Why: 007 copied every candidate's tsvector once (`fts || ''::tsvector`) so that the ts_rank
-- call of each query term would not decompress or fetch it from TOAST again. With STORAGE MAIN
-- (007) the tsvector of a typical document (an abstract, a chunk) is inline and uncompressed,
-- where ts_rank reads it in place and the copy is pure cost: tsvector_concat rebuilds the whole
-- value, 3.4 µs for a SciFact abstract against 0.6 to read it. Measured on SciFact
-- (docs/benchmarks.md): keyword search 28% fewer instructions (14.8 M to 10.7 M a query), p50
-- about 29% lower; the exact path of hybrid search builds its keyword list the same way.

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

-- Pin the search_path of every vecpg function, the replaced ones included.
SELECT vecpg.pin_search_paths();
