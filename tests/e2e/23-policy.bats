#!/usr/bin/env bats
# vaultctl-org policy ORG[/PROJECT[/ENV]] [--role R] [--read-only]: the
# Vault ACL policy is loaded into the Vault emulator (tests/vault/emulator.py,
# which checks a token against its policies as Vault does), and
# vaultctl-secret runs with a token bound to it: Vault itself keeps the
# token inside its scope and its role.

load helper
load secret_helper

VC_STORE=vault

setup_file() {
	vc_server_start --backend vault
	emu_start
	s_bootstrap
	s_org acme NULL
	vaultctl-org -q env create acme/api/stage
	vaultctl-org -q project create acme/web
	vaultctl-org -q env create acme/web/prod
	s_org other NULL
	local ref
	for ref in acme/api/prod acme/api/stage acme/web/prod other/api/prod; do
		s_put "$ref/DB_URL" "db-of-$ref"
	done
	local u
	for u in boss:admin owner2:owner dev:member look:viewer; do
		vaultctl-org -q user add "${u%%:*}@example.com" --no-password
		vaultctl-org -q member add acme "${u%%:*}@example.com" --role "${u#*:}"
	done
	vaultctl-org -q user add outsider@example.com --no-password
}

teardown_file() {
	emu_stop
	vc_server_stop
}

setup() {
	export VAULTCTL_USER=$VC_ADMIN
}

# checksum: the tables and the emulator's data and policies (for refused).
checksum() {
	vc_sql "CHECKSUM TABLE organizations, projects, environments, users,
		user_organizations, secret_metadata, audit_logs, usage_statistics
		EXTENDED"
	curl -s "$VAULT_ADDR/_emulator/dump"
	emu GET '/v1/sys/policies/acl?list=true' | jq -c .data.keys
}

# load_policy NAME: standard input into the emulator as ACL policy NAME.
load_policy() {
	emu PUT "/v1/sys/policies/acl/$1" "$(jq -Rs '{policy: .}')" >/dev/null
	[[ $EMU_STATUS == 204 ]] ||
		{ echo "policy $1: $EMU_STATUS $(cat "$VC_TEST_DIR/emu.body")"; return 1; }
}

# bind REF [policy options]: TOK becomes a Vault token whose only policy
# (besides default) is vaultctl-org policy REF [options].
bind() {
	local name=p$RANDOM
	vaultctl-org policy "$@" | load_policy "$name" || return 1
	TOK=$(emu POST /v1/auth/token/create "{\"policies\": [\"$name\"]}" |
		jq -r .auth.client_token)
	[[ $TOK == hvs.* ]] || { echo "no token for $name"; return 1; }
}

# as_tok CMD...: CMD with the token TOK instead of the root token.
as_tok() {
	run --separate-stderr env VAULT_TOKEN="$TOK" "$@"
}

# get_as_tok REF: the token reads REF's value (the one setup_file wrote).
get_as_tok() {
	as_tok vaultctl-secret get "$1"
	[ "$status" -eq 0 ] || { echo "get $1: exit $status: $stderr"; return 1; }
	[ "$output" = "db-of-${1%/*}" ] || { echo "get $1: '$output'"; return 1; }
}

# denied_as_tok CMD...: Vault refuses the token: exit 4, saying so.
denied_as_tok() {
	as_tok "$@"
	[ "$status" -eq 4 ] || { echo "$*: exit $status, expected 4: $stderr"; return 1; }
	[[ $stderr == *"vault denied access"* ]] || { echo "$*: $stderr"; return 1; }
}

@test "--read-only on an environment: the token reads it and nothing else" {
	bind acme/api/prod --read-only
	get_as_tok acme/api/prod/DB_URL
	as_tok vaultctl-secret get acme/api/prod/DB_URL --version 1
	[ "$status" -eq 0 ]
	# Another environment of the same project, another project, another
	# organization.
	denied_as_tok vaultctl-secret get acme/api/stage/DB_URL
	denied_as_tok vaultctl-secret get acme/web/prod/DB_URL
	denied_as_tok vaultctl-secret get other/api/prod/DB_URL

	# No write, new secret or new version, and nothing changes.
	local before
	before=$(checksums)
	as_tok bash -c 'printf changed | vaultctl-secret set acme/api/prod/DB_URL'
	[ "$status" -eq 4 ] || { echo "set: exit $status: $stderr"; false; }
	[[ $stderr == *"vault denied access"* ]]
	as_tok bash -c 'printf new | vaultctl-secret set acme/api/prod/NEW_ONE'
	[ "$status" -eq 4 ]
	denied_as_tok vaultctl-secret rm acme/api/prod/DB_URL --yes
	[ "$(checksums)" = "$before" ]
	same_version acme/api/prod/DB_URL 1
	store_gone acme/api/prod/NEW_ONE
	run vaultctl-secret get acme/api/prod/DB_URL
	[ "$output" = db-of-acme/api/prod ]
}

@test "member on a project: reads and writes its environments, removes nothing" {
	bind acme/api --role member
	get_as_tok acme/api/prod/DB_URL
	get_as_tok acme/api/stage/DB_URL
	denied_as_tok vaultctl-secret get acme/web/prod/DB_URL
	as_tok bash -c 'printf db-of-acme/api/stage | vaultctl-secret set acme/api/stage/DB_URL'
	[ "$status" -eq 0 ] || { echo "set: $stderr"; false; }
	same_version acme/api/stage/DB_URL 2
	as_tok bash -c 'printf fresh | vaultctl-secret set acme/api/stage/FRESH'
	[ "$status" -eq 0 ] || { echo "set of a new secret: $stderr"; false; }
	same_version acme/api/stage/FRESH 1
	denied_as_tok vaultctl-secret rm acme/api/stage/FRESH --yes
	denied_as_tok vaultctl-secret purge acme/api/stage/FRESH --yes
	same_version acme/api/stage/FRESH 1
}

@test "admin on the organization: also removes, restores and destroys" {
	bind acme --role admin
	get_as_tok acme/web/prod/DB_URL
	denied_as_tok vaultctl-secret get other/api/prod/DB_URL
	s_put acme/web/prod/GONE gone
	as_tok vaultctl-secret rm acme/web/prod/GONE --yes
	[ "$status" -eq 0 ] || { echo "rm: $stderr"; false; }
	as_tok vaultctl-secret restore acme/web/prod/GONE
	[ "$status" -eq 0 ] || { echo "restore: $stderr"; false; }
	as_tok vaultctl-secret purge acme/web/prod/GONE --yes
	[ "$status" -eq 0 ] || { echo "purge: $stderr"; false; }
	store_gone acme/web/prod/GONE
}

@test "viewer: the names of the environment's secrets, no value" {
	bind acme/api/prod --role viewer
	local folder
	folder=$(s_env_prefix acme/api/prod)
	run curl -s -H "X-Vault-Token: $TOK" "$VAULT_ADDR/v1/secret/metadata/$folder?list=true"
	[ "$(jq -c .data.keys <<<"$output")" = '["DB_URL"]' ]
	run curl -s -o /dev/null -w '%{http_code}' -H "X-Vault-Token: $TOK" \
		"$VAULT_ADDR/v1/secret/metadata/${folder}DB_URL"
	[ "$output" = 403 ]
	denied_as_tok vaultctl-secret get acme/api/prod/DB_URL
}

@test "the policy: stable, valid, every path under the environment's folder" {
	local a b ids o p e
	ok vaultctl-org policy acme/api/prod --role owner
	a=$output
	ok vaultctl-org policy acme/api/prod --role owner
	[ "$output" = "$a" ]
	load_policy stable <<<"$a"
	read -r o p e <<<"$(s_ids acme/api/prod)"
	# Names and ids resolve alike.
	ok vaultctl-org policy "$o/$p/$e" --role owner
	[ "$(sed 1d <<<"$output")" = "$(sed 1d <<<"$a")" ]
	[ "$(grep -c '^path ' <<<"$a")" -eq 5 ]
	[ -z "$(grep '^path ' <<<"$a" | grep -vE "^path \"secret/(data|metadata|delete|undelete|destroy)/organizations/$o/projects/$p/environments/$e/secrets/\*\" \{\$")" ]
	# --read-only narrows every role to read and list; a viewer stays a
	# viewer.
	ok vaultctl-org policy acme/api/prod --role owner --read-only
	b=$(sed 1d <<<"$output")
	ok vaultctl-org policy acme/api/prod --read-only
	[ "$(sed 1d <<<"$output")" = "$b" ]
	[ "$(grep -c '^path ' <<<"$b")" -eq 2 ]
	[ -z "$(grep -E 'create|update|delete' <<<"$b")" ]
	ok vaultctl-org policy acme/api/prod --role viewer --read-only
	b=$(sed 1d <<<"$output")
	ok vaultctl-org policy acme/api/prod --role viewer
	[ "$(sed 1d <<<"$output")" = "$b" ]
}

@test "bad input exits 2 naming the problem and changes nothing" {
	refused 2 "invalid role 'god'" vaultctl-org policy acme/api/prod --role god
	refused 2 "not one secret" vaultctl-org policy acme/api/prod/DB_URL
	refused 2 "not one secret" vaultctl-org policy acme/api/prod/DB_URL --read-only
	refused 2 "empty part" vaultctl-org policy acme//prod
	refused 2 "invalid project name" vaultctl-org policy 'acme/b@d/prod'
	refused 2 "too many arguments" vaultctl-org policy acme extra
	refused 2 "'--read-only' takes no value" vaultctl-org policy acme --read-only=yes
	refused 3 "environment 'nope' not found" vaultctl-org policy acme/api/nope
	refused 3 "organization 'nope' not found" vaultctl-org policy nope --read-only
}

@test "who may ask: admins and owners of the organization, global admins" {
	local who
	for who in boss owner2; do
		ok vaultctl-org --as "$who@example.com" policy acme/api/prod --read-only
	done
	ok vaultctl-org policy acme/api/prod --read-only
	for who in dev look outsider; do
		refused 4 "permission denied" vaultctl-org --as "$who@example.com" \
			policy acme/api/prod --read-only
	done
	refused 4 "permission denied" vaultctl-org --as boss@example.com policy other/api
}

@test "--help and --list-commands show the scope and --read-only" {
	ok vaultctl-org policy --help
	[[ $output == *"vaultctl-org policy ORG[/PROJECT[/ENV]] [--role R] [--read-only]"* ]]
	ok vaultctl-org --list-commands
	grep -qE '^policy .*--read-only' <<<"$output"
}
