-- Vault's own storage backend tables (HashiCorp Vault, storage "mysql").
-- Vault, not vaultctl, reads and writes them; see sql/vault.hcl and
-- doc/architecture.md, section 9.  Vault creates these tables only when
-- they are missing, so the types below are the ones in force.

-- Deviation from the seed: vault_key is VARBINARY(3072), not VARCHAR(512).
--  * Vault encrypts every segment of a KV v2 path separately, so its
--    physical keys overflow 512 bytes on deep paths (ours have 8 segments):
--    "Error 1406: Data too long for column 'vault_key'".  3072 is the largest
--    key InnoDB can index (DYNAMIC row format), and what recent Vault
--    versions create themselves.
--  * The key must compare byte for byte: under the database's _ci collation
--    'Foo' and 'foo' would be the same row.  VARBINARY has no collation.
-- Exactly these two columns, in this order: Vault's put statement is the
-- positional INSERT INTO vault_storage VALUES(?, ?).
CREATE TABLE vault_storage (
  vault_key   VARBINARY(3072) NOT NULL,
  vault_value MEDIUMBLOB      NOT NULL,
  PRIMARY KEY (vault_key)
) ENGINE=InnoDB ROW_FORMAT=DYNAMIC
  DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Vault HA (ha_enabled = "true", lock_table = "vault_storage_lock"): the
-- table Vault would create as <table>_lock, with Vault's own definition.
CREATE TABLE vault_storage_lock (
  node_job       VARBINARY(512) NOT NULL,
  current_leader VARBINARY(512),
  PRIMARY KEY (node_job)
) ENGINE=InnoDB ROW_FORMAT=DYNAMIC
  DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
