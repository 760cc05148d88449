-- 16_doctor.sql — vecpg.doctor(): what is wrong with the collections, and the command that fixes it.
--
-- One row a finding: check (a short name), severity ('ok', 'warning' or 'problem': a problem
-- makes `vecpg doctor` exit 1), collection (NULL for the database), message, fix (the SQL or
-- vecpg command to run). These are the checks SQL can make; vecpg/doctor/ adds those only Python
-- can (pending migrations, measured recall, text past the model's window). Each reads the
-- catalog and the statistics views, and a sample of at most 200 vectors a collection; pgstattuple
-- is not needed (the embedded build has none): bloat is estimated from dead tuples and from the
-- index size pgvector's page layout predicts for the live rows (vecpg/index/advice.py).

-- Thresholds, in one place for the checks and the docs (docs/operations.md).
CREATE OR REPLACE FUNCTION vecpg.doctor_thresholds()
RETURNS jsonb
LANGUAGE sql IMMUTABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT jsonb_build_object(
        'index_rows', 10000,          -- rows from which a collection without a vector index is flagged
        'dead_fraction', 0.2,         -- dead tuples against live ones (autovacuum's own default scale)
        'dead_rows', 1000,            -- and at least this many
        'stale_fraction', 0.2,        -- rows changed since the last ANALYZE against the table's rows
        'stale_rows', 1000,
        'index_bloat', 1.5,           -- index size against the size its live rows need
        'index_bloat_bytes', 1048576, -- and at least this much larger
        'collapsed_similarity', 0.95, -- mean pairwise cosine similarity of a sample
        'norm_tolerance', 0.01,       -- |norm - 1| beyond which a vector is not unit length
        'unnormalised_fraction', 0.1, -- sampled vectors beyond the tolerance
        'backlog_age_seconds', 300,   -- queued documents or mirror events older than this
        'sample', 200                 -- vectors sampled for the similarity checks
    )
$$;
COMMENT ON FUNCTION vecpg.doctor_thresholds() IS 'Thresholds of vecpg.doctor''s checks';

-- Vector and other indexes of a collection: invalid, missing, unused, bloated, larger than shared_buffers.
CREATE OR REPLACE FUNCTION vecpg.doctor_indexes(c vecpg.collection)
RETURNS TABLE ("check" text, severity text, collection text, message text, fix text)
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
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
               x.indisunique OR x.indisprimary AS enforces, vecpg.tree_size(i.oid) AS bytes,
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
           AND r.name NOT LIKE '%\_fts\_idx' AND r.name NOT LIKE '%\_metadata\_idx' AND r.name NOT LIKE '%\_expires\_idx' THEN
            -- vecpg's own keyword, metadata and expiry indexes serve keyword search, filters and
            -- the purge when they come.
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
$$;

-- Statistics, dead rows and expired documents of a collection's table.
CREATE OR REPLACE FUNCTION vecpg.doctor_table(c vecpg.collection)
RETURNS TABLE ("check" text, severity text, collection text, message text, fix text)
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    t jsonb := vecpg.doctor_thresholds();
    tbl regclass := format('%I.%I', c.schema_name, c.table_name)::regclass;
    qualified text := format('%I.%I', c.schema_name, c.table_name);
    s record;
    expired bigint;
BEGIN
    SELECT greatest(cl.reltuples, 0) AS reltuples, coalesce(st.n_live_tup, 0) AS live, coalesce(st.n_dead_tup, 0) AS dead,
           coalesce(st.n_mod_since_analyze, 0) AS changed,
           st.last_analyze IS NULL AND st.last_autoanalyze IS NULL AS never_analyzed,
           vecpg.tree_size(tbl) > 0 AS has_pages
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
                   'and may choose the wrong plan', pg_size_pretty(vecpg.tree_size(tbl))),
            format('VACUUM ANALYZE %s', qualified);
    ELSIF NOT s.never_analyzed AND s.changed > greatest((t->>'stale_rows')::bigint, (t->>'stale_fraction')::numeric * s.reltuples) THEN
        RETURN QUERY SELECT 'stale_statistics', 'warning', c.name,
            format('%s rows changed since the last ANALYZE of its %s rows: the planner''s statistics are stale',
                   s.changed, s.reltuples::bigint),
            format('VACUUM ANALYZE %s', qualified);
    END IF;
    -- Read through the partial index on expires_at: only rows that expire are in it.
    expired := vecpg.expired_count(c.name);
    IF expired > 0 THEN
        RETURN QUERY SELECT 'expired_rows', 'warning', c.name,
            format('%s expired documents wait for the purge: no read returns them, but they take space, '
                   'index entries and keyword statistics', expired),
            format('vecpg collection purge %s', c.name);
    END IF;
END
$$;

-- The cosine-similarity distribution and the norms of a sample of a collection's vectors.
CREATE OR REPLACE FUNCTION vecpg.doctor_vectors(c vecpg.collection)
RETURNS TABLE ("check" text, severity text, collection text, message text, fix text)
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    t jsonb := vecpg.doctor_thresholds();
    qualified text := format('%I.%I', c.schema_name, c.table_name);
    wanted integer := (t->>'sample')::integer;
    rows double precision;
    percent double precision;
    sampled integer;
    zero integer;
    off_unit integer;
    mean_norm double precision;
    similarity double precision;
BEGIN
    SELECT reltuples INTO rows FROM pg_class WHERE oid = qualified::regclass;
    -- A Bernoulli sample of about twice the rows wanted on a large table (it reads no row it
    -- leaves out), the first rows by a hash of the id on a small one; the same rows each time.
    percent := CASE WHEN rows > 10 * wanted THEN 100.0 * 2 * wanted / rows END;
    EXECUTE format(
        'WITH s AS (SELECT row_number() OVER () AS n, v, vector_norm(v) AS norm FROM ('
        '    SELECT embedding::vector AS v FROM %s %s WHERE embedding IS NOT NULL ORDER BY md5(id) LIMIT %s) x) '
        'SELECT (SELECT count(*) FROM s), (SELECT count(*) FROM s WHERE norm = 0), '
        '       (SELECT count(*) FROM s WHERE abs(norm - 1) > $1), (SELECT avg(norm) FROM s), '
        '       (SELECT avg(1 - (a.v <=> b.v)) FROM s a JOIN s b ON a.n < b.n WHERE a.norm > 0 AND b.norm > 0)',
        qualified, CASE WHEN percent IS NULL THEN '' ELSE format('TABLESAMPLE BERNOULLI (%s) REPEATABLE (0)', percent) END,
        wanted)
    INTO sampled, zero, off_unit, mean_norm, similarity USING (t->>'norm_tolerance')::double precision;
    IF sampled >= 20 AND (similarity >= (t->>'collapsed_similarity')::double precision OR zero > sampled / 10) THEN
        RETURN QUERY SELECT 'collapsed_embeddings', 'problem', c.name,
            format('the vectors barely differ: mean cosine similarity %s between %s sampled vectors%s (a healthy '
                   'collection is far below 0.9): the same text embedded for every row, a broken pooling step or a '
                   'model that failed; searches return arbitrary rows', round(similarity::numeric, 3), sampled,
                   CASE WHEN zero > 0 THEN format(', %s of them all zeros', zero) ELSE '' END),
            CASE WHEN c.model IS NULL THEN 'find the cause in the pipeline that writes the vectors, then write them again'
                 ELSE format('find the cause, then re-embed: UPDATE %s SET embedding = NULL; vecpg worker backfill -c %s',
                             qualified, c.name) END;
    END IF;
    IF sampled >= 20 AND c.distance = 'cosine' AND c.model IS NOT NULL
       AND off_unit > (t->>'unnormalised_fraction')::double precision * sampled THEN
        RETURN QUERY SELECT 'unnormalised_embeddings', 'warning', c.name,
            format('%s of %s sampled vectors are not unit length (mean norm %s), though model %s writes unit vectors: '
                   'they came from another pipeline or lost the normalisation step, and mixed sources rank '
                   'inconsistently', off_unit, sampled, round(mean_norm::numeric, 3), c.model),
            format('UPDATE %s SET embedding = l2_normalize(embedding) WHERE abs(vector_norm(embedding::vector) - 1) > %s',
                   qualified, t->>'norm_tolerance');
    END IF;
END
$$;

-- The embedding queue and the Qdrant mirror: backlog, its age, failures.
CREATE OR REPLACE FUNCTION vecpg.doctor_pipelines(collection_name text)
RETURNS TABLE ("check" text, severity text, collection text, message text, fix text)
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    age interval := make_interval(secs => (vecpg.doctor_thresholds()->>'backlog_age_seconds')::double precision);
    e record;
    m record;
BEGIN
    -- The queue is every tenant's: vecpg_admin reads it (vecpg worker status); others skip the check.
    IF has_table_privilege('vecpg.embedding_status', 'SELECT') THEN
        FOR e IN SELECT * FROM vecpg.embedding_status s WHERE collection_name IS NULL OR s.collection = collection_name LOOP
            IF e.failed > 0 THEN
                RETURN QUERY SELECT 'embedding_failures', 'problem', e.collection,
                    format('%s documents failed to embed and have no vector (last error: %s)', e.failed, e.last_error),
                    format('vecpg worker retry -c %s', e.collection);
            END IF;
            IF e.queued > 0 AND e.oldest_queued > age THEN
                RETURN QUERY SELECT 'embedding_backlog', 'warning', e.collection,
                    format('%s documents wait for a vector, the oldest for %s: no worker is running, or too few '
                           '(searches do not find them yet)', e.queued, date_trunc('second', e.oldest_queued)),
                    format('vecpg worker -c %s', e.collection);
            ELSIF e.queued = 0 AND e.failed = 0 AND e.embedded < e.documents THEN
                RETURN QUERY SELECT 'unembedded_documents', 'warning', e.collection,
                    format('%s documents have no vector and are not queued (written before the queue existed?)',
                           e.documents - e.embedded),
                    format('vecpg worker backfill -c %s', e.collection);
            END IF;
        END LOOP;
    END IF;
    FOR m IN SELECT * FROM vecpg.mirror_status() s WHERE collection_name IS NULL OR s.collection = collection_name LOOP
        IF m.backlog > 0 AND m.lag > age THEN
            RETURN QUERY SELECT 'mirror_backlog', 'warning', m.collection,
                format('%s changes wait for the Qdrant mirror, the oldest for %s%s: no sync is running', m.backlog,
                       date_trunc('second', m.lag), CASE WHEN m.full_copy_pending THEN ', a full copy among them' ELSE '' END),
                format('vecpg mirror sync -c %s', m.collection);
        END IF;
    END LOOP;
END
$$;

-- pgvector's version: iterative scans (0.8.0), and the index fixes of later releases (pgvector's
-- CHANGELOG.md) for the index methods the collections use.
CREATE OR REPLACE FUNCTION vecpg.doctor_pgvector(collection_name text)
RETURNS TABLE ("check" text, severity text, collection text, message text, fix text)
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    installed integer[] := vecpg.pgvector_version();
    shown text := array_to_string(installed, '.');
    r record;
BEGIN
    IF installed < ARRAY[0, 8] THEN
        RETURN QUERY SELECT 'pgvector_version', 'warning', NULL::text,
            format('pgvector %s has no iterative index scans (0.8.0): a filtered or tenant''s search may return fewer '
                   'than k results', shown),
            'install pgvector 0.8.7 or later, then ALTER EXTENSION vector UPDATE';
    END IF;
    FOR r IN
        WITH fixes (release, method, fixed) AS (VALUES
            ('0.7.4', 'hnsw', 'locking of parallel HNSW index builds'),
            ('0.8.2', 'hnsw', 'a buffer overflow in parallel HNSW index builds (CVE-2026-3172)'),
            ('0.8.3', 'hnsw', 'possible index corruption when vacuuming HNSW indexes'),
            ('0.8.4', 'hnsw', '"hnsw graph not repaired" errors and failing inserts while vacuuming HNSW indexes'),
            ('0.8.4', 'ivfflat', 'IVFFlat builds using more than maintenance_work_mem'),
            ('0.8.6', 'ivfflat', 'the memory of IVFFlat scans in nested loop joins'),
            ('0.8.7', 'ivfflat', 'a buffer overflow in IVFFlat index builds')),
        used AS (
            SELECT am.amname::text AS method, string_agg(DISTINCT c.name, ', ' ORDER BY c.name) AS names
            FROM vecpg.collection c
            JOIN pg_index x ON x.indrelid = format('%I.%I', c.schema_name, c.table_name)::regclass
            JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_am am ON am.oid = i.relam
            WHERE am.amname IN ('hnsw', 'ivfflat') AND (collection_name IS NULL OR c.name = collection_name)
            GROUP BY am.amname)
        SELECT f.release, string_agg(f.fixed, '; ') AS fixed, string_agg(DISTINCT u.names, ', ') AS names
        FROM fixes f JOIN used u ON u.method = f.method
        WHERE string_to_array(f.release, '.')::integer[] > installed
        GROUP BY f.release ORDER BY string_to_array(f.release, '.')::integer[]
    LOOP
        RETURN QUERY SELECT 'pgvector_fixes', 'warning', collection_name,
            format('pgvector %s is installed; %s fixed %s (indexes of %s)', shown, r.release, r.fixed, r.names),
            format('install pgvector %s or later, then ALTER EXTENSION vector UPDATE', r.release);
    END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION vecpg.doctor(collection_name text DEFAULT NULL)
RETURNS TABLE ("check" text, severity text, collection text, message text, fix text)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection;
BEGIN
    IF collection_name IS NOT NULL THEN
        PERFORM vecpg.get_collection(collection_name);  -- VP001 for a name that is none
    END IF;
    FOR c IN SELECT * FROM vecpg.collection x WHERE collection_name IS NULL OR x.name = collection_name ORDER BY x.name LOOP
        RETURN QUERY SELECT * FROM vecpg.doctor_indexes(c);
        RETURN QUERY SELECT * FROM vecpg.doctor_table(c);
        RETURN QUERY SELECT * FROM vecpg.doctor_vectors(c);
    END LOOP;
    RETURN QUERY SELECT * FROM vecpg.doctor_pipelines(collection_name);
    RETURN QUERY SELECT * FROM vecpg.doctor_pgvector(collection_name);
END
$$;
COMMENT ON FUNCTION vecpg.doctor(text) IS
    'What is wrong with the collections (or one): invalid, missing, unused or bloated indexes, statistics, dead rows, '
    'collapsed or unnormalised vectors, the embedding queue and the mirror, pgvector''s version; each with its fix';
