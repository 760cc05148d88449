-- 12_tuning.sql — a collection's search defaults: the options every search uses unless the call
-- gives its own (vecpg.search_options merges them), and the measurement that chose them.
--
-- `vecpg index tune` / collection.tune() measure recall and store their choice here; an admin may
-- also set defaults by hand. Both columns describe the vector index they were chosen for, so
-- vecpg.drop_index (and create_index, which drops the old index first) resets them.

-- Store a collection's search defaults (replacing the old ones; checked as a search's options
-- are) and, when tuning chose them, what the measurement found. Returns the stored defaults.
CREATE OR REPLACE FUNCTION vecpg.set_search_defaults(collection text, defaults jsonb, tuning jsonb DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
BEGIN
    defaults := vecpg.check_search_options(defaults);
    IF tuning IS NOT NULL AND jsonb_typeof(tuning) <> 'object' THEN
        RAISE EXCEPTION 'tuning must be a JSON object or NULL' USING ERRCODE = 'VP005';
    END IF;
    UPDATE vecpg.collection x SET search_defaults = defaults, tuning = tuning WHERE x.name = c.name;
    -- The keyword index's search function has the vector list, and its re-rank factor, written in.
    PERFORM vecpg.keyword_index_objects(c.name);
    RETURN defaults;
END
$$;
COMMENT ON FUNCTION vecpg.set_search_defaults(text, jsonb, jsonb) IS
    'Store the search options a collection''s searches use unless a call gives its own, and the tuning that chose them';

-- Forget a collection's search defaults and tuning; false when it had none.
CREATE OR REPLACE FUNCTION vecpg.reset_search_defaults(collection text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, @vector_schema@, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    c vecpg.collection := vecpg.get_collection(collection);
BEGIN
    IF c.search_defaults = '{}' AND c.tuning IS NULL THEN
        RETURN false;
    END IF;
    UPDATE vecpg.collection x SET search_defaults = '{}', tuning = NULL WHERE x.name = c.name;
    PERFORM vecpg.keyword_index_objects(c.name);
    RETURN true;
END
$$;
COMMENT ON FUNCTION vecpg.reset_search_defaults(text) IS
    'Forget a collection''s search defaults and tuning; false when it had none';
