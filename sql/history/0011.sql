-- Revision 0011's layer as a delta from 0012's (python -m vecpg.schema.freeze 0011):
-- applied after 0012's layer, it gives 0011's. Generated: never edit by hand.

-- Functions 0012 added.
DROP FUNCTION vecpg.doctor(text), vecpg.doctor_indexes(vecpg.collection),
    vecpg.doctor_pgvector(text), vecpg.doctor_pipelines(text), vecpg.doctor_table(vecpg.collection),
    vecpg.doctor_thresholds(), vecpg.doctor_vectors(vecpg.collection);

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

CREATE OR REPLACE FUNCTION vecpg.check_mirror_settings(settings jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 IMMUTABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
DECLARE
    unknown text;
BEGIN
    settings := coalesce(settings, '{}');
    IF jsonb_typeof(settings) <> 'object' THEN
        RAISE EXCEPTION 'mirror settings must be a JSON object' USING ERRCODE = 'VP005';
    END IF;
    SELECT string_agg(k, ', ') INTO unknown FROM jsonb_object_keys(settings) AS k
    WHERE k NOT IN ('m', 'ef_construct', 'quantization', 'quantile', 'always_ram', 'payload_indexes', 'content');
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'unknown mirror setting(s): % (allowed: m, ef_construct, quantization, quantile, always_ram, '
                        'payload_indexes, content)', unknown USING ERRCODE = 'VP005';
    END IF;
    PERFORM vecpg._int_param(settings, 'm', 16, 2, 100), vecpg._int_param(settings, 'ef_construct', 64, 4, 1000);
    IF coalesce(settings->>'quantization', 'int8') <> 'int8' THEN
        RAISE EXCEPTION 'quantization must be int8 (or absent)' USING ERRCODE = 'VP005';
    END IF;
    IF settings ? 'quantile' AND (jsonb_typeof(settings->'quantile') <> 'number'
                                 OR (settings->>'quantile')::numeric NOT BETWEEN 0.5 AND 1) THEN
        RAISE EXCEPTION 'quantile must be a number between 0.5 and 1' USING ERRCODE = 'VP005';
    END IF;
    IF (settings ? 'always_ram' AND jsonb_typeof(settings->'always_ram') <> 'boolean')
       OR (settings ? 'content' AND jsonb_typeof(settings->'content') <> 'boolean') THEN
        RAISE EXCEPTION 'always_ram and content must be true or false' USING ERRCODE = 'VP005';
    END IF;
    IF settings ? 'payload_indexes' AND (jsonb_typeof(settings->'payload_indexes') <> 'array'
       OR EXISTS (SELECT 1 FROM jsonb_array_elements(settings->'payload_indexes') e WHERE jsonb_typeof(e) <> 'string')) THEN
        RAISE EXCEPTION 'payload_indexes must be an array of metadata keys' USING ERRCODE = 'VP005';
    END IF;
    RETURN settings;
END
$function$;
COMMENT ON FUNCTION vecpg.check_mirror_settings(jsonb) IS NULL;

COMMENT ON FUNCTION vecpg.enable_mirror(text,jsonb) IS 'Mirror a collection to Qdrant (settings: m, ef_construct, quantization int8, quantile, always_ram, payload_indexes, content)';

-- finish: this revision's own, in place of the newer revision's
DROP TRIGGER IF EXISTS append_only ON vecpg.audit_log;
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON vecpg.audit_log
    FOR EACH ROW EXECUTE FUNCTION vecpg.audit_append_only();
DROP POLICY IF EXISTS tenant_stats ON vecpg.bm25_df;
CREATE POLICY tenant_stats ON vecpg.bm25_df
    USING (tenant_key = coalesce(vecpg.current_tenant(), '') OR (tenant_key = '' AND vecpg.shares_rows(collection)))
    WITH CHECK (tenant_key = coalesce(vecpg.current_tenant(), ''));
DROP POLICY IF EXISTS tenant_stats ON vecpg.bm25_totals;
CREATE POLICY tenant_stats ON vecpg.bm25_totals
    USING (tenant_key = coalesce(vecpg.current_tenant(), '') OR (tenant_key = '' AND vecpg.shares_rows(collection)))
    WITH CHECK (tenant_key = coalesce(vecpg.current_tenant(), ''));
DROP TRIGGER IF EXISTS drop_keyword_index ON vecpg.collection;
CREATE TRIGGER drop_keyword_index AFTER DELETE ON vecpg.collection
    FOR EACH ROW EXECUTE FUNCTION vecpg.drop_keyword_index_of_collection();
CREATE OR REPLACE VIEW vecpg.embedding_status AS SELECT * FROM vecpg.embedding_status_rows();
COMMENT ON VIEW vecpg.embedding_status IS
    'Embedding pipeline per collection: coverage, queue, failures, throughput (docs/s while embedding)';
DO $existing$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT name FROM vecpg.collection ORDER BY name LOOP
        PERFORM vecpg.collection_created(c.name);
    END LOOP;
END
$existing$;
