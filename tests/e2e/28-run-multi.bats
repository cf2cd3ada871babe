#!/usr/bin/env bats
# run and export with several environments (later ones win on a name) and
# run --preserve-env, on the local store (tests in run_multi_helper.bash).

load helper
load secret_helper
load run_multi_helper

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

@test "several environments: the later one wins on a name, values exact" { m_later_wins; }
@test "several environments: --only names one of them at least" { m_only_any; }
@test "several environments: one named twice, read whole, the last naming wins" { m_repeated; }
@test "several environments: every value read audited in its organization" { m_audit; }
@test "several environments: a right missing on one refuses all" { m_permission; }
@test "--preserve-env: the caller's variables win; exclusive with --pristine" { m_preserve_env; }
@test "--watch: a change restarts a real child with the new value; no busy loop; the command's status" { m_watch_restart; }
@test "--watch --signal HUP --only: the signal sent; a change of another secret is none" { m_watch_signal_only; }
@test "--watch: SIGTERM and SIGINT to the watcher stop the command; 128+sig" { m_watch_forward; }
@test "--watch: exit status, a missing command, no descriptor of ours in the command" { m_watch_status; }
