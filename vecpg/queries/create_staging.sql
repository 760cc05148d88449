-- create_staging: a temporary table that bulk loads COPY into before one merge.
-- {vector} the pgvector type, schema-qualified. Dropped when the transaction ends.
CREATE TEMPORARY TABLE vecpg_staging (
    ord       bigint,
    id        text,
    title     text,
    content   text,
    embedding {vector},
    metadata  jsonb,
    tenant_id text
) ON COMMIT DROP
