-- Reverts 005_tenancy.sql (the roles stay: they belong to the cluster, not this database).
DROP TABLE IF EXISTS vecpg.audit_log;
ALTER TABLE vecpg.bm25_df NO FORCE ROW LEVEL SECURITY;
ALTER TABLE vecpg.bm25_df DISABLE ROW LEVEL SECURITY;
ALTER TABLE vecpg.bm25_totals NO FORCE ROW LEVEL SECURITY;
ALTER TABLE vecpg.bm25_totals DISABLE ROW LEVEL SECURITY;
REVOKE ALL ON vecpg.bm25_df, vecpg.bm25_totals FROM vecpg_reader, vecpg_writer;
REVOKE ALL ON vecpg.collection FROM vecpg_reader, vecpg_admin;
REVOKE ALL ON SCHEMA vecpg, vecpg_data FROM vecpg_reader, vecpg_admin;
DO $version$
BEGIN
    IF to_regclass('vecpg_version') IS NOT NULL THEN
        REVOKE ALL ON vecpg_version FROM vecpg_reader;
    END IF;
END
$version$;
ALTER TABLE vecpg.collection DROP COLUMN shared_rows;
