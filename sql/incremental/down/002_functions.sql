-- Reverts 002_functions.sql: drops every function it created.
DROP FUNCTION IF EXISTS vecpg.search(text, vector, integer, jsonb, jsonb);
DROP FUNCTION IF EXISTS vecpg.apply_search_options(jsonb);
DROP FUNCTION IF EXISTS vecpg.check_filter(jsonb);
DROP FUNCTION IF EXISTS vecpg.rebuild_index(text);
DROP FUNCTION IF EXISTS vecpg.create_index(text, text, jsonb);
DROP FUNCTION IF EXISTS vecpg._int_param(jsonb, text, integer, integer, integer);
DROP FUNCTION IF EXISTS vecpg._raise_build_resources(jsonb);
DROP FUNCTION IF EXISTS vecpg.drop_index(text);
DROP FUNCTION IF EXISTS vecpg.index_info(text);
DROP FUNCTION IF EXISTS vecpg.distance_operator(text);
DROP FUNCTION IF EXISTS vecpg.drop_collection(text, boolean);
DROP FUNCTION IF EXISTS vecpg.create_collection(text, integer, text, text, regconfig, name);
DROP FUNCTION IF EXISTS vecpg.collection_created(text);
-- Collection tables' triggers use it; they are dropped with their tables in 001's downgrade.
DROP FUNCTION IF EXISTS vecpg.touch_updated_at() CASCADE;
DROP FUNCTION IF EXISTS vecpg.get_collection(text);
DROP FUNCTION IF EXISTS vecpg.pin_search_paths();
DROP FUNCTION IF EXISTS vecpg.vector_schema();
