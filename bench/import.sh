#!/usr/bin/env bash
# bench/import.sh - `vaultctl-secret import --overwrite` of N changed
# values (default 1000), measured against two baselines in the same run:
#
#   1. local store: the import against the mariadb client writing N
#      name/value rows in one transaction (one multi-row INSERT ... ON
#      DUPLICATE KEY UPDATE into a scratch table).  Goal: ratio <= 4.
#   2. Vault store (tests/vault/emulator.py): the import against
#      `curl --parallel --parallel-max CONC` sending the same N KV v2
#      writes over kept-alive connections.  Goal: ratio <= 1.5.
#
# Every measured run changes every value: the runs alternate between two
# files of N different values.  The two sides of a goal take turns in
# ROUNDS rounds (the first of a round alternating), so that the machine's
# drift falls on both alike; figures are medians.
#
#   bench/import.sh          N=1000 RUNS=10 ROUNDS=5 CONC=8 to change
#   STRICT=1 bench/import.sh exit 1 when a goal is missed
set -euo pipefail

N=${N:-1000}
RUNS=${RUNS:-10}
ROUNDS=${ROUNDS:-5}
CONC=${CONC:-8}
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/lib.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vc-bench-import.XXXXXX")
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

command -v curl >/dev/null || die "curl is not installed"
make -s -C "$top" bin/vaultctl-org bin/vaultctl-secret >/dev/null ||
	die "cannot build the tools"
export PATH="$top/bin:$PATH"

# timed NAME COMMAND...: runs COMMAND once (output discarded) and appends
# its seconds to $tmp/NAME.times.
timed() {
	local name=$1 t0 t1
	shift
	t0=$(date +%s%N)
	"$@" >/dev/null 2>"$tmp/$name.err" ||
		{ cat "$tmp/$name.err" >&2; die "$name failed"; }
	t1=$(date +%s%N)
	awk -v t=$((t1 - t0)) 'BEGIN { printf "%.9f\n", t / 1e9 }' \
		>>"$tmp/$name.times"
}

# server DIR [--backend vault]: a MariaDB server set up by install.sh, an
# organization "bench" (unlimited plan), project api, environment prod.
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
}

# Two files of N secrets S0001.. with 48-byte random values (base64: no
# quoting needed), every value different between them.
for f in a b; do
	head -c $((N * 36)) /dev/urandom | base64 -w 48 | head -n "$N" |
		awk '{ printf "S%04d=%s\n", NR, $0 }' >"$tmp/$f.env"
	[[ $(wc -l <"$tmp/$f.env") -eq $N ]] || die "cannot generate $N values"
done

# import FILE: the measured command.
import() {
	vaultctl-secret -q import bench/api/prod --overwrite --file "$1" \
		--concurrency "$CONC"
}

# rounds NAME_A CMD_A NAME_B CMD_B: ROUNDS rounds of RUNS/ROUNDS runs of
# each side, each run of a side with the other file than its run before
# (both sides start at a.env).
rounds() {
	local per=$(((RUNS + ROUNDS - 1) / ROUNDS)) r i who f=(a a)
	for ((r = 0; r < ROUNDS; r++)); do
		for who in $((r % 2)) $((1 - r % 2)); do
			for ((i = 0; i < per; i++)); do
				f[who]=$([[ ${f[who]} == a ]] && echo b || echo a)
				if ((who == 0)); then
					timed "$1" "$2" "${f[who]}"
				else
					timed "$3" "$4" "${f[who]}"
				fi
			done
		done
	done
}

# ---- 1. local store against the mariadb client ----

L=$tmp/local
server "$L"
import "$tmp/a.env" || die "the first import failed"
sql "$L" "CREATE TABLE bench_kv (name VARCHAR(255) PRIMARY KEY,
	value VARBINARY(4096) NOT NULL) ENGINE=InnoDB"
for f in a b; do
	awk -F= 'BEGIN { print "START TRANSACTION;"; printf "INSERT INTO bench_kv (name, value) VALUES " }
		{ printf "%s(\x27%s\x27, \x27%s\x27)", (NR > 1 ? "," : ""), $1, $2 }
		END { print " ON DUPLICATE KEY UPDATE value = VALUES(value);"; print "COMMIT;" }' \
		"$tmp/$f.env" >"$tmp/$f.sql"
done
mariadb_write() { mariadb --defaults-file="$L/admin.cnf" docksky_vault <"$tmp/$1.sql"; }
local_import() { import "$tmp/$1.env"; }
mariadb_write a
rounds local-import local_import local-mariadb mariadb_write
[[ $(sql "$L" "SELECT COUNT(*) FROM bench_kv") -eq $N ]] || die "bench_kv lost rows"
t_import=$(median "$tmp/local-import.times")
t_mariadb=$(median "$tmp/local-mariadb.times")
"$top/tests/harness/mariadb.sh" stop "$L" >/dev/null 2>&1
servers=()

# ---- 2. Vault store (emulator) against curl --parallel ----

V=$tmp/vault
"$PY" "$top/tests/vault/emulator.py" --listen 127.0.0.1:0 \
	--port-file "$tmp/emu.port" --token bench-token 2>"$tmp/emulator.log" &
emu_pid=$!
for _ in $(seq 100); do [[ -s $tmp/emu.port ]] && break; sleep 0.05; done
[[ -s $tmp/emu.port ]] || die "the Vault emulator did not start"
VAULT_ADDR="http://127.0.0.1:$(cat "$tmp/emu.port")"
export VAULT_ADDR VAULT_TOKEN=bench-token
server "$V" --backend vault
import "$tmp/a.env" || die "the first import failed"
mount=$(awk -F' *= *' '$1 == "mount" || $1 == "vault_mount" { print $2; exit }' \
	"$V/vaultctl.cnf")
mount=${mount:-secret}
# One curl config per file: N POSTs of KV v2 writes, as the tools send
# them (without check-and-set: curl cannot know the versions), each its
# own transfer (`next`), with its own headers.  Beside the tools' folder:
# writes there would move Vault's versions past the metadata's.
for f in a b; do
	awk -F= -v base="$VAULT_ADDR/v1/$mount/data/bench-curl/" -v tok="$VAULT_TOKEN" '
		NR > 1 { print "next" }
		{ printf "url = \"%s%s\"\nrequest = \"POST\"\n", base, $1
		  printf "header = \"X-Vault-Token: %s\"\n", tok
		  print "header = \"Content-Type: application/json\""
		  printf "data = \"{\\\"data\\\":{\\\"value\\\":\\\"%s\\\"}}\"\n", $2
		  print "output = \"/dev/null\""
		  print "fail-with-body" }' \
		"$tmp/$f.env" >"$tmp/$f.curl"
done
curl_write() {
	curl -sS --parallel --parallel-max "$CONC" -K "$tmp/$1.curl"
}
vault_import() { import "$tmp/$1.env"; }
curl_write a || die "curl's writes failed"
rounds vault-import vault_import vault-curl curl_write
t_vimport=$(median "$tmp/vault-import.times")
t_curl=$(median "$tmp/vault-curl.times")

# ---- figures ----

per=$(((RUNS + ROUNDS - 1) / ROUNDS))
awk -v n="$N" -v runs="$((per * ROUNDS))" -v rounds="$ROUNDS" -v conc="$CONC" \
	-v ti="$t_import" -v tm="$t_mariadb" -v tv="$t_vimport" -v tc="$t_curl" \
	-v strict="${STRICT:-}" '
BEGIN {
	r1 = ti / tm
	r2 = tv / tc
	printf "import --overwrite of %d changed values (medians of %d runs each, %d alternating rounds)\n", n, runs, rounds
	printf "local store\n"
	printf "  vaultctl-secret import          %8.1f ms\n", ti * 1000
	printf "  mariadb, %d rows in one txn   %8.1f ms\n", n, tm * 1000
	printf "  ratio                           %8.2f (goal <= 4.0: %s)\n", r1,
		r1 <= 4 ? "met" : "MISSED"
	printf "Vault emulator (concurrency %d)\n", conc
	printf "  vaultctl-secret import          %8.1f ms\n", tv * 1000
	printf "  curl --parallel-max %d          %8.1f ms\n", conc, tc * 1000
	printf "  ratio                           %8.2f (goal <= 1.5: %s)\n", r2,
		r2 <= 1.5 ? "met" : "MISSED"
	exit (strict != "" && (r1 > 4 || r2 > 1.5)) ? 1 : 0
}'
