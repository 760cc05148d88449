-- create_index_running: backends other than this one building or rebuilding an index of
-- collection %(collection)s now (visible for the roles this one may see the activity of).
SELECT p.pid
FROM pg_stat_progress_create_index p
JOIN vecpg.collection c ON p.relid = format('%%I.%%I', c.schema_name, c.table_name)::regclass
WHERE c.name = %(collection)s AND p.pid <> pg_backend_pid()
