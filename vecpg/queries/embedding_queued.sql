-- embedding_queued: rows waiting in the queue (not failed), of the collections in %(names)s or
-- of all when it is empty; a progress bar's total, without counting every collection's rows.
SELECT count(*)
FROM vecpg.embedding_queue
WHERE failed_at IS NULL AND (cardinality(%(names)s::text[]) = 0 OR collection = ANY(%(names)s::text[]))
