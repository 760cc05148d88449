-- update_metadata: merge keys into the metadata of the documents matching a filter (the keys
-- given replace the same keys; others stay). {table} collection table; {where} predicates
-- starting with AND.
UPDATE {table} AS d
SET metadata = d.metadata || %(patch)s
WHERE true {where}
