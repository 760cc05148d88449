-- Revision 0007's layer as a delta from 0008's (python -m vecpg.schema.freeze 0007):
-- applied after 0008's layer, it gives 0007's. Generated: never edit by hand.

-- Functions 0008 added.
DROP FUNCTION vecpg.check_mirror_settings(jsonb), vecpg.disable_mirror(text),
    vecpg.enable_mirror(text,jsonb), vecpg.mirror_capture(), vecpg.mirror_objects(text),
    vecpg.mirror_status(), vecpg.rebuild_mirror(text);

CREATE OR REPLACE FUNCTION vecpg.collection_created(collection text)
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
BEGIN
    PERFORM vecpg.store_inline(collection);                 -- storage (this file)
    PERFORM vecpg.keyword_stats_triggers(collection);       -- 06_keyword_search.sql
    PERFORM vecpg.apply_tenancy(collection);                -- 01_tenancy.sql
    PERFORM vecpg.keyword_index_objects(collection);        -- 08_keyword_index.sql
END
$function$;
COMMENT ON FUNCTION vecpg.collection_created(text) IS 'Give a collection table everything vecpg adds to its columns: storage, triggers, policies, grants';
