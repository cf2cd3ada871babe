-- audit_gen.sql - fills the schema for bench/audit_bench.sh: 10 000
-- organizations (each with a project, an environment and an active
-- subscription that started 0 to 59 days ago), 1 000 000 secrets' metadata
-- (a tenth of them deleted) and 5 000 000 audit rows over the last 58 days,
-- one a second.  org1 is big: every fifth audit row is its own (1 000 000,
-- about 120 000 in the last 7 days), the rest spread evenly.
--
-- Set-based inserts from MariaDB's Sequence engine (seq_1_to_N), run as
-- root.  The hashes are placeholders: the bench does not verify chains.
-- Ids are UUID-shaped: 00000000-0000-4000-8KKK-NNNNNNNNNNNN, KKK the kind.

SET SESSION unique_checks = 0, foreign_key_checks = 0;
SET @now = UTC_TIMESTAMP();
SET @user = '00000000-0000-4000-8000-000000000001';
SET @plan = '00000000-0000-4000-8000-000000000002';

INSERT INTO users (id, email, hashed_password, first_name, last_name, role,
	created_at, updated_at) VALUES (@user, 'bench@example.com', '', NULL,
	NULL, 'admin', @now, @now);
INSERT INTO plans (id, name, description, price, billing_cycle,
	secrets_limit, features, created_at, updated_at) VALUES (@plan, 'bench', NULL, 0, 'monthly', NULL, NULL,
	@now, @now);

INSERT INTO organizations (id, name, description, plan_id, created_at,
	updated_at, owner_id)
SELECT CONCAT('00000000-0000-4000-8001-', LPAD(seq, 12, '0')),
	CONCAT('org', seq), NULL, @plan, @now, @now, @user
FROM seq_1_to_10000;

INSERT INTO subscriptions (id, organization_id, plan_id, status,
	secrets_limit, start_date, end_date, created_at, updated_at, write_seq)
SELECT CONCAT('00000000-0000-4000-8002-', LPAD(seq, 12, '0')),
	CONCAT('00000000-0000-4000-8001-', LPAD(seq, 12, '0')), @plan, 'active',
	NULL, @now - INTERVAL (seq % 60) DAY, NULL, @now, @now, 0
FROM seq_1_to_10000;

INSERT INTO projects (id, name, description, organization_id, created_at,
	updated_at, created_by)
SELECT CONCAT('00000000-0000-4000-8003-', LPAD(seq, 12, '0')), 'api', NULL,
	CONCAT('00000000-0000-4000-8001-', LPAD(seq, 12, '0')), @now, @now, @user
FROM seq_1_to_10000;

INSERT INTO environments (id, name, description, project_id, created_at,
	updated_at)
SELECT CONCAT('00000000-0000-4000-8004-', LPAD(seq, 12, '0')), 'prod', NULL,
	CONCAT('00000000-0000-4000-8003-', LPAD(seq, 12, '0')), @now, @now
FROM seq_1_to_10000;

INSERT INTO secret_metadata (id, name, description, organization_id,
	project_id, environment, created_by, created_at, updated_at, version,
	deleted_at)
SELECT CONCAT('00000000-0000-4000-8005-', LPAD(seq, 12, '0')),
	CONCAT('S', seq), NULL,
	CONCAT('00000000-0000-4000-8001-', LPAD(1 + seq % 10000, 12, '0')),
	CONCAT('00000000-0000-4000-8003-', LPAD(1 + seq % 10000, 12, '0')),
	CONCAT('00000000-0000-4000-8004-', LPAD(1 + seq % 10000, 12, '0')),
	@user, @now, @now, 1, IF(seq % 10 = 0, @now, NULL)
FROM seq_1_to_1000000;

INSERT INTO audit_chain_heads (chain, last_seq, last_hash, anchor_hash,
	updated_at)
SELECT CONCAT('00000000-0000-4000-8001-', LPAD(seq, 12, '0')), 0,
	UNHEX(SHA2(seq, 256)), NULL, @now
FROM seq_1_to_10000;

-- Every INSERT names its columns: later migrations add columns with
-- defaults, which a positional VALUES list would not match.

-- In five statements of a million rows: smaller transactions.
DELIMITER //
BEGIN NOT ATOMIC
FOR i IN 0 .. 4 DO
	INSERT INTO audit_logs (id, user_id, organization_id, action,
		resource_type, resource_id, `timestamp`, ip_address, user_agent,
		seq, details, prev_hash, row_hash)
	SELECT CONCAT('00000000-0000-4000-8006-', LPAD(seq, 12, '0')), @user,
		CONCAT('00000000-0000-4000-8001-',
		       LPAD(IF(seq % 5 = 0, 1, 1 + seq % 10000), 12, '0')),
		'secret.read', 'secret',
		CONCAT('00000000-0000-4000-8005-', LPAD(1 + seq % 1000000, 12, '0')),
		@now - INTERVAL (5000000 - seq) SECOND, NULL, 'bench/1.0',
		seq, '{"version":1}', UNHEX(SHA2(seq - 1, 256)), UNHEX(SHA2(seq, 256))
	FROM seq_1_to_5000000 WHERE seq > i * 1000000 AND seq <= (i + 1) * 1000000;
END FOR;
END //
DELIMITER ;

ANALYZE TABLE organizations, subscriptions, secret_metadata, audit_logs,
	usage_statistics;
