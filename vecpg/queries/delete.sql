-- delete: documents by id and/or filter. {where} predicates starting with AND.
DELETE FROM {table} AS d WHERE true {where}
