-- 02_collections.sql — creating and dropping collections, and the one list of what vecpg adds
-- to a collection table (collection_created), each area contributing its part.
--
-- A collection is a table (vecpg_data.<name> unless a schema is given) with id, title, content,
-- embedding, metadata, tenant_id, timestamps, an expiry and a generated tsvector, recorded in
-- vecpg.collection. Columns are created here; everything else comes from collection_created,
-- which 99_existing_collections.sql runs again for every collection at each upgrade.

-- An update sets updated_at to now(), unless the transaction set vecpg.keep_updated_at: an
-- import (vecpg/backups) restores rows with the updated_at they were exported with.
CREATE OR REPLACE FUNCTION vecpg.touch_updated_at()
RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
BEGIN
    IF coalesce(current_setting('vecpg.keep_updated_at', true), '') <> 'on' THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END
$$;

-- A collection's storage part: vectors and tsvectors kept in the row (STORAGE MAIN) rather than
-- moved out of line into TOAST, where every distance computed from the table (an exact scan, the
-- score of each row an index scan returns) and every BM25 score would cost a TOAST fetch. MAIN
-- still moves a value out when the row would not fit in a page otherwise (vectors of more than
-- ~2,000 dimensions, long documents). Applies to rows written from now on; VACUUM FULL moves
-- the existing ones.
CREATE OR REPLACE FUNCTION vecpg.store_inline(collection text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
BEGIN
    EXECUTE format('ALTER TABLE %I.%I ALTER COLUMN fts SET STORAGE MAIN, ALTER COLUMN embedding SET STORAGE MAIN',
                   c.schema_name, c.table_name);
END
$$;

-- Partitioned by tenant (18_partitions.sql) when partition_by_tenant is 'hash' or 'list'; NULL: as
-- create_collection. A function of its own rather than more arguments of create_collection:
-- its signature is in the frozen layers of earlier revisions (sql/history/), which a revision
-- would have to change.
CREATE OR REPLACE FUNCTION vecpg.create_partitioned_collection(
    name        text,
    dimension   integer,
    partition_by_tenant text DEFAULT 'hash',
    partitions  integer DEFAULT NULL,
    distance    text DEFAULT 'cosine',
    model       text DEFAULT NULL,
    language    regconfig DEFAULT 'english',
    schema_name name DEFAULT 'vecpg_data',
    storage     text DEFAULT 'vector'
)
RETURNS vecpg.collection
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
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
    -- 18_partitions.sql: hash or list partitions by tenant.
    PERFORM vecpg.check_partitioning(partition_by_tenant, partitions,
                                     current_setting('server_version_num')::integer);

    -- Index names must stay under 63 bytes whatever the collection name.
    short := left(name, 48);
    EXECUTE format(
        $ddl$
        CREATE TABLE %1$I.%2$I (
            id          text %5$s DEFAULT gen_random_uuid()::text,
            title       text,
            content     text NOT NULL DEFAULT '',
            embedding   %3$s,
            metadata    jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
            tenant_id   text,
            created_at  timestamptz NOT NULL DEFAULT now(),
            updated_at  timestamptz NOT NULL DEFAULT now(),
            expires_at  timestamptz,
            fts         tsvector GENERATED ALWAYS AS (
                            setweight(to_tsvector(%4$L::regconfig, coalesce(title, '')), 'A')
                         || setweight(to_tsvector(%4$L::regconfig, content), 'B')
                        ) STORED
            %6$s
        ) %7$s
        $ddl$,
        schema_name, name, vecpg.storage_type(storage, dimension), language::text,
        CASE WHEN partition_by_tenant IS NULL THEN 'PRIMARY KEY' ELSE 'NOT NULL' END,
        CASE WHEN partition_by_tenant IS NULL THEN ''
             ELSE format(', CONSTRAINT %I UNIQUE NULLS NOT DISTINCT (tenant_id, id)', short || '_key') END,
        CASE WHEN partition_by_tenant IS NULL THEN '' ELSE 'PARTITION BY LIST (tenant_id)' END);
    IF partition_by_tenant IS NOT NULL THEN
        PERFORM vecpg.create_default_partition(schema_name, name, partition_by_tenant, partitions);
    END IF;
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
$$;
COMMENT ON FUNCTION vecpg.create_partitioned_collection(text, integer, text, integer, text, text, regconfig, name, text) IS
    'Create a collection table partitioned by tenant (hash: into partitions tables; list: one default until tenants get their own) and record it in the catalog';

CREATE OR REPLACE FUNCTION vecpg.create_collection(
    name        text,
    dimension   integer,
    distance    text DEFAULT 'cosine',
    model       text DEFAULT NULL,
    language    regconfig DEFAULT 'english',
    schema_name name DEFAULT 'vecpg_data',
    storage     text DEFAULT 'vector'
)
RETURNS vecpg.collection
LANGUAGE sql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT vecpg.create_partitioned_collection(name, dimension, NULL, NULL, distance, model, language, schema_name, storage)
$$;
COMMENT ON FUNCTION vecpg.create_collection(text, integer, text, text, regconfig, name, text) IS
    'Create a collection table (embeddings stored as vector or halfvec) with its full-text and metadata indexes and record it in the catalog';

CREATE OR REPLACE FUNCTION vecpg.drop_collection(collection text, if_exists boolean DEFAULT false)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection;
BEGIN
    IF if_exists AND NOT EXISTS (SELECT 1 FROM vecpg.collection AS x WHERE x.name = collection) THEN
        RETURN false;
    END IF;
    c := vecpg.get_collection(collection);
    PERFORM vecpg.disable_chunking(collection);
    EXECUTE format('DROP TABLE IF EXISTS %I.%I', c.schema_name, c.table_name);
    DELETE FROM vecpg.collection AS x WHERE x.name = c.name;
    RETURN true;
END
$$;
COMMENT ON FUNCTION vecpg.drop_collection(text, boolean) IS 'Drop a collection and its documents';

CREATE OR REPLACE FUNCTION vecpg.collection_created(collection text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
BEGIN
    PERFORM vecpg.store_inline(collection);                 -- storage (this file)
    PERFORM vecpg.keyword_stats_triggers(collection);       -- 06_keyword_search.sql
    PERFORM vecpg.apply_tenancy(collection);                -- 01_tenancy.sql
    PERFORM vecpg.keyword_index_objects(collection);        -- 08_keyword_index.sql
    PERFORM vecpg.mirror_objects(collection);               -- 09_mirror.sql
    PERFORM vecpg.embedding_queue_objects(collection);      -- 10_embedding_queue.sql
    PERFORM vecpg.chunk_objects(collection);                -- 11_chunks.sql
    PERFORM vecpg.expiry_objects(collection);               -- 17_expiry.sql
    PERFORM vecpg.partitioned_id_objects(collection);       -- 18_partitions.sql
END
$$;
COMMENT ON FUNCTION vecpg.collection_created(text) IS
    'Give a collection table everything vecpg adds to its columns: storage, triggers, policies, grants';
