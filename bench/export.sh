#!/usr/bin/env bash
# bench/export.sh - `vaultctl-secret export` of N secrets (default 1000),
# filled by an import of a generated dotenv file, measured against two
# baselines on the same data:
#
#   1. local store: the export (`--format json`, to /dev/null) against the
#      mariadb client selecting the same N rows of vc_values as root.
#      Goal: time ratio <= 1.5.  Also reported: the ratio of each round's
#      medians (how far the machine's drift moved it), and what one export
#      adds to the audit trail (chained rows, and reads they list).
#   2. Vault store (tests/vault/emulator.py): the export's rate (N / time)
#      against wrk -t2 -cCONC fetching the same N GET URLs over kept-alive
#      connections.  The Python emulator is the bottleneck of both; the
#      ratio measures what the client adds.  Goal: rate ratio >= 0.8.
#
# Each part starts its own MariaDB server (tests/harness/setup.sh) and the
# Vault emulator, and stops them again.  Times are medians: hyperfine when
# installed, else a loop with `date +%s%N`.  A goal's two sides take turns
# in ROUNDS rounds, so that the machine's drift falls on both alike.
#
#   bench/export.sh        N=1000 RUNS=20 VRUNS=10 ROUNDS=5 CONC=8
#                          DURATION=10 (wrk seconds in all) to change
#   STRICT=1 bench/export.sh   exit 1 when a goal is missed
set -euo pipefail

N=${N:-1000}
RUNS=${RUNS:-20}
VRUNS=${VRUNS:-10}
ROUNDS=${ROUNDS:-5}
CONC=${CONC:-8}
DURATION=${DURATION:-10}
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/lib.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vc-bench-export.XXXXXX")
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

command -v wrk >/dev/null || die "wrk is not installed (apt-get install wrk)"
make -s -C "$top" bin/vaultctl-org bin/vaultctl-secret >/dev/null ||
	die "cannot build the tools"
export PATH="$top/bin:$PATH"

# words ARG...: the arguments quoted for hyperfine -N (POSIX single quotes).
words() {
	local a q=\' out=
	for a do
		out+="'${a//$q/$q\\$q$q}' "
	done
	printf '%s' "$out"
}

# run_times NAME RUNS WARMUP COMMAND...: runs COMMAND (output discarded)
# RUNS times after WARMUP unmeasured runs, and appends each run's seconds
# to $tmp/NAME.times.
run_times() {
	local name=$1 runs=$2 warmup=$3
	shift 3
	if command -v hyperfine >/dev/null; then
		hyperfine -N --style none --warmup "$warmup" --runs "$runs" \
			--export-json "$tmp/$name.json" -- "$(words "$@")" \
			>/dev/null 2>"$tmp/hyperfine.err" ||
			{ cat "$tmp/hyperfine.err" >&2; die "hyperfine failed for $name"; }
		jq -r '.results[0].times[]' "$tmp/$name.json" >>"$tmp/$name.times"
	else
		local i t0 t1
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
	fi
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

# The environment's folder in the value store.
env_prefix() {
	sql "$1" "SELECT CONCAT('organizations/', o.id, '/projects/', p.id,
		'/environments/', e.id, '/secrets/') FROM organizations o
		JOIN projects p ON p.organization_id = o.id
		JOIN environments e ON e.project_id = p.id
		WHERE o.name = 'bench' AND p.name = 'api' AND e.name = 'prod'"
}

# N secrets S0001.. with 48-byte random values (base64: no quoting needed).
head -c $((N * 36)) /dev/urandom | base64 -w 48 | head -n "$N" |
	awk '{ printf "S%04d=%s\n", NR, $0 }' >"$tmp/bench.env"
[[ $(wc -l <"$tmp/bench.env") -eq $N ]] || die "cannot generate $N values"

# fill DIR: imports the file, checks that export gives all N back; prints
# the import's seconds.
fill() {
	local t0 t1
	t0=$(date +%s%N)
	vaultctl-secret -q import bench/api/prod --file "$tmp/bench.env" ||
		die "import failed"
	t1=$(date +%s%N)
	[[ $(vaultctl-secret export bench/api/prod --format json | jq length) -eq $N ]] ||
		die "export does not give the $N secrets back"
	awk -v t=$((t1 - t0)) 'BEGIN { printf "%.3f\n", t / 1e9 }'
}

# ---- 1. local store against the mariadb client ----

L=$tmp/local
server "$L"
local_import=$(fill "$L")
prefix=$(env_prefix "$L")
select="SELECT path, version, nonce, ciphertext FROM vc_values WHERE path LIKE '$prefix%' AND deleted_at IS NULL AND destroyed = 0"
rows=$(mariadb --defaults-file="$L/admin.cnf" docksky_vault -N -B -e "$select" | wc -l)
[[ $rows -eq $N ]] || die "the SELECT gives $rows rows, not $N"
# The two commands take turns, ROUNDS rounds of RUNS/ROUNDS runs each, the
# first of a round alternating: the machine's speed drifts (a VM's
# neighbours, the server's background work after the import), and one
# command measured wholly before the other took all of the drift.
per=$(((RUNS + ROUNDS - 1) / ROUNDS))
for ((r = 0; r < ROUNDS; r++)); do
	for who in $((r % 2)) $((1 - r % 2)); do
		if ((who == 0)); then
			run_times local-export.$r "$per" 1 vaultctl-secret export \
				bench/api/prod --format json
		else
			run_times local-mariadb.$r "$per" 1 mariadb \
				--defaults-file="$L/admin.cnf" docksky_vault -N -B \
				-e "$select"
		fi
	done
	cat "$tmp/local-export.$r.times" >>"$tmp/local-export.times"
	cat "$tmp/local-mariadb.$r.times" >>"$tmp/local-mariadb.times"
	awk -v e="$(median "$tmp/local-export.$r.times")" \
		-v m="$(median "$tmp/local-mariadb.$r.times")" \
		'BEGIN { printf "%.2f\n", e / m }' >>"$tmp/local-rounds"
done
t_export=$(median "$tmp/local-export.times")
t_mariadb=$(median "$tmp/local-mariadb.times")
round_lo=$(sort -g "$tmp/local-rounds" | head -1)
round_hi=$(sort -g "$tmp/local-rounds" | tail -1)
# What one export adds to the audit trail.
audit_counts() {
	sql "$L" "SELECT (SELECT COUNT(*) FROM audit_logs),
		(SELECT COUNT(*) FROM audit_reads)"
}
read -r rows0 reads0 < <(audit_counts)
vaultctl-secret export bench/api/prod --format json >/dev/null
read -r rows1 reads1 < <(audit_counts)
audit_rows=$((rows1 - rows0)) audit_reads=$((reads1 - reads0))
"$top/tests/harness/mariadb.sh" stop "$L" >/dev/null 2>&1
servers=()

# ---- 2. Vault store (emulator) against wrk ----

V=$tmp/vault
"$PY" "$top/tests/vault/emulator.py" --listen 127.0.0.1:0 \
	--port-file "$tmp/emu.port" --token bench-token 2>"$tmp/emulator.log" &
emu_pid=$!
for _ in $(seq 100); do [[ -s $tmp/emu.port ]] && break; sleep 0.05; done
[[ -s $tmp/emu.port ]] || die "the Vault emulator did not start"
VAULT_ADDR="http://127.0.0.1:$(cat "$tmp/emu.port")"
export VAULT_ADDR VAULT_TOKEN=bench-token
server "$V" --backend vault
vault_import=$(fill "$V")
prefix=$(env_prefix "$V")
mount=$(awk -F' *= *' '$1 == "mount" || $1 == "vault_mount" { print $2; exit }' \
	"$V/vaultctl.cnf")
mount=${mount:-secret}
cut -d= -f1 "$tmp/bench.env" | sed "s|^|/v1/$mount/data/$prefix|" >"$tmp/paths"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Vault-Token: $VAULT_TOKEN" \
	"$VAULT_ADDR$(head -1 "$tmp/paths")")
[[ $code == 200 ]] || die "GET $(head -1 "$tmp/paths") answered $code"
cat >"$tmp/paths.lua" <<'LUA'
local paths, i = {}, 0
for line in io.lines(os.getenv("VB_PATHS")) do paths[#paths + 1] = line end
wrk.headers["X-Vault-Token"] = os.getenv("VAULT_TOKEN")
wrk.headers["X-Vault-Request"] = "true"
request = function()
	i = i % #paths + 1
	return wrk.format("GET", paths[i])
end
LUA
# Taking turns here too: the emulator's own rate drifts from run to run
# (4000 to 5600 requests/s seen), so each round has VRUNS/ROUNDS exports
# and a wrk run of DURATION/ROUNDS seconds (at least 1).
vper=$(((VRUNS + ROUNDS - 1) / ROUNDS))
wsec=$(((DURATION + ROUNDS - 1) / ROUNDS))
vaultctl-secret export bench/api/prod --format json --concurrency "$CONC" \
	>/dev/null || die "the warm-up export failed"
for ((r = 0; r < ROUNDS; r++)); do
	run_times vault-export "$vper" 0 vaultctl-secret export bench/api/prod \
		--format json --concurrency "$CONC"
	VB_PATHS=$tmp/paths wrk -t2 -c"$CONC" -d"${wsec}s" -s "$tmp/paths.lua" \
		"$VAULT_ADDR" >"$tmp/wrk.out"
	if grep -q "Non-2xx" "$tmp/wrk.out"; then
		cat "$tmp/wrk.out" >&2
		die "wrk got error answers"
	fi
	awk '/^Requests\/sec:/ { print $2 }' "$tmp/wrk.out" >>"$tmp/wrk.rates"
done
t_vexport=$(median "$tmp/vault-export.times")
wrk_rate=$(median "$tmp/wrk.rates")

# ---- figures ----

tool=hyperfine
command -v hyperfine >/dev/null || tool="date +%s%N loop"
awk -v n="$N" -v runs="$((per * ROUNDS))" -v vruns="$((vper * ROUNDS))" \
	-v rounds="$ROUNDS" -v conc="$CONC" -v d="$wsec" \
	-v te="$t_export" -v tm="$t_mariadb" -v li="$local_import" \
	-v lo="$round_lo" -v hi="$round_hi" -v ar="$audit_rows" -v ad="$audit_reads" \
	-v tv="$t_vexport" -v w="$wrk_rate" -v vi="$vault_import" \
	-v tool="$tool" -v strict="${STRICT:-}" '
BEGIN {
	r1 = te / tm
	rate = n / tv
	r2 = rate / w
	printf "export of %d secrets (medians, %s)\n", n, tool
	printf "local store (%d runs each, in %d alternating rounds)\n", runs, rounds
	printf "  import of the dotenv file     %8.3f s\n", li
	printf "  vaultctl-secret export json   %8.1f ms\n", te * 1000
	printf "  mariadb SELECT of the rows    %8.1f ms\n", tm * 1000
	printf "  ratio                         %8.2f (goal <= 1.5: %s)\n", r1,
		r1 <= 1.5 ? "met" : "MISSED"
	printf "  ratio of each round           %8s (lowest to highest)\n", lo "-" hi
	printf "  audit of one export           %8d chained rows, %d reads listed\n", ar, ad
	printf "Vault emulator (%d runs, concurrency %d, %d rounds with wrk)\n", vruns, conc, rounds
	printf "  import of the dotenv file     %8.3f s\n", vi
	printf "  vaultctl-secret export json   %8.1f ms = %.0f secrets/s\n", tv * 1000, rate
	printf "  wrk -t2 -c%d, %d x %ds         %8.0f req/s (median)\n", conc, rounds, d, w
	printf "  ratio                         %8.2f (goal >= 0.8: %s)\n", r2,
		r2 >= 0.8 ? "met" : "MISSED"
	exit (strict != "" && (r1 > 1.5 || r2 < 0.8)) ? 1 : 0
}'
