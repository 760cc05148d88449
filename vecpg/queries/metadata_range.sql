-- metadata_range: the smallest and largest value of one metadata path among the documents
-- matching a filter: numbers when any value is a number (compared as numbers), else strings.
-- {table} collection table; {where} as count.sql.
WITH v AS (
    SELECT d.metadata #> %(path)s AS value
    FROM {table} AS d
    WHERE jsonb_typeof(d.metadata #> %(path)s) IN ('number', 'string') {where}
), kind AS (
    SELECT CASE WHEN bool_or(jsonb_typeof(value) = 'number') THEN 'number' ELSE 'string' END AS t FROM v
)
SELECT (SELECT value FROM v, kind WHERE jsonb_typeof(value) = kind.t ORDER BY value LIMIT 1),
       (SELECT value FROM v, kind WHERE jsonb_typeof(value) = kind.t ORDER BY value DESC LIMIT 1)
