-- Revision 0012's layer as a delta from 0013's (python -m vecpg.schema.freeze 0012):
-- applied after 0013's layer, it gives 0012's. Generated: never edit by hand.

-- Functions 0013 added.
DROP FUNCTION vecpg.check_partitioning(text,integer,integer), vecpg.conflict_key(text),
    vecpg.create_default_partition(name,text,text,integer),
    vecpg.create_partitioned_collection(text,integer,text,integer,text,text,regconfig,name,text),
    vecpg.expire_by_ttl(), vecpg.expired_count(text), vecpg.expiry_objects(text),
    vecpg.give_tenant_partition(text,text), vecpg.index_body(text,text,jsonb),
    vecpg.own_partitions(vecpg.collection), vecpg.partition_index_steps(text,text,jsonb,text),
    vecpg.partition_index_tree(vecpg.collection,text), vecpg.partitioned_id_objects(text),
    vecpg.partitioned_ids(), vecpg.purge_expired(text,integer),
    vecpg.set_ttl(text,interval,boolean), vecpg.tenant_partitioned(text),
    vecpg.tenant_partitions(text), vecpg.tenant_scope_sql(vecpg.collection),
    vecpg.tree_size(regclass), vecpg.where_sql(text,boolean,text);

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
    PERFORM vecpg.mirror_objects(collection);               -- 09_mirror.sql
    PERFORM vecpg.embedding_queue_objects(collection);      -- 10_embedding_queue.sql
    PERFORM vecpg.chunk_objects(collection);                -- 11_chunks.sql
END
$function$;
COMMENT ON FUNCTION vecpg.collection_created(text) IS 'Give a collection table everything vecpg adds to its columns: storage, triggers, policies, grants';

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

CREATE OR REPLACE FUNCTION vecpg.doctor_indexes(c vecpg.collection)
 RETURNS TABLE("check" text, severity text, collection text, message text, fix text)
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
#variable_conflict use_variable
DECLARE
    t jsonb := vecpg.doctor_thresholds();
    tbl regclass := format('%I.%I', c.schema_name, c.table_name)::regclass;
    buffers bigint := pg_size_bytes(current_setting('shared_buffers'));
    live bigint;
    reads bigint;
    vector_indexes integer := 0;
    r record;
    qualified text;
    vector_bytes integer;
    per_page integer;
    expected bigint;
BEGIN
    -- Rows as the planner knows them (NULL before the first VACUUM or ANALYZE: no estimate then).
    SELECT CASE WHEN cl.reltuples >= 0 OR s.n_live_tup > 0 THEN greatest(cl.reltuples::bigint, s.n_live_tup) END,
           coalesce(s.seq_scan, 0) + coalesce(s.idx_scan, 0)
    INTO live, reads
    FROM pg_class cl LEFT JOIN pg_stat_user_tables s ON s.relid = cl.oid WHERE cl.oid = tbl;
    FOR r IN
        SELECT i.relname::text AS name, am.amname::text AS method, x.indisvalid AS valid,
               x.indisunique OR x.indisprimary AS enforces, pg_relation_size(i.oid) AS bytes,
               coalesce(si.idx_scan, 0) AS scans, ty.typname::text AS keytype,
               coalesce((SELECT split_part(o, '=', 2)::integer FROM unnest(i.reloptions) o WHERE o LIKE 'm=%'), 16) AS m,
               coalesce((SELECT split_part(o, '=', 2)::integer FROM unnest(i.reloptions) o WHERE o LIKE 'lists=%'), 100) AS lists
        FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_am am ON am.oid = i.relam
        LEFT JOIN pg_opclass oc ON oc.oid = x.indclass[0]
        LEFT JOIN pg_type ty ON ty.oid = oc.opcintype
        LEFT JOIN pg_stat_user_indexes si ON si.indexrelid = i.oid
        WHERE x.indrelid = tbl
        ORDER BY i.relname
    LOOP
        qualified := format('%I.%I', c.schema_name, r.name);
        IF r.method IN ('hnsw', 'ivfflat') THEN
            vector_indexes := vector_indexes + 1;
        END IF;
        IF NOT r.valid THEN
            -- A failed CREATE INDEX CONCURRENTLY leaves it: writes maintain it, searches ignore it.
            RETURN QUERY SELECT 'invalid_index', 'problem', c.name,
                format('index %s is invalid (a concurrent build or reindex failed or is still running): '
                       'writes maintain it and no search uses it', qualified),
                format('REINDEX INDEX CONCURRENTLY %s', qualified);
            CONTINUE;
        END IF;
        IF r.scans = 0 AND NOT r.enforces AND reads > 0 AND coalesce(live, 0) > 0
           AND r.name NOT LIKE '%\_fts\_idx' AND r.name NOT LIKE '%\_metadata\_idx' THEN
            -- vecpg's own keyword and metadata indexes serve keyword search and filters when they come.
            RETURN QUERY SELECT 'unused_index', 'warning', c.name,
                format('index %s (%s) has never been used since statistics were reset, though the table was read '
                       '%s times: every write maintains it for nothing%s', qualified, pg_size_pretty(r.bytes), reads,
                       CASE WHEN r.method IN ('hnsw', 'ivfflat')
                            THEN ', and searches scan the table instead (a distance or a filter the index does '
                                 'not serve? EXPLAIN a search to see)' ELSE '' END),
                CASE WHEN r.method IN ('hnsw', 'ivfflat') THEN format('vecpg index drop -c %s', c.name)
                     ELSE format('DROP INDEX CONCURRENTLY %s', qualified) END;
        END IF;
        IF r.method NOT IN ('hnsw', 'ivfflat') THEN
            CONTINUE;
        END IF;
        IF r.method = 'hnsw' AND r.bytes > buffers THEN
            RETURN QUERY SELECT 'index_exceeds_shared_buffers', 'warning', c.name,
                format('HNSW index %s (%s) is larger than shared_buffers (%s): searches read its pages from the '
                       'OS cache or the disk', qualified, pg_size_pretty(r.bytes), pg_size_pretty(buffers)),
                format('raise shared_buffers above %s (ALTER SYSTEM SET shared_buffers = ''%sMB'' and a restart; '
                       'embedded: vecpg db start --set shared_buffers=%sMB)', pg_size_pretty(r.bytes),
                       ceil(r.bytes * 1.25 / 1048576)::bigint, ceil(r.bytes * 1.25 / 1048576)::bigint);
        END IF;
        -- The size pgvector's page layout gives the live rows (vecpg/index/advice.py's estimates).
        vector_bytes := CASE r.keytype WHEN 'halfvec' THEN 2 * c.dimension WHEN 'bit' THEN ceil(c.dimension / 8.0)::integer
                                       ELSE 4 * c.dimension END;
        IF r.method = 'hnsw' THEN
            per_page := greatest(1, 8152 / (vector_bytes + 12 * r.m + 98));
            expected := (ceil(live::numeric / per_page) + 1)::bigint * 8192;
        ELSE
            per_page := greatest(1, 8152 / (vector_bytes + 24));
            expected := (r.lists * greatest(1, ceil(ceil(live::numeric / r.lists) / per_page))
                         + ceil(r.lists * (vector_bytes + 8) / 8152.0) + 1)::bigint * 8192;
        END IF;
        IF live IS NOT NULL AND r.bytes > (t->>'index_bloat')::numeric * expected AND r.bytes - expected >= (t->>'index_bloat_bytes')::bigint THEN
            RETURN QUERY SELECT 'index_bloat', 'warning', c.name,
                format('index %s takes %s where its %s live rows need about %s (%s%%): space of deleted and '
                       'updated rows that a vacuum marks for reuse but never gives back', qualified,
                       pg_size_pretty(r.bytes), live, pg_size_pretty(expected), round(100.0 * r.bytes / expected)),
                format('REINDEX INDEX CONCURRENTLY %s', qualified);
        END IF;
    END LOOP;
    IF vector_indexes = 0 THEN
        -- Counted, up to the threshold: the statistics may not know the rows of a fresh load yet.
        EXECUTE format('SELECT count(*) FROM (SELECT FROM %I.%I LIMIT %s) s', c.schema_name, c.table_name,
                       (t->>'index_rows')::bigint) INTO live;
    END IF;
    IF vector_indexes = 0 AND live >= (t->>'index_rows')::bigint THEN
        RETURN QUERY SELECT 'missing_index', 'warning', c.name,
            format('%s rows and no vector index: every search computes the distance to every row', live),
            format('vecpg index create -c %s', c.name);
    END IF;
END
$function$;
COMMENT ON FUNCTION vecpg.doctor_indexes(vecpg.collection) IS NULL;

CREATE OR REPLACE FUNCTION vecpg.doctor_table(c vecpg.collection)
 RETURNS TABLE("check" text, severity text, collection text, message text, fix text)
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
#variable_conflict use_variable
DECLARE
    t jsonb := vecpg.doctor_thresholds();
    tbl regclass := format('%I.%I', c.schema_name, c.table_name)::regclass;
    qualified text := format('%I.%I', c.schema_name, c.table_name);
    s record;
BEGIN
    SELECT greatest(cl.reltuples, 0) AS reltuples, coalesce(st.n_live_tup, 0) AS live, coalesce(st.n_dead_tup, 0) AS dead,
           coalesce(st.n_mod_since_analyze, 0) AS changed,
           st.last_analyze IS NULL AND st.last_autoanalyze IS NULL AS never_analyzed,
           pg_relation_size(tbl) > 0 AS has_pages
    INTO s
    FROM pg_class cl LEFT JOIN pg_stat_user_tables st ON st.relid = cl.oid WHERE cl.oid = tbl;
    IF s.dead > greatest((t->>'dead_rows')::bigint, (t->>'dead_fraction')::numeric * s.live) THEN
        RETURN QUERY SELECT 'table_bloat', 'warning', c.name,
            format('%s dead rows beside %s live ones (%s%%): updates and deletes not vacuumed yet, which searches '
                   'and scans still read past', s.dead, s.live, round(100.0 * s.dead / greatest(s.live, 1))),
            format('VACUUM ANALYZE %s', qualified);
    END IF;
    IF s.never_analyzed AND (s.live > 0 OR s.has_pages) THEN
        RETURN QUERY SELECT 'never_analyzed', 'warning', c.name,
            format('the table (%s) has never been analyzed: the planner guesses how many rows a filter keeps '
                   'and may choose the wrong plan', pg_size_pretty(pg_relation_size(tbl))),
            format('VACUUM ANALYZE %s', qualified);
    ELSIF NOT s.never_analyzed AND s.changed > greatest((t->>'stale_rows')::bigint, (t->>'stale_fraction')::numeric * s.reltuples) THEN
        RETURN QUERY SELECT 'stale_statistics', 'warning', c.name,
            format('%s rows changed since the last ANALYZE of its %s rows: the planner''s statistics are stale',
                   s.changed, s.reltuples::bigint),
            format('VACUUM ANALYZE %s', qualified);
    END IF;
END
$function$;
COMMENT ON FUNCTION vecpg.doctor_table(vecpg.collection) IS NULL;

CREATE OR REPLACE FUNCTION vecpg.enable_keyword_index(collection text)
 RETURNS bigint
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    -- Subqueries, so that the tenant is looked up once per scan rather than once per posting.
    own text := 'tenant_key = (SELECT coalesce(vecpg.current_tenant(), ''''))';
    written bigint;
BEGIN
    -- Row-level security would hide other tenants' documents from the fill: an index missing
    -- them would quietly drop them from their tenants' keyword lists.
    IF row_security_active(format('%I.%I', c.schema_name, c.table_name)::regclass)
       AND pg_relation_size(format('%I.%I', c.schema_name, c.table_name)::regclass) > 0 THEN
        RAISE EXCEPTION 'building the keyword index of "%" reads every tenant''s documents: run it as a role '
                        'that row-level security does not restrict (superuser or BYPASSRLS), or before loading',
                        c.name USING ERRCODE = 'insufficient_privilege';
    END IF;
    EXECUTE format('DROP FUNCTION IF EXISTS vecpg_postings.%I', c.name);
    EXECUTE format('DROP TABLE IF EXISTS vecpg_postings.%I', c.name);
    EXECUTE format(
        'CREATE TABLE vecpg_postings.%I ('
        ' tenant_key text NOT NULL, lexeme text NOT NULL, id text NOT NULL,'
        ' tf integer NOT NULL, len integer NOT NULL, impact real NOT NULL,'
        ' PRIMARY KEY (id, lexeme))', c.name);
    EXECUTE format('COMMENT ON TABLE vecpg_postings.%I IS %L', c.name, 'vecpg keyword index of collection ' || c.name);
    -- Rows follow the documents they come from: a tenant sees its own (and shared ones).
    EXECUTE format('ALTER TABLE vecpg_postings.%I ENABLE ROW LEVEL SECURITY', c.name);
    EXECUTE format('ALTER TABLE vecpg_postings.%I FORCE ROW LEVEL SECURITY', c.name);
    EXECUTE format('CREATE POLICY tenant_postings ON vecpg_postings.%I USING (%s OR (tenant_key = '''' AND (SELECT vecpg.shares_rows(%L)))) '
                   'WITH CHECK (%s)', c.name, own, c.name, own);
    EXECUTE format('GRANT SELECT ON vecpg_postings.%I TO vecpg_reader', c.name);
    EXECUTE format('GRANT INSERT, UPDATE, DELETE ON vecpg_postings.%I TO vecpg_writer', c.name);
    IF pg_has_role('vecpg_admin', 'MEMBER') THEN
        EXECUTE format('ALTER TABLE vecpg_postings.%I OWNER TO vecpg_admin', c.name);
    END IF;

    EXECUTE format('INSERT INTO vecpg_postings.%I %s', c.name,
                   vecpg.postings_sql(c, format('%I.%I', c.schema_name, c.table_name)));
    GET DIAGNOSTICS written = ROW_COUNT;
    -- Built after the fill: one sort instead of a hundred thousand index insertions.
    EXECUTE format('CREATE INDEX %I ON vecpg_postings.%I (tenant_key, lexeme, impact DESC) INCLUDE (id, tf, len)',
                   left(c.name, 50) || '_impact', c.name);
    EXECUTE format('ANALYZE vecpg_postings.%I', c.name);

    PERFORM vecpg.keyword_index_objects(collection);
    RETURN written;
END
$function$;
COMMENT ON FUNCTION vecpg.enable_keyword_index(text) IS 'Create or rebuild a collection''s impact-ordered keyword index (fast hybrid search); returns postings written';

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

CREATE OR REPLACE FUNCTION vecpg.keyword_candidates_sql(c vecpg.collection, keyword_list text)
 RETURNS text
 LANGUAGE sql
 STABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
    SELECT format('SELECT s.id, s.score, %s AS vsim FROM (%s) s LEFT JOIN %I.%I d ON d.id = s.id',
                  vecpg.fusion_similarity_sql(c, vecpg.exact_distance_sql(c, vecpg.stored_query(c, '$2'))),
                  keyword_list, c.schema_name, c.table_name)
$function$;
COMMENT ON FUNCTION vecpg.keyword_candidates_sql(vecpg.collection,text) IS NULL;

CREATE OR REPLACE FUNCTION vecpg.keyword_list_sql(c vecpg.collection, match tsquery, required tsquery, score_sql text, predicate text, limit_sql text, columns text DEFAULT 'd.id'::text)
 RETURNS text
 LANGUAGE sql
 STABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
    SELECT CASE WHEN match IS NULL THEN
        'SELECT NULL::text AS id, NULL::double precision AS score WHERE false'
    ELSE format(
        'SELECT %s, (%s)::double precision AS score FROM %I.%I d '
        'CROSS JOIN LATERAL (SELECT %s AS fts OFFSET 0) AS v '
        'WHERE d.fts @@ %L::tsquery %s ORDER BY score DESC, d.id LIMIT %s',
        columns, score_sql, c.schema_name, c.table_name, vecpg.tsvector_once_sql(), match::text,
        CASE WHEN predicate = 'true' THEN '' ELSE 'AND (' || predicate || ')' END
            || CASE WHEN required IS NULL THEN '' ELSE format(' AND d.fts @@ %L::tsquery', required::text) END,
        limit_sql)
    END
$function$;
COMMENT ON FUNCTION vecpg.keyword_list_sql(vecpg.collection,tsquery,tsquery,text,text,text,text) IS NULL;

CREATE OR REPLACE FUNCTION vecpg.mirror_capture()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
DECLARE
    coll text := TG_ARGV[0];
    written bigint;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO vecpg.mirror_outbox (collection, doc_id) VALUES (coll, NULL);
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO vecpg.mirror_outbox (collection, doc_id) SELECT coll, n.id FROM new_rows n ORDER BY n.id;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO vecpg.mirror_outbox (collection, doc_id) SELECT coll, o.id FROM old_rows o ORDER BY o.id;
    ELSE
        -- An update that changes nothing the mirror holds (updated_at aside) is not an event; a
        -- changed id is two: the old id goes, the new one comes.
        INSERT INTO vecpg.mirror_outbox (collection, doc_id)
        SELECT coll, coalesce(n.id, o.id)
        FROM old_rows o FULL JOIN new_rows n ON n.id = o.id
        WHERE (o.title, o.content, o.embedding, o.metadata, o.tenant_id)
              IS DISTINCT FROM (n.title, n.content, n.embedding, n.metadata, n.tenant_id)
        ORDER BY 2;
    END IF;
    GET DIAGNOSTICS written = ROW_COUNT;
    IF written > 0 THEN
        PERFORM pg_notify('vecpg_mirror', coll);  -- wakes `vecpg mirror sync --follow`
    END IF;
    RETURN NULL;
END
$function$;
COMMENT ON FUNCTION vecpg.mirror_capture() IS NULL;

CREATE OR REPLACE FUNCTION vecpg.nearest_sql(c vecpg.collection, columns text, predicate text, query text, k text, rerank text DEFAULT '4'::text)
 RETURNS text
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
DECLARE
    vs text := quote_ident(vecpg.vector_schema());
    op text := format('OPERATOR(%s.%s)', vs, vecpg.distance_operator(c.distance));
    exact text;
    filter text := CASE WHEN predicate = 'true' THEN '' ELSE 'AND (' || predicate || ')' END;
BEGIN
    query := vecpg.stored_query(c, query);
    exact := vecpg.exact_distance_sql(c, query);
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

CREATE OR REPLACE FUNCTION vecpg.prewarm(collection text)
 RETURNS TABLE(part text, pages bigint, accesses bigint, pages_read bigint)
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    tbl regclass := format('%I.%I', c.schema_name, c.table_name)::regclass;
    probe vector;
    plan jsonb;
BEGIN
    PERFORM set_config('enable_indexscan', 'off', true), set_config('enable_indexonlyscan', 'off', true),
            set_config('enable_bitmapscan', 'off', true);
    EXECUTE format('EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT count(*) FROM %s', tbl) INTO plan;
    part := 'table';
    pages := pg_relation_size(tbl) / current_setting('block_size')::bigint;
    accesses := (plan->0->'Plan'->>'Shared Hit Blocks')::bigint + (plan->0->'Plan'->>'Shared Read Blocks')::bigint;
    pages_read := (plan->0->'Plan'->>'Shared Read Blocks')::bigint;
    RETURN NEXT;

    EXECUTE format('SELECT embedding::vector FROM %s WHERE embedding IS NOT NULL LIMIT 1', tbl) INTO probe;
    SELECT sum(i.size_bytes) / current_setting('block_size')::bigint INTO pages
    FROM vecpg.index_info(collection) i WHERE i.valid;
    IF probe IS NULL OR pages IS NULL THEN
        RETURN;
    END IF;
    -- The walk must take the index and keep going: no row passes the filter (the planner cannot
    -- tell), iterative scans without a tuple limit, IVFFlat probing every list.
    PERFORM set_config('enable_indexscan', 'on', true), set_config('enable_seqscan', 'off', true),
            set_config('enable_sort', 'off', true), set_config('hnsw.ef_search', '1000', true),
            set_config('ivfflat.probes', '32768', true);
    IF vecpg.pgvector_version() >= '{0,8}' THEN
        PERFORM set_config('hnsw.iterative_scan', 'relaxed_order', true),
                set_config('hnsw.max_scan_tuples', '2147483647', true),
                set_config('hnsw.scan_mem_multiplier', '1000', true),
                set_config('ivfflat.iterative_scan', 'relaxed_order', true),
                set_config('ivfflat.max_probes', '32768', true);
    END IF;
    EXECUTE 'EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ' || vecpg.nearest_sql(c, 'd.id', 'md5(d.id) = ''''', '$1', '1')
        INTO plan USING probe;
    part := 'vector index';
    accesses := (plan->0->'Plan'->>'Shared Hit Blocks')::bigint + (plan->0->'Plan'->>'Shared Read Blocks')::bigint;
    pages_read := (plan->0->'Plan'->>'Shared Read Blocks')::bigint;
    RETURN NEXT;
END
$function$;
COMMENT ON FUNCTION vecpg.prewarm(text) IS 'Read a collection''s table and vector index into shared buffers (pg_prewarm''s job without it)';

CREATE OR REPLACE FUNCTION vecpg.rag_passages(collection text, query_embedding vector, ids text[], per_document integer DEFAULT 3)
 RETURNS TABLE(id text, passage_no integer, passage text, relevance integer)
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
#variable_conflict use_column
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    chunks name := vecpg.chunk_table(collection);
BEGIN
    IF per_document IS NULL OR per_document NOT BETWEEN 1 AND 100 THEN
        RAISE EXCEPTION 'per_document must be between 1 and 100, got %', per_document USING ERRCODE = 'VP005';
    END IF;
    IF query_embedding IS NOT NULL THEN
        PERFORM vecpg.check_vector_query(c, query_embedding, 1);
    END IF;
    IF c.chunk_tokens IS NULL OR to_regclass(format('%I.%I', c.schema_name, chunks)) IS NULL THEN
        RETURN QUERY EXECUTE format('SELECT d.id, 1, d.content, 1 FROM %I.%I d WHERE d.id = ANY($1)',
                                    c.schema_name, c.table_name)
            USING ids;
        RETURN;
    END IF;
    RETURN QUERY EXECUTE format(
        $q$
        WITH docs AS MATERIALIZED (
            SELECT d.id, d.content, t.text,
                   -- where the content starts in the model's text (after the title and a space)
                   greatest(char_length(t.text) - char_length(rtrim(d.content, ' ')), 0) AS body
            FROM %1$I.%2$I d, LATERAL (SELECT vecpg.embedding_text(d.title, d.content) AS text) t
            WHERE d.id = ANY($1)
        ), ranked AS (
            SELECT ch.parent_id, greatest(ch.start_char, x.body) AS s, ch.end_char AS e,
                   row_number() OVER (PARTITION BY ch.parent_id ORDER BY %4$s, ch.chunk_no) AS r
            FROM %1$I.%3$I ch JOIN docs x ON x.id = ch.parent_id
        ), kept AS (  -- widened to whole sentences, at most 200 characters each way
            SELECT k.parent_id, k.r,
                   CASE WHEN b.head IS NOT NULL THEN k.s - char_length(b.head)
                        WHEN b.from_ = x.body THEN x.body  -- the content's first sentence
                        ELSE k.s END AS s,
                   k.e + coalesce(char_length(b.tail) - 1, 0) AS e
            FROM ranked k JOIN docs x ON x.id = k.parent_id,
                 LATERAL (SELECT greatest(k.s - 200, x.body) AS from_) w,
                 LATERAL (SELECT w.from_,
                                 -- what precedes the chunk since the last sentence end
                                 substring(substr(x.text, w.from_ + 1, k.s - w.from_)
                                           FROM '^.*[.!?]["'')\]]*\s+(.*)$') AS head,
                                 -- from the chunk's last character to the end of its sentence
                                 substring(substr(x.text, k.e, 201) FROM '^.*?[.!?]["'')\]]*(?=\s|$)') AS tail
                         ) b
            WHERE k.r <= $3 AND k.e > k.s
        ), marked AS (  -- a chunk starting past every earlier one's end (and its space) starts a passage
            SELECT k.*, CASE WHEN k.s <= max(k.e) OVER (PARTITION BY k.parent_id ORDER BY k.s, k.e
                                                          ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) + 1
                             THEN 0 ELSE 1 END AS starts
            FROM kept k
        ), grouped AS (
            SELECT m.*, sum(m.starts) OVER (PARTITION BY m.parent_id ORDER BY m.s, m.e) AS g FROM marked m
        ), merged AS (
            SELECT parent_id, min(s) AS s, max(e) AS e, min(r) AS r FROM grouped GROUP BY parent_id, g
        )
        SELECT x.id, (row_number() OVER (PARTITION BY x.id ORDER BY m.s))::integer,
               btrim(substr(x.text, m.s + 1, m.e - m.s)), m.r::integer
        FROM merged m JOIN docs x ON x.id = m.parent_id
        UNION ALL
        SELECT x.id, 1, x.content, 1 FROM docs x
        WHERE NOT EXISTS (SELECT FROM %1$I.%3$I ch WHERE ch.parent_id = x.id)
        $q$,
        c.schema_name, c.table_name, chunks,
        CASE WHEN query_embedding IS NULL THEN 'ch.chunk_no'
             ELSE format('ch.embedding OPERATOR(%I.%s) %s', vecpg.vector_schema(), vecpg.distance_operator(c.distance),
                         vecpg.stored_query(c, '$2')) END)
        USING ids, query_embedding, per_document;
END
$function$;
COMMENT ON FUNCTION vecpg.rag_passages(text,vector,text[],integer) IS 'Passages of documents for a question: the nearest chunks of each, merged in document order';

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
            SELECT ch.parent_id, ch.chunk_no, ch.content AS chunk, (ch.embedding %1$s %8$s)::double precision AS distance
            FROM %2$I.%4$I ch JOIN %2$I.%3$I d ON d.id = ch.parent_id
            WHERE d.embedding IS NOT NULL %5$s
            ORDER BY ch.embedding %1$s %8$s LIMIT $4
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
                          '$1', '$4', vecpg.rerank_factor(options)::text),
        vecpg.stored_query(c, '$1'))  -- the query in the chunks' type, as their index compares
        USING query_embedding, filter, k, candidates;
END
$function$;
COMMENT ON FUNCTION vecpg.search_chunks(text,vector,integer,jsonb,jsonb) IS 'k documents nearest to query_embedding by their best chunk, with that chunk as highlight';
