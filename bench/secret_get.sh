#!/usr/bin/env bash
# Benchmark: one `vaultctl-secret get` as a whole process, against the
# stock `mariadb` client running `SELECT 1` on the same server, in the same
# run (the least a database call can do).  Local store and Vault emulator.
# Goals: ratio <= 1.0 (local), <= 1.5 (emulator); peak RSS under 10 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
RUNS=${RUNS:-60}
DIR=$(mktemp -d /tmp/vaultctl-bench.XXXXXX)
EMU=""
cleanup() {
	[ -z "$EMU" ] || kill "$EMU" 2>/dev/null || true
	tests/harness/mariadb.sh stop "$DIR" >/dev/null 2>&1 || true
	rm -rf "$DIR"
}
trap cleanup EXIT
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }
make -s all
export PATH="$REPO/bin:$PATH" VAULTCTL_CONFIG=$DIR/vaultctl.cnf VAULTCTL_USER=bench@example.com
tests/harness/setup.sh "$DIR" >/dev/null
vaultctl-org user add bench@example.com --no-password -q
mariadb --defaults-file="$DIR/admin.cnf" docksky_vault -e "INSERT INTO plans (id,name,description,price,billing_cycle,secrets_limit,features,created_at,updated_at) VALUES (UUID(),'free','',0,'monthly',NULL,NULL,NOW(),NOW())"
vaultctl-org create acme -q
vaultctl-org project create acme/api -q
vaultctl-org env create acme/api/prod -q
printf 'postgres://db.internal/app' | vaultctl-secret set acme/api/prod/DB_URL -q

mean() {  # hyperfine JSON -> mean seconds of command N
	/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]["mean"])' "$1" "$2"
}
measure() {  # label
	hyperfine -N -w 5 -r "$RUNS" --export-json "$DIR/h.json" \
		"vaultctl-secret get acme/api/prod/DB_URL" \
		"mariadb --defaults-file=$DIR/admin.cnf -e 'SELECT 1'" >/dev/null
	local a b rss
	a=$(mean "$DIR/h.json" 0)
	b=$(mean "$DIR/h.json" 1)
	rss=$(/usr/bin/time -f %M vaultctl-secret get acme/api/prod/DB_URL 2>&1 >/dev/null | tail -1)
	printf '%-9s get %.2f ms   mariadb SELECT 1 %.2f ms   ratio %.2f   peak RSS %s KiB\n' \
		"$1" "$(echo "$a*1000" | bc -l)" "$(echo "$b*1000" | bc -l)" \
		"$(echo "$a/$b" | bc -l)" "$rss"
}
measure local

# The same secret in the Vault emulator.
/usr/bin/python3 tests/vault/emulator.py --listen 127.0.0.1:0 --port-file "$DIR/emu.port" --token bench-token 2>/dev/null &
EMU=$!
for _ in $(seq 100); do [ -s "$DIR/emu.port" ] && break; sleep 0.1; done
export VAULT_ADDR="http://127.0.0.1:$(cat "$DIR/emu.port")" VAULT_TOKEN=bench-token
sed -i 's/^backend = local$/backend = vault/' "$VAULTCTL_CONFIG"
vaultctl-secret purge acme/api/prod/DB_URL --yes -q 2>/dev/null || true
printf 'postgres://db.internal/app' | vaultctl-secret set acme/api/prod/DB_URL -q
measure emulator
