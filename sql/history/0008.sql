-- Revision 0008's layer as a delta from 0009's (python -m vecpg.schema.freeze 0008):
-- applied after 0009's layer, it gives 0008's. Generated: never edit by hand.

-- Functions 0009 added.
DROP FUNCTION vecpg.add_document(text,text,text,text,jsonb), vecpg.build_settings(jsonb),
    vecpg.check_search_options(jsonb), vecpg.chunk_objects(text), vecpg.chunk_table(text),
    vecpg.claim_embeddings(text,integer,integer), vecpg.disable_chunking(text),
    vecpg.drop_stale_embedding(), vecpg.embedding_capture(),
    vecpg.embedding_failed(text,integer,text[],text,integer), vecpg.embedding_queue_objects(text),
    vecpg.embedding_status_rows(), vecpg.embedding_text(text,text),
    vecpg.enable_chunking(text,integer,integer), vecpg.index_built(text,jsonb),
    vecpg.index_ddl(text,text,jsonb,boolean,text), vecpg.index_expression(vecpg.collection,text),
    vecpg.index_info(text,text), vecpg.index_name(text,text,boolean),
    vecpg.index_quantization(vecpg.collection,text),
    vecpg.nearest_sql(vecpg.collection,text,text,text,text,text),
    vecpg.queue_missing_embeddings(text), vecpg.release_embeddings(text,integer,text[]),
    vecpg.rerank_factor(jsonb), vecpg.reset_search_defaults(text), vecpg.retry_embeddings(text),
    vecpg.scan_rows(vecpg.collection,integer,jsonb),
    vecpg.search_chunks(text,vector,integer,jsonb,jsonb),
    vecpg.search_options(vecpg.collection,jsonb,integer), vecpg.set_embedder(text,text),
    vecpg.set_search_defaults(text,jsonb,jsonb),
    vecpg.store_embeddings(text,integer,text[],bytea[],vector[],double precision,text[],integer[],integer[],integer[],text[],vector[]),
    vecpg.text_hash(text,text), vecpg.vector_opclass(text), vecpg.worker_lock_class();

CREATE OR REPLACE FUNCTION vecpg._int_param(params jsonb, key text, fallback integer, lo integer, hi integer)
 RETURNS integer
 LANGUAGE plpgsql
 IMMUTABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
DECLARE
    v jsonb := params->key;
BEGIN
    IF v IS NULL OR v = 'null'::jsonb THEN
        RETURN fallback;
    END IF;
    IF jsonb_typeof(v) <> 'number' OR (v #>> '{}')::numeric <> trunc((v #>> '{}')::numeric)
       OR (v #>> '{}')::numeric NOT BETWEEN lo AND hi THEN
        RAISE EXCEPTION '% must be an integer between % and %, got %', key, lo, hi, v
            USING ERRCODE = 'VP005';
    END IF;
    RETURN (v #>> '{}')::integer;
END
$function$;
COMMENT ON FUNCTION vecpg._int_param(jsonb,text,integer,integer,integer) IS NULL;

CREATE OR REPLACE FUNCTION vecpg._raise_build_resources(params jsonb)
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
DECLARE
    mem text := coalesce(params->>'maintenance_work_mem', '1GB');
    workers integer;
BEGIN
    IF pg_size_bytes(mem) > pg_size_bytes(current_setting('maintenance_work_mem')) THEN
        PERFORM set_config('maintenance_work_mem', mem, true);
    END IF;
    workers := coalesce((params->>'parallel_workers')::integer,
                        least(current_setting('max_parallel_workers')::integer, 7));
    PERFORM set_config('max_parallel_maintenance_workers', workers::text, true);
END
$function$;
COMMENT ON FUNCTION vecpg._raise_build_resources(jsonb) IS NULL;

CREATE OR REPLACE FUNCTION vecpg.apply_search_options(options jsonb)
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
DECLARE
    k text;
    scan text;
BEGIN
    options := coalesce(options, '{}');
    IF jsonb_typeof(options) <> 'object' THEN
        RAISE EXCEPTION 'search options must be a JSON object' USING ERRCODE = 'VP005';
    END IF;
    FOR k IN SELECT jsonb_object_keys(options) LOOP
        IF k NOT IN ('ef_search', 'probes', 'iterative_scan', 'max_scan_tuples') THEN
            RAISE EXCEPTION 'unknown search option %: use ef_search, probes, iterative_scan or max_scan_tuples',
                quote_literal(k) USING ERRCODE = 'VP005';
        END IF;
    END LOOP;
    IF options ? 'ef_search' THEN
        PERFORM set_config('hnsw.ef_search', vecpg._int_param(options, 'ef_search', 40, 1, 1000)::text, true);
    END IF;
    IF options ? 'probes' THEN
        PERFORM set_config('ivfflat.probes', vecpg._int_param(options, 'probes', 1, 1, 32768)::text, true);
    END IF;
    IF options ? 'iterative_scan' OR options ? 'max_scan_tuples' THEN
        IF vecpg.pgvector_version() < '{0,8}' THEN
            RAISE EXCEPTION 'iterative index scans need pgvector 0.8 or newer' USING ERRCODE = 'VP005';
        END IF;
    END IF;
    IF options ? 'iterative_scan' THEN
        scan := options->>'iterative_scan';
        IF scan NOT IN ('off', 'relaxed_order', 'strict_order') THEN
            RAISE EXCEPTION 'iterative_scan must be off, relaxed_order or strict_order' USING ERRCODE = 'VP005';
        END IF;
        PERFORM set_config('hnsw.iterative_scan', scan, true);
        -- IVFFlat has no strict order; relaxed is its closest match.
        PERFORM set_config('ivfflat.iterative_scan', CASE scan WHEN 'off' THEN 'off' ELSE 'relaxed_order' END, true);
    END IF;
    IF options ? 'max_scan_tuples' THEN
        PERFORM set_config('hnsw.max_scan_tuples',
                           vecpg._int_param(options, 'max_scan_tuples', 20000, 1, 2147483647)::text, true);
    END IF;
END
$function$;
COMMENT ON FUNCTION vecpg.apply_search_options(jsonb) IS 'Set ef_search, probes and iterative scan options for the current transaction only';

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
END
$function$;
COMMENT ON FUNCTION vecpg.collection_created(text) IS 'Give a collection table everything vecpg adds to its columns: storage, triggers, policies, grants';

CREATE OR REPLACE FUNCTION vecpg.create_index(collection text, method text DEFAULT 'hnsw'::text, params jsonb DEFAULT '{}'::jsonb)
 RETURNS text
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    opclass text;
    with_clause text;
    rows bigint;
    lists integer;
    m integer;
    efc integer;
    unknown text;
    allowed text[];
    index_name text;
BEGIN
    method := lower(coalesce(method, 'hnsw'));
    params := coalesce(params, '{}');
    IF jsonb_typeof(params) <> 'object' THEN
        RAISE EXCEPTION 'index params must be a JSON object' USING ERRCODE = 'VP005';
    END IF;
    IF method = 'hnsw' THEN
        allowed := ARRAY['m', 'ef_construction', 'maintenance_work_mem', 'parallel_workers'];
    ELSIF method = 'ivfflat' THEN
        allowed := ARRAY['lists', 'maintenance_work_mem', 'parallel_workers'];
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

    opclass := format('%I.%I', vecpg.vector_schema(),
                      CASE c.distance WHEN 'cosine' THEN 'vector_cosine_ops'
                                      WHEN 'l2' THEN 'vector_l2_ops'
                                      ELSE 'vector_ip_ops' END);
    PERFORM vecpg.drop_index(collection);
    PERFORM vecpg._raise_build_resources(params);
    index_name := left(c.table_name, 48) || '_embedding_' || method;
    EXECUTE format('CREATE INDEX %I ON %I.%I USING %s (embedding %s) WITH (%s)',
                   index_name, c.schema_name, c.table_name, method, opclass, with_clause);
    RETURN index_name;
END
$function$;
COMMENT ON FUNCTION vecpg.create_index(text,text,jsonb) IS 'Build the vector index of a collection (hnsw: m, ef_construction; ivfflat: lists), replacing any other';

CREATE OR REPLACE FUNCTION vecpg.drop_collection(collection text, if_exists boolean DEFAULT false)
 RETURNS boolean
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
#variable_conflict use_variable
DECLARE
    c vecpg.collection;
BEGIN
    IF if_exists AND NOT EXISTS (SELECT 1 FROM vecpg.collection AS x WHERE x.name = collection) THEN
        RETURN false;
    END IF;
    c := vecpg.get_collection(collection);
    EXECUTE format('DROP TABLE IF EXISTS %I.%I', c.schema_name, c.table_name);
    DELETE FROM vecpg.collection AS x WHERE x.name = c.name;
    RETURN true;
END
$function$;
COMMENT ON FUNCTION vecpg.drop_collection(text,boolean) IS 'Drop a collection and its documents';

CREATE OR REPLACE FUNCTION vecpg.drop_index(collection text)
 RETURNS integer
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    ix record;
    dropped integer := 0;
BEGIN
    FOR ix IN SELECT * FROM vecpg.index_info(collection) LOOP
        EXECUTE format('DROP INDEX %I.%I', c.schema_name, ix.index_name);
        dropped := dropped + 1;
    END LOOP;
    RETURN dropped;
END
$function$;
COMMENT ON FUNCTION vecpg.drop_index(text) IS 'Drop the vector index of a collection; returns how many were dropped';

CREATE OR REPLACE FUNCTION vecpg.hybrid_search(collection text, query text, query_embedding vector, k integer, filter jsonb DEFAULT '{}'::jsonb, options jsonb DEFAULT '{}'::jsonb)
 RETURNS TABLE(id text, title text, content text, metadata jsonb, score double precision, vector_rank integer, vector_score double precision, keyword_rank integer, keyword_score double precision)
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    opts jsonb := coalesce(options, '{}');
    method text := coalesce(opts->>'method', 'adaptive');
    candidates integer;
    rrf_k double precision := coalesce((opts->>'rrf_k')::double precision, 60);
    w_vector double precision;
    w_keyword double precision;
    max_postings integer;
    ef_search integer;
    vector_opts jsonb;
    keyword_opts jsonb;
    unknown text;
    predicate text;
    p record;
BEGIN
    PERFORM vecpg.check_vector_query(c, query_embedding, k);
    IF jsonb_typeof(opts) <> 'object' THEN
        RAISE EXCEPTION 'hybrid search options must be a JSON object' USING ERRCODE = 'VP005';
    END IF;
    SELECT string_agg(key, ', ') INTO unknown FROM jsonb_object_keys(opts) AS key
    WHERE key NOT IN ('method', 'candidates', 'rrf_k', 'vector_weight', 'keyword_weight',
                      'ef_search', 'probes', 'iterative_scan', 'max_scan_tuples', 'k1', 'b', 'ranking',
                      'max_candidates', 'max_postings', 'keyword_index');
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'unknown hybrid search option(s): %', unknown USING ERRCODE = 'VP005';
    END IF;
    IF method NOT IN ('adaptive', 'rrf', 'convex') THEN
        RAISE EXCEPTION 'hybrid method must be adaptive, rrf or convex, got %', quote_literal(method)
            USING ERRCODE = 'VP005';
    END IF;
    candidates := vecpg._int_param(opts, 'candidates', least(4 * k, 1000), k, 1000);
    max_postings := vecpg._int_param(opts, 'max_postings', 800, 1, 1000000);
    w_vector := coalesce((opts->>'vector_weight')::double precision, CASE method WHEN 'convex' THEN 0.7 ELSE 1 END);
    w_keyword := coalesce((opts->>'keyword_weight')::double precision, CASE method WHEN 'convex' THEN 0.3 ELSE 1 END);
    IF w_vector < 0 OR w_keyword < 0 OR rrf_k <= 0 THEN
        RAISE EXCEPTION 'weights must be >= 0 and rrf_k > 0' USING ERRCODE = 'VP005';
    END IF;
    IF jsonb_typeof(opts->'keyword_index') NOT IN ('boolean', 'null') THEN
        RAISE EXCEPTION 'keyword_index must be true or false' USING ERRCODE = 'VP005';
    END IF;
    predicate := vecpg.compile_filter(coalesce(filter, '{}'), '$1', 'd');

    vector_opts := (SELECT coalesce(jsonb_object_agg(key, value), '{}') FROM jsonb_each(opts)
                    WHERE key IN ('ef_search', 'probes', 'iterative_scan', 'max_scan_tuples'));
    -- An HNSW scan returns at most ef_search rows: the vector list needs `candidates` of them.
    IF NOT vector_opts ? 'ef_search' THEN
        vector_opts := vector_opts || jsonb_build_object('ef_search', candidates);
    END IF;
    IF vecpg.rows_filtered(predicate) AND NOT vector_opts ? 'iterative_scan' AND vecpg.pgvector_version() >= '{0,8}' THEN
        vector_opts := vector_opts || '{"iterative_scan": "relaxed_order"}';
    END IF;
    PERFORM vecpg.apply_search_options(vector_opts);
    keyword_opts := (SELECT coalesce(jsonb_object_agg(key, value), '{}') FROM jsonb_each(opts)
                     WHERE key IN ('k1', 'b', 'ranking', 'max_candidates'));

    IF coalesce((opts->>'keyword_index')::boolean, true) AND vecpg.uses_keyword_index(c, query, filter, keyword_opts) THEN
        p := vecpg.keyword_plan(c, NULL, keyword_opts);  -- checks the keyword options as the exact path would
        ef_search := vecpg._int_param(vector_opts, 'ef_search', candidates, 1, 1000);
        RETURN QUERY EXECUTE format('SELECT * FROM vecpg_postings.%I($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)',
                                    c.name)
            USING query, query_embedding, candidates, method, w_vector, w_keyword, rrf_k, k, max_postings,
                  coalesce((keyword_opts->>'k1')::double precision, 0.9), coalesce((keyword_opts->>'b')::double precision, 0.4),
                  ef_search, vector_opts->>'iterative_scan';
        RETURN;
    END IF;
    p := vecpg.keyword_plan(c, query, keyword_opts);
    RETURN QUERY EXECUTE vecpg.hybrid_sql(c, predicate, vecpg.keyword_list_sql(c, p.match, p.required, p.score_sql, predicate, '$3'))
        USING filter, query_embedding, candidates, method, w_vector, w_keyword, rrf_k, k;
END
$function$;
COMMENT ON FUNCTION vecpg.hybrid_search(text,text,vector,integer,jsonb,jsonb) IS 'Vector and BM25 keyword lists fused in one statement (method adaptive, rrf or convex); the keyword list comes from the keyword index when the collection has one';

CREATE OR REPLACE FUNCTION vecpg.index_info(collection text)
 RETURNS TABLE(index_name text, method text, definition text, size_bytes bigint)
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
BEGIN
    RETURN QUERY
    SELECT i.relname::text, am.amname::text, pg_get_indexdef(i.oid), pg_relation_size(i.oid)
    FROM pg_index x
    JOIN pg_class i ON i.oid = x.indexrelid
    JOIN pg_am am ON am.oid = i.relam
    WHERE x.indrelid = format('%I.%I', c.schema_name, c.table_name)::regclass
      AND am.amname IN ('hnsw', 'ivfflat')
    ORDER BY 1;
END
$function$;
COMMENT ON FUNCTION vecpg.index_info(text) IS 'Vector indexes of a collection with their sizes';

CREATE OR REPLACE FUNCTION vecpg.rebuild_index(collection text)
 RETURNS integer
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    ix record;
    rebuilt integer := 0;
BEGIN
    PERFORM vecpg._raise_build_resources('{}');
    FOR ix IN SELECT * FROM vecpg.index_info(collection) LOOP
        EXECUTE format('REINDEX INDEX %I.%I', c.schema_name, ix.index_name);
        rebuilt := rebuilt + 1;
    END LOOP;
    RETURN rebuilt;
END
$function$;
COMMENT ON FUNCTION vecpg.rebuild_index(text) IS 'Rebuild the vector index of a collection in place';

CREATE OR REPLACE FUNCTION vecpg.search(collection text, query_embedding vector, k integer, filter jsonb DEFAULT '{}'::jsonb, options jsonb DEFAULT '{}'::jsonb)
 RETURNS TABLE(id text, title text, content text, metadata jsonb, distance double precision, score double precision)
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    predicate text;
    op text;
    score text;
    query text;
BEGIN
    PERFORM vecpg.check_vector_query(c, query_embedding, k);
    predicate := vecpg.compile_filter(coalesce(filter, '{}'), '$2', 'd');
    options := coalesce(options, '{}');
    -- A filter applied after an index scan would leave fewer than k rows: pgvector 0.8's
    -- iterative scans read on until k rows pass. (The planner may also pick an exact scan
    -- through the metadata index when it expects few rows to match.)
    IF vecpg.rows_filtered(predicate) AND NOT options ? 'iterative_scan' AND vecpg.pgvector_version() >= '{0,8}' THEN
        options := options || '{"iterative_scan": "relaxed_order"}';
    END IF;
    -- An HNSW scan returns at most ef_search rows: a larger k raises it for this statement.
    IF NOT options ? 'ef_search' AND k > coalesce(nullif(current_setting('hnsw.ef_search', true), '')::integer, 40) THEN
        options := options || jsonb_build_object('ef_search', k);
    END IF;
    PERFORM vecpg.apply_search_options(options);

    op := format('OPERATOR(%I.%s)', vecpg.vector_schema(), vecpg.distance_operator(c.distance));
    score := CASE c.distance WHEN 'cosine' THEN '1 - distance'
                             WHEN 'ip' THEN '-distance'
                             ELSE 'NULL::double precision' END;
    -- No predicate at all for an empty filter: even "true" can change the planner's estimates.
    query := format(
        'SELECT d.id, d.title, d.content, d.metadata, (d.embedding %1$s $1)::double precision AS distance '
        'FROM %2$I.%3$I d WHERE d.embedding IS NOT NULL %4$s ORDER BY d.embedding %1$s $1 LIMIT $3',
        op, c.schema_name, c.table_name,
        CASE WHEN predicate = 'true' THEN '' ELSE 'AND (' || predicate || ')' END);
    -- Relaxed iterative scans may return rows slightly out of order: sort the k rows again.
    RETURN QUERY EXECUTE format(
        'SELECT s.id, s.title, s.content, s.metadata, s.distance, %s FROM (%s) s ORDER BY s.distance',
        score, query)
        USING query_embedding, filter, k;
END
$function$;
COMMENT ON FUNCTION vecpg.search(text,vector,integer,jsonb,jsonb) IS 'k nearest documents of a collection to query_embedding that match the filter';

CREATE OR REPLACE FUNCTION vecpg.vector_list_sql(c vecpg.collection, predicate text, OUT cte text, OUT similarity text)
 RETURNS record
 LANGUAGE sql
 STABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
    SELECT format(
        $q$
        v AS MATERIALIZED (
            SELECT d.id, (d.embedding %1$s $2)::double precision AS distance
            FROM %2$I.%3$I d WHERE d.embedding IS NOT NULL %4$s
            ORDER BY d.embedding %1$s $2 LIMIT $3::integer
        )
        $q$,
        format('OPERATOR(%I.%s)', vecpg.vector_schema(), vecpg.distance_operator(c.distance)),
        c.schema_name, c.table_name,
        CASE WHEN predicate = 'true' THEN '' ELSE 'AND (' || predicate || ')' END),
        CASE c.distance WHEN 'cosine' THEN '1 - v.distance' ELSE '-v.distance' END
$function$;
COMMENT ON FUNCTION vecpg.vector_list_sql(vecpg.collection,text) IS NULL;

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
DO $existing$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT name FROM vecpg.collection ORDER BY name LOOP
        PERFORM vecpg.collection_created(c.name);
    END LOOP;
END
$existing$;
