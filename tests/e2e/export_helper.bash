# Shared by 25-export.bats and 26-import-run.bats: organizations with a
# given quota, the hard corpus of tests/e2e/roundtrip loaded through the
# real CLI, and the export formats' refusal lists (taken from check.sh, the
# single place where they are written down).
#
#   load helper
#   load export_helper
#
# Values are compared as files (cmp), never through $(...), which would
# drop NUL bytes and trailing newlines.

# shellcheck disable=SC2034,SC2154 # used by the .bats files; set by bats' run
bats_require_minimum_version 1.5.0

X_ADMIN=admin@example.com
X_ROUNDTRIP=$REPO/tests/e2e/roundtrip
X_FORMATS="sh dotenv json yaml docker env0"

# expected_refusals FORMAT: the corpus names FORMAT must refuse, read from
# check.sh so that the two never disagree.
eval "$(sed -n '/^expected_refusals() {$/,/^}$/p' "$X_ROUNDTRIP/check.sh")"
declare -F expected_refusals >/dev/null ||
	{ echo "export_helper: no expected_refusals() in check.sh" >&2; return 1; }

# x_bootstrap: the first user (global admin), acting for every command
# unless a test says otherwise.
x_bootstrap() {
	vaultctl-org -q user add "$X_ADMIN" --no-password >/dev/null
	export VAULTCTL_USER=$X_ADMIN
}

# x_org ORG LIMIT [ENV...]: an organization on a plan of its own with LIMIT
# secrets (NULL: unlimited), a project api and the environments ENV...
# (default prod).
x_org() {
	local org=$1 limit=$2 e
	shift 2
	vc_sql "INSERT INTO plans (id, name, description, price, billing_cycle,
		secrets_limit, features, created_at, updated_at) VALUES (UUID(),
		'plan-$org', '', 0, 'monthly', $limit, NULL, NOW(), NOW())"
	vaultctl-org -q create "$org" --plan "plan-$org" >/dev/null
	vaultctl-org -q project create "$org/api" >/dev/null
	[ $# -gt 0 ] || set -- prod
	for e do
		vaultctl-org -q env create "$org/api/$e" >/dev/null
	done
}

# x_here LIMIT [ENV...]: a fresh organization for the running test; sets
# ORG and ENV ($ORG/api/ of the first environment, default prod).
x_here() {
	ORG=x$BATS_TEST_NUMBER
	x_org "$ORG" "$@"
	ENV=$ORG/api/${2:-prod}
}

# x_put REF VALUE: sets a value given as text (printf is a builtin: the
# value is in no process's argv).
x_put() {
	printf '%s' "$2" | vaultctl-secret -q set "$1"
}

# x_load ENV DIR: sets every file of DIR as the secret of that name.
x_load() {
	local f
	for f in "$2"/*; do
		vaultctl-secret -q set "$1/${f##*/}" --from-file "$f" </dev/null ||
			{ echo "cannot set $1/${f##*/}"; return 1; }
	done
}

# x_corpus DIR: writes the hard corpus into DIR.
x_corpus() {
	"$X_ROUNDTRIP/corpus.sh" "$1"
}

# x_accepted FORMAT DIR: the names of DIR's files that FORMAT accepts, one
# per line.
x_accepted() {
	local refused f
	refused=" $(expected_refusals "$1") "
	for f in "$2"/*; do
		[[ $refused == *" ${f##*/} "* ]] || printf '%s\n' "${f##*/}"
	done
}

# x_names_csv: stdin's lines joined with commas (for --only).
x_names_csv() {
	paste -sd, -
}

# x_same ENV_A ENV_B NAME...: get gives the same bytes for NAME in both.
x_same() {
	local a=$1 b=$2 n ta=$BATS_TEST_TMPDIR/same.a tb=$BATS_TEST_TMPDIR/same.b
	shift 2
	for n do
		vaultctl-secret get "$a/$n" >"$ta" || { echo "get $a/$n failed"; return 1; }
		vaultctl-secret get "$b/$n" >"$tb" || { echo "get $b/$n failed"; return 1; }
		cmp "$ta" "$tb" || { echo "$n differs between $a and $b"; return 1; }
	done
}

# x_got REF FILE: get writes exactly FILE's bytes.
x_got() {
	local out=$BATS_TEST_TMPDIR/got
	vaultctl-secret get "$1" >"$out" || { echo "get $1 failed"; return 1; }
	cmp "$2" "$out" || { echo "$1: got $(od -c "$out" | head -3)"; return 1; }
}

# x_got_text REF TEXT: get writes exactly TEXT.
x_got_text() {
	printf '%s' "$2" >"$BATS_TEST_TMPDIR/want"
	x_got "$1" "$BATS_TEST_TMPDIR/want"
}

# x_names ENV: the environment's secret names, sorted, one per line.
x_names() {
	vaultctl-secret list "$1" -o tsv | cut -f1 | LC_ALL=C sort
}

# x_checksum: the metadata tables a refused command must leave as they were.
x_checksum() {
	vc_sql "CHECKSUM TABLE secret_metadata, vc_values EXTENDED"
}

# x_meta_count ORG: live secrets of an organization.
x_meta_count() {
	vc_sql "SELECT COUNT(*) FROM secret_metadata sm JOIN organizations o
		ON o.id = sm.organization_id WHERE o.name = '$1'
		AND sm.deleted_at IS NULL"
}

# x_version REF: secret_metadata.version of a secret.
x_version() {
	local org proj env name
	IFS=/ read -r org proj env name <<<"$1"
	vc_sql "SELECT sm.version FROM secret_metadata sm
		JOIN environments e ON e.id = sm.environment
		JOIN projects p ON p.id = e.project_id
		JOIN organizations o ON o.id = p.organization_id
		WHERE o.name = '$org' AND p.name = '$proj' AND e.name = '$env'
		AND sm.name = '$name'"
}

# status_is N: the last `run` exited N (with its output shown when not).
status_is() {
	[[ $status == "$1" ]] || { echo "exit $status, expected $1; output: $output"; return 1; }
}
