# Shared by 28-run-multi.bats (local store) and 28-run-multi-vault.bats
# (the Vault emulator): run and export with several environments, later
# ones winning on a name, and run --preserve-env.  Each m_* is one test,
# alike on both stores.

# m_envs: organization $ORG with environments base and prod, and a second
# organization $ORG2 with environment prod, the admin acting.
#   base:  A=base-a  B=base-b  SHARED=base
#   prod:  C=prod-c  SHARED=prod  (a value with a newline and spaces: MULTI)
#   ORG2:  SHARED=other  D=other-d
m_envs() {
	s_here NULL
	ORG2=${ORG}x
	s_org "$ORG2" NULL
	vaultctl-org -q env create "$ORG/api/base"
	BASE=$ORG/api/base PROD=$ORG/api/prod OTHER=$ORG2/api/prod
	s_put "$BASE/A" base-a
	s_put "$BASE/B" base-b
	s_put "$BASE/SHARED" base
	s_put "$PROD/C" prod-c
	s_put "$PROD/SHARED" prod
	printf 'line 1\n  two  \n' | vaultctl-secret -q set "$PROD/MULTI"
	s_put "$OTHER/SHARED" other
	s_put "$OTHER/D" other-d
}

# An environment named twice, its folder big enough to be read whole
# (the local store reads 32 values of a folder and more by range): every
# value given, the last naming winning.
m_repeated() {
	local f=$BATS_TEST_TMPDIR/many.env
	m_envs
	for i in $(seq 10 49); do printf 'R%s=value-%s\n' "$i" "$i"; done >"$f"
	vaultctl-secret -q import "$BASE" --file "$f"
	run -0 vaultctl-secret run "$BASE" "$PROD" "$BASE" -- sh -c \
		'printf "%s|%s|%s|%s" "$R10" "$R49" "$C" "$SHARED"'
	[ "$output" == "value-10|value-49|prod-c|base" ]
	run -0 vaultctl-secret export "$BASE" "$PROD" "$BASE" --format json
	[ "$(jq -r '[to_entries[] | select(.key | startswith("R"))] | length' \
		<<<"$output")" == 40 ]
	[ "$(jq -r '.R27 + "|" + .SHARED + "|" + .C' <<<"$output")" == \
		"value-27|base|prod-c" ]
	# With --fallback the values overridden are read too (the snapshot
	# keeps each environment whole): the folder asked twice.
	run -0 vaultctl-secret run --fallback "$BATS_TEST_TMPDIR/fb" "$BASE" \
		"$PROD" "$BASE" -- sh -c 'printf "%s|%s|%s" "$R10" "$R49" "$SHARED"'
	[ "$output" == "value-10|value-49|base" ]
}

# reads ORG: secret.read rows of the organization.
reads() { audit_count "$1" secret.read; }

m_later_wins() {
	local show='printf "%s|%s|%s|%s" "$A" "$B" "$C" "$SHARED"'
	m_envs
	run -0 vaultctl-secret run "$BASE" "$PROD" -- sh -c "$show"
	[ "$output" == "base-a|base-b|prod-c|prod" ]
	run -0 vaultctl-secret run "$PROD" "$BASE" -- sh -c "$show"
	[ "$output" == "base-a|base-b|prod-c|base" ]
	run -0 vaultctl-secret run "$BASE" "$PROD" "$OTHER" -- sh -c \
		'printf "%s|%s|%s" "$A" "$D" "$SHARED"'
	[ "$output" == "base-a|other-d|other" ]
	# The value is the bytes stored, whichever environment gave it.
	vaultctl-secret run "$BASE" "$PROD" -- sh -c 'printf "%s" "$MULTI"' \
		>"$BATS_TEST_TMPDIR/multi"
	printf 'line 1\n  two  \n' | cmp - "$BATS_TEST_TMPDIR/multi"
	run -0 vaultctl-secret export "$BASE" "$PROD" --format json
	[ "$(jq -cS 'del(.MULTI)' <<<"$output")" == \
		'{"A":"base-a","B":"base-b","C":"prod-c","SHARED":"prod"}' ]
	run -0 vaultctl-secret export "$PROD" "$BASE" --format json --only SHARED
	[ "$(jq -c . <<<"$output")" == '{"SHARED":"base"}' ]
}

m_only_any() {
	m_envs
	# A name in one of the environments is enough; in none, exit 3.
	run -0 vaultctl-secret run "$BASE" "$PROD" --only A,C -- sh -c \
		'printf "%s|%s|%s" "$A" "$C" "${B-unset}"'
	[ "$output" == "base-a|prod-c|unset" ]
	run -3 --separate-stderr vaultctl-secret export "$BASE" "$PROD" --only A,NOPE
	[[ $stderr == *"secret 'NOPE' not found"* ]]
	# An environment that is not there: named, whichever it is.
	run -3 --separate-stderr vaultctl-secret run "$BASE" "$ORG/api/nope" -- true
	[[ $stderr == *"'$ORG/api/nope': environment 'nope' not found"* ]]
	run -3 --separate-stderr vaultctl-secret export "${ORG}zz/api/prod" "$BASE"
	[[ $stderr == *"'${ORG}zz/api/prod': organization '${ORG}zz' not found"* ]]
	# Environments of one project are resolved in one query; what it
	# cannot settle alone is worded as for any other references.
	run -3 --separate-stderr vaultctl-secret run "$ORG/nope/base" \
		"$ORG/nope/prod" -- true
	[[ $stderr == *"'$ORG/nope/base': project 'nope' not found"* ]]
	run -3 --separate-stderr vaultctl-secret run "${ORG}zz/api/base" \
		"${ORG}zz/api/prod" -- true
	[[ $stderr == *"organization '${ORG}zz' not found"* ]]
	run -3 --separate-stderr vaultctl-secret run "$BASE" "$PROD" \
		"$ORG/api/nope2" -- true
	[[ $stderr == *"'$ORG/api/nope2': environment 'nope2' not found"* ]]
	# Names compare as the database does (case aside), ids as names do.
	run -0 vaultctl-secret run "$ORG/api/BASE" "$ORG/api/$(vc_sql "SELECT
		e.id FROM environments e JOIN projects p ON p.id = e.project_id
		JOIN organizations o ON o.id = p.organization_id WHERE o.name =
		'$ORG' AND e.name = 'prod'")" -- sh -c 'printf "%s|%s" "$A" "$SHARED"'
	[ "$output" == "base-a|prod" ]
}

# Every value read is audited, each in its organization's chain, which
# stays intact; a value a later environment overrides is not read, so not
# audited (base's and prod's SHARED under the other's), but with
# --fallback, whose snapshot keeps every value.
m_audit() {
	local b1 b2 shared
	m_envs
	shared=$(vc_sql "SELECT id FROM secret_metadata WHERE name = 'SHARED'
		AND environment = (SELECT e.id FROM environments e JOIN projects p
		ON p.id = e.project_id JOIN organizations o ON o.id =
		p.organization_id WHERE o.name = '$ORG' AND e.name = 'base')")
	b1=$(reads "$ORG") b2=$(reads "$ORG2")
	run -0 vaultctl-secret run "$BASE" "$PROD" "$OTHER" -- true
	[ "$(reads "$ORG")" -eq $((b1 + 4)) ]
	[ "$(reads "$ORG2")" -eq $((b2 + 2)) ]
	run -0 vaultctl-secret export "$BASE" "$PROD" -O "$BATS_TEST_TMPDIR/out"
	[ "$(reads "$ORG")" -eq $((b1 + 9)) ]
	[ "$(stat -c %a "$BATS_TEST_TMPDIR/out")" == 600 ]
	[ "$(vc_sql "SELECT COUNT(*) FROM audit_reads WHERE secret_id = '$shared'")" -eq 0 ]
	# A refused export audits nothing.
	run -2 vaultctl-secret export "$BASE" "$PROD" --format docker
	[ "$(reads "$ORG")" -eq $((b1 + 9)) ]
	run -0 vaultctl-secret export "$BASE" "$PROD" --fallback "$BATS_TEST_TMPDIR/fb"
	[ "$(reads "$ORG")" -eq $((b1 + 15)) ]
	[ "$(vc_sql "SELECT COUNT(*) FROM audit_reads WHERE secret_id = '$shared'")" -eq 1 ]
	run -0 vaultctl-audit verify
}

# A member of one organization only may not read the other's environment:
# nothing is run, nothing audited.
m_permission() {
	local b1
	m_envs
	vaultctl-org -q user add "m$BATS_TEST_NUMBER@example.com" --no-password
	vaultctl-org -q member add "$ORG" "m$BATS_TEST_NUMBER@example.com" --role member
	b1=$(reads "$ORG")
	VAULTCTL_USER=m$BATS_TEST_NUMBER@example.com run -0 vaultctl-secret run \
		"$BASE" "$PROD" -- sh -c 'printf %s "$SHARED"'
	[ "$output" == prod ]
	VAULTCTL_USER=m$BATS_TEST_NUMBER@example.com run -4 vaultctl-secret run \
		"$BASE" "$OTHER" -- sh -c "touch '$BATS_TEST_TMPDIR/ran'"
	[ ! -e "$BATS_TEST_TMPDIR/ran" ]
	[ "$(reads "$ORG")" -eq $((b1 + 5)) ]
}

m_preserve_env() {
	local b1
	m_envs
	run -0 env SHARED=caller C=mine vaultctl-secret run "$BASE" "$PROD" \
		--preserve-env -- sh -c 'printf "%s|%s|%s" "$SHARED" "$C" "$A"'
	[ "$output" == "caller|mine|base-a" ]
	run -0 env SHARED=caller vaultctl-secret run "$BASE" "$PROD" -- sh -c \
		'printf "%s" "$SHARED"'
	[ "$output" == prod ]
	# The caller's VAULT_* still never pass on.
	run -0 env VAULT_CALLER=x vaultctl-secret run "$BASE" --preserve-env \
		-- sh -c 'printf "%s" "${VAULT_CALLER-unset}"'
	[ "$output" == unset ]
	b1=$(reads "$ORG")
	run -2 --separate-stderr vaultctl-secret run "$BASE" --pristine \
		--preserve-env -- sh -c "touch '$BATS_TEST_TMPDIR/ran'"
	[[ $stderr == *"exclude each other"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/ran" ]
	[ "$(reads "$ORG")" -eq "$b1" ]
}

# ---- run --watch ----------------------------------------------------------

# watch_start ARGS...: vaultctl-secret run ARGS in the background (its
# output in $BATS_TEST_TMPDIR/watch.out and .err); WPID is the watcher.
# A shell starts background jobs with SIGINT ignored, which the watcher
# respects as it should: env gives it back its default.
watch_start() {
	env --default-signal=INT vaultctl-secret run "$@" >"$BATS_TEST_TMPDIR/watch.out" \
		2>"$BATS_TEST_TMPDIR/watch.err" 3>&- &
	WPID=$!
}

# wait_for CMD...: until CMD succeeds, at most 15 s.
wait_for() {
	local i
	for ((i = 0; i < 150; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	echo "timed out: $*"
	return 1
}

# watch_end: waits for the watcher; WSTATUS is its exit status.
watch_end() {
	WSTATUS=0
	wait "$WPID" || WSTATUS=$?
}

# cpu_ticks PID: user + system time of the process, in clock ticks.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

lines() { [[ -f $1 ]] && [ "$(wc -l <"$1")" -ge "$2" ]; }

# A child that logs "PID VALUE" at start and "term PID" on SIGTERM, "hup
# PID" on SIGHUP, and ends by itself with status 7 once $STOP exists.
child_script() {
	cat >"$BATS_TEST_TMPDIR/child.sh" <<-'EOS'
	#!/bin/sh
	echo "$$ $SHARED" >>"$LOG"
	trap 'echo "term $$" >>"$LOG"; exit 0' TERM
	trap 'echo "hup $$" >>"$LOG"; exit 0' HUP
	while :; do
		[ -e "$STOP" ] && exit 7
		sleep 0.1
	done
	EOS
	chmod +x "$BATS_TEST_TMPDIR/child.sh"
	export LOG=$BATS_TEST_TMPDIR/log STOP=$BATS_TEST_TMPDIR/stop
}

# A change restarts a real child with the new value (a new process), the
# old one stopped by SIGTERM; the values read again are audited; the
# watcher spends next to no CPU between polls; it exits with the
# command's status when the command ends by itself.
m_watch_restart() {
	local pid1 pid2 before t0 t1
	m_envs
	child_script
	before=$(reads "$ORG")
	watch_start "$BASE" "$PROD" --watch --interval 200ms -- \
		"$BATS_TEST_TMPDIR/child.sh"
	wait_for lines "$LOG" 1
	read -r pid1 value <"$LOG"
	[ "$value" == prod ]
	[ "$(reads "$ORG")" -eq $((before + 5)) ]
	# Five polls and more with nothing changed: no restart, no CPU.
	t0=$(cpu_ticks "$WPID")
	sleep 2
	t1=$(cpu_ticks "$WPID")
	[ "$(wc -l <"$LOG")" -eq 1 ]
	echo "watcher CPU over 2 s: $((t1 - t0)) ticks"
	[ $((t1 - t0)) -le 20 ]
	s_put "$PROD/SHARED" prod2
	wait_for grep -q ' prod2$' "$LOG"
	grep -qx "term $pid1" "$LOG"
	read -r pid2 value < <(grep ' prod2$' "$LOG")
	[ "$pid2" != "$pid1" ]
	! kill -0 "$pid1" 2>/dev/null
	[ "$(reads "$ORG")" -eq $((before + 10)) ]
	# A change of a value prod overrides changes nothing the command
	# gets: it keeps running, and nothing more is audited.
	s_put "$BASE/SHARED" base2
	sleep 1
	[ "$(wc -l <"$LOG")" -eq 3 ]
	kill -0 "$pid2"
	[ "$(reads "$ORG")" -eq $((before + 10)) ]
	# A change of a secret --only leaves out would not count: here B is
	# read, so deleting it restarts too.
	vaultctl-secret -q rm "$BASE/B" --yes
	wait_for lines "$LOG" 5
	touch "$STOP"
	watch_end
	[ "$WSTATUS" -eq 7 ]
	[ ! -s "$BATS_TEST_TMPDIR/watch.err" ]
}

# --signal HUP is what stops the command on a change; --only: a change of
# another secret is no change.
m_watch_signal_only() {
	local pid1
	m_envs
	child_script
	watch_start "$PROD" --only SHARED --watch --interval 200ms --signal HUP \
		-- "$BATS_TEST_TMPDIR/child.sh"
	wait_for lines "$LOG" 1
	read -r pid1 _ <"$LOG"
	s_put "$PROD/C" other-c
	sleep 1
	[ "$(wc -l <"$LOG")" -eq 1 ]
	s_put "$PROD/SHARED" prod3
	wait_for grep -q ' prod3$' "$LOG"
	grep -qx "hup $pid1" "$LOG"
	touch "$STOP"
	watch_end
	[ "$WSTATUS" -eq 7 ]
}

# SIGTERM or SIGINT to the watcher stops its command too; the watcher
# ends as the command did (killed by the signal: 128 + its number).
m_watch_forward() {
	local cpid sig
	m_envs
	for sig in TERM INT; do
		rm -f "$BATS_TEST_TMPDIR/cpid"
		watch_start "$PROD" --watch -- sh -c \
			"echo \$\$ >'$BATS_TEST_TMPDIR/cpid'; exec sleep 300"
		wait_for test -s "$BATS_TEST_TMPDIR/cpid"
		cpid=$(cat "$BATS_TEST_TMPDIR/cpid")
		wait_for grep -q sleep "/proc/$cpid/cmdline"
		kill -"$sig" "$WPID"
		watch_end
		[ "$WSTATUS" -eq $((128 + $(kill -l "$sig"))) ]
		! kill -0 "$cpid" 2>/dev/null
	done
}

# The command's own exit status; a missing command 127; the command's
# process holds no descriptor of the watcher (connections).
m_watch_status() {
	m_envs
	run -42 vaultctl-secret run "$PROD" --watch -- sh -c 'exit 42'
	run -0 vaultctl-secret run "$PROD" --watch -- sh -c 'printf %s "$SHARED"'
	[ "$output" == prod ]
	run -127 --separate-stderr vaultctl-secret run "$PROD" --watch -- no-such-command-xyz
	[[ $stderr == *"cannot run 'no-such-command-xyz'"* ]]
	run -0 sh -c 'ls /proc/$$/fd' 3>&-
	local plain=$output
	run -0 vaultctl-secret run "$PROD" --watch -- sh -c 'ls /proc/$$/fd' 3>&-
	[ "$output" == "$plain" ]
}
