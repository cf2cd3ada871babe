#!/usr/bin/env bats
# vaultctl-secret inject on the Vault store, through the emulator
# (tests/vault/emulator.py): the tests of inject_helper.bash, as
# 28-inject.bats runs them on the local store.

load helper
load secret_helper
load export_helper
load inject_helper

setup_file() {
	vc_server_start --backend vault || return 1
	emu_start
	x_bootstrap
	i_setup ijv
}

teardown_file() {
	emu_stop
	vc_server_stop
}

setup() {
	export VAULTCTL_USER=$X_ADMIN IORG=ijv IENV=ijv/api/prod CORPUS=$VC_TEST_DIR/corpus
}

@test "vault: inject raw: every corpus value's exact bytes between the text around it" { t_inj_raw; }
@test "vault: inject json: python json reads back every value but invalid UTF-8" { t_inj_json; }
@test "vault: inject yaml: PyYAML (pure and libyaml) reads back every value but invalid UTF-8" { t_inj_yaml; }
@test "vault: inject sh: bash and dash read back every value but NUL" { t_inj_sh; }
@test "vault: inject: a value a filter cannot carry is refused by name, exit 2, nothing written or audited" { t_inj_refusals; }
@test "vault: inject: text outside references byte for byte, spaces inside the braces optional" { t_inj_passthrough; }
@test "vault: inject: a missing reference exits 3, writes nothing, audits nothing" { t_inj_missing; }
@test "vault: inject -o: atomic, mode 0600, the bytes stdout would get" { t_inj_out_file; }
@test "vault: inject: one audit row per distinct secret, several environments; a viewer may not" { t_inj_audit; }
@test "vault: inject: malformed references and options exit 2, nothing written or read" { t_inj_bad; }
