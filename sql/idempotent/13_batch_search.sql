-- 13_batch_search.sql — many vector searches in one statement.
--
-- One round trip for a batch of query vectors: a LATERAL join runs vecpg.search's k-NN query
-- once per vector, each through the collection's vector index, with the same checks, filter,
-- options and row-level security. Keyword and hybrid batches need no function of their own:
--   SELECT queries.n, s.* FROM unnest(texts, vectors) WITH ORDINALITY AS queries(t, v, n)
--   CROSS JOIN LATERAL vecpg.hybrid_search('docs', queries.t, queries.v, 10) WITH ORDINALITY AS s
--   ORDER BY queries.n, s.ordinality
-- (vecpg/search/batch.py sends exactly that).

-- The k nearest documents to each of query_embeddings (at most 1,000 of them, as
-- vecpg/search/batch.py:MAX_QUERIES): query_no is the query's place in the array (1-based),
-- rank the document's in its results; rows come by query_no, then rank. `vectors`: return each
-- document's stored embedding too (as vector, whatever the storage). A query of the wrong
-- dimension anywhere fails the whole call before any search runs.
CREATE OR REPLACE FUNCTION vecpg.search_many(
    collection        text,
    query_embeddings  vector[],
    k                 integer,
    filter            jsonb DEFAULT '{}',
    options           jsonb DEFAULT '{}',
    vectors           boolean DEFAULT false
)
RETURNS TABLE (
    query_no integer, rank integer, id text, title text, content text, metadata jsonb,
    distance double precision, score double precision, embedding vector
)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    vs text := quote_ident(vecpg.vector_schema());
    q vector;
    predicate text;
    stored text;
BEGIN
    PERFORM vecpg.check_k(k);
    IF query_embeddings IS NULL OR array_ndims(query_embeddings) > 1 THEN
        RAISE EXCEPTION 'query_embeddings must be a one-dimensional array of vectors' USING ERRCODE = 'VP005';
    END IF;
    IF cardinality(query_embeddings) > 1000 THEN
        RAISE EXCEPTION 'a batch holds at most 1000 queries, got %', cardinality(query_embeddings)
            USING ERRCODE = 'VP005';
    END IF;
    FOREACH q IN ARRAY query_embeddings LOOP
        PERFORM vecpg.check_vector_query(c, q, k);
    END LOOP;
    predicate := vecpg.compile_filter(coalesce(filter, '{}'), '$2', 'd');
    options := vecpg.vector_search_options(c, predicate, options, k);
    PERFORM vecpg.apply_search_options(options);
    IF cardinality(query_embeddings) = 0 THEN
        RETURN;
    END IF;
    stored := CASE WHEN vectors THEN 'd.embedding::' ELSE 'NULL::' END || vs || '.vector';
    -- The outer sort also puts back in order the rows of a relaxed iterative scan.
    RETURN QUERY EXECUTE format(
        'SELECT queries.n::integer, (row_number() OVER (PARTITION BY queries.n ORDER BY s.distance))::integer, '
        '       s.id, s.title, s.content, s.metadata, s.distance, %s, s.embedding '
        'FROM unnest($1) WITH ORDINALITY AS queries(v, n) '
        'CROSS JOIN LATERAL (%s) s '
        'ORDER BY 1, 2',
        vecpg.score_sql(c, 's.distance'),
        vecpg.nearest_sql(c, 'd.id, d.title, d.content, d.metadata, ' || stored || ' AS embedding', predicate,
                          'queries.v', '$3', vecpg.rerank_factor(options)::text))
        USING query_embeddings, filter, k;
END
$$;
COMMENT ON FUNCTION vecpg.search_many(text, vector[], integer, jsonb, jsonb, boolean) IS
    'k nearest documents to each of several query vectors, in one statement (query_no: the query''s place)';
