-- Revision 0002's layer as a delta from 0003's (python -m vecpg.schema.freeze 0002):
-- applied after 0003's layer, it gives 0002's. Generated: never edit by hand.

-- Functions 0003 added.
DROP FUNCTION vecpg.apply_tenancy(text), vecpg.audit_append_only(), vecpg.audit_write(),
    vecpg.current_tenant(), vecpg.set_shared_rows(text,boolean), vecpg.shares_rows(text);

CREATE OR REPLACE FUNCTION vecpg.collection_created(collection text)
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
BEGIN
    PERFORM vecpg.refresh_keyword_stats(collection);
END
$function$;
COMMENT ON FUNCTION vecpg.collection_created(text) IS NULL;
REVOKE ALL ON FUNCTION vecpg.collection_created(text) FROM vecpg_admin;
GRANT EXECUTE ON FUNCTION vecpg.collection_created(text) TO PUBLIC;

COMMENT ON FUNCTION vecpg.create_collection(text,integer,text,text,regconfig,name) IS 'Create a collection table with its full-text and metadata indexes and record it in the catalog';
REVOKE ALL ON FUNCTION vecpg.create_collection(text,integer,text,text,regconfig,name) FROM vecpg_admin;
GRANT EXECUTE ON FUNCTION vecpg.create_collection(text,integer,text,text,regconfig,name) TO PUBLIC;

COMMENT ON FUNCTION vecpg.create_index(text,text,jsonb) IS 'Build the vector index of a collection (hnsw: m, ef_construction; ivfflat: lists), replacing any other';
REVOKE ALL ON FUNCTION vecpg.create_index(text,text,jsonb) FROM vecpg_admin;
GRANT EXECUTE ON FUNCTION vecpg.create_index(text,text,jsonb) TO PUBLIC;

COMMENT ON FUNCTION vecpg.drop_collection(text,boolean) IS 'Drop a collection and its documents';
REVOKE ALL ON FUNCTION vecpg.drop_collection(text,boolean) FROM vecpg_admin;
GRANT EXECUTE ON FUNCTION vecpg.drop_collection(text,boolean) TO PUBLIC;

COMMENT ON FUNCTION vecpg.drop_index(text) IS 'Drop the vector index of a collection; returns how many were dropped';
REVOKE ALL ON FUNCTION vecpg.drop_index(text) FROM vecpg_admin;
GRANT EXECUTE ON FUNCTION vecpg.drop_index(text) TO PUBLIC;

COMMENT ON FUNCTION vecpg.rebuild_index(text) IS 'Rebuild the vector index of a collection in place';
REVOKE ALL ON FUNCTION vecpg.rebuild_index(text) FROM vecpg_admin;
GRANT EXECUTE ON FUNCTION vecpg.rebuild_index(text) TO PUBLIC;

COMMENT ON FUNCTION vecpg.refresh_keyword_stats(text) IS 'Install BM25 statistics triggers on a collection and recompute its statistics';
REVOKE ALL ON FUNCTION vecpg.refresh_keyword_stats(text) FROM vecpg_admin;
GRANT EXECUTE ON FUNCTION vecpg.refresh_keyword_stats(text) TO PUBLIC;

CREATE OR REPLACE FUNCTION vecpg.rows_filtered(predicate text)
 RETURNS boolean
 LANGUAGE sql
 STABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
    SELECT predicate <> 'true'
$function$;
COMMENT ON FUNCTION vecpg.rows_filtered(text) IS NULL;
