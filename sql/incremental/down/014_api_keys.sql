-- Reverse of 014_api_keys.sql.
ALTER TABLE vecpg.audit_log DROP COLUMN api_key;
DROP TABLE vecpg.api_key;
