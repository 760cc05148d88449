-- create_staging: a temporary table that bulk loads COPY into before one merge.
-- {vector} the pgvector type, schema-qualified. Dropped when the transaction ends. The
-- timestamps stay NULL unless the load brings them (an import).
CREATE TEMPORARY TABLE vecpg_staging (
    ord        bigint,
    id         text,
    title      text,
    content    text,
    embedding  {vector},
    metadata   jsonb,
    tenant_id  text,
    expires_at timestamptz,
    created_at timestamptz,
    updated_at timestamptz
) ON COMMIT DROP
