-- Added: what vaultctl last wrote as each secret's value, as a keyed MAC,
-- so that import and copy tell an unchanged value from a changed one
-- without reading the value store (with Vault, as many requests as the
-- writes themselves, and every read an audit row).
--
-- value_mac: HMAC-SHA-256 over the secret's id, value_mac_version and the
--   value's bytes, under a key derived from the audit key (lib/valuemac.c).
--   The id and the version are in it, so that two secrets with the same
--   value, or one value over several versions, do not show equal MACs to
--   a reader of this table; without the key it tells nothing of a value.
-- value_mac_version: the version the MAC is of.  Only the writes that
--   have the value at hand (set, rotate, rollback, import, copy) write
--   the MAC; every other change of the version (reconcile adopting the
--   store's, a batch taken back) leaves it behind, which means unknown.
--   Destroying the current version clears value_mac and leaves
--   value_mac_version at that version: no MAC of a value read before the
--   destroy may be recorded for it afterwards.
-- value_mac_key: the id of the audit key it was made under (as
--   audit_chain_heads.key_id).  After the audit key is replaced, or
--   without one, the MAC is unknown too.
-- Unknown is never wrong: the value is then read from the store, as
-- before this migration.  Existing rows start unknown.
ALTER TABLE secret_metadata
  ADD COLUMN value_mac         BINARY(32) NULL,
  ADD COLUMN value_mac_version INT        NULL,
  ADD COLUMN value_mac_key     BINARY(8)  NULL;
