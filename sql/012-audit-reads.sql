-- Added: the secrets a bulk read read, one narrow row each.
--
-- A command that reads several values at once (export, run, inject, a
-- watch round: lib/bulk.c) wrote one audit_logs row per value: 1000 rows
-- for an export of 1000 secrets, each costing an insert into the five
-- indexes of audit_logs and a hash, most of the export's time.  It now
-- writes one chained audit_logs row (action 'secret.read', resource_type
-- 'environment', the environment's id) whose details give the number of
-- values and a digest of the list ({"reads": N, "digest": hex}), and the
-- list itself here, in the same transaction, with one bulk insert.
--
-- The row's hash covers the digest, so tampering with this table shows
-- in `vaultctl-audit verify`: the digest of what is here must match.
-- A read that is not listed by such a row (inserted under another row's
-- seq, or left by a removed one) is broken too.  A single read (get, an
-- environment of one secret) keeps its audit_logs row about the secret,
-- and rows written before this migration stay as they are.
--
-- seq: the audit_logs row that lists the read; pos: its place in the
-- list, from 0.  Keyed by them, the rows of one command are appended
-- together and found together.  No foreign key, as for audit_logs: the
-- secret may be purged, the read stays.  secrets_api_user may INSERT and
-- SELECT, never UPDATE or DELETE (sql/install.sh); prune deletes a row's
-- reads with it.
CREATE TABLE audit_reads (
  seq       BIGINT      NOT NULL,
  pos       INT         NOT NULL,
  secret_id VARCHAR(36) NOT NULL,
  version   INT         NOT NULL,
  PRIMARY KEY (seq, pos)
) ENGINE=InnoDB ROW_FORMAT=DYNAMIC
  DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
