-- 001_catalog.sql — vecpg's schemas and collection catalog.
--
-- Incremental file: it runs exactly once (Alembic revision 0001) and is never edited after
-- release; sql/frozen.txt holds its SHA-256 and a test refuses a changed file. Later changes
-- go into new numbered files.

CREATE EXTENSION IF NOT EXISTS vector;

CREATE SCHEMA IF NOT EXISTS vecpg;
COMMENT ON SCHEMA vecpg IS 'vecpg catalog and functions';

-- Collection tables live here unless a collection names another schema.
CREATE SCHEMA IF NOT EXISTS vecpg_data;
COMMENT ON SCHEMA vecpg_data IS 'vecpg collection tables';

CREATE TABLE vecpg.collection (
    name        text PRIMARY KEY
                CHECK (name ~ '^[a-z_][a-z0-9_]{0,62}$'),
    schema_name name NOT NULL DEFAULT 'vecpg_data',
    table_name  name NOT NULL,
    dimension   integer NOT NULL CHECK (dimension BETWEEN 1 AND 16000),
    distance    text NOT NULL CHECK (distance IN ('cosine', 'l2', 'ip')),
    model       text,
    language    regconfig NOT NULL DEFAULT 'english',
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (schema_name, table_name)
);
COMMENT ON TABLE vecpg.collection IS
    'One row per collection: where its documents live and how they are embedded and compared';
