-- Reverts 003_keyword_stats.sql.
DROP TABLE IF EXISTS vecpg.bm25_df;
DROP TABLE IF EXISTS vecpg.bm25_totals;
