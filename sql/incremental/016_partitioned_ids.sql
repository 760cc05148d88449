-- 016_partitioned_ids.sql — one tenant per document id in collections partitioned by tenant
-- (revision 0013).
--
-- Incremental: runs once, frozen after release. A partitioned table's unique keys must hold the
-- partition key, so such a collection's key is (tenant_id, id); the embedding queue and the
-- Qdrant mirror know a document by its id alone. This table holds each id of a partitioned
-- collection once, with its tenant, written by the collection's statement triggers
-- (vecpg.partitioned_ids, in the layer): an id another tenant holds is refused, as the primary
-- key refuses it in an unpartitioned collection. No role reads it; the triggers write it as its owner.
CREATE TABLE vecpg.partitioned_id (
    collection text NOT NULL REFERENCES vecpg.collection (name) ON DELETE CASCADE,
    id         text NOT NULL,
    tenant_id  text,
    PRIMARY KEY (collection, id)
);
COMMENT ON TABLE vecpg.partitioned_id IS
    'Each document id of a collection partitioned by tenant, with the one tenant it belongs to';
REVOKE ALL ON vecpg.partitioned_id FROM PUBLIC;
