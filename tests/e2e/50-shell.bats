#!/usr/bin/env bats
# vaultctl front command and `vaultctl shell`.

load helper

setup_file() {
	vc_server_start
	export VAULTCTL_USER=admin@example.com
	export XDG_STATE_HOME=$VC_TEST_DIR/state
	vaultctl-org user add admin@example.com --no-password
	vc_sql "INSERT INTO plans (id,name,description,price,billing_cycle,secrets_limit,features,created_at,updated_at) VALUES (UUID(),'free','',0,'monthly',NULL,NULL,NOW(),NOW())"
	vaultctl-org create acme
	vaultctl-org project create acme/api
	vaultctl-org env create acme/api/prod
	printf 'v1' | vaultctl-secret set acme/api/prod/DB_URL
}

teardown_file() { vc_server_stop; }

@test "vaultctl X runs vaultctl-X and passes its exit status" {
	run vaultctl secret get acme/api/prod/DB_URL
	[ "$status" -eq 0 ]
	[ "$output" = "v1" ]
	run vaultctl secret get acme/api/prod/NOPE
	[ "$status" -eq 3 ]
	run vaultctl nosuchtool
	[ "$status" -eq 2 ]
	[[ $output == *"unknown tool 'nosuchtool'"* ]]
}

@test "vaultctl --help lists every tool's commands" {
	run vaultctl --help
	[ "$status" -eq 0 ]
	for t in org secret plan audit; do
		[[ $output == *"vaultctl-$t:"* ]]
	done
	[[ $output == *"member add"* ]]
	[[ $output == *"stats recompute"* ]]
	[[ $output == *"export"* ]]
}

@test "shell runs commands and keeps exit status of the last one" {
	run bash -c "printf 'secret get acme/api/prod/DB_URL\norg list -o tsv\n' | vaultctl shell"
	[ "$status" -eq 0 ]
	[[ $output == *"v1"* ]]
	[[ $output == *"acme"*"owner"* ]]
	run bash -c "printf 'secret get acme/api/prod/NOPE\n' | vaultctl shell"
	[ "$status" -eq 3 ]
}

@test "shell: run executes as a child and the shell goes on" {
	run bash -c "printf 'secret run acme/api/prod -- sh -c \"exit 42\"\nsecret get acme/api/prod/DB_URL\n' | vaultctl shell"
	[[ $output == *"v1"* ]]
	[ "$status" -eq 0 ]
}

@test "shell: one database connection for many commands" {
	local before after n
	before=$(vc_sql "SHOW GLOBAL STATUS LIKE 'Connections'" | cut -f2)
	# Ten reads in the shell
	run bash -c "for i in 1 2 3 4 5 6 7 8 9 10; do echo 'secret get acme/api/prod/DB_URL'; done | vaultctl shell"
	[ "$status" -eq 0 ]
	after=$(vc_sql "SHOW GLOBAL STATUS LIKE 'Connections'" | cut -f2)
	n=$((after - before - 1))   # vc_sql itself connects once
	echo "connections: $n" >&3
	# metadata + value store connections, opened once each
	[ "$n" -le 3 ]
	[ "$(echo "$output" | grep -c '^vaultctl> v1')" -eq 10 ] || [ "$(echo "$output" | grep -c 'v1')" -eq 10 ]
}

@test "shell: history is private and never holds value-writing lines" {
	run bash -c "printf 'org list\nsecret set acme/api/prod/X --from-file /dev/null\nsecret rotate acme/api/prod/ROTATED\nplan list\n' | vaultctl shell"
	local h=$XDG_STATE_HOME/vaultctl/history
	[ -f "$h" ]
	[ "$(stat -c %a "$h")" = 600 ]
	grep -qx 'org list' "$h"
	grep -qx 'plan list' "$h"
	[ "$(grep -cE 'secret set' "$h")" == 0 ]
	[ "$(grep -cE 'rotate' "$h")" == 0 ]
}

@test "shell: a value is never read from the shell's own input" {
	run bash -c "printf 'secret set acme/api/prod/NEW\nsneaky-value\n' | vaultctl shell"
	[[ $output == *"in the shell a value comes from --from-file"* ]]
	run vaultctl-secret get acme/api/prod/NEW
	[ "$status" -eq 3 ]
}

@test "shell: unknown tool and unterminated quote are reported, shell continues" {
	run bash -c "printf 'bogus cmd\nsecret get \"acme/api\nsecret get acme/api/prod/DB_URL\n' | vaultctl shell"
	[[ $output == *"unknown tool 'bogus'"* ]]
	[[ $output == *"unterminated quote"* ]]
	[[ $output == *"v1"* ]]
}

@test "shell: an empty --as or \$VAULTCTL_USER is a usage error there too" {
	run bash -c "printf \"org list --as ''\\norg list -o tsv\\n\" | vaultctl shell"
	[[ $output == *"empty user name (--as '')"* ]]
	# The next command goes on as the acting user of the session.
	[[ $output == *"acme"*"owner"* ]]
	run bash -c "printf \"org list --as ''\\n\" | vaultctl shell"
	[ "$status" -eq 2 ]
	run bash -c "printf 'org list\\n' | VAULTCTL_USER= vaultctl shell"
	[ "$status" -eq 2 ]
	[[ $output == *"empty user name"* ]]
}

@test "vaultctl --help and each tool's --help say what the tool is for, from one list" {
	local t summary
	run vaultctl --help
	for t in org secret plan audit; do
		summary=$(vaultctl-$t --help | sed -n "1s/^vaultctl-$t - //p")
		[ -n "$summary" ]
		[[ $output == *"vaultctl-$t: $summary"* ]]
	done
	run vaultctl nosuchtool
	[[ $output == *"one of org, secret, plan, audit"* ]]
}
