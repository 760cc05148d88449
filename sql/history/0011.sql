-- Revision 0011's layer as a delta from 0012's (python -m vecpg.schema.freeze 0011):
-- applied after 0012's layer, it gives 0011's. Generated: never edit by hand.

-- Functions 0012 added.
DROP FUNCTION vecpg.check_partitioning(text,integer,integer), vecpg.conflict_key(text),
    vecpg.create_default_partition(name,text,text,integer),
    vecpg.create_partitioned_collection(text,integer,text,integer,text,text,regconfig,name,text),
    vecpg.doctor(text), vecpg.doctor_indexes(vecpg.collection), vecpg.doctor_pgvector(text),
    vecpg.doctor_pipelines(text), vecpg.doctor_table(vecpg.collection), vecpg.doctor_thresholds(),
    vecpg.doctor_vectors(vecpg.collection), vecpg.give_tenant_partition(text,text),
    vecpg.index_body(text,text,jsonb), vecpg.own_partitions(vecpg.collection),
    vecpg.partition_index_steps(text,text,jsonb,text),
    vecpg.partition_index_tree(vecpg.collection,text), vecpg.tenant_partitioned(text),
    vecpg.tenant_partitions(text);

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

CREATE OR REPLACE FUNCTION vecpg.add_document(collection text, id text DEFAULT NULL::text, title text DEFAULT NULL::text, content text DEFAULT ''::text, metadata jsonb DEFAULT '{}'::jsonb)
 RETURNS text
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    written text;
BEGIN
    IF c.model IS NULL THEN
        RAISE EXCEPTION 'collection "%" has no model to embed documents: insert them with their vectors', c.name
            USING ERRCODE = 'VP005';
    END IF;
    IF vecpg.embedding_text(title, content) = '' THEN
        RAISE EXCEPTION 'document % has no text to embed', coalesce(quote_literal(id), '(new)')
            USING ERRCODE = 'VP005';
    END IF;
    EXECUTE format(
        'INSERT INTO %I.%I AS d (id, title, content, metadata) VALUES (coalesce($1, gen_random_uuid()::text), $2, $3, $4) '
        'ON CONFLICT (id) DO UPDATE SET title = EXCLUDED.title, content = EXCLUDED.content, metadata = EXCLUDED.metadata '
        'RETURNING d.id', c.schema_name, c.table_name)
        INTO written USING id, title, coalesce(content, ''), coalesce(metadata, '{}');
    RETURN written;
END
$function$;
COMMENT ON FUNCTION vecpg.add_document(text,text,text,text,jsonb) IS 'Insert or update a document''s text and metadata; the embedding workers compute its vector';

CREATE OR REPLACE FUNCTION vecpg.apply_tenancy(collection text)
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    -- The same rows as tenant_id IS NOT DISTINCT FROM vecpg.current_tenant(), in a form the
    -- planner does not estimate at ~0 rows when no row has a tenant (it then chose a sequential
    -- scan and a sort over the vector index for every search by an RLS-bound role).
    own text := 'CASE WHEN vecpg.current_tenant() IS NULL THEN tenant_id IS NULL '
                'ELSE tenant_id = vecpg.current_tenant() END';
    readable text;
    policy text;
BEGIN
    readable := own || CASE WHEN c.shared_rows THEN ' OR tenant_id IS NULL' ELSE '' END;
    EXECUTE format('ALTER TABLE %I.%I ENABLE ROW LEVEL SECURITY', c.schema_name, c.table_name);
    EXECUTE format('ALTER TABLE %I.%I FORCE ROW LEVEL SECURITY', c.schema_name, c.table_name);
    FOREACH policy IN ARRAY ARRAY['tenant_select', 'tenant_insert', 'tenant_update', 'tenant_delete'] LOOP
        EXECUTE format('DROP POLICY IF EXISTS %I ON %I.%I', policy, c.schema_name, c.table_name);
    END LOOP;
    EXECUTE format('CREATE POLICY tenant_select ON %I.%I FOR SELECT USING (%s)', c.schema_name, c.table_name, readable);
    EXECUTE format('CREATE POLICY tenant_insert ON %I.%I FOR INSERT WITH CHECK (%s)', c.schema_name, c.table_name, own);
    EXECUTE format('CREATE POLICY tenant_update ON %I.%I FOR UPDATE USING (%s) WITH CHECK (%s)',
                   c.schema_name, c.table_name, own, own);
    EXECUTE format('CREATE POLICY tenant_delete ON %I.%I FOR DELETE USING (%s)', c.schema_name, c.table_name, own);
    PERFORM vecpg.statement_triggers(c, 'audit', 'vecpg.audit_write', 'NEW TABLE AS new_rows');
    -- Rows inserted by any client without a tenant_id belong to the inserting tenant.
    EXECUTE format('ALTER TABLE %I.%I ALTER COLUMN tenant_id SET DEFAULT vecpg.current_tenant()',
                   c.schema_name, c.table_name);
    EXECUTE format('GRANT SELECT ON %I.%I TO vecpg_reader', c.schema_name, c.table_name);
    EXECUTE format('GRANT INSERT, UPDATE, DELETE ON %I.%I TO vecpg_writer', c.schema_name, c.table_name);
    IF pg_has_role('vecpg_admin', 'MEMBER') THEN
        EXECUTE format('ALTER TABLE %I.%I OWNER TO vecpg_admin', c.schema_name, c.table_name);
    END IF;
END
$function$;
COMMENT ON FUNCTION vecpg.apply_tenancy(text) IS 'Row-level security policies, audit triggers and grants for a collection';

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

CREATE OR REPLACE FUNCTION vecpg.create_collection(name text, dimension integer, distance text DEFAULT 'cosine'::text, model text DEFAULT NULL::text, language regconfig DEFAULT 'english'::regconfig, schema_name name DEFAULT 'vecpg_data'::name, storage text DEFAULT 'vector'::text)
 RETURNS vecpg.collection
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
#variable_conflict use_variable
DECLARE
    c vecpg.collection;
    short text;
BEGIN
    IF name IS NULL OR name !~ '^[a-z_][a-z0-9_]{0,62}$' THEN
        RAISE EXCEPTION 'invalid collection name %: use 1-63 lowercase letters, digits or _, not starting with a digit',
            coalesce(quote_literal(name), 'NULL')
            USING ERRCODE = 'VP005';
    END IF;
    IF dimension IS NULL OR dimension NOT BETWEEN 1 AND 16000 THEN
        RAISE EXCEPTION 'invalid dimension %: must be between 1 and 16000', dimension
            USING ERRCODE = 'VP005';
    END IF;
    IF distance IS NULL OR distance NOT IN ('cosine', 'l2', 'ip') THEN
        RAISE EXCEPTION 'invalid distance %: use cosine, l2 or ip', coalesce(quote_literal(distance), 'NULL')
            USING ERRCODE = 'VP005';
    END IF;
    -- The one list of storages on this side (vecpg/storage.py is Python's): halfvec halves the
    -- table and its index, at 11 significant bits and values of at most 65504.
    IF storage IS NULL OR storage NOT IN ('vector', 'halfvec') THEN
        RAISE EXCEPTION 'invalid storage %: use vector or halfvec', coalesce(quote_literal(storage), 'NULL')
            USING ERRCODE = 'VP005';
    END IF;
    IF EXISTS (SELECT 1 FROM vecpg.collection AS x WHERE x.name = name) THEN
        RAISE EXCEPTION 'collection "%" already exists', name USING ERRCODE = 'VP002';
    END IF;

    -- Index names must stay under 63 bytes whatever the collection name.
    short := left(name, 48);
    EXECUTE format(
        $ddl$
        CREATE TABLE %1$I.%2$I (
            id          text PRIMARY KEY DEFAULT gen_random_uuid()::text,
            title       text,
            content     text NOT NULL DEFAULT '',
            embedding   %3$s,
            metadata    jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
            tenant_id   text,
            created_at  timestamptz NOT NULL DEFAULT now(),
            updated_at  timestamptz NOT NULL DEFAULT now(),
            fts         tsvector GENERATED ALWAYS AS (
                            setweight(to_tsvector(%4$L::regconfig, coalesce(title, '')), 'A')
                         || setweight(to_tsvector(%4$L::regconfig, content), 'B')
                        ) STORED
        )
        $ddl$,
        schema_name, name, vecpg.storage_type(storage, dimension), language::text);
    EXECUTE format('CREATE INDEX %I ON %I.%I USING gin (fts)', short || '_fts_idx', schema_name, name);
    EXECUTE format('CREATE INDEX %I ON %I.%I USING gin (metadata jsonb_path_ops)',
                   short || '_metadata_idx', schema_name, name);
    EXECUTE format('CREATE TRIGGER touch_updated_at BEFORE UPDATE ON %I.%I '
                   'FOR EACH ROW EXECUTE FUNCTION vecpg.touch_updated_at()', schema_name, name);
    EXECUTE format('COMMENT ON TABLE %I.%I IS %L', schema_name, name, 'vecpg collection ' || name);

    INSERT INTO vecpg.collection (name, schema_name, table_name, dimension, distance, model, language, storage)
    VALUES (name, schema_name, name, dimension, distance, model, language, storage)
    RETURNING * INTO c;
    PERFORM vecpg.collection_created(name);
    RETURN c;
END
$function$;
COMMENT ON FUNCTION vecpg.create_collection(text,integer,text,text,regconfig,name,text) IS 'Create a collection table (embeddings stored as vector or halfvec) with its full-text and metadata indexes and record it in the catalog';

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

CREATE OR REPLACE FUNCTION vecpg.index_ddl(collection text, method text DEFAULT 'hnsw'::text, params jsonb DEFAULT '{}'::jsonb, "concurrently" boolean DEFAULT false, index_name text DEFAULT NULL::text)
 RETURNS text
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    with_clause text;
    rows bigint;
    lists integer;
    m integer;
    efc integer;
    unknown text;
    allowed text[];
BEGIN
    method := lower(coalesce(method, 'hnsw'));
    params := coalesce(params, '{}');
    IF jsonb_typeof(params) <> 'object' THEN
        RAISE EXCEPTION 'index params must be a JSON object' USING ERRCODE = 'VP005';
    END IF;
    IF method = 'hnsw' THEN
        allowed := ARRAY['m', 'ef_construction', 'quantization', 'maintenance_work_mem', 'parallel_workers'];
    ELSIF method = 'ivfflat' THEN
        allowed := ARRAY['lists', 'quantization', 'maintenance_work_mem', 'parallel_workers'];
    ELSE
        RAISE EXCEPTION 'unknown index method %: use hnsw or ivfflat', quote_literal(method)
            USING ERRCODE = 'VP005';
    END IF;
    SELECT string_agg(k, ', ') INTO unknown FROM jsonb_object_keys(params) AS k WHERE k <> ALL (allowed);
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'unknown % parameter(s): % (allowed: %)', method, unknown, array_to_string(allowed, ', ')
            USING ERRCODE = 'VP005';
    END IF;

    IF method = 'hnsw' THEN
        m := vecpg._int_param(params, 'm', 16, 2, 100);
        efc := vecpg._int_param(params, 'ef_construction', 64, 4, 1000);
        IF efc < 2 * m THEN
            RAISE EXCEPTION 'ef_construction (%) must be at least twice m (%)', efc, m USING ERRCODE = 'VP005';
        END IF;
        with_clause := format('m = %s, ef_construction = %s', m, efc);
    ELSE
        EXECUTE format('SELECT count(*) FROM %I.%I WHERE embedding IS NOT NULL', c.schema_name, c.table_name)
            INTO rows;
        -- pgvector's guidance: rows/1000 lists up to a million rows, sqrt(rows) beyond.
        lists := vecpg._int_param(params, 'lists',
                     CASE WHEN rows <= 1000000 THEN greatest(1, rows / 1000)::integer
                          ELSE floor(sqrt(rows))::integer END,
                     1, 32768);
        with_clause := format('lists = %s', lists);
    END IF;
    PERFORM * FROM vecpg.build_settings(params);  -- its parameters are checked here too

    RETURN format('CREATE INDEX %s%I ON %I.%I USING %s (%s) WITH (%s)',
                  CASE WHEN index_ddl.concurrently THEN 'CONCURRENTLY ' ELSE '' END,
                  coalesce(index_name, vecpg.index_name(collection, method)),
                  c.schema_name, c.table_name, method,
                  vecpg.index_expression(c, vecpg.index_quantization(c, params->>'quantization')), with_clause);
END
$function$;
COMMENT ON FUNCTION vecpg.index_ddl(text,text,jsonb,boolean,text) IS 'The CREATE INDEX [CONCURRENTLY] statement of a collection''s vector index (hnsw: m, ef_construction; ivfflat: lists)';

CREATE OR REPLACE FUNCTION vecpg.index_info(collection text, named text DEFAULT NULL::text)
 RETURNS TABLE(index_name text, method text, definition text, size_bytes bigint, valid boolean)
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
BEGIN
    -- valid is false while a concurrent build runs and after one failed: searches do not use
    -- the index, writes still maintain it, and a rebuild (or a new create_index) replaces it.
    RETURN QUERY
    SELECT i.relname::text, am.amname::text, pg_get_indexdef(i.oid), pg_relation_size(i.oid), x.indisvalid
    FROM pg_index x
    JOIN pg_class i ON i.oid = x.indexrelid
    JOIN pg_am am ON am.oid = i.relam
    WHERE x.indrelid = format('%I.%I', c.schema_name, c.table_name)::regclass
      AND am.amname IN ('hnsw', 'ivfflat')
      AND (named IS NULL OR i.relname = named)
    ORDER BY 1;
END
$function$;
COMMENT ON FUNCTION vecpg.index_info(text,text) IS 'Vector indexes of a collection (or the one named) with their sizes and whether they are valid';

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
