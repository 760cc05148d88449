-- Rows in the failed list, most recent first (of all collections, or %(collection)s).
SELECT collection, doc_id, attempts, last_error, failed_at
FROM vecpg.embedding_queue
WHERE failed_at IS NOT NULL AND (%(collection)s::text IS NULL OR collection = %(collection)s)
ORDER BY failed_at DESC, collection, doc_id
LIMIT %(limit)s
