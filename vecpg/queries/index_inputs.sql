-- index_inputs: what index advice for collection {table} starts from. rows: %(rows)s when
-- given, else the planner's estimate from a million rows on (counting would read the whole
-- table), else counted (what row-level security lets this role see, and at least the estimate).
-- Memory: the sizes given, else the maintenance_work_mem an index build gets
-- (vecpg.build_settings) and shared_buffers.
SELECT CASE WHEN %(rows)s::bigint IS NOT NULL THEN %(rows)s::bigint
            WHEN e.n >= 1000000 THEN e.n
            ELSE greatest(e.n, (SELECT count(*) FROM {table} WHERE embedding IS NOT NULL)) END,
       coalesce(pg_size_bytes(%(maintenance_work_mem)s::text),
                (SELECT pg_size_bytes(s.setting) FROM vecpg.build_settings('{{}}') s WHERE s.name = 'maintenance_work_mem')),
       coalesce(pg_size_bytes(%(shared_buffers)s::text), pg_size_bytes(current_setting('shared_buffers')))
FROM (SELECT c.reltuples::bigint AS n FROM pg_class c
      WHERE c.oid = (SELECT format('%%I.%%I', x.schema_name, x.table_name)::regclass
                     FROM vecpg.collection x WHERE x.name = %(collection)s)) e
