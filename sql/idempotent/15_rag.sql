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

-- The k best documents for a question (hybrid search: the question's text and embedding,
-- filter and options as vecpg.hybrid_search takes them) as numbered passages that fit
-- token_budget estimated tokens, best first. A passage that does not fit whole is cut at the
-- last sentence end that fits (truncated); a document of which not even a sentence fits comes
-- back with n, passage and tokens NULL, so what was left out is reported, never silently lost.
-- Row-level security applies: a tenant's question reads only its own documents.
CREATE OR REPLACE FUNCTION vecpg.rag_context(
    collection      text,
    query_text      text,
    query_embedding vector,
    k               integer DEFAULT 5,
    token_budget    integer DEFAULT 1500,
    filter          jsonb DEFAULT '{}',
    options         jsonb DEFAULT '{}'
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
    sentence text;
    number integer := 0;
BEGIN
    IF token_budget IS NULL OR token_budget < 1 THEN
        RAISE EXCEPTION 'token_budget must be a positive integer, got %', token_budget USING ERRCODE = 'VP005';
    END IF;
    FOR hit IN SELECT h.id, h.title, h.content, h.score
               FROM vecpg.hybrid_search(collection, query_text, query_embedding, k, filter, options) h
    LOOP
        kept := hit.content;
        truncated := false;
        IF used + vecpg.estimated_tokens(kept) > token_budget THEN
            kept := '';
            truncated := true;
            -- Sentences end at . ! ? (with closing quotes or brackets) and the space after them.
            FOR sentence IN SELECT m[1] FROM regexp_matches(hit.content, '(.+?(?:[.!?]["'')\]]*(?:\s+|$)|$))', 'g') AS m
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
COMMENT ON FUNCTION vecpg.rag_context(text, text, vector, integer, integer, jsonb, jsonb) IS
    'Numbered passages of the best documents for a question within a token budget (estimated), '
    'for a prompt built elsewhere; documents left out come back with n NULL';
