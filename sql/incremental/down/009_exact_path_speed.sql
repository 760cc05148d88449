-- Reverts 009_exact_path_speed.sql: keyword_list_sql as 007 made it (every candidate's tsvector
-- copied once) and the functions 009 added dropped; the revision then runs 008 again, which
-- restores hybrid_sql, create_keyword_search_function and the keyword indexes' search functions.

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
        -- Each ts_rank call would decompress or fetch a TOASTed tsvector anew: one copy per row.
        'CROSS JOIN LATERAL (SELECT d.fts || ''''::tsvector AS fts OFFSET 0) AS v '
        'WHERE d.fts @@ %L::tsquery %s ORDER BY score DESC, d.id LIMIT %s',
        columns, score_sql, c.schema_name, c.table_name, match::text,
        CASE WHEN predicate = 'true' THEN '' ELSE 'AND (' || predicate || ')' END
            || CASE WHEN required IS NULL THEN '' ELSE format(' AND d.fts @@ %L::tsquery', required::text) END,
        limit_sql)
    END
$$;

DROP FUNCTION IF EXISTS vecpg.tsvector_once_sql(integer);
DROP FUNCTION IF EXISTS vecpg.hybrid_inline_sql(vecpg.collection, text, text);
DROP FUNCTION IF EXISTS vecpg.vector_list_sql(vecpg.collection, text);
DROP FUNCTION IF EXISTS vecpg.fuse(text[], double precision[], text[], double precision[], text, double precision,
                                   double precision, double precision, integer);
DROP FUNCTION IF EXISTS vecpg.fusion_sql(text, text, text, text, text);

-- Pin the search_path of every vecpg function, the replaced ones included.
SELECT vecpg.pin_search_paths();
