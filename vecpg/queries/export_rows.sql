-- export_rows: every row of {table}, by id, as an export writes it. {embedding} is
-- "embedding::text" (JSONL: pgvector's shortest decimals) or the column cast to vector (Parquet:
-- float32 in binary); a cast of halfvec to vector is exact.
SELECT id, title, content, metadata::text, {embedding}, tenant_id, created_at, updated_at
FROM {table}
ORDER BY id
