-- Revision 0001's layer as a delta from 0002's (python -m vecpg.schema.freeze 0001):
-- applied after 0002's layer, it gives 0001's. Generated: never edit by hand.

-- Functions 0002 added.
DROP FUNCTION vecpg._filter_error(text), vecpg._filter_field(text,jsonb,text[],text,text),
    vecpg._filter_node(jsonb,text[],text,text,integer), vecpg._nest(text[],text),
    vecpg.any_lexeme_query(text[]), vecpg.as_time(jsonb), vecpg.bm25_track(),
    vecpg.compile_filter(jsonb,text,text), vecpg.filter_time(jsonb,text),
    vecpg.hybrid_search(text,text,vector,integer,jsonb,jsonb),
    vecpg.keyword_search(text,text,integer,jsonb,jsonb), vecpg.pgvector_version(),
    vecpg.refresh_keyword_stats(text), vecpg.rows_filtered(text), vecpg.visible_tenant_keys();

CREATE OR REPLACE FUNCTION vecpg.check_filter(filter jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 IMMUTABLE
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
DECLARE
    k text;
BEGIN
    IF filter IS NULL THEN
        RETURN '{}';
    END IF;
    IF jsonb_typeof(filter) <> 'object' THEN
        RAISE EXCEPTION 'filter must be a JSON object, got %', jsonb_typeof(filter) USING ERRCODE = 'VP004';
    END IF;
    FOR k IN SELECT jsonb_object_keys(filter) LOOP
        IF k = '' OR left(k, 1) = '$' THEN
            RAISE EXCEPTION 'unsupported filter key %: only equality on metadata keys is supported',
                quote_literal(k) USING ERRCODE = 'VP004';
        END IF;
    END LOOP;
    RETURN filter;
END
$function$;
COMMENT ON FUNCTION vecpg.check_filter(jsonb) IS 'Validate a metadata equality filter; VP004 when malformed';

CREATE OR REPLACE FUNCTION vecpg.collection_created(collection text)
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
BEGIN
    NULL;
END
$function$;
COMMENT ON FUNCTION vecpg.collection_created(text) IS NULL;

CREATE OR REPLACE FUNCTION vecpg.search(collection text, query_embedding vector, k integer, filter jsonb DEFAULT '{}'::jsonb, options jsonb DEFAULT '{}'::jsonb)
 RETURNS TABLE(id text, title text, content text, metadata jsonb, distance double precision, score double precision)
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', @vector_schema@, 'pg_temp'
AS $function$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
    op text;
    score text;
    query text;
BEGIN
    IF k IS NULL OR k NOT BETWEEN 1 AND 1000 THEN
        RAISE EXCEPTION 'k must be between 1 and 1000, got %', k USING ERRCODE = 'VP005';
    END IF;
    IF query_embedding IS NULL THEN
        RAISE EXCEPTION 'query_embedding must not be NULL' USING ERRCODE = 'VP005';
    END IF;
    IF vector_dims(query_embedding) <> c.dimension THEN
        RAISE EXCEPTION 'query has % dimensions but collection "%" holds %-dimensional vectors',
            vector_dims(query_embedding), c.name, c.dimension USING ERRCODE = 'VP003';
    END IF;
    filter := vecpg.check_filter(filter);
    PERFORM vecpg.apply_search_options(options);

    op := format('OPERATOR(%I.%s)', vecpg.vector_schema(), vecpg.distance_operator(c.distance));
    score := CASE c.distance WHEN 'cosine' THEN '1 - distance'
                             WHEN 'ip' THEN '-distance'
                             ELSE 'NULL::double precision' END;
    -- An empty filter adds no predicate: "metadata @> '{}'" would only mislead the planner.
    query := format(
        'SELECT d.id, d.title, d.content, d.metadata, (d.embedding %1$s $1)::double precision AS distance '
        'FROM %2$I.%3$I d WHERE d.embedding IS NOT NULL %4$s ORDER BY d.embedding %1$s $1 LIMIT $3',
        op, c.schema_name, c.table_name,
        CASE WHEN filter = '{}'::jsonb THEN '' ELSE 'AND d.metadata @> $2' END);
    -- Relaxed iterative scans may return rows slightly out of order: sort the k rows again.
    RETURN QUERY EXECUTE format(
        'SELECT s.id, s.title, s.content, s.metadata, s.distance, %s FROM (%s) s ORDER BY s.distance',
        score, query)
        USING query_embedding, filter, k;
END
$function$;
COMMENT ON FUNCTION vecpg.search(text,vector,integer,jsonb,jsonb) IS 'k nearest documents of a collection to query_embedding, optionally filtered by metadata equality';
