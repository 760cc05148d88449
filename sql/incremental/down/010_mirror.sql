-- Reverts 010_mirror.sql: the capture triggers first (they use functions the older layer lacks),
-- then the tables. Qdrant's copies are left as they are.
DO $unmirror$
DECLARE
    c record;
    event text;
BEGIN
    FOR c IN SELECT schema_name, table_name FROM vecpg.collection LOOP
        FOREACH event IN ARRAY ARRAY['insert', 'update', 'delete', 'truncate'] LOOP
            EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I.%I', 'mirror_' || event, c.schema_name, c.table_name);
        END LOOP;
    END LOOP;
END
$unmirror$;
DROP TABLE vecpg.mirror_outbox;
DROP TABLE vecpg.mirror;
