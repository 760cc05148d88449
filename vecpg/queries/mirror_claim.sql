-- mirror_claim: the oldest events of one mirrored collection, locked until the sync commits
-- (after Qdrant made them durable). A sync that crashes releases them for the next one.
SELECT o.seq, o.doc_id, m.settings
FROM vecpg.mirror_outbox o JOIN vecpg.mirror m ON m.collection = o.collection
WHERE o.collection = %(collection)s
ORDER BY o.seq
LIMIT %(batch)s
FOR UPDATE OF o SKIP LOCKED
