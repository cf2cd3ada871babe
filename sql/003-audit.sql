-- The audit trail.  secrets_api_user may INSERT and SELECT audit_logs, never
-- UPDATE or DELETE them (sql/install.sh); only vault_mysql_user prunes.

-- Deviation: no foreign keys.  The seed has audit_logs.user_id and
-- organization_id referencing users and organizations, but history must
-- outlive the rows it names: a foreign key would either block removing a
-- user or organization forever (RESTRICT), or rewrite history (SET NULL /
-- CASCADE, which would also break the hash chain below).
CREATE TABLE audit_logs (
  id              VARCHAR(36) NOT NULL,
  -- Deviation: NULL allowed, for the bootstrap user add and system jobs
  -- (cron: stats recompute, expire), which have no acting user.
  user_id         VARCHAR(36) NULL,
  -- Deviation: NULL allowed: user and plan events belong to no
  -- organization (they are chained in the global chain, see below).
  organization_id VARCHAR(36) NULL,
  action          VARCHAR(50) NOT NULL,
  resource_type   VARCHAR(50) NOT NULL,
  resource_id     VARCHAR(36) NOT NULL,
  `timestamp`     DATETIME    NOT NULL,
  ip_address      VARCHAR(45),
  user_agent      TEXT,
  -- Added: a total order.  Timestamps have one-second resolution and tie;
  -- paging (`log --after CURSOR`) and the hash chain need a strict order.
  seq             BIGINT      NOT NULL AUTO_INCREMENT,
  -- Added: what the row alone cannot say (reason, names), as JSON.  Never a
  -- secret value.
  details         TEXT        NULL,
  -- Added: a hash chain per organization (BLAKE2b-256 via libsodium), so
  -- that `vaultctl-audit verify` detects edited or removed rows:
  -- row_hash = H(prev_hash || the row's fields); prev_hash is the previous
  -- row_hash of the same chain (audit_chain_heads).
  prev_hash       BINARY(32)  NOT NULL,
  row_hash        BINARY(32)  NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_audit_logs_seq (seq),
  -- Added: `vaultctl-audit log --org/--user/--since/--until`, newest pages.
  KEY ix_audit_logs_org_time (organization_id, `timestamp`, seq),
  KEY ix_audit_logs_user_time (user_id, `timestamp`, seq),
  KEY ix_audit_logs_time (`timestamp`, seq)
) ENGINE=InnoDB ROW_FORMAT=DYNAMIC
  DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Added: the head of each hash chain.  Written (UPDATE, or INSERT for a new
-- chain) in the same transaction as every audit insert, so that concurrent
-- writers serialise on it and the chain cannot fork; on Galera the written
-- row makes the second writer fail certification and retry.
-- anchor_hash: the row_hash of the last row removed by `vaultctl-audit
-- prune`, from which `verify` starts once older rows are gone.
CREATE TABLE audit_chain_heads (
  -- An organization id, or '' for the global chain (organization_id NULL).
  chain       VARCHAR(36) NOT NULL,
  last_seq    BIGINT      NOT NULL,
  last_hash   BINARY(32)  NOT NULL,
  anchor_hash BINARY(32)  NULL,
  updated_at  DATETIME    NOT NULL,
  PRIMARY KEY (chain)
) ENGINE=InnoDB ROW_FORMAT=DYNAMIC
  DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
