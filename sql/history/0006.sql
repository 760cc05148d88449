-- Revision 0006's layer as a delta from 0007's (python -m vecpg.schema.freeze 0006):
-- applied after 0007's layer, it gives 0006's. Generated: never edit by hand.

-- Functions 0007 added.
DROP FUNCTION vecpg.keyword_index_objects(text), vecpg.keyword_index_serves(text,jsonb,jsonb),
    vecpg.keyword_stats_triggers(text), vecpg.statement_triggers(vecpg.collection,text,text,text),
    vecpg.store_inline(text);

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
        IF (SELECT string_to_array(extversion, '.')::int[] < '{0,8}' FROM pg_extension WHERE extname = 'vector') THEN
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
    FOREACH policy IN ARRAY ARRAY['insert', 'update', 'delete'] LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I.%I', 'audit_' || policy, c.schema_name, c.table_name);
        EXECUTE format('CREATE TRIGGER %I AFTER %s ON %I.%I REFERENCING %s FOR EACH STATEMENT '
                       'EXECUTE FUNCTION vecpg.audit_write(%L)',
                       'audit_' || policy, policy, c.schema_name, c.table_name,
                       CASE policy WHEN 'insert' THEN 'NEW TABLE AS new_rows'
                                   WHEN 'delete' THEN 'OLD TABLE AS old_rows'
                                   ELSE 'NEW TABLE AS new_rows' END, c.name);
    END LOOP;
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

CREATE OR REPLACE FUNCTION vecpg.bm25_sql(lexemes text[], idfs double precision[], k1 double precision, b double precision, avgdl double precision, fts text DEFAULT 'v.fts'::text)
 RETURNS text
 LANGUAGE sql
 IMMUTABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
    WITH norm AS (
        SELECT format('(%L::float8 + %L::float8 * length(%s))', k1 * (1 - b), k1 * b / avgdl, fts) AS sql
    ),
    parts AS (
        SELECT t.i - 1 AS i,
               format('%L::float8 * (1 - %s / (round(1 / ((1 - ts_rank(''{1,1,1,1}'', %s, %L::tsquery)::float8) '
                      '* 1.6449340668482264) - 0.5) + %s))',
                      t.idf * (k1 + 1), norm.sql, fts, vecpg.any_lexeme_query(ARRAY[t.lexeme])::text, norm.sql) AS sql
        FROM unnest(lexemes, idfs) WITH ORDINALITY AS t(lexeme, idf, i), norm
    ),
    groups AS (
        SELECT p.i / 64 AS g, '(' || string_agg(p.sql, ' + ' ORDER BY p.i) || ')' AS sql FROM parts p GROUP BY 1
    ),
    supergroups AS (
        SELECT g.g / 64 AS s, '(' || string_agg(g.sql, ' + ' ORDER BY g.g) || ')' AS sql FROM groups g GROUP BY 1
    )
    SELECT coalesce(string_agg(s.sql, ' + ' ORDER BY s.s), '0') FROM supergroups s
$function$;
COMMENT ON FUNCTION vecpg.bm25_sql(text[],double precision[],double precision,double precision,double precision,text) IS NULL;

CREATE OR REPLACE FUNCTION vecpg.collection_created(collection text)
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
BEGIN
    PERFORM vecpg.store_fts_inline(collection);
    PERFORM vecpg.store_vectors_inline(collection);
    PERFORM vecpg.refresh_keyword_stats(collection);
    PERFORM vecpg.apply_tenancy(collection);
END
$function$;
COMMENT ON FUNCTION vecpg.collection_created(text) IS NULL;

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
    event text;
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

    -- Named after the bm25_* triggers, so they fire after them (by name) and see the new totals.
    FOREACH event IN ARRAY ARRAY['insert', 'update', 'delete'] LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I.%I', 'postings_' || event, c.schema_name, c.table_name);
        EXECUTE format('CREATE TRIGGER %I AFTER %s ON %I.%I REFERENCING %s FOR EACH STATEMENT '
                       'EXECUTE FUNCTION vecpg.postings_track(%L)',
                       'postings_' || event, event, c.schema_name, c.table_name,
                       CASE event WHEN 'insert' THEN 'NEW TABLE AS new_rows'
                                  WHEN 'delete' THEN 'OLD TABLE AS old_rows'
                                  ELSE 'OLD TABLE AS old_rows NEW TABLE AS new_rows' END,
                       c.name);
    END LOOP;
    PERFORM vecpg.create_keyword_search_function(c);
    RETURN written;
END
$function$;
COMMENT ON FUNCTION vecpg.enable_keyword_index(text) IS 'Create or rebuild a collection''s impact-ordered keyword index (fast hybrid search); returns postings written';

CREATE OR REPLACE FUNCTION vecpg.fuse(vector_ids text[], vector_scores double precision[], keyword_ids text[], keyword_scores double precision[], method text, vector_weight double precision, keyword_weight double precision, rrf_k double precision, k integer)
 RETURNS TABLE(id text, score double precision, vector_rank integer, vector_score double precision, keyword_rank integer, keyword_score double precision)
 LANGUAGE plpgsql
 STABLE
 SET plan_cache_mode TO 'force_generic_plan'
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
        #variable_conflict use_column
        BEGIN
            RETURN QUERY
            WITH vr AS (
                SELECT u.id, u.sim, u.r::integer AS r FROM unnest($1, $2) WITH ORDINALITY AS u(id, sim, r)
            ),
            kr AS (
                SELECT u.id, u.sim, u.r::integer AS r FROM unnest($3, $4) WITH ORDINALITY AS u(id, sim, r)
            ),
            
        joined AS (
            SELECT coalesce(vr.id, kr.id) AS id, vr.r AS vr, vr.sim AS vs, kr.r AS kr, kr.sim AS ks,
                   -- aggregates over each list (NULLs, i.e. the other list's documents, are ignored)
                   avg(vr.sim) OVER () AS v_mean, stddev_pop(vr.sim) OVER () AS v_sd,
                   min(vr.sim) OVER () AS v_min, max(vr.sim) OVER () AS v_max,
                   avg(kr.sim) OVER () AS k_mean, stddev_pop(kr.sim) OVER () AS k_sd,
                   min(kr.sim) OVER () AS k_min, max(kr.sim) OVER () AS k_max
            FROM vr FULL JOIN kr ON vr.id = kr.id
        ),
        weighed AS (
            SELECT j.*,
                   $6::float8 * coalesce((j.v_max - j.v_mean) / nullif(j.v_sd, 0), 0) AS v_conf,
                   $7::float8 * coalesce((j.k_max - j.k_mean) / nullif(j.k_sd, 0), 0) AS k_conf
            FROM joined j
        ),
        fused AS (
            SELECT w.id, w.vr, w.vs, w.kr, w.ks,
                   CASE $5::text
                   WHEN 'adaptive' THEN
                       coalesce(w.v_conf / nullif(w.v_conf + w.k_conf, 0), 0.5)
                           * coalesce((coalesce(w.vs, w.v_min) - w.v_mean) / nullif(w.v_sd, 0), 0)
                     + coalesce(w.k_conf / nullif(w.v_conf + w.k_conf, 0), 0.5)
                           * coalesce((coalesce(w.ks, w.k_min) - w.k_mean) / nullif(w.k_sd, 0), 0)
                   WHEN 'rrf' THEN
                       coalesce($6::float8 / ($8::float8 + w.vr), 0) + coalesce($7::float8 / ($8::float8 + w.kr), 0)
                   ELSE
                       $6::float8 * coalesce((w.vs - w.v_min) / nullif(w.v_max - w.v_min, 0), CASE WHEN w.vr IS NULL THEN 0 ELSE 1 END)
                     + $7::float8 * coalesce((w.ks - w.k_min) / nullif(w.k_max - w.k_min, 0), CASE WHEN w.kr IS NULL THEN 0 ELSE 1 END)
                   END AS fused
            FROM weighed w
            ORDER BY fused DESC, w.id
            LIMIT $9::integer
        )
        
            SELECT f.id, f.fused, f.vr, f.vs, f.kr, f.ks FROM fused f ORDER BY f.fused DESC, f.id;
        END
        $function$;
COMMENT ON FUNCTION vecpg.fuse(text[],double precision[],text[],double precision[],text,double precision,double precision,double precision,integer) IS 'The k best of two ranked lists fused (method adaptive, rrf or convex; see vecpg.hybrid_search)';

CREATE OR REPLACE FUNCTION vecpg.pin_search_paths()
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid::regprocedure FROM pg_proc p WHERE p.pronamespace = 'vecpg'::regnamespace LOOP
        EXECUTE format('ALTER FUNCTION %s SET search_path = pg_catalog, %I, pg_temp', f, vecpg.vector_schema());
    END LOOP;
END
$function$;
COMMENT ON FUNCTION vecpg.pin_search_paths() IS NULL;

CREATE OR REPLACE FUNCTION vecpg.refresh_keyword_stats(collection text)
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    event text;
    transition text;
BEGIN
    FOREACH event IN ARRAY ARRAY['insert', 'update', 'delete'] LOOP
        transition := CASE event WHEN 'insert' THEN 'NEW TABLE AS new_rows'
                                 WHEN 'delete' THEN 'OLD TABLE AS old_rows'
                                 ELSE 'OLD TABLE AS old_rows NEW TABLE AS new_rows' END;
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I.%I', 'bm25_' || event, c.schema_name, c.table_name);
        EXECUTE format('CREATE TRIGGER %I AFTER %s ON %I.%I REFERENCING %s FOR EACH STATEMENT '
                       'EXECUTE FUNCTION vecpg.bm25_track(%L)',
                       'bm25_' || event, event, c.schema_name, c.table_name, transition, c.name);
    END LOOP;
    DELETE FROM vecpg.bm25_df AS s WHERE s.collection = c.name;
    DELETE FROM vecpg.bm25_totals AS t WHERE t.collection = c.name;
    EXECUTE format(
        'INSERT INTO vecpg.bm25_df (collection, tenant_key, lexeme, df) '
        'SELECT %L, coalesce(d.tenant_id, ''''), u.lexeme, count(*) FROM %I.%I d, unnest(d.fts) u GROUP BY 2, 3',
        c.name, c.schema_name, c.table_name);
    EXECUTE format(
        'INSERT INTO vecpg.bm25_totals (collection, tenant_key, n_docs, total_len) '
        'SELECT %L, coalesce(d.tenant_id, ''''), count(*), sum(length(d.fts)) FROM %I.%I d GROUP BY 2',
        c.name, c.schema_name, c.table_name);
END
$function$;
COMMENT ON FUNCTION vecpg.refresh_keyword_stats(text) IS 'Install BM25 statistics triggers on a collection and recompute its statistics';

CREATE OR REPLACE FUNCTION vecpg.store_fts_inline(collection text)
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
BEGIN
    -- Applies to rows written from now on; VACUUM FULL moves the existing ones.
    EXECUTE format('ALTER TABLE %I.%I ALTER COLUMN fts SET STORAGE MAIN', c.schema_name, c.table_name);
END
$function$;
COMMENT ON FUNCTION vecpg.store_fts_inline(text) IS NULL;
REVOKE ALL ON FUNCTION vecpg.store_fts_inline(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg.store_fts_inline(text) TO vecpg_admin;

CREATE OR REPLACE FUNCTION vecpg.store_vectors_inline(collection text)
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
BEGIN
    EXECUTE format('ALTER TABLE %I.%I ALTER COLUMN embedding SET STORAGE MAIN', c.schema_name, c.table_name);
END
$function$;
COMMENT ON FUNCTION vecpg.store_vectors_inline(text) IS NULL;
REVOKE ALL ON FUNCTION vecpg.store_vectors_inline(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION vecpg.store_vectors_inline(text) TO vecpg_admin;

CREATE OR REPLACE FUNCTION vecpg.uses_keyword_index(c vecpg.collection, query text, filter jsonb, options jsonb)
 RETURNS boolean
 LANGUAGE sql
 STABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
    SELECT vecpg.keyword_index(c) IS NOT NULL
       AND coalesce(filter, '{}') = '{}'
       AND NOT coalesce(query ~ '"|\mOR\M|(^|\s)-\w', false)
       AND coalesce(options->>'ranking', 'bm25') = 'bm25'
       AND NOT coalesce(options ? 'max_candidates', false)
$function$;
COMMENT ON FUNCTION vecpg.uses_keyword_index(vecpg.collection,text,jsonb,jsonb) IS NULL;

-- finish: this revision's own, in place of the newer revision's
DO $regenerate$
DECLARE
    c vecpg.collection;
BEGIN
    FOR c IN SELECT * FROM vecpg.collection x WHERE vecpg.keyword_index(x) IS NOT NULL LOOP
        PERFORM vecpg.create_keyword_search_function(c);
    END LOOP;
END
$regenerate$;
