-- index_lists: the lists an IVFFlat index %(index)s (schema %(schema)s) was built with.
SELECT o.option_value::integer
FROM pg_class i
CROSS JOIN LATERAL pg_options_to_table(i.reloptions) o
WHERE i.relname = %(index)s AND i.relnamespace = to_regnamespace(%(schema)s) AND o.option_name = 'lists'
