-- get: documents by id. {table} collection table; {where} predicates starting with AND (not expired).
SELECT d.id, d.title, d.content, d.metadata, d.embedding, d.tenant_id, d.created_at, d.updated_at, d.expires_at
FROM {table} AS d
WHERE d.id = ANY(%(ids)s) {where}
