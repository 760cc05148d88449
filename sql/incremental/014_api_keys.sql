-- 014_api_keys.sql — API keys of the HTTP service, and the key in the audit log (revision 0012).
--
-- Incremental: runs once, frozen after release. `vecpg keys create` makes a key
-- `vpk_<id>_<secret>` and prints it once; only the secret's SHA-256 is stored (the secret is 32
-- random bytes, so a fast hash is as safe as a slow one). `vecpg serve` looks a key up by its
-- id, compares hashes in constant time, and runs the request as the scope's group role inside
-- the key's tenant, so row-level security applies as for any client.

CREATE TABLE vecpg.api_key (
    id          text PRIMARY KEY,
    secret_hash bytea NOT NULL,
    tenant      text,
    scope       text NOT NULL CHECK (scope IN ('read', 'write', 'admin')),
    collection  text,
    description text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz,
    revoked_at  timestamptz,
    CHECK (scope = 'admin' OR tenant IS NOT NULL)
);
COMMENT ON TABLE vecpg.api_key IS 'Keys of vecpg serve: each bound to a tenant, a scope and optionally one collection';
COMMENT ON COLUMN vecpg.api_key.secret_hash IS 'SHA-256 of the key''s secret part; the key itself is never stored';
COMMENT ON COLUMN vecpg.api_key.collection IS 'The one collection the key may use; NULL for every collection';
REVOKE ALL ON vecpg.api_key FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE ON vecpg.api_key TO vecpg_admin;

-- Which key made a write through the service (NULL for other clients).
ALTER TABLE vecpg.audit_log ADD COLUMN api_key text;
