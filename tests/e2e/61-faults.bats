#!/usr/bin/env bats
# The fault matrix of issue 10: the database stopped before and killed
# during a write, Vault sealed, answering 500, 429 or 403, the connection
# dropped before and in the middle of an answer, a full disk under
# `export -O FILE`, SIGINT and SIGTERM during `import`.  Each case: the
# documented exit code, nothing half-written (metadata, audit and the value
# store agree: `vaultctl-audit reconcile`, or the message said what to run),
# and a message that says what happened and what to do.
#
# Organization "loc" uses the local value store ($VC_TEST_DIR/vaultctl.cnf),
# "vlt" the Vault emulator ($VC_TEST_DIR/vault.cnf: the same database,
# backend = vault).

bats_require_minimum_version 1.5.0
load helper
load secret_helper
load restore_helper

MANY=2000       # secrets of the interrupted imports: a write is ~1 ms

setup_file() {
	vc_server_start
	emu_start
	s_bootstrap
	sed 's/^backend = local$/backend = vault/' "$VAULTCTL_CONFIG" >"$VC_TEST_DIR/vault.cnf"
	chmod 600 "$VC_TEST_DIR/vault.cnf"
	grep -q '^backend = vault$' "$VC_TEST_DIR/vault.cnf"
	s_org loc NULL
	s_org vlt NULL
	local i
	for i in $(seq "$MANY"); do printf 'S%04d=value-%d\n' "$i" "$i"; done \
		>"$BATS_FILE_TMPDIR/many.env"
}

teardown_file() {
	local pid
	for pid in "$BATS_FILE_TMPDIR"/*.pid; do
		[[ -s $pid ]] && kill "$(cat "$pid")" 2>/dev/null
	done
	! mountpoint -q "$BATS_FILE_TMPDIR/full" 2>/dev/null ||
		umount "$BATS_FILE_TMPDIR/full"
	emu_stop
	vc_server_stop
}

setup() {
	exec </dev/null
	export VAULTCTL_USER=$VC_ADMIN
	export VAULTCTL_CONFIG=$VC_TEST_DIR/vaultctl.cnf
	VC_STORE=local
	emu_clear_faults
	emu POST /_emulator/seal '{"sealed": false}' >/dev/null
}

teardown() {
	! mountpoint -q "$BATS_FILE_TMPDIR/full" 2>/dev/null ||
		umount "$BATS_FILE_TMPDIR/full"
	# A test that failed with the server down leaves it down: start it
	# again for the next one.
	server_alive || db_start
	# A test that failed while it held a lock must not leave it to the
	# next one, whose block would take the old session for its own.
	[[ ! -s $BATS_FILE_TMPDIR/block.pid ]] || unblock
	rm -f "$BATS_FILE_TMPDIR/block.pid"
}

# --- helpers ------------------------------------------------------------

vault_mode() {
	export VAULTCTL_CONFIG=$VC_TEST_DIR/vault.cnf
	VC_STORE=vault
}

server_pid() {
	cat "$VC_TEST_DIR/mariadbd.pid"
}

server_alive() {
	mariadb-admin --defaults-file="$VC_TEST_DIR/admin.cnf" --connect-timeout=2 \
		ping >/dev/null 2>&1
}

db_stop() {
	"$REPO/tests/harness/mariadb.sh" stop "$VC_TEST_DIR"
}

# The same data directory: what was committed before is there again.
db_start() {
	"$REPO/tests/harness/mariadb.sh" start "$VC_TEST_DIR" >/dev/null
}

# env_count ENV: metadata rows of the environment ORG/api/ENV's name.
env_count() {
	vc_sql "SELECT COUNT(*) FROM secret_metadata WHERE environment =
		(SELECT e.id FROM environments e JOIN projects p ON p.id = e.project_id
		 JOIN organizations o ON o.id = p.organization_id
		 WHERE o.name = '${1%%/*}' AND e.name = '${1##*/}')"
}

# creates_in ENV: secret.create audit rows of the secrets of ENV.
creates_in() {
	vc_sql "SELECT COUNT(*) FROM audit_logs a JOIN secret_metadata sm
		ON sm.id = a.resource_id WHERE a.action = 'secret.create'
		AND sm.environment = (SELECT e.id FROM environments e
		JOIN projects p ON p.id = e.project_id JOIN organizations o
		ON o.id = p.organization_id WHERE o.name = '${1%%/*}'
		AND e.name = '${1##*/}')"
}

# block SQL: a session of its own runs SQL in a transaction and keeps
# its locks until unblock: an import that needs them waits there.
block() {
	vc_sql "START TRANSACTION; $1; SELECT SLEEP(300); ROLLBACK" >/dev/null 2>&1 3>&- &
	echo $! >"$BATS_FILE_TMPDIR/block.pid"
	for _ in $(seq 500); do
		(($(vc_sql "SELECT COUNT(*) FROM information_schema.PROCESSLIST
			WHERE info = 'SELECT SLEEP(300)'") > 0)) && return 0
		sleep 0.01
	done
	echo "the blocking session did not start"
	return 1
}

unblock() {
	local id
	# With the server gone, so is the session.
	id=$(vc_sql "SELECT id FROM information_schema.PROCESSLIST
		WHERE info = 'SELECT SLEEP(300)'" 2>/dev/null) || true
	[[ -z $id ]] || vc_sql "KILL $id" 2>/dev/null || true
	wait "$(cat "$BATS_FILE_TMPDIR/block.pid")" 2>/dev/null || true
	# A killed session stays listed for a moment: the next block must not
	# take it for its own.
	for _ in $(seq 500); do
		[[ $(vc_sql "SELECT COUNT(*) FROM information_schema.PROCESSLIST
			WHERE info = 'SELECT SLEEP(300)'" 2>/dev/null) != [1-9]* ]] && return 0
		sleep 0.01
	done
}

# block_quota ORG: the organization's quota lock (lib/plan.c), which an
# import takes before its batch's transaction.
block_quota() {
	block "UPDATE subscriptions SET write_seq = write_seq WHERE organization_id =
		(SELECT id FROM organizations WHERE name = '$1')"
}

# block_store ENV NAME: the value store's key row of ENV's secret NAME,
# which the batch's store transaction writes: the import waits there,
# with its values half written in that transaction and its metadata
# transaction open.
block_store() {
	block "INSERT INTO vc_value_keys (path, current_version, oldest_version,
		max_versions, created_at, updated_at) VALUES ('$(s_env_prefix "$1")$2',
		1, 1, 0, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))"
}

# wait_blocked [ERRFILE]: until a transaction waits for a lock.  A
# SELECT ... FOR UPDATE of one primary key waits inside the optimizer
# (state "Statistics"), before InnoDB lists its transaction as waiting:
# a statement running for more than 300 ms counts too.
wait_blocked() {
	for _ in $(seq 1500); do
		(($(vc_sql "SELECT (SELECT COUNT(*) FROM information_schema.INNODB_TRX
			WHERE trx_state = 'LOCK WAIT') + (SELECT COUNT(*) FROM
			information_schema.PROCESSLIST WHERE command IN ('Query',
			'Execute') AND id <> CONNECTION_ID() AND time_ms > 300
			AND info NOT LIKE 'SELECT SLEEP(300)%')") > 0)) && return 0
		sleep 0.02
	done
	echo "nothing waits for a lock"
	# What the client said, if it already gave up.
	[[ -z ${1:-} ]] || cat "$1" 2>/dev/null
	vc_sql "SELECT id, command, state, LEFT(info, 120) FROM
		information_schema.PROCESSLIST WHERE command <> 'Sleep'"
	return 1
}

# all_or_nothing ENV N: ORG/api/ENV holds none of the batch or all N of
# it, metadata, audit rows and values alike; prints which count.
all_or_nothing() {
	local m
	m=$(env_count "${1%%/*}/${1##*/}")
	((m == 0 || m == $2)) || { echo "$1: $m of $2 secrets"; return 1; }
	[ "$(creates_in "${1%%/*}/${1##*/}")" -eq "$m" ]
	[ "$(store_keys "$1")" -eq "$m" ]
	echo "$m"
}

# r_setup ORG/api/ENV: a new environment whose secrets changed after
# R_AT in every way restore-env undoes: A written again (reverted), C
# removed (restored), N created (removed), R written again and removed
# (restored with its value of then), K as it was.  Sets ENV and ORG.
r_setup() {
	ENV=$1 ORG=${1%%/*}
	new_env "$ENV"
	s_put "$ENV/A" a1
	s_put "$ENV/C" c1
	s_put "$ENV/R" r1
	s_put "$ENV/K" k1
	sleep 1.1
	R_AT=$(r_now)
	s_put "$ENV/A" a2
	vaultctl-secret -q rm "$ENV/C"
	s_put "$ENV/N" n1
	s_put "$ENV/R" r2
	vaultctl-secret -q rm "$ENV/R"
}

# r_is A C N R K: the values of $ENV's secrets, '-' for removed.
r_is() {
	local n v got
	for n in A C N R K; do
		v=$1
		shift
		if [[ $v == - ]]; then
			run -3 vaultctl-secret get "$ENV/$n"
		else
			got=$(vaultctl-secret get "$ENV/$n") && [ "$got" == "$v" ] ||
				{ echo "$ENV/$n: '$got', not '$v'"; return 1; }
		fi
	done
}

# r_nothing: no audit row of a restore-env --at R_AT.
r_nothing() {
	[ "$(r_batch_rows "$ORG" "${R_AT:0:10} ${R_AT:11:8}")" -eq 0 ]
}

# reap PID: waits for a background job of this shell; sets status.
reap() {
	status=0
	wait "$1" || status=$?
}

new_env() {     # new_env ORG/api/NAME: an empty environment
	vaultctl-org -q env create "$1"
}

# says PATTERN...: stderr ($stderr of the last run) holds every PATTERN.
says() {
	local p
	for p; do
		[[ $stderr == *"$p"* ]] || { echo "stderr lacks '$p': $stderr"; return 1; }
	done
}

# unchanged REF CMD...: CMD (run with --separate-stderr by the caller's
# code) leaves metadata, audit, usage and REF's store version as they were.
snapshot() {
	SNAP_TABLES=$(checksums)
	SNAP_STORE=$(store_version "$1")
}

unchanged() {
	[ "$(checksums)" == "$SNAP_TABLES" ] || { echo "metadata tables changed"; return 1; }
	[ "$(store_version "$1")" == "$SNAP_STORE" ] || { echo "store version moved"; return 1; }
}

# reconciled ORG: metadata and value store agree.
reconciled() {
	run --separate-stderr vaultctl-audit reconcile --org "$1"
	[ "$status" -eq 0 ] || { echo "reconcile $1: $status $output $stderr"; return 1; }
}

# --- the database ---------------------------------------------------------

@test "database stopped before a write: exit 7, 'database unavailable', what to do; nothing changed" {
	local f=$BATS_TEST_TMPDIR/o/out before
	mkdir "$BATS_TEST_TMPDIR/o"
	s_put loc/api/prod/A first
	before=$(vc_sql "CHECKSUM TABLE secret_metadata, audit_logs, audit_chain_heads,
		usage_statistics, subscriptions, vc_values, vc_value_keys EXTENDED")
	db_stop
	run --separate-stderr vaultctl-secret set loc/api/prod/A <<<second
	[ "$status" -eq 7 ]
	[ -z "$output" ]
	says "database unavailable" "nothing was changed" "check that the server is running"
	run --separate-stderr vaultctl-secret -o json set loc/api/prod/B <<<second
	[ "$status" -eq 7 ]
	[ "$(jq -r '.error.code + " " + (.error.exit | tostring)' <<<"$stderr")" == "unavailable 7" ]
	run --separate-stderr vaultctl-secret import loc/api/prod --file "$BATS_FILE_TMPDIR/many.env"
	[ "$status" -eq 7 ]
	says "database unavailable"
	run --separate-stderr vaultctl-secret get loc/api/prod/A
	[ "$status" -eq 7 ]
	[ -z "$output" ]
	run --separate-stderr vaultctl-secret export loc/api/prod -O "$f"
	[ "$status" -eq 7 ]
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/o")" ]
	run --separate-stderr vaultctl-audit reconcile --org loc
	[ "$status" -eq 7 ]
	# Started again on the same data directory: all as it was.
	db_start
	[ "$(vc_sql "CHECKSUM TABLE secret_metadata, audit_logs, audit_chain_heads,
		usage_statistics, subscriptions, vc_values, vc_value_keys EXTENDED")" == "$before" ]
	[ "$(vaultctl-secret get loc/api/prod/A)" == first ]
	reconciled loc
}

@test "database killed after the value store took a write, before the metadata: exit 7 naming reconcile, which repairs it" {
	local oid lock setpid big=$BATS_TEST_TMPDIR/big
	s_put loc/api/prod/K v1
	oid=$(vc_sql "SELECT id FROM organizations WHERE name = 'loc'")
	head -c 300000 /dev/urandom >"$big"
	# Hold the organization's audit chain head: set writes the value, then
	# waits for the head to write its audit row.
	mariadb --defaults-file="$VC_TEST_DIR/admin.cnf" "$VC_DATABASE" -e "BEGIN;
		SELECT chain FROM audit_chain_heads WHERE chain = '$oid' FOR UPDATE;
		SELECT SLEEP(45)" >/dev/null 2>&1 3>&- &
	lock=$!
	sleep 0.3
	vaultctl-secret set loc/api/prod/K --from-file "$big" \
		>"$BATS_TEST_TMPDIR/set.out" 2>"$BATS_TEST_TMPDIR/set.err" 3>&- &
	setpid=$!
	for _ in $(seq 300); do
		[ "$(store_version loc/api/prod/K)" == 2 ] && break
		sleep 0.05
	done
	[ "$(store_version loc/api/prod/K)" == 2 ]
	[ "$(meta_version loc/api/prod/K)" == 1 ]
	kill -0 "$setpid"               # still waiting for the audit row
	kill -9 "$(server_pid)"
	reap "$setpid"
	[ "$status" -eq 7 ]
	wait "$lock" || true
	stderr=$(cat "$BATS_TEST_TMPDIR/set.err")
	says "took version 2" "the metadata was not updated" \
		"run 'vaultctl-audit reconcile --fix'" "database unavailable"
	[ ! -s "$BATS_TEST_TMPDIR/set.out" ]
	db_start
	# What the message said: one drift, of this secret, which --fix adopts.
	run --separate-stderr vaultctl-audit reconcile --org loc -o tsv
	[ "$status" -eq 8 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ ${lines[0]} == version-drift$'\t'loc/api/prod/K$'\t'1$'\t'2$'\t'* ]]
	run -6 vaultctl-secret set loc/api/prod/K <<<v3
	[[ $output == *reconcile* ]]
	run -0 vaultctl-audit reconcile --org loc --fix --yes
	reconciled loc
	got_bytes loc/api/prod/K "$big"
	s_put loc/api/prod/K v3
	same_version loc/api/prod/K 3
}

@test "database frozen (SIGSTOP) then killed during an import: exit 7; the batch whole or absent" {
	local pid m err=$BATS_TEST_TMPDIR/import.err
	new_env loc/api/frozen
	block_store loc/api/frozen S2000
	vaultctl-secret import loc/api/frozen --file "$BATS_FILE_TMPDIR/many.env" \
		2>"$err" 3>&- &
	pid=$!
	wait_blocked "$err"
	kill -STOP "$(server_pid)"
	sleep 0.5
	kill -0 "$pid"                  # the import hangs on the frozen server
	kill -9 "$(server_pid)"
	reap "$pid"
	unblock
	[ "$status" -eq 7 ]
	stderr=$(cat "$err")
	says "cannot import into 'loc/api/frozen'" "database unavailable" \
		"check that the server is running"
	db_start
	# Neither transaction committed: nothing of the batch.
	m=$(env_count loc/frozen)
	[ "$m" -eq 0 ]
	[ "$(store_keys loc/api/frozen)" -eq 0 ]
	[ "$(creates_in loc/frozen)" -eq "$m" ]
	run --separate-stderr vaultctl-audit reconcile --org loc -o tsv
	if [ "$status" -ne 0 ]; then
		# The values committed, the metadata's commit lost: the message
		# named reconcile, which repairs it.
		[ "$status" -eq 8 ]
		[[ ${lines[0]} == value-without-metadata$'\t'loc/api/frozen/S* ]]
		[[ $(cat "$err") == *"vaultctl-audit reconcile"* ]]
		run -0 vaultctl-audit reconcile --org loc --fix --yes
	fi
	reconciled loc
	run -0 vaultctl-audit verify --org loc
	# The same import again finishes the job.
	run -0 vaultctl-secret import loc/api/frozen --file "$BATS_FILE_TMPDIR/many.env"
	[ "$(env_count loc/frozen)" -eq "$MANY" ]
	[ "$(creates_in loc/frozen)" -eq "$MANY" ]
	reconciled loc
}

# --- the database's authentication -----------------------------------------

# bait_start MODE: tests/harness/mysql_bait.py on a free port (BAIT_PORT),
# capturing what clients send to $BATS_TEST_TMPDIR/bait.MODE.
bait_start() {
	local pf=$BATS_TEST_TMPDIR/bait.$1.port
	/usr/bin/python3 "$REPO/tests/harness/mysql_bait.py" --mode "$1" \
		--port-file "$pf" --capture "$BATS_TEST_TMPDIR/bait.$1" \
		>/dev/null 2>&1 3>&- &
	echo $! >"$BATS_FILE_TMPDIR/bait.pid"
	for _ in $(seq 100); do [[ -s $pf ]] && break; sleep 0.05; done
	BAIT_PORT=$(cat "$pf")
}

bait_stop() {
	kill "$(cat "$BATS_FILE_TMPDIR/bait.pid")" 2>/dev/null || true
	rm -f "$BATS_FILE_TMPDIR/bait.pid"
}

@test "a database server that asks for the password in clear, by PAM dialog or RSA to its own key gets nothing: exit 4" {
	local mode pw
	pw=$(vc_cnf_group "$VAULTCTL_CONFIG" vaultctl-metadata |
		sed -n 's/^password = //p')
	[ -n "$pw" ]
	for mode in clear-greeting clear-switch dialog-switch sha2-switch; do
		bait_start "$mode"
		VAULTCTL_DB_HOSTS=127.0.0.1:$BAIT_PORT run --separate-stderr -4 \
			vaultctl-org list
		bait_stop
		says "asked for an authentication plugin that would hand it the password"
		# The client talked to it (but for a greeting that asked for
		# cleartext at once), and never sent the password, in clear or
		# in a form the bait could decrypt.
		[[ $mode == clear-greeting || -s $BATS_TEST_TMPDIR/bait.$mode ]]
		! grep -qF -- "$pw" "$BATS_TEST_TMPDIR/bait.$mode"
		! grep -q 'decrypted:' "$BATS_TEST_TMPDIR/bait.$mode"
	done
}

@test "an account on ed25519 connects: restricted authentication lets client_ed25519 through" {
	local cnf=$BATS_TEST_TMPDIR/ed.cnf pw
	pw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
	vc_sql "INSTALL SONAME 'auth_ed25519'" 2>/dev/null || true
	vc_sql "SET SESSION sql_log_off = 1;
		CREATE USER 'ed_user'@'localhost' IDENTIFIED VIA ed25519
		USING PASSWORD('$pw');
		GRANT SELECT, INSERT, UPDATE ON $VC_DATABASE.* TO 'ed_user'@'localhost'"
	{
		printf '[client]\n'
		vc_cnf_group "$VAULTCTL_CONFIG" client
		printf '[vaultctl]\n'
		vc_cnf_group "$VAULTCTL_CONFIG" vaultctl
		printf '[vaultctl-metadata]\nuser = ed_user\npassword = %s\n' "$pw"
	} >"$cnf"
	chmod 600 "$cnf"
	run --separate-stderr vaultctl-org -c "$cnf" list
	vc_sql "DROP USER 'ed_user'@'localhost'"
	[ "$status" -eq 0 ] || { echo "exit $status: $stderr"; return 1; }
	[[ $output == *loc* ]]
}

# --- signals --------------------------------------------------------------

@test "SIGINT or SIGTERM during import: before the values go to the store, exit 130 and nothing written; after, the batch is written whole" {
	local pid n err=$BATS_TEST_TMPDIR/import.err
	# SIGINT while the import waits for the quota lock.
	new_env loc/api/sigINT
	block_quota loc
	# A background job of a script ignores SIGINT: give it the default
	# back, as a terminal's foreground job has.
	env --default-signal=INT vaultctl-secret import loc/api/sigINT \
		--file "$BATS_FILE_TMPDIR/many.env" 2>"$err" 3>&- &
	pid=$!
	wait_blocked "$err"
	kill -INT "$pid"
	unblock
	reap "$pid"
	[ "$status" -eq 130 ]
	stderr=$(cat "$err")
	says "interrupted before the $MANY secrets went to the store" \
		"nothing was written" "run the same command again"
	[ "$(all_or_nothing loc/api/sigINT "$MANY")" -eq 0 ]
	reconciled loc
	run -0 vaultctl-secret import loc/api/sigINT --file "$BATS_FILE_TMPDIR/many.env"
	[[ $output == *"wrote $MANY secrets"* ]]
	[ "$(all_or_nothing loc/api/sigINT "$MANY")" -eq "$MANY" ]
	# SIGTERM while the values are on their way to the store: it waits
	# for the commit, and the batch is written whole.
	new_env loc/api/sigTERM
	block_store loc/api/sigTERM S2000
	vaultctl-secret import loc/api/sigTERM --file "$BATS_FILE_TMPDIR/many.env" \
		2>"$err" 3>&- &
	pid=$!
	wait_blocked "$err"
	kill -TERM "$pid"
	sleep 0.3
	kill -0 "$pid"
	unblock
	reap "$pid"
	[ "$status" -eq 0 ]
	[ "$(all_or_nothing loc/api/sigTERM "$MANY")" -eq "$MANY" ]
	reconciled loc
}

@test "a SIGINT ignored by the caller (nohup, a script's background job) stays ignored" {
	local pid err=$BATS_TEST_TMPDIR/import.err
	new_env loc/api/nohup
	block_quota loc
	env --ignore-signal=INT vaultctl-secret import loc/api/nohup \
		--file "$BATS_FILE_TMPDIR/many.env" 2>"$err" 3>&- &
	pid=$!
	wait_blocked "$err"
	kill -INT "$pid"
	unblock
	reap "$pid"
	[ "$status" -eq 0 ]
	[ "$(env_count loc/nohup)" -eq "$MANY" ]
}

@test "the client killed (SIGKILL) during an import: the local store holds none of the batch" {
	local pid
	new_env loc/api/killed
	block_store loc/api/killed S2000
	vaultctl-secret import loc/api/killed --file "$BATS_FILE_TMPDIR/many.env" \
		2>/dev/null 3>&- &
	pid=$!
	wait_blocked
	kill -9 "$pid"
	reap "$pid"
	[ "$status" -eq 137 ]
	unblock
	# The server rolls back the transactions of a dead client.
	for _ in $(seq 200); do
		(($(vc_sql "SELECT COUNT(*) FROM information_schema.INNODB_TRX") == 0)) && break
		sleep 0.05
	done
	[ "$(all_or_nothing loc/api/killed "$MANY")" -eq 0 ]
	reconciled loc
	run -0 vaultctl-secret import loc/api/killed --file "$BATS_FILE_TMPDIR/many.env"
	[ "$(all_or_nothing loc/api/killed "$MANY")" -eq "$MANY" ]
}

@test "SIGINT during restore-env before its changes go to the store: exit 130, nothing changed; SIGTERM after: all of it" {
	local pid before err=$BATS_TEST_TMPDIR/restore.err
	r_setup loc/api/rsig
	before=$(r_state A C K N R)
	block_quota loc
	env --default-signal=INT vaultctl-secret restore-env "$ENV" --at "$R_AT" \
		--yes 2>"$err" 3>&- &
	pid=$!
	wait_blocked
	kill -INT "$pid"
	unblock
	reap "$pid"
	[ "$status" -eq 130 ]
	stderr=$(cat "$err")
	says "cannot restore '$ENV'" "interrupted before the changes went to the store" \
		"nothing was changed" "run the same command again"
	[ "$(r_state A C K N R)" == "$before" ]
	# SIGTERM while the store's transaction waits for a key row: the
	# batch goes on to its commit, whole.
	block "SELECT path FROM vc_value_keys WHERE path = '$(s_path "$ENV/A")' FOR UPDATE"
	vaultctl-secret restore-env "$ENV" --at "$R_AT" --yes 2>"$err" 3>&- &
	pid=$!
	wait_blocked
	kill -TERM "$pid"
	sleep 0.3
	kill -0 "$pid"
	unblock
	reap "$pid"
	[ "$status" -eq 0 ]
	r_is a1 c1 - r1 k1
	[ "$(r_batch_rows loc "${R_AT:0:10} ${R_AT:11:8}")" -eq 4 ]
	reconciled loc
}

@test "the client killed (SIGKILL) during restore-env: metadata, audit and the local store hold none of it" {
	local pid before
	r_setup loc/api/rkill
	before=$(r_state A C K N R
		vc_sql "CHECKSUM TABLE vc_values, vc_value_keys EXTENDED")
	# The store's transaction waits for A's key row, the metadata's
	# transaction open: the batch is half written in both.
	block "SELECT path FROM vc_value_keys WHERE path = '$(s_path "$ENV/A")' FOR UPDATE"
	vaultctl-secret restore-env "$ENV" --at "$R_AT" --yes 2>"$BATS_TEST_TMPDIR/restore.err" 3>&- &
	pid=$!
	wait_blocked || { cat "$BATS_TEST_TMPDIR/restore.err"; false; }
	kill -9 "$pid"
	reap "$pid"
	[ "$status" -eq 137 ]
	unblock
	for _ in $(seq 200); do
		(($(vc_sql "SELECT COUNT(*) FROM information_schema.INNODB_TRX") == 0)) && break
		sleep 0.05
	done
	[ "$(r_state A C K N R
		vc_sql "CHECKSUM TABLE vc_values, vc_value_keys EXTENDED")" == "$before" ]
	r_is a2 - n1 - k1
	r_nothing
	reconciled loc
	# Run again, it makes every change, one audit row each.
	run -0 vaultctl-secret restore-env "$ENV" --at "$R_AT" --yes
	[[ $output == *"1 reverted, 1 removed, 2 restored, 1 unchanged"* ]]
	r_is a1 c1 - r1 k1
	[ "$(r_batch_rows loc "${R_AT:0:10} ${R_AT:11:8}")" -eq 4 ]
	reconciled loc
	run -0 vaultctl-audit verify --org loc
}

# --- Vault ------------------------------------------------------------------

@test "Vault sealed: set, get, import and export exit 7 saying 'sealed' and 'unseal'; nothing changed" {
	vault_mode
	s_put vlt/api/prod/A a1
	snapshot vlt/api/prod/A
	emu POST /_emulator/seal '{"sealed": true}' >/dev/null
	run --separate-stderr vaultctl-secret set vlt/api/prod/A <<<a2
	[ "$status" -eq 7 ]
	says "cannot set secret 'vlt/api/prod/A'" "sealed" "unseal it (vault operator unseal)"
	run --separate-stderr vaultctl-secret set vlt/api/prod/NEW <<<n
	[ "$status" -eq 7 ]
	run --separate-stderr vaultctl-secret get vlt/api/prod/A
	[ "$status" -eq 7 ]
	[ -z "$output" ]
	says "sealed"
	# A change, with --overwrite: decided without Vault (by its MAC), it
	# would be refused (exit 6) before Vault is asked; and an addition
	# would take the quota's lock first, a write of the subscription row.
	run --separate-stderr vaultctl-secret import vlt/api/prod --overwrite <<<'A=a3'
	[ "$status" -eq 7 ]
	says "sealed"
	mkdir "$BATS_TEST_TMPDIR/o"
	run --separate-stderr vaultctl-secret export vlt/api/prod -O "$BATS_TEST_TMPDIR/o/out"
	[ "$status" -eq 7 ]
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/o")" ]
	emu POST /_emulator/seal '{"sealed": false}' >/dev/null
	unchanged vlt/api/prod/A
	[ -z "$(meta_version vlt/api/prod/NEW)" ]
	[ "$(vaultctl-secret get vlt/api/prod/A)" == a1 ]
	reconciled vlt
}

@test "Vault 500: retried, then it succeeds; for good: exit 7 after the retries, nothing changed" {
	vault_mode
	s_put vlt/api/prod/F f1
	# Two failures fit in the default retries (2): the write goes through.
	emu_fault '{"match": "^(POST|PUT) /v1/secret/data/", "count": 2, "status": 500, "errors": ["internal error"]}'
	s_put vlt/api/prod/F f2
	same_version vlt/api/prod/F 2
	[ "$(emu GET /_emulator/stats | jq .faults_pending)" == 0 ]
	snapshot vlt/api/prod/F
	emu_fault '{"match": "^(POST|PUT) /v1/secret/data/", "count": 10, "status": 500, "errors": ["internal error"]}'
	run --separate-stderr vaultctl-secret set vlt/api/prod/F <<<f3
	[ "$status" -eq 7 ]
	says "vault failed (500: internal error) after 3 attempts" "see the vault server's log"
	[ "$(emu GET /_emulator/faults | jq '.faults[0].remaining')" == 7 ]
	unchanged vlt/api/prod/F
	emu_clear_faults
	emu_fault '{"match": "^GET /v1/secret/data/", "count": 100, "status": 500}'
	run --separate-stderr vaultctl-secret export vlt/api/prod
	[ "$status" -eq 7 ]
	[ -z "$output" ]
	says "cannot export 'vlt/api/prod'" "500"
	unchanged vlt/api/prod/F
	reconciled vlt
}

@test "Vault 429: retried after Retry-After, then it succeeds; for good: exit 7, 'try again later', nothing changed" {
	vault_mode
	s_put vlt/api/prod/R r1
	emu_fault '{"match": "^(POST|PUT) /v1/secret/data/", "count": 1, "status": 429, "retry_after": 1}'
	s_put vlt/api/prod/R r2
	same_version vlt/api/prod/R 2
	emu_fault '{"match": "^GET /v1/secret/data/", "count": 2, "status": 429, "retry_after": 0}'
	[ "$(vaultctl-secret get vlt/api/prod/R)" == r2 ]
	snapshot vlt/api/prod/R
	emu_fault '{"match": "^(POST|PUT) /v1/secret/data/", "count": 10, "status": 429, "retry_after": 0}'
	run --separate-stderr vaultctl-secret set vlt/api/prod/R <<<r3
	[ "$status" -eq 7 ]
	says "rate limiting" "429" "try again later"
	unchanged vlt/api/prod/R
	reconciled vlt
}

@test "Vault 403: exit 4, 'denied', check the token and its policies; nothing changed" {
	vault_mode
	s_put vlt/api/prod/P p1
	snapshot vlt/api/prod/P
	emu_fault '{"match": "/v1/secret/", "count": 20, "status": 403, "errors": ["permission denied"]}'
	run --separate-stderr vaultctl-secret set vlt/api/prod/P <<<p2
	[ "$status" -eq 4 ]
	says "vault denied access (permission denied)" "check the token and its policies"
	run --separate-stderr vaultctl-secret get vlt/api/prod/P
	[ "$status" -eq 4 ]
	[ -z "$output" ]
	run --separate-stderr vaultctl-secret import vlt/api/prod --overwrite <<<'P=p3'
	[ "$status" -eq 4 ]
	says "denied"
	emu_clear_faults
	unchanged vlt/api/prod/P
	# 403 is not retried: one request each.
	reconciled vlt
}

@test "Vault drops the connection before answering: retried, then it succeeds; for good: exit 7, check VAULT_ADDR" {
	vault_mode
	s_put vlt/api/prod/C c1
	emu_fault '{"match": "^(POST|PUT) /v1/secret/data/", "count": 1, "drop": true}'
	s_put vlt/api/prod/C c2
	same_version vlt/api/prod/C 2
	snapshot vlt/api/prod/C
	emu_fault '{"match": "^(POST|PUT) /v1/secret/data/", "count": 10, "drop": true}'
	run --separate-stderr vaultctl-secret set vlt/api/prod/C <<<c3
	[ "$status" -eq 7 ]
	says "vault unreachable at" "check VAULT_ADDR and that vault is running"
	unchanged vlt/api/prod/C
	reconciled vlt
}

# cut_proxy: a proxy before the emulator that cuts answers in half on
# demand (cut_next N REGEX).
cut_proxy() {
	local pf=$BATS_FILE_TMPDIR/proxy.port
	[[ -s $BATS_FILE_TMPDIR/proxy.pid ]] && return 0
	cat >"$BATS_FILE_TMPDIR/cutproxy.py" <<-'PY'
	import http.client, http.server, os, re, socket, sys, threading
	upstream, port_file, control = int(sys.argv[1]), sys.argv[2], sys.argv[3]
	lock = threading.Lock()

	def take(target):
	    with lock:
	        try:
	            n, rx = open(control).read().split(" ", 1)
	        except (OSError, ValueError):
	            return False
	        if int(n) <= 0 or not re.search(rx.strip(), target):
	            return False
	        open(control, "w").write("%d %s" % (int(n) - 1, rx.strip()))
	        return True

	class Proxy(http.server.BaseHTTPRequestHandler):
	    protocol_version = "HTTP/1.1"
	    def log_message(self, *a):
	        pass
	    def relay(self):
	        n = int(self.headers.get("Content-Length") or 0)
	        body = self.rfile.read(n) if n else None
	        hdrs = {k: v for k, v in self.headers.items()
	                if k.lower() not in ("connection", "host")}
	        c = http.client.HTTPConnection("127.0.0.1", upstream, timeout=30)
	        c.request(self.command, self.path, body, hdrs)
	        r = c.getresponse()
	        data = r.read()
	        c.close()
	        cut = take("%s %s" % (self.command, self.path))
	        self.send_response_only(r.status, r.reason)
	        for k, v in r.getheaders():
	            if k.lower() not in ("connection", "content-length", "transfer-encoding"):
	                self.send_header(k, v)
	        self.send_header("Content-Length", str(len(data)))
	        self.end_headers()
	        if cut:     # the status and half the body, then the line drops
	            self.wfile.write(data[: len(data) // 2])
	            self.wfile.flush()
	            self.connection.shutdown(socket.SHUT_RDWR)
	            self.close_connection = True
	            return
	        self.wfile.write(data)
	    do_GET = do_POST = do_PUT = do_DELETE = do_LIST = relay

	srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
	srv.daemon_threads = True
	with open(port_file + ".tmp", "w") as f:
	    f.write(str(srv.server_address[1]))
	os.rename(port_file + ".tmp", port_file)
	srv.serve_forever()
	PY
	/usr/bin/python3 "$BATS_FILE_TMPDIR/cutproxy.py" "${VAULT_ADDR##*:}" "$pf" \
		"$BATS_FILE_TMPDIR/cut" >"$BATS_FILE_TMPDIR/proxy.log" 2>&1 3>&- &
	echo $! >"$BATS_FILE_TMPDIR/proxy.pid"
	for _ in $(seq 100); do [[ -s $pf ]] && break; sleep 0.05; done
	[[ -s $pf ]]
}

cut_next() {    # cut_next N REGEX: cut the next N answers to matching requests
	printf '%s %s' "$1" "$2" >"$BATS_FILE_TMPDIR/cut"
}

@test "the connection drops in the middle of Vault's answer: reads retried; a write Vault took is not written twice" {
	vault_mode
	cut_proxy
	local via="http://127.0.0.1:$(cat "$BATS_FILE_TMPDIR/proxy.port")"
	s_put vlt/api/prod/M m1
	# A read: the half answer is thrown away, the retry reads it whole.
	cut_next 1 '^GET /v1/secret/data/'
	[ "$(VAULT_ADDR=$via vaultctl-secret get vlt/api/prod/M)" == m1 ]
	[ "$(cat "$BATS_FILE_TMPDIR/cut")" == "0 ^GET /v1/secret/data/" ]
	# For good: exit 7, no value on stdout, nothing audited.
	snapshot vlt/api/prod/M
	cut_next 10 '^GET /v1/secret/data/'
	VAULT_ADDR=$via run --separate-stderr vaultctl-secret get vlt/api/prod/M
	[ "$status" -eq 7 ]
	[ -z "$output" ]
	says "vault unreachable" "check VAULT_ADDR"
	unchanged vlt/api/prod/M
	# A write whose answer was cut after Vault took it: the retry's
	# check-and-set meets that very write, which is then recognised -
	# one new version, metadata and store agree.
	cut_next 1 '^(POST|PUT) /v1/secret/data/'
	VAULT_ADDR=$via run --separate-stderr vaultctl-secret set vlt/api/prod/M <<<m2
	[ "$status" -eq 0 ]
	same_version vlt/api/prod/M 2
	[ "$(vaultctl-secret get vlt/api/prod/M)" == m2 ]
	cut_next 1 '^(POST|PUT) /v1/secret/data/'
	VAULT_ADDR=$via run -0 vaultctl-secret set vlt/api/prod/MNEW <<<n1
	same_version vlt/api/prod/MNEW 1
	# ... and in an import.
	cut_next 3 '^(POST|PUT) /v1/secret/data/'
	VAULT_ADDR=$via run --separate-stderr vaultctl-secret -v import vlt/api/prod <<<$'MI1=1\nMI2=2\nMI3=3\nMI4=4'
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[[ $stderr == *"vault had taken the write whose answer was lost: version 1"* ]]
	for n in 1 2 3 4; do same_version "vlt/api/prod/MI$n" 1; done
	reconciled vlt
	# Every answer lost, the read that would tell too: exit 7, and the
	# message says that vault may hold the write and what tells.
	cut_next 20 '^(POST|PUT|GET) /v1/secret/data/'
	VAULT_ADDR=$via run --separate-stderr vaultctl-secret set vlt/api/prod/M <<<m3
	[ "$status" -eq 7 ]
	says "cannot set secret 'vlt/api/prod/M'" "vault may hold the write" \
		"'vaultctl-audit reconcile' tells" "check VAULT_ADDR"
	cut_next 0 x
	run --separate-stderr vaultctl-audit reconcile --org vlt -o tsv
	[ "$status" -eq 8 ]
	[[ $output == version-drift$'\t'vlt/api/prod/M$'\t'2$'\t'3$'\t'* ]]
	run -0 vaultctl-audit reconcile --org vlt --fix --yes
	same_version vlt/api/prod/M 3
	reconciled vlt
}

@test "Vault fails in the middle of an import: exit 7 naming the secret; what the batch wrote is taken back" {
	vault_mode
	local n
	new_env vlt/api/half
	head -100 "$BATS_FILE_TMPDIR/many.env" >"$BATS_TEST_TMPDIR/100.env"
	emu_fault '{"match": "^(POST|PUT) /v1/secret/data/.*/secrets/S0050$", "count": 10, "status": 500, "errors": ["storage failure"]}'
	run --separate-stderr vaultctl-secret import vlt/api/half --file "$BATS_TEST_TMPDIR/100.env"
	[ "$status" -eq 7 ]
	says "'S0050'" "vault failed (500: storage failure)" "nothing was written" \
		"new secrets removed"
	[ "$(env_count vlt/half)" -eq 0 ]
	[ "$(creates_in vlt/half)" -eq 0 ]
	[ "$(store_keys vlt/api/half)" -eq 0 ]
	reconciled vlt
	emu_clear_faults
	run -0 vaultctl-secret import vlt/api/half --file "$BATS_TEST_TMPDIR/100.env"
	[[ $stderr$output == *"wrote 100 secrets"* ]]
	[ "$(env_count vlt/half)" -eq 100 ]
	reconciled vlt
	# Changed values: those Vault took are set back to the previous value.
	sed 's/=value-/=changed-/' "$BATS_TEST_TMPDIR/100.env" >"$BATS_TEST_TMPDIR/changed.env"
	emu_fault '{"match": "^(POST|PUT) /v1/secret/data/.*/secrets/S0050$", "count": 10, "status": 500, "errors": ["storage failure"]}'
	run --separate-stderr vaultctl-secret import vlt/api/half --overwrite \
		--file "$BATS_TEST_TMPDIR/changed.env"
	[ "$status" -eq 7 ]
	says "'S0050'" "nothing was written" "set back to the previous value"
	emu_clear_faults
	for n in S0001 S0049 S0051 S0100; do
		[ "$(vaultctl-secret get "vlt/api/half/$n")" == "value-$((10#${n#S}))" ]
	done
	reconciled vlt
	run -0 vaultctl-audit verify --org vlt
	run -0 vaultctl-secret import vlt/api/half --overwrite --file "$BATS_TEST_TMPDIR/changed.env"
	[ "$(vaultctl-secret get vlt/api/half/S0050)" == changed-50 ]
	reconciled vlt
}

@test "Vault fails in the middle of restore-env: exit 7 naming the secret; every change taken back" {
	vault_mode
	r_setup vlt/api/rfault
	# A's rewrite fails; R's (a removed secret) and the removal and the
	# restore, in flight beside it, are taken back.
	emu_fault '{"match": "^(POST|PUT) /v1/secret/data/.*/secrets/A$", "count": 10, "status": 500, "errors": ["storage failure"]}'
	run --separate-stderr vaultctl-secret restore-env "$ENV" --at "$R_AT" --yes
	emu_clear_faults
	[ "$status" -eq 7 ]
	says "cannot restore '$ENV'" "'A'" "vault failed (500: storage failure)" \
		"nothing was written" "set back to the previous value" "undone"
	r_is a2 - n1 - k1
	r_nothing
	reconciled vlt
	# R is removed with the value it had before: a restore brings that.
	vaultctl-secret -q restore "$ENV/R"
	[ "$(vaultctl-secret get "$ENV/R")" == r2 ]
	vaultctl-secret -q rm "$ENV/R"
	# The same when the removal of N fails.
	emu_fault '{"match": "^POST /v1/secret/delete/.*/secrets/N$", "count": 10, "status": 500, "errors": ["storage failure"]}'
	run --separate-stderr vaultctl-secret restore-env "$ENV" --at "$R_AT" --yes
	emu_clear_faults
	[ "$status" -eq 7 ]
	says "'N'" "vault failed (500: storage failure)" "nothing was written"
	r_is a2 - n1 - k1
	r_nothing
	reconciled vlt
	run -0 vaultctl-audit verify --org vlt
	# With Vault well again, the same command makes every change.
	run -0 vaultctl-secret restore-env "$ENV" --at "$R_AT" --yes
	r_is a1 c1 - r1 k1
	[ "$(r_batch_rows vlt "${R_AT:0:10} ${R_AT:11:8}")" -eq 4 ]
	reconciled vlt
	run -0 vaultctl-audit verify --org vlt
}

# --- the disk -----------------------------------------------------------------

@test "Vault: the client killed (SIGKILL) in the middle of an import: no metadata; reconcile --fix removes what Vault took; the import again writes it whole" {
	vault_mode
	local pid n=0
	new_env vlt/api/vkilled
	head -100 "$BATS_FILE_TMPDIR/many.env" >"$BATS_TEST_TMPDIR/100.env"
	# One write held for long: the others of the batch go on, in flight
	# 8 at a time, and the client dies with part of them in Vault.
	emu_fault '{"match": "^(POST|PUT) /v1/secret/data/.*/secrets/S0050$", "count": 1, "delay_ms": 20000}'
	vaultctl-secret import vlt/api/vkilled --file "$BATS_TEST_TMPDIR/100.env" \
		2>/dev/null 3>&- &
	pid=$!
	for _ in $(seq 200); do
		n=$(store_keys vlt/api/vkilled)
		((n >= 20)) && break
		sleep 0.05
	done
	kill -9 "$pid"
	reap "$pid"
	[ "$status" -eq 137 ]
	emu_clear_faults
	((n >= 20))
	# The metadata's transaction died with the client: nothing of it.
	[ "$(env_count vlt/vkilled)" -eq 0 ]
	[ "$(creates_in vlt/vkilled)" -eq 0 ]
	# What Vault took has no metadata: reconcile names each, --fix
	# removes them all.
	run --separate-stderr vaultctl-audit reconcile --org vlt -o tsv
	[ "$status" -eq 8 ]
	[ "${#lines[@]}" -eq "$(store_keys vlt/api/vkilled)" ]
	[[ -z $(printf '%s\n' "${lines[@]}" | grep -v $'^value-without-metadata\tvlt/api/vkilled/S') ]]
	run -0 vaultctl-audit reconcile --org vlt --fix --yes
	reconciled vlt
	[ "$(store_keys vlt/api/vkilled)" -eq 0 ]
	run -0 vaultctl-secret import vlt/api/vkilled --file "$BATS_TEST_TMPDIR/100.env"
	[ "$(env_count vlt/vkilled)" -eq 100 ]
	[ "$(store_keys vlt/api/vkilled)" -eq 100 ]
	[ "$(vaultctl-secret get vlt/api/vkilled/S0050)" == value-50 ]
	reconciled vlt
	run -0 vaultctl-audit verify --org vlt
}

@test "Vault: a batch larger than the plan allows is refused whole before any value goes to Vault (exit 5)" {
	vault_mode
	s_org vq 30
	head -40 "$BATS_FILE_TMPDIR/many.env" >"$BATS_TEST_TMPDIR/40.env"
	head -25 "$BATS_FILE_TMPDIR/many.env" | vaultctl-secret -q import vq/api/prod
	[ "$(store_keys vq/api/prod)" -eq 25 ]
	# No write of the batch is recorded (the values it compared are read,
	# and audited as reads).
	local meta writes="SELECT COUNT(*) FROM audit_logs a JOIN organizations o
		ON o.id = a.organization_id WHERE o.name = 'vq'
		AND a.action IN ('secret.create', 'secret.update')"
	meta="$(vc_sql "CHECKSUM TABLE secret_metadata EXTENDED") $(vc_sql "$writes")"
	run --separate-stderr vaultctl-secret import vq/api/prod --file "$BATS_TEST_TMPDIR/40.env"
	[ "$status" -eq 5 ]
	says quota "this batch adds 15; nothing was written"
	[ "$(vc_sql "CHECKSUM TABLE secret_metadata EXTENDED") $(vc_sql "$writes")" == "$meta" ]
	[[ $meta == *" 25" ]]
	[ "$(store_keys vq/api/prod)" -eq 25 ]
	[ "$(vaultctl-secret get vq/api/prod/S0026 2>&1)" != value-26 ]
	# Five more fit exactly.
	head -30 "$BATS_FILE_TMPDIR/many.env" | vaultctl-secret -q import vq/api/prod
	[ "$(store_keys vq/api/prod)" -eq 30 ]
	reconciled vq
}

@test "disk full under export -O FILE: exit 1 saying so; FILE as it was, no temporary file left" {
	local dir=$BATS_FILE_TMPDIR/full
	head -c 100000 /dev/urandom | base64 -w0 | head -c 100000 >"$BATS_TEST_TMPDIR/big"
	vaultctl-secret -q set loc/api/prod/BIG --from-file "$BATS_TEST_TMPDIR/big"
	mkdir -p "$dir"
	mount -t tmpfs -o size=64k tmpfs "$dir"
	printf 'export OLD=kept\n' >"$dir/env.sh"
	cp "$dir/env.sh" "$BATS_TEST_TMPDIR/before"
	run --separate-stderr vaultctl-secret export loc/api/prod --only BIG -O "$dir/env.sh"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	says "cannot write '$dir/env.sh'" "No space left on device" "nothing was written there" \
		"free some space, or choose another -O FILE"
	cmp "$dir/env.sh" "$BATS_TEST_TMPDIR/before"
	[ "$(ls -A "$dir")" == env.sh ]
	# No file at all when there was none.
	run --separate-stderr vaultctl-secret export loc/api/prod --only BIG -O "$dir/new.sh"
	[ "$status" -eq 1 ]
	[ "$(ls -A "$dir")" == env.sh ]
	# With room, the same export works.
	umount "$dir"
	run -0 vaultctl-secret export loc/api/prod --only BIG -O "$dir/env.sh"
	[ "$(stat -c %s "$dir/env.sh")" -gt 100000 ]
}
