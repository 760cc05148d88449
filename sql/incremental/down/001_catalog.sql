-- Reverts 001_catalog.sql: drops every collection table (wherever it lives), the catalog and the
-- schemas. The vector extension stays: other software in the database may use it.
DO $drop$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT schema_name, table_name FROM vecpg.collection LOOP
        EXECUTE format('DROP TABLE IF EXISTS %I.%I', c.schema_name, c.table_name);
    END LOOP;
END
$drop$;
DROP SCHEMA vecpg CASCADE;
DROP SCHEMA vecpg_data CASCADE;
