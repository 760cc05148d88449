-- copy_direct: binary COPY straight into {table} (only when the load holds it empty and locked).
COPY {table} (id, title, content, embedding, metadata, tenant_id) FROM STDIN (FORMAT BINARY)
