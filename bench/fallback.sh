#!/usr/bin/env bash
# bench/fallback.sh - `vaultctl-secret run --fallback FILE` with the
# database really stopped (the snapshot served) against `run` of the same
# N secrets (default 100) with the database up, local store.
# Goal: time ratio <= 0.5.
#
# One MariaDB server (tests/harness/setup.sh), stopped and started again
# between the two sides in each of ROUNDS rounds, so that the machine's
# drift falls on both alike.  The time of `vaultctl-secret --version`
# (loading the program and its libraries) is printed for scale: on a
# loaded machine it is most of both sides.  Times are medians of RUNS runs per side and
# round, measured with bash's $EPOCHREALTIME (its digits: microseconds,
# whatever the locale's decimal point) around each run of `run ... --
# /bin/true` (a command of its own would cost both sides alike; so would
# a clock read by a process of its own, such as `date`, which adds a fork
# and an exec, a millisecond or two, inside every interval); each side is
# checked once per round to hand the command all N values.
#
#   bench/fallback.sh          N=100 RUNS=30 ROUNDS=6 to change
#   STRICT=1 bench/fallback.sh exit 1 when the goal is missed
set -euo pipefail

N=${N:-100}
RUNS=${RUNS:-30}
ROUNDS=${ROUNDS:-6}
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/lib.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vc-bench-fallback.XXXXXX")
dir=$tmp/db

cleanup() {
	"$top/tests/harness/mariadb.sh" stop "$dir" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

make -s -C "$top" bin/vaultctl-org bin/vaultctl-secret >/dev/null ||
	die "cannot build the tools"
export PATH="$top/bin:$PATH"

mkdir "$dir"
"$top/tests/harness/setup.sh" "$dir" >"$tmp/setup.log" 2>&1 ||
	{ cat "$tmp/setup.log" >&2; die "cannot start MariaDB"; }
export VAULTCTL_CONFIG=$dir/vaultctl.cnf VAULTCTL_USER=bench@example.com
vaultctl-org -q user add "$VAULTCTL_USER" --no-password >/dev/null
sql "$dir" "INSERT INTO plans (id, name, description, price, billing_cycle,
	secrets_limit, features, created_at, updated_at) VALUES (UUID(),
	'free', '', 0, 'monthly', NULL, NULL, NOW(), NOW())"
vaultctl-org -q create bench >/dev/null
vaultctl-org -q project create bench/api >/dev/null
vaultctl-org -q env create bench/api/prod >/dev/null
head -c $((N * 36)) /dev/urandom | base64 -w 48 | head -n "$N" |
	awk '{ printf "S%04d=%s\n", NR, $0 }' >"$tmp/bench.env"
vaultctl-secret -q import bench/api/prod --file "$tmp/bench.env" ||
	die "import failed"

snap=$tmp/snap
count='env | grep -c "^S[0-9]"'
# times NAME ARGS...: RUNS runs of `vaultctl-secret run ARGS -- /bin/true`,
# each one's seconds appended to NAME, after a check that the command gets
# the N values.
times() {
	local name=$1 i t0 t1 out
	shift
	out=$(vaultctl-secret run "$@" -- sh -c "$count" 2>/dev/null) ||
		die "$name failed"
	[[ $out == "$N" ]] || die "$name gave $out secrets, not $N"
	for ((i = 0; i < RUNS; i++)); do
		t0=$EPOCHREALTIME
		vaultctl-secret run "$@" -- /bin/true 2>/dev/null || die "$name failed"
		t1=$EPOCHREALTIME
		echo "$((${t1//[!0-9]/} - ${t0//[!0-9]/}))e-6" >>"$tmp/$name.times"
	done
}

vaultctl-secret run bench/api/prod --fallback "$snap" -- true ||
	die "the first snapshot failed"
for ((r = 1; r <= ROUNDS; r++)); do
	times up bench/api/prod
	"$top/tests/harness/mariadb.sh" stop "$dir" >/dev/null
	times down bench/api/prod --fallback "$snap"
	for ((i = 0; i < RUNS; i++)); do
		t0=$EPOCHREALTIME
		vaultctl-secret --version >/dev/null
		t1=$EPOCHREALTIME
		echo "$((${t1//[!0-9]/} - ${t0//[!0-9]/}))e-6" >>"$tmp/floor.times"
	done
	"$top/tests/harness/mariadb.sh" start "$dir" >/dev/null
	# The reads served offline audited, the snapshot fresh again.
	vaultctl-secret run bench/api/prod --fallback "$snap" -- true ||
		die "the audit of the offline reads failed"
done
offline=$(sql "$dir" "SELECT COUNT(*) FROM audit_logs WHERE action = 'secret.read'
	AND details LIKE '%\"offline\":true%'")
[[ $offline -eq $((N * (RUNS + 1) * ROUNDS)) ]] ||
	die "$offline offline reads audited, not $((N * (RUNS + 1) * ROUNDS))"

up=$(median "$tmp/up.times")
down=$(median "$tmp/down.times")
floor=$(median "$tmp/floor.times")
ratio=$(awk -v a="$down" -v b="$up" 'BEGIN { printf "%.2f", a / b }')
ok=$(awk -v r="$ratio" 'BEGIN { print (r <= 0.5) ? "met" : "MISSED" }')
printf 'run of %d secrets, database up:            %.2f ms (median of %d)\n' \
	"$N" "$(awk -v t="$up" 'BEGIN { print t * 1000 }')" $((RUNS * ROUNDS))
printf 'run --fallback, database stopped:         %.2f ms\n' \
	"$(awk -v t="$down" 'BEGIN { print t * 1000 }')"
printf 'start-up alone (--version), for scale:    %.2f ms\n' \
	"$(awk -v t="$floor" 'BEGIN { print t * 1000 }')"
printf 'ratio %s (goal <= 0.5): %s; %d offline reads audited once back\n' \
	"$ratio" "$ok" "$offline"
[[ ${STRICT:-} != 1 || $ok == met ]]
