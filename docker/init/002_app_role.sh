#!/bin/sh
# Runs once, when the data volume is first initialised (after 001_extension.sql). The login
# `vecpg serve` uses: an ordinary role (NOSUPERUSER, NOBYPASSRLS) that is a member of vecpg_admin,
# so that row-level security binds it and each API key sees its own tenant's rows
# (docs/service.md). The group roles are made here so that the grant can be; `vecpg migrate`
# finds them and keeps them. Its password comes from VECPG_APP_PASSWORD (a local default only).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v app_role="${VECPG_APP_ROLE:-vecpg_app}" -v app_password="${VECPG_APP_PASSWORD:-vecpg_app}" <<'SQL'
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
CREATE ROLE :"app_role" LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD :'app_password';
GRANT vecpg_admin TO :"app_role" WITH INHERIT TRUE, SET TRUE;
SQL
