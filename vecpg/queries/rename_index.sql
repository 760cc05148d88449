-- rename_index: give {index} the name {new_name} (a ShareUpdateExclusive lock: reads and writes go on).
ALTER INDEX {index} RENAME TO {new_name}
