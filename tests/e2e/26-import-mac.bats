#!/usr/bin/env bats
# import and copy on the local store decide add / change / unchanged
# against the MAC of what vaultctl last wrote, without reading the values
# they can vouch for (tests/e2e/valuemac_helper.bash).

load helper
load secret_helper
load valuemac_helper

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

@test "the same file imported twice: nothing written, no value read the second time; copy alike" { t_mac_twice; }
@test "a changed value: written with --overwrite, refused by name without, skipped with --skip-existing" { t_mac_changed; }
@test "rollback: the value rolled back to is current, the one rolled away a change" { t_mac_rollback; }
@test "rm and restore keep the value and its MAC; a removed secret is added" { t_mac_restore; }
@test "a MAC behind its version, of another key or none is unknown: read once, then recorded" { t_mac_unknown; }
@test "destroying the current version leaves no MAC of it" { t_mac_destroy; }
@test "without an audit key: no MAC, the values are read to compare" { t_mac_no_key; }
