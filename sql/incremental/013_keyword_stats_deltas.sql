-- 013_keyword_stats_deltas.sql — BM25 statistics without hot rows (revision 0011).
--
-- Incremental: runs once, frozen after release. Each write statement used to add its counts to
-- one row per lexeme and one per tenant (INSERT ... ON CONFLICT DO UPDATE), holding those rows
-- locked to commit: writers queued on common words, and two multi-statement transactions that
-- locked the same rows in another order deadlocked. Now a statement appends its counts as new
-- rows (base = false), which nothing else locks; readers already sum the rows of a key; a
-- compaction folds a key's rows into one (base = true) now and then (vecpg.compact_keyword_stats,
-- sql/idempotent/06_keyword_search.sql). Existing rows are compacted ones.

ALTER TABLE vecpg.bm25_df DROP CONSTRAINT bm25_df_pkey;
ALTER TABLE vecpg.bm25_df ADD COLUMN base boolean NOT NULL DEFAULT true;
ALTER TABLE vecpg.bm25_df ALTER COLUMN base SET DEFAULT false;
CREATE INDEX bm25_df_key ON vecpg.bm25_df (collection, tenant_key, lexeme);
CREATE INDEX bm25_df_deltas ON vecpg.bm25_df (collection, tenant_key, lexeme) WHERE NOT base;
COMMENT ON TABLE vecpg.bm25_df IS
    'BM25 document frequency of each lexeme, per collection and tenant: the sum of a key''s rows';

ALTER TABLE vecpg.bm25_totals DROP CONSTRAINT bm25_totals_pkey;
ALTER TABLE vecpg.bm25_totals ADD COLUMN base boolean NOT NULL DEFAULT true;
ALTER TABLE vecpg.bm25_totals ALTER COLUMN base SET DEFAULT false;
CREATE INDEX bm25_totals_key ON vecpg.bm25_totals (collection, tenant_key);
COMMENT ON TABLE vecpg.bm25_totals IS
    'BM25 document count and total length, per collection and tenant: the sums of a key''s rows';

-- Numbers the statements that append statistics: every so many, one compacts (06).
CREATE SEQUENCE vecpg.bm25_statements;
GRANT USAGE ON SEQUENCE vecpg.bm25_statements TO vecpg_writer;
