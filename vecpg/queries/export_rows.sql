-- export_rows: every row of {table}, by id, as an export writes it. {embedding} is
-- "embedding::text" (JSONL: pgvector's shortest decimals) or the column cast to vector (Parquet:
-- float32 in binary); a cast of halfvec to vector is exact. {where}: not expired (an expired
-- row is gone for every read, exports too).
SELECT d.id, d.title, d.content, d.metadata::text, {embedding}, d.tenant_id, d.created_at, d.updated_at, d.expires_at
FROM {table} AS d
WHERE true {where}
ORDER BY d.id
