-- is_empty: whether {table} has no rows (stops at the first one).
SELECT NOT EXISTS (SELECT 1 FROM {table})
