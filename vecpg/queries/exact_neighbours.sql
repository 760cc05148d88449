-- exact_neighbours: the distances of the %(k)s rows nearest to %(query)s, by the exact distance
-- {op} over the full vectors ({query}: %(query)s in the column's type, halfvec(n) for halfvec
-- storage). Run with enable_indexscan off (tune does, in its transaction): the answer must come
-- from reading every row, not from the index being measured.
SELECT embedding {op} {query} AS distance
FROM {table}
WHERE embedding IS NOT NULL
ORDER BY embedding {op} {query}
LIMIT %(k)s
