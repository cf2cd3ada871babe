#!/usr/bin/env bash
# bench/inject.sh - `vaultctl-secret inject` of a template with N
# references (default 100), one per secret of an environment of N secrets,
# against `vaultctl-secret export` of the same N secrets, on the same data
# in the same run.  Goal: time ratio <= 1.2, on the local store and on the
# Vault store (tests/vault/emulator.py).
#
# The template is a YAML file, each secret's line
#   S0001: "{{ vaultctl://bench/api/prod/S0001 | yaml }}"
# and the export is `--format yaml`: the same values, escaped alike.
# Each store has its own MariaDB server (tests/harness/setup.sh), stopped
# again.  Times are medians: hyperfine when installed, else a loop with
# `date +%s%N`; the two commands take turns in ROUNDS rounds, so that the
# machine's drift falls on both alike.
#
#   bench/inject.sh        N=100 RUNS=30 ROUNDS=5 to change
#   STRICT=1 bench/inject.sh   exit 1 when a goal is missed
set -euo pipefail

N=${N:-100}
RUNS=${RUNS:-30}
ROUNDS=${ROUNDS:-5}
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/lib.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vc-bench-inject.XXXXXX")
PY=/usr/bin/python3
servers=() emu_pid=

cleanup() {
	if [[ -n $emu_pid ]]; then
		kill "$emu_pid" 2>/dev/null || true
		wait "$emu_pid" 2>/dev/null || true
	fi
	for d in "${servers[@]}"; do
		"$top/tests/harness/mariadb.sh" stop "$d" >/dev/null 2>&1 || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

make -s -C "$top" bin/vaultctl-org bin/vaultctl-secret >/dev/null ||
	die "cannot build the tools"
export PATH="$top/bin:$PATH"

# run_times NAME RUNS WARMUP COMMAND...: as in bench/export.sh (the
# arguments hold no spaces).
run_times() {
	local name=$1 runs=$2 warmup=$3 i t0 t1
	shift 3
	if command -v hyperfine >/dev/null; then
		hyperfine -N --style none --warmup "$warmup" --runs "$runs" \
			--export-json "$tmp/$name.json" -- "$*" \
			>/dev/null 2>"$tmp/hyperfine.err" ||
			{ cat "$tmp/hyperfine.err" >&2; die "hyperfine failed for $name"; }
		jq -r '.results[0].times[]' "$tmp/$name.json" >>"$tmp/$name.times"
		return
	fi
	for ((i = 0; i < warmup; i++)); do
		"$@" >/dev/null || die "$name failed"
	done
	for ((i = 0; i < runs; i++)); do
		t0=$(date +%s%N)
		"$@" >/dev/null || die "$name failed"
		t1=$(date +%s%N)
		awk -v t=$((t1 - t0)) 'BEGIN { printf "%.9f\n", t / 1e9 }' \
			>>"$tmp/$name.times"
	done
}

# server DIR [--backend vault]: a server with organization bench, project
# api, environment prod holding the N secrets.
server() {
	local dir=$1
	shift
	servers+=("$dir")
	"$top/tests/harness/setup.sh" "$dir" "$@" >"$tmp/setup.log" 2>&1 ||
		{ cat "$tmp/setup.log" >&2; die "cannot start MariaDB in $dir"; }
	export VAULTCTL_CONFIG=$dir/vaultctl.cnf VAULTCTL_USER=bench@example.com
	vaultctl-org -q user add "$VAULTCTL_USER" --no-password >/dev/null
	sql "$dir" "INSERT INTO plans (id, name, description, price, billing_cycle,
		secrets_limit, features, created_at, updated_at) VALUES (UUID(),
		'free', '', 0, 'monthly', NULL, NULL, NOW(), NOW())"
	vaultctl-org -q create bench >/dev/null
	vaultctl-org -q project create bench/api >/dev/null
	vaultctl-org -q env create bench/api/prod >/dev/null
	vaultctl-secret -q import bench/api/prod --file "$tmp/bench.env" ||
		die "import failed"
}

# N secrets S0001.. with 48-byte random values, and the template.
head -c $((N * 36)) /dev/urandom | base64 -w 48 | head -n "$N" |
	awk '{ printf "S%04d=%s\n", NR, $0 }' >"$tmp/bench.env"
[[ $(wc -l <"$tmp/bench.env") -eq $N ]] || die "cannot generate $N values"
cut -d= -f1 "$tmp/bench.env" |
	awk '{ printf "\"%s\": \"{{ vaultctl://bench/api/prod/%s | yaml }}\"\n", $1, $1 }' \
	>"$tmp/template.yaml"

# measure STORE: both commands in turns; checks first that they give the
# same document.
measure() {
	local store=$1 per r who
	vaultctl-secret inject -i "$tmp/template.yaml" >"$tmp/inject.out" ||
		die "$store: inject failed"
	vaultctl-secret export bench/api/prod --format yaml >"$tmp/export.out" ||
		die "$store: export failed"
	cmp -s <(sort "$tmp/inject.out") <(sort "$tmp/export.out") ||
		die "$store: inject and export give different documents"
	per=$(((RUNS + ROUNDS - 1) / ROUNDS))
	for ((r = 0; r < ROUNDS; r++)); do
		for who in $((r % 2)) $((1 - r % 2)); do
			if ((who == 0)); then
				run_times "$store-inject" "$per" 1 vaultctl-secret \
					inject -i "$tmp/template.yaml"
			else
				run_times "$store-export" "$per" 1 vaultctl-secret \
					export bench/api/prod --format yaml
			fi
		done
	done
	echo "$((per * ROUNDS))" >"$tmp/$store.runs"
}

server "$tmp/local"
measure local
"$top/tests/harness/mariadb.sh" stop "$tmp/local" >/dev/null 2>&1
servers=()

"$PY" "$top/tests/vault/emulator.py" --listen 127.0.0.1:0 \
	--port-file "$tmp/emu.port" --token bench-token 2>"$tmp/emulator.log" &
emu_pid=$!
for _ in $(seq 100); do [[ -s $tmp/emu.port ]] && break; sleep 0.05; done
[[ -s $tmp/emu.port ]] || die "the Vault emulator did not start"
export VAULT_ADDR="http://127.0.0.1:$(cat "$tmp/emu.port")" VAULT_TOKEN=bench-token
server "$tmp/vault" --backend vault
measure vault

tool=hyperfine
command -v hyperfine >/dev/null || tool="date +%s%N loop"
awk -v n="$N" -v tool="$tool" -v rounds="$ROUNDS" -v runs="$(cat "$tmp/local.runs")" \
	-v li="$(median "$tmp/local-inject.times")" \
	-v le="$(median "$tmp/local-export.times")" \
	-v vi="$(median "$tmp/vault-inject.times")" \
	-v ve="$(median "$tmp/vault-export.times")" -v strict="${STRICT:-}" '
function row(name, i, e,   r) {
	r = i / e
	printf "%s (%d runs each, in %d alternating rounds)\n", name, runs, rounds
	printf "  inject, %d references (yaml)  %8.1f ms\n", n, i * 1000
	printf "  export --format yaml          %8.1f ms\n", e * 1000
	printf "  ratio                         %8.2f (goal <= 1.2: %s)\n", r,
		r <= 1.2 ? "met" : "MISSED"
	return r
}
BEGIN {
	printf "inject of a template with %d references against export of the same %d secrets (medians, %s)\n", n, n, tool
	r1 = row("local store", li, le)
	r2 = row("Vault emulator", vi, ve)
	exit (strict != "" && (r1 > 1.2 || r2 > 1.2)) ? 1 : 0
}'
