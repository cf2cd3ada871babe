#!/usr/bin/env bash
# vault_bulk.sh - bulk read of N secrets through the Vault store
# (libcurl multi, CONC in flight) against wrk fetching the same GET URLs
# over CONC kept-alive connections, both against one emulator in the same
# run.  The Python emulator is the bottleneck of both: the ratio measures
# what the client adds.  Goal: ratio >= 0.8.
#
#   bench/vault_bulk.sh        N=1000 CONC=8 ROUNDS=5 DURATION=5 to change
set -eu

N=${N:-1000}
CONC=${CONC:-8}
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5}
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vault_bulk.XXXXXX")
emu_pid=

cleanup() {
	[ -n "$emu_pid" ] && kill "$emu_pid" 2>/dev/null && wait "$emu_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

command -v wrk >/dev/null || { echo "vault_bulk: wrk is not installed" >&2; exit 1; }

${CC:-cc} -std=c11 -O2 -Wall -Wextra -Werror -I"$top/lib" -o "$tmp/vault_bulk" \
	"$top/bench/vault_bulk.c" "$top/lib/vc.c" "$top/lib/store.c" \
	"$top"/lib/vault*.c -lcurl -lcjson -lsodium

/usr/bin/python3 "$top/tests/vault/emulator.py" --listen 127.0.0.1:0 \
	--port-file "$tmp/port" --token bench-token 2>"$tmp/emulator.log" &
emu_pid=$!
for _ in $(seq 100); do
	[ -s "$tmp/port" ] && break
	sleep 0.05
done
[ -s "$tmp/port" ] || { echo "vault_bulk: the emulator did not start" >&2; exit 1; }
export VAULT_ADDR="http://127.0.0.1:$(cat "$tmp/port")" VAULT_TOKEN=bench-token

"$tmp/vault_bulk" put "$N"
"$tmp/vault_bulk" paths "$N" >"$tmp/paths"
read -r store_best store_median < <("$tmp/vault_bulk" get "$N" "$ROUNDS" "$CONC")

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
VB_PATHS="$tmp/paths" wrk -t2 -c"$CONC" -d"${DURATION}s" -s "$tmp/paths.lua" \
	"$VAULT_ADDR" >"$tmp/wrk.out"
if grep -q "Non-2xx" "$tmp/wrk.out"; then
	echo "vault_bulk: wrk got error answers:" >&2
	cat "$tmp/wrk.out" >&2
	exit 1
fi
wrk_rate=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$tmp/wrk.out")

echo "vault bulk read: $N secrets, concurrency $CONC, python emulator"
echo "  store get_many   $store_best req/s best of $ROUNDS (median $store_median)"
echo "  wrk baseline     $wrk_rate req/s (-t2 -c$CONC -d${DURATION}s)"
awk -v s="$store_best" -v w="$wrk_rate" \
	'BEGIN { printf "  ratio            %.2f (goal >= 0.80)\n", s / w }'
