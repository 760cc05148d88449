-- Reverse of 014_api_keys.sql, and of what revision 0012's finish grants.
REVOKE SELECT ON vecpg.embedding_status FROM vecpg_admin;
ALTER TABLE vecpg.audit_log DROP COLUMN api_key;
DROP TABLE vecpg.api_key;
