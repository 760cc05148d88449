-- mirror_rows: the current state of documents, as the mirror copies them (only rows with a
-- vector: one without is not searchable in Qdrant). {table} collection table; ids NULL for all.
SELECT id, embedding, title, content, metadata, tenant_id, created_at, updated_at, expires_at
FROM {table}
WHERE embedding IS NOT NULL AND (%(ids)s::text[] IS NULL OR id = ANY(%(ids)s::text[]))
ORDER BY id
