-- text_sample: up to %(n)s documents' text as the model sees it, from a sample of {table}'s pages
-- (%(percent)s percent of them, from its row estimate) rather than a scan of every row.
SELECT vecpg.embedding_text(title, content)
FROM {table} TABLESAMPLE SYSTEM (%(percent)s)
LIMIT %(n)s
