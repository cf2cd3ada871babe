-- Added: the rows of one audit chain in chain order.  `vaultctl-audit
-- verify --org` reads a chain by seq in batches, and `prune` deletes each
-- chain's oldest rows by seq in batches.  ix_audit_logs_org_time orders an
-- organization's rows by time, which is not the chain's order (timestamps
-- tie and come from the writers' clocks), so without this index every
-- batch would sort the whole chain again.
CREATE INDEX ix_audit_logs_org_seq ON audit_logs (organization_id, seq);
