# Shared by 26-import-mac.bats and 26-import-mac-vault.bats: import and
# copy decide add / change / unchanged against the MAC of what vaultctl
# last wrote (sql/013-value-mac.sql, lib/valuemac.c), read a value from the
# store only where that MAC is unknown, and never take a stale MAC for
# the current value.  Needs helper and secret_helper, and VC_STORE.

# m_file FILE NAME=VALUE...: a dotenv file of those entries.
m_file() {
	local f=$1
	shift
	printf '%s\n' "$@" >"$f"
}

# m_reads: the organization's secret.read audit rows.
m_reads() {
	audit_count "$ORG" secret.read
}

# m_clear_requests: forgets the emulator's request log (Vault only).
m_clear_requests() {
	[[ $VC_STORE == vault ]] || return 0
	emu DELETE /_emulator/requests >/dev/null
}

# m_store_gets N: Vault was asked for N values since m_clear_requests
# (GET of KV v2 data).  The local store's reads are counted by their
# audit rows only.
m_store_gets() {
	local n
	[[ $VC_STORE == vault ]] || return 0
	n=$(emu GET /_emulator/requests |
		jq '[.requests[] | select(.method == "GET" and
			(.path | test("^/v1/secret/data/")))] | length')
	[ "$n" == "$1" ] || { echo "$n values read from Vault, not $1"; return 1; }
}

# m_import FILE [options]: import into $ENV; output and stderr apart.
m_import() {
	local f=$1
	shift
	run --separate-stderr vaultctl-secret import "$ENV" --file "$f" "$@"
}

# m_mac_state NAME: "MAC_VERSION VERSION KEY" of the secret's row in
# $ENV; KEY is 1 when the MAC is under the audit key of $ORG's chain (the
# configured one), 0 under another; NULL columns print as NULL.
m_mac_state() {
	vc_sql "SELECT CONCAT_WS(' ', COALESCE(sm.value_mac_version, 'NULL'),
		sm.version, COALESCE(sm.value_mac_key = h.key_id, 'NULL'))
		FROM secret_metadata sm JOIN audit_chain_heads h ON h.chain =
		sm.organization_id WHERE sm.name = '$1' AND sm.environment =
		'$(s_ids "$ENV" | cut -d' ' -f3)'"
}

# Importing the same file twice: the second import writes nothing and
# reads nothing, nor does its dry run; the MACs name their version and
# the audit key.  A copy compares with the target in the same way.
t_mac_twice() {
	local f=$BATS_TEST_TMPDIR/in.env before
	s_here NULL
	vaultctl-org -q env create "$ORG/api/stage"
	m_file "$f" 'A=alpha' 'B=two words' 'C=' 'D=x#y'
	m_import "$f"
	[ "$status" -eq 0 ]
	[[ $stderr == *"wrote 4 secrets"* ]]
	[ "$(m_mac_state A)" == "1 1 1" ]
	[ "$(m_mac_state C)" == "1 1 1" ]
	before=$(checksums)
	m_clear_requests
	m_import "$f" --dry-run
	[ "$status" -eq 0 ]
	[ "$output" == "$(printf 'unchanged %s\n' A B C D)" ]
	m_import "$f" --overwrite
	[ "$status" -eq 0 ]
	[[ $stderr == *"wrote 0 secrets"* ]]
	[ "$(m_reads)" == 0 ]
	m_store_gets 0
	[ "$(checksums)" == "$before" ]
	# copy reads its source (audited), never its target's values.
	run -0 vaultctl-secret copy "$ENV" "$ORG/api/stage"
	[ "$(m_reads)" == 4 ]
	m_clear_requests
	run -0 vaultctl-secret copy "$ENV" "$ORG/api/stage" --dry-run
	[ "$output" == "$(printf 'unchanged %s\n' A B C D)" ]
	[ "$(m_reads)" == 8 ]
	m_store_gets 4
}

# A changed value among unchanged ones: only it is written (--overwrite),
# refused by name without (exit 6), left with --skip-existing; still no
# value read.
t_mac_changed() {
	local f=$BATS_TEST_TMPDIR/in.env before
	s_here NULL
	m_file "$f" 'A=1' 'B=2' 'C=3'
	m_import "$f"
	[ "$status" -eq 0 ]
	m_file "$f" 'A=1' 'B=two' 'C=3' 'D=4'
	before=$(checksums)
	m_import "$f"
	[ "$status" -eq 6 ]
	[[ $stderr == *"other values: B (use --overwrite"* ]]
	[ "$(checksums)" == "$before" ]
	m_import "$f" --dry-run --skip-existing
	[ "$output" == "$(printf '%s\n' 'unchanged A' 'unchanged B (skipped)' \
		'unchanged C' 'add       D')" ]
	m_import "$f" --dry-run --overwrite
	[ "$output" == "$(printf '%s\n' 'unchanged A' 'change    B' \
		'unchanged C' 'add       D')" ]
	m_clear_requests
	m_import "$f" --overwrite
	[ "$status" -eq 0 ]
	[[ $stderr == *"wrote 2 secrets"* ]]
	same_version "$ENV/A" 1
	same_version "$ENV/B" 2
	[ "$(vaultctl-secret get "$ENV/B")" == two ]
	[ "$(m_mac_state B)" == "2 2 1" ]
	[ "$(m_reads)" == 1 ]            # the get above
	m_store_gets 1
	# A value differing in case or length only is a change too.
	m_file "$f" 'A="1 "' 'B=TWO'
	m_import "$f" --dry-run
	[ "$status" -eq 6 ]
	[[ $stderr == *"other values: A, B"* ]]
}

# rollback writes the old value as a new version, with its MAC: import
# then sees that value as current, the value rolled away as a change.
t_mac_rollback() {
	local f=$BATS_TEST_TMPDIR/in.env
	s_here NULL
	s_put "$ENV/R" first
	s_put "$ENV/R" second
	m_file "$f" 'R=second'
	m_import "$f" --dry-run
	[ "$output" == "unchanged R" ]
	run -0 vaultctl-secret rollback "$ENV/R" --to 1
	same_version "$ENV/R" 3
	[ "$(m_mac_state R)" == "3 3 1" ]
	m_import "$f" --dry-run
	[ "$status" -eq 6 ]
	[[ $stderr == *"other values: R"* ]]
	m_file "$f" 'R=first'
	m_import "$f" --dry-run
	[ "$output" == "unchanged R" ]
	m_file "$f" 'R=second'
	m_import "$f" --overwrite
	[ "$status" -eq 0 ]
	same_version "$ENV/R" 4
	[ "$(vaultctl-secret get "$ENV/R")" == second ]
}

# rm and restore keep the version and its value: the MAC stays true.  A
# removed secret is added again.
t_mac_restore() {
	local f=$BATS_TEST_TMPDIR/in.env
	s_here NULL
	s_put "$ENV/K" kept
	m_file "$f" 'K=kept'
	vaultctl-secret -q rm "$ENV/K"
	m_import "$f" --dry-run
	[ "$output" == "add       K" ]
	run -0 vaultctl-secret restore "$ENV/K"
	[ "$(m_mac_state K)" == "1 1 1" ]
	m_import "$f" --dry-run
	[ "$output" == "unchanged K" ]
	m_file "$f" 'K=other'
	m_import "$f" --dry-run --overwrite
	[ "$output" == "change    K" ]
	# Removed, then imported: a new version, with its MAC.
	vaultctl-secret -q rm "$ENV/K"
	m_import "$f"
	[ "$status" -eq 0 ]
	same_version "$ENV/K" 2
	[ "$(m_mac_state K)" == "2 2 1" ]
	[ "$(vaultctl-secret get "$ENV/K")" == other ]
	[ "$(m_reads)" == 1 ]
}

# A MAC behind its version (a commit lost after the store took the value,
# then adopted by reconcile), of another audit key, or from before the
# migration is unknown: the value is read (and audited) once, its MAC
# recorded, and read no more.  A dry run records nothing.
t_mac_unknown() {
	local f=$BATS_TEST_TMPDIR/in.env saved env_id
	s_here NULL
	env_id=$(s_ids "$ENV" | cut -d' ' -f3)
	s_put "$ENV/L" lost-1
	saved=$(vc_sql "SELECT CONCAT('value_mac = X''', HEX(value_mac),
		''', value_mac_version = ', value_mac_version) FROM
		secret_metadata WHERE name = 'L' AND environment = '$env_id'")
	# What a write whose commit was lost leaves: the store at version 2,
	# the metadata (and its MAC) at 1.
	s_put "$ENV/L" lost-2
	vc_sql "UPDATE secret_metadata SET version = 1, $saved WHERE name = 'L'
		AND environment = '$env_id'"
	# Against what vaultctl last wrote: drift goes unseen here...
	m_file "$f" 'L=lost-1'
	m_import "$f" --dry-run
	[ "$output" == "unchanged L" ]
	# ... until reconcile adopts the store's version: the MAC is behind.
	run -0 vaultctl-audit reconcile --org "$ORG" --fix --yes
	[ "$(m_mac_state L)" == "1 2 1" ]
	m_clear_requests
	m_import "$f" --dry-run
	[ "$status" -eq 6 ]
	[ "$(m_reads)" == 1 ]
	m_store_gets 1
	[ "$(m_mac_state L)" == "1 2 1" ]
	m_file "$f" 'L=lost-2'
	m_import "$f"
	[ "$status" -eq 0 ]
	[[ $stderr == *"wrote 0 secrets"* ]]
	[ "$(m_reads)" == 2 ]
	[ "$(m_mac_state L)" == "2 2 1" ]
	m_import "$f"
	[ "$(m_reads)" == 2 ]
	# Under another key, or none at all (rows from before 013).
	s_put "$ENV/M" em
	s_put "$ENV/N" en
	vc_sql "UPDATE secret_metadata SET value_mac_key = X'0011223344556677'
		WHERE name = 'M' AND environment = '$env_id';
		UPDATE secret_metadata SET value_mac = NULL, value_mac_version =
		NULL, value_mac_key = NULL WHERE name = 'N' AND environment =
		'$env_id'"
	m_file "$f" 'L=lost-2' 'M=em' 'N=en'
	m_import "$f"
	[ "$status" -eq 0 ]
	[ "$(m_reads)" == 4 ]
	[ "$(m_mac_state M)" == "1 1 1" ]
	[ "$(m_mac_state N)" == "1 1 1" ]
	m_import "$f"
	[ "$(m_reads)" == 4 ]
}

# Destroying the current version leaves no MAC of it: import does not
# call that value unchanged; it reads, and the store has nothing (exit 3,
# as before the MAC).  A MAC of a value read before the destroy does not
# come back either.
t_mac_destroy() {
	local f=$BATS_TEST_TMPDIR/in.env env_id
	s_here NULL
	env_id=$(s_ids "$ENV" | cut -d' ' -f3)
	s_put "$ENV/X" one
	s_put "$ENV/X" two
	run -0 vaultctl-secret destroy "$ENV/X" --versions 1 --yes
	[ "$(m_mac_state X)" == "2 2 1" ]
	run -0 vaultctl-secret destroy "$ENV/X" --versions 2 --yes
	[ "$(vc_sql "SELECT CONCAT_WS(' ', value_mac IS NULL, value_mac_version,
		value_mac_key IS NULL) FROM secret_metadata WHERE name = 'X'
		AND environment = '$env_id'")" == "1 2 1" ]
	m_file "$f" 'X=two'
	m_import "$f" --dry-run
	[ "$status" -eq 3 ]
	[[ $stderr == *"version 2 is destroyed"* ]]
	# A new value brings a new version and its MAC.
	m_import "$f" --overwrite
	[ "$status" -eq 3 ]
	s_put "$ENV/X" three
	[ "$(m_mac_state X)" == "3 3 1" ]
	m_file "$f" 'X=three'
	m_import "$f" --dry-run
	[ "$output" == "unchanged X" ]
}

# Without an audit key no MAC is written: import reads the current values
# to compare, as it always did, and still decides right.
t_mac_no_key() {
	local f=$BATS_TEST_TMPDIR/in.env cnf=$BATS_TEST_TMPDIR/nokey.cnf
	grep -v '^audit_key_file[ =]' "$VAULTCTL_CONFIG" >"$cnf"
	chmod 600 "$cnf"
	ORG=nokey$BATS_TEST_NUMBER
	ENV=$ORG/api/prod
	# Its audit chain unkeyed from the start: a keyed one would refuse
	# to go on without the key.
	vc_sql "INSERT INTO plans (id, name, description, price, billing_cycle,
		secrets_limit, features, created_at, updated_at) VALUES (UUID(),
		'plan-$ORG', '', 0, 'monthly', NULL, NULL, NOW(), NOW())"
	vaultctl-org -c "$cnf" -q create "$ORG" --plan "plan-$ORG"
	vaultctl-org -c "$cnf" -q project create "$ORG/api"
	vaultctl-org -c "$cnf" -q env create "$ENV"
	m_file "$f" 'A=1' 'B=2'
	VAULTCTL_CONFIG=$cnf m_import "$f"
	[ "$status" -eq 0 ]
	[ "$(m_mac_state A)" == "NULL 1 NULL" ]
	m_clear_requests
	VAULTCTL_CONFIG=$cnf m_import "$f"
	[ "$status" -eq 0 ]
	[[ $stderr == *"wrote 0 secrets"* ]]
	[ "$(m_reads)" == 2 ]
	m_store_gets 2
	[ "$(m_mac_state B)" == "NULL 1 NULL" ]
	m_file "$f" 'A=1' 'B=3'
	VAULTCTL_CONFIG=$cnf m_import "$f" --dry-run --overwrite
	[ "$output" == "$(printf '%s\n' 'unchanged A' 'change    B')" ]
}
