-- copy_staging: binary COPY into the staging table. {timestamps} as in copy_direct.
COPY vecpg_staging (ord, id, title, content, embedding, metadata, tenant_id, expires_at{timestamps}) FROM STDIN (FORMAT BINARY)
