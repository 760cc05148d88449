-- 18_partitions.sql — collections partitioned by tenant (native PostgreSQL partitions).
--
-- A partitioned collection's table is LIST-partitioned on tenant_id. Its DEFAULT partition holds
-- every tenant without a partition of its own: for partition_by_tenant => 'hash' it is itself
-- HASH-partitioned on tenant_id into `partitions` tables, for 'list' it is one table. A big
-- tenant gets a partition of its own (give_tenant_partition): its rows leave the default for a
-- table attached FOR VALUES IN (tenant), in one transaction. Every partition has the parent's
-- indexes (vector, GIN, unique key), so a search for one tenant walks that tenant's partition.
--
-- A unique key of a partitioned table must hold the partition key: the table's is UNIQUE NULLS
-- NOT DISTINCT (tenant_id, id) (PostgreSQL 15+; rows without a tenant keep unique ids too), and
-- every upsert names it (vecpg.conflict_key); vecpg.partitioned_id keeps each id to one tenant,
-- so ids stay unique across the collection as in an unpartitioned one (the end of this file).

CREATE OR REPLACE FUNCTION vecpg.check_partitioning(partition_by_tenant text, partitions integer, server_version integer)
RETURNS void
LANGUAGE plpgsql IMMUTABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
BEGIN
    IF partition_by_tenant IS NULL THEN
        IF partitions IS NOT NULL THEN
            RAISE EXCEPTION 'partitions needs partition_by_tenant => ''hash''' USING ERRCODE = 'VP005';
        END IF;
        RETURN;
    END IF;
    IF partition_by_tenant NOT IN ('hash', 'list') THEN
        RAISE EXCEPTION 'invalid partition_by_tenant %: use hash or list', quote_literal(partition_by_tenant)
            USING ERRCODE = 'VP005';
    END IF;
    IF partition_by_tenant = 'list' AND partitions IS NOT NULL THEN
        RAISE EXCEPTION 'partitions applies to hash partitioning; a list-partitioned collection gets a partition '
                        'per tenant with give_tenant_partition' USING ERRCODE = 'VP005';
    END IF;
    IF partitions IS NOT NULL AND partitions NOT BETWEEN 1 AND 1024 THEN
        RAISE EXCEPTION 'invalid partitions %: must be between 1 and 1024', partitions USING ERRCODE = 'VP005';
    END IF;
    IF server_version < 150000 THEN
        RAISE EXCEPTION 'partitioning a collection by tenant needs PostgreSQL 15 or later (this server is %): '
                        'its unique key is UNIQUE NULLS NOT DISTINCT (tenant_id, id), which PostgreSQL 15 introduced',
                        server_version USING ERRCODE = 'VP005';
    END IF;
END
$$;
COMMENT ON FUNCTION vecpg.check_partitioning(text, integer, integer) IS
    'Refuse partitioning options that cannot work (kind, count, PostgreSQL before 15)';

-- The first partitions of a new partitioned collection table: one for the rows without a tenant,
-- and the DEFAULT (with its hash partitions). The rows without a tenant get their own because
-- the tenant policy reads them too (tenant_id IS NULL): in the default, a tenant's search would
-- open a partition of every other tenant's rows, and an iterative scan walk all of it (measured:
-- 100 ms instead of 3 for a tenant of 100,000 rows among 200,000).
CREATE OR REPLACE FUNCTION vecpg.create_default_partition(schema_name name, table_name text, kind text,
                                                          partitions integer)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
DECLARE
    short text := left(table_name, 48);
    n integer := coalesce(partitions, 8);
BEGIN
    EXECUTE format('CREATE TABLE %I.%I PARTITION OF %I.%I FOR VALUES IN (NULL)', schema_name, short || '_shared',
                   schema_name, table_name);
    EXECUTE format('CREATE TABLE %I.%I PARTITION OF %I.%I DEFAULT %s', schema_name, short || '_default',
                   schema_name, table_name, CASE WHEN kind = 'hash' THEN 'PARTITION BY HASH (tenant_id)' ELSE '' END);
    IF kind = 'hash' THEN
        FOR i IN 0 .. n - 1 LOOP
            EXECUTE format('CREATE TABLE %I.%I PARTITION OF %I.%I FOR VALUES WITH (MODULUS %s, REMAINDER %s)',
                           schema_name, short || '_h' || i, schema_name, short || '_default', n, i);
        END LOOP;
    END IF;
END
$$;

-- The main fork's size of a table or index, or of its partitions for a partitioned one (which
-- has no storage of its own; pg_partition_tree lists nothing for a relation that is not one).
CREATE OR REPLACE FUNCTION vecpg.tree_size(rel regclass)
RETURNS bigint
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT coalesce((SELECT sum(pg_relation_size(t.relid))::bigint FROM pg_partition_tree(rel) t),
                    pg_relation_size(rel))
$$;
COMMENT ON FUNCTION vecpg.tree_size(regclass) IS
    'Bytes of a table or index, summed over its partitions when it is partitioned';

CREATE OR REPLACE FUNCTION vecpg.tenant_partitioned(collection text)
RETURNS boolean
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT EXISTS (SELECT 1 FROM vecpg.collection c
                   JOIN pg_partitioned_table p ON p.partrelid = to_regclass(format('%I.%I', c.schema_name, c.table_name))
                   WHERE c.name = collection)
$$;
COMMENT ON FUNCTION vecpg.tenant_partitioned(text) IS 'Whether a collection''s table is partitioned by tenant';

-- What a search of a partitioned collection acting for a tenant adds to its WHERE clause (its
-- caller adds it only then): the tenant alone, which partition pruning reads to open that
-- tenant's partition and no other. The policy's own form also reads the rows without a tenant
-- (for callers without one), and those hash into one of the default's partitions: a search
-- there would walk another tenant's index (measured: 89 ms instead of 3). Empty for a collection
-- that shares rows without a tenant with every tenant (those are the tenant's rows too), and for
-- one that is not partitioned. Row-level security decides what is seen: this only narrows.
CREATE OR REPLACE FUNCTION vecpg.tenant_scope_sql(c vecpg.collection)
RETURNS text
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT CASE WHEN NOT c.shared_rows AND vecpg.tenant_partitioned(c.name)
                THEN 'AND d.tenant_id = vecpg.current_tenant()' ELSE '' END
$$;

-- The columns of the unique key an upsert names in ON CONFLICT.
CREATE OR REPLACE FUNCTION vecpg.conflict_key(collection text)
RETURNS text
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT CASE WHEN vecpg.tenant_partitioned(collection) THEN 'tenant_id, id' ELSE 'id' END
$$;
COMMENT ON FUNCTION vecpg.conflict_key(text) IS
    'The unique key of a collection''s rows: id, or tenant_id, id when it is partitioned by tenant';

CREATE OR REPLACE FUNCTION vecpg.tenant_partitions(collection text)
RETURNS TABLE (partition_name text, parent_name text, bound text, is_leaf boolean, level integer, row_estimate bigint)
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
BEGIN
    RETURN QUERY
    SELECT k.relname::text, p.relname::text, pg_get_expr(k.relpartbound, k.oid), t.isleaf, t.level,
           greatest(k.reltuples, 0)::bigint
    FROM pg_partition_tree(format('%I.%I', c.schema_name, c.table_name)::regclass) t
    JOIN pg_class k ON k.oid = t.relid
    LEFT JOIN pg_class p ON p.oid = t.parentrelid
    ORDER BY t.level, k.relname;
END
$$;
COMMENT ON FUNCTION vecpg.tenant_partitions(text) IS
    'The partitions of a collection partitioned by tenant: name, parent, bound, leaf or not, level';

-- Move a tenant's rows out of the DEFAULT partition into a partition of its own, in one
-- transaction: its table is made beside the parent, filled by one DELETE ... RETURNING from the
-- default, then attached FOR VALUES IN (tenant), which builds the parent's indexes on it (its
-- vector index included). The statements name partitions, not the collection table, so the
-- collection's statement triggers (keyword statistics, queue, mirror, audit) do not fire: the
-- documents did not change, only where they are stored. The default stays locked against writes
-- (EXCLUSIVE) from the start, so no row of the tenant lands there meanwhile; reads go on until
-- the attach, which takes it ACCESS EXCLUSIVE for its check. Returns the rows moved; 0 when the
-- tenant has its partition already.
CREATE OR REPLACE FUNCTION vecpg.give_tenant_partition(collection text, tenant text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    parent regclass := format('%I.%I', c.schema_name, c.table_name)::regclass;
    fallback regclass;
    part text := (left(c.table_name, 40) || '_t_' || left(md5(tenant), 12))::name::text;
    cols text;
    moved bigint;
BEGIN
    IF NOT vecpg.tenant_partitioned(collection) THEN
        RAISE EXCEPTION 'collection "%" is not partitioned by tenant: create it with partition_by_tenant', c.name
            USING ERRCODE = 'VP005';
    END IF;
    IF tenant IS NULL OR tenant = '' THEN
        RAISE EXCEPTION 'a tenant is needed: rows without a tenant stay in the default partition'
            USING ERRCODE = 'VP005';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class k ON k.oid = i.inhrelid
               WHERE i.inhparent = parent AND pg_get_expr(k.relpartbound, k.oid) = format('FOR VALUES IN (%L)', tenant)) THEN
        RETURN 0;
    END IF;
    SELECT i.inhrelid INTO fallback FROM pg_inherits i JOIN pg_class k ON k.oid = i.inhrelid
    WHERE i.inhparent = parent AND pg_get_expr(k.relpartbound, k.oid) = 'DEFAULT';
    SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO cols
    FROM pg_attribute a WHERE a.attrelid = parent AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '';

    EXECUTE format('LOCK TABLE %s IN EXCLUSIVE MODE', fallback);
    EXECUTE format('CREATE TABLE %I.%I (LIKE %s INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING STORAGE '
                   'INCLUDING CONSTRAINTS, CHECK (tenant_id IS NOT NULL AND tenant_id = %L))',
                   c.schema_name, part, parent, tenant);
    EXECUTE format('WITH gone AS (DELETE FROM %s WHERE tenant_id = $1 RETURNING %s) INSERT INTO %I.%I (%s) SELECT %s FROM gone',
                   fallback, cols, c.schema_name, part, cols, cols) USING tenant;
    GET DIAGNOSTICS moved = ROW_COUNT;
    EXECUTE format('ALTER TABLE %s ATTACH PARTITION %I.%I FOR VALUES IN (%L)', parent, c.schema_name, part, tenant);
    PERFORM vecpg.own_partitions(c);
    RETURN moved;
END
$$;
COMMENT ON FUNCTION vecpg.give_tenant_partition(text, text) IS
    'Move a tenant''s rows out of the default partition into a partition of its own (with its indexes); rows moved';

-- Partitions belong to vecpg_admin like the collection table, so that any admin may build
-- their indexes and move tenants; no other role is granted them (reads and writes go through
-- the collection table and its row-level security).
CREATE OR REPLACE FUNCTION vecpg.own_partitions(c vecpg.collection)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
DECLARE
    part record;
BEGIN
    IF NOT pg_has_role('vecpg_admin', 'MEMBER') THEN
        RETURN;
    END IF;
    FOR part IN SELECT n.nspname, k.relname
                FROM pg_partition_tree(format('%I.%I', c.schema_name, c.table_name)::regclass) t
                JOIN pg_class k ON k.oid = t.relid JOIN pg_namespace n ON n.oid = k.relnamespace
                WHERE t.level > 0 LOOP
        EXECUTE format('ALTER TABLE %I.%I OWNER TO vecpg_admin', part.nspname, part.relname);
    END LOOP;
END
$$;

-- The tables of a partitioned collection, each with the name its part of index `top` gets.
CREATE OR REPLACE FUNCTION vecpg.partition_index_tree(c vecpg.collection, top text)
RETURNS TABLE (relid oid, parentrelid oid, isleaf boolean, level integer, nsp name, rel name, idx text)
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT t.relid, t.parentrelid, t.isleaf, t.level, n.nspname, k.relname,
           CASE WHEN t.level = 0 THEN top
                ELSE (left(k.relname, 44) || '_' || left(md5(top), 8) || '_vec')::name::text END
    FROM pg_partition_tree(format('%I.%I', c.schema_name, c.table_name)::regclass) t
    JOIN pg_class k ON k.oid = t.relid JOIN pg_namespace n ON n.oid = k.relnamespace
$$;

-- A vector index on a partitioned collection built without blocking writers: CREATE INDEX
-- CONCURRENTLY does not take a partitioned table, so the index is made ON ONLY each partitioned
-- table (invalid, no build), CONCURRENTLY on each leaf, then each leaf's index is attached to its
-- parent's, bottom up: the top one is valid once all are. Steps in order: (step, index, statement)
-- with step 'parent', 'leaf' or 'attach'; vecpg/index/builds.py runs them.
CREATE OR REPLACE FUNCTION vecpg.partition_index_steps(collection text, method text, params jsonb, named text)
RETURNS TABLE (step text, index_name text, statement text)
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    body text := vecpg.index_body(collection, method, params);
    top text := named;
    node record;
BEGIN
    FOR node IN SELECT * FROM vecpg.partition_index_tree(c, top) ORDER BY level, rel LOOP
        step := CASE WHEN node.isleaf THEN 'leaf' ELSE 'parent' END;
        index_name := node.idx;
        statement := format('CREATE INDEX %s%I ON %s%I.%I %s', CASE WHEN node.isleaf THEN 'CONCURRENTLY ' ELSE '' END,
                            node.idx, CASE WHEN node.isleaf THEN '' ELSE 'ONLY ' END, node.nsp, node.rel, body);
        RETURN NEXT;
    END LOOP;
    FOR node IN SELECT t.*, p.idx AS parent_idx FROM vecpg.partition_index_tree(c, top) t
                JOIN vecpg.partition_index_tree(c, top) p ON p.relid = t.parentrelid
                WHERE t.level > 0 ORDER BY t.level DESC, t.rel LOOP
        step := 'attach';
        index_name := node.idx;
        statement := format('ALTER INDEX %I.%I ATTACH PARTITION %I.%I', c.schema_name, node.parent_idx, node.nsp, node.idx);
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION vecpg.partition_index_steps(text, text, jsonb, text) IS
    'The statements of a vector index build on a partitioned collection that blocks no writer, in order';

-- A partitioned collection's ids, each held by one tenant (vecpg.partitioned_id): the statement
-- triggers of its writes keep the table, and refuse an id another tenant holds, so the embedding
-- queue and the mirror, which know a document by its id, never mix two tenants' documents. Two
-- writers of one id wait on its row there, and the second sees the first's tenant once it commits.
CREATE OR REPLACE FUNCTION vecpg.partitioned_ids()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
DECLARE
    coll text := TG_ARGV[0];
    clash text;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM vecpg.partitioned_id r WHERE r.collection = coll;
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        DELETE FROM vecpg.partitioned_id r USING old_rows o
        WHERE r.collection = coll AND r.id = o.id AND r.tenant_id IS NOT DISTINCT FROM o.tenant_id;
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' THEN  -- only rows whose id or tenant changed (an upsert keeps both)
        DELETE FROM vecpg.partitioned_id r USING old_rows o
        WHERE r.collection = coll AND r.id = o.id AND r.tenant_id IS NOT DISTINCT FROM o.tenant_id
          AND NOT EXISTS (SELECT FROM new_rows n WHERE n.id = o.id AND n.tenant_id IS NOT DISTINCT FROM o.tenant_id);
    END IF;
    INSERT INTO vecpg.partitioned_id (collection, id, tenant_id)
    SELECT coll, n.id, n.tenant_id FROM new_rows n ORDER BY n.id
    ON CONFLICT (collection, id) DO NOTHING;
    SELECT n.id INTO clash FROM new_rows n JOIN vecpg.partitioned_id r ON r.collection = coll AND r.id = n.id
    WHERE r.tenant_id IS DISTINCT FROM n.tenant_id LIMIT 1;
    IF clash IS NOT NULL THEN
        -- As row-level security refuses it in an unpartitioned collection (vecpg.PermissionDenied).
        RAISE EXCEPTION 'document id % belongs to another tenant of collection %: ids are unique across tenants',
            quote_literal(clash), coll USING ERRCODE = '42501';
    END IF;
    RETURN NULL;
END
$$;

-- A collection's part of it: the triggers on a partitioned collection, none on another.
CREATE OR REPLACE FUNCTION vecpg.partitioned_id_objects(collection text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
BEGIN
    IF NOT vecpg.tenant_partitioned(collection) THEN
        RETURN;
    END IF;
    PERFORM vecpg.statement_triggers(c, 'ids', 'vecpg.partitioned_ids', 'OLD TABLE AS old_rows NEW TABLE AS new_rows');
    EXECUTE format('DROP TRIGGER IF EXISTS ids_truncate ON %I.%I', c.schema_name, c.table_name);
    EXECUTE format('CREATE TRIGGER ids_truncate AFTER TRUNCATE ON %I.%I FOR EACH STATEMENT '
                   'EXECUTE FUNCTION vecpg.partitioned_ids(%L)', c.schema_name, c.table_name, c.name);
END
$$;
