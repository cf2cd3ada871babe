-- Added: single-instance jobs (`vaultctl-audit stats recompute`, `prune`,
-- `vaultctl-plan expire`) take a row here for the length of the run.  Not
-- GET_LOCK(): named locks are local to one node of a Galera cluster, so two
-- cron jobs on two nodes would both get it.  A row is replicated, and one
-- that is past expires_at may be taken over (the holder died).
CREATE TABLE maintenance_locks (
  name        VARCHAR(64)  NOT NULL,
  -- Who holds it, for the "lock held" message: host, pid, tool.
  holder      VARCHAR(255) NOT NULL,
  acquired_at DATETIME     NOT NULL,
  expires_at  DATETIME     NOT NULL,
  PRIMARY KEY (name)
) ENGINE=InnoDB ROW_FORMAT=DYNAMIC
  DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
