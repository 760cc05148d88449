-- 90_privileges.sql — who may run which function.
--
-- Functions are executable by everyone (PostgreSQL's default) and run as their caller, so
-- row-level security and table grants decide what they may touch. The functions that change
-- collections, their storage, indexes or policies are for vecpg_admin only; the audit trigger,
-- and the mirror's and the embedding queue's capture triggers, the SECURITY DEFINER functions, may be attached by admins
-- and called by nobody else.
DO $grants$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
             WHERE p.pronamespace = 'vecpg'::regnamespace
               AND p.proname IN ('create_collection', 'drop_collection', 'collection_created',
                                 'store_inline', 'refresh_keyword_stats', 'keyword_stats_triggers',
                                 'statement_triggers', 'keyword_index_objects',
                                 'apply_tenancy', 'set_shared_rows', 'create_index', 'drop_index',
                                 'rebuild_index', 'index_built', 'enable_keyword_index', 'disable_keyword_index', 'audit_write',
                                 'mirror_objects', 'enable_mirror', 'disable_mirror', 'rebuild_mirror',
                                 'mirror_capture', 'embedding_queue_objects', 'embedding_capture',
                                 'queue_missing_embeddings', 'claim_embeddings', 'store_embeddings',
                                 'embedding_failed', 'release_embeddings', 'retry_embeddings',
                                 'embedding_status_rows', 'set_embedder', 'chunk_objects', 'enable_chunking',
                                 'disable_chunking', 'set_search_defaults', 'reset_search_defaults',
                                 'expiry_objects', 'set_ttl',
                                 'partitioned_id_objects', 'partitioned_ids', 'create_partitioned_collection',
                                 'create_default_partition', 'give_tenant_partition', 'own_partitions')
    LOOP
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO vecpg_admin', f);
    END LOOP;
END
$grants$;
