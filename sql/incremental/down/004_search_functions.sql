-- Reverts 004_search_functions.sql: drops what it added, removes the statistics triggers, and
-- runs 002_functions.sql again (by the revision) to restore the earlier function bodies.
DO $untrigger$
DECLARE
    c record;
    event text;
BEGIN
    FOR c IN SELECT schema_name, table_name FROM vecpg.collection LOOP
        FOREACH event IN ARRAY ARRAY['insert', 'update', 'delete'] LOOP
            EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I.%I', 'bm25_' || event, c.schema_name, c.table_name);
        END LOOP;
    END LOOP;
END
$untrigger$;
DROP FUNCTION IF EXISTS vecpg.hybrid_search(text, text, vector, integer, jsonb, jsonb);
DROP FUNCTION IF EXISTS vecpg.keyword_search(text, text, integer, jsonb, jsonb);
DROP FUNCTION IF EXISTS vecpg.any_lexeme_query(text[]);
DROP FUNCTION IF EXISTS vecpg.visible_tenant_keys();
DROP FUNCTION IF EXISTS vecpg.pgvector_version();
DROP FUNCTION IF EXISTS vecpg.rows_filtered(text);
DROP FUNCTION IF EXISTS vecpg.refresh_keyword_stats(text);
DROP FUNCTION IF EXISTS vecpg.bm25_track();
DROP FUNCTION IF EXISTS vecpg.compile_filter(jsonb, text, text);
DROP FUNCTION IF EXISTS vecpg._filter_node(jsonb, text[], text, text, integer);
DROP FUNCTION IF EXISTS vecpg._filter_field(text, jsonb, text[], text, text);
DROP FUNCTION IF EXISTS vecpg._nest(text[], text);
DROP FUNCTION IF EXISTS vecpg.as_time(jsonb);
DROP FUNCTION IF EXISTS vecpg.filter_time(jsonb, text);
DROP FUNCTION IF EXISTS vecpg._filter_error(text);
