-- Reverts 015_expiry.sql. Documents that expire lose their expiry: revision 0012 cannot hold
-- it, so the downgrade refuses while some document has one (purge or clear them first).
DO $refuse$
DECLARE
    c record;
    found boolean;
BEGIN
    FOR c IN SELECT name, schema_name, table_name FROM vecpg.collection ORDER BY name LOOP
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.%I WHERE expires_at IS NOT NULL)', c.schema_name, c.table_name)
            INTO found;
        IF found THEN
            RAISE EXCEPTION 'cannot downgrade below revision 0013: documents of collection % have an expiry, which '
                            'revision 0012 cannot hold; purge them or clear expires_at first', c.name
                USING ERRCODE = 'VP005';
        END IF;
    END LOOP;
    FOR c IN SELECT schema_name, table_name FROM vecpg.collection ORDER BY name LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS expire_by_ttl ON %I.%I', c.schema_name, c.table_name);
        EXECUTE format('ALTER TABLE %I.%I DROP COLUMN expires_at', c.schema_name, c.table_name);
    END LOOP;
END
$refuse$;
ALTER TABLE vecpg.collection DROP COLUMN ttl;
