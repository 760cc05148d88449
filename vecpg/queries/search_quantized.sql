-- search_quantized: the k nearest documents to %(query)s through a quantized index.
-- {indexed} the indexed expression of the vectors (halfvec copies, binary codes), {order_op}
-- its operator and {query} the query in the same form, so the planner can use the index;
-- {candidates} rows read from it (k, or k times the re-rank factor for binary codes), then
-- ordered by their exact distance ({op} on the full vectors), the first {k} kept; {columns}
-- title, content, metadata, or NULL in place of those not asked for; {stored} %(query)s in the
-- column's type (cast to halfvec(n) for halfvec storage).
SELECT c.* FROM (
    SELECT id, {columns}, embedding {op} {stored} AS distance
    FROM {table} AS d
    WHERE embedding IS NOT NULL {where}
    ORDER BY {indexed} {order_op} {query}
    LIMIT {candidates}
) AS c
ORDER BY c.distance
LIMIT {k}
