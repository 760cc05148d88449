-- copy_staging: binary COPY into the staging table.
COPY vecpg_staging (ord, id, title, content, embedding, metadata, tenant_id) FROM STDIN (FORMAT BINARY)
