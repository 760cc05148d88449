-- 10_embedding_queue.sql — text written from any client becomes a vector through the workers.
--
-- A document of a collection with a model that is written without a vector (INSERT, COPY,
-- vecpg.add_document) is queued in the writing transaction; `vecpg worker` claims queued rows,
-- embeds their text and writes the vectors. Whether a document needs a new vector is decided
-- by its text, title and content as the model sees them (vecpg.embedding_text): a change of
-- metadata queues nothing; a change of text drops the old vector in the same statement (a
-- search never finds a document by the vector of a text it no longer has) and queues the new
-- text; a delete or a vector written by the client cancels (except, in a chunked collection, for
-- a text too long for one vector: the workers chunk it). A worker writes a vector only if
-- the row still has the text whose SHA-256 it claimed, so it never stores a stale one.

-- Function bodies here are strings, never BEGIN ATOMIC: those depend on the tables and
-- functions they name, which a downgrade drops first.

-- The text the collection's model embeds: what vecpg's Python embeds too (documents.py).
CREATE OR REPLACE FUNCTION vecpg.embedding_text(title text, content text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT CASE WHEN coalesce(title, '') = '' THEN coalesce(content, '')
                ELSE btrim(title || ' ' || coalesce(content, ''), ' ') END
$$;
COMMENT ON FUNCTION vecpg.embedding_text(text, text) IS 'The text a collection''s model embeds: title and content';

CREATE OR REPLACE FUNCTION vecpg.text_hash(title text, content text)
RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT sha256(convert_to(vecpg.embedding_text(title, content), 'UTF8'))
$$;
COMMENT ON FUNCTION vecpg.text_hash(text, text) IS 'SHA-256 of the text a collection''s model embeds';

-- Workers hold a session advisory lock (worker_lock_class(), their key) while they work; a
-- claim by a key whose lock nobody holds is free (its worker died or disconnected).
CREATE OR REPLACE FUNCTION vecpg.worker_lock_class()
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$ SELECT 1987208039 $$;  -- 'vpgw'

-- A text change with the vector left as it was: the vector is stale, so it goes now (the
-- statement trigger below queues the new text). BEFORE UPDATE, per row, only when the WHEN
-- clause of the trigger saw the text change.
CREATE OR REPLACE FUNCTION vecpg.drop_stale_embedding()
RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
BEGIN
    NEW.embedding := NULL;
    RETURN NEW;
END
$$;

-- Statement-level, with transition tables: the queue follows the rows the statement wrote.
-- SECURITY DEFINER so that writers queue rows in a table they may not read.
CREATE OR REPLACE FUNCTION vecpg.embedding_capture()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
DECLARE
    coll text := TG_ARGV[0];
    c vecpg.collection;
    chunked boolean;
    queued bigint := 0;
BEGIN
    SELECT * INTO c FROM vecpg.collection x WHERE x.name = coll;
    chunked := c.chunk_tokens IS NOT NULL;
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM vecpg.embedding_queue q WHERE q.collection = coll;
        IF chunked THEN
            EXECUTE format('TRUNCATE %I.%I', c.schema_name, vecpg.chunk_table(coll));
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        DELETE FROM vecpg.embedding_queue q USING old_rows o WHERE q.collection = coll AND q.doc_id = o.id;
        IF chunked THEN
            EXECUTE format('DELETE FROM %I.%I ch USING old_rows o WHERE ch.parent_id = o.id',
                           c.schema_name, vecpg.chunk_table(coll));
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' AND chunked THEN
        -- Chunks of a text that changed (or of an id that is gone) are stale: they go now, and
        -- the worker writes the new text's chunks with its vector.
        EXECUTE format(
            'DELETE FROM %I.%I ch USING old_rows o LEFT JOIN new_rows n ON n.id = o.id '
            'WHERE ch.parent_id = o.id AND (n.id IS NULL '
            '      OR vecpg.text_hash(o.title, o.content) <> vecpg.text_hash(n.title, n.content))',
            c.schema_name, vecpg.chunk_table(coll));
    END IF;
    IF TG_OP = 'UPDATE' THEN
        -- Given a vector by the writer, or renamed away: nothing left to embed under that id.
        DELETE FROM vecpg.embedding_queue q
        USING old_rows o
        WHERE q.collection = coll AND q.doc_id = o.id
          AND NOT EXISTS (SELECT 1 FROM new_rows n WHERE n.id = o.id AND n.embedding IS NULL);
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO vecpg.embedding_queue AS q (collection, doc_id, text_hash)
        SELECT coll, n.id, vecpg.text_hash(n.title, n.content)
        FROM new_rows n
        WHERE vecpg.embedding_text(n.title, n.content) <> ''
          AND (n.embedding IS NULL
               OR (chunked AND length(vecpg.embedding_text(n.title, n.content)) > c.chunk_tokens))
        ORDER BY n.id
        ON CONFLICT (collection, doc_id) DO UPDATE
            SET text_hash = EXCLUDED.text_hash, queued_at = now(), attempts = 0, retry_at = now(),
                last_error = NULL, failed_at = NULL, claimed_by = NULL, claimed_at = NULL;
        GET DIAGNOSTICS queued = ROW_COUNT;
    ELSIF TG_OP = 'UPDATE' THEN
        -- Queued: rows without a vector whose text changed, that lost their vector, or are new
        -- under a changed id; in a chunked collection, also long texts written with a vector
        -- (the client's one vector cannot stand for their chunks). A row still waiting with the
        -- same text keeps its place.
        INSERT INTO vecpg.embedding_queue AS q (collection, doc_id, text_hash)
        SELECT coll, n.id, vecpg.text_hash(n.title, n.content)
        FROM new_rows n LEFT JOIN old_rows o ON o.id = n.id
        WHERE vecpg.embedding_text(n.title, n.content) <> ''
          AND ((n.embedding IS NULL
                AND (o.id IS NULL OR o.embedding IS NOT NULL
                     OR vecpg.text_hash(o.title, o.content) <> vecpg.text_hash(n.title, n.content)))
               OR (chunked AND n.embedding IS NOT NULL
                   AND length(vecpg.embedding_text(n.title, n.content)) > c.chunk_tokens
                   AND (o.id IS NULL OR vecpg.text_hash(o.title, o.content) <> vecpg.text_hash(n.title, n.content))))
        ORDER BY n.id
        ON CONFLICT (collection, doc_id) DO UPDATE
            SET text_hash = EXCLUDED.text_hash, queued_at = now(), attempts = 0, retry_at = now(),
                last_error = NULL, failed_at = NULL, claimed_by = NULL, claimed_at = NULL
            WHERE q.text_hash IS DISTINCT FROM EXCLUDED.text_hash OR q.failed_at IS NOT NULL;
        GET DIAGNOSTICS queued = ROW_COUNT;
        -- Rows that changed id and left their text empty, or emptied it: nothing to embed.
        DELETE FROM vecpg.embedding_queue q
        USING new_rows n
        WHERE q.collection = coll AND q.doc_id = n.id AND vecpg.embedding_text(n.title, n.content) = '';
    END IF;
    IF queued > 0 THEN
        PERFORM pg_notify('vecpg_embed', coll);  -- wakes `vecpg worker`
    END IF;
    RETURN NULL;
END
$$;

-- A collection's embedding part: with a model, the triggers that keep the queue; without one,
-- none (nothing could embed its rows: they need vectors from the client).
CREATE OR REPLACE FUNCTION vecpg.embedding_queue_objects(collection text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    event text;
BEGIN
    EXECUTE format('DROP TRIGGER IF EXISTS embedding_stale ON %I.%I', c.schema_name, c.table_name);
    IF c.model IS NOT NULL THEN
        -- pgvector's = named with its schema: pg_restore creates triggers with an empty
        -- search_path, where an unqualified IS NOT DISTINCT FROM on vectors finds no operator
        -- (NULL when OLD had no vector: the trigger does not fire, as it should not).
        EXECUTE format('CREATE TRIGGER embedding_stale BEFORE UPDATE OF title, content ON %I.%I FOR EACH ROW '
                       'WHEN ((OLD.title, OLD.content) IS DISTINCT FROM (NEW.title, NEW.content) '
                       'AND NEW.embedding OPERATOR(%I.=) OLD.embedding) '
                       'EXECUTE FUNCTION vecpg.drop_stale_embedding()', c.schema_name, c.table_name, vecpg.vector_schema());
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
$$;

-- Queue every document of a collection that has text and no vector: rows written before the
-- collection was queued (an upgrade from 0008) or whose vectors were cleared by hand.
CREATE OR REPLACE FUNCTION vecpg.queue_missing_embeddings(collection text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    queued bigint;
BEGIN
    IF c.model IS NULL THEN
        RAISE EXCEPTION 'collection "%" has no model: its documents need vectors from the client', c.name
            USING ERRCODE = 'VP005';
    END IF;
    EXECUTE format(
        'INSERT INTO vecpg.embedding_queue (collection, doc_id, text_hash) '
        'SELECT %L, d.id, vecpg.text_hash(d.title, d.content) FROM %I.%I d '
        'WHERE d.embedding IS NULL AND vecpg.embedding_text(d.title, d.content) <> '''' '
        'ON CONFLICT (collection, doc_id) DO NOTHING', c.name, c.schema_name, c.table_name);
    GET DIAGNOSTICS queued = ROW_COUNT;
    IF queued > 0 THEN
        PERFORM pg_notify('vecpg_embed', c.name);
    END IF;
    RETURN queued;
END
$$;
COMMENT ON FUNCTION vecpg.queue_missing_embeddings(text) IS
    'Queue for embedding every document of a collection that has text and no vector';

-- Write a document's text and let the workers embed it: the way to add documents from any client.
CREATE OR REPLACE FUNCTION vecpg.add_document(
    collection text,
    id         text DEFAULT NULL,
    title      text DEFAULT NULL,
    content    text DEFAULT '',
    metadata   jsonb DEFAULT '{}'
)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
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
        'ON CONFLICT (%s) DO UPDATE SET title = EXCLUDED.title, content = EXCLUDED.content, metadata = EXCLUDED.metadata '
        'RETURNING d.id', c.schema_name, c.table_name, vecpg.conflict_key(c.name))
        INTO written USING id, title, coalesce(content, ''), coalesce(metadata, '{}');
    RETURN written;
END
$$;
COMMENT ON FUNCTION vecpg.add_document(text, text, text, text, jsonb) IS
    'Insert or update a document''s text and metadata; the embedding workers compute its vector';

-- Claim up to batch_size ready rows of a collection for the worker holding the advisory lock
-- (worker_lock_class(), worker): rows unclaimed, or claimed by a worker whose lock is gone.
-- Returns each row's text as the model sees it and the hash the vector must be written under.
CREATE OR REPLACE FUNCTION vecpg.claim_embeddings(collection text, worker integer, batch_size integer DEFAULT 64)
RETURNS TABLE (doc_id text, text_hash bytea, body text, attempts integer)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
BEGIN
    IF batch_size IS NULL OR batch_size NOT BETWEEN 1 AND 10000 THEN
        RAISE EXCEPTION 'invalid batch size %: must be between 1 and 10000', batch_size USING ERRCODE = 'VP005';
    END IF;
    RETURN QUERY EXECUTE format(
        $q$
        WITH alive AS (
            SELECT l.objid::bigint AS key FROM pg_catalog.pg_locks l
            WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
              AND l.classid = vecpg.worker_lock_class()::oid
        ), free AS (
            SELECT q.doc_id FROM vecpg.embedding_queue q
            WHERE q.collection = $1 AND q.failed_at IS NULL AND q.retry_at <= now()
              AND (q.claimed_by IS NULL OR q.claimed_by::bigint NOT IN (SELECT key FROM alive))
            ORDER BY q.retry_at, q.queued_at
            LIMIT $3
            FOR UPDATE SKIP LOCKED
        ), claimed AS (
            UPDATE vecpg.embedding_queue q SET claimed_by = $2, claimed_at = now()
            FROM free WHERE q.collection = $1 AND q.doc_id = free.doc_id
            RETURNING q.doc_id, q.text_hash, q.attempts
        )
        SELECT k.doc_id, k.text_hash, vecpg.embedding_text(d.title, d.content), k.attempts
        FROM claimed k JOIN %I.%I d ON d.id = k.doc_id
        ORDER BY k.doc_id
        $q$, c.schema_name, c.table_name)
        USING c.name, worker, batch_size;
END
$$;
COMMENT ON FUNCTION vecpg.claim_embeddings(text, integer, integer) IS
    'Claim queued documents for an embedding worker: their ids, text hashes and texts';

-- Write the vectors a worker computed, into the rows whose queue entry it still holds with the
-- text it embedded (a row changed meanwhile was queued again under its new hash; a row given a
-- vector by its writer left the queue); the queue rows of those texts go. For a chunked
-- collection, the chunks of the rows written replace their old ones in the same statement.
-- Records the batch for throughput.
CREATE OR REPLACE FUNCTION vecpg.store_embeddings(
    collection text, worker integer, ids text[], hashes bytea[], vectors @vector_schema@.vector[],
    seconds double precision DEFAULT 0,
    chunk_parents text[] DEFAULT '{}', chunk_nos integer[] DEFAULT '{}', chunk_starts integer[] DEFAULT '{}',
    chunk_ends integer[] DEFAULT '{}', chunk_texts text[] DEFAULT '{}', chunk_vectors @vector_schema@.vector[] DEFAULT '{}'
)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    written text[];
BEGIN
    IF cardinality(ids) IS DISTINCT FROM cardinality(hashes) OR cardinality(ids) IS DISTINCT FROM cardinality(vectors) THEN
        RAISE EXCEPTION 'ids, hashes and vectors must have the same length' USING ERRCODE = 'VP005';
    END IF;
    EXECUTE format(
        'WITH v AS (SELECT * FROM unnest($1, $2, $3) AS v(id, hash, vector)), '
        'mine AS (SELECT v.* FROM v JOIN vecpg.embedding_queue q ON q.doc_id = v.id AND q.text_hash = v.hash '
        '         WHERE q.collection = $4 AND q.claimed_by = $5), '
        'updated AS (UPDATE %I.%I d SET embedding = mine.vector FROM mine '
        '            WHERE d.id = mine.id AND vecpg.text_hash(d.title, d.content) = mine.hash RETURNING d.id) '
        'SELECT coalesce(array_agg(id), ''{}'') FROM updated',
        c.schema_name, c.table_name)
        INTO written USING ids, hashes, vectors, c.name, worker;
    IF c.chunk_tokens IS NOT NULL AND cardinality(written) > 0 THEN
        EXECUTE format('DELETE FROM %I.%I ch WHERE ch.parent_id = ANY($1)', c.schema_name, vecpg.chunk_table(c.name))
            USING written;
        EXECUTE format(
            'INSERT INTO %I.%I (parent_id, chunk_no, start_char, end_char, content, embedding) '
            'SELECT * FROM unnest($1, $2, $3, $4, $5, $6) AS x(p, n, s, e, t, v) WHERE x.p = ANY($7)',
            c.schema_name, vecpg.chunk_table(c.name))
            USING chunk_parents, chunk_nos, chunk_starts, chunk_ends, chunk_texts, chunk_vectors, written;
    END IF;
    -- Texts embedded, whether or not the row took the vector (deleted, changed, given one):
    -- a changed text was queued again under its new hash, which stays.
    DELETE FROM vecpg.embedding_queue q USING unnest(ids, hashes) AS v(id, hash)
    WHERE q.collection = c.name AND q.doc_id = v.id AND q.text_hash = v.hash;
    UPDATE vecpg.embedding_queue q SET claimed_by = NULL, claimed_at = NULL
    WHERE q.collection = c.name AND q.doc_id = ANY(ids) AND q.claimed_by = worker;
    INSERT INTO vecpg.embedding_log (collection, embedded, failed, seconds)
    VALUES (c.name, cardinality(written), 0, seconds);
    DELETE FROM vecpg.embedding_log l WHERE l.collection = c.name AND l.at < now() - interval '1 day';
    RETURN cardinality(written);
END
$$;
COMMENT ON FUNCTION vecpg.store_embeddings(text, integer, text[], bytea[], @vector_schema@.vector[], double precision,
                                           text[], integer[], integer[], integer[], text[], @vector_schema@.vector[]) IS
    'Write computed vectors (and chunks) into documents that still have the embedded text';

-- A worker could not embed these rows: keep the error, count the attempt, retry after a backoff
-- (30 s, doubling, at most an hour), and after max_attempts move them to the failed list.
CREATE OR REPLACE FUNCTION vecpg.embedding_failed(
    collection text, worker integer, ids text[], error text, max_attempts integer DEFAULT 5
)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    failed integer;
BEGIN
    UPDATE vecpg.embedding_queue q
    SET attempts = q.attempts + 1,
        last_error = left(error, 2000),
        retry_at = now() + least(interval '30 seconds' * power(2, q.attempts), interval '1 hour'),
        failed_at = CASE WHEN q.attempts + 1 >= max_attempts THEN now() END,
        claimed_by = NULL, claimed_at = NULL
    WHERE q.collection = c.name AND q.doc_id = ANY(ids) AND q.claimed_by = worker;
    GET DIAGNOSTICS failed = ROW_COUNT;
    INSERT INTO vecpg.embedding_log (collection, embedded, failed, seconds) VALUES (c.name, 0, failed, 0);
    RETURN failed;
END
$$;
COMMENT ON FUNCTION vecpg.embedding_failed(text, integer, text[], text, integer) IS
    'Record a failed embedding attempt: error, attempt count, backoff, failed list after max_attempts';

-- Give back claims a worker will not finish (it is stopping): the rows are ready again now.
CREATE OR REPLACE FUNCTION vecpg.release_embeddings(collection text, worker integer, ids text[])
RETURNS integer
LANGUAGE sql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    WITH released AS (
        UPDATE vecpg.embedding_queue q SET claimed_by = NULL, claimed_at = NULL
        WHERE q.collection = release_embeddings.collection AND q.doc_id = ANY(ids) AND q.claimed_by = worker
        RETURNING 1
    )
    SELECT count(*)::integer FROM released;
$$;

-- Requeue failed rows (of one collection, or all): `vecpg worker retry`.
CREATE OR REPLACE FUNCTION vecpg.retry_embeddings(collection text DEFAULT NULL)
RETURNS bigint
LANGUAGE sql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    WITH retried AS (
        UPDATE vecpg.embedding_queue q
        SET failed_at = NULL, attempts = 0, retry_at = now(), claimed_by = NULL, claimed_at = NULL
        WHERE q.failed_at IS NOT NULL AND (retry_embeddings.collection IS NULL OR q.collection = retry_embeddings.collection)
        RETURNING q.collection
    )
    SELECT count(*) FROM retried;
$$;
COMMENT ON FUNCTION vecpg.retry_embeddings(text) IS 'Move failed embeddings back into the queue';

-- Per collection with a model: documents, how many have a vector, the queue, failures and the
-- workers' throughput over the last five minutes.
CREATE OR REPLACE FUNCTION vecpg.embedding_status_rows()
RETURNS TABLE (
    collection text, documents bigint, embedded bigint, coverage double precision,
    queued bigint, oldest_queued interval, failed bigint, last_error text,
    embedded_5min bigint, docs_per_second double precision
)
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
DECLARE
    c vecpg.collection;
BEGIN
    FOR c IN SELECT * FROM vecpg.collection x WHERE x.model IS NOT NULL ORDER BY x.name LOOP
        collection := c.name;
        EXECUTE format('SELECT count(*), count(embedding) FROM %I.%I', c.schema_name, c.table_name)
            INTO documents, embedded;
        coverage := CASE WHEN documents = 0 THEN 1.0 ELSE embedded::double precision / documents END;
        SELECT count(*) FILTER (WHERE q.failed_at IS NULL), now() - min(q.queued_at) FILTER (WHERE q.failed_at IS NULL),
               count(*) FILTER (WHERE q.failed_at IS NOT NULL),
               (array_agg(q.last_error ORDER BY q.failed_at DESC) FILTER (WHERE q.failed_at IS NOT NULL))[1]
        INTO queued, oldest_queued, failed, last_error
        FROM vecpg.embedding_queue q WHERE q.collection = c.name;
        SELECT coalesce(sum(l.embedded), 0), sum(l.embedded) / nullif(sum(l.seconds), 0)
        INTO embedded_5min, docs_per_second
        FROM vecpg.embedding_log l WHERE l.collection = c.name AND l.at > now() - interval '5 minutes';
        RETURN NEXT;
    END LOOP;
END
$$;

-- Which embedder computes a collection's vectors; NULL: the store's default. The same model
-- through another embedder gives the same vectors within rounding, so nothing is re-embedded.
CREATE OR REPLACE FUNCTION vecpg.set_embedder(collection text, embedder text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
BEGIN
    IF embedder IS NOT NULL AND embedder !~ '^[a-z][a-z0-9-]{0,40}$' THEN
        RAISE EXCEPTION 'invalid embedder name %', quote_literal(embedder) USING ERRCODE = 'VP005';
    END IF;
    UPDATE vecpg.collection x SET embedder = set_embedder.embedder WHERE x.name = c.name;
END
$$;
COMMENT ON FUNCTION vecpg.set_embedder(text, text) IS 'Choose the embedder of a collection (NULL: the store default)';
