#!/usr/bin/env bats
# The secret-hygiene scan (tests/harness/hygiene.py) on what helper.bash
# collects: it passes on a clean run; a value planted in a table, the
# general log, the error log, the shell's history or the output of a
# command that was not asked for values makes it fail, naming the file,
# the place and the value's owner, never the value.  Each test collects
# into a directory of its own: the planted values stay out of the suite's
# own scan.

bats_require_minimum_version 1.5.0
load helper

ENV=h/api/prod

setup_file() {
	export VC_GENERAL_LOG=1     # also when run alone
	vc_server_start
	vc_sql "INSERT INTO plans (id, name, description, price, billing_cycle,
		secrets_limit, features, created_at, updated_at) VALUES (UUID(),
		'free', '', 0, 'monthly', NULL, NULL, NOW(), NOW())"
	vaultctl-org -q user add admin@example.com --no-password
	export VAULTCTL_USER=admin@example.com
	vaultctl-org -q create h
	vaultctl-org -q project create h/api
	vaultctl-org -q env create "$ENV"
	export VALUE="P1ant3d-$RANDOM$RANDOM-value"
	printf '%s' "$VALUE" | vaultctl-secret -q set "$ENV/PLANTED"
	printf '%s' "$VALUE" >"$BATS_FILE_TMPDIR/value"
}

teardown_file() {
	VC_HYGIENE_OUT=    # the planted values go nowhere
	vc_server_stop
}

setup() {
	VC_HYGIENE_DIR=$BATS_TEST_TMPDIR/hygiene
	VC_HYGIENE_OUT=$VC_HYGIENE_DIR/planted.bats
	mkdir -p "$VC_HYGIENE_OUT"
}

# collect: what vc_server_stop would collect, the server still running.
collect() {
	vc_hygiene_files "$(vc_hygiene_server)"
}

# scan: the scan of this test's collection, into $output.
scan() {
	run --separate-stderr /usr/bin/python3 "$REPO/tests/harness/hygiene.py" \
		"$VC_HYGIENE_DIR"
}

@test "clean: the value found where get was asked for it, in the tests' own SQL, nowhere else" {
	run -0 vaultctl-secret get "$ENV/PLANTED"
	[ "$output" == "$VALUE" ]
	vc_sql "SELECT COUNT(*) FROM vc_values WHERE INSTR(ciphertext, '$VALUE')"
	collect
	scan
	[ "$status" -eq 0 ] || { echo "$output $stderr"; false; }
	[[ $output == *"ok 1 - planted.bats"* ]]
	[[ $output == *"# hygiene: 1 values, "* ]]
	[[ $output == *"found 1 times where asked for, 1 in the tests' own SQL"*", 0 where they must not be"* ]]
}

@test "planted: a table, the general log, the error log, the history, outputs" {
	local fake=$BATS_TEST_TMPDIR/fake
	# The tools' own account writes it to a table: the table and the
	# general log (a statement of secrets_api_user) both show it.
	vc_sql_as secrets_api_user "UPDATE secret_metadata SET description =
		'$VALUE' WHERE name = 'PLANTED'"
	printf 'note: %s\n' "$VALUE" >>"$VC_TEST_DIR/error.log"
	mkdir -p "$VC_TEST_DIR/state/vaultctl"
	printf 'secret get %s\n' "$VALUE" >>"$VC_TEST_DIR/state/vaultctl/history"
	# Tools that print the value where nobody asked for it: stand-ins
	# first on PATH.
	mkdir "$fake"
	printf '#!/bin/sh\ncat "%s"\n' "$BATS_FILE_TMPDIR/value" >"$fake/vaultctl-audit"
	printf '#!/bin/sh\ncat "%s" >&2\n' "$BATS_FILE_TMPDIR/value" >"$fake/vaultctl-secret"
	chmod +x "$fake"/*
	PATH=$fake:$PATH run vaultctl-audit log
	PATH=$fake:$PATH run --separate-stderr vaultctl-secret get "$ENV/PLANTED"
	# Asked for: not a leak.  Not a tool: not checked.
	run -0 vaultctl-secret get "$ENV/PLANTED"
	run -0 cat "$BATS_FILE_TMPDIR/value"
	collect
	scan
	[ "$status" -eq 1 ]
	[[ $output == *"not ok 1 - planted.bats"* ]]
	local want
	for want in "/tables.sql, byte " \
		"/files/general.log, a statement of secrets_api_user" \
		"/files/error.log, byte " "/files/state/vaultctl/history, byte " \
		"runs.log, test $BATS_TEST_NUMBER (planted: a table, the general log, the error log, the history, outputs): stdout of \`vaultctl-audit log\`" \
		"runs.log, test $BATS_TEST_NUMBER (planted: a table, the general log, the error log, the history, outputs): stderr of \`vaultctl-secret get $ENV/PLANTED\`"
	do
		grep -F -- "$want" <<<"$output" | grep -qF "of planted.bats: $ENV/PLANTED v1 (local store)" ||
			{ echo "not reported: $want"; echo "$output"; false; }
	done
	[[ $output == *"value 'P1a...' (${#VALUE} bytes, sha256 "* ]]
	[[ $output == *"found 1 times where asked for, "*", 6 where they must not be"* ]]
	[[ $output != *"$VALUE"* && $stderr != *"$VALUE"* ]]
}

@test "which outputs may hold values: the commands that were asked for them" {
	run -0 /usr/bin/python3 - "$REPO/tests/harness" <<-'EOF'
	import sys
	sys.path.insert(0, sys.argv[1])
	from hygiene import words_policy as p
	A, S, N = ("allowed", "allowed"), ("strict", "strict"), ("skip", "skip")
	cases = [
	    (["vaultctl-secret", "get", "o/p/e/N"], ("allowed", "strict")),
	    (["vaultctl-secret", "-c", "x.cnf", "--as", "a@b", "-o", "json",
	      "get", "o/p/e/N"], ("allowed", "strict")),
	    (["/x/bin/vaultctl-secret", "export", "o/p/e"], ("allowed", "strict")),
	    (["vaultctl-secret", "export", "o/p/e", "-O", "f"], S),
	    (["vaultctl-secret", "run", "o/p/e", "--", "sh", "-c", "x"], A),
	    (["vaultctl-secret", "diff", "a/b/c", "a/b/d"], S),
	    (["vaultctl-secret", "diff", "a/b/c", "a/b/d", "--show-values"],
	     ("allowed", "strict")),
	    (["vaultctl-secret", "rotate", "o/p/e/N"], S),
	    (["vaultctl-secret", "diff", "a/b/c", "a/b/d", "--show-values"],
	     ("allowed", "strict"), "1"),
	    (["vaultctl-secret", "get", "o/p/e/N"], S, "3"),
	    (["vaultctl-secret", "export", "o/p/e", "--format", "docker"], S, "2"),
	    (["vaultctl-secret", "run", "o/p/e", "--", "false"], A, "1"),
	    (["vaultctl-secret", "rotate", "o/p/e/N", "--show"], ("allowed", "strict")),
	    (["vaultctl-secret", "list", "o/p/e"], S),
	    (["vaultctl-secret", "set", "o/p/e/get"], S),
	    (["vaultctl-secret", "--as", "get", "list", "o/p/e"], S),
	    (["vaultctl-org", "get"], S),
	    (["vaultctl", "secret", "get", "o/p/e/N"], ("allowed", "strict")),
	    (["vaultctl", "org", "list"], S),
	    (["env", "-u", "X", "A=1", "vaultctl-secret", "get", "x"], ("allowed", "strict")),
	    (["timeout", "5", "vaultctl-audit", "log"], S),
	    (["bash", "-c", "printf 'secret get o/p/e/N' | vaultctl shell"], A),
	    (["bash", "-c", "printf 'org list' | vaultctl shell"], S),
	    (["bash", "-c", "jq . f"], N),
	    (["cat", "f"], N),
	    (["check.sh", "sh"], N),
	]
	cases = [c if len(c) == 3 else c + ("0",) for c in cases]
	bad = [(w, rc, p(w, None, rc), want) for w, want, rc in cases
	       if p(w, None, rc) != want]
	bad += [("function", p(["f"], b), want) for b, want in [
	    ("f () { vaultctl-secret get \"$1\"; }", A),
	    ("f () { vaultctl-org list; }", S),
	    ("f () { mariadb -e \"$1\"; }", N)] if p(["f"], b) != want]
	for b in bad:
	    print(b)
	sys.exit(1 if bad else 0)
	EOF
}
