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

# audit_count ORG ACTION: audit rows of one action in an organization.
audit_count() {
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
		usage_statistics, subscriptions EXTENDED"
}

# --- the value store, seen from outside the tools -------------------------

# store_version REF: the store's current version of the secret (0: no key).
store_version() {
	local path
	path=$(s_path "$1")
	if [[ $VC_STORE == vault ]]; then
		emu GET "/v1/secret/metadata/$path" | jq -r '.data.current_version // 0'
	else
		vc_sql "SELECT COALESCE(MAX(version), 0) FROM vc_values
			WHERE path = '$path'"
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
# vc_values; in Vault, its metadata reads as 404.
store_gone() {
	local path
	path=$(s_path "$1")
	if [[ $VC_STORE == vault ]]; then
		emu GET "/v1/secret/metadata/$path" >/dev/null
		[[ $EMU_STATUS == 404 ]] || { echo "metadata answered $EMU_STATUS"; return 1; }
	else
		[[ $(vc_sql "SELECT COUNT(*) FROM vc_values WHERE path = '$path'") == 0 ]]
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

# status_is N: the last `run` exited N (with its output shown when not).
status_is() {
	[[ $status == "$1" ]] || { echo "exit $status, expected $1; output: $output"; return 1; }
}
