-- 95_own_tables.sql — triggers, policies and views on vecpg's own tables.
--
-- The layer's finish (with 99): files from 95 on run after every function of the layer exists
-- and touch tables, so an older revision's layer runs its own copy of them instead
-- (sql/history/, sql/README.md). Their functions are in the files of their areas.

-- The audit log (01_tenancy.sql) is append-only.
DROP TRIGGER IF EXISTS append_only ON vecpg.audit_log;
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON vecpg.audit_log
    FOR EACH ROW EXECUTE FUNCTION vecpg.audit_append_only();

-- Statistics follow the rows they count: a tenant sees its own, and the shared ones where the
-- collection shares rows. So BM25 scores use only the documents the caller can see.
DROP POLICY IF EXISTS tenant_stats ON vecpg.bm25_df;
CREATE POLICY tenant_stats ON vecpg.bm25_df
    USING (tenant_key = coalesce(vecpg.current_tenant(), '') OR (tenant_key = '' AND vecpg.shares_rows(collection)))
    WITH CHECK (tenant_key = coalesce(vecpg.current_tenant(), ''));
DROP POLICY IF EXISTS tenant_stats ON vecpg.bm25_totals;
CREATE POLICY tenant_stats ON vecpg.bm25_totals
    USING (tenant_key = coalesce(vecpg.current_tenant(), '') OR (tenant_key = '' AND vecpg.shares_rows(collection)))
    WITH CHECK (tenant_key = coalesce(vecpg.current_tenant(), ''));

-- A keyword index goes with its collection (08_keyword_index.sql).
DROP TRIGGER IF EXISTS drop_keyword_index ON vecpg.collection;
CREATE TRIGGER drop_keyword_index AFTER DELETE ON vecpg.collection
    FOR EACH ROW EXECUTE FUNCTION vecpg.drop_keyword_index_of_collection();

-- The embedding pipeline's status (10_embedding_queue.sql).
CREATE OR REPLACE VIEW vecpg.embedding_status AS SELECT * FROM vecpg.embedding_status_rows();
COMMENT ON VIEW vecpg.embedding_status IS
    'Embedding pipeline per collection: coverage, queue, failures, throughput (docs/s while embedding)';
GRANT SELECT ON vecpg.embedding_status TO vecpg_admin;  -- vecpg worker status, the metrics
