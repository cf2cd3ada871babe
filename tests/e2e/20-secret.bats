#!/usr/bin/env bats
# vaultctl-secret on the local value store: every command, exact bytes,
# versions, soft delete, quota, audit and usage, roles, secret hygiene.
# The same tests run against Vault in 21-secret-vault.bats.

load helper
load secret_helper

VC_STORE=local

setup_file() {
	vc_server_start
	s_bootstrap
}

teardown_file() {
	vc_server_stop
}

setup() {
	export VAULTCTL_USER=$VC_ADMIN
}

@test "binary values with NUL and 0xff round-trip exactly (stdin, --from-file)" { t_bytes_roundtrip; }
@test "an empty value round-trips" { t_empty_value; }
@test "1 MiB (max_value_size) is accepted; one byte more exits 2 and changes nothing" { t_size_limit; }
@test "get --version N returns that version's bytes" { t_get_version; }
@test "missing and deleted secrets: exit 3 with messages that tell them apart" { t_not_found_messages; }
@test "secret names compare case-insensitively, one set of versions" { t_case_insensitive; }
@test "invalid input exits 2 and changes nothing; no value from argv" { t_invalid_input; }
@test "history shows versions with author, action and --reason" { t_history; }
@test "rollback --to N writes N's bytes as a new version" { t_rollback; }
@test "rotate: --length, --charset, silent unless --show" { t_rotate; }
@test "rm hides from list and get; restore brings the same bytes back" { t_rm_restore; }
@test "restore checks the quota again (exit 5)" { t_restore_quota; }
@test "purge destroys every version and the metadata, frees the quota" { t_purge; }
@test "destroy --versions: values gone for good, history says destroyed, get --version exits 3; admins only" { t_destroy; }
@test "env set: --max-versions keeps at most N versions of each secret, --name, --description; admins only" { t_max_versions; }
@test "a create at the plan limit exits 5; updates and deleted secrets do not count" { t_quota; }
@test "no active subscription: a create exits 5" { t_no_subscription; }
@test "every operation writes its audit row and counts in usage" { t_audit_usage; }
@test "roles: viewer lists, member writes, admin removes" { t_roles; }
@test "store ahead of the metadata: exit 6 naming reconcile, nothing changed" { t_drift; }
@test "store and metadata disagree on a removal: reconcile names the side, --fix aligns the store with the metadata" { t_deleted_drift; }
@test "set --cas N: 0 creates, a stale N exits 6 and changes nothing, bad N exits 2" { t_cas; }
@test "the prompt asks twice without echo; the value is in no argv" { t_prompt; }
@test "the value is in no table, message or file but the value store's" { t_hygiene; }
@test "no core dump, not dumpable while a typed value is in memory" { t_not_dumpable; }

@test "local store: values are sealed, the metadata account cannot read them" {
	local path
	s_here 10
	s_put "$ENV/SEALED" plaintext-sealed-value
	path=$(s_path "$ENV/SEALED")
	[ "$(vc_sql "SELECT COUNT(*) FROM vc_values WHERE path = '$path'
		AND INSTR(ciphertext, 'plaintext-sealed-value') = 0")" == 1 ]
	run ! vc_sql_as secrets_api_user "SELECT COUNT(*) FROM vc_values"
	[[ $output == *"command denied"* ]]
}

# What completion writes: one '/' after an organization, project or
# environment; after a secret name, or two, it is refused.
@test "a reference may end in one '/' after an organization, project or environment" {
	s_here 10
	s_put "$ENV/A" a
	run --separate-stderr vaultctl-secret list -o tsv "$ENV/"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[[ $'\n'$output == *$'\nA\t1\t'* ]]
	run vaultctl-secret run "$ENV/" -- sh -c 'printf %s "$A"'
	[ "$status" -eq 0 ]
	[ "$output" == a ]
	run vaultctl-org env list -o tsv "$ORG/api/"
	[ "$status" -eq 0 ]
	[[ $'\n'$output == *$'\nprod\t'* ]]
	run vaultctl-org project list -o tsv "$ORG/"
	[ "$status" -eq 0 ]
	[[ $'\n'$output == *$'\napi\t'* ]]
	run vaultctl-org show "$ORG/"
	[ "$status" -eq 0 ]
	run -2 vaultctl-secret get "$ENV/A/"
	[[ $output == *"reference '$ENV/A/' ends in '/' after the secret name"* ]]
	run -2 vaultctl-secret get "$ENV/"
	[[ $output == *"'$ENV/' is not a reference of the form ORG/PROJECT/ENV/NAME"* ]]
	run -2 vaultctl-secret list "$ENV//"
	[[ $output == *"has an empty part"* ]]
	run -2 vaultctl-secret list "$ORG//api/prod"
	[[ $output == *"has an empty part"* ]]
}
