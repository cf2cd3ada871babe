#!/usr/bin/env bash
# bench/single.sh - `get` and `set` of one secret, the tools of this tree
# against the tools built from an older revision BASE, on one server (this
# tree's schema: the migrations only add, and the older tools ignore what
# they do not know).  Goal: ratio <= 1.0 for both, i.e. the batch and
# audit work made neither single operation slower.
#
# BASE defaults to e3e74c6, the tree before the work on bulk writes and the
# audit's cost began.  The two sides take turns in ROUNDS rounds of RUNS
# runs each; figures are medians of whole processes, local store.
#
#   bench/single.sh              BASE=rev RUNS=40 ROUNDS=4 to change
#   STRICT=1 bench/single.sh     exit 1 when a goal is missed (by more
#                                than the 5% a shared machine drifts)
set -euo pipefail

BASE=${BASE:-e3e74c6}
RUNS=${RUNS:-40}
ROUNDS=${ROUNDS:-4}
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/lib.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vc-bench-single.XXXXXX")
server_dir=

cleanup() {
	[[ -z $server_dir ]] ||
		"$top/tests/harness/mariadb.sh" stop "$server_dir" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

make -s -C "$top" bin/vaultctl-org bin/vaultctl-secret >/dev/null ||
	die "cannot build the tools"
git -C "$top" rev-parse -q --verify "$BASE^{commit}" >/dev/null ||
	die "no revision '$BASE' in this clone"
mkdir "$tmp/base"
git -C "$top" archive "$BASE" | tar -x -C "$tmp/base"
make -s -C "$tmp/base" bin/vaultctl-secret >/dev/null 2>"$tmp/base.err" ||
	{ cat "$tmp/base.err" >&2; die "cannot build $BASE"; }
new=$top/bin/vaultctl-secret old=$tmp/base/bin/vaultctl-secret

server_dir=$tmp/db
"$top/tests/harness/setup.sh" "$server_dir" >"$tmp/setup.log" 2>&1 ||
	{ cat "$tmp/setup.log" >&2; die "cannot start MariaDB"; }
export VAULTCTL_CONFIG=$server_dir/vaultctl.cnf VAULTCTL_USER=bench@example.com
org() { "$top/bin/vaultctl-org" -q "$@" >/dev/null; }
org user add "$VAULTCTL_USER" --no-password
sql "$server_dir" "INSERT INTO plans (id, name, description, price, billing_cycle,
	 secrets_limit, features, created_at, updated_at) VALUES (UUID(),
	 'free', '', 0, 'monthly', NULL, NULL, NOW(), NOW())"
org create bench
org project create bench/api
org env create bench/api/prod
REF=bench/api/prod/ONE
printf '%s' "$(head -c 24 /dev/urandom | base64)" >"$tmp/value"
"$new" -q set "$REF" <"$tmp/value"

# timed FILE CMD...: one run, its milliseconds appended to FILE.
timed() {
	local f=$1 t0 t1
	shift
	t0=$EPOCHREALTIME
	"$@" >/dev/null 2>"$tmp/err" || { cat "$tmp/err" >&2; die "$* failed"; }
	t1=$EPOCHREALTIME
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) * 1000 }' >>"$f"
}

get_with() { "$1" get "$REF"; }
set_with() { "$1" -q set "$REF" <"$tmp/value"; }

per=$(((RUNS + ROUNDS - 1) / ROUNDS))
for op in get set; do
	for ((r = 0; r < ROUNDS; r++)); do
		for side in $((r % 2)) $((1 - r % 2)); do
			bin=$([[ $side == 0 ]] && echo "$new" || echo "$old")
			for ((i = 0; i < per; i++)); do
				timed "$tmp/$op.$side" "${op}_with" "$bin"
			done
		done
	done
done

missed=0
printf '%s and set of one secret, local store (medians of %d runs each, %d alternating rounds)\n' \
	get "$RUNS" "$ROUNDS"
for op in get set; do
	a=$(printf '%.2f' "$(median "$tmp/$op.0")")
	b=$(printf '%.2f' "$(median "$tmp/$op.1")")
	ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }')
	verdict=$(awk -v r="$ratio" 'BEGIN { print (r <= 1.05 ? "met" : "MISSED") }')
	[[ $verdict == met ]] || missed=1
	printf '  %-4s this tree %8s ms   %s %8s ms   ratio %s (goal <= 1.0, 5%% noise: %s)\n' \
		"$op" "$a" "$BASE" "$b" "$ratio" "$verdict"
done
[[ ${STRICT:-0} == 0 || $missed == 0 ]]
