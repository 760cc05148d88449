-- 012_halfvec_storage.sql — collections that store their vectors in half precision (revision 0010).
--
-- Incremental: runs once, frozen after release. What reads and writes the column's type is in
-- the idempotent layer (vecpg.storage_type, vecpg.stored_query, vecpg.vector_opclass).

-- The pgvector type of a collection table's embedding column (and of its chunk table's):
-- 'vector', 4 bytes a dimension, or 'halfvec', 2 bytes a dimension with 11 significant bits
-- and values of at most 65504 in magnitude, which pgvector indexes up to 4,000 dimensions.
-- Chosen when the collection is created; existing collections store vectors.
ALTER TABLE vecpg.collection ADD COLUMN storage text NOT NULL DEFAULT 'vector'
    CONSTRAINT collection_storage_check CHECK (storage IN ('vector', 'halfvec'));

-- Functions that take a new argument: CREATE OR REPLACE cannot change an argument list, and the
-- new signature beside the old one would make every call by name ambiguous while the layer runs.
DROP FUNCTION vecpg.create_collection(text, integer, text, text, regconfig, name);
DROP FUNCTION vecpg.vector_opclass(text);
