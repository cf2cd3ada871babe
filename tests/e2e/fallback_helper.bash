# Shared by the --fallback tests (28-fallback*.bats): the backends made
# unavailable for real (the server stopped, Vault sealed) and brought back,
# and what the snapshot left in the audit trail.  $ORG names the
# organization of the store under test: "loc" the local store, "vlt" the
# Vault emulator ($VC_TEST_DIR/vault.cnf, the same database).

server_alive() {
	mariadb-admin --defaults-file="$VC_TEST_DIR/admin.cnf" --connect-timeout=2 \
		ping >/dev/null 2>&1
}

db_stop() {
	"$REPO/tests/harness/mariadb.sh" stop "$VC_TEST_DIR"
}

db_start() {
	"$REPO/tests/harness/mariadb.sh" start "$VC_TEST_DIR" >/dev/null
}

vault_mode() {
	export VAULTCTL_CONFIG=$VC_TEST_DIR/vault.cnf
	ORG=vlt
}

# down: the backend of $ORG made unavailable (loc: the server stopped;
# vlt: Vault sealed, the database up).
down() {
	if [[ $ORG == loc ]]; then db_stop; else
		emu POST /_emulator/seal '{"sealed": true}' >/dev/null; fi
}

up() {
	if [[ $ORG == loc ]]; then db_start; else
		emu POST /_emulator/seal '{"sealed": false}' >/dev/null; fi
}

says() {
	local s
	for s in "$@"; do
		[[ $stderr == *"$s"* ]] || { echo "stderr lacks '$s': $stderr" >&2; return 1; }
	done
}

# offline_reads ORG: secret.read audit rows marked offline.
offline_reads() {
	vc_sql "SELECT COUNT(*) FROM audit_logs a JOIN organizations o
		ON o.id = a.organization_id WHERE o.name = '$1'
		AND a.action = 'secret.read'
		AND a.details LIKE '%\"offline\":true%'"
}

