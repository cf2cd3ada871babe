#!/usr/bin/env bash
# Benchmark: one `vaultctl-secret get` as a whole process, against the
# stock `mariadb` client running `SELECT 1` on the same server, in the same
# run (the least a database call can do).  Personal mode with the local
# store and with the Vault emulator; then host mode (local store): a copy
# of the tree installed setgid into a temporary PREFIX and SYSCONFDIR, a
# temporary group and login (removed at exit), both commands run as that
# login by a hyperfine that runs as the login too, so that the switch to
# the login is not measured.  The host part needs root; without it, it is
# skipped, loudly.
# Each figure is the median of RUNS runs, taken in ROUNDS rounds in which
# the two sides take turns.
# Goals: ratio <= 1.0 (local, host), <= 1.5 (emulator); peak RSS under
# 10 MB.
#
#   bench/secret_get.sh        RUNS=60 ROUNDS=6 to change
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
RUNS=${RUNS:-60}
ROUNDS=${ROUNDS:-6}
DIR=$(mktemp -d /tmp/vaultctl-bench.XXXXXX)
EMU=""
HOST_GROUP="" HOST_LOGIN=""     # set once created: removed at exit
cleanup() {
	[ -z "$EMU" ] || kill "$EMU" 2>/dev/null || true
	tests/harness/mariadb.sh stop "$DIR" >/dev/null 2>&1 || true
	tests/harness/mariadb.sh stop "$DIR/host/db" >/dev/null 2>&1 || true
	[ -z "$HOST_LOGIN" ] || userdel "$HOST_LOGIN" >/dev/null 2>&1 ||
		echo "bench: cannot remove the login $HOST_LOGIN" >&2
	[ -z "$HOST_GROUP" ] || groupdel "$HOST_GROUP" >/dev/null 2>&1 ||
		echo "bench: cannot remove the group $HOST_GROUP" >&2
	rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
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

# run_times JSON N FILE: appends the seconds of each run of hyperfine's command
# N to FILE.
run_times() {
	/usr/bin/python3 -c 'import json, sys
for t in json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]["times"]:
	print(t)' "$1" "$2" >>"$3"
}
median() {  # FILE of numbers, one a line
	sort -g "$1" | awk '{ a[NR] = $1 } END { print NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
# measure LABEL GET ADMIN_CNF JSON [RUNNER...]: GET (a vaultctl-secret)
# against the mariadb client with ADMIN_CNF, hyperfine and /usr/bin/time
# started by RUNNER (nothing: this process), hyperfine's figures in JSON.
# The two take turns in ROUNDS rounds, the first of a round alternating:
# on a shared machine the load drifts, and a side measured wholly before
# the other would take all of the drift.  Medians, not means: a neighbour's
# burst makes a few runs ten times slower.
measure() {
	local label=$1 get=$2 cnf=$3 json=$4 per r a b rss
	local cmd=("$get get acme/api/prod/DB_URL" "mariadb --defaults-file=$cnf -e 'SELECT 1'")
	shift 4
	per=$(((RUNS + ROUNDS - 1) / ROUNDS))
	: >"$DIR/$label.get"
	: >"$DIR/$label.base"
	for ((r = 0; r < ROUNDS; r++)); do
		if ((r % 2 == 0)); then
			"$@" hyperfine -N -w 2 -r "$per" --export-json "$json" "${cmd[0]}" "${cmd[1]}" >/dev/null
			run_times "$json" 0 "$DIR/$label.get"
			run_times "$json" 1 "$DIR/$label.base"
		else
			"$@" hyperfine -N -w 2 -r "$per" --export-json "$json" "${cmd[1]}" "${cmd[0]}" >/dev/null
			run_times "$json" 1 "$DIR/$label.get"
			run_times "$json" 0 "$DIR/$label.base"
		fi
	done
	a=$(median "$DIR/$label.get")
	b=$(median "$DIR/$label.base")
	rss=$("$@" /usr/bin/time -f %M "$get" get acme/api/prod/DB_URL 2>&1 >/dev/null | tail -1)
	printf '%-9s get %.2f ms   mariadb SELECT 1 %.2f ms   ratio %.2f   peak RSS %s KiB\n' \
		"$label" "$(echo "$a*1000" | bc -l)" "$(echo "$b*1000" | bc -l)" \
		"$(echo "$a/$b" | bc -l)" "$rss"
}
measure local vaultctl-secret "$DIR/admin.cnf" "$DIR/h.json"

# The same secret in the Vault emulator.
/usr/bin/python3 tests/vault/emulator.py --listen 127.0.0.1:0 --port-file "$DIR/emu.port" --token bench-token 2>/dev/null &
EMU=$!
for _ in $(seq 100); do [ -s "$DIR/emu.port" ] && break; sleep 0.1; done
export VAULT_ADDR="http://127.0.0.1:$(cat "$DIR/emu.port")" VAULT_TOKEN=bench-token
sed -i 's/^backend = local$/backend = vault/' "$VAULTCTL_CONFIG"
vaultctl-secret purge acme/api/prod/DB_URL --yes -q 2>/dev/null || true
printf 'postgres://db.internal/app' | vaultctl-secret set acme/api/prod/DB_URL -q
measure emulator vaultctl-secret "$DIR/admin.cnf" "$DIR/h.json"

# ---- host mode ----

if [ "$(id -u)" != 0 ]; then
	echo "host      SKIPPED: not measured"
	echo "bench: host mode NOT MEASURED: it needs root (useradd, a setgid install); run this script as root for its figures" >&2
	exit 0
fi
kill "$EMU" 2>/dev/null || true
wait "$EMU" 2>/dev/null || true
EMU=""
tests/harness/mariadb.sh stop "$DIR" >/dev/null
unset VAULT_ADDR VAULT_TOKEN VAULTCTL_CONFIG VAULTCTL_USER

# The group and the login: names of this run, made here (never an existing
# one, which cleanup would remove).
H=$DIR/host tag=vcb$$
chmod 711 "$DIR"                    # the socket and the files, for the login
mkdir -m 711 "$H"
! getent group "$tag" >/dev/null && ! getent passwd "${tag}u" >/dev/null ||
	{ echo "bench: $tag or ${tag}u exists already" >&2; exit 1; }
groupadd "$tag"
HOST_GROUP=$tag
useradd --no-create-home --home-dir "$H/home" --shell /bin/sh "${tag}u"
HOST_LOGIN=${tag}u
mkdir -m 700 "$H/home"
chown "$HOST_LOGIN:" "$H/home"

# A copy of the tree, installed setgid with SYSCONFDIR of its own: the
# repository's bin/ stays as it is.
mkdir "$H/src"
{ git ls-files -co --exclude-standard -z 2>/dev/null ||
	find . -path ./.git -prune -o -type f ! -name '*.[oad]' -print0; } |
	xargs -0 tar -c --ignore-failed-read 2>/dev/null | tar -x -C "$H/src"
make -C "$H/src" -s -j2 install PREFIX="$H/prefix" SYSCONFDIR="$H/etc" \
	GROUP="$HOST_GROUP" >"$H/install.log" 2>&1 || { cat "$H/install.log" >&2; exit 1; }
HB=$H/prefix/bin
chmod 755 "$H/prefix" "$H/etc"

# A server of its own, configured by install.sh for the group.
tests/harness/mariadb.sh start "$H/db" >/dev/null
chmod 711 "$H/db"
sql/install.sh --defaults-file "$H/db/admin.cnf" --config-out "$H/etc/vaultctl/vaultctl.cnf" \
	--group "$HOST_GROUP" >"$H/sql-install.log" 2>&1 || { cat "$H/sql-install.log" >&2; exit 1; }
"$HB/vaultctl-org" user add root@example.com --no-password -q
export VAULTCTL_USER=root@example.com
"$HB/vaultctl-org" user add bench@example.com --no-password --login "$HOST_LOGIN" -q
"$HB/vaultctl-plan" create free --price 0 --cycle monthly -q
"$HB/vaultctl-org" create acme -q
"$HB/vaultctl-org" project create acme/api -q
"$HB/vaultctl-org" env create acme/api/prod -q
"$HB/vaultctl-org" member add acme bench@example.com --role member -q
printf 'postgres://db.internal/app' | "$HB/vaultctl-secret" set acme/api/prod/DB_URL -q
unset VAULTCTL_USER

# The baseline's option file, a copy the login can read.
install -m 600 -o "$HOST_LOGIN" "$H/db/admin.cnf" "$H/home/admin.cnf"
as=(runuser -u "$HOST_LOGIN" -- env -i PATH=/usr/bin:/bin HOME="$H/home" LANG=C.UTF-8)
[ "$("${as[@]}" "$HB/vaultctl-secret" get acme/api/prod/DB_URL)" = postgres://db.internal/app ] ||
	{ echo "bench: get as $HOST_LOGIN does not give the value" >&2; exit 1; }
measure host "$HB/vaultctl-secret" "$H/home/admin.cnf" "$H/home/h.json" "${as[@]}"
