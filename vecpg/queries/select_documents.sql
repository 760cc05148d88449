-- select_documents: every document matching an optional filter, in id order (a listing, not a
-- search). {table} collection table; {where} predicates starting with AND.
SELECT d.id, d.title, d.content, d.metadata, d.embedding, d.tenant_id, d.created_at, d.updated_at, d.expires_at
FROM {table} AS d
WHERE true {where}
ORDER BY d.id
