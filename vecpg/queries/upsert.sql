-- upsert: insert documents or replace the ones whose id exists, in ONE statement whatever the
-- batch size, rows in id order. One statement fires the statistics and audit triggers once, and
-- the id order makes concurrent writers take their locks in the same order: no deadlocks.
-- {table} collection table; {vector} the pgvector type, schema-qualified; {key} its unique key
-- (id, or tenant_id, id: vecpg.conflict_key). Ids must be unique.
INSERT INTO {table} (id, title, content, embedding, metadata, tenant_id, expires_at)
SELECT *
FROM unnest(%(ids)s::text[], %(titles)s::text[], %(contents)s::text[], %(embeddings)s::{vector}[],
            %(metadata)s::jsonb[], %(tenants)s::text[], %(expires)s::timestamptz[])
ORDER BY 1
ON CONFLICT ({key}) DO UPDATE
SET title = EXCLUDED.title,
    content = EXCLUDED.content,
    embedding = EXCLUDED.embedding,
    metadata = EXCLUDED.metadata,
    tenant_id = EXCLUDED.tenant_id,
    expires_at = EXCLUDED.expires_at
