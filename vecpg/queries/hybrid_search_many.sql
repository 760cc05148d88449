-- hybrid_search_many: vecpg.hybrid_search once per text of %(texts)s and its vector of
-- %(queries)b, in one statement. {embedding} each hit's stored embedding (a subquery on the
-- collection table), or NULL. Rows (query number from 1, then hybrid_search's columns, then the
-- embedding) come by query, each query's in hybrid_search's order.
SELECT queries.n, s.id, s.title, s.content, s.metadata, s.score,
       s.vector_rank, s.vector_score, s.keyword_rank, s.keyword_score, {embedding}
FROM unnest(%(texts)s::text[], %(queries)b) WITH ORDINALITY AS queries(t, v, n)
CROSS JOIN LATERAL vecpg.hybrid_search(%(collection)s, queries.t, queries.v, %(k)s, %(filter)s, %(options)s)
    WITH ORDINALITY AS s
ORDER BY queries.n, s.ordinality
