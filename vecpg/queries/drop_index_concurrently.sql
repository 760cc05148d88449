-- drop_index_concurrently: drop {index} without blocking the table's readers and writers (no transaction).
DROP INDEX CONCURRENTLY IF EXISTS {index}
