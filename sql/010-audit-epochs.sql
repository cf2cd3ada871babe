-- Added: epochs of the audit chains and authenticated heads.
--
-- A chain is cut into epochs, each under one audit key (or none, for rows
-- written before a key was configured).  An epoch starts with a row of
-- action 'audit.epoch' whose details name the epoch, its key's id and the
-- key of the epoch it closes; its prev_hash links it to the last row of
-- that epoch and its row_hash is keyed with the new key, so the boundary
-- cannot be moved without the key.  A chain begins in epoch 0 without
-- such a row.  Rows before this migration stay in epoch 0 as they are.
--
-- epoch, key_id: the chain's current epoch and the id of its key (the
--   first 8 bytes of a keyed BLAKE2b of a fixed string; NULL: unkeyed).
-- head_mac: BLAKE2b keyed with that key over the chain, last_seq,
--   last_hash, epoch and key_id (lib/audit_key.c), so that a database
--   administrator without the key can neither point the head at an older
--   row nor forge one.  NULL for an unkeyed chain.
ALTER TABLE audit_chain_heads
  ADD COLUMN epoch    INT        NOT NULL DEFAULT 0,
  ADD COLUMN key_id   BINARY(8)  NULL,
  ADD COLUMN head_mac BINARY(32) NULL;

-- Added: commands against an organization that write no audit row (its
-- metadata reads: list, show, history, usage), counted as they happen.
-- api_calls includes them; `vaultctl-audit stats recompute`, which
-- recounts api_calls from the audit rows, adds them back.
ALTER TABLE usage_statistics
  ADD COLUMN read_calls INT NOT NULL DEFAULT 0;
