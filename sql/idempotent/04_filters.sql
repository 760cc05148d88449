-- 04_filters.sql — the JSON filter language, compiled to a SQL predicate.
--
-- A filter is a JSON object. Each key is a field: a metadata key (dotted for nested keys,
-- "author.name"; "metadata.id" for a metadata key that shadows a column) or one of the columns
-- id, created_at, updated_at. Its value is a value to equal or an object of operators:
--   $eq $ne $in $nin $gt $gte $lt $lte $exists $contains
-- and $and / $or (arrays of filters) and $not (a filter) combine filters. Equality on metadata
-- is JSON containment, served by the GIN jsonb_path_ops index; $gt..$lte compare numbers, or
-- ISO-8601 dates and times. The predicate never contains a value: it reads each one from the
-- filter itself, passed as a parameter, by its path ($2 #> '{price,$gt}'), so it depends only
-- on the filter's shape and clients may cache it by shape.

CREATE OR REPLACE FUNCTION vecpg._filter_error(message text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION '%', message USING ERRCODE = 'VP004';
END
$$;

-- A filter value as a point in time; VP004 naming the key when it is not one.
CREATE OR REPLACE FUNCTION vecpg.filter_time(value jsonb, key text)
RETURNS timestamptz
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
BEGIN
    IF jsonb_typeof(value) = 'string' AND value #>> '{}' ~ '^\d{4}-\d{2}-\d{2}' THEN
        BEGIN
            RETURN (value #>> '{}')::timestamptz;
        EXCEPTION WHEN others THEN
            NULL;  -- fall through to the error below
        END;
    END IF;
    RAISE EXCEPTION 'filter on %: % is not an ISO-8601 date or time', quote_literal(key), value
        USING ERRCODE = 'VP004';
END
$$;

-- A document's metadata value as a point in time, or NULL when it is not one (no match).
CREATE OR REPLACE FUNCTION vecpg.as_time(value jsonb)
RETURNS timestamptz
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
BEGIN
    IF jsonb_typeof(value) = 'string' AND value #>> '{}' ~ '^\d{4}-\d{2}-\d{2}' THEN
        RETURN (value #>> '{}')::timestamptz;
    END IF;
    RETURN NULL;
EXCEPTION WHEN others THEN
    RETURN NULL;
END
$$;

-- jsonb_build_object nesting that places expression `inner` at `path`, as SQL text.
CREATE OR REPLACE FUNCTION vecpg._nest(path text[], inner_sql text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
DECLARE
    out text := inner_sql;
    i integer;
BEGIN
    FOR i IN REVERSE cardinality(path)..1 LOOP
        out := format('jsonb_build_object(%L, %s)', path[i], out);
    END LOOP;
    RETURN out;
END
$$;

CREATE OR REPLACE FUNCTION vecpg._filter_field(field text, value jsonb, vpath text[], param text, alias text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
DECLARE
    column_name text;
    mpath text[];
    ops jsonb;
    op text;
    arg jsonb;
    v text;          -- SQL reading this operator's value from the filter parameter
    doc text;        -- SQL reading the document's metadata value
    parts text[] := '{}';
    operator text;
    implicit boolean := false;
BEGIN
    IF field = '' THEN
        PERFORM vecpg._filter_error('filter keys must not be empty');
    END IF;
    IF field IN ('id', 'created_at', 'updated_at') THEN
        column_name := field;
    ELSE
        mpath := string_to_array(CASE WHEN field LIKE 'metadata.%' THEN substr(field, 10) ELSE field END, '.');
        IF '' = ANY (mpath) OR cardinality(mpath) = 0 THEN
            PERFORM vecpg._filter_error(format('invalid filter key %L: empty part in a dotted path', field));
        END IF;
    END IF;

    -- An object of $operators, or a plain value meaning equality.
    IF jsonb_typeof(value) = 'object' AND EXISTS (SELECT 1 FROM jsonb_object_keys(value) k WHERE left(k, 1) = '$') THEN
        IF EXISTS (SELECT 1 FROM jsonb_object_keys(value) k WHERE left(k, 1) <> '$') THEN
            PERFORM vecpg._filter_error(format('filter on %L mixes operators and plain keys', field));
        END IF;
        ops := value;
    ELSE
        ops := jsonb_build_object('$eq', value);
        implicit := true;
    END IF;

    FOR op, arg IN SELECT * FROM jsonb_each(ops) LOOP
        -- An implicit $eq's value sits at the field's own path.
        v := format('(%s #> %L::text[])', param, CASE WHEN implicit THEN vpath ELSE vpath || op END);
        IF column_name IS NOT NULL THEN
            doc := format('%I.%I', alias, column_name);
            IF column_name = 'id' THEN
                IF op IN ('$eq', '$ne') THEN
                    IF jsonb_typeof(arg) <> 'string' THEN
                        PERFORM vecpg._filter_error(format('filter on id: %s needs a string', op));
                    END IF;
                    parts := parts || format('%s %s (%s #>> ''{}'')', doc, CASE op WHEN '$eq' THEN '=' ELSE '<>' END, v);
                ELSIF op IN ('$in', '$nin') THEN
                    IF jsonb_typeof(arg) <> 'array' THEN
                        PERFORM vecpg._filter_error(format('filter on id: %s needs an array', op));
                    END IF;
                    parts := parts || format('%s(%s = ANY (ARRAY(SELECT jsonb_array_elements_text(%s))))',
                                             CASE op WHEN '$nin' THEN 'NOT ' ELSE '' END, doc, v);
                ELSE
                    PERFORM vecpg._filter_error(format('operator %s is not supported on id (use $eq, $ne, $in, $nin)', op));
                END IF;
            ELSE
                operator := CASE op WHEN '$eq' THEN '=' WHEN '$ne' THEN '<>' WHEN '$gt' THEN '>'
                                    WHEN '$gte' THEN '>=' WHEN '$lt' THEN '<' WHEN '$lte' THEN '<=' END;
                IF operator IS NULL THEN
                    PERFORM vecpg._filter_error(format('operator %s is not supported on %s (use $eq, $ne, $gt, $gte, $lt, $lte)', op, column_name));
                END IF;
                PERFORM vecpg.filter_time(arg, field);
                parts := parts || format('%s %s vecpg.filter_time(%s, %L)', doc, operator, v, field);
            END IF;
            CONTINUE;
        END IF;

        doc := format('(%I.metadata #> %L::text[])', alias, mpath);
        CASE op
        WHEN '$eq' THEN
            parts := parts || format('%I.metadata @> %s', alias, vecpg._nest(mpath, v));
        WHEN '$ne' THEN
            parts := parts || format('NOT (%I.metadata @> %s)', alias, vecpg._nest(mpath, v));
        WHEN '$in', '$nin' THEN
            IF jsonb_typeof(arg) <> 'array' THEN
                PERFORM vecpg._filter_error(format('filter on %L: %s needs an array', field, op));
            END IF;
            IF jsonb_array_length(arg) BETWEEN 1 AND 64 THEN
                -- One containment per value, ORed: the metadata GIN index answers that with a
                -- bitmap OR, where an EXISTS over the array reads every row (langchain-postgres #34).
                parts := parts || format('%s(%s)', CASE op WHEN '$nin' THEN 'NOT ' ELSE '' END,
                    (SELECT string_agg(format('%I.metadata @> %s', alias, vecpg._nest(mpath, format('(%s -> %s)', v, i))),
                                       ' OR ' ORDER BY i)
                     FROM generate_series(0, jsonb_array_length(arg) - 1) AS i));
            ELSE
                parts := parts || format('%sEXISTS (SELECT 1 FROM jsonb_array_elements(%s) AS vecpg_in(v) WHERE %I.metadata @> %s)',
                                         CASE op WHEN '$nin' THEN 'NOT ' ELSE '' END, v, alias, vecpg._nest(mpath, 'vecpg_in.v'));
            END IF;
        WHEN '$gt', '$gte', '$lt', '$lte' THEN
            operator := CASE op WHEN '$gt' THEN '>' WHEN '$gte' THEN '>=' WHEN '$lt' THEN '<' ELSE '<=' END;
            IF jsonb_typeof(arg) = 'number' THEN
                -- Never NULL: under $not, "not comparable" must stay false, not unknown.
                parts := parts || format('coalesce(CASE WHEN jsonb_typeof(%1$s) = ''number'' THEN (%1$s)::numeric %2$s (%3$s)::numeric END, false)',
                                         doc, operator, v);
            ELSIF jsonb_typeof(arg) = 'string' THEN
                PERFORM vecpg.filter_time(arg, field);
                parts := parts || format('coalesce(vecpg.as_time(%s) %s vecpg.filter_time(%s, %L), false)', doc, operator, v, field);
            ELSE
                PERFORM vecpg._filter_error(format('filter on %L: %s needs a number or an ISO-8601 date, got %s',
                                                   field, op, jsonb_typeof(arg)));
            END IF;
        WHEN '$exists' THEN
            IF jsonb_typeof(arg) <> 'boolean' THEN
                PERFORM vecpg._filter_error(format('filter on %L: $exists needs true or false', field));
            END IF;
            -- The value's truth is read at run time: the predicate serves both.
            parts := parts || format('((%s IS NOT NULL) = (%s)::boolean)', doc, v);
        WHEN '$contains' THEN
            IF jsonb_typeof(arg) = 'array' THEN
                parts := parts || format('%I.metadata @> %s', alias, vecpg._nest(mpath, v));
            ELSE
                parts := parts || format('%I.metadata @> %s', alias, vecpg._nest(mpath, format('jsonb_build_array(%s)', v)));
            END IF;
        ELSE
            PERFORM vecpg._filter_error(format('unknown filter operator %s on %L (use $eq, $ne, $in, $nin, $gt, $gte, $lt, $lte, $exists, $contains)',
                                               op, field));
        END CASE;
    END LOOP;
    IF cardinality(parts) = 0 THEN
        PERFORM vecpg._filter_error(format('filter on %L has no operators', field));
    END IF;
    RETURN array_to_string(parts, ' AND ');
END
$$;

CREATE OR REPLACE FUNCTION vecpg._filter_node(node jsonb, path text[], param text, alias text, depth integer)
RETURNS text
LANGUAGE plpgsql IMMUTABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
DECLARE
    key text;
    value jsonb;
    parts text[] := '{}';
    sub text[];
    i integer;
BEGIN
    IF depth > 32 THEN
        PERFORM vecpg._filter_error('filter is nested more than 32 levels deep');
    END IF;
    IF jsonb_typeof(node) <> 'object' THEN
        PERFORM vecpg._filter_error(format('a filter must be a JSON object, got %s', jsonb_typeof(node)));
    END IF;
    FOR key, value IN SELECT * FROM jsonb_each(node) LOOP
        IF key IN ('$and', '$or') THEN
            IF jsonb_typeof(value) <> 'array' OR jsonb_array_length(value) = 0 THEN
                PERFORM vecpg._filter_error(format('%s needs a non-empty array of filters', key));
            END IF;
            sub := '{}';
            FOR i IN 0..jsonb_array_length(value) - 1 LOOP
                sub := sub || vecpg._filter_node(value -> i, path || key || i::text, param, alias, depth + 1);
            END LOOP;
            parts := parts || ('((' || array_to_string(sub, CASE key WHEN '$and' THEN ') AND (' ELSE ') OR (' END) || '))');
        ELSIF key = '$not' THEN
            parts := parts || format('NOT (%s)', vecpg._filter_node(value, path || key, param, alias, depth + 1));
        ELSIF left(key, 1) = '$' THEN
            PERFORM vecpg._filter_error(format('unknown filter operator %s (top-level operators: $and, $or, $not)', key));
        ELSE
            parts := parts || ('(' || vecpg._filter_field(key, value, path || key, param, alias) || ')');
        END IF;
    END LOOP;
    IF cardinality(parts) = 0 THEN
        RETURN 'true';
    END IF;
    RETURN array_to_string(parts, ' AND ');
END
$$;

CREATE OR REPLACE FUNCTION vecpg.compile_filter(filter jsonb, param text DEFAULT '$2', alias text DEFAULT 'd')
RETURNS text
LANGUAGE plpgsql IMMUTABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
BEGIN
    IF filter IS NULL THEN
        RETURN 'true';
    END IF;
    RETURN vecpg._filter_node(filter, '{}', param, alias, 0);
END
$$;
COMMENT ON FUNCTION vecpg.compile_filter(jsonb, text, text) IS
    'SQL predicate for a filter; it reads values from the filter passed as parameter `param`';

-- The tail of a WHERE clause reading documents through alias `alias`: AND the filter's predicate
-- (compile_filter's text; 'true' adds nothing) and, when `live`, AND not expired. The one
-- spelling of "not expired" (vecpg/filters.py asks for it here too): a document past its
-- expires_at is gone for every read at once, before a purge deletes it (17_expiry.sql).
CREATE OR REPLACE FUNCTION vecpg.where_sql(predicate text, live boolean DEFAULT true, alias text DEFAULT 'd')
RETURNS text
LANGUAGE sql IMMUTABLE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
    SELECT CASE WHEN live THEN format('AND (%1$s.expires_at IS NULL OR %1$s.expires_at > now())', quote_ident(alias))
                ELSE '' END
        || CASE WHEN predicate IS NULL OR predicate = 'true' THEN '' ELSE ' AND (' || predicate || ')' END
$$;
COMMENT ON FUNCTION vecpg.where_sql(text, boolean, text) IS
    'AND the predicate, and (when live) AND the document has not expired: the tail of a read''s WHERE clause';
