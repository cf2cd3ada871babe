#!/usr/bin/env bats
# run/export --fallback FILE with several environments, and run --watch
# --fallback: one snapshot for the set of environments, served while the
# database is stopped (or Vault sealed) merged exactly as online (later
# environments winning, in the order asked), refused for another set, the
# reads it served audited in each organization's chain once back; the
# watcher started on the snapshot, left alone when the database comes back
# with the same versions, run again when they differ.
#
# Organizations "loc" (local store) and "vlt" (the Vault emulator,
# $VC_TEST_DIR/vault.cnf) each have environments base and prod, and "locx"
# and "vltx" one more, prod:
#   base:  A=base-a  B=base-b  SHARED=base
#   prod:  C=prod-c  SHARED=prod  MULTI=a value with a newline and spaces
#   ?x:    SHARED=other  D=other-d

bats_require_minimum_version 1.5.0
load helper
load secret_helper
load fallback_helper
load run_multi_helper

setup_file() {
	vc_server_start
	emu_start
	s_bootstrap
	sed 's/^backend = local$/backend = vault/' "$VAULTCTL_CONFIG" >"$VC_TEST_DIR/vault.cnf"
	chmod 600 "$VC_TEST_DIR/vault.cnf"
	vaultctl-org -q user add other@example.com --no-password
	local o
	for o in loc vlt; do
		[[ $o == vlt ]] && export VAULTCTL_CONFIG=$VC_TEST_DIR/vault.cnf
		s_org $o NULL
		s_org ${o}x NULL
		vaultctl-org -q env create $o/api/base
		vaultctl-org -q member add $o other@example.com --role member
		vaultctl-org -q member add ${o}x other@example.com --role member
		s_put $o/api/base/A base-a
		s_put $o/api/base/B base-b
		s_put $o/api/base/SHARED base
		s_put $o/api/prod/C prod-c
		s_put $o/api/prod/SHARED prod
		printf 'line 1\n  two  \n' | vaultctl-secret -q set $o/api/prod/MULTI
		s_put ${o}x/api/prod/SHARED other
		s_put ${o}x/api/prod/D other-d
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
	# A test that failed with a backend down leaves it down, or a watcher.
	[[ -z ${WPID:-} ]] || kill "$WPID" 2>/dev/null || true
	server_alive || db_start
	emu POST /_emulator/seal '{"sealed": false}' >/dev/null 2>&1 || true
}

envs() {
	BASE=$ORG/api/base PROD=$ORG/api/prod OTHER=${ORG}x/api/prod
}

t_merged_as_online() {
	local show='printf "%s|%s|%s|%s|%s" "$A" "$C" "$D" "$SHARED" "$MULTI"'
	local fwd rev fwd_only b1 b2
	envs
	fwd=$(vaultctl-secret export "$BASE" "$PROD" "$OTHER" --format json --fallback "$FB")
	rev=$(vaultctl-secret export "$OTHER" "$PROD" "$BASE" --format json)
	fwd_only=$(vaultctl-secret export "$BASE" "$PROD" "$OTHER" --only shared,A --format sh)
	[ "$(jq -r .SHARED <<<"$fwd")" == other ]
	[ "$(jq -r .SHARED <<<"$rev")" == base ]
	[ "$(stat -c %a "$FB")" == 600 ]
	! grep -q base-a "$FB"
	b1=$(offline_reads "$ORG") b2=$(offline_reads "${ORG}x")
	down
	# The same bytes as online, in either order of the same set.
	run --separate-stderr vaultctl-secret export "$BASE" "$PROD" "$OTHER" \
		--format json --fallback "$FB"
	[ "$status" -eq 0 ]
	[ "$output" == "$fwd" ]
	says "unavailable" "using snapshot '$FB' taken"
	run --separate-stderr vaultctl-secret export "$OTHER" "$PROD" "$BASE" \
		--format json --fallback "$FB"
	[ "$status" -eq 0 ]
	[ "$output" == "$rev" ]
	run --separate-stderr vaultctl-secret export "$BASE" "$PROD" "$OTHER" \
		--only shared,A --fallback "$FB"
	[ "$status" -eq 0 ]
	[ "$output" == "$fwd_only" ]
	run --separate-stderr vaultctl-secret run "$BASE" "$PROD" "$OTHER" \
		--fallback "$FB" -- sh -c "$show"
	[ "$status" -eq 0 ]
	[ "$output" == "base-a|prod-c|other-d|other|line 1"$'\n'"  two  " ]
	[ "$(stat -c %a "$FB")" == 600 ]
	up
	[ "$(offline_reads "$ORG")" == "$b1" ]
	# Back: every value each read gave, the overridden ones too, in its
	# organization's chain: 3 + 3 of base and prod, 2 of the other, three
	# times, and base's A and SHARED, prod's SHARED, the other's SHARED
	# once more; the chains intact.
	run -0 vaultctl-secret run "$BASE" "$PROD" "$OTHER" --fallback "$FB" -- true
	[ "$(offline_reads "$ORG")" == $((b1 + 3 * 6 + 3)) ]
	[ "$(offline_reads "${ORG}x")" == $((b2 + 3 * 2 + 1)) ]
	run -0 vaultctl-secret run "$BASE" "$PROD" "$OTHER" --fallback "$FB" -- true
	[ "$(offline_reads "$ORG")" == $((b1 + 3 * 6 + 3)) ]
	run -0 vaultctl-audit verify
}

t_refused() {
	envs
	run -0 vaultctl-secret run "$BASE" "$PROD" --fallback "$FB" -- true
	down
	# Another set: fewer, more, others.
	run --separate-stderr vaultctl-secret run "$BASE" --fallback "$FB" -- true
	[ "$status" -eq 7 ]
	says "holds '$BASE', '$PROD', not '$BASE': not used"
	run --separate-stderr vaultctl-secret run "$BASE" "$PROD" "$OTHER" \
		--fallback "$FB" -- true
	[ "$status" -eq 7 ]
	run --separate-stderr vaultctl-secret run "$BASE" "$BASE" --fallback "$FB" -- true
	[ "$status" -eq 7 ]
	run --separate-stderr vaultctl-secret run "$PROD" "$OTHER" --fallback "$FB" -- true
	[ "$status" -eq 7 ]
	# Another user; too old.
	run --separate-stderr vaultctl-secret --as other@example.com run "$BASE" \
		"$PROD" --fallback "$FB" -- true
	[ "$status" -eq 7 ]
	says "another user"
	sleep 2
	run --separate-stderr vaultctl-secret run "$PROD" "$BASE" --fallback "$FB" \
		--fallback-max-age 1s -- true
	[ "$status" -eq 7 ]
	says "older than --fallback-max-age"
	# A name in one of them is enough, as online; in none, not served.
	run --separate-stderr vaultctl-secret run "$PROD" "$BASE" --only A,C \
		--fallback "$FB" -- sh -c 'printf "%s|%s|%s" "$A" "$C" "${B-unset}"'
	[ "$status" -eq 0 ]
	[ "$output" == "base-a|prod-c|unset" ]
	if [[ $ORG == loc ]]; then
		run --separate-stderr vaultctl-secret run "$BASE" "$PROD" --only A,D \
			--fallback "$FB" -- true
		[ "$status" -eq 7 ]
		says "secret 'D' is not in snapshot"
	fi
	up
}

@test "local: several environments served while the server is stopped, merged as online in the order asked, audited in each chain once back" {
	t_merged_as_online
}
@test "vault: several environments served while Vault is sealed, merged as online, audited in each chain" {
	vault_mode
	t_merged_as_online
}
@test "local: another set of environments, another user, too old: exit 7; --only across them" { t_refused; }
@test "vault: another set of environments, another user, too old: exit 7; --only across them" {
	vault_mode
	t_refused
}

@test "the environments by id while the server is stopped, as online" {
	local org proj env
	envs
	org=$(vc_sql "SELECT id FROM organizations WHERE name = 'loc'")
	proj=$(vc_sql "SELECT id FROM projects WHERE name = 'api' AND organization_id = '$org'")
	env=$(vc_sql "SELECT id FROM environments WHERE name = 'prod' AND project_id = '$proj'")
	run -0 vaultctl-secret run "$BASE" "$PROD" --fallback "$FB" -- true
	db_stop
	run --separate-stderr vaultctl-secret run "$BASE" "$org/$proj/$env" \
		--fallback "$FB" -- sh -c 'printf %s "$SHARED"'
	[ "$status" -eq 0 ]
	[ "$output" == prod ]
	db_start
}

# ---- run --watch --fallback ------------------------------------------------

# reads_are ORG N: ORG has N secret.read rows of reads served offline.
reads_are() {
	[ "$(offline_reads "$1")" -eq "$2" ]
}

# The server stopped at the start: the snapshot serves, said on stderr.
# Back with the same versions, the command is left alone and the reads
# served are audited; a change then runs it again.
t_watch_back_same() {
	local pid1 before
	envs
	child_script
	run -0 vaultctl-secret run "$BASE" "$PROD" --fallback "$FB" -- true
	before=$(offline_reads "$ORG")
	down
	watch_start "$BASE" "$PROD" --fallback "$FB" --watch --interval 200ms -- \
		"$BATS_TEST_TMPDIR/child.sh"
	wait_for lines "$LOG" 1
	read -r pid1 value <"$LOG"
	[ "$value" == prod ]
	grep -q "using snapshot '$FB'" "$BATS_TEST_TMPDIR/watch.err"
	sleep 1
	kill -0 "$WPID"
	up
	wait_for reads_are "$ORG" $((before + 6))
	sleep 1
	[ "$(wc -l <"$LOG")" -eq 1 ]
	kill -0 "$pid1"
	s_put "$PROD/SHARED" prod2
	wait_for grep -q ' prod2$' "$LOG"
	grep -qx "term $pid1" "$LOG"
	touch "$STOP"
	watch_end
	[ "$WSTATUS" -eq 7 ]
	s_put "$PROD/SHARED" prod
	run -0 vaultctl-audit verify
}

@test "local: run --watch --fallback, the server stopped at the start: the snapshot serves; back with the same versions, left alone and audited; a change runs it again" {
	t_watch_back_same
}
@test "vault: run --watch --fallback, Vault sealed at the start: the snapshot serves; unsealed, left alone and audited; a change runs it again" {
	vault_mode
	t_watch_back_same
}

@test "run --watch --fallback: a snapshot behind the database runs the command again once the server answers" {
	local pid1
	envs
	child_script
	run -0 vaultctl-secret run "$PROD" --fallback "$FB" -- true
	s_put "$PROD/SHARED" newer
	db_stop
	watch_start "$PROD" --fallback "$FB" --watch --interval 200ms -- \
		"$BATS_TEST_TMPDIR/child.sh"
	wait_for lines "$LOG" 1
	read -r pid1 value <"$LOG"
	[ "$value" == prod ]
	db_start
	wait_for grep -q ' newer$' "$LOG"
	grep -qx "term $pid1" "$LOG"
	# The snapshot now holds what the command has.
	kill -TERM "$WPID"
	watch_end
	db_stop
	run --separate-stderr vaultctl-secret run "$PROD" --fallback "$FB" -- \
		sh -c 'printf %s "$SHARED"'
	[ "$output" == newer ]
	db_start
	s_put "$PROD/SHARED" prod
}

@test "run --watch --fallback: no snapshot, or one of other environments, at the start: exit 7, nothing run" {
	envs
	run -0 vaultctl-secret run "$BASE" --fallback "$FB" -- true
	db_stop
	run --separate-stderr vaultctl-secret run "$PROD" --fallback "$FB" --watch \
		-- sh -c "touch '$BATS_TEST_TMPDIR/ran'"
	[ "$status" -eq 7 ]
	says "holds '$BASE', not '$PROD'"
	run --separate-stderr vaultctl-secret run "$PROD" --fallback "$FB.none" --watch \
		-- sh -c "touch '$BATS_TEST_TMPDIR/ran'"
	[ "$status" -eq 7 ]
	says "no snapshot"
	[ ! -e "$BATS_TEST_TMPDIR/ran" ]
	db_start
}

@test "run --watch: the server restarted while watching, a change is still seen" {
	local pid1
	envs
	child_script
	watch_start "$PROD" --watch --interval 200ms -- "$BATS_TEST_TMPDIR/child.sh"
	wait_for lines "$LOG" 1
	read -r pid1 value <"$LOG"
	db_stop
	sleep 0.5
	db_start
	s_put "$PROD/SHARED" after-restart
	wait_for grep -q ' after-restart$' "$LOG"
	grep -qx "term $pid1" "$LOG"
	touch "$STOP"
	watch_end
	[ "$WSTATUS" -eq 7 ]
	s_put "$PROD/SHARED" prod
}
