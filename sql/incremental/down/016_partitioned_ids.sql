-- Reverts 016_partitioned_ids.sql. Revision 0012 has no collections partitioned by tenant (its
-- writes name ON CONFLICT (id), which such a table cannot take), so the downgrade refuses while
-- one exists.
DO $refuse$
DECLARE
    parted text;
BEGIN
    SELECT string_agg(c.name, ', ' ORDER BY c.name) INTO parted
    FROM vecpg.collection c JOIN pg_partitioned_table p ON p.partrelid = format('%I.%I', c.schema_name, c.table_name)::regclass;
    IF parted IS NOT NULL THEN
        RAISE EXCEPTION 'cannot downgrade below revision 0013: collection(s) % are partitioned by tenant, which '
                        'revision 0012 cannot write; drop them first (or copy them into unpartitioned ones)', parted
            USING ERRCODE = 'VP005';
    END IF;
END
$refuse$;
DROP TABLE vecpg.partitioned_id;
