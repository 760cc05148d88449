-- count: documents matching an optional filter. {where} predicates starting with AND.
SELECT count(*) FROM {table} AS d WHERE true {where}
