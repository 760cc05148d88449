-- Reverts 013_keyword_stats_deltas.sql: every key's rows folded into one, the keys unique again.

DROP SEQUENCE vecpg.bm25_statements;

-- Revision 0010 does not follow TRUNCATE in the statistics.
DO $untruncate$
DECLARE
    c vecpg.collection;
BEGIN
    FOR c IN SELECT * FROM vecpg.collection LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS bm25_truncate ON %I.%I', c.schema_name, c.table_name);
    END LOOP;
END
$untruncate$;

WITH gone AS (DELETE FROM vecpg.bm25_df RETURNING collection, tenant_key, lexeme, df)
INSERT INTO vecpg.bm25_df (collection, tenant_key, lexeme, df)
SELECT collection, tenant_key, lexeme, sum(df) FROM gone GROUP BY 1, 2, 3 HAVING sum(df) <> 0;
DROP INDEX vecpg.bm25_df_deltas;
DROP INDEX vecpg.bm25_df_key;
ALTER TABLE vecpg.bm25_df DROP COLUMN base;
ALTER TABLE vecpg.bm25_df ADD PRIMARY KEY (collection, tenant_key, lexeme);
COMMENT ON TABLE vecpg.bm25_df IS 'BM25 document frequency of each lexeme, per collection and tenant';

WITH gone AS (DELETE FROM vecpg.bm25_totals RETURNING collection, tenant_key, n_docs, total_len)
INSERT INTO vecpg.bm25_totals (collection, tenant_key, n_docs, total_len)
SELECT collection, tenant_key, sum(n_docs), sum(total_len) FROM gone GROUP BY 1, 2
HAVING sum(n_docs) <> 0 OR sum(total_len) <> 0;
DROP INDEX vecpg.bm25_totals_key;
ALTER TABLE vecpg.bm25_totals DROP COLUMN base;
ALTER TABLE vecpg.bm25_totals ADD PRIMARY KEY (collection, tenant_key);
COMMENT ON TABLE vecpg.bm25_totals IS 'BM25 document count and total length, per collection and tenant';
