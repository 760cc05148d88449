-- insert_documents: insert documents, in ONE statement, rows in id order (as upsert.sql, for the
-- same reasons). {conflict}: nothing (an existing id fails the whole statement) or ON CONFLICT
-- (<key>) DO NOTHING (existing ids are skipped; the rows affected are the ones written).
-- {table} collection table; {vector} the pgvector type, schema-qualified.
INSERT INTO {table} (id, title, content, embedding, metadata, tenant_id, expires_at)
SELECT *
FROM unnest(%(ids)s::text[], %(titles)s::text[], %(contents)s::text[], %(embeddings)s::{vector}[],
            %(metadata)s::jsonb[], %(tenants)s::text[], %(expires)s::timestamptz[])
ORDER BY 1
{conflict}
