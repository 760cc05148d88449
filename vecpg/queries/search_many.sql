-- search_many: the k nearest documents to each vector of %(queries)b, in one statement.
-- The vectors go in binary: psycopg would send a list of them as text (0.5 ms a vector).
-- {search} the search query (search or search_quantized) for the vector queries.v: run once per
-- query through the vector index (LATERAL). Rows (query number from 1, then the search's
-- columns) come by query, nearest first: the sort also re-orders a relaxed iterative scan's rows.
SELECT queries.n, hits.*
FROM unnest(%(queries)b) WITH ORDINALITY AS queries(v, n)
CROSS JOIN LATERAL ({search}) AS hits
ORDER BY queries.n, hits.distance
