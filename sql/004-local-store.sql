-- Added: the local value store (`backend = local` in the configuration),
-- for a single host, development and tests (doc/architecture.md, section
-- 6).  Each value is sealed with XChaCha20-Poly1305 under the 32-byte master
-- key file, with the secret's path and version as associated data.  Same
-- versions and soft-delete semantics as Vault's KV v2.  Reached only by
-- vault_storage_user; secrets_api_user and monitoring_user cannot read it.
--
-- path is the secret's KV v2 path
-- (organizations/{org}/projects/{project}/environments/{env}/secrets/{NAME}),
-- byte-exact and case-sensitive, as in Vault: VARBINARY, no collation.
--
-- VARBINARY(3000), not 3072 as vault_storage.vault_key: InnoDB indexes at
-- most 3072 bytes per key, and vc_values' primary key is (path, version),
-- 3072 + 4 bytes, which is refused ("Specified key was too long").  Both
-- tables take the same length so that any path one accepts the other does.
-- Our paths are under 450 bytes (three UUIDs and a 255-byte name).

-- One row per secret path: KV v2's key metadata.
CREATE TABLE vc_value_keys (
  path            VARBINARY(3000) NOT NULL,
  current_version INT             NOT NULL,
  -- Versions below oldest_version have been dropped by max_versions.
  oldest_version  INT             NOT NULL DEFAULT 1,
  -- 0 = keep every version (KV v2's default).
  max_versions    INT             NOT NULL DEFAULT 0,
  created_at      DATETIME(6)     NOT NULL,
  updated_at      DATETIME(6)     NOT NULL,
  PRIMARY KEY (path)
) ENGINE=InnoDB ROW_FORMAT=DYNAMIC
  DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per version.  deleted_at: soft-deleted (restorable);
-- destroyed = 1: the ciphertext is gone for good (KV v2 destroy).
CREATE TABLE vc_values (
  path       VARBINARY(3000) NOT NULL,
  version    INT             NOT NULL,
  nonce      BINARY(24)      NOT NULL,
  ciphertext MEDIUMBLOB      NOT NULL,
  created_at DATETIME(6)     NOT NULL,
  deleted_at DATETIME(6)     NULL,
  destroyed  TINYINT         NOT NULL DEFAULT 0,
  PRIMARY KEY (path, version)
) ENGINE=InnoDB ROW_FORMAT=DYNAMIC
  DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
