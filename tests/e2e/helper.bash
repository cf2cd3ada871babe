# Shared by the end-to-end tests (bats): a private MariaDB server per test
# file, set up with sql/install.sh as a user would.
#
#   load helper
#   setup_file()    { vc_server_start; }           # [--backend local|vault]
#   teardown_file() { vc_server_stop; }
#
# vc_server_start exports VC_TEST_DIR (the server's directory),
# VAULTCTL_CONFIG (the configuration install.sh wrote) and puts the
# repository's bin/ first on PATH.  VC_KEEP=1 keeps the directory.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VC_DATABASE=docksky_vault
# VC_VALGRIND=1 (make check VALGRIND=1): links named like the binaries,
# first on PATH, run each one under valgrind (tests/harness/valgrind-wrap.sh).
VC_BIN=$REPO/bin
if [[ ${VC_VALGRIND:-} == 1 ]]; then
	VC_BIN=$("$REPO/tests/harness/valgrind-wrap.sh" --setup):$VC_BIN
	export PATH="$VC_BIN:$PATH"
fi

vc_server_start() {
	VC_TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/vc-e2e.XXXXXX")
	export VC_TEST_DIR
	export VAULTCTL_CONFIG=$VC_TEST_DIR/vaultctl.cnf
	export PATH="$VC_BIN:$PATH"
	if ! "$REPO/tests/harness/setup.sh" "$VC_TEST_DIR" "$@"; then
		# bats may not run teardown_file after a failed setup_file.
		vc_server_stop
		return 1
	fi
}

vc_server_stop() {
	[[ -n ${VC_TEST_DIR:-} && -d $VC_TEST_DIR ]] || return 0
	"$REPO/tests/harness/mariadb.sh" stop "$VC_TEST_DIR"
	if [[ -z ${VC_KEEP:-} ]]; then
		rm -rf "$VC_TEST_DIR"
	else
		{ printf '# kept %s\n' "$VC_TEST_DIR" >&3; } 2>/dev/null || true
	fi
}

# vc_sql SQL: run SQL in the database as the server's root.
vc_sql() {
	mariadb --defaults-file="$VC_TEST_DIR/admin.cnf" "$VC_DATABASE" -N -B -e "$1"
}

# vc_cnf_group FILE GROUP: the lines of one group of an option file.
vc_cnf_group() {
	awk -v g="$2" '
		/^[ \t]*\[/ { s = $0; gsub(/^[ \t]*\[[ \t]*|[ \t]*\].*$/, "", s); in_g = (s == g); next }
		in_g' "$1"
}

# vc_sql_as ACCOUNT SQL: run SQL in the database as one of the four accounts
# (vault_mysql_user, vault_storage_user, secrets_api_user, monitoring_user),
# with the connection settings and password of $VAULTCTL_CONFIG.  The lines
# are copied as they are, so the password is read back exactly as the
# tools' libmariadb reads it.
vc_sql_as() {
	local account=$1 group cnf rc=0
	case $account in
	vault_mysql_user) group=vaultctl-admin ;;
	vault_storage_user) group=vaultctl-values ;;
	secrets_api_user) group=vaultctl-metadata ;;
	monitoring_user) group=vaultctl-monitoring ;;
	*) printf 'vc_sql_as: unknown account %s\n' "$account" >&2; return 2 ;;
	esac
	cnf=$(umask 077 && mktemp "$VC_TEST_DIR/as.XXXXXX")
	{
		printf '[client]\n'
		vc_cnf_group "$VAULTCTL_CONFIG" client
		vc_cnf_group "$VAULTCTL_CONFIG" "$group"
	} >"$cnf"
	mariadb --defaults-file="$cnf" "$VC_DATABASE" -N -B -e "$2" || rc=$?
	rm -f "$cnf"
	return "$rc"
}

# refused CODE PATTERN CMD...: CMD exits CODE, names the problem (PATTERN)
# on stderr, prints nothing on stdout, and changes no table: the test file
# defines `checksum`, the tables it watches.  Standard input is closed, so
# a confirmation is never answered by accident.
refused() {
	local code=$1 pattern=$2 before after
	shift 2
	before=$(checksum)
	run --separate-stderr "$@" </dev/null
	after=$(checksum)
	if [ "$status" -ne "$code" ]; then
		echo "$*: exit $status, expected $code; stderr: $stderr"
		return 1
	fi
	if [[ $stderr != *"$pattern"* ]]; then
		echo "$*: stderr does not say '$pattern': $stderr"
		return 1
	fi
	if [ -n "$output" ]; then
		echo "$*: printed on stdout: $output"
		return 1
	fi
	if [ "$before" != "$after" ]; then
		echo "$*: tables changed:"
		diff <(echo "$before") <(echo "$after")
		return 1
	fi
}

# ok CMD...: CMD succeeds (stderr shown when it does not).
ok() {
	run --separate-stderr "$@"
	[ "$status" -eq 0 ] || { echo "$*: exit $status: $stderr"; return 1; }
}
