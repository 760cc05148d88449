-- merge_staging: move staged rows into {table}, the last row of an id winning. {distinct} is
-- "DISTINCT ON (id)" when the load repeated an id (the caller knows), else empty: the sort it
-- needs is wasted work otherwise.
INSERT INTO {table} (id, title, content, embedding, metadata, tenant_id)
SELECT {distinct} id, title, content, embedding, metadata, tenant_id
FROM vecpg_staging
{order}
ON CONFLICT (id) DO UPDATE
SET title = EXCLUDED.title,
    content = EXCLUDED.content,
    embedding = EXCLUDED.embedding,
    metadata = EXCLUDED.metadata,
    tenant_id = EXCLUDED.tenant_id
