-- Reverts 006_tenancy_functions.sql: drops the policies and functions it added and gives
-- execution back to everyone; the revision then runs 004_search_functions.sql again.
DO $untenant$
DECLARE
    c record;
    policy text;
BEGIN
    FOR c IN SELECT schema_name, table_name FROM vecpg.collection LOOP
        FOREACH policy IN ARRAY ARRAY['tenant_select', 'tenant_insert', 'tenant_update', 'tenant_delete'] LOOP
            EXECUTE format('DROP POLICY IF EXISTS %I ON %I.%I', policy, c.schema_name, c.table_name);
        END LOOP;
        FOREACH policy IN ARRAY ARRAY['audit_insert', 'audit_update', 'audit_delete'] LOOP
            EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I.%I', policy, c.schema_name, c.table_name);
        END LOOP;
        EXECUTE format('ALTER TABLE %I.%I NO FORCE ROW LEVEL SECURITY', c.schema_name, c.table_name);
        EXECUTE format('ALTER TABLE %I.%I DISABLE ROW LEVEL SECURITY', c.schema_name, c.table_name);
        EXECUTE format('REVOKE ALL ON %I.%I FROM vecpg_reader, vecpg_writer', c.schema_name, c.table_name);
        EXECUTE format('ALTER TABLE %I.%I ALTER COLUMN tenant_id DROP DEFAULT', c.schema_name, c.table_name);
    END LOOP;
END
$untenant$;
DROP POLICY IF EXISTS tenant_stats ON vecpg.bm25_df;
DROP POLICY IF EXISTS tenant_stats ON vecpg.bm25_totals;
DO $grants$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid::regprocedure FROM pg_proc p WHERE p.pronamespace = 'vecpg'::regnamespace LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO PUBLIC', f);
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM vecpg_admin', f);
    END LOOP;
END
$grants$;
DROP TRIGGER IF EXISTS append_only ON vecpg.audit_log;
DROP FUNCTION IF EXISTS vecpg.audit_append_only();
DROP FUNCTION IF EXISTS vecpg.audit_write();
DROP FUNCTION IF EXISTS vecpg.set_shared_rows(text, boolean);
DROP FUNCTION IF EXISTS vecpg.apply_tenancy(text);
DROP FUNCTION IF EXISTS vecpg.shares_rows(text);
DROP FUNCTION IF EXISTS vecpg.current_tenant();
