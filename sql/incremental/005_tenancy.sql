-- 005_tenancy.sql — roles for least privilege, and the catalog's switch for shared documents.
--
-- Incremental file (runs once, frozen after release). Roles are cluster-wide: they are created
-- only when missing and are not dropped on downgrade (other databases may use them).
--   vecpg_reader  search and read documents
--   vecpg_writer  also insert, update and delete documents (a member of vecpg_reader)
--   vecpg_admin   also create and drop collections and indexes (a member of vecpg_writer)
-- Grant them to login roles: GRANT vecpg_writer TO app_user;

DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'vecpg_reader') THEN
        CREATE ROLE vecpg_reader NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'vecpg_writer') THEN
        CREATE ROLE vecpg_writer NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'vecpg_admin') THEN
        CREATE ROLE vecpg_admin NOLOGIN;
    END IF;
END
$roles$;
GRANT vecpg_reader TO vecpg_writer;
GRANT vecpg_writer TO vecpg_admin;

-- Rows with tenant_id NULL are shared, read-only documents for every tenant when this is on.
ALTER TABLE vecpg.collection ADD COLUMN shared_rows boolean NOT NULL DEFAULT false;

GRANT USAGE ON SCHEMA vecpg, vecpg_data TO vecpg_reader;
-- Clients check the schema revision before they start (vecpg.connect).
DO $version$
BEGIN
    IF to_regclass('vecpg_version') IS NOT NULL THEN
        GRANT SELECT ON vecpg_version TO vecpg_reader;
    END IF;
END
$version$;
GRANT CREATE ON SCHEMA vecpg_data TO vecpg_admin;
GRANT SELECT ON vecpg.collection TO vecpg_reader;
GRANT INSERT, UPDATE, DELETE ON vecpg.collection TO vecpg_admin;
-- Statistics: everyone who can read rows reads their statistics; writers' triggers keep them.
GRANT SELECT ON vecpg.bm25_df, vecpg.bm25_totals TO vecpg_reader;
GRANT INSERT, UPDATE, DELETE ON vecpg.bm25_df, vecpg.bm25_totals TO vecpg_writer;
ALTER TABLE vecpg.bm25_df ENABLE ROW LEVEL SECURITY;
ALTER TABLE vecpg.bm25_df FORCE ROW LEVEL SECURITY;
ALTER TABLE vecpg.bm25_totals ENABLE ROW LEVEL SECURITY;
ALTER TABLE vecpg.bm25_totals FORCE ROW LEVEL SECURITY;

-- Append-only audit log: one row per write statement on any collection, written by triggers
-- (vecpg.audit_write, SECURITY DEFINER) so that nobody needs, or has, the right to write it.
-- Admins read it; a trigger refuses UPDATE and DELETE even to its owner.
CREATE TABLE vecpg.audit_log (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    db_user    text NOT NULL DEFAULT session_user,
    tenant     text,
    operation  text NOT NULL CHECK (operation IN ('INSERT', 'UPDATE', 'DELETE')),
    collection text NOT NULL,
    ids        text[] NOT NULL,
    row_count  bigint NOT NULL
);
COMMENT ON TABLE vecpg.audit_log IS 'Append-only record of every write to a collection';
CREATE INDEX audit_log_collection_at ON vecpg.audit_log (collection, at);
REVOKE ALL ON vecpg.audit_log FROM PUBLIC;
GRANT SELECT ON vecpg.audit_log TO vecpg_admin;
