-- search_tuned: the search query with its settings (ef_search, probes, iterative scans) in it, for a
-- statement that stands alone (search_statement: EXPLAIN, psql); searches set them per session.
-- {settings} concat(set_config(name, value, true), ...); {search} the search query, whose WHERE
-- refers to vecpg_settings.applied so that the settings are evaluated before the index scan
-- starts; {order} re-sorts the k rows after a relaxed iterative scan.
SELECT hits.*
FROM (SELECT {settings} AS applied) AS vecpg_settings
CROSS JOIN LATERAL ({search}) AS hits
{order}
