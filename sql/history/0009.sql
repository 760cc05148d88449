-- Revision 0009's layer as a delta from 0010's (python -m vecpg.schema.freeze 0009):
-- applied after 0010's layer, it gives 0009's. Generated: never edit by hand.

-- Functions 0010 added.
DROP FUNCTION vecpg.create_collection(text,integer,text,text,regconfig,name,text),
    vecpg.indexable_dimensions(text), vecpg.prewarm(text), vecpg.storage_type(text,integer),
    vecpg.stored_query(vecpg.collection,text), vecpg.vector_opclass(text,text);

CREATE OR REPLACE FUNCTION vecpg.apply_tenancy(collection text)
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    own text := 'tenant_id IS NOT DISTINCT FROM vecpg.current_tenant()';
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

CREATE OR REPLACE FUNCTION vecpg.chunk_objects(collection text)
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    chunks name := vecpg.chunk_table(collection);
BEGIN
    IF c.chunk_tokens IS NULL THEN
        RETURN;  -- disable_chunking drops the table; nothing here drops by name
    END IF;
    EXECUTE format(
        'CREATE TABLE IF NOT EXISTS %I.%I ('
        '  parent_id  text NOT NULL,'
        '  chunk_no   integer NOT NULL,'
        '  start_char integer NOT NULL,'
        '  end_char   integer NOT NULL,'
        '  content    text NOT NULL,'
        '  embedding  %I.vector(%s) NOT NULL,'
        '  PRIMARY KEY (parent_id, chunk_no))',
        c.schema_name, chunks, vecpg.vector_schema(), c.dimension);
    EXECUTE format('COMMENT ON TABLE %I.%I IS %L', c.schema_name, chunks, 'vecpg chunks of collection ' || c.name);
    -- pgvector indexes vectors of up to 2,000 dimensions; above, chunks are searched exactly.
    IF c.dimension <= 2000 THEN
        EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I.%I USING hnsw (embedding %s)',
                       left(c.table_name, 44) || '_chunks_hnsw', c.schema_name, chunks, vecpg.vector_opclass(c.distance));
    END IF;
    -- A chunk is visible to whoever may see its document: the document's own policies decide.
    EXECUTE format('ALTER TABLE %I.%I ENABLE ROW LEVEL SECURITY', c.schema_name, chunks);
    EXECUTE format('DROP POLICY IF EXISTS chunk_of_visible_document ON %I.%I', c.schema_name, chunks);
    EXECUTE format('CREATE POLICY chunk_of_visible_document ON %I.%I FOR SELECT '
                   'USING (EXISTS (SELECT 1 FROM %I.%I d WHERE d.id = parent_id))',
                   c.schema_name, chunks, c.schema_name, c.table_name);
    EXECUTE format('REVOKE ALL ON %I.%I FROM PUBLIC', c.schema_name, chunks);
    EXECUTE format('GRANT SELECT ON %I.%I TO vecpg_reader', c.schema_name, chunks);
    EXECUTE format('GRANT ALL ON %I.%I TO vecpg_admin', c.schema_name, chunks);
END
$function$;
COMMENT ON FUNCTION vecpg.chunk_objects(text) IS NULL;

CREATE OR REPLACE FUNCTION vecpg.create_collection(name text, dimension integer, distance text DEFAULT 'cosine'::text, model text DEFAULT NULL::text, language regconfig DEFAULT 'english'::regconfig, schema_name name DEFAULT 'vecpg_data'::name)
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
            embedding   %3$I.vector(%4$s),
            metadata    jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
            tenant_id   text,
            created_at  timestamptz NOT NULL DEFAULT now(),
            updated_at  timestamptz NOT NULL DEFAULT now(),
            fts         tsvector GENERATED ALWAYS AS (
                            setweight(to_tsvector(%5$L::regconfig, coalesce(title, '')), 'A')
                         || setweight(to_tsvector(%5$L::regconfig, content), 'B')
                        ) STORED
        )
        $ddl$,
        schema_name, name, vecpg.vector_schema(), dimension, language::text);
    EXECUTE format('CREATE INDEX %I ON %I.%I USING gin (fts)', short || '_fts_idx', schema_name, name);
    EXECUTE format('CREATE INDEX %I ON %I.%I USING gin (metadata jsonb_path_ops)',
                   short || '_metadata_idx', schema_name, name);
    EXECUTE format('CREATE TRIGGER touch_updated_at BEFORE UPDATE ON %I.%I '
                   'FOR EACH ROW EXECUTE FUNCTION vecpg.touch_updated_at()', schema_name, name);
    EXECUTE format('COMMENT ON TABLE %I.%I IS %L', schema_name, name, 'vecpg collection ' || name);

    INSERT INTO vecpg.collection (name, schema_name, table_name, dimension, distance, model, language)
    VALUES (name, schema_name, name, dimension, distance, model, language)
    RETURNING * INTO c;
    PERFORM vecpg.collection_created(name);
    RETURN c;
END
$function$;
COMMENT ON FUNCTION vecpg.create_collection(text,integer,text,text,regconfig,name) IS 'Create a collection table with its full-text and metadata indexes and record it in the catalog';
REVOKE ALL ON FUNCTION vecpg.create_collection(text,integer,text,text,regconfig,name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg.create_collection(text,integer,text,text,regconfig,name) TO vecpg_admin;

CREATE OR REPLACE FUNCTION vecpg.current_tenant()
 RETURNS text
 LANGUAGE sql
 STABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
    SELECT nullif(current_setting('vecpg.tenant_id', true), '')
$function$;
COMMENT ON FUNCTION vecpg.current_tenant() IS 'The tenant of the current transaction (vecpg.tenant_id), or NULL';

CREATE OR REPLACE FUNCTION vecpg.index_expression(c vecpg.collection, quantization text)
 RETURNS text
 LANGUAGE sql
 STABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
    SELECT CASE quantization
        WHEN 'halfvec' THEN format('(embedding::%1$I.halfvec(%2$s)) %1$I.%3$I', vecpg.vector_schema(), c.dimension,
                                   'halfvec_' || CASE c.distance WHEN 'cosine' THEN 'cosine' WHEN 'l2' THEN 'l2'
                                                                 ELSE 'ip' END || '_ops')
        WHEN 'binary' THEN format('(%1$I.binary_quantize(embedding)::bit(%2$s)) %1$I.bit_hamming_ops',
                                  vecpg.vector_schema(), c.dimension)
        ELSE 'embedding ' || vecpg.vector_opclass(c.distance)
    END
$function$;
COMMENT ON FUNCTION vecpg.index_expression(vecpg.collection,text) IS NULL;

CREATE OR REPLACE FUNCTION vecpg.index_quantization(c vecpg.collection, asked text)
 RETURNS text
 LANGUAGE plpgsql
 IMMUTABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
BEGIN
    IF asked IS NULL THEN
        RETURN CASE WHEN c.dimension <= 2000 THEN NULL WHEN c.dimension <= 4000 THEN 'halfvec' ELSE 'binary' END;
    END IF;
    IF asked NOT IN ('none', 'halfvec', 'binary') THEN
        RAISE EXCEPTION 'unknown quantization %: use none, halfvec or binary', quote_literal(asked) USING ERRCODE = 'VP005';
    END IF;
    IF asked = 'none' AND c.dimension > 2000 THEN
        RAISE EXCEPTION 'pgvector indexes vectors of up to 2000 dimensions, collection "%" has %: use halfvec '
                        '(up to 4000) or binary quantization', c.name, c.dimension USING ERRCODE = 'VP005';
    END IF;
    IF asked = 'halfvec' AND c.dimension > 4000 THEN
        RAISE EXCEPTION 'pgvector indexes halfvec of up to 4000 dimensions, collection "%" has %: use binary '
                        'quantization', c.name, c.dimension USING ERRCODE = 'VP005';
    END IF;
    RETURN nullif(asked, 'none');
END
$function$;
COMMENT ON FUNCTION vecpg.index_quantization(vecpg.collection,text) IS NULL;

CREATE OR REPLACE FUNCTION vecpg.nearest_sql(c vecpg.collection, columns text, predicate text, query text, k text, rerank text DEFAULT '4'::text)
 RETURNS text
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
DECLARE
    vs text := quote_ident(vecpg.vector_schema());
    op text := format('OPERATOR(%s.%s)', vs, vecpg.distance_operator(c.distance));
    exact text := format('(d.embedding %s %s)::double precision', op, query);
    filter text := CASE WHEN predicate = 'true' THEN '' ELSE 'AND (' || predicate || ')' END;
BEGIN
    IF c.quantization IS NULL THEN
        RETURN format('SELECT %s, %s AS distance FROM %I.%I d WHERE d.embedding IS NOT NULL %s '
                      'ORDER BY d.embedding %s %s LIMIT %s',
                      columns, exact, c.schema_name, c.table_name, filter, op, query, k);
    ELSIF c.quantization = 'halfvec' THEN
        RETURN format('SELECT q.* FROM (SELECT %s, %s AS distance FROM %I.%I d WHERE d.embedding IS NOT NULL %s '
                      'ORDER BY (d.embedding::%s.halfvec(%s)) %s (%s::%s.halfvec(%s)) LIMIT %s) q ORDER BY q.distance',
                      columns, exact, c.schema_name, c.table_name, filter,
                      vs, c.dimension, op, query, vs, c.dimension, k);
    ELSE
        RETURN format('SELECT q.* FROM (SELECT %s, %s AS distance FROM %I.%I d WHERE d.embedding IS NOT NULL %s '
                      'ORDER BY (%s.binary_quantize(d.embedding)::bit(%s)) OPERATOR(%s.<~>) %s.binary_quantize(%s) '
                      'LIMIT (%s) * (%s)) q ORDER BY q.distance LIMIT %s',
                      columns, exact, c.schema_name, c.table_name, filter,
                      vs, c.dimension, vs, vs, query, k, rerank, k);
    END IF;
END
$function$;
COMMENT ON FUNCTION vecpg.nearest_sql(vecpg.collection,text,text,text,text,text) IS NULL;

CREATE OR REPLACE FUNCTION vecpg.search_chunks(collection text, query_embedding vector, k integer, filter jsonb DEFAULT '{}'::jsonb, options jsonb DEFAULT '{}'::jsonb)
 RETURNS TABLE(id text, title text, content text, metadata jsonb, distance double precision, score double precision, chunk_no integer, highlight text)
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    predicate text;
    op text;
    candidates integer := least(4 * k, 1000);
BEGIN
    PERFORM vecpg.check_vector_query(c, query_embedding, k);
    IF c.chunk_tokens IS NULL THEN
        RETURN QUERY SELECT s.*, NULL::integer, NULL::text
                     FROM vecpg.search(collection, query_embedding, k, filter, options) s;
        RETURN;
    END IF;
    predicate := vecpg.compile_filter(coalesce(filter, '{}'), '$2', 'd');
    options := vecpg.search_options(c, options, candidates);
    -- The chunk list is filtered by its documents (filters, tenants, current vectors): iterative
    -- scans keep reading until the candidates are found.
    IF NOT options ? 'iterative_scan' AND vecpg.pgvector_version() >= '{0,8}' THEN
        options := options || '{"iterative_scan": "relaxed_order"}';
    END IF;
    IF NOT options ? 'ef_search' AND candidates > coalesce(nullif(current_setting('hnsw.ef_search', true), '')::integer, 40) THEN
        options := options || jsonb_build_object('ef_search', candidates);
    END IF;
    PERFORM vecpg.apply_search_options(options);
    op := format('OPERATOR(%I.%s)', vecpg.vector_schema(), vecpg.distance_operator(c.distance));
    RETURN QUERY EXECUTE format(
        $q$
        WITH chunk_hits AS (
            SELECT ch.parent_id, ch.chunk_no, ch.content AS chunk, (ch.embedding %1$s $1)::double precision AS distance
            FROM %2$I.%4$I ch JOIN %2$I.%3$I d ON d.id = ch.parent_id
            WHERE d.embedding IS NOT NULL %5$s
            ORDER BY ch.embedding %1$s $1 LIMIT $4
        ), document_hits AS (%7$s
        ), best AS (
            SELECT DISTINCT ON (h.parent_id) h.*
            FROM (SELECT * FROM chunk_hits UNION ALL SELECT * FROM document_hits) h
            ORDER BY h.parent_id, h.distance, h.chunk_no NULLS LAST
        )
        SELECT d.id, d.title, d.content, d.metadata, b.distance, %6$s, b.chunk_no, b.chunk
        FROM best b JOIN %2$I.%3$I d ON d.id = b.parent_id
        ORDER BY b.distance, d.id
        LIMIT $3
        $q$,
        op, c.schema_name, c.table_name, vecpg.chunk_table(collection),
        CASE WHEN predicate = 'true' THEN '' ELSE 'AND (' || predicate || ')' END,
        CASE c.distance WHEN 'cosine' THEN '1 - b.distance' WHEN 'ip' THEN '-b.distance'
                        ELSE 'NULL::double precision' END,
        vecpg.nearest_sql(c, 'd.id AS parent_id, NULL::integer AS chunk_no, NULL::text AS chunk', predicate,
                          '$1', '$4', vecpg.rerank_factor(options)::text))
        USING query_embedding, filter, k, candidates;
END
$function$;
COMMENT ON FUNCTION vecpg.search_chunks(text,vector,integer,jsonb,jsonb) IS 'k documents nearest to query_embedding by their best chunk, with that chunk as highlight';

CREATE OR REPLACE FUNCTION vecpg.vector_opclass(distance text)
 RETURNS text
 LANGUAGE sql
 STABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
    SELECT format('%I.%I', vecpg.vector_schema(),
                  CASE distance WHEN 'cosine' THEN 'vector_cosine_ops' WHEN 'l2' THEN 'vector_l2_ops'
                                ELSE 'vector_ip_ops' END)
$function$;
COMMENT ON FUNCTION vecpg.vector_opclass(text) IS NULL;
