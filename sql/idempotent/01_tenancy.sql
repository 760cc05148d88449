-- 01_tenancy.sql — row-level security per tenant, shared rows, the audit log's trigger functions
-- (the triggers and the statistics' policies are in 95_own_tables.sql).
--
-- The tenant is the transaction setting vecpg.tenant_id (set_config('vecpg.tenant_id', 'acme',
-- true)). A session without one sees only rows without a tenant, never all rows. Policies are
-- FORCEd, so they bind table owners too; only superusers and BYPASSRLS roles see past them.
-- BM25 statistics follow the rows they count, so scores use only documents the caller can see.

-- Row-level security calls it for every row a query reads, so it is written to be inlined (no
-- SET clause, which would make each call save and restore search_path: 1 µs a row, five times
-- the cost of the scan itself); every name in it is schema-qualified instead.
CREATE OR REPLACE FUNCTION vecpg.current_tenant()
RETURNS text
LANGUAGE sql STABLE SECURITY INVOKER
AS $$
    SELECT CASE WHEN pg_catalog.current_setting('vecpg.tenant_id', true) OPERATOR(pg_catalog.=) '' THEN NULL
                ELSE pg_catalog.current_setting('vecpg.tenant_id', true) END
$$;
COMMENT ON FUNCTION vecpg.current_tenant() IS 'The tenant of the current transaction (vecpg.tenant_id), or NULL';

CREATE OR REPLACE FUNCTION vecpg.shares_rows(collection text)
RETURNS boolean
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT coalesce((SELECT c.shared_rows FROM vecpg.collection c WHERE c.name = collection), false)
$$;

-- Tenants whose statistics the caller's rows come from: NULL means every tenant.
CREATE OR REPLACE FUNCTION vecpg.visible_tenant_keys()
RETURNS text[]
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT CASE WHEN coalesce(current_setting('vecpg.tenant_id', true), '') = '' THEN NULL
                ELSE ARRAY[current_setting('vecpg.tenant_id', true), ''] END
$$;

-- Row-level security for one collection: policies per command, grants per role, ownership by
-- vecpg_admin (so that any admin may build its indexes).
CREATE OR REPLACE FUNCTION vecpg.apply_tenancy(collection text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
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
    -- A collection partitioned by tenant: the same rows in a form partition pruning reads (a CASE
    -- it cannot), so a tenant's search opens its partition alone (18_partitions.sql), and the
    -- planner reads each partition's statistics for its estimate.
    IF vecpg.tenant_partitioned(collection) THEN
        own := '(tenant_id = vecpg.current_tenant() OR (vecpg.current_tenant() IS NULL AND tenant_id IS NULL))';
    END IF;
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
    PERFORM vecpg.own_partitions(c);  -- 18_partitions.sql
END
$$;
COMMENT ON FUNCTION vecpg.apply_tenancy(text) IS
    'Row-level security policies, audit triggers and grants for a collection';

CREATE OR REPLACE FUNCTION vecpg.set_shared_rows(collection text, shared boolean)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
    PERFORM vecpg.get_collection(collection);
    UPDATE vecpg.collection AS x SET shared_rows = coalesce(shared, false) WHERE x.name = collection;
    PERFORM vecpg.apply_tenancy(collection);
END
$$;
COMMENT ON FUNCTION vecpg.set_shared_rows(text, boolean) IS
    'Whether rows without a tenant are shared, read-only documents visible to every tenant';

-- SECURITY DEFINER so that writers need no privilege on the log (and cannot forge entries);
-- the pinned search_path below applies to it like to every vecpg function. It writes only
-- what the statement did: the operation, the collection, the ids and how many, and the API key
-- of `vecpg serve` the statement ran for (the transaction's vecpg.api_key setting).
CREATE OR REPLACE FUNCTION vecpg.audit_write()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO vecpg.audit_log (tenant, operation, collection, ids, row_count, api_key)
        SELECT vecpg.current_tenant(), TG_OP, TG_ARGV[0], coalesce(array_agg(o.id ORDER BY o.id), '{}'), count(*),
               nullif(current_setting('vecpg.api_key', true), '')
        FROM old_rows o HAVING count(*) > 0;
    ELSE
        INSERT INTO vecpg.audit_log (tenant, operation, collection, ids, row_count, api_key)
        SELECT vecpg.current_tenant(), TG_OP, TG_ARGV[0], coalesce(array_agg(n.id ORDER BY n.id), '{}'), count(*),
               nullif(current_setting('vecpg.api_key', true), '')
        FROM new_rows n HAVING count(*) > 0;
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION vecpg.audit_append_only()
RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'vecpg.audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
