-- 003_keyword_stats.sql — statistics for BM25 ranking inside the database.
--
-- Incremental file (runs once, frozen after release). BM25 needs, per query term, how many
-- documents contain it (document frequency), and per collection the number of documents and
-- their average length. Both are kept here, per tenant, by statement-level triggers on each
-- collection table (installed by vecpg.create_collection; for collections that already exist,
-- by the block at the end of 004_search_functions.sql). Per tenant so that one tenant's documents
-- never change another tenant's scores. tenant_key is coalesce(tenant_id, ''): '' holds the
-- documents without a tenant.

CREATE TABLE vecpg.bm25_df (
    collection text NOT NULL REFERENCES vecpg.collection (name) ON DELETE CASCADE,
    tenant_key text NOT NULL,
    lexeme     text NOT NULL,
    df         bigint NOT NULL,
    PRIMARY KEY (collection, tenant_key, lexeme)
);
COMMENT ON TABLE vecpg.bm25_df IS 'BM25 document frequency of each lexeme, per collection and tenant';

CREATE TABLE vecpg.bm25_totals (
    collection text NOT NULL REFERENCES vecpg.collection (name) ON DELETE CASCADE,
    tenant_key text NOT NULL,
    n_docs     bigint NOT NULL,
    total_len  bigint NOT NULL,  -- sum of length(fts): distinct lexemes per document
    PRIMARY KEY (collection, tenant_key)
);
COMMENT ON TABLE vecpg.bm25_totals IS 'BM25 document count and total length, per collection and tenant';
