#!/usr/bin/env bats
# `vaultctl shell` on a terminal, typed into as an operator would
# (tests/harness/ptydrive.py: a pseudo-terminal, keys, the screen it shows).
# Ctrl-C at the prompt drops the line; Ctrl-C during a command stops that
# command alone (exit 130) wherever it waits (a child, a lock, Vault, a
# prompt), and the next command works; Tab completes names, and the '/'
# it leaves after an environment is accepted.  On the Vault store, so that
# a slow Vault can be one of the waits.

load helper
load secret_helper

VC_STORE=vault

setup_file() {
	vc_server_start --backend vault
	emu_start
	s_bootstrap
	vc_sql "INSERT INTO plans (id, name, description, price, billing_cycle,
		secrets_limit, features, created_at, updated_at) VALUES (UUID(),
		'free', '', 0, 'monthly', NULL, NULL, NOW(), NOW())"
	vaultctl-org -q create acme
	vaultctl-org -q project create acme/api
	vaultctl-org -q env create acme/api/prod
	printf 'v1' | vaultctl-secret -q set acme/api/prod/DB_URL
}

teardown_file() {
	emu_stop
	vc_server_stop
}

setup() {
	emu_clear_faults
}

# drive <SCRIPT: `vaultctl shell` on a terminal, the steps of SCRIPT typed
# into it; $output is the screen, then "exit N".
drive() {
	run /usr/bin/python3 "$REPO/tests/harness/ptydrive.py" -- vaultctl shell
}

# line TEXT: the screen has a line that is exactly TEXT.
line() {
	grep -qFx -- "$1" <<<"$output" ||
		{ printf 'no line "%s" on the screen:\n%s\n' "$1" "$output"; return 1; }
}

# no_line TEXT: it has none (`! grep` would not fail a bats test).
no_line() {
	if grep -qFx -- "$1" <<<"$output"; then
		printf 'a line "%s" on the screen:\n%s\n' "$1" "$output"
		return 1
	fi
}

# The interrupted command's server session (killed with the worker) ends
# once its statement does; the tests wait for it before looking at tables.
no_waiting_writer() {
	for _ in $(seq 100); do
		[ "$(vc_sql "SELECT COUNT(*) FROM information_schema.processlist
			WHERE user = 'secrets_api_user' AND command <> 'Sleep'")" == 0 ] &&
			return 0
		sleep 0.1
	done
	vc_sql "SHOW PROCESSLIST"
	return 1
}

@test "Ctrl-C at the prompt drops the line and prompts again; Ctrl-D ends the shell" {
	drive <<-'EOF'
	wait vaultctl>\x20
	type secret get acme/api/prod/DB
	wait acme/api/prod/DB
	type \x03
	wait vaultctl>\x20
	type secret get acme/api/prod/DB_URL\r
	wait v1vaultctl>\x20
	type \x04
	EOF
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	line 'vaultctl> secret get acme/api/prod/DB^C'
	line 'vaultctl> secret get acme/api/prod/DB_URL'
	line 'v1vaultctl>'
	line 'exit 0'
	# The dropped line ran nowhere and is not in the history.
	[[ $output != *"not found"* ]]
	run grep -cx 'secret get acme/api/prod/DB' "$XDG_STATE_HOME/vaultctl/history"
	[ "$output" == 0 ]
	grep -qx 'secret get acme/api/prod/DB_URL' "$XDG_STATE_HOME/vaultctl/history"
}

@test "Tab completes 'secret list acme/api/pr' to acme/api/prod/, and the command lists the secrets" {
	drive <<-'EOF'
	wait vaultctl>\x20
	type secret list acme/api/pr\t
	wait prod/
	type \r
	wait DB_URL[\s\S]*vaultctl>\x20
	type \x04
	EOF
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	line 'vaultctl> secret list acme/api/prod/'
	[[ $output == *$'\nDB_URL '* ]]
	[[ $output != *"empty part"* ]]
	line 'exit 0'
}

@test "Ctrl-C during secret run stops COMMAND alone; the next command works" {
	drive <<-'EOF'
	wait vaultctl>\x20
	type secret run acme/api/prod -- sh -c 'echo started; exec sleep 31'\r
	wait \nstarted
	until pgrep -fx 'sleep 31'
	type \x03
	wait vaultctl>\x20
	type secret list acme/api/prod\r
	wait DB_URL[\s\S]*vaultctl>\x20
	type \x04
	EOF
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	line 'started'
	line '^C'
	# The Ctrl-C was the command's: it does not cancel the next prompt too.
	line 'vaultctl> secret list acme/api/prod'
	no_line 'vaultctl> ^C'
	[[ $output == *$'\nDB_URL '* ]]
	line 'exit 0'
	run pgrep -fx 'sleep 31'
	[ "$status" -eq 1 ]
}

@test "Ctrl-C during a command waiting on a lock: it stops, writes nothing, and the next command works" {
	local cnf=$VC_TEST_DIR/admin.cnf before
	printf 'new-value' >"$BATS_TEST_TMPDIR/value"
	before=$(checksums)
	# Another session holds acme's quota lock (its subscription row).
	mariadb --defaults-file="$cnf" "$VC_DATABASE" -e "BEGIN; UPDATE
		subscriptions s JOIN organizations o ON o.id = s.organization_id
		SET s.write_seq = s.write_seq + 1 WHERE o.name = 'acme';
		SELECT SLEEP(120)" >/dev/null 2>&1 3>&- &
	drive <<-EOF
	wait vaultctl>\x20
	type secret set acme/api/prod/NEW --from-file $BATS_TEST_TMPDIR/value\r
	until mariadb --defaults-file=$cnf -N -B -e "SELECT COUNT(*) FROM information_schema.processlist WHERE user = 'secrets_api_user' AND info LIKE 'UPDATE subscriptions%'" | grep -qx 1
	type \x03
	wait interrupted[\s\S]*vaultctl>\x20
	type secret list acme/api/prod\r
	wait DB_URL[\s\S]*vaultctl>\x20
	type \x04
	EOF
	vc_sql "KILL $(vc_sql "SELECT id FROM information_schema.processlist
		WHERE info LIKE '%SLEEP(120)%' AND id <> CONNECTION_ID()")"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	line 'vaultctl-secret: interrupted'
	line 'vaultctl> secret list acme/api/prod'
	no_line 'vaultctl> ^C'
	[[ $output == *$'\nDB_URL '* && $output != *$'\nNEW '* ]]
	line 'exit 0'
	no_waiting_writer
	[ "$(meta_version acme/api/prod/NEW)" == "" ]
	[ "$(store_version acme/api/prod/NEW)" == 0 ]
	[ "$(checksums)" == "$before" ]
}

@test "Ctrl-C during a slow Vault write: the signal waits for the commit, the stores agree, the next write works" {
	printf 'value' >"$BATS_TEST_TMPDIR/value"
	# From the store write through the commit the signal is deferred
	# (doc/architecture.md, section 4): interrupted there, Vault would be a
	# version ahead of the metadata.  So the write ends, consistently, and
	# only then does the command stop.
	emu_fault '{"match": "^(POST|PUT) /v1/secret/data/.*/SLOW$", "count": 1, "delay_ms": 3000}'
	drive <<-EOF
	wait vaultctl>\x20
	type secret set acme/api/prod/SLOW --from-file $BATS_TEST_TMPDIR/value\r
	until curl -s $VAULT_ADDR/_emulator/faults | jq -e '.faults | length == 0'
	type \x03
	wait interrupted[\s\S]*vaultctl>\x20
	type secret set acme/api/prod/AFTER --from-file $BATS_TEST_TMPDIR/value\r
	wait created acme/api/prod/AFTER version 1[\s\S]*vaultctl>\x20
	type \x04
	EOF
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	line 'vaultctl-secret: interrupted'
	line 'exit 0'
	same_version acme/api/prod/SLOW 1
	same_version acme/api/prod/AFTER 1
}

@test "Ctrl-C at a value prompt stops the command (exit 130) and gives the terminal its echo back" {
	drive <<-'EOF'
	wait vaultctl>\x20
	type secret set acme/api/prod/TYPED\r
	wait value:\x20
	type abc
	sleep 0.2
	type \x03
	wait interrupted[\s\S]*vaultctl>\x20
	type \x04
	EOF
	line 'vaultctl-secret: interrupted'
	line 'exit 130'
	[ "$(meta_version acme/api/prod/TYPED)" == "" ]
	# The prompt had turned echo off when the command died.
	drive <<-'EOF'
	wait vaultctl>\x20
	type secret set acme/api/prod/TYPED\r
	wait value:\x20
	type \x03
	wait interrupted[\s\S]*vaultctl>\x20
	type secret run acme/api/prod -- stty -a\r
	wait iexten[\s\S]*vaultctl>\x20
	type \x04
	EOF
	[[ $output == *"iexten echo "* ]] || { echo "$output"; false; }
	line 'exit 0'
}

@test "with authenticate = password, Tab offers no names: there is no password to check them with" {
	local cnf=$BATS_TEST_TMPDIR/auth.cnf
	sed '/^\[vaultctl\]/a authenticate = password' "$VAULTCTL_CONFIG" >"$cnf"
	chmod 600 "$cnf"
	VAULTCTL_CONFIG=$cnf drive <<-'EOF2'
	wait vaultctl>\x20
	type secret list acme/api/pr\t
	sleep 1
	type \x03
	wait vaultctl>\x20
	type \x04
	EOF2
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	line 'vaultctl> secret list acme/api/pr^C'
	[[ $output != *"acme/api/prod/"* ]]
}
