-- Added: the id of the master key each value of the local store is sealed
-- under, so that the key can be replaced (`vaultctl-secret rekey`).  While
-- a rekey runs, values sealed under the previous key and values re-sealed
-- under the next one are in the table together; each row says which key
-- opens it, and the tools open it with that key.
--
-- The id is derived from the key (the first 8 bytes of BLAKE2b keyed with
-- it over a constant), never assigned: no table can say that a row belongs
-- to a key other than the one that opens it, and a row whose id matches no
-- key file fails with a message naming both ids rather than a bare
-- authentication failure.  It gives nothing of the key away.
--
-- Existing rows keep NULL: "sealed before key ids existed", which can only
-- mean under the key that was current then, since no rekey could run
-- before this migration.  The tools open them with that key, and the first
-- rekey re-seals and labels them.  This migration cannot label them: it
-- runs in the database, and the key is in a file the server never sees.
-- Labelling them at their first read was the other way, not taken: every
-- read would become a write, and a read must not change the store.
--
-- The index lets each batch of a rekey find the rows not yet under the new
-- key without reading again the ones it has done.
ALTER TABLE vc_values
  ADD COLUMN key_id BINARY(8) NULL AFTER nonce,
  ADD KEY ix_vc_values_key_id (key_id);
