-- Completes the downgrade of 006_tenancy_functions.sql (revision 0003), whose down file left
-- collection tables owned by vecpg_admin: before 0003 they belonged to the role that created
-- them, which for every table vecpg made is the role that runs migrations.
DO $owners$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT schema_name, table_name FROM vecpg.collection LOOP
        EXECUTE format('ALTER TABLE %I.%I OWNER TO %I', c.schema_name, c.table_name, current_user);
    END LOOP;
END
$owners$;
