# Shared by 28-inject.bats (local store) and 28-inject-vault.bats (the
# Vault emulator): the tests of vaultctl-secret inject, which both stores
# must pass alike.  The hard corpus of tests/e2e/roundtrip is stored in
# $IENV and injected through each filter into a document its real consumer
# reads back (python json, PyYAML pure and libyaml, bash and dash), byte
# for byte.
#
#   load helper
#   load export_helper
#   load inject_helper
#
# Values are compared as files (cmp), never through $(...).

# shellcheck disable=SC2154 # set by bats' run
bats_require_minimum_version 1.5.0

# What each filter refuses in the corpus: json and yaml invalid UTF-8, sh
# a NUL byte; raw nothing.
i_refusals() {
	case $1 in
	json|yaml) echo "INVALID_UTF8 SURROGATE" ;;
	sh) echo "NUL" ;;
	*) echo "" ;;
	esac
}

# i_setup ORG: the organization (envs prod and other), the corpus in
# ORG/api/prod; sets IORG, IENV, CORPUS.
i_setup() {
	IORG=$1
	x_org "$IORG" NULL prod other
	IENV=$IORG/api/prod
	CORPUS=$VC_TEST_DIR/corpus
	x_corpus "$CORPUS"
	x_load "$IENV" "$CORPUS"
	export IORG IENV CORPUS
}

# i_accepted FILTER: the corpus names FILTER carries, one per line.
i_accepted() {
	local refused f
	refused=" $(i_refusals "$1") "
	for f in "$CORPUS"/*; do
		[[ $refused == *" ${f##*/} "* ]] || printf '%s\n' "${f##*/}"
	done
}

# i_reads: the number of reads of values audited.
i_reads() {
	vc_reads
}

# i_check_dir DIR: every file of DIR holds exactly the corpus value of its
# name.
i_check_dir() {
	local f n=0
	for f in "$1"/*; do
		cmp "$CORPUS/${f##*/}" "$f" ||
			{ echo "${f##*/} differs: $(od -c "$f" | head -3)"; return 1; }
		n=$((n + 1))
	done
	[ "$n" -gt 0 ]
}

t_inj_raw() {
	local f n tpl=$BATS_TEST_TMPDIR/t out=$BATS_TEST_TMPDIR/o
	for f in "$CORPUS"/*; do
		n=${f##*/}
		printf 'A{{vaultctl://%s/%s}}B' "$IENV" "$n" >"$tpl"
		vaultctl-secret inject -i "$tpl" >"$out" ||
			{ echo "inject of $n failed"; return 1; }
		{ printf A; cat "$f"; printf B; } >"$tpl.want"
		cmp "$tpl.want" "$out" || { echo "raw $n differs"; return 1; }
	done
}

t_inj_json() {
	local n tpl=$BATS_TEST_TMPDIR/t.json sep=
	mkdir "$BATS_TEST_TMPDIR/back"
	{
		printf '{'
		for n in $(i_accepted json); do
			printf '%s"%s": "{{ vaultctl://%s/%s | json }}"' "$sep" "$n" "$IENV" "$n"
			sep=,
		done
		printf '}\n'
	} >"$tpl"
	vaultctl-secret inject <"$tpl" >"$BATS_TEST_TMPDIR/doc.json"
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
for k, v in d.items():
    open(sys.argv[2] + "/" + k, "wb").write(v.encode("utf-8", "surrogatepass"))' \
		"$BATS_TEST_TMPDIR/doc.json" "$BATS_TEST_TMPDIR/back"
	[ "$(find "$BATS_TEST_TMPDIR/back" -type f | wc -l)" -eq "$(i_accepted json | wc -l)" ]
	i_check_dir "$BATS_TEST_TMPDIR/back"
}

t_inj_yaml() {
	local n tpl=$BATS_TEST_TMPDIR/t.yaml loader
	{
		echo "# a configuration file"
		for n in $(i_accepted yaml); do
			printf '"%s": "{{vaultctl://%s/%s|yaml}}"\n' "$n" "$IENV" "$n"
		done
	} >"$tpl"
	vaultctl-secret inject -i "$tpl" -o "$BATS_TEST_TMPDIR/doc.yaml"
	for loader in SafeLoader CSafeLoader; do
		rm -rf "$BATS_TEST_TMPDIR/back"
		mkdir "$BATS_TEST_TMPDIR/back"
		python3 -c 'import sys, yaml
d = yaml.load(open(sys.argv[1], "rb"), Loader=getattr(yaml, sys.argv[3]))
for k, v in d.items():
    open(sys.argv[2] + "/" + k, "wb").write(v.encode("utf-8"))' \
			"$BATS_TEST_TMPDIR/doc.yaml" "$BATS_TEST_TMPDIR/back" "$loader"
		[ "$(find "$BATS_TEST_TMPDIR/back" -type f | wc -l)" -eq "$(i_accepted yaml | wc -l)" ]
		i_check_dir "$BATS_TEST_TMPDIR/back" || { echo "with $loader"; return 1; }
	done
}

t_inj_sh() {
	local n tpl=$BATS_TEST_TMPDIR/t.sh sh
	{
		for n in $(i_accepted sh); do
			printf "%s='{{ vaultctl://%s/%s | sh }}'\n" "$n" "$IENV" "$n"
		done
		# shellcheck disable=SC2016 # expanded by the shell reading it
		printf 'for n in %s; do eval "printf %%s \\"\\$$n\\"" >"$1/$n"; done\n' \
			"$(i_accepted sh | tr '\n' ' ')"
	} >"$tpl"
	vaultctl-secret inject -i "$tpl" -o "$BATS_TEST_TMPDIR/vars.sh"
	for sh in bash dash; do
		rm -rf "$BATS_TEST_TMPDIR/back"
		mkdir "$BATS_TEST_TMPDIR/back"
		"$sh" "$BATS_TEST_TMPDIR/vars.sh" "$BATS_TEST_TMPDIR/back" ||
			{ echo "$sh failed"; return 1; }
		[ "$(find "$BATS_TEST_TMPDIR/back" -type f | wc -l)" -eq "$(i_accepted sh | wc -l)" ]
		i_check_dir "$BATS_TEST_TMPDIR/back" || { echo "with $sh"; return 1; }
	done
}

# Each refusal names the secret and the filter, exits 2, writes nothing,
# audits nothing.
t_inj_refusals() {
	local flt n before tpl=$BATS_TEST_TMPDIR/t
	before=$(i_reads)
	for flt in json yaml sh; do
		for n in $(i_refusals "$flt"); do
			printf 'x {{ vaultctl://%s/UTF8 }} {{ vaultctl://%s/%s | %s }}\n' \
				"$IENV" "$IENV" "$n" "$flt" >"$tpl"
			run --separate-stderr vaultctl-secret inject -i "$tpl" -o "$BATS_TEST_TMPDIR/no"
			[ "$status" -eq 2 ] || { echo "$flt $n: exit $status"; return 1; }
			[[ $stderr == *"'$IENV/$n'"*"$flt filter cannot carry"* ]] ||
				{ echo "$flt $n: $stderr"; return 1; }
			[ -z "$output" ] && [ ! -e "$BATS_TEST_TMPDIR/no" ]
		done
	done
	[ "$(i_reads)" -eq "$before" ]
}

# Text outside references is copied byte for byte: NUL, invalid UTF-8,
# CRLF, other {{ }} templates, no final newline; spaces are optional.
t_inj_passthrough() {
	local tpl=$BATS_TEST_TMPDIR/t
	printf '\000\377{{ other }}{{\r\n}} {{vaultctl:/x}} {%s{{  vaultctl://%s/UTF8  |  raw  }}{{\tvaultctl://%s/EMPTY|json\t}}}\r\n\300' \
		'{' "$IENV" "$IENV" >"$tpl"
	vaultctl-secret inject -i "$tpl" >"$BATS_TEST_TMPDIR/out"
	{ printf '\000\377{{ other }}{{\r\n}} {{vaultctl:/x}} {{'
	  cat "$CORPUS/UTF8"; printf '}\r\n\300'; } >"$BATS_TEST_TMPDIR/want"
	cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/out"
	# A template without references is copied as it is, reading nothing.
	head -c 3000 /dev/urandom >"$tpl"
	sed -i 's/{{/{ {/g' "$tpl"
	vaultctl-secret inject <"$tpl" >"$BATS_TEST_TMPDIR/out"
	cmp "$tpl" "$BATS_TEST_TMPDIR/out"
	: >"$tpl"
	vaultctl-secret inject <"$tpl" >"$BATS_TEST_TMPDIR/out"
	[ ! -s "$BATS_TEST_TMPDIR/out" ]
}

# A missing secret, environment or organization exits 3: no output, no
# -o file (an existing one left as it was), no audit row.
t_inj_missing() {
	local ref before tpl=$BATS_TEST_TMPDIR/t out=$BATS_TEST_TMPDIR/out
	echo keep >"$out"
	before=$(i_reads)
	for ref in "$IENV/NOPE" "$IORG/api/nope/UTF8" "$IORG/nope/prod/UTF8" "nope-org/api/prod/UTF8"; do
		printf '{{ vaultctl://%s/UTF8 }}{{ vaultctl://%s }}\n' "$IENV" "$ref" >"$tpl"
		run --separate-stderr vaultctl-secret inject -i "$tpl"
		[ "$status" -eq 3 ] && [ -z "$output" ] ||
			{ echo "$ref: exit $status, stdout '$output'"; return 1; }
		run --separate-stderr vaultctl-secret inject -i "$tpl" -o "$out"
		[ "$status" -eq 3 ] && [ "$(cat "$out")" == keep ]
	done
	[[ $stderr == *"not found"* ]]
	[ "$(i_reads)" -eq "$before" ]
	[ -z "$(find "$BATS_TEST_TMPDIR" -name 'out.*')" ]
}

# -o: mode 0600 whatever the umask, a new inode over an existing file.
t_inj_out_file() {
	local tpl=$BATS_TEST_TMPDIR/t out=$BATS_TEST_TMPDIR/o ino
	printf 'k={{ vaultctl://%s/PEM }}' "$IENV" >"$tpl"
	echo old >"$out"
	chmod 0644 "$out"
	ino=$(stat -c %i "$out")
	(umask 000; vaultctl-secret inject -i "$tpl" -o "$out")
	[ "$(stat -c %a "$out")" == 600 ]
	[ "$(stat -c %i "$out")" != "$ino" ]
	{ printf 'k='; cat "$CORPUS/PEM"; } | cmp - "$out"
	# stdout and -o write the same bytes.
	vaultctl-secret inject -i "$tpl" | cmp - "$out"
	# -o in a missing directory: exit 2 before anything is read.
	local before
	before=$(i_reads)
	run -2 vaultctl-secret inject -i "$tpl" -o "$BATS_TEST_TMPDIR/none/o"
	[ "$(i_reads)" -eq "$before" ]
}

# One secret.read row per distinct secret, each environment read once,
# several environments in one template; the chain intact.
t_inj_audit() {
	local before tpl=$BATS_TEST_TMPDIR/t
	x_put "$IORG/api/other/OTHER" other-value
	x_put "$IORG/api/other/utf8" lower
	before=$(i_reads)
	printf '%s\n' "{{ vaultctl://$IENV/UTF8 }}" "{{ vaultctl://$IENV/utf8|json }}" \
		"{{ vaultctl://$IORG/api/other/OTHER }}" "{{ vaultctl://$IENV/PEM | sh }}" \
		"{{ vaultctl://$IORG/api/other/UTF8 }}" "{{ vaultctl://$IORG/api/other/OTHER }}" >"$tpl"
	vaultctl-secret inject -i "$tpl" >"$BATS_TEST_TMPDIR/out"
	[ "$(i_reads)" -eq $((before + 4)) ]
	[ "$(sed -n 3p "$BATS_TEST_TMPDIR/out")" == other-value ]
	[ "$(tail -n 1 "$BATS_TEST_TMPDIR/out")" == other-value ]
	run -0 vaultctl-audit verify
	# A viewer may not read values (exit 4) and audits nothing.
	vaultctl-org -q user add "viewer-$IORG@example.com" --no-password >/dev/null
	vaultctl-org -q member add "$IORG" "viewer-$IORG@example.com" --role viewer >/dev/null
	before=$(i_reads)
	VAULTCTL_USER=viewer-$IORG@example.com run -4 vaultctl-secret inject -i "$tpl"
	[ "$(i_reads)" -eq "$before" ]
}

# Malformed references and options exit 2, write nothing, read nothing.
t_inj_bad() {
	local t before tpl=$BATS_TEST_TMPDIR/t
	before=$(i_reads)
	for t in "{{ vaultctl://$IENV/UTF8 | toml }}" "{{ vaultctl://$IENV/UTF8" \
		"{{ vaultctl://$IENV/UTF8 }" "{{ vaultctl://$IENV }}" \
		"{{ vaultctl://$IENV/UTF8/x }}" "{{ vaultctl://$IENV/BAD-NAME }}" \
		"{{ vaultctl:// }}" "{{ vaultctl://$IENV/UTF8 | }}" \
		"{{ vaultctl://$IENV/UTF8 json }}"; do
		printf 'ok {{ vaultctl://%s/PEM }}\n%s\n' "$IENV" "$t" >"$tpl"
		run --separate-stderr vaultctl-secret inject -i "$tpl" -o "$BATS_TEST_TMPDIR/no"
		[ "$status" -eq 2 ] || { echo "'$t': exit $status: $stderr"; return 1; }
		[[ $stderr == *"line 2"* ]] || { echo "'$t': $stderr"; return 1; }
		[ -z "$output" ] && [ ! -e "$BATS_TEST_TMPDIR/no" ]
	done
	run -2 vaultctl-secret inject -i "$tpl" extra
	run -2 vaultctl-secret inject -x
	run -2 vaultctl-secret inject -i
	[ "$(i_reads)" -eq "$before" ]
}
