#!/usr/bin/env bats
# run/export --fallback FILE: the sealed snapshot written after every
# successful read and served, with its age on stderr, only while the
# database (server really stopped) or Vault (emulator sealed or stopped)
# is unavailable; refused (exit 7) when tampered with, too old, of another
# environment or of another user; never for not found or permission; the
# reads it served audited once the database is back.
#
# Organization "loc" uses the local value store ($VC_TEST_DIR/vaultctl.cnf),
# "vlt" the Vault emulator ($VC_TEST_DIR/vault.cnf: the same database).

bats_require_minimum_version 1.5.0
load helper
load secret_helper
load fallback_helper

setup_file() {
	vc_server_start
	emu_start
	s_bootstrap
	sed 's/^backend = local$/backend = vault/' "$VAULTCTL_CONFIG" >"$VC_TEST_DIR/vault.cnf"
	chmod 600 "$VC_TEST_DIR/vault.cnf"
	s_org loc NULL
	s_org vlt NULL
	vaultctl-org -q env create loc/api/dev >/dev/null
	vaultctl-org -q env create vlt/api/dev >/dev/null
	vaultctl-org -q user add other@example.com --no-password
	vaultctl-org -q member add loc other@example.com --role member
	vaultctl-org -q member add vlt other@example.com --role member
	vaultctl-org -q user add viewer@example.com --no-password
	vaultctl-org -q member add loc viewer@example.com --role viewer
	vaultctl-org -q member add vlt viewer@example.com --role viewer
	local o
	for o in loc vlt; do
		[[ $o == vlt ]] && export VAULTCTL_CONFIG=$VC_TEST_DIR/vault.cnf
		s_put $o/api/prod/A "alpha $o"
		printf 'two\nlines\n' | vaultctl-secret -q set $o/api/prod/B
		s_put $o/api/dev/A "dev $o"
		export VAULTCTL_CONFIG=$VC_TEST_DIR/vaultctl.cnf
	done
}

teardown_file() {
	emu_stop
	vc_server_stop
}

setup() {
	exec </dev/null
	export VAULTCTL_USER=$VC_ADMIN
	export VAULTCTL_CONFIG=$VC_TEST_DIR/vaultctl.cnf
	ORG=loc
	FB=$BATS_TEST_TMPDIR/snap
	server_alive || db_start
	emu_clear_faults
	emu POST /_emulator/seal '{"sealed": false}' >/dev/null
}

teardown() {
	# A test that failed with a backend down leaves it down.
	server_alive || db_start
	emu POST /_emulator/seal '{"sealed": false}' >/dev/null 2>&1 || true
}

# snapshot: an online run that writes $FB.
snapshot() {
	run --separate-stderr vaultctl-secret run "$ORG/api/prod" --fallback "$FB" "$@" \
		-- sh -c 'printf "%s|%s" "$A" "$B"'
	[ "$status" -eq 0 ]
	[ "$output" == "alpha $ORG|two"$'\n'"lines" ]
	[ -f "$FB" ]
}

t_served() {
	local before
	snapshot
	[ "$(stat -c %a "$FB")" == 600 ]
	! grep -q "alpha $ORG" "$FB"
	before=$(offline_reads "$ORG")
	down
	run --separate-stderr vaultctl-secret run "$ORG/api/prod" --fallback "$FB" \
		-- sh -c 'printf "%s|%s" "$A" "$B"'
	[ "$status" -eq 0 ]
	[ "$output" == "alpha $ORG|two"$'\n'"lines" ]
	says "unavailable" "using snapshot '$FB' taken" "s ago"
	run --separate-stderr vaultctl-secret export "$ORG/api/prod" --fallback "$FB" --format json
	[ "$status" -eq 0 ]
	[ "$(jq -r .A <<<"$output")" == "alpha $ORG" ]
	says "using snapshot"
	# Without --fallback, as before.
	run --separate-stderr vaultctl-secret export "$ORG/api/prod"
	[ "$status" -eq 7 ]
	[ -z "$output" ]
	[ "$(stat -c %a "$FB")" == 600 ]
	up
	[ "$(offline_reads "$ORG")" == "$before" ]
	# The next run that reaches the database audits the 4 reads served.
	snapshot
	[ "$(offline_reads "$ORG")" == $((before + 4)) ]
	run vaultctl-secret run "$ORG/api/prod" --fallback "$FB" -- true
	[ "$status" -eq 0 ]
	[ "$(offline_reads "$ORG")" == $((before + 4)) ]
}

t_refused() {
	snapshot
	down
	# Another environment.
	run --separate-stderr vaultctl-secret run "$ORG/api/dev" --fallback "$FB" -- true
	[ "$status" -eq 7 ]
	says "holds '$ORG/api/prod'"
	# Another user.
	run --separate-stderr vaultctl-secret --as other@example.com run "$ORG/api/prod" \
		--fallback "$FB" -- true
	[ "$status" -eq 7 ]
	says "another user"
	VAULTCTL_USER=other@example.com run --separate-stderr vaultctl-secret run \
		"$ORG/api/prod" --fallback "$FB" -- true
	[ "$status" -eq 7 ]
	# A name the snapshot does not hold.
	# (With the database up, Vault sealed: the database says it is not
	# there, which is an answer.)
	run --separate-stderr vaultctl-secret run "$ORG/api/prod" --only A,C \
		--fallback "$FB" -- true
	[ "$status" -eq "$([[ $ORG == loc ]] && echo 7 || echo 3)" ]
	# Too old.
	sleep 2
	run --separate-stderr vaultctl-secret run "$ORG/api/prod" --fallback "$FB" \
		--fallback-max-age 1s -- true
	[ "$status" -eq 7 ]
	says "older than --fallback-max-age"
	run --separate-stderr vaultctl-secret run "$ORG/api/prod" --fallback "$FB" \
		--fallback-max-age 1h -- true
	[ "$status" -eq 0 ]
	# Tampered with: one byte of the values, then one of the header.
	cp "$FB" "$FB.good"
	python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[-5]^=1; open(p,"wb").write(b)' "$FB"
	run --separate-stderr vaultctl-secret run "$ORG/api/prod" --fallback "$FB" -- true
	[ "$status" -eq 7 ]
	says "does not open"
	cp "$FB.good" "$FB"
	sed -i 's/"created":\([0-9]\)/"created":9/' "$FB"
	run --separate-stderr vaultctl-secret run "$ORG/api/prod" --fallback "$FB" -- true
	[ "$status" -eq 7 ]
	says "does not open"
	# Missing.
	run --separate-stderr vaultctl-secret run "$ORG/api/prod" --fallback "$FB.none" -- true
	[ "$status" -eq 7 ]
	says "no snapshot"
	up
}

t_never_else() {
	snapshot
	# Not found and permission are answers, not outages.
	run --separate-stderr vaultctl-secret run "$ORG/api/nope" --fallback "$FB" -- true
	[ "$status" -eq 3 ]
	run --separate-stderr vaultctl-secret run "$ORG/api/prod" --only C --fallback "$FB" -- true
	[ "$status" -eq 3 ]
	run --separate-stderr vaultctl-secret --as viewer@example.com run "$ORG/api/prod" \
		--fallback "$FB" -- true
	[ "$status" -eq 4 ]
	[[ $stderr != *snapshot* ]]
}

@test "local: served while the server is stopped, its age said, 0600, audited once back" { t_served; }
@test "vault: served while Vault is sealed, its age said, 0600, audited" { vault_mode; t_served; }
@test "local: another environment, another user, too old, tampered, missing: exit 7" { t_refused; }
@test "vault: another environment, another user, too old, tampered, missing: exit 7" { vault_mode; t_refused; }
@test "local: not found and permission are never served from the snapshot" { t_never_else; }
@test "vault: not found, permission and a 403 are never served from the snapshot" {
	vault_mode
	t_never_else
	emu_fault '{"match": "/v1/secret/data/", "count": 10, "status": 403, "errors": ["permission denied"]}'
	run --separate-stderr vaultctl-secret run vlt/api/prod --fallback "$FB" -- true
	[ "$status" -eq 4 ]
	emu_clear_faults
}

@test "vault: Vault unreachable: served from the snapshot" {
	vault_mode
	snapshot
	# Nothing listens there any more: as for an emulator stopped.
	VAULT_ADDR=http://127.0.0.1:1 run --separate-stderr vaultctl-secret run \
		vlt/api/prod --fallback "$FB" -- sh -c 'printf "%s" "$A"'
	[ "$status" -eq 0 ]
	[ "$output" == "alpha vlt" ]
	says "using snapshot"
}

@test "--only: a snapshot of some names serves those, not the whole environment" {
	run vaultctl-secret run loc/api/prod --only A --fallback "$FB" -- true
	[ "$status" -eq 0 ]
	db_stop
	run --separate-stderr vaultctl-secret run loc/api/prod --only a --fallback "$FB" \
		-- sh -c 'printf "%s|%s" "$A" "${B-unset}"'
	[ "$status" -eq 0 ]
	[ "$output" == "alpha loc|unset" ]
	run --separate-stderr vaultctl-secret run loc/api/prod --fallback "$FB" -- true
	[ "$status" -eq 7 ]
	says "holds only A"
	db_start
}

@test "export -O FILE with the server stopped: the file from the snapshot, 0600" {
	snapshot
	db_stop
	run --separate-stderr vaultctl-secret export loc/api/prod --fallback "$FB" \
		--format dotenv -O "$BATS_TEST_TMPDIR/out.env"
	[ "$status" -eq 0 ]
	[ "$(stat -c %a "$BATS_TEST_TMPDIR/out.env")" == 600 ]
	grep -q '^A=.alpha loc' "$BATS_TEST_TMPDIR/out.env"
	db_start
}

@test "local: a record per read served offline, appended; runs at once all kept; one cut short dropped, one altered refuses the snapshot" {
	local size0 size1 rec before i
	snapshot
	before=$(offline_reads loc)
	db_stop
	size0=$(stat -c %s "$FB")
	run -0 vaultctl-secret run loc/api/prod --fallback "$FB" -- true
	size1=$(stat -c %s "$FB")
	rec=$((size1 - size0))
	# The time, a bit per secret, a MAC: a few bytes, not the values.
	[ "$rec" -gt 16 ] && [ "$rec" -lt 64 ]
	for i in 1 2 3 4 5; do
		vaultctl-secret run loc/api/prod --fallback "$FB" -- true 2>/dev/null &
	done
	wait
	[ "$(stat -c %s "$FB")" -eq $((size0 + 6 * rec)) ]
	# A crash in the middle of an append: the next one takes its place.
	truncate -s -3 "$FB"
	run --separate-stderr vaultctl-secret run loc/api/prod --fallback "$FB" \
		-- sh -c 'printf %s "$A"'
	[ "$status" -eq 0 ]
	[ "$output" == "alpha loc" ]
	[ "$(stat -c %s "$FB")" -eq $((size0 + 6 * rec)) ]
	# A record altered, or one dropped from the middle: not used.
	cp "$FB" "$FB.good"
	python3 -c 'import sys; p=sys.argv[1]; o=int(sys.argv[2]); b=bytearray(open(p,"rb").read()); b[o]^=1; open(p,"wb").write(b)' \
		"$FB" $((size0 + rec + 2))
	run --separate-stderr vaultctl-secret run loc/api/prod --fallback "$FB" -- true
	[ "$status" -eq 7 ]
	says "does not open"
	python3 -c 'import sys; p=sys.argv[1]; a=int(sys.argv[2]); r=int(sys.argv[3]); b=open(p,"rb").read(); open(p,"wb").write(b[:a] + b[a+r:])' \
		"$FB" "$size0" "$rec"
	run --separate-stderr vaultctl-secret run loc/api/prod --fallback "$FB" -- true
	[ "$status" -eq 7 ]
	says "does not open"
	cp "$FB.good" "$FB"
	db_start
	# Six records of two reads each.
	snapshot
	[ "$(offline_reads loc)" -eq $((before + 12)) ]
	run -0 vaultctl-audit verify
}

@test "local: the server killed, its socket left behind: served too" {
	snapshot
	kill -9 "$(cat "$VC_TEST_DIR/mariadbd.pid")"
	while kill -0 "$(cat "$VC_TEST_DIR/mariadbd.pid")" 2>/dev/null; do sleep 0.1; done
	[ -S "$VC_TEST_DIR/mysql.sock" ]
	run --separate-stderr vaultctl-secret run loc/api/prod --fallback "$FB" \
		-- sh -c 'printf %s "$A"'
	[ "$status" -eq 0 ]
	[ "$output" == "alpha loc" ]
	says "(111)" "using snapshot"
	db_start
}

# libmariadb, and OpenSSL with it, is loaded on first use
# (lib/mariadb_shim.c): the stopped server is told from its missing socket,
# so an offline run never loads them, which was a quarter of its time.
@test "local: served with the server stopped without loading libmariadb; loaded once the database is used" {
	[[ ${VC_VALGRIND:-} != 1 ]] || skip "under valgrind LD_DEBUG traces valgrind's loads"
	snapshot
	down
	run --separate-stderr env LD_DEBUG=files vaultctl-secret run loc/api/prod \
		--fallback "$FB" -- true
	[ "$status" -eq 0 ]
	says "using snapshot"
	[[ $stderr == *"file=libsodium.so"* ]]
	[[ $stderr != *libmariadb* ]]
	[[ $stderr != *libssl* && $stderr != *libcrypto* ]]
	up
	run --separate-stderr env LD_DEBUG=files vaultctl-secret run loc/api/prod -- true
	[ "$status" -eq 0 ]
	[[ $stderr == *"file=libmariadb.so.3"* ]]
}

@test "a snapshot of an older vaultctl is not used, said so" {
	printf 'VCFB1\n\0\0\0\2{}' >"$FB"
	db_stop
	run --separate-stderr vaultctl-secret run loc/api/prod --fallback "$FB" -- true
	[ "$status" -eq 7 ]
	says "written by an older vaultctl"
	db_start
	snapshot
}
