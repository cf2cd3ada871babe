#!/usr/bin/env bats
# vaultctl-secret on the Vault store, through the emulator
# (tests/vault/emulator.py): the tests of 20-secret.bats, then what only a
# remote store does: retries, errors, dropped connections, a sealed Vault,
# time-outs.  A failed store call leaves metadata, audit and usage as they
# were (CHECKSUM TABLE before and after).

load helper
load secret_helper

VC_STORE=vault

setup_file() {
	vc_server_start --backend vault
	emu_start
	s_bootstrap
}

teardown_file() {
	emu_stop
	vc_server_stop
}

setup() {
	export VAULTCTL_USER=$VC_ADMIN
	emu_clear_faults
	emu POST /_emulator/seal '{"sealed": false}' >/dev/null
}

# A second emulator a test started, stopped even when the test failed.
teardown() {
	[[ ! -s $VC_TEST_DIR/emu-unix.pid ]] || kill "$(cat "$VC_TEST_DIR/emu-unix.pid")" 2>/dev/null || true
	rm -f "$VC_TEST_DIR/emu-unix.pid"
}

@test "binary values with NUL and 0xff round-trip exactly (stdin, --from-file)" { t_bytes_roundtrip; }
@test "an empty value round-trips" { t_empty_value; }
@test "1 MiB (max_value_size) is accepted; one byte more exits 2 and changes nothing" { t_size_limit; }
@test "get --version N returns that version's bytes" { t_get_version; }
@test "missing and deleted secrets: exit 3 with messages that tell them apart" { t_not_found_messages; }
@test "secret names compare case-insensitively, one set of versions" { t_case_insensitive; }
@test "invalid input exits 2 and changes nothing; no value from argv" { t_invalid_input; }
@test "history shows versions with author, action and --reason" { t_history; }
@test "rollback --to N writes N's bytes as a new version" { t_rollback; }
@test "rotate: --length, --charset, silent unless --show" { t_rotate; }
@test "rm hides from list and get; restore brings the same bytes back" { t_rm_restore; }
@test "restore checks the quota again (exit 5)" { t_restore_quota; }
@test "purge destroys every version and the metadata, frees the quota" { t_purge; }
@test "destroy --versions: values gone for good, history says destroyed, get --version exits 3; admins only" { t_destroy; }
@test "env set: --max-versions keeps at most N versions of each secret, --name, --description; admins only" { t_max_versions; }
@test "a create at the plan limit exits 5; updates and deleted secrets do not count" { t_quota; }
@test "no active subscription: a create exits 5" { t_no_subscription; }
@test "every operation writes its audit row and counts in usage" { t_audit_usage; }
@test "roles: viewer lists, member writes, admin removes" { t_roles; }
@test "store ahead of the metadata: exit 6 naming reconcile, nothing changed" { t_drift; }
@test "store and metadata disagree on a removal: reconcile names the side, --fix aligns the store with the metadata" { t_deleted_drift; }
@test "set --cas N: 0 creates, a stale N exits 6 and changes nothing, bad N exits 2" { t_cas; }
@test "the prompt asks twice without echo; the value is in no argv" { t_prompt; }
@test "the value is in no table, message or file but the value store's" { t_hygiene; }

# unchanged_after_fail CODE REF [set options]: a set of REF with a new
# value exits CODE and leaves metadata, audit, usage and the store as they
# were.
unchanged_after_fail() {
	local code=$1 ref=$2 before store
	shift 2
	before=$(checksums)
	store=$(store_version "$ref")
	run -"$code" vaultctl-secret set "$ref" "$@" <<<"new-value"
	[ "$(checksums)" == "$before" ]
	[ "$(store_version "$ref")" == "$store" ]
}

@test "Vault keeps text as {\"value\": ...} and other bytes as base64" {
	local path
	s_here 10
	s_put "$ENV/TEXT" 'plain text é'
	printf '\0\377' | vaultctl-secret -q set "$ENV/BYTES"
	path=$(s_path "$ENV/TEXT")
	[ "$(emu GET "/v1/secret/data/$path" | jq -r .data.data.value)" == 'plain text é' ]
	path=$(s_path "$ENV/BYTES")
	[ "$(emu GET "/v1/secret/data/$path" | jq -cS .data.data)" == '{"encoding":"base64","value":"AP8="}' ]
}

@test "503 on every try of the write (VAULT_MAX_RETRIES=1): exit 7, nothing changed" {
	s_here 10
	s_put "$ENV/A" a
	emu_fault '{"match": "^(POST|PUT) /v1/secret/data/", "count": 10, "status": 503, "retry_after": 0}'
	VAULT_MAX_RETRIES=1 unchanged_after_fail 7 "$ENV/A"
	[[ $output == *"cannot set secret '$ENV/A'"* ]]
	# One try and one retry, then it gave up.
	[ "$(emu GET /_emulator/faults | jq '.faults[0].remaining')" == 8 ]
	VAULT_MAX_RETRIES=1 unchanged_after_fail 7 "$ENV/NEW"
	[ -z "$(meta_version "$ENV/NEW")" ]
	store_gone "$ENV/NEW"
	same_version "$ENV/A" 1
}

@test "a 503 that clears within the retries (Retry-After 1) is not an error" {
	s_here 10
	emu_fault '{"match": "^(POST|PUT) /v1/secret/data/", "count": 1, "status": 503, "retry_after": 1}'
	s_put "$ENV/A" a
	same_version "$ENV/A" 1
	[ "$(emu GET /_emulator/stats | jq .faults_pending)" == 0 ]
}

@test "the connection drops during set: exit 7, nothing changed" {
	s_here 10
	s_put "$ENV/A" a
	emu_fault '{"match": "^(POST|PUT) /v1/secret/data/", "count": 10, "drop": true}'
	VAULT_MAX_RETRIES=1 unchanged_after_fail 7 "$ENV/A"
	VAULT_MAX_RETRIES=1 unchanged_after_fail 7 "$ENV/NEW"
	store_gone "$ENV/NEW"
	same_version "$ENV/A" 1
}

@test "Vault answers 403: exit 4, nothing changed" {
	s_here 10
	s_put "$ENV/A" a
	emu_fault '{"match": "/v1/secret/data/", "count": 10, "status": 403, "errors": ["permission denied"]}'
	unchanged_after_fail 4 "$ENV/A"
	[[ $output == *"permission denied"* ]]
	run -4 vaultctl-secret get "$ENV/A"
	emu_clear_faults
	VAULT_TOKEN=not-a-token unchanged_after_fail 4 "$ENV/A"
	VAULT_TOKEN=not-a-token run -4 vaultctl-secret get "$ENV/A"
}

@test "a sealed, unreachable or slow Vault: exit 7, nothing changed" {
	local port
	s_here 10
	s_put "$ENV/A" a
	emu POST /_emulator/seal '{"sealed": true}' >/dev/null
	VAULT_MAX_RETRIES=0 unchanged_after_fail 7 "$ENV/A"
	VAULT_MAX_RETRIES=0 run -7 vaultctl-secret get "$ENV/A"
	emu POST /_emulator/seal '{"sealed": false}' >/dev/null
	# A port where nothing listens.
	port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	VAULT_ADDR=http://127.0.0.1:$port VAULT_MAX_RETRIES=0 unchanged_after_fail 7 "$ENV/A"
	emu_fault '{"match": "^(POST|PUT) /v1/secret/data/", "count": 5, "delay_ms": 4000}'
	VAULT_CLIENT_TIMEOUT=1 VAULT_MAX_RETRIES=0 unchanged_after_fail 7 "$ENV/A"
	emu_clear_faults
	same_version "$ENV/A" 1
}

@test "a failed read exits 7 and writes no audit row" {
	s_here 10
	s_put "$ENV/A" a
	emu_fault '{"match": "^GET /v1/secret/data/", "count": 10, "status": 503, "retry_after": 0}'
	VAULT_MAX_RETRIES=1 run --separate-stderr -7 vaultctl-secret get "$ENV/A"
	[ -z "$output" ]
	[[ $stderr == *"cannot read secret '$ENV/A'"* ]]
	[ "$(audit_count "$ORG" secret.read)" == 0 ]
}

@test "rm, restore and purge: a store failure exits 7 and leaves the metadata" {
	local before
	s_here 10
	s_put "$ENV/A" a
	before=$(checksums)
	emu_fault '{"match": "^(POST /v1/secret/delete/|DELETE /v1/secret/data/)", "count": 10, "status": 503, "retry_after": 0}'
	VAULT_MAX_RETRIES=0 run -7 vaultctl-secret rm "$ENV/A"
	[ "$(checksums)" == "$before" ]
	emu_clear_faults
	vaultctl-secret -q rm "$ENV/A"
	before=$(checksums)
	emu_fault '{"match": "^POST /v1/secret/undelete/", "count": 10, "status": 503, "retry_after": 0}'
	VAULT_MAX_RETRIES=0 run -7 vaultctl-secret restore "$ENV/A"
	[ "$(checksums)" == "$before" ]
	emu_fault '{"match": "^DELETE /v1/secret/metadata/", "count": 10, "status": 503, "retry_after": 0}'
	VAULT_MAX_RETRIES=0 run -7 vaultctl-secret purge "$ENV/A" --yes
	[ "$(checksums)" == "$before" ]
	[ "$(store_version "$ENV/A")" == 1 ]
	emu_clear_faults
	vaultctl-secret -q purge "$ENV/A" --yes
	store_gone "$ENV/A"
}

@test "env rm: values go after the metadata's commit; a store failure then exits 7 naming reconcile, which removes them" {
	local path
	s_here 10
	vaultctl-org -q env create "$ORG/api/gone"
	s_put "$ORG/api/gone/A" a
	path=$(s_path "$ORG/api/gone/A")
	emu_fault '{"match": "^DELETE /v1/secret/metadata/", "count": 10, "status": 503, "retry_after": 0}'
	VAULT_MAX_RETRIES=0 run --separate-stderr -7 vaultctl-org env rm "$ORG/api/gone" --yes
	[[ $stderr == *"its metadata was removed, but the values of its 1 secret may remain"*"reconcile --fix"* ]]
	emu_clear_faults
	run -0 vaultctl-org env list "$ORG/api" -o tsv
	[[ $output != *gone* ]]
	emu GET "/v1/secret/metadata/$path" >/dev/null
	[ "$EMU_STATUS" == 200 ]
	run -8 vaultctl-audit reconcile --org "$ORG"
	run -0 vaultctl-audit reconcile --org "$ORG" --fix --yes
	emu GET "/v1/secret/metadata/$path" >/dev/null
	[ "$EMU_STATUS" == 404 ]
}

# faults_taken [ADDR]: until the emulator at ADDR (default ours) has taken
# every fault (10 s at most).
faults_taken() {
	for _ in $(seq 500); do
		[ "$(curl -s "${1:-$VAULT_ADDR}/_emulator/stats" | jq .faults_pending)" == 0 ] &&
			return 0
		sleep 0.02
	done
	echo "the emulator never took its faults"
	return 1
}

@test "SIGTERM or SIGINT while Vault takes a write waits for the commit: store and metadata agree, the next set needs no reconcile" {
	local sig pid v=1 err=$BATS_TEST_TMPDIR/set.err
	s_here 10
	s_put "$ENV/SIG" v1
	for sig in TERM INT; do
		emu_fault '{"match": "^(POST|PUT) /v1/secret/data/", "count": 1, "delay_ms": 1500}'
		# A background job of a script ignores SIGINT: the default back.
		printf 'v-%s' "$sig" | env --default-signal=INT \
			vaultctl-secret -q set "$ENV/SIG" 2>"$err" 3>&- &
		pid=$!
		faults_taken
		kill -"$sig" "$pid"
		status=0
		wait "$pid" || status=$?
		# Killed by the signal, once the write had committed.
		[ "$status" -eq $((128 + $(kill -l "$sig"))) ]
		v=$((v + 1))
		same_version "$ENV/SIG" "$v"
		run -0 vaultctl-secret get "$ENV/SIG"
		[ "$output" == "v-$sig" ]
	done
	s_put "$ENV/SIG" v4
	same_version "$ENV/SIG" 4
}

@test "get while a set is between the store's write and its commit waits for it: the new value, not exit 8" {
	local oid lock setpid
	s_here 10
	s_put "$ENV/W" w1
	oid=$(vc_sql "SELECT id FROM organizations WHERE name = '$ORG'")
	# The organization's audit chain head held: set writes the value,
	# then waits to write its audit row.
	mariadb --defaults-file="$VC_TEST_DIR/admin.cnf" "$VC_DATABASE" -e "BEGIN;
		SELECT chain FROM audit_chain_heads WHERE chain = '$oid' FOR UPDATE;
		SELECT SLEEP(3)" >/dev/null 2>&1 3>&- &
	lock=$!
	sleep 0.3
	printf w2 | vaultctl-secret -q set "$ENV/W" 2>"$BATS_TEST_TMPDIR/set.err" 3>&- &
	setpid=$!
	for _ in $(seq 200); do
		[ "$(store_version "$ENV/W")" == 2 ] && break
		sleep 0.02
	done
	[ "$(store_version "$ENV/W")" == 2 ]
	[ "$(meta_version "$ENV/W")" == 1 ]
	run --separate-stderr -0 vaultctl-secret get "$ENV/W"
	[ "$output" == w2 ]
	wait "$setpid"
	wait "$lock" || true
	same_version "$ENV/W" 2
}

@test "the AppRole login runs before the organization's quota lock is taken" {
	local pf=$VC_TEST_DIR/emu-approle.port addr cnf=$BATS_TEST_TMPDIR/approle.cnf
	local sid=$BATS_TEST_TMPDIR/secret-id oid pid
	s_here 10
	/usr/bin/python3 "$REPO/tests/vault/emulator.py" --listen 127.0.0.1:0 \
		--port-file "$pf" --approle e2e-role:e2e-secret \
		>"$VC_TEST_DIR/emu-approle.out" 2>&1 3>&- &
	echo $! >"$VC_TEST_DIR/emu-unix.pid"    # stopped by teardown
	for _ in $(seq 100); do [[ -s $pf ]] && break; sleep 0.05; done
	addr=http://127.0.0.1:$(cat "$pf")
	printf 'e2e-secret\n' >"$sid"
	chmod 600 "$sid"
	{ cat "$VAULTCTL_CONFIG"; printf '[vaultctl]\nvault_role_id = e2e-role\nvault_secret_id_file = %s\n' "$sid"; } >"$cnf"
	chmod 600 "$cnf"
	curl -s -X POST -d '{"match": "^POST /v1/auth/approle/login", "delay_ms": 2000}' \
		"$addr/_emulator/fault" >/dev/null
	printf v | env -u VAULT_TOKEN HOME="$BATS_TEST_TMPDIR" VAULT_ADDR="$addr" \
		vaultctl-secret -c "$cnf" -q set "$ENV/AR" 2>"$BATS_TEST_TMPDIR/ar.err" 3>&- &
	pid=$!
	faults_taken "$addr"
	# While the login waits, the subscription row is free.
	oid=$(vc_sql "SELECT id FROM organizations WHERE name = '$ORG'")
	vc_sql "START TRANSACTION; SELECT write_seq FROM subscriptions WHERE
		organization_id = '$oid' AND status = 'active' FOR UPDATE NOWAIT;
		ROLLBACK" >/dev/null
	wait "$pid" || { echo "set: $(cat "$BATS_TEST_TMPDIR/ar.err")"; return 1; }
	[ "$(meta_version "$ENV/AR")" == 1 ]
}

@test "plain http to another host, and VAULT_SKIP_VERIFY, warn on every run: -q, no terminal" {
	local https=https://${VAULT_ADDR#http://}
	s_here 10
	s_put "$ENV/A" a
	# TEST-NET-1: nothing answers there.
	VAULT_ADDR=http://192.0.2.1:8200 VAULT_MAX_RETRIES=0 VAULT_CLIENT_TIMEOUT=1 \
		run --separate-stderr -7 vaultctl-secret -q get "$ENV/A"
	[[ $stderr == *"vaultctl-secret: warning: vault address 'http://192.0.2.1:8200' is plain http to another host"* ]]
	VAULT_ADDR=$https VAULT_SKIP_VERIFY=true VAULT_MAX_RETRIES=0 \
		run --separate-stderr -7 vaultctl-secret -q get "$ENV/A"
	[[ $stderr == *"vaultctl-secret: warning: VAULT_SKIP_VERIFY is set"* ]]
	# Loopback over plain http: nothing to say.
	run --separate-stderr -0 vaultctl-secret -q get "$ENV/A"
	[ -z "$stderr" ]
	[ "$output" == a ]
}

# Over http:// and unix:// the built-in HTTP/1.1 client (lib/vault_h1.c)
# carries single requests and bulk reads alike; libcurl is loaded for
# https only.  The real binary, not a valgrind wrapper: LD_DEBUG is about
# its loader.
@test "VAULT_ADDR=unix:///path works; neither a single request nor a bulk export loads libcurl" {
	local sock=$VC_TEST_DIR/vault.sock pf=$VC_TEST_DIR/emu-unix.port pid
	local bin=$REPO/bin/vaultctl-secret
	s_here 10
	/usr/bin/python3 "$REPO/tests/vault/emulator.py" --listen "unix:$sock" \
		--port-file "$pf" --token "$VAULT_TOKEN" \
		>"$VC_TEST_DIR/emu-unix.out" 2>&1 3>&- &
	pid=$!
	echo "$pid" >"$VC_TEST_DIR/emu-unix.pid"
	for _ in $(seq 100); do [[ -s $pf ]] && break; sleep 0.05; done
	export VAULT_ADDR=unix://$sock
	s_put "$ENV/U1" 'over a unix socket'
	s_put "$ENV/U2" 'second'
	run -0 vaultctl-secret get "$ENV/U1"
	[ "$output" == 'over a unix socket' ]
	run -0 vaultctl-secret export "$ENV" --format json
	[ "$(jq -r .U2 <<<"$output")" == second ]
	LD_DEBUG=libs "$bin" get "$ENV/U1" 2>"$BATS_TEST_TMPDIR/ld" >/dev/null
	grep -q 'libmariadb' "$BATS_TEST_TMPDIR/ld"
	[ "$(grep -c 'libcurl' "$BATS_TEST_TMPDIR/ld")" == 0 ]
	LD_DEBUG=libs "$bin" export "$ENV" --format json --concurrency 2 \
		2>"$BATS_TEST_TMPDIR/ld" >"$BATS_TEST_TMPDIR/out"
	[ "$(jq -r .U1 "$BATS_TEST_TMPDIR/out")" == 'over a unix socket' ]
	grep -q 'libmariadb' "$BATS_TEST_TMPDIR/ld"
	[ "$(grep -c 'libcurl' "$BATS_TEST_TMPDIR/ld")" == 0 ]
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	run -7 vaultctl-secret get "$ENV/U1"
	[[ $output == *"vault unreachable at unix://$sock"* ]]
}
