-- 15_rag.sql — the context of a retrieval-augmented answer, for services that build their own
-- prompt (in any language) from the same retrieval as vecpg's RAG pipeline (vecpg/rag/).

-- Roughly how many tokens a text takes in a subword tokenizer (about four characters a token
-- in English): SQL has no model's tokenizer, so rag_context budgets with this estimate, where
-- the Python pipeline counts with the generator's own.
CREATE OR REPLACE FUNCTION vecpg.estimated_tokens(t text)
RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT ceil(char_length(t) / 4.0)::integer
$$;

-- The passages of documents for a question: for a chunked collection, each document's
-- per_document chunks nearest to query_embedding (the first ones when it is NULL), widened to
-- whole sentences, merged where they overlap or touch, and cut to the document's content (chunk
-- offsets count in the text the model sees, title first). One row per merged passage, numbered in document order
-- (passage_no), with the rank of its best chunk in the document (relevance, 1 = best). A
-- document without chunks (short, or the collection is not chunked) has one passage: its
-- content. Documents the caller may not see, or that do not exist, have none.
CREATE OR REPLACE FUNCTION vecpg.rag_passages(
    collection      text,
    query_embedding vector,
    ids             text[],
    per_document    integer DEFAULT 3
)
RETURNS TABLE (id text, passage_no integer, passage text, relevance integer)
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
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
        RETURN QUERY EXECUTE format('SELECT d.id, 1, d.content, 1 FROM %I.%I d WHERE d.id = ANY($1) %s',
                                    c.schema_name, c.table_name, vecpg.where_sql('true'))
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
            WHERE d.id = ANY($1) %5$s
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
                         vecpg.stored_query(c, '$2')) END,
        vecpg.where_sql('true'))
        USING ids, query_embedding, per_document;
END
$$;
COMMENT ON FUNCTION vecpg.rag_passages(text, vector, text[], integer) IS
    'Passages of documents for a question: the nearest chunks of each, merged in document order';

-- The k best documents for a question (hybrid search: the question's text and embedding,
-- filter and options as vecpg.hybrid_search takes them) as numbered passages that fit
-- token_budget estimated tokens, best first. A document's passage is its content, or for a
-- chunked collection its per_document chunks nearest to the question, merged (vecpg.rag_passages)
-- and joined with ' … ' in document order. What does not fit whole is shortened: merged
-- passages are kept best first while they fit, else the best is cut at the last sentence end
-- that fits (truncated); a document of which not even a sentence fits comes back with n,
-- passage and tokens NULL, so what was left out is reported, never silently lost.
-- Row-level security applies: a tenant's question reads only its own documents.
CREATE OR REPLACE FUNCTION vecpg.rag_context(
    collection      text,
    query_text      text,
    query_embedding vector,
    k               integer DEFAULT 5,
    token_budget    integer DEFAULT 1500,
    filter          jsonb DEFAULT '{}',
    options         jsonb DEFAULT '{}',
    per_document    integer DEFAULT 3
)
RETURNS TABLE (n integer, id text, title text, score double precision, passage text, tokens integer,
               truncated boolean)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    hit record;
    used integer := 0;
    kept text;
    kept_nos integer[];
    candidate text;
    sentence text;
    number integer := 0;
BEGIN
    IF token_budget IS NULL OR token_budget < 1 THEN
        RAISE EXCEPTION 'token_budget must be a positive integer, got %', token_budget USING ERRCODE = 'VP005';
    END IF;
    FOR hit IN
        WITH h AS MATERIALIZED (
            SELECT h.id, h.title, h.score, row_number() OVER () AS rank
            FROM vecpg.hybrid_search(collection, query_text, query_embedding, k, filter, options) h
        ), p AS MATERIALIZED (
            SELECT * FROM vecpg.rag_passages(collection, query_embedding, ARRAY(SELECT h.id FROM h), per_document)
        )
        SELECT h.id, h.title, h.score,
               -- best first: the order passages are kept in while they fit
               ARRAY(SELECT p.passage FROM p WHERE p.id = h.id ORDER BY p.relevance, p.passage_no) AS texts,
               ARRAY(SELECT p.passage_no FROM p WHERE p.id = h.id ORDER BY p.relevance, p.passage_no) AS nos
        FROM h ORDER BY h.rank
    LOOP
        kept := '';
        kept_nos := '{}';
        FOR i IN 1 .. coalesce(cardinality(hit.texts), 0) LOOP
            SELECT string_agg(u.t, ' … ' ORDER BY u.no) INTO candidate
            FROM unnest(hit.texts, hit.nos) AS u(t, no) WHERE u.no = ANY(kept_nos || hit.nos[i]);
            IF used + vecpg.estimated_tokens(candidate) <= token_budget THEN
                kept := candidate;
                kept_nos := kept_nos || hit.nos[i];
            END IF;
        END LOOP;
        truncated := cardinality(kept_nos) < coalesce(cardinality(hit.texts), 0);
        IF kept = '' AND cardinality(hit.texts) > 0 THEN
            -- Not even the best passage fits whole: its sentences that do. Sentences end at
            -- . ! ? (with closing quotes or brackets) and the space after them.
            FOR sentence IN SELECT m[1] FROM regexp_matches(hit.texts[1], '(.+?(?:[.!?]["'')\]]*(?:\s+|$)|$))', 'g') AS m
            LOOP
                EXIT WHEN used + vecpg.estimated_tokens(rtrim(kept || sentence)) > token_budget;
                kept := kept || sentence;
            END LOOP;
            kept := rtrim(kept);
        END IF;
        id := hit.id;
        title := hit.title;
        score := hit.score;
        IF kept = '' THEN
            n := NULL; passage := NULL; tokens := NULL;
        ELSE
            number := number + 1;
            n := number; passage := kept; tokens := vecpg.estimated_tokens(kept);
            used := used + tokens;
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION vecpg.rag_context(text, text, vector, integer, integer, jsonb, jsonb, integer) IS
    'Numbered passages of the best documents for a question within a token budget (estimated), '
    'for a prompt built elsewhere; documents left out come back with n NULL';
