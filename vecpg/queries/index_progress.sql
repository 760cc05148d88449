-- index_progress: how far backend %(pid)s is in building an index (no row when it builds none).
-- Some phases count tuples, others table blocks.
SELECT phase, tuples_done, tuples_total, blocks_done, blocks_total
FROM pg_stat_progress_create_index
WHERE pid = %(pid)s
