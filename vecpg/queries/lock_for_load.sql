-- lock_for_load: keep other writers out of {table} until this load commits; readers go on.
LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE
