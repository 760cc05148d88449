-- keyword_search_many: vecpg.keyword_search once per text of %(texts)s, in one statement.
-- {embedding} each hit's stored embedding (a subquery on the collection table), or NULL.
-- Rows (query number from 1, then keyword_search's columns, the hit's rank and the embedding)
-- come by query, each query's in keyword_search's order.
SELECT queries.n, s.id, s.title, s.content, s.metadata, s.score, s.ordinality::integer, {embedding}
FROM unnest(%(texts)s::text[]) WITH ORDINALITY AS queries(t, n)
CROSS JOIN LATERAL vecpg.keyword_search(%(collection)s, queries.t, %(k)s, %(filter)s, %(options)s)
    WITH ORDINALITY AS s
ORDER BY queries.n, s.ordinality
