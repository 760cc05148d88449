-- upsert: insert documents or replace the ones whose id exists. {table} collection table.
INSERT INTO {table} (id, title, content, embedding, metadata, tenant_id)
VALUES (%s, %s, %s, %s, %s, %s)
ON CONFLICT (id) DO UPDATE
SET title = EXCLUDED.title,
    content = EXCLUDED.content,
    embedding = EXCLUDED.embedding,
    metadata = EXCLUDED.metadata,
    tenant_id = EXCLUDED.tenant_id
