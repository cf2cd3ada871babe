#!/usr/bin/env bats
# vaultctl-secret inject on the local store: the tests of inject_helper.bash
# (28-inject-vault.bats runs them on the Vault emulator).

load helper
load export_helper
load inject_helper

setup_file() {
	vc_server_start || return 1
	x_bootstrap
	i_setup ij
}

teardown_file() {
	vc_server_stop
}

setup() {
	export VAULTCTL_USER=$X_ADMIN IORG=ij IENV=ij/api/prod CORPUS=$VC_TEST_DIR/corpus
}

@test "inject raw: every corpus value's exact bytes between the text around it" { t_inj_raw; }
@test "inject json: python json reads back every value but invalid UTF-8" { t_inj_json; }
@test "inject yaml: PyYAML (pure and libyaml) reads back every value but invalid UTF-8" { t_inj_yaml; }
@test "inject sh: bash and dash read back every value but NUL" { t_inj_sh; }
@test "inject: a value a filter cannot carry is refused by name, exit 2, nothing written or audited" { t_inj_refusals; }
@test "inject: text outside references byte for byte, spaces inside the braces optional" { t_inj_passthrough; }
@test "inject: a missing reference exits 3, writes nothing, audits nothing" { t_inj_missing; }
@test "inject -o: atomic, mode 0600, the bytes stdout would get" { t_inj_out_file; }
@test "inject: one audit row per distinct secret, several environments; a viewer may not" { t_inj_audit; }
@test "inject: malformed references and options exit 2, nothing written or read" { t_inj_bad; }
