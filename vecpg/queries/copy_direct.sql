-- copy_direct: binary COPY straight into {table} (only when the load holds it empty and locked).
-- {timestamps}: ", created_at, updated_at" when the load brings them (an import), else empty.
COPY {table} (id, title, content, embedding, metadata, tenant_id, expires_at{timestamps}) FROM STDIN (FORMAT BINARY)
