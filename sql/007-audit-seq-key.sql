-- Changed: the primary key of audit_logs is seq, not id (a deviation from
-- the seed).  Every audit row costs an insert into each of the table's
-- indexes, and an export writes one row per value read: 1000 rows for
-- 1000 secrets.  Keyed by seq, the rows are appended to the clustered
-- index in the order they are written and every secondary index entry
-- points at them with 8 bytes instead of a 36-character id; the unique
-- index on seq that the key replaces, and the id index, are gone.
-- Measured: the INSERT of an export's 1000 rows took 9.4-10.6 ms before,
-- 7.0-7.8 ms after (2-core VM, the same server).
-- id stays, as the seed has it: a version 7 UUID made by the writer (48
-- bits of time, then a counter from a random start and 48 random bits),
-- unique by construction.  No query looks a row up by id.
ALTER TABLE audit_logs
  DROP PRIMARY KEY,
  ADD PRIMARY KEY (seq),
  DROP INDEX uq_audit_logs_seq;
