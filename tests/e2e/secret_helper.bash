# Shared by the vaultctl-secret tests (20-, 21-, 22-*.bats): organizations
# with a given quota, the value store seen from outside the tools, the Vault
# emulator, and the lifecycle tests that both stores must pass alike.
#
#   load helper
#   load secret_helper
#   VC_STORE=local          # or vault: which store the s_* helpers inspect
#
# Values are compared as files (cmp), never through $(...), which would
# drop NUL bytes and trailing newlines.

bats_require_minimum_version 1.5.0

VC_ADMIN=admin@example.com
PROMPT_AS=()

# --- Vault emulator --------------------------------------------------------

# emu_start: starts the emulator on a free port and exports VAULT_ADDR and
# VAULT_TOKEN for the tools (the environment wins over the configuration).
emu_start() {
	local pf=$VC_TEST_DIR/emu.port
	export VAULT_TOKEN=e2e-root-token
	# Its own output goes to a file: bats waits for every open copy of its
	# file descriptors before it ends.
	/usr/bin/python3 "$REPO/tests/vault/emulator.py" --listen 127.0.0.1:0 \
		--port-file "$pf" --token "$VAULT_TOKEN" \
		--log "$VC_TEST_DIR/emulator.log" \
		>"$VC_TEST_DIR/emulator.out" 2>&1 3>&- &
	echo $! >"$VC_TEST_DIR/emu.pid"
	for _ in $(seq 100); do [[ -s $pf ]] && break; sleep 0.05; done
	[[ -s $pf ]] || { echo "the Vault emulator did not start" >&2; return 1; }
	export VAULT_ADDR="http://127.0.0.1:$(cat "$pf")"
}

emu_stop() {
	local pid
	[[ -n ${VC_TEST_DIR:-} && -s $VC_TEST_DIR/emu.pid ]] || return 0
	pid=$(cat "$VC_TEST_DIR/emu.pid")
	vc_hygiene_emu "http://127.0.0.1:$(cat "$VC_TEST_DIR/emu.port")"
	kill "$pid" 2>/dev/null || true
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	rm -f "$VC_TEST_DIR/emu.pid"
}

# emu METHOD PATH [JSON]: one request (to /v1/... with the token, or to
# /_emulator/...); prints the body, sets EMU_STATUS.
emu() {
	local out=$VC_TEST_DIR/emu.body
	EMU_STATUS=$(curl -s -o "$out" -w '%{http_code}' -X "$1" \
		-H "X-Vault-Token: $VAULT_TOKEN" ${3:+-d "$3"} "$VAULT_ADDR$2")
	cat "$out"
}

# emu_fault JSON: registers a fault (tests/vault/emulator.py, control API).
emu_fault() {
	emu POST /_emulator/fault "$1" >/dev/null
	[[ $EMU_STATUS == 200 ]] || { echo "fault not registered: $1" >&2; return 1; }
}

emu_clear_faults() {
	emu DELETE /_emulator/faults >/dev/null
}

# --- organizations ---------------------------------------------------------

# s_bootstrap: the first user (global admin), acting for every command
# unless a test says otherwise.
s_bootstrap() {
	vaultctl-org user add "$VC_ADMIN" --no-password >/dev/null
	export VAULTCTL_USER=$VC_ADMIN
}

# s_org ORG LIMIT: an organization subscribed to a plan of its own with
# LIMIT secrets (NULL = unlimited), with project api and environment prod.
s_org() {
	vc_sql "INSERT INTO plans (id, name, description, price, billing_cycle,
		secrets_limit, features, created_at, updated_at) VALUES (UUID(),
		'plan-$1', '', 0, 'monthly', $2, NULL, NOW(), NOW())"
	vaultctl-org -q create "$1" --plan "plan-$1" >/dev/null
	vaultctl-org -q project create "$1/api" >/dev/null
	vaultctl-org -q env create "$1/api/prod" >/dev/null
}

# s_put REF VALUE: sets a value given as text (printf is a builtin: the
# value is in no process's argv).
s_put() {
	printf '%s' "$2" | vaultctl-secret -q set "$1"
}

# ids ORG/PROJECT/ENV: "org_id project_id env_id".
s_ids() {
	local o p e
	IFS=/ read -r o p e _ <<<"$1"
	vc_sql "SELECT CONCAT_WS(' ', o.id, p.id, e.id) FROM organizations o
		JOIN projects p ON p.organization_id = o.id
		JOIN environments e ON e.project_id = p.id
		WHERE o.name = '$o' AND p.name = '$p' AND e.name = '$e'"
}

# s_path ORG/PROJECT/ENV/NAME: the secret's path in the value store.
s_path() {
	local ids
	ids=$(s_ids "$1")
	set -- $ids "${1##*/}"
	printf 'organizations/%s/projects/%s/environments/%s/secrets/%s' "$@"
}

# s_env_prefix ORG/PROJECT/ENV: the environment's folder in the store.
s_env_prefix() {
	local ids
	ids=$(s_ids "$1")
	set -- $ids
	printf 'organizations/%s/projects/%s/environments/%s/secrets/' "$@"
}

# meta_version REF: secret_metadata.version ('' when there is no row).
meta_version() {
	local ids
	ids=$(s_ids "${1%/*}")
	set -- $ids "${1##*/}"
	vc_sql "SELECT version FROM secret_metadata WHERE project_id = '$2'
		AND environment = '$3' AND name = '$4'"
}

# meta_count ORG [live]: metadata rows of an organization.
meta_count() {
	vc_sql "SELECT COUNT(*) FROM secret_metadata sm JOIN organizations o
		ON o.id = sm.organization_id WHERE o.name = '$1'
		${2:+AND sm.deleted_at IS NULL}"
}

# audit_count ORG ACTION: audit rows of one action in an organization;
# for secret.read, the reads of values (VC_READS).
audit_count() {
	if [ "$2" = secret.read ]; then
		vc_sql "SELECT COUNT(*) FROM $VC_READS r JOIN organizations o
			ON o.id = r.organization_id WHERE o.name = '$1'"
		return
	fi
	vc_sql "SELECT COUNT(*) FROM audit_logs a JOIN organizations o
		ON o.id = a.organization_id WHERE o.name = '$1'
		AND a.action = '$2'"
}

# usage ORG: "secret_count api_calls" ("0 0" without a row).
usage() {
	vc_sql "SELECT CONCAT_WS(' ', COALESCE(MAX(u.secret_count), 0),
		COALESCE(MAX(u.api_calls), 0)) FROM organizations o
		LEFT JOIN usage_statistics u ON u.organization_id = o.id
		WHERE o.name = '$1'"
}

# checksums: every metadata table a failed write must leave as it was.
checksums() {
	vc_sql "CHECKSUM TABLE secret_metadata, audit_logs, audit_chain_heads,
		subscriptions EXTENDED"
	# Usage but for the API-call counters, which every command against
	# an organization bumps, metadata reads included (vaultctl-audit(1)).
	vc_sql "SELECT organization_id, secret_count FROM usage_statistics
		WHERE secret_count <> 0 ORDER BY organization_id"
}

# audit_kinds ORG: "refusals others": the organization's ACTION.denied
# audit rows, and all its other rows.
audit_kinds() {
	vc_sql "SELECT CONCAT_WS(' ', SUM(a.action LIKE '%.denied'),
		SUM(a.action NOT LIKE '%.denied')) FROM audit_logs a JOIN
		organizations o ON o.id = a.organization_id WHERE o.name = '$1'"
}

# --- the value store, seen from outside the tools -------------------------

# store_version REF: the store's current version of the secret (0: no key).
store_version() {
	local path
	path=$(s_path "$1")
	if [[ $VC_STORE == vault ]]; then
		emu GET "/v1/secret/metadata/$path" | jq -r '.data.current_version // 0'
	else
		vc_sql "SELECT COALESCE(MAX(current_version), 0) FROM
			vc_value_keys WHERE path = '$path'"
	fi
}

# store_versions REF: how many versions the store holds (0: no key).
store_versions() {
	local path
	path=$(s_path "$1")
	if [[ $VC_STORE == vault ]]; then
		emu GET "/v1/secret/metadata/$path" | jq -r '.data.versions // {} | length'
	else
		vc_sql "SELECT COUNT(*) FROM vc_values WHERE path = '$path'"
	fi
}

# store_keys ORG/PROJECT/ENV: how many secrets the store holds there.
store_keys() {
	local prefix
	prefix=$(s_env_prefix "$1")
	if [[ $VC_STORE == vault ]]; then
		emu LIST "/v1/secret/metadata/$prefix" | jq -r '.data.keys // [] | length'
	else
		vc_sql "SELECT COUNT(DISTINCT path) FROM vc_values
			WHERE path LIKE '$prefix%'"
	fi
}

# store_gone REF: the store has nothing at all for the secret: no row in
# vc_values or vc_value_keys; in Vault, its metadata reads as 404.
store_gone() {
	local path
	path=$(s_path "$1")
	if [[ $VC_STORE == vault ]]; then
		emu GET "/v1/secret/metadata/$path" >/dev/null
		[[ $EMU_STATUS == 404 ]] || { echo "metadata answered $EMU_STATUS"; return 1; }
	else
		[[ $(vc_sql "SELECT (SELECT COUNT(*) FROM vc_values WHERE path =
			'$path') + (SELECT COUNT(*) FROM vc_value_keys WHERE
			path = '$path')") == 0 ]]
	fi
}

# --- checks ----------------------------------------------------------------

# same_version REF N: metadata and store both at version N.
same_version() {
	local m s
	m=$(meta_version "$1")
	s=$(store_version "$1")
	[[ $m == "$2" && $s == "$2" ]] ||
		{ echo "$1: metadata version '$m', store '$s', expected $2"; return 1; }
}

# got_bytes REF FILE [get options]: get writes exactly FILE's bytes.
got_bytes() {
	local ref=$1 want=$2 out=$BATS_TEST_TMPDIR/got
	shift 2
	vaultctl-secret get "$ref" "$@" >"$out" || { echo "get $ref $* failed"; return 1; }
	cmp "$want" "$out"
}


# s_here LIMIT: a fresh organization for the running test; sets ORG and
# ENV (ORG/api/prod).
s_here() {
	ORG=t$BATS_TEST_NUMBER
	ENV=$ORG/api/prod
	s_org "$ORG" "$1"
}

# --- the lifecycle, alike on both stores ----------------------------------

# Every byte value, NULs and 0xff among them, and a trailing newline.
t_bytes_roundtrip() {
	local f=$BATS_TEST_TMPDIR/bin
	s_here 10
	printf '\0\377\0a\r\nb\n' >"$f"
	for i in $(seq 0 255); do printf "\\$(printf %03o "$i")"; done >>"$f"
	printf '\n\n' >>"$f"
	[ "$(stat -c %s "$f")" -eq 266 ]
	vaultctl-secret -q set "$ENV/BIN" <"$f"
	got_bytes "$ENV/BIN" "$f"
	same_version "$ENV/BIN" 1
	# The same bytes through --from-file, as a second version.
	printf 'x\0y' >>"$f"
	vaultctl-secret -q set "$ENV/BIN" --from-file "$f" </dev/null
	got_bytes "$ENV/BIN" "$f"
	same_version "$ENV/BIN" 2
}

t_empty_value() {
	s_here 10
	: | vaultctl-secret -q set "$ENV/EMPTY"
	: >"$BATS_TEST_TMPDIR/empty"
	got_bytes "$ENV/EMPTY" "$BATS_TEST_TMPDIR/empty"
	same_version "$ENV/EMPTY" 1
	run vaultctl-secret list "$ENV" -o tsv
	[[ $output == EMPTY$'\t'1$'\t'* ]]
}

# max_value_size (1 MiB in the test configuration) is accepted; one byte
# more is refused with exit 2 and nothing changes, for a new secret and for
# a new version of an existing one.
t_size_limit() {
	local max=$BATS_TEST_TMPDIR/max over=$BATS_TEST_TMPDIR/over before
	s_here 10
	head -c 1048576 /dev/urandom >"$max"
	{ cat "$max"; printf 'Z'; } >"$over"
	vaultctl-secret -q set "$ENV/BIG" <"$max"
	got_bytes "$ENV/BIG" "$max"
	vaultctl-secret -q set "$ENV/BIG" --from-file "$max" </dev/null
	same_version "$ENV/BIG" 2
	before=$(checksums)
	run -2 vaultctl-secret set "$ENV/BIG" <"$over"
	[[ $output == *"larger than 1048576 bytes"* ]]
	run -2 vaultctl-secret set "$ENV/BIG" --from-file "$over" </dev/null
	run -2 vaultctl-secret set "$ENV/NEW" <"$over"
	[ "$(checksums)" == "$before" ]
	same_version "$ENV/BIG" 2
	got_bytes "$ENV/BIG" "$max"
	[ -z "$(meta_version "$ENV/NEW")" ]
	store_gone "$ENV/NEW"
}

t_get_version() {
	local d=$BATS_TEST_TMPDIR
	s_here 10
	printf 'one\n' >"$d/1"
	printf 'two\0' >"$d/2"
	printf 'three' >"$d/3"
	for v in 1 2 3; do vaultctl-secret -q set "$ENV/V" <"$d/$v"; done
	for v in 1 2 3; do got_bytes "$ENV/V" "$d/$v" --version "$v"; done
	got_bytes "$ENV/V" "$d/3"
	run -3 vaultctl-secret get "$ENV/V" --version 4
	run -2 vaultctl-secret get "$ENV/V" --version 0
	run -2 vaultctl-secret get "$ENV/V" --version x
	same_version "$ENV/V" 3
}

# A secret that never existed and one that is soft-deleted are both "not
# found" (exit 3), and the message tells them apart.
t_not_found_messages() {
	s_here 10
	s_put "$ENV/GONE" gone
	vaultctl-secret -q rm "$ENV/GONE"
	run -3 vaultctl-secret get "$ENV/NEVER"
	[[ $output == *"cannot read secret '$ENV/NEVER': not found"* ]]
	[[ $output != *deleted* ]]
	run -3 vaultctl-secret get "$ENV/GONE"
	[[ $output == *"cannot read secret '$ENV/GONE'"*deleted* ]]
	run -3 vaultctl-secret get "$ORG/api/nope/X"
	[[ $output == *"'nope' not found"* ]]
	run -3 vaultctl-secret get "$ENV/NEVER" -o json
	[ "$(jq -r .error.exit <<<"$output")" == 3 ]
	[ "$(jq -r .error.code <<<"$output")" == not_found ]
	run -3 vaultctl-secret rm "$ENV/NEVER"
	run -3 vaultctl-secret history "$ENV/NEVER"
}

# Names compare case-insensitively (vaultctl(7), ADDRESSING): DB_URL and
# db_url are one secret, with one set of versions in the store.
t_case_insensitive() {
	s_here 10
	s_put "$ENV/Db_Url" first
	s_put "$ENV/DB_URL" second
	same_version "$ENV/Db_Url" 2
	printf second >"$BATS_TEST_TMPDIR/want"
	got_bytes "$ENV/db_url" "$BATS_TEST_TMPDIR/want"
	[ "$(meta_count "$ORG")" == 1 ]
	[ "$(store_keys "$ENV")" == 1 ]
	run -0 vaultctl-secret history "$ENV/db_url" -o tsv
	[ "${#lines[@]}" -eq 2 ]
	vaultctl-secret -q rm "$ENV/DB_URL"
	vaultctl-secret -q restore "$ENV/db_url"
	vaultctl-secret -q purge "$ENV/DB_url" --yes
	store_gone "$ENV/Db_Url"
	[ "$(meta_count "$ORG")" == 0 ]
}

t_invalid_input() {
	local before
	s_here 10
	before=$(checksums)
	# A value is never taken from the command line.
	run -2 vaultctl-secret set "$ENV/X" some-value </dev/null
	run -2 vaultctl-secret set "$ENV/1X" </dev/null
	run -2 vaultctl-secret set "$ENV/A-B" </dev/null
	run -2 vaultctl-secret set "$ENV/../X" </dev/null
	run -2 vaultctl-secret set "$ENV" </dev/null
	run -2 vaultctl-secret get "$ENV/X/Y"
	run -2 vaultctl-secret rotate "$ENV/X" --charset klingon
	run -2 vaultctl-secret rotate "$ENV/X" --length 0
	run -2 vaultctl-secret rollback "$ENV/X"
	run -2 vaultctl-secret set "$ENV/X" --reason "$(head -c 501 /dev/zero | tr '\0' r)" </dev/null
	run -3 vaultctl-secret set "$ENV/X" --from-file "$BATS_TEST_TMPDIR/missing" </dev/null
	[ "$(checksums)" == "$before" ]
	store_gone "$ENV/X"
}

# history merges the store's versions with the audit trail: author,
# action and --reason of each version.
t_history() {
	local h
	s_here 10
	vaultctl-org -q user add "member$BATS_TEST_NUMBER@example.com" --no-password
	vaultctl-org -q member add "$ORG" "member$BATS_TEST_NUMBER@example.com" --role member
	printf a | vaultctl-secret -q set "$ENV/H" --reason "initial load"
	printf b | vaultctl-secret -q --as "member$BATS_TEST_NUMBER@example.com" \
		set "$ENV/H" --reason 'why "quoted" \ too'
	vaultctl-secret -q rollback "$ENV/H" --to 1
	vaultctl-secret -q rotate "$ENV/H" --reason scheduled
	h=$(vaultctl-secret history "$ENV/H" -o json)
	[ "$(jq -c '[.[].version]' <<<"$h")" == '[4,3,2,1]' ]
	[ "$(jq -r '.[3] | "\(.author) \(.action) \(.reason) \(.state)"' <<<"$h")" == \
		"$VC_ADMIN secret.create initial load live" ]
	[ "$(jq -r '.[2] | "\(.author) \(.action) \(.reason)"' <<<"$h")" == \
		"member$BATS_TEST_NUMBER@example.com secret.update why \"quoted\" \\ too" ]
	[ "$(jq -r '.[1].action' <<<"$h")" == secret.rollback ]
	[ "$(jq -r '.[0] | "\(.action) \(.reason)"' <<<"$h")" == "secret.rotate scheduled" ]
	[[ $(jq -r '.[0].created_at' <<<"$h") =~ ^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$ ]]
	run -0 vaultctl-secret history "$ENV/H"
	[[ ${lines[0]} == VERSION*AUTHOR*REASON* ]]
	[[ ${lines[4]} == 1\ *live*"$VC_ADMIN"*"initial load"* ]]
	# After rm the versions are listed as deleted, not hidden.
	vaultctl-secret -q rm "$ENV/H"
	h=$(vaultctl-secret history "$ENV/H" -o json)
	[ "$(jq -r '.[0].state' <<<"$h")" == deleted ]
}

# rollback --to N writes version N's bytes as a new version.
t_rollback() {
	local d=$BATS_TEST_TMPDIR before
	s_here 10
	printf 'first\0\377' >"$d/1"
	printf 'second' >"$d/2"
	vaultctl-secret -q set "$ENV/R" <"$d/1"
	vaultctl-secret -q set "$ENV/R" <"$d/2"
	run -0 vaultctl-secret rollback "$ENV/R" --to 1 --reason "bad deploy"
	[[ $output == *"updated $ENV/R version 3"* ]]
	same_version "$ENV/R" 3
	got_bytes "$ENV/R" "$d/1"
	got_bytes "$ENV/R" "$d/2" --version 2
	[ "$(audit_count "$ORG" secret.rollback)" == 1 ]
	[ "$(vc_sql "SELECT JSON_VALUE(details, '$.from_version') FROM audit_logs
		WHERE action = 'secret.rollback' AND organization_id =
		(SELECT id FROM organizations WHERE name = '$ORG')")" == 1 ]
	before=$(checksums)
	run -3 vaultctl-secret rollback "$ENV/R" --to 9
	run -3 vaultctl-secret rollback "$ENV/NONE" --to 1
	[ "$(checksums)" == "$before" ]
	same_version "$ENV/R" 3
}

# rotate prints nothing unless --show; --length and --charset shape the
# value.
t_rotate() {
	local v
	s_here 10
	s_put "$ENV/K" initial
	run --separate-stderr -0 vaultctl-secret -q rotate "$ENV/K"
	[ -z "$output" ] && [ -z "$stderr" ]
	same_version "$ENV/K" 2
	v=$(vaultctl-secret get "$ENV/K")
	[[ $v =~ ^[A-Za-z0-9]{32}$ ]]
	run --separate-stderr -0 vaultctl-secret rotate "$ENV/K" --length 64 --charset hex
	[ -z "$output" ]
	[[ $stderr == *"updated $ENV/K version 3"* ]]
	v=$(vaultctl-secret get "$ENV/K")
	[[ $v =~ ^[0-9a-f]{64}$ ]]
	run --separate-stderr -0 vaultctl-secret -q rotate "$ENV/K" --length 100 --charset base64 --show
	[[ $output =~ ^[A-Za-z0-9+/]{100}$ ]]
	[ "$output" == "$(vaultctl-secret get "$ENV/K")" ]
	v=$(vaultctl-secret -q rotate "$ENV/K" --length 4096 --charset ascii --show)
	[ "${#v}" -eq 4096 ]
	[[ $v =~ ^[!-~]+$ ]]
	same_version "$ENV/K" 5
	[ "$(audit_count "$ORG" secret.rotate)" == 4 ]
	# Two rotations do not draw the same value.
	[ "$(vaultctl-secret -q rotate "$ENV/K" --show)" != "$(vaultctl-secret -q rotate "$ENV/K" --show)" ]
	# rotate creates a secret that does not exist yet.
	vaultctl-secret -q rotate "$ENV/NEW" --length 8
	same_version "$ENV/NEW" 1
}

# rm hides a secret from list and get (exit 3); restore brings the same
# bytes back.
t_rm_restore() {
	local d=$BATS_TEST_TMPDIR
	s_here 10
	printf 'keep\0me' >"$d/v"
	vaultctl-secret -q set "$ENV/A" <"$d/v"
	s_put "$ENV/B" b
	[ "$(usage "$ORG" | cut -d' ' -f1)" == 2 ]
	run -0 vaultctl-secret rm "$ENV/A"
	[[ $output == *"removed (restorable) $ENV/A"* ]]
	run -0 vaultctl-secret list "$ENV" -o json
	[ "$(jq -c '[.[].name]' <<<"$output")" == '["B"]' ]
	run -3 vaultctl-secret get "$ENV/A"
	run -3 vaultctl-secret get "$ENV/A" --version 1
	run -3 vaultctl-secret rm "$ENV/A"
	[ "$(meta_count "$ORG" live)" == 1 ]
	[ "$(usage "$ORG" | cut -d' ' -f1)" == 1 ]
	# The store keeps the version, marked deleted.
	[ "$(store_version "$ENV/A")" == 1 ]
	run -0 vaultctl-secret restore "$ENV/A"
	[[ $output == *"restored $ENV/A"* ]]
	got_bytes "$ENV/A" "$d/v"
	run -0 vaultctl-secret list "$ENV" -o json
	[ "$(jq -c '[.[].name]' <<<"$output")" == '["A","B"]' ]
	run -6 vaultctl-secret restore "$ENV/A"
	run -3 vaultctl-secret restore "$ENV/NEVER"
	[ "$(usage "$ORG" | cut -d' ' -f1)" == 2 ]
	# Writing a deleted secret brings it back as a new version.
	vaultctl-secret -q rm "$ENV/B"
	s_put "$ENV/B" b2
	same_version "$ENV/B" 2
	[ "$(meta_count "$ORG" live)" == 2 ]
	[ "$(audit_count "$ORG" secret.delete)" == 2 ]
	[ "$(audit_count "$ORG" secret.restore)" == 1 ]
}

# A soft-deleted secret does not count; restore checks the quota again.
t_restore_quota() {
	local before
	s_here 2
	s_put "$ENV/A" a
	s_put "$ENV/B" b
	vaultctl-secret -q rm "$ENV/A"
	s_put "$ENV/C" c
	before=$(checksums)
	run -5 vaultctl-secret restore "$ENV/A"
	[[ $output == *quota* ]]
	[ "$(checksums)" == "$before" ]
	run -3 vaultctl-secret get "$ENV/A"
	vaultctl-secret -q purge "$ENV/C" --yes
	vaultctl-secret -q restore "$ENV/A"
	printf a >"$BATS_TEST_TMPDIR/a"
	got_bytes "$ENV/A" "$BATS_TEST_TMPDIR/a"
}

# purge destroys every version and the metadata, and frees the quota.
t_purge() {
	local before
	s_here 1
	for v in 1 2 3; do s_put "$ENV/P" "v$v"; done
	[ "$(store_versions "$ENV/P")" == 3 ]
	# Not on a terminal: purge wants --yes and changes nothing without it.
	before=$(checksums)
	run -2 vaultctl-secret purge "$ENV/P" </dev/null
	[[ $output == *--yes* ]]
	[ "$(checksums)" == "$before" ]
	same_version "$ENV/P" 3
	run -0 vaultctl-secret purge "$ENV/P" --yes
	[[ $output == *"purged $ENV/P"* ]]
	[ "$(meta_count "$ORG")" == 0 ]
	store_gone "$ENV/P"
	run -3 vaultctl-secret get "$ENV/P"
	run -3 vaultctl-secret get "$ENV/P" --version 1
	run -3 vaultctl-secret purge "$ENV/P" --yes
	[ "$(audit_count "$ORG" secret.purge)" == 1 ]
	[ "$(usage "$ORG" | cut -d' ' -f1)" == 0 ]
	# The slot is free again, and the name starts over at version 1.
	s_put "$ENV/P" again
	same_version "$ENV/P" 1
	# A soft-deleted secret can be purged too.
	vaultctl-secret -q rm "$ENV/P"
	vaultctl-secret -q purge "$ENV/P" --yes
	store_gone "$ENV/P"
	[ "$(usage "$ORG" | cut -d' ' -f1)" == 0 ]
}

t_quota() {
	local before
	s_here 2
	s_put "$ENV/A" a
	s_put "$ENV/B" b
	before=$(checksums)
	run -5 vaultctl-secret set "$ENV/C" <<<c
	[[ $output == *"quota exceeded"*"2 of 2"* ]]
	run -5 vaultctl-secret rotate "$ENV/C"
	[ "$(checksums)" == "$before" ]
	store_gone "$ENV/C"
	# Updates of existing secrets do not need a free slot.
	s_put "$ENV/A" a2
	same_version "$ENV/A" 2
	# Deleted secrets do not count.
	vaultctl-secret -q rm "$ENV/B"
	s_put "$ENV/C" c
	run -5 vaultctl-secret set "$ENV/D" <<<d
	# An unlimited plan has no limit.
	vc_sql "UPDATE subscriptions s JOIN organizations o ON o.id =
		s.organization_id SET s.secrets_limit = NULL WHERE o.name = '$ORG'"
	s_put "$ENV/D" d
	[ "$(meta_count "$ORG" live)" == 3 ]
}

t_no_subscription() {
	local before
	s_here 10
	s_put "$ENV/A" a
	vc_sql "UPDATE subscriptions s JOIN organizations o ON o.id =
		s.organization_id SET s.status = 'cancelled' WHERE o.name = '$ORG'"
	before=$(checksums)
	run -5 vaultctl-secret set "$ENV/B" <<<b
	[[ $output == *"no active subscription"* ]]
	run -5 vaultctl-secret rotate "$ENV/B"
	[ "$(checksums)" == "$before" ]
	# Updates of existing secrets go on.
	s_put "$ENV/A" a2
	vaultctl-secret -q rm "$ENV/A"
	before=$(checksums)
	run -5 vaultctl-secret restore "$ENV/A"
	[ "$(checksums)" == "$before" ]
	store_gone "$ENV/B"
}

# Every read and write of a value leaves its audit row, never the value;
# usage counts the secrets and one API call per operation.
t_audit_usage() {
	local c0
	s_here 10
	calls() { usage "$ORG" | cut -d' ' -f2; }
	c0=$(calls)
	s_put "$ENV/A" audited-value-1
	s_put "$ENV/A" audited-value-2
	vaultctl-secret get "$ENV/A" >/dev/null
	vaultctl-secret get "$ENV/A" --version 1 >/dev/null
	vaultctl-secret -q rollback "$ENV/A" --to 1
	vaultctl-secret -q rotate "$ENV/A"
	vaultctl-secret -q rm "$ENV/A"
	vaultctl-secret -q restore "$ENV/A"
	vaultctl-secret -q purge "$ENV/A" --yes
	for a in create update purge rollback rotate delete restore; do
		[ "$(audit_count "$ORG" "secret.$a")" == 1 ] || { echo "secret.$a"; false; }
	done
	# rollback reads version 1 before writing it
	[ "$(audit_count "$ORG" secret.read)" -ge 2 ]
	[ "$(vc_sql "SELECT COUNT(*) FROM audit_logs WHERE details LIKE
		'%audited-value%'")" == 0 ]
	# The rows name the acting user, the secret and the tool.
	[ "$(vc_sql "SELECT COUNT(*) FROM audit_logs a JOIN users u ON
		u.id = a.user_id JOIN organizations o ON o.id = a.organization_id
		WHERE o.name = '$ORG' AND a.action LIKE 'secret.%' AND
		a.resource_type = 'secret' AND u.email = '$VC_ADMIN' AND
		a.user_agent LIKE 'vaultctl-secret%'")" == \
		"$(vc_sql "SELECT COUNT(*) FROM audit_logs a JOIN organizations o
		ON o.id = a.organization_id WHERE o.name = '$ORG' AND
		a.action LIKE 'secret.%'")" ]
	[ "$(( $(calls) - c0 ))" == "$(vc_sql "SELECT COUNT(*) FROM audit_logs a
		JOIN organizations o ON o.id = a.organization_id WHERE
		o.name = '$ORG' AND a.action LIKE 'secret.%'")" ]
	[ "$(usage "$ORG" | cut -d' ' -f1)" == 0 ]
}

# Roles of vaultctl(7), ROLES.
t_roles() {
	local n=$BATS_TEST_NUMBER before kinds
	s_here 10
	for r in viewer member admin; do
		vaultctl-org -q user add "$r$n@example.com" --no-password
		vaultctl-org -q member add "$ORG" "$r$n@example.com" --role "$r"
	done
	vaultctl-org -q user add "outsider$n@example.com" --no-password
	s_put "$ENV/A" a
	# Refusals change nothing but the audit trail, where each is one
	# ACTION.denied row (and the usage counters, which count them).
	before=$(vc_sql "CHECKSUM TABLE secret_metadata, subscriptions EXTENDED")
	kinds=$(audit_kinds "$ORG")
	export VAULTCTL_USER=viewer$n@example.com
	run -0 vaultctl-secret list "$ENV" -o tsv
	[[ $output == A$'\t'* ]]
	run -4 vaultctl-secret get "$ENV/A"
	run -4 vaultctl-secret history "$ENV/A"
	run -4 vaultctl-secret set "$ENV/A" <<<x
	run -4 vaultctl-secret rotate "$ENV/A"
	run -4 vaultctl-secret rollback "$ENV/A" --to 1
	run -4 vaultctl-secret rm "$ENV/A"
	export VAULTCTL_USER=outsider$n@example.com
	run -4 vaultctl-secret list "$ENV"
	run -4 vaultctl-secret get "$ENV/A"
	[ "$(vc_sql "CHECKSUM TABLE secret_metadata, subscriptions EXTENDED")" == "$before" ]
	[ "$(audit_kinds "$ORG")" == "$((${kinds% *} + 8)) ${kinds#* }" ]
	export VAULTCTL_USER=member$n@example.com
	s_put "$ENV/A" by-member
	vaultctl-secret get "$ENV/A" >/dev/null
	vaultctl-secret history "$ENV/A" >/dev/null
	vaultctl-secret -q rotate "$ENV/A"
	vaultctl-secret -q rollback "$ENV/A" --to 1
	run -4 vaultctl-secret rm "$ENV/A"
	run -4 vaultctl-secret purge "$ENV/A" --yes
	export VAULTCTL_USER=admin$n@example.com
	vaultctl-secret -q rm "$ENV/A"
	export VAULTCTL_USER=member$n@example.com
	run -4 vaultctl-secret restore "$ENV/A"
	export VAULTCTL_USER=admin$n@example.com
	vaultctl-secret -q restore "$ENV/A"
	vaultctl-secret -q purge "$ENV/A" --yes
	store_gone "$ENV/A"
}

# The store is a version ahead of the metadata (a commit lost after the
# store write): the next write's check-and-set says so with exit 6 and
# points at reconcile; nothing changes.
t_drift() {
	local path before
	s_here 10
	s_put "$ENV/D" d1
	path=$(s_path "$ENV/D")
	if [[ $VC_STORE == vault ]]; then
		emu POST "/v1/secret/data/$path" '{"options":{"cas":1},"data":{"value":"x"}}' >/dev/null
		[ "$EMU_STATUS" == 200 ]
	else
		vc_sql "INSERT INTO vc_values (path, version, nonce, ciphertext,
			created_at) SELECT path, 2, nonce, ciphertext, created_at
			FROM vc_values WHERE path = '$path' AND version = 1;
			UPDATE vc_value_keys SET current_version = 2
			WHERE path = '$path'"
	fi
	before=$(checksums)
	run -6 vaultctl-secret set "$ENV/D" <<<d2
	[[ $output == *"not at version 1"*reconcile* ]]
	[ "$(checksums)" == "$before" ]
	[ "$(store_version "$ENV/D")" == 2 ]
	[ "$(meta_version "$ENV/D")" == 1 ]
	# get serves no value the metadata does not describe: exit 8, nothing
	# printed, nothing audited; the versions the metadata knows still read.
	# Two real versions and the metadata left at 1: what a write whose
	# commit was lost leaves (a copied row of the local store would not
	# even decrypt).
	s_put "$ENV/G" g1
	s_put "$ENV/G" g2
	vc_sql "UPDATE secret_metadata SET version = 1 WHERE name = 'G' AND
		environment = '$(s_ids "$ENV" | cut -d' ' -f3)'"
	before=$(checksums)
	run --separate-stderr -8 vaultctl-secret get "$ENV/G"
	[ -z "$output" ]
	[[ $stderr == *"holds version 2 but the metadata records 1"*reconcile* ]]
	run -8 vaultctl-secret get "$ENV/G" --version 2
	[ "$(checksums)" == "$before" ]
	run -0 vaultctl-secret get "$ENV/G" --version 1
	[ "$output" == g1 ]
}

# store_mark REF deleted|undeleted: the store's current version marked so
# behind the tools' back, as an rm or restore whose metadata commit was
# lost leaves it.
store_mark() {
	local path v
	path=$(s_path "$1")
	v=$(store_version "$1")
	if [[ $VC_STORE == vault ]]; then
		emu POST "/v1/secret/${2%d}/$path" "{\"versions\":[$v]}" >/dev/null
		[ "$EMU_STATUS" == 204 ]
	else
		vc_sql "UPDATE vc_values SET deleted_at = $([[ $2 == deleted ]] &&
			echo 'UTC_TIMESTAMP(6)' || echo NULL) WHERE path = '$path'
			AND version = $v"
	fi
}

# The store and the metadata disagree on a secret being removed, at the
# same version: reconcile names each with the side that has it removed;
# --fix makes the store's version as the metadata has it (what the user
# was told and the audit recorded), one audit row each.
t_deleted_drift() {
	s_here 10
	s_put "$ENV/GONE" gone
	s_put "$ENV/LIVE" live
	s_put "$ENV/FINE" fine
	vaultctl-secret -q rm "$ENV/GONE"
	vaultctl-secret -q rm "$ENV/FINE"
	run -0 vaultctl-audit reconcile --org "$ORG"
	store_mark "$ENV/GONE" undeleted
	store_mark "$ENV/LIVE" deleted
	run -8 vaultctl-audit reconcile --org "$ORG" -o tsv
	[ "$(grep -c drift <<<"$output")" == 2 ]
	[[ $output == *deleted-state-drift$'\t'$ENV/GONE$'\t'1$'\t'1$'\t'*$'\t'metadata* ]]
	[[ $output == *deleted-state-drift$'\t'$ENV/LIVE$'\t'1$'\t'1$'\t'*$'\t'store* ]]
	run -3 vaultctl-secret get "$ENV/LIVE"
	run -0 vaultctl-audit reconcile --org "$ORG" --fix
	[[ $output == *GONE*"deleted the store's version 1, as the metadata has it"* ]]
	[[ $output == *LIVE*"undeleted the store's version 1, as the metadata has it"* ]]
	run -0 vaultctl-audit reconcile --org "$ORG"
	[ "$(audit_count "$ORG" secret.align_state)" == 2 ]
	run -0 vaultctl-secret get "$ENV/LIVE"
	[ "$output" == live ]
	run -3 vaultctl-secret get "$ENV/GONE"
	run -0 vaultctl-secret restore "$ENV/GONE"
	run -0 vaultctl-secret get "$ENV/GONE"
	[ "$output" == gone ]
	run -0 vaultctl-audit verify
}

# set --cas N: only if the secret is at version N (0: there is none), as
# the store's check-and-set; else exit 6 and nothing changes.
t_cas() {
	local before bad
	s_here 10
	before=$(checksums)
	for bad in -1 x 1.5 '' 2147483648; do
		run -2 vaultctl-secret set "$ENV/C" --cas "$bad" <<<v
		[[ $output == *"--cas must be a whole number from 0"* ]]
	done
	run -6 vaultctl-secret set "$ENV/C" --cas 1 <<<v
	[[ $output == *"--cas 1: the secret does not exist; nothing was written"* ]]
	[ "$(checksums)" == "$before" ]
	store_gone "$ENV/C"
	run -0 vaultctl-secret set "$ENV/C" --cas 0 <<<v1
	[[ $output == *"created $ENV/C version 1"* ]]
	same_version "$ENV/C" 1
	# Stale: exit 6, neither metadata, audit, usage nor the store move,
	# and no drift to repair is suggested.
	before=$(checksums)
	for bad in 0 2 7; do
		run -6 vaultctl-secret set "$ENV/C" --cas "$bad" <<<stale
		[[ $output == *"--cas $bad: the secret is at version 1; nothing was written"* ]]
		[[ $output != *reconcile* ]]
	done
	[ "$(checksums)" == "$before" ]
	same_version "$ENV/C" 1
	run -0 vaultctl-secret set "$ENV/C" --cas 1 <<<v2
	same_version "$ENV/C" 2
	[ "$(vaultctl-secret get "$ENV/C")" == v2 ]
	run -6 vaultctl-secret set "$ENV/C" --cas 1 <<<stale
	[ "$(vaultctl-secret get "$ENV/C")" == v2 ]
	# A removed secret keeps its version, as the store does.
	vaultctl-secret -q rm "$ENV/C"
	run -6 vaultctl-secret set "$ENV/C" --cas 0 <<<v3
	[[ $output == *"is at version 2 (removed)"* ]]
	run -0 vaultctl-secret set "$ENV/C" --cas 2 <<<v3
	same_version "$ENV/C" 3
	[ "$(audit_count "$ORG" secret.update)" == 1 ]
	[ "$(audit_count "$ORG" secret.create)" == 2 ]
}

# --- secret hygiene ---------------------------------------------------------

# wait_for FILE TEXT: until FILE holds TEXT (10 s at most).
wait_for() {
	for _ in $(seq 200); do
		grep -qF -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "waited in vain for '$2' in $1: $(cat -A "$1")"
	return 1
}

# argv_scan TEXT PROBE: no process's argv holds TEXT, and (so that the scan
# is known to have looked) some process's argv holds PROBE.  Only builtins
# here: an external command would carry TEXT in its own argv.
argv_scan() {
	local f a seen=0 hit=0 all
	for f in /proc/[0-9]*/cmdline; do
		all=
		while IFS= read -r -d '' a; do all+="$a "; done 2>/dev/null <"$f"
		[[ $all == *"$1"* ]] && { hit=1; echo "in argv: ${f%/cmdline}"; }
		[[ $all == *"$2"* ]] && seen=1
	done
	[[ $hit == 0 && $seen == 1 ]]
}

# prompt_set REF FIRST SECOND [HOOK]: runs set on a pseudo-terminal
# (script) and types FIRST and SECOND at its two no-echo prompts; HOOK runs
# while set waits at the second one.  Sets PROMPT_RC and PROMPT_OUT (what
# the terminal showed).  The words of the array PROMPT_AS, when set, run
# the terminal and the tool (as another user).
prompt_set() {
	local d=$BATS_TEST_TMPDIR w pid hook_rc=0
	rm -f "$d/tty.in" "$d/tty.out"
	mkfifo "$d/tty.in"
	"${PROMPT_AS[@]}" script -qfec "vaultctl-secret set $1" /dev/null <"$d/tty.in" \
		>"$d/tty.out" 2>&1 3>&- &
	pid=$!
	exec {w}>"$d/tty.in"
	wait_for "$d/tty.out" 'value: ' || { exec {w}>&-; return 1; }
	printf '%s\r' "$2" >&$w
	wait_for "$d/tty.out" 'value (again): ' || { exec {w}>&-; return 1; }
	[[ -z ${4:-} ]] || "$4" || hook_rc=$?
	printf '%s\r' "$3" >&$w
	exec {w}>&-
	PROMPT_RC=0
	wait "$pid" || PROMPT_RC=$?
	PROMPT_OUT=$(cat "$d/tty.out")
	return "$hook_rc"
}

# The value at the prompt is asked twice without echo, and is in no
# process's argv while set waits.
t_prompt() {
	local value="S3CR3T-$RANDOM$RANDOM-VALUE" before
	s_here 10
	scan() { argv_scan "$value" "$ENV/TYPED"; }
	prompt_set "$ENV/TYPED" "$value" "$value" scan
	[ "$PROMPT_RC" == 0 ] || { echo "$PROMPT_OUT"; false; }
	[[ $PROMPT_OUT == *"created $ENV/TYPED version 1"* ]]
	[[ $PROMPT_OUT != *"$value"* ]]
	printf '%s' "$value" >"$BATS_TEST_TMPDIR/want"
	got_bytes "$ENV/TYPED" "$BATS_TEST_TMPDIR/want"
	# Two different entries: exit 2, nothing changed.
	before=$(checksums)
	prompt_set "$ENV/TYPED" "$value" "other-$value"
	[ "$PROMPT_RC" == 2 ] || { echo "$PROMPT_OUT"; false; }
	[[ $PROMPT_OUT == *"differ"* ]]
	[ "$(checksums)" == "$before" ]
	same_version "$ENV/TYPED" 1
}

# pid_of WORDS...: the process whose argv is exactly WORDS (argv[0] by
# its base name).
pid_of() {
	local f a args want
	printf -v want '%s\n' "$@"
	for f in /proc/[0-9]*/cmdline; do
		args=
		while IFS= read -r -d '' a; do
			[[ -n $args ]] || a=${a##*/}
			args+=$a$'\n'
		done 2>/dev/null <"$f"
		[[ $args == "$want" ]] && { f=${f%/cmdline}; echo "${f##*/}"; return 0; }
	done
	return 1
}

# Core dumps are off and the process is not dumpable (doc/architecture.md,
# section 8) while set holds the first entry and waits for the second:
# RLIMIT_CORE is 0 in /proc/PID/limits, and the files of /proc/PID belong
# to root, which is how the kernel shows a process that is not dumpable (nor
# readable through ptrace or /proc/PID/mem and environ by its own user).
# Ownership tells only for a process of another user than root, so as root
# the check runs the terminal and the tool as nobody, with a copy of the
# configuration of its own, against a dumpable process of the same user.
t_not_dumpable() {
	local d=$BATS_TEST_TMPDIR value="S3CR3T-$RANDOM$RANDOM-VALUE" uid=$EUID
	local dump_rc=0 ctl own=
	[[ ${VC_VALGRIND:-} != 1 ]] || skip "under valgrind the process is valgrind's"
	s_here 10
	if [[ $EUID == 0 ]]; then
		uid=$(id -u nobody)
		own=$(mktemp -d /tmp/vc-nobody.XXXXXX)
		# nobody cannot reach the clone's bin/ when the clone lies under
		# a directory of mode 0700 (root's home): a copy of its own.
		mkdir "$own/bin"
		cp "$(command -v vaultctl-secret)" "$own/bin/"
		PROMPT_AS=(setpriv --reuid="$uid" --regid="$(id -g nobody)" --clear-groups
			env PATH="$own/bin:$PATH")
		sed -e "s|^master_key_file = .*|master_key_file = $own/key|" \
			-e "s|^audit_key_file = .*|audit_key_file = $own/audit.key|" \
			"$VAULTCTL_CONFIG" >"$own/vaultctl.cnf"
		cp "$VAULTCTL_CONFIG.key" "$own/key"
		cp "$VAULTCTL_CONFIG.audit.key" "$own/audit.key"
		chmod 600 "$own/vaultctl.cnf" "$own/key" "$own/audit.key"
		chown -R "$uid" "$own"
		chmod 711 "$VC_TEST_DIR"          # the socket, for nobody
		export VAULTCTL_CONFIG=$own/vaultctl.cnf
	fi
	"${PROMPT_AS[@]}" sleep 30 3>&- &
	ctl=$!
	# A hook runs after ||, where errexit is off: each check returns.
	dump_check() {
		local pid
		pid=$(pid_of vaultctl-secret set "$ENV/CORE") || { echo "no set process"; return 1; }
		grep -qE '^Max core file size +0 +0 ' "/proc/$pid/limits" ||
			{ echo "core dumps on: $(grep core "/proc/$pid/limits")"; return 1; }
		[[ $(awk '/^Uid:/ { print $2 }' "/proc/$pid/status") == "$uid" ]] ||
			{ echo "set (pid $pid) does not run as uid $uid"; return 1; }
		# The same user's dumpable process: its files are its own.
		[[ $(stat -c %u "/proc/$ctl/environ") == "$uid" ]] ||
			{ echo "the dumpable control's /proc files are not its user's"; return 1; }
		[[ $(stat -c %u "/proc/$pid/environ") == 0 ]] ||
			{ echo "set (pid $pid) is dumpable"; return 1; }
	}
	prompt_set "$ENV/CORE" "$value" "$value" dump_check || dump_rc=$?
	kill "$ctl"
	if [[ -n $own ]]; then
		chmod 700 "$VC_TEST_DIR"
		rm -rf "$own"
		export VAULTCTL_CONFIG=$VC_TEST_DIR/vaultctl.cnf
	fi
	PROMPT_AS=()
	[ "$dump_rc" == 0 ]
	[ "$PROMPT_RC" == 0 ] || { echo "$PROMPT_OUT"; false; }
	printf '%s' "$value" >"$d/want"
	got_bytes "$ENV/CORE" "$d/want"
}

# A run of every command with a distinctive value, failures included:
# the value is in no error message, no table but the value store's, and
# nowhere in the server's directory (logs, data files: the local store
# seals it; the emulator keeps it in memory and logs no bodies).
t_hygiene() {
	local d=$BATS_TEST_TMPDIR value="S3CR3T-$RANDOM$RANDOM-VALUE" n
	local err=$BATS_TEST_TMPDIR/stderr
	s_here 2
	n=viewer$BATS_TEST_NUMBER@example.com
	vaultctl-org -q user add "$n" --no-password
	vaultctl-org -q member add "$ORG" "$n" --role viewer
	printf '%s\n' "$value" >"$d/pattern"
	printf '%s' "$value" >"$d/value"
	{ cat "$d/value"; head -c 1048576 /dev/zero; } >"$d/huge"
	: >"$err"
	x() { "$@" 2>>"$err"; }
	xfail() {
		local want=$1 rc=0
		shift
		"$@" 2>>"$err" >/dev/null || rc=$?
		[ "$rc" == "$want" ] || { echo "$* exited $rc, expected $want"; return 1; }
	}
	x vaultctl-secret -v set "$ENV/HYG" --description "hygiene" --reason "test" <"$d/value"
	x vaultctl-secret -v set "$ENV/HYG" --from-file "$d/value" </dev/null
	x vaultctl-secret -v get "$ENV/HYG" >"$d/got"
	cmp "$d/value" "$d/got"
	x vaultctl-secret get "$ENV/HYG" --version 1 -o json >/dev/null
	x vaultctl-secret list "$ENV" -o json >"$d/list"
	x vaultctl-secret history "$ENV/HYG" -o json >"$d/history"
	x vaultctl-secret rollback "$ENV/HYG" --to 1
	x vaultctl-secret rotate "$ENV/HYG"
	x vaultctl-secret rollback "$ENV/HYG" --to 1
	x vaultctl-secret set "$ENV/OTHER" --description "kept-desc" <"$d/value"
	# Failures that had the value in hand.
	xfail 5 vaultctl-secret set "$ENV/OVER" <"$d/value"          # quota
	xfail 2 vaultctl-secret set "$ENV/HYG" <"$d/huge"            # too large
	xfail 2 vaultctl-secret -o json set "$ENV/HYG" <"$d/huge"
	xfail 4 vaultctl-secret --as "$n" set "$ENV/HYG" <"$d/value" # role
	xfail 2 vaultctl-secret set "$ENV/1BAD" <"$d/value"          # name
	if [[ $VC_STORE == vault ]]; then
		emu_fault '{"match": "^POST /v1/secret/data/", "count": 10, "status": 503, "retry_after": 0}'
		VAULT_MAX_RETRIES=1 xfail 7 vaultctl-secret -v set "$ENV/HYG" <"$d/value"
		emu_clear_faults
	fi
	x vaultctl-secret rm "$ENV/HYG"
	xfail 3 vaultctl-secret get "$ENV/HYG"
	x vaultctl-secret restore "$ENV/HYG"
	x vaultctl-secret purge "$ENV/HYG" --yes
	# The runs above did write what they should have: the checks below
	# would otherwise pass for nothing.
	grep -q "quota exceeded" "$err"
	grep -q "larger than" "$err"
	grep -q "permission denied" "$err"
	[ "$(audit_count "$ORG" secret.read)" -ge 3 ]
	run -1 grep -F -f "$d/pattern" "$err" "$d/list" "$d/history"
	mariadb-dump --defaults-file="$VC_TEST_DIR/admin.cnf" --skip-comments \
		--ignore-table="$VC_DATABASE.vc_values" \
		--ignore-table="$VC_DATABASE.vault_storage" "$VC_DATABASE" >"$d/dump"
	grep -q "kept-desc" "$d/dump"
	grep -q "secret.rollback" "$d/dump"
	run -1 grep -F -f "$d/pattern" "$d/dump"
	run -1 grep -r -l -F -f "$d/pattern" "$VC_TEST_DIR"
}

# destroy --versions: those versions' values gone for good, history shows
# them destroyed, get --version of one exits 3; admins only, --yes off a
# terminal; audited; bad lists and unknown versions change nothing.
t_destroy() {
	local h v
	s_here 10
	for v in one two three; do printf '%s' "$v" | vaultctl-secret -q set "$ENV/D"; done
	vaultctl-org -q user add "m$BATS_TEST_NUMBER@example.com" --no-password
	vaultctl-org -q member add "$ORG" "m$BATS_TEST_NUMBER@example.com" --role member
	run -2 vaultctl-secret destroy "$ENV/D" --versions 1 </dev/null
	[[ $output == *"--yes"* ]]
	run -4 vaultctl-secret --as "m$BATS_TEST_NUMBER@example.com" destroy "$ENV/D" --versions 1 --yes
	for v in 0 x 1,,2 1,1 -1 ,; do
		run -2 vaultctl-secret destroy "$ENV/D" --versions "$v" --yes
	done
	run -2 vaultctl-secret destroy "$ENV/D" --yes
	run -3 vaultctl-secret destroy "$ENV/D" --versions 2,4 --yes
	[[ $output == *"version 4 not found (the latest is 3)"* ]]
	run -3 vaultctl-secret destroy "$ENV/NOPE" --versions 1 --yes
	# Nothing was destroyed so far.
	s_get_is "$ENV/D" one --version 1
	s_get_is "$ENV/D" two --version 2
	[ "$(vc_sql "SELECT COUNT(*) FROM audit_logs WHERE action = 'secret.destroy'
		AND organization_id = (SELECT id FROM organizations WHERE name = '$ORG')")" -eq 0 ]
	run -0 vaultctl-secret destroy "$ENV/D" --versions 2,1 --yes
	h=$(vaultctl-secret history "$ENV/D" -o json)
	[ "$(jq -c '[.[] | "\(.version) \(.state)"]' <<<"$h")" == \
		'["3 live","2 destroyed","1 destroyed"]' ]
	run -3 vaultctl-secret get "$ENV/D" --version 1
	[[ $output == *"version 1 is destroyed"* ]]
	run -3 vaultctl-secret get "$ENV/D" --version 2
	s_get_is "$ENV/D" three
	[ "$(vc_sql "SELECT details FROM audit_logs WHERE action = 'secret.destroy'
		AND organization_id = (SELECT id FROM organizations WHERE name = '$ORG')")" == \
		'{"versions":[2,1]}' ]
	# Again: nothing left to destroy, still fine; the chain intact.
	run -0 vaultctl-secret destroy "$ENV/D" --versions 1 --yes
	run -0 vaultctl-audit verify
}

# s_get_is REF TEXT [get options]: get writes exactly TEXT.
s_get_is() {
	local ref=$1 want=$BATS_TEST_TMPDIR/want
	printf '%s' "$2" >"$want"
	shift 2
	got_bytes "$ref" "$want" "$@"
}

# env set: --max-versions N keeps at most N versions of each secret of the
# environment in the store (set on every write, and on existing secrets);
# --name and --description; admins only; bad values change nothing.
t_max_versions() {
	local v h
	s_here 10
	for v in a b c; do printf '%s' "$v" | vaultctl-secret -q set "$ENV/OLD"; done
	vaultctl-org -q user add "m$BATS_TEST_NUMBER@example.com" --no-password
	vaultctl-org -q member add "$ORG" "m$BATS_TEST_NUMBER@example.com" --role member
	run -4 vaultctl-org --as "m$BATS_TEST_NUMBER@example.com" env set "$ENV" --max-versions 2
	for v in x -1 1000001 ''; do
		run -2 vaultctl-org env set "$ENV" --max-versions "$v"
	done
	run -2 vaultctl-org env set "$ENV"
	run -2 vaultctl-org env set "$ENV" --name 'a b'
	run -3 vaultctl-org env set "$ORG/api/nope" --max-versions 2
	# None of those changed the environment.
	[ "$(vc_sql "SELECT IFNULL(max_versions, 'none') FROM environments
		WHERE name = 'prod' AND project_id = (SELECT p.id FROM projects p
		JOIN organizations o ON o.id = p.organization_id
		WHERE o.name = '$ORG')")" == none ]
	run -0 vaultctl-org env set "$ENV" --max-versions 2
	for v in one two three four; do printf '%s' "$v" | vaultctl-secret -q set "$ENV/NEW"; done
	h=$(vaultctl-secret history "$ENV/NEW" -o json)
	[ "$(jq -c '[.[].version]' <<<"$h")" == '[4,3]' ]
	s_get_is "$ENV/NEW" four
	s_get_is "$ENV/NEW" three --version 3
	run -3 vaultctl-secret get "$ENV/NEW" --version 2
	# A secret written before: at most 2 once written again (the local
	# store drops the older ones at once).
	if [[ $VC_STORE == local ]]; then
		h=$(vaultctl-secret history "$ENV/OLD" -o json)
		[ "$(jq -c '[.[].version]' <<<"$h")" == '[3,2]' ]
	fi
	printf d | vaultctl-secret -q set "$ENV/OLD"
	h=$(vaultctl-secret history "$ENV/OLD" -o json)
	[ "$(jq -c '[.[].version]' <<<"$h")" == '[4,3]' ]
	# A batch keeps the limit too, for the keys it makes (BAT) as for
	# those it changes (NEW): three imports, two versions kept of each.
	for v in p q r; do
		printf 'NEW=%s\nBAT=%s\n' "$v" "$v" |
			vaultctl-secret -q import "$ENV" --overwrite
	done
	for v in NEW BAT; do
		h=$(vaultctl-secret history "$ENV/$v" -o json)
		[ "$(jq -c '[.[].version] | length' <<<"$h")" -eq 2 ]
		s_get_is "$ENV/$v" r
	done
	run -3 vaultctl-secret get "$ENV/BAT" --version 1
	# Lowered to 1, then renamed and described: the limit stays.
	run -0 vaultctl-org env set "$ENV" --max-versions 1
	run -0 vaultctl-org env set "$ENV" --name live --description 'the live one'
	ENV=$ORG/api/live
	printf five | vaultctl-secret -q set "$ENV/NEW"
	h=$(vaultctl-secret history "$ENV/NEW" -o json)
	[ "$(jq -c '[.[].version]' <<<"$h")" == '[8]' ]
	run -0 vaultctl-org env list "$ORG/api" -o tsv
	[[ $output == live*"the live one"* ]]
	run -3 vaultctl-secret list "$ORG/api/prod"
	vaultctl-org -q env create "$ORG/api/prod"
	run -6 vaultctl-org env set "$ENV" --name prod
	[ "$(vc_sql "SELECT COUNT(*) FROM audit_logs WHERE action = 'env.update'
		AND organization_id = (SELECT id FROM organizations WHERE name = '$ORG')")" -eq 3 ]
	run -0 vaultctl-audit verify
}
