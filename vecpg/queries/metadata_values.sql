-- metadata_values: the distinct values of one metadata path among the documents matching a
-- filter, as JSON text (1, 1.0, "1" and true stay four values), in value order; each row carries
-- the number of distinct values in all. %(term)s: only values whose text holds it, any case
-- (NULL: all). {table} collection table; {where} as count.sql.
SELECT v.value, count(*) OVER ()
FROM (SELECT DISTINCT (d.metadata #> %(path)s)::text AS value, d.metadata #> %(path)s AS json
      FROM {table} AS d
      WHERE jsonb_typeof(d.metadata #> %(path)s) NOT IN ('null') {where}) AS v
WHERE %(term)s::text IS NULL OR strpos(lower(v.json #>> '{{}}'), lower(%(term)s)) > 0
ORDER BY v.json, v.value
OFFSET %(offset)s
LIMIT %(limit)s
