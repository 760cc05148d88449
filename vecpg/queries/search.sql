-- search: the k nearest documents to %(query)s in one collection.
-- {table} collection table; {op} pgvector distance operator; {where} optional filter predicate;
-- {columns} title, content, metadata (or NULL in place of those not asked for);
-- {k} the limit, a literal: a LIMIT parameter makes PostgreSQL's generic plan slower;
-- {query} %(query)s in the column's type (cast to halfvec(n) for halfvec storage).
-- The ORDER BY must be "embedding <op> query" alone so the planner can use the vector index.
SELECT id, {columns}, embedding {op} {query} AS distance
FROM {table} AS d
WHERE embedding IS NOT NULL {where}
ORDER BY embedding {op} {query}
LIMIT {k}
