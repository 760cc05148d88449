-- metadata_keys: the top-level metadata keys of the documents matching a filter, with the JSON
-- types their values take (nulls left out). {table} collection table; {where} as count.sql.
SELECT k.key, array_agg(DISTINCT jsonb_typeof(k.value) ORDER BY jsonb_typeof(k.value))
FROM {table} AS d, jsonb_each(d.metadata) AS k
WHERE jsonb_typeof(k.value) <> 'null' {where}
GROUP BY k.key
ORDER BY k.key
