-- The embedding pipeline per collection with a model (all, or %(collection)s).
SELECT collection, documents, embedded, coverage, queued, extract(epoch FROM oldest_queued)::float8,
       failed, last_error, embedded_5min, docs_per_second
FROM vecpg.embedding_status
WHERE %(collection)s::text IS NULL OR collection = %(collection)s
ORDER BY collection
