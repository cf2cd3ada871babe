#!/usr/bin/env bats
# vaultctl-secret import, run, diff and copy: batches are validated whole
# (names, syntax, conflicts, quota) before anything is written; run hands
# the values to a command exactly and takes its exit status; diff and copy
# compare and move whole environments.

load helper
load export_helper

setup_file() {
	vc_server_start || return 1
	x_bootstrap
	# One environment of hard values (every corpus value but NUL) for run.
	x_org hard NULL prod
	export CORPUS=$VC_TEST_DIR/corpus
	x_corpus "$CORPUS"
	rm "$CORPUS/NUL"
	x_load hard/api/prod "$CORPUS"
}

teardown_file() {
	vc_server_stop
}

# ---- import -----------------------------------------------------------

@test "import dotenv: comments, export prefixes, quotes, multi-line values, inline comments" {
	local f=$BATS_TEST_TMPDIR/in.env
	x_here NULL
	cat >"$f" <<-'EOF'
	# a comment line
	   # an indented comment

	export EXPORTED=yes
	export	TABBED='tab after export'
	PLAIN=plain value   # an inline comment
	HASH_IN_WORD=a#b
	EMPTY=
	SQ='single $HOME `id` \n stays'
	DQ="double\twith \"escapes\"\nand a new line"
	MULTI_SQ='-----BEGIN KEY-----
	line two
	-----END KEY-----
	'
	MULTI_DQ="first
	second"
	SPACED = 'around the equals'
	EOF
	run -0 vaultctl-secret import "$ENV" --file "$f"
	[[ $output == *"wrote 10 secrets to $ENV"* ]]
	x_got_text "$ENV/EXPORTED" yes
	x_got_text "$ENV/TABBED" 'tab after export'
	x_got_text "$ENV/PLAIN" 'plain value'
	x_got_text "$ENV/HASH_IN_WORD" 'a#b'
	x_got_text "$ENV/EMPTY" ''
	x_got_text "$ENV/SQ" 'single $HOME `id` \n stays'
	x_got_text "$ENV/DQ" $'double\twith "escapes"\nand a new line'
	x_got_text "$ENV/MULTI_SQ" $'-----BEGIN KEY-----\nline two\n-----END KEY-----\n'
	x_got_text "$ENV/MULTI_DQ" $'first\nsecond'
	x_got_text "$ENV/SPACED" 'around the equals'
	[ "$(x_names "$ENV" | x_names_csv)" == \
		DQ,EMPTY,EXPORTED,HASH_IN_WORD,MULTI_DQ,MULTI_SQ,PLAIN,SPACED,SQ,TABBED ]
	# "export" is not a secret: only the prefix of the line.
	run -3 vaultctl-secret get "$ENV/export"
}

@test "import dotenv from standard input, with CRLF line ends and a byte order mark" {
	x_here NULL
	printf '\357\273\277A=one\r\n# c\r\nB="two\r\nlines"\r\nC=three\r\n' |
		vaultctl-secret -q import "$ENV"
	x_got_text "$ENV/A" one
	x_got_text "$ENV/B" $'two\nlines'
	x_got_text "$ENV/C" three
	[ "$(x_names "$ENV" | x_names_csv)" == A,B,C ]
}

@test "import json: escapes, UTF-8, empty and multi-line values" {
	local f=$BATS_TEST_TMPDIR/in.json
	x_here NULL
	cat >"$f" <<-'EOF'
	{
	  "URL": "postgres://u:p@h/db?x=1&y=$HOME",
	  "QUOTES": "it's \"quoted\" \\ and `back`",
	  "LINES": "a\nb\r\nc\n",
	  "UNICODE": "h\u00e9llo \ud83d\udd11 日本",
	  "EMPTY": ""
	}
	EOF
	run -0 vaultctl-secret import "$ENV" --format json --file "$f"
	[[ $output == *"wrote 5 secrets"* ]]
	x_got_text "$ENV/URL" 'postgres://u:p@h/db?x=1&y=$HOME'
	x_got_text "$ENV/QUOTES" 'it'\''s "quoted" \ and `back`'
	x_got_text "$ENV/LINES" $'a\nb\r\nc\n'
	x_got_text "$ENV/UNICODE" $'h\303\251llo \360\237\224\221 \346\227\245\346\234\254'
	x_got_text "$ENV/EMPTY" ''
}

# refused_at FORMAT LINE TEXT: importing TEXT exits 2 naming LINE, and
# changes nothing.
refused_at() {
	local before
	printf '%s' "$3" >"$BATS_TEST_TMPDIR/bad"
	before=$(x_checksum)
	run --separate-stderr vaultctl-secret import "$ENV" --format "$1" \
		--file "$BATS_TEST_TMPDIR/bad"
	[ "$status" -eq 2 ] || { echo "exit $status for: $3"; return 1; }
	[[ $stderr == *"line $2:"* ]] || { echo "no 'line $2:' in: $stderr"; return 1; }
	[ -z "$output" ]
	[ "$(x_checksum)" == "$before" ] || { echo "something was written"; return 1; }
}

@test "a malformed file is refused with its line number (exit 2) and nothing is written" {
	x_here NULL
	x_put "$ENV/KEEP" kept
	refused_at dotenv 3 $'A=1\nB=2\nC="never closed\nD=4\n'
	refused_at dotenv 4 $'A=1\n\n# c\nB=\'open\n'
	refused_at dotenv 2 $'A=1\n1BAD=2\nC=3\n'
	refused_at dotenv 2 $'A=1\nNO_EQUALS\n'
	refused_at dotenv 5 $'A="multi\nline"\n\n\nB="x" trailing\n'
	refused_at dotenv 3 $'A=1\nB=2\nbad-name=3\n'
	refused_at dotenv 3 $'A=1\nB=2\nA=3\n'
	refused_at dotenv 1 $'A=`backquoted`\n'
	refused_at json 3 $'{\n  "A": "1",\n  "B": oops\n}\n'
	refused_at json 2 $'{"A": "1",\n "B": "\377"}\n'
	# Not an object, not strings, bad names: refused whole as well.
	for text in '["A"]' '{"A": 1}' '{"1A": "x"}' '{"A": "x", "a": "y"}' '{"A": "x\u0000y"}'; do
		printf '%s' "$text" >"$BATS_TEST_TMPDIR/bad.json"
		run -2 vaultctl-secret import "$ENV" --format json --file "$BATS_TEST_TMPDIR/bad.json"
	done
	[ "$(x_names "$ENV")" == KEEP ]
	x_got_text "$ENV/KEEP" kept
}

@test "import --dry-run prints add, change and unchanged, and writes nothing" {
	local before
	x_here NULL
	x_put "$ENV/SAME" same
	x_put "$ENV/OLD" old
	printf 'SAME=same\nOLD=new\nNEW=added\n' >"$BATS_TEST_TMPDIR/in.env"
	before=$(x_checksum)
	run --separate-stderr vaultctl-secret import "$ENV" --file "$BATS_TEST_TMPDIR/in.env" \
		--overwrite --dry-run
	status_is 0
	[ "$(sed 's/  */ /' <<<"$output" | LC_ALL=C sort)" == \
		"$(printf 'add NEW\nchange OLD\nunchanged SAME')" ]
	# Never a value in the plan.
	[[ $output != *new* && $output != *added* && $output != *same\ * ]]
	[ "$(x_checksum)" == "$before" ]
	x_got_text "$ENV/OLD" old
	run -3 vaultctl-secret get "$ENV/NEW"
	# With --skip-existing the changed one is shown as left alone.
	run -0 vaultctl-secret import "$ENV" --file "$BATS_TEST_TMPDIR/in.env" \
		--skip-existing --dry-run
	grep -qE '^add +NEW$' <<<"$output"
	grep -qE '^unchanged +OLD' <<<"$output"
	[ "$(grep -cE '^change' <<<"$output")" == 0 ]
	[ "$(x_checksum)" == "$before" ]
}

@test "import: existing names with other values are a conflict (exit 6) without --overwrite or --skip-existing; nothing written" {
	local before
	x_here NULL
	x_put "$ENV/A" a1
	x_put "$ENV/B" b1
	printf 'A=a1\nB=b2\nC=c\n' >"$BATS_TEST_TMPDIR/in.env"
	before=$(x_checksum)
	run --separate-stderr vaultctl-secret import "$ENV" --file "$BATS_TEST_TMPDIR/in.env"
	status_is 6
	[[ $stderr == *B* && $stderr == *"nothing was written"* ]]
	[[ $stderr != *"A,"* && $stderr != *"A ("* ]]
	[ "$(x_checksum)" == "$before" ]
	run -3 vaultctl-secret get "$ENV/C"
	# Both options at once make no sense.
	run -2 vaultctl-secret import "$ENV" --file "$BATS_TEST_TMPDIR/in.env" \
		--overwrite --skip-existing
	[ "$(x_checksum)" == "$before" ]
	# The same values again are not a conflict.
	printf 'A=a1\nB=b1\n' | vaultctl-secret -q import "$ENV"
	[ "$(x_checksum)" == "$before" ]
}

@test "import --overwrite writes the changed values only; --skip-existing keeps them" {
	x_here NULL
	x_put "$ENV/A" a1
	x_put "$ENV/B" b1
	printf 'A=a1\nB=b2\nC=c\n' >"$BATS_TEST_TMPDIR/in.env"
	run -0 vaultctl-secret import "$ENV" --file "$BATS_TEST_TMPDIR/in.env" --skip-existing
	[[ $output == *"wrote 1 secret to"* ]]
	x_got_text "$ENV/B" b1
	x_got_text "$ENV/C" c
	[ "$(x_version "$ENV/B")" == 1 ]
	printf 'A=a1\nB=b2\nC=c\nD=d\n' >"$BATS_TEST_TMPDIR/in.env"
	run -0 vaultctl-secret import "$ENV" --file "$BATS_TEST_TMPDIR/in.env" --overwrite
	[[ $output == *"wrote 2 secrets to"* ]]
	x_got_text "$ENV/B" b2
	x_got_text "$ENV/D" d
	[ "$(x_version "$ENV/A")" == 1 ]
	[ "$(x_version "$ENV/B")" == 2 ]
	[ "$(x_version "$ENV/C")" == 1 ]
}

@test "import checks the quota for the whole batch first: limit 3, import 5 -> exit 5, nothing written" {
	local before
	x_here 3
	printf 'A=1\nB=2\nC=3\nD=4\nE=5\n' >"$BATS_TEST_TMPDIR/five.env"
	before=$(x_checksum)
	run --separate-stderr vaultctl-secret import "$ENV" --file "$BATS_TEST_TMPDIR/five.env"
	status_is 5
	[[ $stderr == *quota* ]]
	[[ $stderr == *"this batch adds 5; nothing was written"* ]]
	[ "$(x_checksum)" == "$before" ]
	[ "$(x_meta_count "$ORG")" -eq 0 ]
	# --dry-run tells the same, and writes nothing at all (not even the
	# quota lock's counter in subscriptions).
	before=$(vc_sql "CHECKSUM TABLE secret_metadata, vc_values, subscriptions EXTENDED")
	run -5 vaultctl-secret import "$ENV" --file "$BATS_TEST_TMPDIR/five.env" --dry-run
	[[ $output == *quota* ]]
	[ "$(grep -cE '^(add|change|unchanged) ' <<<"$output")" == 0 ]
	[ "$(vc_sql "CHECKSUM TABLE secret_metadata, vc_values, subscriptions EXTENDED")" == "$before" ]
	before=$(x_checksum)
	# Two in place, three more: still too many, still nothing.
	printf 'A=1\nB=2\n' | vaultctl-secret -q import "$ENV"
	before=$(x_checksum)
	printf 'C=3\nD=4\nE=5\n' | { run -5 vaultctl-secret import "$ENV"; }
	[ "$(x_checksum)" == "$before" ]
	[ "$(x_meta_count "$ORG")" -eq 2 ]
	# Changing existing ones takes no quota; one more fits exactly.
	printf 'A=one\nB=two\nC=3\n' | vaultctl-secret -q import "$ENV" --overwrite
	[ "$(x_meta_count "$ORG")" -eq 3 ]
	x_got_text "$ENV/A" one
}

@test "import into an environment that does not exist, or from a missing file" {
	x_here NULL
	printf 'A=1\n' >"$BATS_TEST_TMPDIR/in.env"
	run -3 vaultctl-secret import "$ORG/api/nope" --file "$BATS_TEST_TMPDIR/in.env"
	run -3 vaultctl-secret import "$ENV" --file "$BATS_TEST_TMPDIR/missing.env"
	run -2 vaultctl-secret import "$ENV" --format yaml --file "$BATS_TEST_TMPDIR/in.env"
	[ "$(x_meta_count "$ORG")" -eq 0 ]
}

@test "import draws a progress bar on a terminal only" {
	x_here NULL prod other
	printf 'A=1\nB=2\nC=3\n' >"$BATS_TEST_TMPDIR/in.env"
	run --separate-stderr vaultctl-secret import "$ENV" --file "$BATS_TEST_TMPDIR/in.env"
	status_is 0
	[[ $stderr != *"3/3"* && $stderr != *"["* ]]
	# script(1) gives the command a terminal.
	script -qec "vaultctl-secret import $ORG/api/other --file $BATS_TEST_TMPDIR/in.env" \
		/dev/null >"$BATS_TEST_TMPDIR/tty.out"
	grep -q '3/3' "$BATS_TEST_TMPDIR/tty.out"
	x_same "$ENV" "$ORG/api/other" A B C
}

# ---- run --------------------------------------------------------------

@test "run exits with its command's status: sh -c 'exit 42' -> 42" {
	run -42 vaultctl-secret run hard/api/prod -- sh -c 'exit 42'
	run -0 vaultctl-secret run hard/api/prod -- true
	run -1 vaultctl-secret run hard/api/prod -- false
}

@test "run replaces itself with the command (same process, the command's signal status)" {
	# sh prints its pid, then execs run, which execs sh: one process.
	run -0 sh -c 'echo $$; exec vaultctl-secret run hard/api/prod --only UTF8 -- sh -c "echo \$\$"'
	[ "${#lines[@]}" -eq 2 ]
	[ "${lines[0]}" == "${lines[1]}" ]
	# Killed by a signal: the caller sees 128 + the signal, as for sh itself.
	run -143 bash -c 'vaultctl-secret run hard/api/prod --only UTF8 -- sh -c "kill -TERM \$\$"'
}

@test "run passes every hard value exactly (printf '%s' \"\$VAR\")" {
	local out=$BATS_TEST_TMPDIR/v name n=0
	for f in "$CORPUS"/*; do
		name=${f##*/}
		# sh runs printf '%s' "$NAME".
		vaultctl-secret run hard/api/prod --only "$name" -- \
			sh -c 'eval "printf %s \"\$$1\""' sh "$name" >"$out" ||
			{ echo "$name: run failed"; return 1; }
		cmp "$f" "$out" || { echo "$name: $(od -c "$out" | head -3)"; return 1; }
		n=$((n + 1))
	done
	[ "$n" -eq 50 ]
	# The same through the shell variable, all at once, compared by od.
	run -0 vaultctl-secret run hard/api/prod -- sh -c 'printf "%s" "$CRLF" | od -An -c'
	[ "$output" == "$(od -An -c "$CORPUS/CRLF")" ]
	run -0 vaultctl-secret run hard/api/prod -- sh -c 'printf "%s" "$INVALID_UTF8" | od -An -tx1'
	[ "$output" == "$(od -An -tx1 "$CORPUS/INVALID_UTF8")" ]
	run -0 vaultctl-secret run hard/api/prod -- sh -c 'printf "%s" "$BIG" | wc -c'
	[ "$output" -eq 65536 ]
}

@test "run --only gives just the named secrets; the caller's environment stays" {
	run -0 env HOME=/home/caller SPACES=caller vaultctl-secret run hard/api/prod \
		--only UTF8,EMPTY -- sh -c 'echo "${UTF8-unset}|${EMPTY-unset}|${SPACES-unset}|${PEM-unset}|$HOME"'
	[ "$output" == "$(cat "$CORPUS/UTF8")||caller|unset|/home/caller" ]
	# A secret wins over the caller's variable of the same name.
	run -0 env SPACES=caller vaultctl-secret run hard/api/prod --only SPACES -- \
		sh -c 'printf "[%s]" "$SPACES"'
	[ "$output" == "[  both ends  ]" ]
	run -3 vaultctl-secret run hard/api/prod --only UTF8,NOPE -- true
}

@test "run --pristine: only the secrets, nothing of the caller's (no HOME, no PATH)" {
	run -0 vaultctl-secret run hard/api/prod --pristine --only UTF8,EQUALS -- env
	[ "$(printf '%s\n' "${lines[@]}" | cut -d= -f1 | LC_ALL=C sort | x_names_csv)" == EQUALS,UTF8 ]
	[[ $output != *HOME=* && $output != *PATH=* ]]
	# Every secret of the environment, and nothing else.
	vaultctl-secret run hard/api/prod --pristine -- env -0 >"$BATS_TEST_TMPDIR/env0"
	[ "$(tr '\0\n' '\n ' <"$BATS_TEST_TMPDIR/env0" | cut -d= -f1 | LC_ALL=C sort | x_names_csv)" == \
		"$(x_names hard/api/prod | x_names_csv)" ]
}

@test "run: a missing command exits 127, one that cannot be executed 126" {
	run -127 --separate-stderr vaultctl-secret run hard/api/prod --only UTF8 -- no-such-command-xyz
	[[ $stderr == *"no-such-command-xyz"* ]]
	run -127 vaultctl-secret run hard/api/prod -- "$BATS_TEST_TMPDIR/nope"
	printf 'not executable' >"$BATS_TEST_TMPDIR/plain"
	run -126 vaultctl-secret run hard/api/prod -- "$BATS_TEST_TMPDIR/plain"
	run -2 vaultctl-secret run hard/api/prod
}

@test "run refuses a value with a NUL byte (exit 2) unless --only leaves it out" {
	x_here NULL
	printf 'a\0b' | vaultctl-secret -q set "$ENV/NUL"
	x_put "$ENV/OK" fine
	local reads
	reads=$(vc_reads)
	run --separate-stderr vaultctl-secret run "$ENV" -- sh -c 'echo ran'
	status_is 2
	[[ $stderr == *"'NUL'"* ]]
	[ -z "$output" ]
	# Nothing was given out, so nothing is audited: the rows written
	# while the values were read were rolled back, the chain is whole.
	[ "$(vc_reads)" \
		== "$reads" ]
	run -0 vaultctl-audit verify
	run -0 vaultctl-secret run "$ENV" --only OK -- sh -c 'echo "$OK"'
	[ "$output" == fine ]
	[ "$(vc_reads)" \
		== $((reads + 1)) ]
}

@test "run refuses, by name, secrets the loader or a shell acts on (exit 2): nothing run, nothing audited; --allow-name passes them" {
	local ran=$BATS_TEST_TMPDIR/ran reads
	x_here NULL
	x_put "$ENV/LD_PRELOAD" libvc-no-such-preload.so
	x_put "$ENV/BASH_ENV" "$BATS_TEST_TMPDIR/startup.sh"
	x_put "$ENV/OK" fine
	reads=$(vc_reads)
	run --separate-stderr vaultctl-secret run "$ENV" -- sh -c "touch '$ran'"
	status_is 2
	[[ $stderr == *"'BASH_ENV', 'LD_PRELOAD'"*"--allow-name"* ]]
	[ ! -e "$ran" ]
	[ -z "$output" ]
	# Names are exact, as the loader reads them: one allowed, one left.
	run --separate-stderr vaultctl-secret run "$ENV" --allow-name LD_PRELOAD \
		--allow-name bash_env -- sh -c "touch '$ran'"
	status_is 2
	[[ $stderr == *"secret 'BASH_ENV':"* && $stderr != *"'LD_PRELOAD'"* ]]
	[ ! -e "$ran" ]
	[ "$(vc_reads)" \
		== "$reads" ]
	run -2 vaultctl-secret run "$ENV" --allow-name 'LD-PRELOAD' -- true
	# Allowed, both reach the command as they are.
	run --separate-stderr -0 vaultctl-secret run "$ENV" --allow-name LD_PRELOAD \
		--allow-name BASH_ENV -- sh -c 'printf "%s|%s|%s" "$LD_PRELOAD" "$BASH_ENV" "$OK"'
	[ "$output" == "libvc-no-such-preload.so|$BATS_TEST_TMPDIR/startup.sh|fine" ]
	[ "$(vc_reads)" \
		== $((reads + 3)) ]
	# Left out by --only, they need no allowing.
	run -0 vaultctl-secret run "$ENV" --only OK -- sh -c 'echo "$OK"'
	[ "$output" == fine ]
}

@test "run passes on no VAULT_* or VAULTCTL_* variable of its caller, --pristine or not; secrets so named pass" {
	x_here NULL
	x_put "$ENV/VAULT_ADDR" http://app-vault.example:8200
	x_put "$ENV/OK" fine
	run --separate-stderr -0 env VAULT_TOKEN=caller-token \
		VAULTCTL_PASSWORD_FILE=/nonexistent VAULT_NAMESPACE=team KEEP=yes \
		vaultctl-secret run "$ENV" -- env
	[[ $output == *KEEP=yes* && $output == *OK=fine* ]]
	# VAULTCTL_CONFIG and VAULTCTL_USER are set by the tests' setup too.
	[ -n "$VAULTCTL_CONFIG" ] && [ -n "$VAULTCTL_USER" ]
	[ "$(printf '%s\n' "${lines[@]}" | grep -E '^VAULT(CTL)?_')" == \
		VAULT_ADDR=http://app-vault.example:8200 ]
	run --separate-stderr -0 env VAULT_TOKEN=caller-token vaultctl-secret run \
		"$ENV" --pristine -- env
	[ "$(printf '%s\n' "${lines[@]}" | grep -cE '^VAULT(CTL)?_')" == 1 ]
}

# ---- diff -------------------------------------------------------------

@test "diff: exit 0 when equal; 1 with only-in-A, only-in-B and differs lines, no values" {
	x_here NULL a b
	local A=$ORG/api/a B=$ORG/api/b
	x_put "$A/SAME" 'same value'
	x_put "$B/SAME" 'same value'
	run -0 vaultctl-secret diff "$A" "$B"
	[ -z "$output" ]
	x_put "$A/ONLY_A" 'secret-a-value'
	x_put "$B/ONLY_B" 'secret-b-value'
	x_put "$A/DIFF" 'left-value'
	x_put "$B/DIFF" 'right-value'
	# A value that differs only by a trailing newline differs.
	x_put "$A/NL" 'x'
	printf 'x\n' | vaultctl-secret -q set "$B/NL"
	run -1 vaultctl-secret diff "$A" "$B"
	[ "$(LC_ALL=C sort <<<"$output")" == "$(printf '%s\n' "differs: DIFF" \
		"differs: NL" "only in $A: ONLY_A" "only in $B: ONLY_B")" ]
	[[ $output != *value* ]]
	run -1 vaultctl-secret diff "$A" "$B" --show-values
	[[ $output == *left-value* && $output == *right-value* ]]
	grep -qx "differs: DIFF" <<<"$output"
	[[ $output != *same\ value* ]]
	run -3 vaultctl-secret diff "$A" "$ORG/api/nope"
}

@test "diff -o json lists the three kinds of names, without values" {
	x_here NULL a b
	local A=$ORG/api/a B=$ORG/api/b
	x_put "$A/ONLY_A" 'va'
	x_put "$B/ONLY_B" 'vb'
	x_put "$A/DIFF" 'left-value'
	x_put "$B/DIFF" 'right-value'
	x_put "$A/SAME" s
	x_put "$B/SAME" s
	run --separate-stderr vaultctl-secret diff "$A" "$B" -o json
	status_is 1
	[ "$(jq -c '[.only_in_a, .only_in_b, .differs, .equal]' <<<"$output")" == \
		'[["ONLY_A"],["ONLY_B"],["DIFF"],false]' ]
	[[ $output != *value* ]]
	run -1 vaultctl-secret diff "$A" "$B" -o json --show-values
	[ "$(jq -c .values <<<"$output")" == '{"DIFF":{"a":"left-value","b":"right-value"}}' ]
	run -0 vaultctl-secret diff "$A" "$A" -o json
	[ "$(jq -c '[.only_in_a, .only_in_b, .differs, .equal]' <<<"$output")" == '[[],[],[],true]' ]
}

# ---- copy -------------------------------------------------------------

@test "copy: all, --only, conflicts (exit 6), --overwrite, --dry-run" {
	local before
	x_here NULL src dst
	local S=$ORG/api/src T=$ORG/api/dst
	printf 'A=1\nB=2\nC="three\nlines"\n' | vaultctl-secret -q import "$S"
	vaultctl-secret -q copy "$S" "$T" --only A,C
	[ "$(x_names "$T" | x_names_csv)" == A,C ]
	x_same "$S" "$T" A C
	x_put "$S/A" changed
	before=$(x_checksum)
	run --separate-stderr vaultctl-secret copy "$S" "$T"
	status_is 6
	[[ $stderr == *"A"*"nothing was written"* ]]
	[ "$(x_checksum)" == "$before" ]
	run -0 vaultctl-secret copy "$S" "$T" --dry-run --overwrite
	grep -qE '^change +A$' <<<"$output"
	grep -qE '^add +B$' <<<"$output"
	grep -qE '^unchanged +C$' <<<"$output"
	[ "$(x_checksum)" == "$before" ]
	run -0 vaultctl-secret copy "$S" "$T" --overwrite
	[[ $output == *"wrote 2 secrets"* ]]
	run -0 vaultctl-secret diff "$S" "$T"
	[ "$(x_version "$T/C")" == 1 ]
	run -2 vaultctl-secret copy "$S" "$S"
	run -3 vaultctl-secret copy "$S" "$T" --only NOPE
}

@test "copy checks the quota for the whole batch: nothing written when it does not fit" {
	local before
	x_here 5 src dst
	local S=$ORG/api/src T=$ORG/api/dst
	printf 'A=1\nB=2\nC=3\n' | vaultctl-secret -q import "$S"
	before=$(x_checksum)
	run --separate-stderr vaultctl-secret copy "$S" "$T"
	status_is 5
	[[ $stderr == *quota* ]]
	[ "$(x_checksum)" == "$before" ]
	[ -z "$(x_names "$T")" ]
	vaultctl-secret -q copy "$S" "$T" --only A,B
	[ "$(x_meta_count "$ORG")" -eq 5 ]
}

# ---- roles ------------------------------------------------------------

@test "a viewer cannot export, run, import, copy or diff --show-values (exit 4)" {
	local v=viewer$BATS_TEST_NUMBER@example.com before
	x_here NULL prod other
	x_put "$ENV/S" value
	vaultctl-org -q user add "$v" --no-password
	vaultctl-org -q member add "$ORG" "$v" --role viewer
	before=$(x_checksum)
	run --separate-stderr vaultctl-secret --as "$v" export "$ENV"
	status_is 4
	[ -z "$output" ]
	run -4 vaultctl-secret --as "$v" export "$ENV" --format json -O "$BATS_TEST_TMPDIR/out"
	[ ! -e "$BATS_TEST_TMPDIR/out" ]
	run -4 vaultctl-secret --as "$v" run "$ENV" -- sh -c 'echo ran'
	[[ $output != *ran* ]]
	printf 'N=1\n' >"$BATS_TEST_TMPDIR/in.env"
	run -4 vaultctl-secret --as "$v" import "$ENV" --file "$BATS_TEST_TMPDIR/in.env"
	run -4 vaultctl-secret --as "$v" copy "$ENV" "$ORG/api/other"
	run -4 vaultctl-secret --as "$v" diff "$ENV" "$ORG/api/other" --show-values
	[ "$(x_checksum)" == "$before" ]
	# The viewer still lists names.
	run -0 vaultctl-secret --as "$v" list "$ENV"
	[[ $output == *S* ]]
	# A member may export.
	vaultctl-org -q member set "$ORG" "$v" --role member
	run -0 vaultctl-secret --as "$v" export "$ENV"
	[ "$output" == "export S='value'" ]
}
