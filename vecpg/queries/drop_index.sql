-- drop_index: drop {index} at once (a partitioned index, which DROP INDEX CONCURRENTLY does not take;
-- with the indexes of its partitions). IF EXISTS: an attached part went with its top index already.
DROP INDEX IF EXISTS {index}
