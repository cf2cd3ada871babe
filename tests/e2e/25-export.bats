#!/usr/bin/env bats
# vaultctl-secret export: the hard corpus of tests/e2e/roundtrip (51
# values: quotes, $, backslashes, newlines, CR, invalid UTF-8, NUL, 64 KiB)
# is stored with the real CLI, exported in every format and read back by
# each format's real consumers (tests/e2e/roundtrip/check.sh), byte for
# byte.  A value a format cannot carry is refused by name, exit 2, with
# nothing written.

load helper
load export_helper

setup_file() {
	vc_server_start || return 1
	x_bootstrap
	x_org ex NULL prod fromdotenv fromjson race drift
	export CORPUS=$VC_TEST_DIR/corpus
	x_corpus "$CORPUS"
	x_load ex/api/prod "$CORPUS"
	# check.sh calls its exporter as `CMD FORMAT DIR`, DIR holding one
	# file per value: here that is the real CLI exporting those names.
	export VC_EXPORT_CMD=$VC_TEST_DIR/export-cli.sh VC_RT_ENV=ex/api/prod
	cat >"$VC_EXPORT_CMD" <<-'EOF'
	#!/bin/sh
	fmt=$1 names=
	for f in "$2"/*; do
		[ -f "$f" ] && names="$names${names:+,}${f##*/}"
	done
	[ -n "$names" ] || { echo "export-cli.sh: no names in $2" >&2; exit 1; }
	exec vaultctl-secret export "$VC_RT_ENV" --format "$fmt" --only "$names"
	EOF
	chmod +x "$VC_EXPORT_CMD"
}

teardown_file() {
	x_emu_stop
	[[ ! -d ${VC_TEST_DIR:-}/vault ]] ||
		"$REPO/tests/harness/mariadb.sh" stop "$VC_TEST_DIR/vault"
	vc_server_stop
}

# x_emu_start: the Vault emulator on a free port; exports VAULT_ADDR and
# VAULT_TOKEN.  Its output goes to files: bats waits for every open copy
# of its file descriptors.
x_emu_start() {
	local pf=$VC_TEST_DIR/emu.port
	export VAULT_TOKEN=e2e-export-token
	/usr/bin/python3 "$REPO/tests/vault/emulator.py" --listen 127.0.0.1:0 \
		--port-file "$pf" --token "$VAULT_TOKEN" \
		--log "$VC_TEST_DIR/emulator.log" \
		>"$VC_TEST_DIR/emulator.out" 2>&1 3>&- &
	echo $! >"$VC_TEST_DIR/emu.pid"
	for _ in $(seq 100); do [[ -s $pf ]] && break; sleep 0.05; done
	[[ -s $pf ]] || { echo "the Vault emulator did not start"; return 1; }
	export VAULT_ADDR="http://127.0.0.1:$(cat "$pf")"
}

x_emu_stop() {
	[[ -n ${VC_TEST_DIR:-} && -s $VC_TEST_DIR/emu.pid ]] || return 0
	vc_hygiene_emu "http://127.0.0.1:$(cat "$VC_TEST_DIR/emu.port")"
	kill "$(cat "$VC_TEST_DIR/emu.pid")" 2>/dev/null || true
	rm -f "$VC_TEST_DIR/emu.pid"
}

# roundtrip FORMAT CONSUMERS: check.sh through the real CLI; every line ok,
# none skipped, and as many as 51 per-value verdicts, the whole-corpus
# refusal, the export, and CONSUMERS readers times the accepted values.
roundtrip() {
	local fmt=$1 consumers=$2 accepted total
	accepted=$(x_accepted "$fmt" "$CORPUS" | wc -l)
	total=$((51 + 1 + 1 + consumers * accepted))
	run "$X_ROUNDTRIP/check.sh" "$fmt" "$CORPUS" "$BATS_TEST_TMPDIR/export.$fmt"
	grep -E '^not ok|SKIP' <<<"$output" | head -40
	[ "$status" -eq 0 ]
	[ "$(grep -cE '^not ok|# SKIP' <<<"$output")" == 0 ]
	[ "$(grep -c '^ok ' <<<"$output")" -eq "$total" ]
	grep -qx "1\.\.$total" <<<"$output"
	# The values went through the real binary: the export holds them.
	[ -s "$BATS_TEST_TMPDIR/export.$fmt" ]
}

@test "the corpus is stored exactly: get gives back each of the 51 values" {
	[ "$(ls "$CORPUS" | wc -l)" -eq 51 ]
	[ "$(x_names ex/api/prod | wc -l)" -eq 51 ]
	for f in "$CORPUS"/*; do
		x_got "ex/api/prod/${f##*/}" "$f"
	done
}

@test "sh: bash, dash, zsh and busybox sh read back every value ('. file' and eval)" {
	roundtrip sh 8
}

@test "dotenv: npm dotenv (parse, config), python-dotenv (dotenv_values, load_dotenv) and our import read back every accepted value" {
	if [[ ! -d ${VC_NODE_DOTENV:-/nonexistent}/node_modules/dotenv ]]; then
		VC_NODE_DOTENV=$("$REPO/tests/harness/node-dotenv.sh")
	fi
	export VC_NODE_DOTENV
	[ -d "$VC_NODE_DOTENV/node_modules/dotenv" ]
	roundtrip dotenv 5
}

@test "json: jq, python json and our import read back every accepted value" {
	roundtrip json 3
}

@test "yaml: PyYAML (pure and libyaml) reads back every accepted value" {
	roundtrip yaml 2
}

@test "docker: --env-file rules and the docker client read back every accepted value" {
	roundtrip docker 2
}

@test "env0: xargs -0 env and bash read -d '' read back every value" {
	roundtrip env0 2
}

@test "every refused value is refused by name with exit 2, nothing on stdout, no -O file" {
	local d=$BATS_TEST_TMPDIR/out fmt name n=0 audit_before
	mkdir "$d"
	audit_before=$(vc_sql "SELECT COUNT(*) FROM audit_logs")
	for fmt in $X_FORMATS; do
		for name in $(expected_refusals "$fmt"); do
			n=$((n + 1))
			run --separate-stderr vaultctl-secret export ex/api/prod \
				--format "$fmt" --only "SPACES,$name,UTF8"
			[ "$status" -eq 2 ] || { echo "$fmt $name: exit $status"; return 1; }
			[ -z "$output" ] || { echo "$fmt $name: wrote $output"; return 1; }
			[[ $stderr == *"secret '$name'"*"$fmt cannot carry it"* ]] ||
				{ echo "$fmt $name: $stderr"; return 1; }
			run -2 vaultctl-secret export ex/api/prod --format "$fmt" \
				--only "$name" -O "$d/export"
			[ ! -e "$d/export" ] || { echo "$fmt $name: -O file created"; return 1; }
			[ -z "$(ls -A "$d")" ] || { echo "$fmt $name: left $(ls -A "$d")"; return 1; }
		done
	done
	[ "$n" -eq 38 ]
	# The whole environment holds values each format refuses: the first
	# in name order is named.
	for fmt in $X_FORMATS; do
		name=$(expected_refusals "$fmt" | tr ' ' '\n' | LC_ALL=C sort | head -1)
		run --separate-stderr vaultctl-secret export ex/api/prod --format "$fmt"
		status_is 2
		[ -z "$output" ]
		[[ $stderr == *"secret '$name': $fmt cannot carry it"* ]] ||
			{ echo "$fmt: $stderr"; return 1; }
	done
	# A refused export let no value out: it audits no read.  Its rows,
	# written while the values were read, were rolled back whole.
	[ "$(vc_sql "SELECT COUNT(*) FROM audit_logs")" -eq "$audit_before" ]
	run -0 vaultctl-audit verify
}

@test "a refused export leaves an existing -O file as it was" {
	local f=$BATS_TEST_TMPDIR/dir/export.env
	mkdir "$BATS_TEST_TMPDIR/dir"
	printf 'old contents\n' >"$f"
	chmod 0644 "$f"
	cp -p "$f" "$BATS_TEST_TMPDIR/before"
	run -2 vaultctl-secret export ex/api/prod --format dotenv \
		--only UTF8,BS_END -O "$f"
	[[ $output == *"secret 'BS_END'"* ]]
	cmp "$BATS_TEST_TMPDIR/before" "$f"
	[ "$(stat -c %a "$f")" == 644 ]
	[ "$(ls -A "$BATS_TEST_TMPDIR/dir")" == export.env ]
}

@test "-O creates the file with mode 0600 whatever the umask, and writes what stdout would" {
	local f=$BATS_TEST_TMPDIR/new.sh
	(umask 000 && vaultctl-secret export ex/api/prod --only SPACES,PEM,SQUOTE -O "$f")
	[ "$(stat -c %a "$f")" == 600 ]
	vaultctl-secret export ex/api/prod --only SPACES,PEM,SQUOTE >"$BATS_TEST_TMPDIR/stdout"
	cmp "$BATS_TEST_TMPDIR/stdout" "$f"
	[ "$(ls -A "$BATS_TEST_TMPDIR" | grep -c '^new\.sh')" -eq 1 ]
}

@test "-O replaces an existing file atomically: new inode, a reader of the old one sees it whole, mode 0600" {
	local d=$BATS_TEST_TMPDIR/dir f ino
	mkdir "$d"
	f=$d/app.json
	head -c 100000 /dev/urandom | base64 >"$f"
	cp "$f" "$BATS_TEST_TMPDIR/old"
	chmod 0644 "$f"
	ino=$(stat -c %i "$f")
	exec 4<"$f"
	vaultctl-secret export ex/api/prod --format json --only UTF8,BIG,EMPTY -O "$f"
	# A reader that had the file open keeps the old contents, complete:
	# the new file was written beside it and renamed over it.
	cat <&4 >"$BATS_TEST_TMPDIR/seen"
	exec 4<&-
	cmp "$BATS_TEST_TMPDIR/old" "$BATS_TEST_TMPDIR/seen"
	[ "$(stat -c %i "$f")" != "$ino" ]
	[ "$(stat -c %a "$f")" == 600 ]
	[ "$(ls -A "$d")" == app.json ]
	[ "$(jq -r 'keys | join(",")' "$f")" == BIG,EMPTY,UTF8 ]
	jq -j .UTF8 "$f" | cmp - "$CORPUS/UTF8"
	jq -j .BIG "$f" | cmp - "$CORPUS/BIG"
}

# eval_dump SHELL NAMES OUT: SHELL evals the CLI's output and writes each
# variable to OUT/NAME.
eval_dump() {
	# shellcheck disable=SC2016 # expanded by the child shell
	$1 -c '
		__out=$1 __names=$2
		eval "$(vaultctl-secret export ex/api/prod --only "$__names")" ||
			exit 1
		IFS=,
		for __n in $__names; do
			eval "printf %s \"\${$__n}\"" >"$__out/$__n"
		done
	' sh "$3" "$2"
}

@test "eval \"\$(vaultctl-secret export ...)\" gives the exact values in bash, dash, zsh and busybox sh" {
	local names sh out n
	names=$(x_accepted sh "$CORPUS" | x_names_csv)
	for sh in bash dash "zsh -o shwordsplit" "busybox sh"; do
		out=$BATS_TEST_TMPDIR/${sh%% *}
		mkdir "$out"
		eval_dump "$sh" "$names" "$out" || { echo "$sh failed"; return 1; }
		n=0
		for f in "$CORPUS"/*; do
			[ "${f##*/}" != NUL ] || continue
			cmp "$f" "$out/${f##*/}" || { echo "$sh: ${f##*/} differs"; return 1; }
			n=$((n + 1))
		done
		[ "$n" -eq 50 ]
	done
}

@test "import of the dotenv export into another environment gives back the same bytes" {
	local f=$BATS_TEST_TMPDIR/export.env names
	names=$(x_accepted dotenv "$CORPUS" | x_names_csv)
	vaultctl-secret export ex/api/prod --format dotenv --only "$names" -O "$f"
	run -0 vaultctl-secret import ex/api/fromdotenv --file "$f"
	[[ $output == *"wrote 37 secrets"* ]]
	[ "$(x_names ex/api/fromdotenv)" == "$(x_accepted dotenv "$CORPUS" | LC_ALL=C sort)" ]
	x_same ex/api/prod ex/api/fromdotenv ${names//,/ }
	# And importing the same file again changes nothing.
	run -0 vaultctl-secret import ex/api/fromdotenv --file "$f" --dry-run
	[ "$(grep -c '^unchanged ' <<<"$output")" -eq 37 ]
	[ "$(x_version ex/api/fromdotenv/PEM)" == 1 ]
}

@test "import of the json export (from standard input) gives back the same bytes" {
	local names
	names=$(x_accepted json "$CORPUS" | x_names_csv)
	vaultctl-secret export ex/api/prod --format json --only "$names" |
		vaultctl-secret -q import ex/api/fromjson --format json
	[ "$(x_names ex/api/fromjson)" == "$(x_accepted json "$CORPUS" | LC_ALL=C sort)" ]
	x_same ex/api/prod ex/api/fromjson ${names//,/ }
}

@test "export audits every value read: one row listing them, each read in audit_reads" {
	local before after rows
	before=$(vc_reads)
	rows=$(vc_sql "SELECT COUNT(*) FROM audit_logs WHERE action = 'secret.read'")
	vaultctl-secret export ex/api/prod --format json --only UTF8,PEM,EMPTY,BIG >/dev/null
	after=$(vc_reads)
	[ $((after - before)) -eq 4 ]
	# One chained row for the four, about the environment.
	[ "$(vc_sql "SELECT COUNT(*) FROM audit_logs WHERE action = 'secret.read'")" \
		-eq $((rows + 1)) ]
	[ "$(vc_sql "SELECT a.resource_type, JSON_VALUE(a.details, '$.reads')
		FROM audit_logs a ORDER BY a.seq DESC LIMIT 1" | tr '\t' ' ')" == \
		"environment 4" ]
	# Each read names the version read.
	x_put ex/api/fromjson/VERSIONED one
	x_put ex/api/fromjson/VERSIONED two
	x_put ex/api/fromjson/VERSIONED three
	x_put ex/api/fromjson/OTHER other
	vaultctl-secret export ex/api/fromjson --only VERSIONED,OTHER >/dev/null
	[ "$(vc_sql "SELECT r.version FROM $VC_READS r JOIN secret_metadata sm
		ON sm.id = r.secret_id WHERE sm.name = 'VERSIONED'")" == 3 ]
	# One value read alone keeps a row of its own, as a get writes.
	vaultctl-secret export ex/api/fromjson --only VERSIONED >/dev/null
	[ "$(vc_sql "SELECT a.details FROM audit_logs a JOIN secret_metadata sm
		ON sm.id = a.resource_id WHERE sm.name = 'VERSIONED'
		AND a.action = 'secret.read'")" == '{"version":3}' ]
	# A failed export (a name not found) writes no audit row.
	before=$(vc_reads)
	run -3 vaultctl-secret export ex/api/prod --only UTF8,NOPE
	[ "$(vc_reads)" == "$before" ]
	# And the chain is intact after all these reads.
	run -0 vaultctl-audit verify
}

@test "export audits the versions it read even when the metadata names others, and lists names in the database's order" {
	local env
	x_put ex/api/drift/b_x one
	x_put ex/api/drift/b_x two
	x_put ex/api/drift/B1 b
	x_put ex/api/drift/_z z
	x_put ex/api/drift/a a
	env=$(vc_sql "SELECT e.id FROM environments e JOIN projects p
		ON p.id = e.project_id WHERE p.name = 'api' AND e.name = 'drift'")
	# The metadata says version 7; the store holds version 2.  The rows
	# written while the values are read carry the metadata's versions:
	# they must be rolled back and the versions read audited instead.
	vc_sql "UPDATE secret_metadata SET version = 7 WHERE environment = '$env'
		AND name = 'b_x'"
	before=$(vc_reads)
	run -0 --separate-stderr vaultctl-secret export ex/api/drift --format json
	[ "$(jq -r '.b_x' <<<"$output")" == two ]
	[ "$(vc_reads)" -eq $((before + 4)) ]
	[ "$(vc_sql "SELECT r.version FROM $VC_READS r JOIN secret_metadata sm
		ON sm.id = r.secret_id WHERE sm.name = 'b_x' AND sm.environment =
		'$env'")" == 2 ]
	# The names come out as ORDER BY name orders them ('_' < digits <
	# letters, case ignored), though the client sorts them.
	[ "$(jq -r 'keys_unsorted | join(" ")' <<<"$output")" == "_z a b_x B1" ]
	[ "$(vc_sql "SELECT GROUP_CONCAT(name ORDER BY name SEPARATOR ' ')
		FROM secret_metadata WHERE environment = '$env'")" == "_z a b_x B1" ]
	run -0 vaultctl-audit verify
}

@test "export: an unknown name (exit 3), format (exit 2) or --concurrency (exit 2) writes nothing" {
	run --separate-stderr vaultctl-secret export ex/api/prod --only UTF8,NOPE
	status_is 3
	[ -z "$output" ]
	[[ $stderr == *"'NOPE' not found"* ]]
	run --separate-stderr vaultctl-secret export ex/api/prod --format toml --only UTF8
	status_is 2
	[ -z "$output" ]
	run -2 vaultctl-secret export ex/api/prod --only UTF8 --concurrency 0
	run -2 vaultctl-secret export ex/api/prod --only 'BAD-NAME'
	run -3 vaultctl-secret export ex/api/nope
	# --concurrency changes nothing in the result.
	vaultctl-secret export ex/api/prod --only UTF8,PEM,BIG --concurrency 1 >"$BATS_TEST_TMPDIR/c1"
	vaultctl-secret export ex/api/prod --only UTF8,PEM,BIG --concurrency 64 >"$BATS_TEST_TMPDIR/c64"
	cmp "$BATS_TEST_TMPDIR/c1" "$BATS_TEST_TMPDIR/c64"
}

@test "the Vault store (emulator) exports the same bytes as the local store, in every format" {
	local fmt names
	x_emu_start
	# A second server, set up for the vault backend.
	"$REPO/tests/harness/setup.sh" "$VC_TEST_DIR/vault" --backend vault >/dev/null
	for fmt in $X_FORMATS; do
		names=$(x_accepted "$fmt" "$CORPUS" | x_names_csv)
		vaultctl-secret export ex/api/prod --format "$fmt" --only "$names" \
			>"$BATS_TEST_TMPDIR/local.$fmt"
	done
	# vc_sql and the tools now talk to the second server.
	local first=$VC_TEST_DIR
	VC_TEST_DIR=$first/vault
	export VAULTCTL_CONFIG=$VC_TEST_DIR/vaultctl.cnf
	x_bootstrap
	x_org vx NULL prod
	x_load vx/api/prod "$CORPUS"
	for fmt in $X_FORMATS; do
		names=$(x_accepted "$fmt" "$CORPUS" | x_names_csv)
		vaultctl-secret export vx/api/prod --format "$fmt" --only "$names" \
			--concurrency 8 >"$BATS_TEST_TMPDIR/vault.$fmt"
		cmp "$BATS_TEST_TMPDIR/local.$fmt" "$BATS_TEST_TMPDIR/vault.$fmt" ||
			{ echo "$fmt differs"; return 1; }
	done
	# Every value read audited, and the chain intact.
	[ "$(vc_reads)" -eq $((50 + 37 + 48 + 48 + 35 + 50)) ]
	run -0 vaultctl-audit verify
	for fmt in $X_FORMATS; do
		run -2 vaultctl-secret export vx/api/prod --format "$fmt" -O "$BATS_TEST_TMPDIR/no"
		[ ! -e "$BATS_TEST_TMPDIR/no" ]
	done
	"$REPO/tests/harness/mariadb.sh" stop "$first/vault"
	VC_TEST_DIR=$first
	x_emu_stop
}

@test "exports racing with writes all succeed, each value is one that was written, the audit chain stays intact" {
	local i before after writer
	for i in $(seq -w 1 20); do x_put "ex/api/race/S$i" "v$i"; done
	x_put ex/api/race/R w0
	before=$(vc_reads)
	(
		for i in $(seq 1 40); do x_put ex/api/race/R "w$i" || exit 1; done
	) 3>&- &
	writer=$!
	for i in $(seq 1 15); do
		vaultctl-secret export ex/api/race --format json >"$BATS_TEST_TMPDIR/race.$i" ||
			{ echo "export $i failed"; return 1; }
	done
	wait "$writer"
	for i in $(seq 1 15); do
		[ "$(jq length "$BATS_TEST_TMPDIR/race.$i")" -eq 21 ]
		[[ $(jq -r .R "$BATS_TEST_TMPDIR/race.$i") =~ ^w([0-9]|[1-3][0-9]|40)$ ]]
	done
	x_got_text ex/api/race/R w40
	after=$(vc_reads)
	[ $((after - before)) -eq $((15 * 21 + 1)) ]
	run -0 vaultctl-audit verify
}
