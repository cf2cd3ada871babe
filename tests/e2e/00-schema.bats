#!/usr/bin/env bats
# The database as sql/install.sh leaves it: schema, accounts and their
# grants, configuration file, and what Vault's MySQL backend runs.

bats_require_minimum_version 1.5.0

load helper

# Passwords given in the environment at set-up.  The storage one has every
# character that needs quoting in SQL or in an option file.
STORAGE_PW=$'q\'u"o`te \\back#sl;ash=$HOME '
API_PW=Api-Passw0rd_from.env
# The file owns its environment: install.sh takes a password from these
# wherever the caller set one, and the tests give them only on purpose.
unset VAULT_MYSQL_PASSWORD VAULT_STORAGE_PASSWORD SECRETS_API_PASSWORD MONITORING_PASSWORD

setup_file() {
	VAULT_STORAGE_PASSWORD=$STORAGE_PW SECRETS_API_PASSWORD=$API_PW vc_server_start
}

teardown_file() {
	vc_server_stop
}

# login_with ACCOUNT PASSWORD SQL: connect with a password given here, not
# read from the configuration (MYSQL_PWD keeps it off the command line).
login_with() {
	MYSQL_PWD=$2 mariadb --no-defaults --socket="$VC_TEST_DIR/mysql.sock" \
		--user="$1" "$VC_DATABASE" -N -B -e "$3"
}

# refused: the last `run` failed because of a missing privilege.
refused() {
	[ "$status" -ne 0 ] || { echo "expected a refusal, got: $output"; return 1; }
	[[ $output == *"command denied"* ]] || { echo "not a privilege error: $output"; return 1; }
}

# snapshot: everything a second install.sh run must leave as it is.
snapshot() {
	local a
	mariadb-dump --defaults-file="$VC_TEST_DIR/admin.cnf" --no-data \
		--skip-dump-date --skip-comments "$VC_DATABASE"
	vc_sql "SELECT * FROM schema_migrations ORDER BY version"
	vc_sql "SELECT DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA
		WHERE SCHEMA_NAME = '$VC_DATABASE'"
	# global_priv holds password_last_changed; tables_priv a Timestamp per
	# grant: both move when an account or a grant is set again.
	vc_sql "SELECT User, Host, Priv FROM mysql.global_priv
		WHERE User LIKE '%\_user' ORDER BY User, Host"
	vc_sql "SELECT * FROM mysql.db WHERE User LIKE '%\_user' ORDER BY User, Db"
	vc_sql "SELECT * FROM mysql.tables_priv WHERE User LIKE '%\_user'
		ORDER BY User, Table_name"
	for a in vault_mysql_user vault_storage_user secrets_api_user monitoring_user; do
		vc_sql "SHOW GRANTS FOR '$a'@'localhost'"
	done
	local files=("$VAULTCTL_CONFIG" "$VAULTCTL_CONFIG.key" "$VAULTCTL_CONFIG.audit.key"
		"$VAULTCTL_CONFIG.admin")
	sha256sum "${files[@]}"
	stat -c '%n %a %s %Y' "${files[@]}"
}

# A server of its own for install.sh runs that must not touch the accounts
# of the rest of the file: database vc_fresh, accounts '...'@'127.0.0.1'.
FRESH_DB=vc_fresh

# fresh_install FILE [ARGS...]: install.sh writing FILE (and its files).
# The test sets FRESH=1, so that teardown drops what it made.
fresh_install() {
	local cnf=$1
	shift
	"$REPO/sql/install.sh" --defaults-file "$VC_TEST_DIR/admin.cnf" \
		--database "$FRESH_DB" --account-host 127.0.0.1 --config-out "$cnf" "$@"
}

fresh_drop() {
	vc_sql "DROP DATABASE IF EXISTS $FRESH_DB; DROP USER IF EXISTS
		vault_mysql_user@'127.0.0.1', vault_storage_user@'127.0.0.1',
		secrets_api_user@'127.0.0.1', monitoring_user@'127.0.0.1'"
}

# login_tcp ACCOUNT FILE GROUP SQL: log in to vc_fresh over TCP (accounts
# @127.0.0.1) with the password of GROUP in FILE.
login_tcp() {
	local pw
	pw=$(vc_cnf_group "$2" "$3" | sed -n 's/^password = //p')
	MYSQL_PWD=$pw mariadb --no-defaults --host=127.0.0.1 \
		--port="$(cat "$VC_TEST_DIR/port")" --user="$1" "$FRESH_DB" -N -B -e "$4"
}

# groups FILE: the option file's groups, in order, on one line.
groups() {
	grep '^\[' "$1" | tr '\n' ' '
}

@test "migrations are numbered, and none creates or selects a database" {
	local files
	files=$(cd "$REPO/sql" && ls [0-9]*.sql)
	[ -n "$files" ]
	# NNN-name.sql, each number once.
	[ -z "$(printf '%s\n' "$files" | grep -vE '^[0-9]{3}-[a-z0-9-]+\.sql$')" ]
	[ -z "$(printf '%s\n' "$files" | cut -c1-3 | uniq -d)" ]
	run grep -inE '^[[:space:]]*(create[[:space:]]+(database|schema)|use[[:space:]])' \
		"$REPO"/sql/[0-9]*.sql
	[ "$status" -eq 1 ] || { echo "$output"; false; }
}

@test "install.sh: --help, and usage errors exit 2 without touching the server" {
	run "$REPO/sql/install.sh" --help
	[ "$status" -eq 0 ]
	[[ $output == usage:* ]]
	[[ $output == *--config-out* ]]

	run "$REPO/sql/install.sh" --defaults-file "$VC_TEST_DIR/admin.cnf"
	[ "$status" -eq 2 ]
	[[ $output == *"--config-out is required"* ]]

	run "$REPO/sql/install.sh" --defaults-file "$VC_TEST_DIR/admin.cnf" \
		--config-out "$VC_TEST_DIR/x.cnf" --backend nosuch
	[ "$status" -eq 2 ]

	run "$REPO/sql/install.sh" --frobnicate
	[ "$status" -eq 2 ]

	run "$REPO/sql/install.sh" --defaults-file "$VC_TEST_DIR/admin.cnf" \
		--config-out "$VC_TEST_DIR/x.cnf" --group no-such-group-vc
	[ "$status" -eq 2 ]
	[[ $output == *"no such group 'no-such-group-vc'"* ]]
	run "$REPO/sql/install.sh" --defaults-file "$VC_TEST_DIR/admin.cnf" \
		--config-out "$VC_TEST_DIR/x.cnf" --admin-config-out "$VC_TEST_DIR/x.cnf"
	[ "$status" -eq 2 ]

	run "$REPO/sql/install.sh" --defaults-file "$VC_TEST_DIR/admin.cnf" \
		--config-out "$VC_TEST_DIR/x.cnf" --database 'bad;name'
	[ "$status" -eq 2 ]
	[ ! -e "$VC_TEST_DIR/x.cnf" ]
	[ -z "$(vc_sql "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA
		WHERE SCHEMA_NAME LIKE 'bad%'")" ]
}

@test "every column of the data model exists with its type and nullability" {
	# table column COLUMN_TYPE IS_NULLABLE.  The seed's columns first, with
	# the deviations sql/ documents (vault_key, the NULL-able limits, end
	# date and audit references; JSON is LONGTEXT in MariaDB), then the
	# additions.  Every table's column count is checked too: nothing extra.
	local expected
	expected=$(
		cat <<-'EOF'
			vault_storage vault_key varbinary(3072) NO
			vault_storage vault_value mediumblob NO
			vault_storage_lock node_job varbinary(512) NO
			vault_storage_lock current_leader varbinary(512) YES
			users id varchar(36) NO
			users email varchar(255) NO
			users login varchar(64) YES
			users hashed_password varchar(255) NO
			users first_name varchar(255) YES
			users last_name varchar(255) YES
			users role varchar(50) NO
			users created_at datetime NO
			users updated_at datetime NO
			plans id varchar(36) NO
			plans name varchar(255) NO
			plans description text YES
			plans price decimal(10,2) NO
			plans billing_cycle varchar(50) NO
			plans secrets_limit int(11) YES
			plans features longtext YES
			plans created_at datetime NO
			plans updated_at datetime NO
			organizations id varchar(36) NO
			organizations name varchar(255) NO
			organizations description text YES
			organizations plan_id varchar(36) YES
			organizations created_at datetime NO
			organizations updated_at datetime NO
			organizations owner_id varchar(36) NO
			projects id varchar(36) NO
			projects name varchar(255) NO
			projects description text YES
			projects organization_id varchar(36) NO
			projects created_at datetime NO
			projects updated_at datetime NO
			projects created_by varchar(36) NO
			environments id varchar(36) NO
			environments name varchar(255) NO
			environments description text YES
			environments project_id varchar(36) NO
			environments created_at datetime NO
			environments updated_at datetime NO
			environments max_versions int(10) unsigned YES
			user_organizations user_id varchar(36) NO
			user_organizations organization_id varchar(36) NO
			user_organizations role varchar(50) NO
			user_organizations created_at datetime NO
			user_organizations updated_at datetime NO
			secret_metadata id varchar(36) NO
			secret_metadata name varchar(255) NO
			secret_metadata description text YES
			secret_metadata organization_id varchar(36) NO
			secret_metadata project_id varchar(36) NO
			secret_metadata environment varchar(36) NO
			secret_metadata created_by varchar(36) NO
			secret_metadata created_at datetime NO
			secret_metadata updated_at datetime NO
			secret_metadata version int(11) NO
			subscriptions id varchar(36) NO
			subscriptions organization_id varchar(36) NO
			subscriptions plan_id varchar(36) NO
			subscriptions status varchar(50) NO
			subscriptions secrets_limit int(11) YES
			subscriptions start_date datetime NO
			subscriptions end_date datetime YES
			subscriptions created_at datetime NO
			subscriptions updated_at datetime NO
			audit_logs id varchar(36) NO
			audit_logs user_id varchar(36) YES
			audit_logs organization_id varchar(36) YES
			audit_logs action varchar(50) NO
			audit_logs resource_type varchar(50) NO
			audit_logs resource_id varchar(36) NO
			audit_logs timestamp datetime NO
			audit_logs ip_address varchar(45) YES
			audit_logs user_agent text YES
			usage_statistics id varchar(36) NO
			usage_statistics organization_id varchar(36) NO
			usage_statistics secret_count int(11) NO
			usage_statistics api_calls int(11) NO
			usage_statistics last_updated datetime NO
			secret_metadata deleted_at datetime YES
			secret_metadata value_mac binary(32) YES
			secret_metadata value_mac_version int(11) YES
			secret_metadata value_mac_key binary(8) YES
			subscriptions write_seq bigint(20) NO
			audit_logs seq bigint(20) NO
			audit_logs details text YES
			audit_logs prev_hash binary(32) NO
			audit_logs row_hash binary(32) NO
			audit_chain_heads chain varchar(36) NO
			audit_chain_heads last_seq bigint(20) NO
			audit_chain_heads last_hash binary(32) NO
			audit_chain_heads anchor_hash binary(32) YES
			audit_chain_heads updated_at datetime NO
			audit_chain_heads epoch int(11) NO
			audit_chain_heads key_id binary(8) YES
			audit_chain_heads head_mac binary(32) YES
			usage_statistics read_calls int(11) NO
			audit_reads seq bigint(20) NO
			audit_reads pos int(11) NO
			audit_reads secret_id varchar(36) NO
			audit_reads version int(11) NO
			vc_value_keys path varbinary(3000) NO
			vc_value_keys current_version int(11) NO
			vc_value_keys oldest_version int(11) NO
			vc_value_keys max_versions int(11) NO
			vc_value_keys created_at datetime(6) NO
			vc_value_keys updated_at datetime(6) NO
			vc_values path varbinary(3000) NO
			vc_values version int(11) NO
			vc_values nonce binary(24) NO
			vc_values key_id binary(8) YES
			vc_values ciphertext mediumblob NO
			vc_values created_at datetime(6) NO
			vc_values deleted_at datetime(6) YES
			vc_values destroyed tinyint(4) NO
			maintenance_locks name varchar(64) NO
			maintenance_locks holder varchar(255) NO
			maintenance_locks acquired_at datetime NO
			maintenance_locks expires_at datetime NO
			schema_migrations version int(11) NO
			schema_migrations name varchar(255) NO
			schema_migrations applied_at datetime NO
		EOF
	)
	local actual missing
	actual=$(vc_sql "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE
		FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()" | tr '\t' ' ')
	missing=$(comm -23 <(printf '%s\n' "$expected" | sort) <(printf '%s\n' "$actual" | sort))
	[ -z "$missing" ] || { echo "missing or of another type:"; echo "$missing"; false; }
	local extra
	extra=$(comm -13 <(printf '%s\n' "$expected" | sort) <(printf '%s\n' "$actual" | sort))
	[ -z "$extra" ] || { echo "not in the data model:"; echo "$extra"; false; }

	# Vault's put is positional: exactly (vault_key, vault_value), in order.
	run vc_sql "SELECT GROUP_CONCAT(COLUMN_NAME ORDER BY ORDINAL_POSITION)
		FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'vault_storage'"
	[ "$output" = "vault_key,vault_value" ]

	# features only takes JSON; seq is the order of the audit rows.
	[ "$(vc_sql "SELECT COUNT(*) FROM information_schema.CHECK_CONSTRAINTS
		WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = 'plans'
		AND CHECK_CLAUSE LIKE '%json_valid%features%'")" = 1 ]
	[ "$(vc_sql "SELECT EXTRA FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'audit_logs'
		AND COLUMN_NAME = 'seq'")" = auto_increment ]
	[ "$(vc_sql "SELECT COLUMN_DEFAULT FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'secret_metadata'
		AND COLUMN_NAME = 'version'")" = 1 ]
}

@test "tables are InnoDB, DYNAMIC, utf8mb4_unicode_ci; binary keys have no collation" {
	run vc_sql "SELECT TABLE_NAME, ENGINE, ROW_FORMAT, TABLE_COLLATION
		FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()
		AND (ENGINE <> 'InnoDB' OR ROW_FORMAT <> 'Dynamic'
		     OR TABLE_COLLATION <> 'utf8mb4_unicode_ci')"
	[ "$status" -eq 0 ]
	[ -z "$output" ] || { echo "$output"; false; }

	# (MariaDB's JSON is LONGTEXT in utf8mb4_bin: plans.features.)
	run vc_sql "SELECT TABLE_NAME, COLUMN_NAME, COLLATION_NAME
		FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()
		AND COLLATION_NAME IS NOT NULL AND COLLATION_NAME <> 'utf8mb4_unicode_ci'"
	[ "$output" = "$(printf 'plans\tfeatures\tutf8mb4_bin')" ] || { echo "$output"; false; }
	# Keys and paths are binary: no collation at all.
	[ "$(vc_sql "SELECT GROUP_CONCAT(CONCAT(TABLE_NAME, '.', COLUMN_NAME)
		ORDER BY CAST(TABLE_NAME AS BINARY)) FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = DATABASE() AND COLUMN_NAME IN ('vault_key', 'path')
		AND COLLATION_NAME IS NULL")" = vault_storage.vault_key,vc_value_keys.path,vc_values.path ]
	[ "$(vc_sql "SELECT DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA
		WHERE SCHEMA_NAME = DATABASE()")" = utf8mb4_unicode_ci ]
}

@test "unique keys and indexes the queries need exist" {
	local expected actual missing
	# table index non_unique columns
	expected=$(
		cat <<-'EOF'
			users uq_users_email 0 email
			users uq_users_login 0 login
			plans uq_plans_name 0 name
			organizations uq_organizations_name 0 name
			projects uq_projects_org_name 0 organization_id,name
			environments uq_environments_project_name 0 project_id,name
			user_organizations PRIMARY 0 user_id,organization_id
			user_organizations ix_user_organizations_org 1 organization_id
			secret_metadata uq_secret_metadata_env_name 0 project_id,environment,name
			secret_metadata ix_secret_metadata_org_deleted 1 organization_id,deleted_at
			subscriptions ix_subscriptions_org_status 1 organization_id,status
			subscriptions ix_subscriptions_status_end 1 status,end_date
			usage_statistics uq_usage_statistics_org 0 organization_id
			audit_logs PRIMARY 0 seq
			audit_logs ix_audit_logs_org_time 1 organization_id,timestamp,seq
			audit_logs ix_audit_logs_user_time 1 user_id,timestamp,seq
			audit_logs ix_audit_logs_time 1 timestamp,seq
			audit_logs ix_audit_logs_org_seq 1 organization_id,seq
			vault_storage PRIMARY 0 vault_key
			vault_storage_lock PRIMARY 0 node_job
			vc_value_keys PRIMARY 0 path
			vc_values PRIMARY 0 path,version
			vc_values ix_vc_values_key_id 1 key_id
			audit_chain_heads PRIMARY 0 chain
			audit_reads PRIMARY 0 seq,pos
			maintenance_locks PRIMARY 0 name
		EOF
	)
	actual=$(vc_sql "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE,
			GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX)
		FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()
		GROUP BY TABLE_NAME, INDEX_NAME, NON_UNIQUE" | tr '\t' ' ')
	missing=$(comm -23 <(printf '%s\n' "$expected" | sort) <(printf '%s\n' "$actual" | sort))
	[ -z "$missing" ] || { echo "missing:"; echo "$missing"; false; }

	# History outlives what it names: no foreign key from the audit tables.
	[ "$(vc_sql "SELECT COUNT(*) FROM information_schema.REFERENTIAL_CONSTRAINTS
		WHERE CONSTRAINT_SCHEMA = DATABASE()
		AND TABLE_NAME IN ('audit_logs', 'audit_chain_heads', 'audit_reads')")" -eq 0 ]
	# secret_metadata.environment holds an environment's id.
	[ "$(vc_sql "SELECT REFERENCED_TABLE_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS
		WHERE CONSTRAINT_SCHEMA = DATABASE()
		AND CONSTRAINT_NAME = 'fk_secret_metadata_environment'")" = environments ]
}

@test "names compare case-insensitively; removing an organization removes what it holds" {
	vc_sql "INSERT INTO users (id, email, hashed_password, first_name, last_name, role, created_at, updated_at) VALUES ('u-ci', 'ci@example.com', '', NULL, NULL, 'user', NOW(), NOW());
		INSERT INTO organizations (id, name, created_at, updated_at, owner_id)
		  VALUES ('o-ci', 'Acme', NOW(), NOW(), 'u-ci');
		INSERT INTO projects (id, name, organization_id, created_at, updated_at, created_by)
		  VALUES ('p-ci', 'api', 'o-ci', NOW(), NOW(), 'u-ci');
		INSERT INTO environments (id, name, project_id, created_at, updated_at)
		  VALUES ('e-ci', 'prod', 'p-ci', NOW(), NOW());
		INSERT INTO secret_metadata (id, name, organization_id, project_id, environment,
		  created_by, created_at, updated_at)
		  VALUES ('s-ci', 'DB_URL', 'o-ci', 'p-ci', 'e-ci', 'u-ci', NOW(), NOW())"

	run vc_sql "INSERT INTO organizations (id, name, created_at, updated_at, owner_id)
		VALUES ('o-ci2', 'ACME', NOW(), NOW(), 'u-ci')"
	[ "$status" -ne 0 ]
	[[ $output == *"Duplicate entry"* ]]
	run vc_sql "INSERT INTO secret_metadata (id, name, organization_id, project_id,
		environment, created_by, created_at, updated_at)
		VALUES ('s-ci2', 'db_url', 'o-ci', 'p-ci', 'e-ci', 'u-ci', NOW(), NOW())"
	[ "$status" -ne 0 ]
	[[ $output == *"Duplicate entry"* ]]
	run vc_sql "INSERT INTO users (id, email, hashed_password, first_name, last_name, role, created_at, updated_at) VALUES ('u-ci2', 'CI@Example.COM', '', NULL, NULL,
		'user', NOW(), NOW())"
	[ "$status" -ne 0 ]

	# A user who created something cannot be removed (RESTRICT) ...
	run vc_sql "DELETE FROM users WHERE id = 'u-ci'"
	[ "$status" -ne 0 ]
	[[ $output == *"foreign key constraint fails"* ]]
	# ... while the organization takes its projects, environments and
	# secrets' metadata with it (CASCADE).
	vc_sql "DELETE FROM organizations WHERE id = 'o-ci'"
	[ "$(vc_sql "SELECT (SELECT COUNT(*) FROM projects WHERE id = 'p-ci')
		+ (SELECT COUNT(*) FROM environments WHERE id = 'e-ci')
		+ (SELECT COUNT(*) FROM secret_metadata WHERE id = 's-ci')")" -eq 0 ]
	vc_sql "DELETE FROM users WHERE id = 'u-ci'"
}

@test "schema_migrations records every migration once" {
	local files recorded
	files=$(cd "$REPO/sql" && ls [0-9]*.sql | sort)
	recorded=$(vc_sql "SELECT name FROM schema_migrations ORDER BY version")
	[ "$recorded" = "$files" ]
	[ "$(vc_sql "SELECT COUNT(*) FROM schema_migrations
		WHERE version <> CAST(LEFT(name, 3) AS UNSIGNED)
		OR applied_at IS NULL")" -eq 0 ]
}

@test "configuration file: format, mode 0600, key files of 32 bytes, no administrative account" {
	local f admin=$VAULTCTL_CONFIG.admin
	for f in "$VAULTCTL_CONFIG" "$VAULTCTL_CONFIG.key" "$VAULTCTL_CONFIG.audit.key" "$admin"; do
		[ "$(stat -c '%a %U' "$f")" = "600 $(id -un)" ] || { stat "$f"; false; }
	done
	[ "$(stat -c %s "$VAULTCTL_CONFIG.key")" = 32 ]
	[ "$(stat -c %s "$VAULTCTL_CONFIG.audit.key")" = 32 ]
	run cmp -s "$VAULTCTL_CONFIG.key" "$VAULTCTL_CONFIG.audit.key"
	[ "$status" -eq 1 ]

	run head -n 1 "$VAULTCTL_CONFIG"
	[[ $output == "# vaultctl configuration written by sql/install.sh on "* ]]
	# The groups, in order.
	[ "$(groups "$VAULTCTL_CONFIG")" = \
		"[client] [vaultctl] [vaultctl-metadata] [vaultctl-values] [vaultctl-monitoring] " ]
	# [client]: the admin file's connection settings, never its user.
	[ "$(vc_cnf_group "$VAULTCTL_CONFIG" client)" = "socket = $VC_TEST_DIR/mysql.sock" ]
	[ "$(vc_cnf_group "$VAULTCTL_CONFIG" vaultctl)" = "database = docksky_vault
backend = local
master_key_file = $VAULTCTL_CONFIG.key
audit_key_file = $VAULTCTL_CONFIG.audit.key
admin_config = $admin
max_value_size = 1048576" ]
	[ "$(vc_cnf_group "$VAULTCTL_CONFIG" vaultctl-metadata | head -n 1)" = "user = secrets_api_user" ]
	[ "$(vc_cnf_group "$VAULTCTL_CONFIG" vaultctl-values | head -n 1)" = "user = vault_storage_user" ]
	[ "$(vc_cnf_group "$VAULTCTL_CONFIG" vaultctl-monitoring | head -n 1)" = "user = monitoring_user" ]
	# Generated passwords: 24 alphanumerics.
	vc_cnf_group "$VAULTCTL_CONFIG" vaultctl-monitoring | grep -qE '^password = [A-Za-z0-9]{24}$'
	[ "$(grep -c '^password = ' "$VAULTCTL_CONFIG")" -eq 3 ]
	# Nothing of the administrative account: neither its group nor its name.
	[ "$(grep -c 'vaultctl-admin\|vault_mysql_user' "$VAULTCTL_CONFIG")" -eq 0 ]

	# Its own file: the same connection settings, the account, nothing else.
	run head -n 1 "$admin"
	[[ $output == "# vaultctl administrative account written by sql/install.sh on "* ]]
	[ "$(groups "$admin")" = "[client] [vaultctl-admin] " ]
	[ "$(vc_cnf_group "$admin" client)" = "socket = $VC_TEST_DIR/mysql.sock" ]
	[ "$(vc_cnf_group "$admin" vaultctl-admin | head -n 1)" = "user = vault_mysql_user" ]
	vc_cnf_group "$admin" vaultctl-admin | grep -qE '^password = [A-Za-z0-9]{24}$'
	[ "$(grep -c '^password = ' "$admin")" -eq 1 ]
	# ... which logs in as it.
	[ "$(MYSQL_PWD=$(vc_cnf_group "$admin" vaultctl-admin | sed -n 's/^password = //p') \
		mariadb --no-defaults --socket="$VC_TEST_DIR/mysql.sock" \
		--user=vault_mysql_user -N -B -e "SELECT CURRENT_USER()")" = vault_mysql_user@localhost ]
}

@test "passwords from the environment are used, quoted for SQL and the option file" {
	run login_with vault_storage_user "$STORAGE_PW" "SELECT CURRENT_USER()"
	[ "$status" -eq 0 ]
	[ "$output" = "vault_storage_user@localhost" ]
	run login_with secrets_api_user "$API_PW" "SELECT CURRENT_USER()"
	[ "$status" -eq 0 ]
	[ "$output" = "secrets_api_user@localhost" ]
	run login_with vault_storage_user "${STORAGE_PW}x" "SELECT 1"
	[ "$status" -ne 0 ]
	[[ $output == *"Access denied"* ]]
	# Read back from the configuration file as the client library reads it.
	run vc_sql_as vault_storage_user "SELECT CURRENT_USER()"
	[ "$status" -eq 0 ]
	[ "$output" = "vault_storage_user@localhost" ]
	vc_cnf_group "$VAULTCTL_CONFIG" vaultctl-metadata | grep -qxF "password = $API_PW"
}

@test "every account can log in with the configuration's password" {
	local a
	for a in vault_mysql_user vault_storage_user secrets_api_user monitoring_user; do
		run vc_sql_as "$a" "SELECT CURRENT_USER()"
		[ "$status" -eq 0 ] || { echo "$a: $output"; false; }
		[ "$output" = "$a@localhost" ]
	done
}

@test "grants are exactly the data model's" {
	local a
	for a in vault_mysql_user vault_storage_user secrets_api_user monitoring_user; do
		# No global privilege.
		vc_sql "SHOW GRANTS FOR '$a'@'localhost'" | grep -q "^GRANT USAGE ON \*\.\* TO \`$a\`@"
	done
	[ "$(vc_sql "SHOW GRANTS FOR 'vault_mysql_user'@'localhost'" | sed 1d)" = \
		'GRANT ALL PRIVILEGES ON `docksky_vault`.* TO `vault_mysql_user`@`localhost`' ]
	# Per table: privileges, in byte order.
	privs() {
		vc_sql "SELECT TABLE_NAME, GROUP_CONCAT(PRIVILEGE_TYPE ORDER BY PRIVILEGE_TYPE)
			FROM information_schema.TABLE_PRIVILEGES WHERE GRANTEE = \"'$1'@'localhost'\"
			GROUP BY TABLE_NAME ORDER BY CAST(TABLE_NAME AS BINARY)" | tr '\t\n' ': '
	}
	local rw=DELETE,INSERT,SELECT,UPDATE
	[ "$(privs vault_storage_user)" = \
		"vault_storage:$rw vault_storage_lock:$rw vc_value_keys:$rw vc_values:$rw " ]
	[ "$(privs secrets_api_user)" = \
		"audit_chain_heads:$rw audit_logs:INSERT,SELECT audit_reads:INSERT,SELECT environments:$rw maintenance_locks:$rw organizations:$rw plans:$rw projects:$rw secret_metadata:$rw subscriptions:$rw usage_statistics:$rw user_organizations:$rw users:$rw " ]
	[ "$(privs monitoring_user)" = \
		"audit_chain_heads:SELECT audit_logs:SELECT audit_reads:SELECT environments:SELECT maintenance_locks:SELECT organizations:SELECT plans:SELECT projects:SELECT schema_migrations:SELECT secret_metadata:SELECT subscriptions:SELECT usage_statistics:SELECT user_organizations:SELECT " ]
	# users column by column: every one but hashed_password.
	[ "$(vc_sql "SELECT TABLE_NAME, PRIVILEGE_TYPE, GROUP_CONCAT(COLUMN_NAME
		ORDER BY CAST(COLUMN_NAME AS BINARY)) FROM information_schema.COLUMN_PRIVILEGES
		WHERE GRANTEE = \"'monitoring_user'@'localhost'\"
		GROUP BY TABLE_NAME, PRIVILEGE_TYPE" | tr '\t' ' ')" = \
		"users SELECT created_at,email,first_name,id,last_name,login,role,updated_at" ]
	[ -z "$(vc_sql "SELECT GRANTEE FROM information_schema.COLUMN_PRIVILEGES
		WHERE GRANTEE <> \"'monitoring_user'@'localhost'\"")" ]
	[ -z "$(privs vault_mysql_user)" ]
	# Only vault_mysql_user has database-wide privileges.
	[ "$(vc_sql "SELECT GROUP_CONCAT(DISTINCT GRANTEE)
		FROM information_schema.SCHEMA_PRIVILEGES
		WHERE TABLE_SCHEMA = 'docksky_vault'")" = "'vault_mysql_user'@'localhost'" ]
}

@test "secrets_api_user: metadata yes, value stores no, audit append-only" {
	run vc_sql_as secrets_api_user "SELECT COUNT(*) FROM vault_storage"
	refused
	run vc_sql_as secrets_api_user "SELECT COUNT(*) FROM vc_values"
	refused
	run vc_sql_as secrets_api_user "SELECT COUNT(*) FROM vc_value_keys"
	refused

	run vc_sql_as secrets_api_user "INSERT INTO users (id, email, hashed_password, first_name, last_name, role, created_at, updated_at) VALUES ('u-api', 'api@example.com',
		'', NULL, NULL, 'user', NOW(), NOW());
		UPDATE users SET role = 'admin' WHERE id = 'u-api';
		SELECT role FROM users WHERE id = 'u-api';
		DELETE FROM users WHERE id = 'u-api'"
	[ "$status" -eq 0 ]
	[ "$output" = admin ]

	run vc_sql_as secrets_api_user "INSERT INTO audit_logs (id, user_id, organization_id,
		action, resource_type, resource_id, \`timestamp\`, prev_hash, row_hash)
		VALUES ('a-api', NULL, NULL, 'user.add', 'user', 'u-api', NOW(),
		REPEAT(0x00, 32), REPEAT(0x11, 32));
		SELECT action, seq > 0, LENGTH(row_hash) FROM audit_logs WHERE id = 'a-api'"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'user.add\t1\t32')" ]
	run vc_sql_as secrets_api_user "UPDATE audit_logs SET action = 'x' WHERE id = 'a-api'"
	refused
	run vc_sql_as secrets_api_user "DELETE FROM audit_logs WHERE id = 'a-api'"
	refused
	[ "$(vc_sql "SELECT action FROM audit_logs WHERE id = 'a-api'")" = user.add ]

	# Retention is the administrative account's.
	run vc_sql_as vault_mysql_user "DELETE FROM audit_logs WHERE id = 'a-api'"
	[ "$status" -eq 0 ]
	[ "$(vc_sql "SELECT COUNT(*) FROM audit_logs WHERE id = 'a-api'")" -eq 0 ]
	# ... within its database only.
	run vc_sql_as vault_mysql_user "SELECT COUNT(*) FROM mysql.user"
	refused
}

@test "monitoring_user reads metadata, never values, and writes nothing" {
	run vc_sql_as monitoring_user "SELECT COUNT(*) FROM users"
	[ "$status" -eq 0 ]
	[[ $output =~ ^[0-9]+$ ]]
	run vc_sql_as monitoring_user "SELECT COUNT(*) FROM audit_logs"
	[ "$status" -eq 0 ]
	run vc_sql_as monitoring_user "SELECT COUNT(*) FROM vault_storage"
	refused
	run vc_sql_as monitoring_user "SELECT COUNT(*) FROM vc_values"
	refused
	run vc_sql_as monitoring_user "SELECT COUNT(*) FROM vc_value_keys"
	refused
	run vc_sql_as monitoring_user "DELETE FROM users"
	refused
}

@test "monitoring_user: no password hashes, and the reports it runs still work" {
	run vc_sql_as monitoring_user "SELECT hashed_password FROM users"
	refused
	run vc_sql_as monitoring_user "SELECT * FROM users"
	refused
	run vc_sql_as monitoring_user "SELECT COUNT(*) FROM users WHERE hashed_password <> ''"
	refused
	run vc_sql_as monitoring_user "SELECT id, email, first_name, last_name, role,
		created_at, updated_at FROM users LIMIT 1"
	[ "$status" -eq 0 ]
	# vaultctl-audit log joins users as monitoring_user; verify reads the
	# audit tables with it.
	VAULTCTL_USER=mon-admin@example.com
	export VAULTCTL_USER
	vaultctl-org -q user add "$VAULTCTL_USER" --no-password
	run --separate-stderr vaultctl-audit log
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[[ $output == *user.create* ]]
	run --separate-stderr vaultctl-audit log --user "$VAULTCTL_USER"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	run --separate-stderr vaultctl-audit verify
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	vc_sql "DELETE FROM users WHERE email = '$VAULTCTL_USER'"
}

@test "vault_storage_user reaches the value stores and nothing else" {
	run vc_sql_as vault_storage_user "SELECT COUNT(*) FROM users"
	refused
	run vc_sql_as vault_storage_user "SELECT COUNT(*) FROM audit_logs"
	refused
	run vc_sql_as vault_storage_user "CREATE TABLE x (a INT)"
	refused

	# The local store, with the longest path it takes.
	run vc_sql_as vault_storage_user "
		INSERT INTO vc_value_keys (path, current_version, created_at, updated_at)
		  VALUES (REPEAT('p', 3000), 1, NOW(6), NOW(6));
		INSERT INTO vc_values (path, version, nonce, ciphertext, created_at)
		  VALUES (REPEAT('p', 3000), 1, REPEAT(0x01, 24), 0x00FF00, NOW(6));
		SELECT LENGTH(path), HEX(ciphertext), destroyed FROM vc_values;
		DELETE FROM vc_values; DELETE FROM vc_value_keys"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '3000\t00FF00\t0')" ]
}

@test "Vault's own statements work as vault_storage_user" {
	local t='`docksky_vault`.`vault_storage`'
	# Start-up: Vault creates the database or table only when it cannot see
	# them; the account can, so it needs no CREATE privilege.
	run vc_sql_as vault_storage_user "
		SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'docksky_vault';
		SELECT TABLE_NAME FROM information_schema.TABLES
		  WHERE TABLE_NAME = 'vault_storage' AND TABLE_SCHEMA = 'docksky_vault';
		SELECT TABLE_NAME FROM information_schema.TABLES
		  WHERE TABLE_NAME = 'vault_storage_lock' AND TABLE_SCHEMA = 'docksky_vault'"
	[ "$status" -eq 0 ]
	[ "$output" = "docksky_vault
vault_storage
vault_storage_lock" ]

	# put, twice on one key (the update branch), then on keys that differ
	# only in case, and one that only LIKE's unescaped '_' would match.
	run vc_sql_as vault_storage_user "
		INSERT INTO $t VALUES( 'logical/abc/Foo', 'v1' ) ON DUPLICATE KEY UPDATE vault_value=VALUES(vault_value);
		INSERT INTO $t VALUES( 'logical/abc/Foo', 'v2' ) ON DUPLICATE KEY UPDATE vault_value=VALUES(vault_value);
		INSERT INTO $t VALUES( 'logical/abc/foo', 0x00FF0A ) ON DUPLICATE KEY UPDATE vault_value=VALUES(vault_value);
		INSERT INTO $t VALUES( 'logical/abc/sub/bar', 'v3' ) ON DUPLICATE KEY UPDATE vault_value=VALUES(vault_value);
		INSERT INTO $t VALUES( 'logical/abcd', 'v4' ) ON DUPLICATE KEY UPDATE vault_value=VALUES(vault_value)"
	[ "$status" -eq 0 ]

	# get
	run vc_sql_as vault_storage_user "SELECT vault_value FROM $t WHERE vault_key = 'logical/abc/Foo'"
	[ "$output" = v2 ]
	run vc_sql_as vault_storage_user "SELECT HEX(vault_value) FROM $t WHERE vault_key = 'logical/abc/foo'"
	[ "$output" = 00FF0A ]
	run vc_sql_as vault_storage_user "SELECT vault_value FROM $t WHERE vault_key = 'LOGICAL/ABC/FOO'"
	[ "$status" -eq 0 ]
	[ -z "$output" ]

	# list: prefix%, byte order
	run vc_sql_as vault_storage_user "SELECT vault_key FROM $t WHERE vault_key LIKE 'logical/abc/%' ORDER BY vault_key"
	[ "$output" = "logical/abc/Foo
logical/abc/foo
logical/abc/sub/bar" ]

	# delete takes one of the two case-variants only
	run vc_sql_as vault_storage_user "DELETE FROM $t WHERE vault_key = 'logical/abc/Foo';
		SELECT vault_key FROM $t WHERE vault_key LIKE 'logical/abc/%' ORDER BY vault_key"
	[ "$status" -eq 0 ]
	[ "$output" = "logical/abc/foo
logical/abc/sub/bar" ]

	# HA: the lock table's put and get.
	run vc_sql_as vault_storage_user "
		INSERT INTO \`docksky_vault\`.\`vault_storage_lock\` VALUES( 'core/lock/docksky_vault/vault_storage', 'node-a' ) ON DUPLICATE KEY UPDATE current_leader=VALUES(current_leader);
		INSERT INTO \`docksky_vault\`.\`vault_storage_lock\` VALUES( 'core/lock/docksky_vault/vault_storage', 'node-b' ) ON DUPLICATE KEY UPDATE current_leader=VALUES(current_leader);
		SELECT current_leader FROM \`docksky_vault\`.\`vault_storage_lock\` WHERE node_job = 'core/lock/docksky_vault/vault_storage'"
	[ "$status" -eq 0 ]
	[ "$output" = node-b ]

	vc_sql "DELETE FROM vault_storage; DELETE FROM vault_storage_lock"
}

@test "vault_storage keys: 3000 and 3072 bytes fit, byte for byte; 3073 is refused" {
	run vc_sql_as vault_storage_user "
		INSERT INTO vault_storage VALUES (CONCAT(REPEAT('a', 2999), 'Z'), 'x');
		INSERT INTO vault_storage VALUES (CONCAT(REPEAT('a', 2999), 'z'), 'y');
		INSERT INTO vault_storage VALUES (REPEAT('b', 3072), 'z');
		SELECT LENGTH(vault_key), vault_value FROM vault_storage ORDER BY vault_key"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '3000\tx\n3000\ty\n3072\tz')" ]
	run vc_sql_as vault_storage_user "INSERT INTO vault_storage VALUES (REPEAT('c', 3073), 'x')"
	[ "$status" -ne 0 ]
	[[ $output == *"Data too long"* ]]
	vc_sql "DELETE FROM vault_storage"
}

@test "a second run of install.sh changes nothing and keeps passwords and keys" {
	local before after out
	before=$(snapshot)
	[[ $before == *'CREATE TABLE `vault_storage`'* ]]
	[[ $before == *'GRANT SELECT, INSERT ON `docksky_vault`.`audit_logs` TO `secrets_api_user`@`localhost`'* ]]
	[[ $before == *'GRANT SELECT (`'*'`) ON `docksky_vault`.`users` TO `monitoring_user`@`localhost`'* ]]
	[[ $before == *'"password_last_changed"'* ]]
	[[ $before == *"$VAULTCTL_CONFIG.key 600 32"* ]]
	[[ $before == *"$VAULTCTL_CONFIG.audit.key 600 32"* ]]
	[[ $before == *"$VAULTCTL_CONFIG.admin 600 "* ]]
	sleep 1 # a change would show in a timestamp
	out=$("$REPO/sql/install.sh" --defaults-file "$VC_TEST_DIR/admin.cnf" \
		--config-out "$VAULTCTL_CONFIG")
	after=$(snapshot)
	[ "$before" = "$after" ] || { diff <(echo "$before") <(echo "$after"); false; }
	[[ $out == *"migrations: none pending"* ]]
	[[ $out != *"applied"* ]]
	[[ $out == *"admin config $VAULTCTL_CONFIG.admin: unchanged"* ]]
	[[ $out == *"audit key $VAULTCTL_CONFIG.audit.key: kept"* ]]
	[[ $out != *" set"* && $out != *"created"* && $out != *"written"* ]]
	# The passwords first given in the environment were read back from the
	# file: the tricky one still logs in.
	run login_with vault_storage_user "$STORAGE_PW" "SELECT 1"
	[ "$status" -eq 0 ]
}

@test "re-run: extra [vaultctl], [client] and account lines kept, backend switch, new env password applied" {
	local cnf=$VC_TEST_DIR/vault-backend.cnf old_values old_admin
	cp "$VAULTCTL_CONFIG" "$cnf"
	sed -i '/^max_value_size/a default_user = admin@example.com\n# my note\nauthenticate = password' "$cnf"
	# A Galera user's settings: read-your-writes for every account, and a
	# statement limit for one of them.
	sed -i -e '/^\[client\]/a init-command = SET SESSION wsrep_sync_wait = 1' \
		-e '/^\[vaultctl-metadata\]/a init_command = SET SESSION max_statement_time = 30' "$cnf"
	old_values=$(vc_cnf_group "$cnf" vaultctl-values)
	old_admin=$(vc_cnf_group "$VAULTCTL_CONFIG.admin" vaultctl-admin)
	[ -n "$old_values" ]
	[ -n "$old_admin" ]

	MONITORING_PASSWORD=new-Monitoring-pw1 run "$REPO/sql/install.sh" \
		--defaults-file "$VC_TEST_DIR/admin.cnf" --backend vault --config-out "$cnf"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[[ $output == *"account monitoring_user@localhost: password set, from MONITORING_PASSWORD"* ]]
	[[ $output == *"account secrets_api_user@localhost: unchanged"* ]]
	[ "$(stat -c %a "$cnf")" = 600 ]
	[ "$(stat -c %a "$cnf.vault-storage")" = 600 ]
	[ "$(vc_cnf_group "$cnf" vaultctl)" = "database = docksky_vault
backend = vault
master_key_file = $VAULTCTL_CONFIG.key
audit_key_file = $VAULTCTL_CONFIG.audit.key
admin_config = $VAULTCTL_CONFIG.admin
vault_addr = https://127.0.0.1:8200
vault_mount = secret
max_value_size = 1048576
default_user = admin@example.com
# my note
authenticate = password" ]
	# Vault's storage account moved to a file of its own.
	[ "$(groups "$cnf")" = "[client] [vaultctl] [vaultctl-metadata] [vaultctl-monitoring] " ]
	[ "$(vc_cnf_group "$cnf.vault-storage" vaultctl-values)" = "$old_values" ]
	[ "$(vc_cnf_group "$VAULTCTL_CONFIG.admin" vaultctl-admin)" = "$old_admin" ]
	[ "$(vc_cnf_group "$cnf" client | grep -c '^init-command = SET SESSION wsrep_sync_wait = 1$')" = 1 ]
	vc_cnf_group "$cnf" client | grep -q '^socket = '
	[ "$(vc_cnf_group "$cnf" vaultctl-metadata | sed 1,2d)" = "init_command = SET SESSION max_statement_time = 30" ]
	[ "$(vc_cnf_group "$cnf" vaultctl-monitoring)" = "user = monitoring_user
password = new-Monitoring-pw1" ]
	run login_with monitoring_user new-Monitoring-pw1 "SELECT CURRENT_USER()"
	[ "$output" = monitoring_user@localhost ]

	# Without --backend the file's backend stays; nothing else moves.
	cp "$cnf" "$cnf.before"
	run "$REPO/sql/install.sh" --defaults-file "$VC_TEST_DIR/admin.cnf" --config-out "$cnf"
	[ "$status" -eq 0 ]
	[[ $output == *"config $cnf: unchanged"* ]]
	[[ $output == *"vault storage config $cnf.vault-storage: unchanged"* ]]
	cmp "$cnf" "$cnf.before"

	# The main configuration is behind now: a run with it puts its password back.
	run "$REPO/sql/install.sh" -q --defaults-file "$VC_TEST_DIR/admin.cnf" \
		--config-out "$VAULTCTL_CONFIG"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	run vc_sql_as monitoring_user "SELECT CURRENT_USER()"
	[ "$output" = monitoring_user@localhost ]
}

@test "install.sh: another database and account host; only connection settings copied" {
	local cnf=$VC_TEST_DIR/other.cnf pw port
	port=$(cat "$VC_TEST_DIR/port")
	cat >"$VC_TEST_DIR/admin2.cnf" <<-EOF
		[client]
		user = root
		password =
		socket = $VC_TEST_DIR/mysql.sock
		port = $port
		[mysqld]
		socket = /nowhere
	EOF
	run "$REPO/sql/install.sh" --defaults-file "$VC_TEST_DIR/admin2.cnf" \
		--database vc_other --account-host 127.0.0.1 --config-out "$cnf"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[ "$(vc_cnf_group "$cnf" client)" = "socket = $VC_TEST_DIR/mysql.sock
port = $port" ]
	vc_cnf_group "$cnf" vaultctl | grep -qx 'database = vc_other'
	[ "$(vc_sql "SELECT COUNT(*) FROM vc_other.schema_migrations")" -eq \
		"$(vc_sql "SELECT COUNT(*) FROM schema_migrations")" ]
	# Accounts @127.0.0.1, reached over TCP (the server skips name resolution).
	pw=$(vc_cnf_group "$cnf" vaultctl-metadata | sed -n 's/^password = //p')
	run env MYSQL_PWD="$pw" mariadb --no-defaults --host=127.0.0.1 --port="$port" \
		--user=secrets_api_user vc_other -N -e "SELECT CURRENT_USER(); SELECT COUNT(*) FROM users"
	[ "$status" -eq 0 ]
	[ "$output" = "secrets_api_user@127.0.0.1
0" ]
	# ... and the @localhost accounts still have their grants on docksky_vault.
	run vc_sql_as secrets_api_user "SELECT COUNT(*) FROM users"
	[ "$status" -eq 0 ]

	vc_sql "DROP DATABASE vc_other; DROP USER vault_mysql_user@'127.0.0.1',
		vault_storage_user@'127.0.0.1', secrets_api_user@'127.0.0.1', monitoring_user@'127.0.0.1'"
}

@test "install.sh --backend vault: Vault's storage account in its own file, never in FILE" {
	local d=$BATS_TEST_TMPDIR cnf=$BATS_TEST_TMPDIR/v.cnf before
	FRESH=1
	run fresh_install "$cnf" --backend vault \
		--admin-config-out "$d/adm.cnf" --vault-storage-out "$d/vs.cnf"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[ "$(groups "$cnf")" = "[client] [vaultctl] [vaultctl-metadata] [vaultctl-monitoring] " ]
	[ "$(grep -c 'vault_storage_user\|vault_mysql_user\|vaultctl-values\|vaultctl-admin' "$cnf")" -eq 0 ]
	vc_cnf_group "$cnf" vaultctl | grep -qx "admin_config = $d/adm.cnf"
	vc_cnf_group "$cnf" vaultctl | grep -qx "audit_key_file = $cnf.audit.key"
	[ ! -e "$cnf.key" ]
	[ ! -e "$cnf.admin" ]
	[ ! -e "$cnf.vault-storage" ]
	[ "$(stat -c %a "$cnf") $(stat -c %a "$cnf.audit.key") $(stat -c %s "$cnf.audit.key")" = "600 600 32" ]

	# FILE3: Vault's storage account, 0600, and it logs in.
	[ "$(stat -c %a "$d/vs.cnf")" = 600 ]
	[[ $(head -n 1 "$d/vs.cnf") == "# Vault's storage account written by sql/install.sh on "* ]]
	[ "$(groups "$d/vs.cnf")" = "[client] [vaultctl-values] " ]
	[ "$(vc_cnf_group "$d/vs.cnf" vaultctl-values | head -n 1)" = "user = vault_storage_user" ]
	vc_cnf_group "$d/vs.cnf" vaultctl-values | grep -qE '^password = [A-Za-z0-9]{24}$'
	grep -q "database = \"$FRESH_DB\"" "$d/vs.cnf"
	run login_tcp vault_storage_user "$d/vs.cnf" vaultctl-values "SELECT COUNT(*) FROM vault_storage"
	[ "$output" = 0 ]
	# FILE2: the administrative account.
	[ "$(stat -c %a "$d/adm.cnf")" = 600 ]
	[ "$(groups "$d/adm.cnf")" = "[client] [vaultctl-admin] " ]
	run login_tcp vault_mysql_user "$d/adm.cnf" vaultctl-admin "SELECT CURRENT_USER()"
	[ "$output" = vault_mysql_user@127.0.0.1 ]

	# Again: the same passwords and keys, every file as it was.
	before=$(sha256sum "$cnf" "$cnf.audit.key" "$d/adm.cnf" "$d/vs.cnf")
	sleep 1
	run fresh_install "$cnf" --vault-storage-out "$d/vs.cnf"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[[ $output == *"account vault_storage_user@127.0.0.1: unchanged"* ]]
	[[ $output == *"account vault_mysql_user@127.0.0.1: unchanged"* ]]
	[ "$(sha256sum "$cnf" "$cnf.audit.key" "$d/adm.cnf" "$d/vs.cnf")" = "$before" ]
}

@test "install.sh --group: FILE and its key files 0640 root:GROUP, the accounts' files 0600" {
	local cnf=$BATS_TEST_TMPDIR/g.cnf f
	[[ $EUID == 0 ]] || skip "--group needs root"
	TEST_GROUP=vc-e2e-$$
	groupadd "$TEST_GROUP"
	FRESH=1
	run fresh_install "$cnf" --group "$TEST_GROUP"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	for f in "$cnf" "$cnf.key" "$cnf.audit.key"; do
		[ "$(stat -c '%a %U %G' "$f")" = "640 root $TEST_GROUP" ] || { stat "$f"; false; }
	done
	[ "$(stat -c '%a %U' "$cnf.admin")" = "600 root" ]
	[ "$(grep -c vault_mysql_user "$cnf")" -eq 0 ]
	# A run without --group takes group access away again; keys stay.
	f=$(sha256sum "$cnf.key" "$cnf.audit.key")
	run fresh_install "$cnf"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[ "$(stat -c %a "$cnf" "$cnf.key" "$cnf.audit.key" | tr '\n' ' ')" = "600 600 600 " ]
	[ "$(sha256sum "$cnf.key" "$cnf.audit.key")" = "$f" ]
}

@test "install.sh: no password reaches the general log or the slow log" {
	local cnf=$BATS_TEST_TMPDIR/log.cnf log slow=$VC_TEST_DIR/slow.log pw h
	local adm=Adm1n-pw-$RANDOM$RANDOM api=Ap1-pw-$RANDOM$RANDOM
	local sto=$'St\'or"age `pw '$RANDOM$RANDOM mon=M0n-pw-$RANDOM$RANDOM
	LOGS_WAS=$(vc_sql "SELECT @@global.general_log, @@global.slow_query_log,
		@@global.long_query_time, @@global.log_output, @@global.slow_query_log_file")
	log=$(vc_sql "SELECT @@global.general_log_file")
	[[ $log == /* ]] || log=$(vc_sql "SELECT @@datadir")/$log
	# Every statement into both logs (long_query_time = 0).
	vc_sql "SET GLOBAL log_output = 'FILE', general_log = 1,
		slow_query_log_file = '$slow', slow_query_log = 1, long_query_time = 0"
	FRESH=1
	# Created, then changed: both statements that set a password.
	VAULT_MYSQL_PASSWORD=$adm VAULT_STORAGE_PASSWORD=$sto SECRETS_API_PASSWORD=$api \
		MONITORING_PASSWORD=$mon run fresh_install "$cnf"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[[ $output == *"account monitoring_user@127.0.0.1: created, password from MONITORING_PASSWORD"* ]]
	MONITORING_PASSWORD=$mon-2 run fresh_install "$cnf"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[[ $output == *"account monitoring_user@127.0.0.1: password set, from MONITORING_PASSWORD"* ]]
	logs_restore

	# The logs did record these runs (the test would pass on empty logs).
	grep -q "INSERT INTO schema_migrations" "$log"
	grep -q "$FRESH_DB" "$slow"
	for pw in "$adm" "$sto" "$api" "$mon" "$mon-2"; do
		! grep -qF -- "$pw" "$log" "$slow" || { echo "a password is in a log"; false; }
	done
	# Nor the hashes: install.sh turned the general log off for them.
	for h in $(vc_sql "SELECT authentication_string FROM mysql.user WHERE Host = '127.0.0.1'"); do
		[[ $h == '*'* ]]
		! grep -qF -- "$h" "$log" "$slow" || { echo "a password hash is in a log"; false; }
	done
}

# logs_restore: the server's log settings as they were before the test
# above changed them.
logs_restore() {
	[[ -n ${LOGS_WAS:-} ]] || return 0
	local IFS=$'\t'
	set -- $LOGS_WAS
	vc_sql "SET GLOBAL general_log = $1, slow_query_log = $2, long_query_time = $3,
		log_output = '$4', slow_query_log_file = '$5'"
	LOGS_WAS=
}

@test "the tools refuse an unknown configuration key or value, naming it (exit 2)" {
	local cnf=$BATS_TEST_TMPDIR/bad.cnf
	(umask 077 && sed '/^\[vaultctl\]/a frobnicate = 1' "$VAULTCTL_CONFIG" >"$cnf")
	run --separate-stderr vaultctl-org -c "$cnf" list
	[ "$status" -eq 2 ]
	[[ $stderr == *"$cnf:"*"unknown key 'frobnicate'"* ]]
	(umask 077 && sed '/^\[vaultctl\]/a authenticate = Password' "$VAULTCTL_CONFIG" >"$cnf")
	run --separate-stderr vaultctl-org -c "$cnf" list
	[ "$status" -eq 2 ]
	[[ $stderr == *"$cnf:"*"authenticate = 'Password' is not valid"* ]]
	(umask 077 && sed '/^\[vaultctl\]/a max_value_size = lots' "$VAULTCTL_CONFIG" >"$cnf")
	run --separate-stderr vaultctl-org -c "$cnf" list
	[ "$status" -eq 2 ]
	[[ $stderr == *"$cnf:"*"max_value_size"* ]]
	# The configuration install.sh wrote is accepted as it is.
	run --separate-stderr vaultctl-org list
	[ "$status" -ne 2 ] || { echo "$stderr"; false; }
}

@test "install.sh: a server it cannot reach is an error, and no file is written" {
	printf '[client]\nsocket=%s/nowhere.sock\nuser=root\n' "$VC_TEST_DIR" >"$VC_TEST_DIR/bad.cnf"
	run "$REPO/sql/install.sh" --defaults-file "$VC_TEST_DIR/bad.cnf" \
		--config-out "$VC_TEST_DIR/bad-out.cnf"
	[ "$status" -eq 1 ]
	[[ $output == *"cannot connect to the server"* ]]
	[ ! -e "$VC_TEST_DIR/bad-out.cnf" ]
	[ ! -e "$VC_TEST_DIR/bad-out.cnf.key" ]
	[ ! -e "$VC_TEST_DIR/bad-out.cnf.audit.key" ]
	[ ! -e "$VC_TEST_DIR/bad-out.cnf.admin" ]
}

teardown() {
	logs_restore
	[[ -z ${FRESH:-} ]] || fresh_drop
	[[ -z ${TEST_GROUP:-} ]] || groupdel "$TEST_GROUP"
	if [[ -n ${SECOND_DIR:-} ]]; then
		"$REPO/tests/harness/mariadb.sh" stop "$SECOND_DIR"
		rm -rf "$SECOND_DIR"
	fi
}

@test "harness: a second server runs beside the first and stops cleanly" {
	local dir pid
	dir=$(mktemp -d "${TMPDIR:-/tmp}/vc-e2e2.XXXXXX")
	SECOND_DIR=$dir
	"$REPO/tests/harness/mariadb.sh" start "$dir"
	pid=$(cat "$dir/mariadbd.pid")
	[ "$(cat "$dir/port")" != "$(cat "$VC_TEST_DIR/port")" ]
	run mariadb --defaults-file="$dir/admin.cnf" -N -e "SELECT @@port, @@datadir"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '%s\t%s/data/' "$(cat "$dir/port")" "$dir")" ]
	run mariadb --no-defaults --host=127.0.0.1 --port="$(cat "$dir/port")" --user=nobody -e "SELECT 1"
	[[ $output == *"Access denied"* ]] # TCP answers too
	"$REPO/tests/harness/mariadb.sh" stop "$dir"
	[ ! -e "$dir/mariadbd.pid" ]
	# Gone (or a zombie until init reaps it: not our child).
	local stat
	stat=$(cat "/proc/$pid/stat" 2>/dev/null || true)
	[[ -z $stat || ${stat##*) } == Z* ]]
	# The first server still answers.
	[ "$(vc_sql "SELECT 1")" = 1 ]
}
