# Shared by 28-run-multi.bats (local store) and 28-run-multi-vault.bats
# (the Vault emulator): run and export with several environments, later
# ones winning on a name, and run --preserve-env.  Each m_* is one test,
# alike on both stores.

# m_envs: organization $ORG with environments base and prod, and a second
# organization $ORG2 with environment prod, the admin acting.
#   base:  A=base-a  B=base-b  SHARED=base
#   prod:  C=prod-c  SHARED=prod  (a value with a newline and spaces: MULTI)
#   ORG2:  SHARED=other  D=other-d
m_envs() {
	s_here NULL
	ORG2=${ORG}x
	s_org "$ORG2" NULL
	vaultctl-org -q env create "$ORG/api/base"
	BASE=$ORG/api/base PROD=$ORG/api/prod OTHER=$ORG2/api/prod
	s_put "$BASE/A" base-a
	s_put "$BASE/B" base-b
	s_put "$BASE/SHARED" base
	s_put "$PROD/C" prod-c
	s_put "$PROD/SHARED" prod
	printf 'line 1\n  two  \n' | vaultctl-secret -q set "$PROD/MULTI"
	s_put "$OTHER/SHARED" other
	s_put "$OTHER/D" other-d
}

# reads ORG: secret.read rows of the organization.
reads() { audit_count "$1" secret.read; }

m_later_wins() {
	local show='printf "%s|%s|%s|%s" "$A" "$B" "$C" "$SHARED"'
	m_envs
	run -0 vaultctl-secret run "$BASE" "$PROD" -- sh -c "$show"
	[ "$output" == "base-a|base-b|prod-c|prod" ]
	run -0 vaultctl-secret run "$PROD" "$BASE" -- sh -c "$show"
	[ "$output" == "base-a|base-b|prod-c|base" ]
	run -0 vaultctl-secret run "$BASE" "$PROD" "$OTHER" -- sh -c \
		'printf "%s|%s|%s" "$A" "$D" "$SHARED"'
	[ "$output" == "base-a|other-d|other" ]
	# The value is the bytes stored, whichever environment gave it.
	vaultctl-secret run "$BASE" "$PROD" -- sh -c 'printf "%s" "$MULTI"' \
		>"$BATS_TEST_TMPDIR/multi"
	printf 'line 1\n  two  \n' | cmp - "$BATS_TEST_TMPDIR/multi"
	run -0 vaultctl-secret export "$BASE" "$PROD" --format json
	[ "$(jq -cS 'del(.MULTI)' <<<"$output")" == \
		'{"A":"base-a","B":"base-b","C":"prod-c","SHARED":"prod"}' ]
	run -0 vaultctl-secret export "$PROD" "$BASE" --format json --only SHARED
	[ "$(jq -c . <<<"$output")" == '{"SHARED":"base"}' ]
}

m_only_any() {
	m_envs
	# A name in one of the environments is enough; in none, exit 3.
	run -0 vaultctl-secret run "$BASE" "$PROD" --only A,C -- sh -c \
		'printf "%s|%s|%s" "$A" "$C" "${B-unset}"'
	[ "$output" == "base-a|prod-c|unset" ]
	run -3 --separate-stderr vaultctl-secret export "$BASE" "$PROD" --only A,NOPE
	[[ $stderr == *"secret 'NOPE' not found"* ]]
	run -3 vaultctl-secret run "$BASE" "$ORG/api/nope" -- true
}

# Every value read is audited, an overridden one too, each in its
# organization's chain, which stays intact.
m_audit() {
	local b1 b2
	m_envs
	b1=$(reads "$ORG") b2=$(reads "$ORG2")
	run -0 vaultctl-secret run "$BASE" "$PROD" "$OTHER" -- true
	[ "$(reads "$ORG")" -eq $((b1 + 6)) ]
	[ "$(reads "$ORG2")" -eq $((b2 + 2)) ]
	run -0 vaultctl-secret export "$BASE" "$PROD" -O "$BATS_TEST_TMPDIR/out"
	[ "$(reads "$ORG")" -eq $((b1 + 12)) ]
	[ "$(stat -c %a "$BATS_TEST_TMPDIR/out")" == 600 ]
	# A refused export audits nothing.
	run -2 vaultctl-secret export "$BASE" "$PROD" --format docker
	[ "$(reads "$ORG")" -eq $((b1 + 12)) ]
	run -0 vaultctl-audit verify
}

# A member of one organization only may not read the other's environment:
# nothing is run, nothing audited.
m_permission() {
	local b1
	m_envs
	vaultctl-org -q user add "m$BATS_TEST_NUMBER@example.com" --no-password
	vaultctl-org -q member add "$ORG" "m$BATS_TEST_NUMBER@example.com" --role member
	b1=$(reads "$ORG")
	VAULTCTL_USER=m$BATS_TEST_NUMBER@example.com run -0 vaultctl-secret run \
		"$BASE" "$PROD" -- sh -c 'printf %s "$SHARED"'
	[ "$output" == prod ]
	VAULTCTL_USER=m$BATS_TEST_NUMBER@example.com run -4 vaultctl-secret run \
		"$BASE" "$OTHER" -- sh -c "touch '$BATS_TEST_TMPDIR/ran'"
	[ ! -e "$BATS_TEST_TMPDIR/ran" ]
	[ "$(reads "$ORG")" -eq $((b1 + 6)) ]
}

m_preserve_env() {
	local b1
	m_envs
	run -0 env SHARED=caller C=mine vaultctl-secret run "$BASE" "$PROD" \
		--preserve-env -- sh -c 'printf "%s|%s|%s" "$SHARED" "$C" "$A"'
	[ "$output" == "caller|mine|base-a" ]
	run -0 env SHARED=caller vaultctl-secret run "$BASE" "$PROD" -- sh -c \
		'printf "%s" "$SHARED"'
	[ "$output" == prod ]
	# The caller's VAULT_* still never pass on.
	run -0 env VAULT_CALLER=x vaultctl-secret run "$BASE" --preserve-env \
		-- sh -c 'printf "%s" "${VAULT_CALLER-unset}"'
	[ "$output" == unset ]
	b1=$(reads "$ORG")
	run -2 --separate-stderr vaultctl-secret run "$BASE" --pristine \
		--preserve-env -- sh -c "touch '$BATS_TEST_TMPDIR/ran'"
	[[ $stderr == *"exclude each other"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/ran" ]
	[ "$(reads "$ORG")" -eq "$b1" ]
}
