-- get: documents by id. {table} collection table.
SELECT id, title, content, metadata, embedding, tenant_id, created_at, updated_at
FROM {table}
WHERE id = ANY(%(ids)s)
