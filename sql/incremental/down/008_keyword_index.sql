-- Reverts 008_keyword_index.sql: drops every keyword index, its triggers and the functions it
-- added, and gives vectors pgvector's EXTERNAL storage back; the revision then runs 007 again to
-- restore the hybrid_search and collection_created hook that 008 replaced.
DO $drop$
DECLARE
    c record;
    event text;
BEGIN
    FOR c IN SELECT name, schema_name, table_name FROM vecpg.collection LOOP
        EXECUTE format('ALTER TABLE %I.%I ALTER COLUMN embedding SET STORAGE EXTERNAL', c.schema_name, c.table_name);
        FOREACH event IN ARRAY ARRAY['insert', 'update', 'delete'] LOOP
            EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I.%I', 'postings_' || event, c.schema_name, c.table_name);
        END LOOP;
    END LOOP;
END
$drop$;
DROP TRIGGER IF EXISTS drop_keyword_index ON vecpg.collection;
DROP SCHEMA IF EXISTS vecpg_postings CASCADE;
DROP FUNCTION IF EXISTS vecpg.drop_keyword_index_of_collection();
DROP FUNCTION IF EXISTS vecpg.create_keyword_search_function(vecpg.collection);
DROP FUNCTION IF EXISTS vecpg.uses_keyword_index(vecpg.collection, text, jsonb, jsonb);
DROP FUNCTION IF EXISTS vecpg.hybrid_sql(vecpg.collection, text, text);
DROP FUNCTION IF EXISTS vecpg.postings_list_sql(vecpg.collection);
DROP FUNCTION IF EXISTS vecpg.disable_keyword_index(text);
DROP FUNCTION IF EXISTS vecpg.enable_keyword_index(text);
DROP FUNCTION IF EXISTS vecpg.postings_track();
DROP FUNCTION IF EXISTS vecpg.postings_sql(vecpg.collection, text);
DROP FUNCTION IF EXISTS vecpg.has_keyword_index(text);
DROP FUNCTION IF EXISTS vecpg.keyword_index(vecpg.collection);
DROP FUNCTION IF EXISTS vecpg.store_vectors_inline(text);
