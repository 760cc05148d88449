-- 11_chunks.sql — long documents as overlapping chunks, each with its own vector.
--
-- A model embeds only what its window holds (all-MiniLM-L6-v2: 256 tokens); the rest of a long
-- document is lost to vector search. A chunked collection (vecpg.enable_chunking) has a chunk
-- table beside it, <table>_chunks: for every document longer than chunk_tokens model tokens,
-- its chunks (chunk_tokens long, overlapping by chunk_overlap), where they sit in the text the
-- model sees, and their vectors. The embedding workers write the chunks with the document's
-- own vector (that of its first chunk), in one statement. vecpg.search_chunks ranks documents
-- by their best chunk and returns that chunk as the highlight. Chunks follow their document:
-- a text change, delete or TRUNCATE removes them in the same statement (10_embedding_queue.sql);
-- readers see the chunks of the documents they may see.

CREATE OR REPLACE FUNCTION vecpg.chunk_table(collection text)
RETURNS name
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT (left(c.table_name, 56) || '_chunks')::name FROM vecpg.collection c WHERE c.name = collection
$$;
COMMENT ON FUNCTION vecpg.chunk_table(text) IS 'Name of a collection''s chunk table (in the collection''s schema)';

-- A collection's chunk part: its chunk table, index, policy and grants when it is chunked.
CREATE OR REPLACE FUNCTION vecpg.chunk_objects(collection text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
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
        '  embedding  %s NOT NULL,'  -- stored as the collection stores its vectors
        '  PRIMARY KEY (parent_id, chunk_no))',
        c.schema_name, chunks, vecpg.storage_type(c.storage, c.dimension));
    EXECUTE format('COMMENT ON TABLE %I.%I IS %L', c.schema_name, chunks, 'vecpg chunks of collection ' || c.name);
    -- pgvector indexes vectors of up to 2,000 dimensions, halfvec up to 4,000; above, chunks are
    -- searched exactly.
    IF c.dimension <= vecpg.indexable_dimensions(c.storage) THEN
        EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I.%I USING hnsw (embedding %s)',
                       left(c.table_name, 44) || '_chunks_hnsw', c.schema_name, chunks,
                       vecpg.vector_opclass(c.distance, c.storage));
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
$$;

-- Chunk a collection's long documents from now on. Documents whose text may be longer than
-- chunk_tokens (more characters than that: a token is at least one character) are queued for
-- the workers; they keep their vectors meanwhile.
CREATE OR REPLACE FUNCTION vecpg.enable_chunking(collection text, chunk_tokens integer DEFAULT 240,
                                                 chunk_overlap integer DEFAULT 40)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    chunks name := vecpg.chunk_table(collection);
    queued bigint;
BEGIN
    IF c.model IS NULL THEN
        RAISE EXCEPTION 'collection "%" has no model: only collections the workers embed can be chunked', c.name
            USING ERRCODE = 'VP005';
    END IF;
    IF chunk_tokens IS NULL OR chunk_tokens NOT BETWEEN 16 AND 8192 THEN
        RAISE EXCEPTION 'chunk_tokens must be between 16 and 8192, got %', chunk_tokens USING ERRCODE = 'VP005';
    END IF;
    IF chunk_overlap IS NULL OR chunk_overlap < 0 OR chunk_overlap > chunk_tokens / 2 THEN
        RAISE EXCEPTION 'chunk_overlap must be between 0 and half of chunk_tokens (%), got %', chunk_tokens / 2,
            chunk_overlap USING ERRCODE = 'VP005';
    END IF;
    IF c.chunk_tokens IS NULL AND to_regclass(format('%I.%I', c.schema_name, chunks)) IS NOT NULL THEN
        RAISE EXCEPTION 'cannot chunk collection "%": a table %.% exists already', c.name, c.schema_name, chunks
            USING ERRCODE = 'VP002';
    END IF;
    UPDATE vecpg.collection x SET chunk_tokens = enable_chunking.chunk_tokens,
                                  chunk_overlap = enable_chunking.chunk_overlap
    WHERE x.name = c.name;
    PERFORM vecpg.collection_created(c.name);
    EXECUTE format(
        'INSERT INTO vecpg.embedding_queue AS q (collection, doc_id, text_hash) '
        'SELECT %L, d.id, vecpg.text_hash(d.title, d.content) FROM %I.%I d '
        'WHERE length(vecpg.embedding_text(d.title, d.content)) > $1 '
        'ON CONFLICT (collection, doc_id) DO NOTHING', c.name, c.schema_name, c.table_name)
        USING chunk_tokens;
    GET DIAGNOSTICS queued = ROW_COUNT;
    IF queued > 0 THEN
        PERFORM pg_notify('vecpg_embed', c.name);
    END IF;
    RETURN queued;
END
$$;
COMMENT ON FUNCTION vecpg.enable_chunking(text, integer, integer) IS
    'Split long documents into overlapping chunks with their own vectors; queues the long ones';

CREATE OR REPLACE FUNCTION vecpg.disable_chunking(collection text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
BEGIN
    IF c.chunk_tokens IS NULL THEN
        RETURN false;
    END IF;
    EXECUTE format('DROP TABLE IF EXISTS %I.%I', c.schema_name, vecpg.chunk_table(collection));
    UPDATE vecpg.collection x SET chunk_tokens = NULL, chunk_overlap = NULL WHERE x.name = c.name;
    RETURN true;
END
$$;
COMMENT ON FUNCTION vecpg.disable_chunking(text) IS 'Drop a collection''s chunks: one vector per document again';

-- Documents ranked by their best chunk (or their own vector, for those short enough to have
-- none), the best chunk as highlight (NULL when the document's own vector ranked it). Takes
-- the filters and options of vecpg.search. Candidates: 4k chunks and 4k documents, nearest
-- first, so k documents come back even when one document's chunks fill the chunk list.
CREATE OR REPLACE FUNCTION vecpg.search_chunks(
    collection      text,
    query_embedding vector,
    k               integer,
    filter          jsonb DEFAULT '{}',
    options         jsonb DEFAULT '{}'
)
RETURNS TABLE (id text, title text, content text, metadata jsonb, distance double precision,
               score double precision, chunk_no integer, highlight text)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
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
        vecpg.where_sql(predicate),
        CASE c.distance WHEN 'cosine' THEN '1 - b.distance' WHEN 'ip' THEN '-b.distance'
                        ELSE 'NULL::double precision' END,
        vecpg.nearest_sql(c, 'd.id AS parent_id, NULL::integer AS chunk_no, NULL::text AS chunk', predicate,
                          '$1', '$4', vecpg.rerank_factor(options)::text),
        vecpg.stored_query(c, '$1'))  -- the query in the chunks' type, as their index compares
        USING query_embedding, filter, k, candidates;
END
$$;
COMMENT ON FUNCTION vecpg.search_chunks(text, vector, integer, jsonb, jsonb) IS
    'k documents nearest to query_embedding by their best chunk, with that chunk as highlight';
