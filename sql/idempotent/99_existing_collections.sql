-- 99_existing_collections.sql — every collection brought up to this layer.
--
-- Runs last, at the end of every upgrade: what collection_created gives a new collection
-- (storage settings, triggers, policies, grants, the keyword index's search function) is
-- made again for each existing one from the functions above, so none keeps an older copy.
-- All of it is DDL without a backfill: statistics and postings are kept, not recounted.
DO $existing$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT name FROM vecpg.collection ORDER BY name LOOP
        PERFORM vecpg.collection_created(c.name);
    END LOOP;
END
$existing$;
