#!/usr/bin/env bats
# completions/vaultctl.bash: commands and options from the tools, names of
# organizations, projects, environments and secrets from the database.

bats_require_minimum_version 1.5.0
load helper

setup_file() {
	vc_server_start
	vc_sql "INSERT INTO plans (id, name, description, price, billing_cycle,
		secrets_limit, features, created_at, updated_at) VALUES
		(UUID(), 'free', '', 0, 'monthly', 10, NULL, NOW(), NOW())"
	export VAULTCTL_USER=root@example.com
	vaultctl-org -q user add root@example.com --no-password
	vaultctl-org -q user add eve@example.com --no-password
	vaultctl-org -q create acme
	vaultctl-org -q create beta
	vaultctl-org -q create eves --owner eve@example.com
	vaultctl-org -q project create acme/api
	vaultctl-org -q project create acme/web
	vaultctl-org -q project create beta/billing
	vaultctl-org -q env create acme/api/prod
	vaultctl-org -q env create acme/api/staging
	printf v | vaultctl-secret -q set acme/api/prod/DB_URL
	printf v | vaultctl-secret -q set acme/api/prod/API_KEY
}

teardown_file() {
	vc_server_stop
}

# complete WORDS...: runs the completion of the line WORDS (the cursor at
# the end of the last word) and prints COMPREPLY, one per line, sorted.
complete_line() {
	bash -c '
		source "$1/completions/vaultctl.bash"
		shift
		COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE="$*"
		COMP_POINT=${#COMP_LINE}
		COMPREPLY=()
		_vaultctl "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}" | sort
	' complete "$REPO" "$@"
}

@test "the file registers a completion for all five binaries" {
	run bash -c 'source "$1/completions/vaultctl.bash" && complete -p' x "$REPO"
	[ "$status" -eq 0 ]
	local t
	for t in vaultctl vaultctl-org vaultctl-secret vaultctl-plan vaultctl-audit; do
		grep -qE "^complete -F _vaultctl .*\b$t\b" <<<"$output" || { echo "no $t"; false; }
	done
}

@test "vaultctl-secret get acme/<TAB> offers acme's projects" {
	run complete_line vaultctl-secret get acme/
	[ "$status" -eq 0 ]
	[ "$output" = "acme/api/
acme/web/" ]
}

@test "organizations, environments and secrets complete level by level" {
	run complete_line vaultctl-secret get ""
	[ "$output" = "acme/
beta/
eves/" ]
	run complete_line vaultctl-secret get a
	[ "$output" = acme/ ]
	run complete_line vaultctl-secret get acme/api/
	[ "$output" = "acme/api/prod/
acme/api/staging/" ]
	run complete_line vaultctl-secret get acme/api/prod/
	[ "$output" = "acme/api/prod/API_KEY
acme/api/prod/DB_URL" ]
	run complete_line vaultctl-secret get acme/api/prod/D
	[ "$output" = acme/api/prod/DB_URL ]
	# An environment is the last part of list's reference: no '/' after it.
	run complete_line vaultctl-secret list acme/api/p
	[ "$output" = acme/api/prod ]
	run complete_line vaultctl-org env list acme/
	[ "$output" = "acme/api
acme/web" ]
	run complete_line vaultctl-org show b
	[ "$output" = beta ]
	# Nothing beyond the reference's depth.
	run complete_line vaultctl-org show acme/
	[ -z "$output" ]
	# Through the front command.
	run complete_line vaultctl secret get acme/
	[ "$output" = "acme/api/
acme/web/" ]
}

@test "export and run take several environments; nothing of ours after run's --" {
	run complete_line vaultctl-secret export acme/api/prod acme/api/s
	[ "$output" = "acme/api/staging" ]
	run complete_line vaultctl-secret run acme/api/prod --only DB_URL acme/api/s
	[ "$output" = "acme/api/staging" ]
	run complete_line vaultctl-secret run acme/api/prod -- acme/api/s
	[ -z "$output" ]
	run complete_line vaultctl-secret run acme/api/prod --watch --signal H
	[ "$output" = HUP ]
	run complete_line vaultctl-secret run acme/api/prod --watch --interval 5
	[ "$output" = 500ms ]
	run complete_line vaultctl-secret run acme/api/prod --pres
	[ "$output" = --preserve-env ]
}

@test "names are those the acting user of the line may see" {
	run complete_line vaultctl-secret --as eve@example.com get ""
	[ "$output" = eves/ ]
	VAULTCTL_USER=eve@example.com run complete_line vaultctl-org show ""
	[ "$output" = eves ]
}

@test "commands, two-word commands and options come from --list-commands" {
	run complete_line vaultctl-org pro
	[ "$output" = project ]
	run complete_line vaultctl-org project ""
	[ "$output" = "$(printf '%s\n' create list rm set show)" ]
	run complete_line vaultctl-org user check
	[ "$output" = check-password ]
	run complete_line vaultctl-org rm acme --y
	[ "$output" = --yes ]
	run complete_line vaultctl-org user add x@example.com --pa
	[ "$output" = --password-stdin ]
	run complete_line vaultctl-secret ro
	[ "$output" = "$(printf '%s\n' rollback rotate)" ]
	run complete_line vaultctl ""
	local t
	for t in org secret plan audit; do grep -qx "$t" <<<"$output"; done
}

@test "option values: formats, roles, emails" {
	run complete_line vaultctl-org list -o j
	[ "$output" = "$(printf '%s\n' json jsonl)" ]
	run complete_line vaultctl-org member add acme eve@example.com --role ""
	[ "$output" = "$(printf '%s\n' admin member owner viewer)" ]
	run complete_line vaultctl-org user set eve@example.com --role ""
	[ "$output" = "$(printf '%s\n' admin user)" ]
	run complete_line vaultctl-org member add acme e
	[ "$output" = eve@example.com ]
	# set --cas N: the option, then a number, never a name.
	run complete_line vaultctl-secret set acme/api/prod/DB_URL --ca
	[ "$output" = --cas ]
	run complete_line vaultctl-secret set acme/api/prod/DB_URL --cas ""
	[ -z "$output" ]
	run complete_line vaultctl-secret set --cas 1 acme/api/prod/D
	[ "$output" = acme/api/prod/DB_URL ]
	run complete_line vaultctl-secret run acme/api/prod --fallb
	[ "$output" = "$(printf '%s\n' --fallback --fallback-max-age)" ]
	run complete_line vaultctl-secret export acme/api/prod --fallback x --fallback-max-age ""
	[ "$output" = "$(printf '%s\n' 1h 24h 7d)" ]
}

@test "policy: an organization, project or environment, --role and --read-only" {
	run complete_line vaultctl-org policy a
	[ "$output" = "acme
acme/" ]
	run complete_line vaultctl-org policy acme/
	[ "$output" = "acme/api
acme/api/
acme/web
acme/web/" ]
	run complete_line vaultctl-org policy acme/api/s
	[ "$output" = acme/api/staging ]
	run complete_line vaultctl-org policy acme/api/prod/
	[ -z "$output" ]
	run complete_line vaultctl-org policy acme/api/prod --r
	[ "$output" = "$(printf '%s\n' --read-only --role)" ]
	run complete_line vaultctl-org policy acme --role v
	[ "$output" = viewer ]
}

@test "errors are silenced: no configuration, no names and nothing on stderr" {
	run --separate-stderr complete_line vaultctl-secret -c /nonexistent/vaultctl.cnf get acme/
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ -z "$stderr" ]
	VAULTCTL_CONFIG=/nonexistent run --separate-stderr complete_line vaultctl-secret get ""
	[ -z "$output" ]
	[ -z "$stderr" ]
}

@test "restore-env: an environment, its options, nothing offered for --at's time" {
	run complete_line vaultctl-secret restore-env acme/api/
	[ "$output" = "acme/api/prod
acme/api/staging" ]
	run complete_line vaultctl-secret restore-env acme/api/prod --
	[[ $output == *--at*--dry-run*--yes* ]]
	run complete_line vaultctl-secret restore-env acme/api/prod --at ""
	[ -z "$output" ]
}

@test "inject: -i and -o complete files, no names; -o elsewhere is the output format" {
	local d=$BATS_TEST_TMPDIR
	touch "$d/tmpl.yaml"
	run complete_line vaultctl-secret inject -i "$d/tmpl"
	[ "$output" = "$d/tmpl.yaml" ]
	run complete_line vaultctl-secret inject -o "$d/tm"
	[ "$output" = "$d/tmpl.yaml" ]
	run complete_line vaultctl-secret inject a
	[ -z "$output" ]
	run complete_line vaultctl-secret list acme/api/prod -o j
	[ "$output" = "$(printf '%s\n' json jsonl)" ]
	run complete_line vaultctl-secret inj
	[ "$output" = inject ]
}
