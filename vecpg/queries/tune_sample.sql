-- tune_sample: up to %(n)s stored vectors of a collection as tuning's queries, the same ones for
-- the same %(seed)s (rows ordered by a hash of their id and the seed: random, and repeatable).
-- {table} the collection table.
SELECT embedding::real[]
FROM {table}
WHERE embedding IS NOT NULL
ORDER BY md5(id || %(seed)s)
LIMIT %(n)s
