-- 010_mirror.sql — the Qdrant mirror's tables (revision 0008): which collections are mirrored,
-- and the outbox of changes waiting to reach Qdrant.
--
-- Incremental: runs once, frozen after release. The triggers that fill the outbox and the
-- functions that manage it are in idempotent/09_mirror.sql.

-- One row per mirrored collection; settings say how its Qdrant collection is built.
CREATE TABLE vecpg.mirror (
    collection text PRIMARY KEY REFERENCES vecpg.collection (name) ON DELETE CASCADE,
    settings   jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(settings) = 'object'),
    enabled_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE vecpg.mirror IS 'Collections mirrored to Qdrant, with the settings of their Qdrant collections';

-- A change to mirror: a document id whose current state the sync copies (or deletes), or, with
-- doc_id NULL, the whole collection to copy again (enabling, TRUNCATE, vecpg mirror rebuild).
-- seq orders every event; the latest seq of an id is its revision in Qdrant.
CREATE TABLE vecpg.mirror_outbox (
    seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    collection text NOT NULL REFERENCES vecpg.mirror (collection) ON DELETE CASCADE,
    doc_id     text,
    at         timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE vecpg.mirror_outbox IS 'Changes of mirrored collections not yet in Qdrant';
CREATE INDEX mirror_outbox_collection_seq ON vecpg.mirror_outbox (collection, seq);

-- Admins manage mirrors and run the sync; writers' triggers append through a SECURITY DEFINER
-- function, so nobody else needs (or has) a right to the outbox.
REVOKE ALL ON vecpg.mirror, vecpg.mirror_outbox FROM PUBLIC;
GRANT SELECT ON vecpg.mirror TO vecpg_reader;
GRANT INSERT, UPDATE, DELETE ON vecpg.mirror TO vecpg_admin;
GRANT SELECT, INSERT, DELETE ON vecpg.mirror_outbox TO vecpg_admin;
