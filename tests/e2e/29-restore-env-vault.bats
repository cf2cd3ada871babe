#!/usr/bin/env bats
# vaultctl-secret restore-env on the vault store (through the emulator): the tests
# of tests/e2e/restore_helper.bash.

load helper
load secret_helper
load restore_helper

VC_STORE=vault

setup_file() {
	vc_server_start --backend vault
	emu_start
	s_bootstrap
}

teardown_file() {
	emu_stop
	vc_server_stop
}

setup() {
	export VAULTCTL_USER=$VC_ADMIN
}

@test "restore-env puts values back byte for byte, removes, restores; the dry run changes nothing" { t_restore_env; }
@test "restore-env --at a duration; confirmation needs --yes off a terminal" { t_restore_env_duration; }
@test "restore-env refuses a destroyed version it needs (exit 6), nothing changed" { t_restore_env_destroyed; }
@test "restore-env checks the quota for the whole batch (exit 5)" { t_restore_env_quota; }
@test "restore-env: admins only; bad input exits 2 and changes nothing" { t_restore_env_refused; }
@test "restore-env on a terminal: confirmed after the plan; a change meanwhile exits 6" { t_restore_env_changed; }
