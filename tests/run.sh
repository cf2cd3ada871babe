#!/usr/bin/env bash
# Runs every test of the suite and ends with one line "N passed, N failed".
# Usage: tests/run.sh [unit|e2e|all] [bats files...]
# Servers (MariaDB, the Vault emulator) are started here or by each bats
# file, in temporary directories, and always stopped again.
set -u
cd "$(dirname "$0")/.."
REPO=$PWD
what=${1:-all}
shift || true
PASS=0 FAIL=0
LOG=$(mktemp -d /tmp/vaultctl-tests.XXXXXX)
PY=/usr/bin/python3

# The suite owns its environment.  What a user may have exported for real
# use must not reach the tools or sql/install.sh under test: the accounts'
# passwords install.sh honours, the tools' own variables (VAULTCTL_*,
# VAULT_*), what libmariadb reads (MYSQL_*, MARIADB_*) and where the tools
# look for their configuration.  Each test sets what it depends on.
for v in $(compgen -e); do
	case $v in
	VAULTCTL_* | VAULT_* | MYSQL_* | MARIADB_* | XDG_CONFIG_HOME | NO_COLOR | \
		SECRETS_API_PASSWORD | MONITORING_PASSWORD) unset "$v" ;;
	esac
done
# make check VALGRIND=1: every vaultctl binary the e2e tests run goes
# through valgrind memcheck (tests/harness/valgrind-wrap.sh, via helper.bash).
if [ "${VC_VALGRIND:-}" = 1 ]; then
	export VC_VALGRIND VC_VALGRIND_DIR="$LOG/valgrind/bin" VC_VALGRIND_LOG="$LOG/valgrind/logs"
fi

# Counts the TAP lines of one test program's output; a program that fails
# without saying which test failed counts as one failure.
tally() {
	local name=$1 out=$2 rc=$3 ok notok
	ok=$(grep -cE '^ok ' "$out")
	notok=$(grep -cE '^not ok ' "$out")
	if [ "$rc" -ne 0 ] && [ "$notok" -eq 0 ]; then
		notok=1
		echo "not ok - $name exited $rc without a failing test" >>"$out"
	fi
	if [ "$ok" -eq 0 ] && [ "$notok" -eq 0 ]; then
		notok=1
		echo "not ok - $name ran no test" >>"$out"
	fi
	PASS=$((PASS + ok))
	FAIL=$((FAIL + notok))
	printf '%-40s %4d passed, %d failed\n' "$name" "$ok" "$notok"
	[ "$notok" -eq 0 ] || grep -E '^not ok|^#' "$out" | head -40 | sed 's/^/    /'
}

run_tap() {   # name command...
	local name=$1 out
	shift
	out="$LOG/$(echo "$name" | tr '/ ' '__').tap"
	CMOCKA_MESSAGE_OUTPUT=TAP "$@" >"$out" 2>&1
	tally "$name" "$out" $?
}

SERVER_DIR="" EMU_PID=""
cleanup() {
	[ -z "$EMU_PID" ] || kill "$EMU_PID" 2>/dev/null
	[ -z "$SERVER_DIR" ] || tests/harness/mariadb.sh stop "$SERVER_DIR" >/dev/null 2>&1
	[ -z "$SERVER_DIR" ] || rm -rf "$SERVER_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_emulator() {
	local pf="$LOG/emu.port"
	export VC_TEST_TOKEN=root-test-token
	$PY tests/vault/emulator.py --listen 127.0.0.1:0 --port-file "$pf" \
		--token "$VC_TEST_TOKEN" --approle test-role:test-secret \
		2>"$LOG/emulator.log" &
	EMU_PID=$!
	for _ in $(seq 100); do [ -s "$pf" ] && break; sleep 0.1; done
	export VAULT_ADDR="http://127.0.0.1:$(cat "$pf")"
	export VC_TEST_EMULATOR=$VAULT_ADDR VAULT_TOKEN=$VC_TEST_TOKEN
	export VC_TEST_APPROLE=test-role:test-secret
}

unit() {
	local t needs_server=0
	for t in tests/unit/test_*.c; do
		t=${t%.c}
		case $t in
		*/test_store|*/test_vault) needs_server=1 ;;
		*) run_tap "unit/${t##*/}" "$t" ;;
		esac
	done
	run_tap "fuzz/regress" bash tests/fuzz/regress.sh
	[ "$needs_server" -eq 1 ] || return 0
	SERVER_DIR=$(mktemp -d /tmp/vaultctl-db.XXXXXX)
	if ! tests/harness/setup.sh "$SERVER_DIR" >"$LOG/setup.log" 2>&1; then
		echo "not ok - cannot start MariaDB for the unit tests" >"$LOG/setup.tap"
		cat "$LOG/setup.log" >>"$LOG/setup.tap"
		tally "unit/setup" "$LOG/setup.tap" 1
		return
	fi
	start_emulator
	if [ -x tests/unit/test_store ]; then
		VC_TEST_STORE=local VC_TEST_CNF=$SERVER_DIR/vaultctl.cnf \
			run_tap "unit/test_store (local)" tests/unit/test_store
		VC_TEST_STORE=vault run_tap "unit/test_store (vault)" tests/unit/test_store
	fi
	if [ -x tests/unit/test_vault ]; then
		run_tap "unit/test_vault (http/1.1)" tests/unit/test_vault
		VC_TEST_CURL=1 run_tap "unit/test_vault (libcurl)" tests/unit/test_vault
	fi
	cleanup
	SERVER_DIR="" EMU_PID=""
}

e2e() {
	local f files=("$@")
	[ ${#files[@]} -gt 0 ] || files=(tests/e2e/*.bats)
	# Each bats file leaves its tables, logs, outputs and values here
	# (tests/e2e/helper.bash); the hygiene scan reads them all at the end.
	export VC_HYGIENE_DIR="$LOG/hygiene"
	mkdir -p "$VC_HYGIENE_DIR"
	for f in "${files[@]}"; do
		run_tap "e2e/${f##*/}" bats --tap ${BATS_FILTER:+--filter "$BATS_FILTER"} "$f"
	done
	if [ -z "$(ls -A "$VC_HYGIENE_DIR")" ]; then
		# Only files without a server ran (51-docs, say).
		echo "# hygiene: no bats file started a server; nothing to scan"
	else
		run_tap "e2e/hygiene" $PY tests/harness/hygiene.py "$VC_HYGIENE_DIR"
		grep '^# hygiene:' "$LOG/e2e_hygiene.tap"
	fi
	# Kept when the scan failed (or with VC_KEEP); the general logs take
	# some 130 MB.
	[[ -n ${VC_KEEP:-} ]] || ! grep -q '^ok ' "$LOG/e2e_hygiene.tap" 2>/dev/null ||
		grep -q '^not ok ' "$LOG/e2e_hygiene.tap" || rm -rf "$VC_HYGIENE_DIR"
	[ ! -x tests/vault/test_emulator.sh ] ||
		run_tap "vault/test_emulator.sh" tests/vault/test_emulator.sh
}

manlint() {
	local out="$LOG/man.tap" n=0 m
	: >"$out"
	for m in man/*.[1-8]; do
		[ -f "$m" ] || continue
		n=$((n + 1))
		if mandoc -Tlint -W warning "$m" >"$LOG/mandoc.txt" 2>&1; then
			echo "ok $n - mandoc -Tlint $m" >>"$out"
		else
			echo "not ok $n - mandoc -Tlint $m" >>"$out"
			sed 's/^/# /' "$LOG/mandoc.txt" >>"$out"
		fi
	done
	[ "$n" -eq 0 ] || tally "man/lint" "$out" 0
}

case $what in
unit) unit ;;
e2e) e2e "$@" ;;
*) unit; e2e "$@"; manlint ;;
esac

if [ "${VC_VALGRIND:-}" = 1 ]; then
	tests/harness/valgrind-wrap.sh --report "$VC_VALGRIND_LOG" >"$LOG/valgrind.txt" 2>&1 ||
		FAIL=$((FAIL + 1))
	head -n 80 "$LOG/valgrind.txt"
fi
echo "logs: $LOG"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
