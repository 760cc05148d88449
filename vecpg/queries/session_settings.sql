-- session_settings: the connection's values of pgvector's search settings %(names)s, NULL for
-- those this pgvector does not have. %(load)s, a vector, makes the server load pgvector's
-- library (which defines the settings) before they are read.
SELECT s.name, current_setting(s.name, true)
FROM unnest(%(names)s::text[]) AS s(name)
WHERE %(load)s IS NOT NULL
