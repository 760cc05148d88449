-- Revision 0011's layer as a delta from 0012's (python -m vecpg.schema.freeze 0011):
-- applied after 0012's layer, it gives 0011's. Generated: never edit by hand.

CREATE OR REPLACE FUNCTION vecpg.audit_write()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO vecpg.audit_log (tenant, operation, collection, ids, row_count)
        SELECT vecpg.current_tenant(), TG_OP, TG_ARGV[0], coalesce(array_agg(o.id ORDER BY o.id), '{}'), count(*)
        FROM old_rows o HAVING count(*) > 0;
    ELSE
        INSERT INTO vecpg.audit_log (tenant, operation, collection, ids, row_count)
        SELECT vecpg.current_tenant(), TG_OP, TG_ARGV[0], coalesce(array_agg(n.id ORDER BY n.id), '{}'), count(*)
        FROM new_rows n HAVING count(*) > 0;
    END IF;
    RETURN NULL;
END
$function$;
COMMENT ON FUNCTION vecpg.audit_write() IS NULL;
