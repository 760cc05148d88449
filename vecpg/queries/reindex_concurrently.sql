-- reindex_concurrently: rebuild {index} beside itself and swap, without blocking writers (no transaction).
REINDEX INDEX CONCURRENTLY {index}
