-- Revision 0011's layer as a delta from 0012's (python -m vecpg.schema.freeze 0011):
-- applied after 0012's layer, it gives 0011's. Generated: never edit by hand.

-- Functions 0012 added.
DROP FUNCTION vecpg.doctor(text), vecpg.doctor_indexes(vecpg.collection),
    vecpg.doctor_pgvector(text), vecpg.doctor_pipelines(text), vecpg.doctor_table(vecpg.collection),
    vecpg.doctor_thresholds(), vecpg.doctor_vectors(vecpg.collection);

CREATE OR REPLACE FUNCTION vecpg._filter_field(field text, value jsonb, vpath text[], param text, alias text)
 RETURNS text
 LANGUAGE plpgsql
 IMMUTABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
DECLARE
    column_name text;
    mpath text[];
    ops jsonb;
    op text;
    arg jsonb;
    v text;          -- SQL reading this operator's value from the filter parameter
    doc text;        -- SQL reading the document's metadata value
    parts text[] := '{}';
    operator text;
    implicit boolean := false;
BEGIN
    IF field = '' THEN
        PERFORM vecpg._filter_error('filter keys must not be empty');
    END IF;
    IF field IN ('id', 'created_at', 'updated_at') THEN
        column_name := field;
    ELSE
        mpath := string_to_array(CASE WHEN field LIKE 'metadata.%' THEN substr(field, 10) ELSE field END, '.');
        IF '' = ANY (mpath) OR cardinality(mpath) = 0 THEN
            PERFORM vecpg._filter_error(format('invalid filter key %L: empty part in a dotted path', field));
        END IF;
    END IF;

    -- An object of $operators, or a plain value meaning equality.
    IF jsonb_typeof(value) = 'object' AND EXISTS (SELECT 1 FROM jsonb_object_keys(value) k WHERE left(k, 1) = '$') THEN
        IF EXISTS (SELECT 1 FROM jsonb_object_keys(value) k WHERE left(k, 1) <> '$') THEN
            PERFORM vecpg._filter_error(format('filter on %L mixes operators and plain keys', field));
        END IF;
        ops := value;
    ELSE
        ops := jsonb_build_object('$eq', value);
        implicit := true;
    END IF;

    FOR op, arg IN SELECT * FROM jsonb_each(ops) LOOP
        -- An implicit $eq's value sits at the field's own path.
        v := format('(%s #> %L::text[])', param, CASE WHEN implicit THEN vpath ELSE vpath || op END);
        IF column_name IS NOT NULL THEN
            doc := format('%I.%I', alias, column_name);
            IF column_name = 'id' THEN
                IF op IN ('$eq', '$ne') THEN
                    IF jsonb_typeof(arg) <> 'string' THEN
                        PERFORM vecpg._filter_error(format('filter on id: %s needs a string', op));
                    END IF;
                    parts := parts || format('%s %s (%s #>> ''{}'')', doc, CASE op WHEN '$eq' THEN '=' ELSE '<>' END, v);
                ELSIF op IN ('$in', '$nin') THEN
                    IF jsonb_typeof(arg) <> 'array' THEN
                        PERFORM vecpg._filter_error(format('filter on id: %s needs an array', op));
                    END IF;
                    parts := parts || format('%s(%s = ANY (ARRAY(SELECT jsonb_array_elements_text(%s))))',
                                             CASE op WHEN '$nin' THEN 'NOT ' ELSE '' END, doc, v);
                ELSE
                    PERFORM vecpg._filter_error(format('operator %s is not supported on id (use $eq, $ne, $in, $nin)', op));
                END IF;
            ELSE
                operator := CASE op WHEN '$eq' THEN '=' WHEN '$ne' THEN '<>' WHEN '$gt' THEN '>'
                                    WHEN '$gte' THEN '>=' WHEN '$lt' THEN '<' WHEN '$lte' THEN '<=' END;
                IF operator IS NULL THEN
                    PERFORM vecpg._filter_error(format('operator %s is not supported on %s (use $eq, $ne, $gt, $gte, $lt, $lte)', op, column_name));
                END IF;
                PERFORM vecpg.filter_time(arg, field);
                parts := parts || format('%s %s vecpg.filter_time(%s, %L)', doc, operator, v, field);
            END IF;
            CONTINUE;
        END IF;

        doc := format('(%I.metadata #> %L::text[])', alias, mpath);
        CASE op
        WHEN '$eq' THEN
            parts := parts || format('%I.metadata @> %s', alias, vecpg._nest(mpath, v));
        WHEN '$ne' THEN
            parts := parts || format('NOT (%I.metadata @> %s)', alias, vecpg._nest(mpath, v));
        WHEN '$in', '$nin' THEN
            IF jsonb_typeof(arg) <> 'array' THEN
                PERFORM vecpg._filter_error(format('filter on %L: %s needs an array', field, op));
            END IF;
            parts := parts || format('%sEXISTS (SELECT 1 FROM jsonb_array_elements(%s) AS vecpg_in(v) WHERE %I.metadata @> %s)',
                                     CASE op WHEN '$nin' THEN 'NOT ' ELSE '' END, v, alias, vecpg._nest(mpath, 'vecpg_in.v'));
        WHEN '$gt', '$gte', '$lt', '$lte' THEN
            operator := CASE op WHEN '$gt' THEN '>' WHEN '$gte' THEN '>=' WHEN '$lt' THEN '<' ELSE '<=' END;
            IF jsonb_typeof(arg) = 'number' THEN
                -- Never NULL: under $not, "not comparable" must stay false, not unknown.
                parts := parts || format('coalesce(CASE WHEN jsonb_typeof(%1$s) = ''number'' THEN (%1$s)::numeric %2$s (%3$s)::numeric END, false)',
                                         doc, operator, v);
            ELSIF jsonb_typeof(arg) = 'string' THEN
                PERFORM vecpg.filter_time(arg, field);
                parts := parts || format('coalesce(vecpg.as_time(%s) %s vecpg.filter_time(%s, %L), false)', doc, operator, v, field);
            ELSE
                PERFORM vecpg._filter_error(format('filter on %L: %s needs a number or an ISO-8601 date, got %s',
                                                   field, op, jsonb_typeof(arg)));
            END IF;
        WHEN '$exists' THEN
            IF jsonb_typeof(arg) <> 'boolean' THEN
                PERFORM vecpg._filter_error(format('filter on %L: $exists needs true or false', field));
            END IF;
            -- The value's truth is read at run time: the predicate serves both.
            parts := parts || format('((%s IS NOT NULL) = (%s)::boolean)', doc, v);
        WHEN '$contains' THEN
            IF jsonb_typeof(arg) = 'array' THEN
                parts := parts || format('%I.metadata @> %s', alias, vecpg._nest(mpath, v));
            ELSE
                parts := parts || format('%I.metadata @> %s', alias, vecpg._nest(mpath, format('jsonb_build_array(%s)', v)));
            END IF;
        ELSE
            PERFORM vecpg._filter_error(format('unknown filter operator %s on %L (use $eq, $ne, $in, $nin, $gt, $gte, $lt, $lte, $exists, $contains)',
                                               op, field));
        END CASE;
    END LOOP;
    IF cardinality(parts) = 0 THEN
        PERFORM vecpg._filter_error(format('filter on %L has no operators', field));
    END IF;
    RETURN array_to_string(parts, ' AND ');
END
$function$;
COMMENT ON FUNCTION vecpg._filter_field(text,jsonb,text[],text,text) IS NULL;

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

CREATE OR REPLACE FUNCTION vecpg.embedding_queue_objects(collection text)
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    event text;
BEGIN
    EXECUTE format('DROP TRIGGER IF EXISTS embedding_stale ON %I.%I', c.schema_name, c.table_name);
    IF c.model IS NOT NULL THEN
        EXECUTE format('CREATE TRIGGER embedding_stale BEFORE UPDATE OF title, content ON %I.%I FOR EACH ROW '
                       'WHEN ((OLD.title, OLD.content) IS DISTINCT FROM (NEW.title, NEW.content) '
                       'AND NEW.embedding IS NOT NULL AND NEW.embedding IS NOT DISTINCT FROM OLD.embedding) '
                       'EXECUTE FUNCTION vecpg.drop_stale_embedding()', c.schema_name, c.table_name);
        PERFORM vecpg.statement_triggers(c, 'embedding', 'vecpg.embedding_capture',
                                         'OLD TABLE AS old_rows NEW TABLE AS new_rows');
        EXECUTE format('DROP TRIGGER IF EXISTS embedding_truncate ON %I.%I', c.schema_name, c.table_name);
        EXECUTE format('CREATE TRIGGER embedding_truncate AFTER TRUNCATE ON %I.%I FOR EACH STATEMENT '
                       'EXECUTE FUNCTION vecpg.embedding_capture(%L)', c.schema_name, c.table_name, c.name);
    ELSE
        FOREACH event IN ARRAY ARRAY['insert', 'update', 'delete', 'truncate'] LOOP
            EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I.%I', 'embedding_' || event, c.schema_name, c.table_name);
        END LOOP;
    END IF;
END
$function$;
COMMENT ON FUNCTION vecpg.embedding_queue_objects(text) IS NULL;

COMMENT ON FUNCTION vecpg.enable_mirror(text,jsonb) IS 'Mirror a collection to Qdrant (settings: m, ef_construct, quantization int8, quantile, always_ram, payload_indexes, content)';

CREATE OR REPLACE FUNCTION vecpg.touch_updated_at()
 RETURNS trigger
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$function$;
COMMENT ON FUNCTION vecpg.touch_updated_at() IS NULL;

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
