-- 011_embedding_queue.sql — the embedding pipeline's tables (revision 0009): the queue of
-- documents waiting for a vector, what the workers did, where an ingest can resume; and the
-- catalog columns of embedders, chunks, quantized indexes and tuned search options.
--
-- Incremental: runs once, frozen after release. The triggers that fill the queue and the
-- functions workers call are in idempotent/12_embedding_queue.sql.

-- Which embedder computes a collection's vectors (sentence-transformers, transformers, onnx,
-- onnx-int8; vecpg.embedding knows the list); NULL: the store's default.
ALTER TABLE vecpg.collection ADD COLUMN embedder text;
-- Long documents split into chunks of this many model tokens, overlapping by chunk_overlap,
-- each with its own vector (vecpg.enable_chunking); NULL: one vector per document, of the
-- text the model's window holds.
ALTER TABLE vecpg.collection ADD COLUMN chunk_tokens integer, ADD COLUMN chunk_overlap integer;
-- What a collection's vector index is built on (vecpg.create_index sets it): NULL the vectors,
-- 'halfvec' their half-precision copies, 'binary' their sign bits, searched by Hamming distance
-- with the candidates re-ranked by the exact one. Searches order by the same expression.
ALTER TABLE vecpg.collection ADD COLUMN quantization text;
-- Search options used unless a call gives its own (ef_search, probes, rerank), and what the
-- measurement that chose them found (target recall, recall reached, k, when).
ALTER TABLE vecpg.collection ADD COLUMN search_defaults jsonb NOT NULL DEFAULT '{}', ADD COLUMN tuning jsonb;

-- A document waiting for its vector: queued in the transaction that wrote its text without one.
-- text_hash is the SHA-256 of the text the model sees, as queued: a worker writes its vector
-- only if the row still has that text, so a vector can never be older than its row.
-- A worker claims rows by putting its key in claimed_by while it holds the session advisory
-- lock (vecpg.worker_lock_class(), key): when the worker dies its lock goes, and the rows are
-- free again at once. failed_at set: out of the queue, in the failed list, until retried.
CREATE TABLE vecpg.embedding_queue (
    collection text NOT NULL REFERENCES vecpg.collection (name) ON DELETE CASCADE,
    doc_id     text NOT NULL,
    text_hash  bytea NOT NULL,
    queued_at  timestamptz NOT NULL DEFAULT now(),
    attempts   integer NOT NULL DEFAULT 0,
    retry_at   timestamptz NOT NULL DEFAULT now(),
    last_error text,
    failed_at  timestamptz,
    claimed_by integer,
    claimed_at timestamptz,
    PRIMARY KEY (collection, doc_id)
);
COMMENT ON TABLE vecpg.embedding_queue IS 'Documents waiting for a vector from the embedding workers, and those that failed';
CREATE INDEX embedding_queue_ready ON vecpg.embedding_queue (collection, retry_at, queued_at) WHERE failed_at IS NULL;

-- One row per batch a worker finished, for throughput; workers prune rows older than a day.
CREATE TABLE vecpg.embedding_log (
    collection text NOT NULL REFERENCES vecpg.collection (name) ON DELETE CASCADE,
    at         timestamptz NOT NULL DEFAULT now(),
    embedded   integer NOT NULL,
    failed     integer NOT NULL,
    seconds    double precision NOT NULL
);
COMMENT ON TABLE vecpg.embedding_log IS 'Batches the embedding workers finished: how many rows, how long';
CREATE INDEX embedding_log_collection_at ON vecpg.embedding_log (collection, at);

-- How far an ingest of a file got, written in the transaction of each batch it commits, so an
-- interrupted ingest resumes after the last committed record. fingerprint identifies the
-- file's contents; a different file under the same name starts from the beginning. Each tenant
-- has its own checkpoints ('' for writers without a tenant) and sees no other tenant's.
CREATE TABLE vecpg.ingest_checkpoint (
    collection  text NOT NULL REFERENCES vecpg.collection (name) ON DELETE CASCADE,
    tenant_key  text NOT NULL DEFAULT coalesce(vecpg.current_tenant(), ''),
    source      text NOT NULL,
    fingerprint text NOT NULL,
    records     bigint NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    PRIMARY KEY (collection, tenant_key, source)
);
ALTER TABLE vecpg.ingest_checkpoint ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_checkpoints ON vecpg.ingest_checkpoint
    USING (tenant_key = coalesce(vecpg.current_tenant(), ''))
    WITH CHECK (tenant_key = coalesce(vecpg.current_tenant(), ''));
COMMENT ON TABLE vecpg.ingest_checkpoint IS 'Records of a file each ingest has committed, to resume from';

-- Writers queue through a SECURITY DEFINER trigger function and never read the queue (it names
-- every tenant's ids); workers run as admins. Ingests are writes.
REVOKE ALL ON vecpg.embedding_queue, vecpg.embedding_log, vecpg.ingest_checkpoint FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON vecpg.embedding_queue, vecpg.embedding_log TO vecpg_admin;
GRANT SELECT, INSERT, UPDATE, DELETE ON vecpg.ingest_checkpoint TO vecpg_writer;
