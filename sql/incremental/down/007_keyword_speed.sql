-- Reverts 007_keyword_speed.sql: drops the functions it added and lets TOAST move tsvectors out
-- of line again; the revision then runs 004 and 006 again to restore the bodies 007 replaced.
DO $unstore$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT schema_name, table_name FROM vecpg.collection LOOP
        EXECUTE format('ALTER TABLE %I.%I ALTER COLUMN fts SET STORAGE EXTENDED', c.schema_name, c.table_name);
    END LOOP;
END
$unstore$;
DROP FUNCTION IF EXISTS vecpg.store_fts_inline(text);
DROP FUNCTION IF EXISTS vecpg.check_vector_query(vecpg.collection, vector, integer);
DROP FUNCTION IF EXISTS vecpg.keyword_list_sql(vecpg.collection, tsquery, tsquery, text, text, text, text);
DROP FUNCTION IF EXISTS vecpg.keyword_plan(vecpg.collection, text, jsonb);
DROP FUNCTION IF EXISTS vecpg.bm25_sql(text[], double precision[], double precision, double precision, double precision, text);
DROP FUNCTION IF EXISTS vecpg.term_frequency(tsvector, text);
