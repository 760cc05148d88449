-- merge_staging: move staged rows into {table}, the last row of an id winning. {distinct} is
-- "DISTINCT ON (id)" when the load repeated an id (the caller knows), else empty: the sort it
-- needs is wasted work otherwise. A row staged without a vector (a load via the embedding
-- queue) keeps the one it has: if its text changed, the collection's trigger drops that vector
-- and queues the new text; if not, there is nothing to embed again. {timestamps} is
-- ", created_at, updated_at" and {kept} sets both from the staged row when the load brings them
-- (an import, which also tells vecpg.touch_updated_at to keep updated_at), else both are empty.
-- {key}: the collection's unique key (id, or tenant_id, id: vecpg.conflict_key).
INSERT INTO {table} AS d (id, title, content, embedding, metadata, tenant_id, expires_at{timestamps})
SELECT {distinct} id, title, content, embedding, metadata, tenant_id, expires_at{timestamps}
FROM vecpg_staging
{order}
ON CONFLICT ({key}) DO UPDATE
SET title = EXCLUDED.title,
    content = EXCLUDED.content,
    embedding = coalesce(EXCLUDED.embedding, d.embedding),
    metadata = EXCLUDED.metadata,
    tenant_id = EXCLUDED.tenant_id,
    expires_at = EXCLUDED.expires_at{kept}
