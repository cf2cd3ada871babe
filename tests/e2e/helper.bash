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
	# The tools' own files (the shell's history) go to the test's
	# directory, not the real home, and are scanned with its logs.
	export XDG_STATE_HOME=$VC_TEST_DIR/state
	if ! "$REPO/tests/harness/setup.sh" "$VC_TEST_DIR" "$@"; then
		# bats may not run teardown_file after a failed setup_file.
		vc_server_stop
		return 1
	fi
}

vc_server_stop() {
	local keep
	[[ -n ${VC_TEST_DIR:-} && -d $VC_TEST_DIR ]] || return 0
	[[ -z $VC_HYGIENE_OUT ]] || keep=$(vc_hygiene_server)
	"$REPO/tests/harness/mariadb.sh" stop "$VC_TEST_DIR"
	[[ -z $VC_HYGIENE_OUT ]] || vc_hygiene_files "$keep"
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

# VC_READS: every read of a value the audit holds, one row each, for
# "SELECT ... FROM $VC_READS r": seq (of the audit row), organization_id,
# user_id, secret_id, version, details (the audit row's).  A get writes
# a row about the secret; a bulk read one row about the environment and
# its reads in audit_reads (vaultctl-audit(1), Reads).
VC_READS="(SELECT a.seq, a.organization_id, a.user_id, a.resource_id AS
	secret_id, CAST(JSON_VALUE(a.details, '$.version') AS INT) AS version,
	a.details FROM audit_logs a WHERE a.action = 'secret.read' AND
	a.resource_type = 'secret' UNION ALL SELECT a.seq, a.organization_id,
	a.user_id, r.secret_id, r.version, a.details FROM audit_logs a JOIN
	audit_reads r ON r.seq = a.seq WHERE a.action = 'secret.read' AND
	a.resource_type = 'environment')"

# vc_reads: how many reads of values the audit holds.
vc_reads() {
	vc_sql "SELECT COUNT(*) FROM $VC_READS r"
}

# vc_cnf_group FILE GROUP: the lines of one group of an option file.
vc_cnf_group() {
	awk -v g="$2" '
		/^[ \t]*\[/ { s = $0; gsub(/^[ \t]*\[[ \t]*|[ \t]*\].*$/, "", s); in_g = (s == g); next }
		in_g' "$1"
}

# vc_sql_as ACCOUNT SQL: run SQL in the database as one of the four accounts
# (vault_mysql_user, vault_storage_user, secrets_api_user, monitoring_user),
# with the connection settings and password of the file sql/install.sh
# wrote them to: $VAULTCTL_CONFIG, the file its admin_config names, or,
# with the Vault backend, $VAULTCTL_CONFIG.vault-storage.  The lines are
# copied as they are, so the password is read back exactly as the tools'
# libmariadb reads it.
vc_sql_as() {
	local account=$1 group file=$VAULTCTL_CONFIG cnf rc=0
	case $account in
	vault_mysql_user)
		group=vaultctl-admin
		file=$(vc_cnf_group "$VAULTCTL_CONFIG" vaultctl | sed -n 's/^admin_config = //p')
		;;
	vault_storage_user)
		group=vaultctl-values
		grep -q '^\[vaultctl-values\]' "$file" || file=$VAULTCTL_CONFIG.vault-storage
		;;
	secrets_api_user) group=vaultctl-metadata ;;
	monitoring_user) group=vaultctl-monitoring ;;
	*) printf 'vc_sql_as: unknown account %s\n' "$account" >&2; return 2 ;;
	esac
	cnf=$(umask 077 && mktemp "$VC_TEST_DIR/as.XXXXXX")
	{
		printf '[client]\n'
		vc_cnf_group "$file" client
		vc_cnf_group "$file" "$group"
	} >"$cnf"
	mariadb --defaults-file="$cnf" "$VC_DATABASE" -N -B -e "$2" || rc=$?
	rm -f "$cnf"
	return "$rc"
}

# refused CODE PATTERN CMD...: CMD exits CODE, names the problem (PATTERN)
# on stderr, prints nothing on stdout, and changes no table: the test file
# defines `checksum`, the tables it watches.  Standard input is closed, so
# a confirmation is never answered by accident.  A refusal (exit 4) is
# audited: the audit trail may gain its ACTION.denied or auth.failed row
# (and the usage counters count it), nothing else.
refused() {
	local code=$1 pattern=$2 before after
	shift 2
	before=$(refused_state "$code")
	run --separate-stderr "$@" </dev/null
	after=$(refused_state "$code")
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

refused_state() {
	if [ "$1" -ne 4 ]; then
		checksum
		return
	fi
	checksum | grep -vE '[.`](audit_logs|audit_chain_heads|usage_statistics)\b'
	vc_sql "SELECT COUNT(*) FROM audit_logs WHERE action NOT LIKE '%.denied'
		AND action NOT IN ('auth.failed', 'audit.epoch')"
}

# ok CMD...: CMD succeeds (stderr shown when it does not).
ok() {
	run --separate-stderr "$@"
	[ "$status" -eq 0 ] || { echo "$*: exit $status: $stderr"; return 1; }
}

# --- secret hygiene (issue 10) ---------------------------------------------
# With VC_HYGIENE_DIR set (tests/run.sh sets it), each bats file leaves in
# $VC_HYGIENE_OUT what tests/harness/hygiene.py scans after the whole
# suite: the command line and output of every `run` (runs.log), and for
# each server when it stops its tables, logs and the values its store
# holds; emu_stop adds the Vault emulator's data.  See hygiene.py for the
# rules.
VC_HYGIENE_OUT=
if [[ -n ${VC_HYGIENE_DIR:-} ]]; then
	VC_HYGIENE_OUT=$VC_HYGIENE_DIR/${BATS_TEST_FILENAME##*/}
	[[ -d $VC_HYGIENE_OUT ]] || mkdir -p "$VC_HYGIENE_OUT"
	export VC_GENERAL_LOG=1     # tests/harness/mariadb.sh
fi

# vc_hygiene_fail MESSAGE: a collection step failed; the scan reports it
# (a scan of what was not collected would pass for nothing).
vc_hygiene_fail() {
	printf '%s\n' "$1" >>"$VC_HYGIENE_OUT/errors"
}

# vc_hygiene_server: while the server runs, into a directory of its own
# (printed): every table of the database, including vc_values, whose
# ciphertext must not hold a plaintext either; the names the tests gave
# (to name a value's owner, and so that a value that is also a name is
# not taken for a leak); and every value of the local store, from the
# table and from the general log (tests/tools/vc-values).
vc_hygiene_server() {
	local out cnf=$VC_TEST_DIR/admin.cnf
	out=$(mktemp -d "$VC_HYGIENE_OUT/server.XXXXXX")
	mariadb-dump --defaults-file="$cnf" --skip-comments --skip-dump-date \
		"$VC_DATABASE" >"$out/tables.sql" 2>"$out/dump.err" ||
		vc_hygiene_fail "mariadb-dump: $(head -c 300 "$out/dump.err")"
	mariadb --defaults-file="$cnf" "$VC_DATABASE" -N -B -e "
		SELECT 'org', id, name FROM organizations UNION ALL
		SELECT 'project', id, name FROM projects UNION ALL
		SELECT 'env', id, name FROM environments UNION ALL
		SELECT 'secret', id, name FROM secret_metadata UNION ALL
		SELECT 'user', id, email FROM users UNION ALL
		SELECT 'plan', id, name FROM plans" >"$out/names.tsv" 2>>"$out/dump.err" ||
		vc_hygiene_fail "names: $(head -c 300 "$out/dump.err")"
	rm -f "$out/dump.err"
	if [[ ! -x $REPO/tests/tools/vc-values ]]; then
		vc_hygiene_fail "tests/tools/vc-values is not built (make tests)"
	elif [[ -f $VC_TEST_DIR/vaultctl.cnf ]]; then
		"$REPO/tests/tools/vc-values" -c "$VC_TEST_DIR/vaultctl.cnf" \
			${VC_GENERAL_LOG:+--log "$VC_TEST_DIR/general.log"} \
			>"$out/values.tsv" 2>"$out/values.err" ||
			vc_hygiene_fail "vc-values: $(head -c 300 "$out/values.err")"
	fi
	printf '%s' "$out"
}

# vc_hygiene_files DIR: once the server has stopped, its logs (error log,
# general query log with every statement and every prepared statement's
# parameters), the emulator's request log and output, and the tools' own
# files (the shell's history), of this server and of any other one a
# test ran below $VC_TEST_DIR.  Linked, not copied: the general log is
# large.
vc_hygiene_files() {
	local out=$1 f rel
	mkdir -p "$out/files"
	while IFS= read -r -d '' f; do
		rel=${f#"$VC_TEST_DIR"/}
		[[ $rel != */* ]] || mkdir -p "$out/files/${rel%/*}"
		ln -f "$f" "$out/files/$rel" 2>/dev/null || cp "$f" "$out/files/$rel"
	done < <(find "$VC_TEST_DIR" -path "$VC_TEST_DIR/*/data" -prune -o \
		-path "$VC_TEST_DIR/data" -prune -o -type f \( \
		-name '*.log' -o -name '*.out' -o -path '*/state/*' \) -print0)
}

# vc_hygiene_emu ADDR: the emulator's data, every version of every key
# (GET /_emulator/dump) and every value ever written (/_emulator/written),
# before it stops.
vc_hygiene_emu() {
	local f
	[[ -n $VC_HYGIENE_OUT ]] || return 0
	f=$(mktemp "$VC_HYGIENE_OUT/emu-dump.XXXXXX")
	curl -s --max-time 10 -o "$f" "$1/_emulator/dump" ||
		vc_hygiene_fail "no dump from the Vault emulator at $1"
	# Also what is gone: purged, destroyed and pruned versions.
	f=$(mktemp "$VC_HYGIENE_OUT/emu-written.XXXXXX")
	curl -s --max-time 10 -o "$f" "$1/_emulator/written" ||
		vc_hygiene_fail "no write history from the Vault emulator at $1"
}

# vc_hygiene_run ARGS: appends one record to runs.log: a header line
# "VCRUN test status M|S" and the lengths in bytes of five fields, then
# the fields: the test's name, the command's words (each ended by a NUL),
# the body of the command when it is a shell function, $output, and
# $stderr when run had --separate-stderr (S) rather than merged (M).
vc_hygiene_run() {
	local LC_ALL=C mode=M err= body= w n=0 desc=${BATS_TEST_DESCRIPTION-}
	while [[ $# -gt 0 && ( $1 == -* || $1 == '!' ) ]]; do
		[[ $1 == --separate-stderr ]] && mode=S err=${stderr-}
		[[ $1 == -- ]] && { shift; break; }
		shift
	done
	for w; do n=$((n + ${#w} + 1)); done
	[[ $# -eq 0 ]] || ! declare -F "$1" >/dev/null || body=$(declare -f "$1")
	{
		printf 'VCRUN %s %s %s %d %d %d %d %d\n' "${BATS_TEST_NUMBER:-0}" \
			"$status" "$mode" "${#desc}" "$n" \
			"${#body}" "${#output}" "${#err}"
		printf '%s' "$desc"
		[[ $# -eq 0 ]] || printf '%s\0' "$@"
		printf '%s%s%s\n' "$body" "$output" "$err"
	} >>"$VC_HYGIENE_OUT/runs.log"
}

# bats' own run, renamed: the one below calls it with the same arguments,
# so -N, !, --separate-stderr and --keep-empty-lines keep their meaning,
# then records what ran.  bats sources this file again in every test: the
# guard keeps the wrapper from renaming itself.
if ! declare -F vc_bats_run >/dev/null; then
	vc_def=$(declare -f run)
	eval "vc_bats_run ${vc_def#run }"
	unset vc_def
	run() {
		local vc_rc=0
		vc_bats_run "$@" || vc_rc=$?
		[[ -z $VC_HYGIENE_OUT ]] || vc_hygiene_run "$@"
		return "$vc_rc"
	}
fi
