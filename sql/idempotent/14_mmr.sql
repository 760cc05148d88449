-- 14_mmr.sql — diversity: maximal marginal relevance (MMR) over a first stage's candidates.
--
-- Greedy MMR (Carbonell and Goldstein, 1998), as LangChain's max_marginal_relevance_search:
-- the most relevant candidate first, then at each step the one maximising
--     lambda * relevance(d) - (1 - lambda) * max over the chosen s of similarity(d, s)
-- lambda 1 keeps the relevance order, 0 picks the candidate least like those chosen.
-- Similarities are cosines of the stored vectors, whatever the collection's metric: MMR weighs
-- relevance against likeness between documents, which needs one bounded scale for both; l2 has
-- no similarity and an inner product is unbounded, while cosine is in [-1, 1] and ignores length.

-- lambda checked (VP005): a number between 0 and 1.
CREATE OR REPLACE FUNCTION vecpg.check_mmr_lambda(lambda double precision)
RETURNS void
LANGUAGE plpgsql IMMUTABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
BEGIN
    IF lambda IS NULL OR NOT lambda BETWEEN 0 AND 1 THEN  -- NaN is above every number
        RAISE EXCEPTION 'lambda must be between 0 and 1, got %', coalesce(lambda::text, 'NULL') USING ERRCODE = 'VP005';
    END IF;
END
$$;

-- Cosine similarity of two vectors; 0 when one is a zero vector (whose cosine pgvector gives
-- as NaN). Inlinable SQL with schema-qualified names, as MMR's steps call it for every pair they
-- compare: a pinned search_path (a SET clause) would stop the inlining and change a setting on
-- every call, ten times the cost (2 ms more for 50 candidates and 10 picks).
CREATE OR REPLACE FUNCTION vecpg.cosine_similarity(a vector, b vector)
RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE SECURITY INVOKER
AS $$
    SELECT coalesce(nullif(1 OPERATOR(pg_catalog.-) (a OPERATOR(@vector_schema@.<=>) b), 'NaN'::pg_catalog.float8), 0)
$$;

-- The k of `ids` that MMR picks, in order. Relevance: `relevance` (one score per id, any scale,
-- such as a reranker's or a fused score) min-max normalised to [0, 1] over the candidates found,
-- so that it weighs against cosines; without it, each stored vector's cosine to the query. Ids
-- the caller cannot see (row-level security), without a vector or not in the collection take no
-- part; an id given twice counts once, at its first place. Ties go to the earlier place in
-- `ids`. mmr_score is the pick's MMR score when it was picked (lambda * relevance for the first).
-- One query reads the candidates' vectors and relevance into arrays; the greedy steps work on
-- those, computing a similarity only when a pick needs it: k * n of them rather than all n * n
-- (for 50 candidates and 10 picks, about twice as fast as all pairs computed in the query).
CREATE OR REPLACE FUNCTION vecpg.mmr_select(
    collection      text,
    query_embedding vector,
    ids             text[],
    relevance       double precision[] DEFAULT NULL,
    k               integer DEFAULT 10,
    lambda          double precision DEFAULT 0.5
)
RETURNS TABLE (id text, mmr_rank integer, mmr_score double precision)
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    vs text := quote_ident(vecpg.vector_schema());
    found_ids text[];
    rel double precision[];
    vecs vector[];
    nearest double precision[];  -- each candidate's greatest similarity to those picked
    picked boolean[];
    n integer;
    picks integer;
    best integer;
    best_score double precision;
    s double precision;
BEGIN
    PERFORM vecpg.check_vector_query(c, query_embedding, k);
    PERFORM vecpg.check_mmr_lambda(lambda);
    IF ids IS NULL THEN
        RAISE EXCEPTION 'ids must not be NULL' USING ERRCODE = 'VP005';
    END IF;
    IF relevance IS NOT NULL THEN
        IF cardinality(relevance) <> cardinality(ids) THEN
            RAISE EXCEPTION 'relevance has % scores for % ids: give one per id', cardinality(relevance), cardinality(ids)
                USING ERRCODE = 'VP005';
        END IF;
        IF EXISTS (SELECT FROM unnest(relevance) r WHERE r IS NULL OR r IN ('NaN', 'Infinity', '-Infinity')) THEN
            RAISE EXCEPTION 'relevance scores must be finite numbers' USING ERRCODE = 'VP005';
        END IF;
    END IF;

    -- Stored halfvecs are compared as vectors (exactly: every half is a float).
    EXECUTE format(
        $q$
        WITH given AS (
            SELECT DISTINCT ON (u.id) u.id, u.rel, u.pos
            FROM unnest($1::text[], $2::float8[]) WITH ORDINALITY AS u(id, rel, pos)
            ORDER BY u.id, u.pos
        ),
        cand AS (
            SELECT g.pos, g.id, d.embedding::%1$s.vector AS e,
                   coalesce((g.rel - min(g.rel) OVER ()) / nullif(max(g.rel) OVER () - min(g.rel) OVER (), 0), 1) AS rel
            FROM given g JOIN %2$I.%3$I d ON d.id = g.id
            WHERE d.embedding IS NOT NULL
        )
        SELECT array_agg(x.id ORDER BY x.pos), array_agg(x.e ORDER BY x.pos),
               array_agg(CASE WHEN $2 IS NULL THEN vecpg.cosine_similarity(x.e, $3) ELSE x.rel END ORDER BY x.pos)
        FROM cand x
        $q$,
        vs, c.schema_name, c.table_name)
        INTO found_ids, vecs, rel
        USING ids, relevance, query_embedding;

    n := coalesce(cardinality(found_ids), 0);
    picks := least(k, n);
    picked := array_fill(false, ARRAY[n]);
    nearest := array_fill(0::float8, ARRAY[n]);
    FOR step IN 1 .. picks LOOP
        best := NULL;
        FOR j IN 1 .. n LOOP
            CONTINUE WHEN picked[j];
            -- The first pick is the most relevant at every lambda (the limit as lambda goes to 0).
            s := CASE WHEN step = 1 THEN rel[j] ELSE lambda * rel[j] - (1 - lambda) * nearest[j] END;
            IF best IS NULL OR s > best_score THEN
                best := j;
                best_score := s;
            END IF;
        END LOOP;
        picked[best] := true;
        id := found_ids[best];
        mmr_rank := step;
        mmr_score := CASE WHEN step = 1 THEN lambda * best_score ELSE best_score END;
        RETURN NEXT;
        CONTINUE WHEN step = picks;
        FOR j IN 1 .. n LOOP
            CONTINUE WHEN picked[j];
            s := vecpg.cosine_similarity(vecs[best], vecs[j]);
            IF step = 1 OR s > nearest[j] THEN
                nearest[j] := s;
            END IF;
        END LOOP;
    END LOOP;
END
$$;
COMMENT ON FUNCTION vecpg.mmr_select(text, vector, text[], double precision[], integer, double precision) IS
    'The k of ids that maximal marginal relevance picks, in order (lambda 1: relevance only, 0: most diverse)';

-- Vector search with diversity in one statement: vecpg.search's `candidates` nearest (default 20
-- or 4 * k, whichever is larger, at most 1000; at least k), then the k that vecpg.mmr_select
-- picks among them with relevance the cosine to the query. vector_rank is the hit's place in
-- the plain search; the other columns are vecpg.search's. LangChain's fetch_k is `candidates`,
-- its lambda_mult `lambda`.
CREATE OR REPLACE FUNCTION vecpg.mmr_search(
    collection      text,
    query_embedding vector,
    k               integer,
    lambda          double precision DEFAULT 0.5,
    candidates      integer DEFAULT NULL,
    filter          jsonb DEFAULT '{}',
    options         jsonb DEFAULT '{}'
)
RETURNS TABLE (id text, title text, content text, metadata jsonb, distance double precision, score double precision,
               vector_rank integer)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    n integer;
BEGIN
    -- Checked before the search runs; vecpg.search and vecpg.mmr_select check the rest.
    PERFORM vecpg.check_vector_query(vecpg.get_collection(collection), query_embedding, k);
    PERFORM vecpg.check_mmr_lambda(lambda);
    n := vecpg._int_param(jsonb_build_object('candidates', candidates), 'candidates', least(greatest(20, 4 * k), 1000),
                          k, 1000);
    RETURN QUERY
    WITH v AS MATERIALIZED (
        SELECT s.* FROM vecpg.search(collection, query_embedding, n, filter, options)
            WITH ORDINALITY AS s(id, title, content, metadata, distance, score, r)
    )
    SELECT v.id, v.title, v.content, v.metadata, v.distance, v.score, v.r::integer
    FROM vecpg.mmr_select(collection, query_embedding, ARRAY(SELECT v.id FROM v ORDER BY v.r), NULL, k, lambda) m
    JOIN v ON v.id = m.id
    ORDER BY m.mmr_rank;
END
$$;
COMMENT ON FUNCTION vecpg.mmr_search(text, vector, integer, double precision, integer, jsonb, jsonb) IS
    'k documents nearest to query_embedding and unlike each other: vector search candidates re-picked by MMR';
