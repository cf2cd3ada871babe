#!/bin/sh
# check.sh FORMAT CORPUS_DIR EXPORT_FILE - round trip of one export format
# through its real consumers, reported as TAP on stdout.
#
# 1. Each value of CORPUS_DIR (file name = secret name) is exported alone:
#    the values listed in expected_refusals below must be refused with exit
#    2 and a message naming the secret, all others accepted.
# 2. The whole corpus must be refused (it holds refused values) without
#    writing anything.
# 3. The accepted values are exported together into EXPORT_FILE (left there
#    for inspection), which every real consumer of FORMAT reads back; each
#    value must come back byte for byte.
#
# Environment:
#   VC_EXPORT_CMD      exporter, called as `$VC_EXPORT_CMD FORMAT DIR`
#                      (default: gen_export, built here from lib/)
#   VC_ROUNDTRIP_BIN   a prebuilt gen_export (also used for the import side)
#   VC_NODE_DOTENV     directory holding node_modules/dotenv (npm dotenv 16);
#                      without it the npm readers report "not ok"
#   VC_PYTHON          python with python-dotenv and PyYAML (/usr/bin/python3)
set -u

if [ $# -ne 3 ]; then
	echo "usage: check.sh FORMAT CORPUS_DIR EXPORT_FILE" >&2
	exit 2
fi
fmt=$1
corpus=$(cd "$2" && pwd) || exit 2
export_file=$3
# Absolute, since ". FILE" searches PATH for a name without a slash.
case $export_file in /*) ;; *) export_file=$PWD/$export_file ;; esac
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
PY=${VC_PYTHON:-/usr/bin/python3}

# Values each format must refuse.  This list is part of the export contract
# (vaultctl-secret(1), EXPORT FORMATS): a change here must be deliberate.
expected_refusals() {
	case $1 in
	sh|env0) echo "NUL" ;;
	json|yaml) echo "INVALID_UTF8 NUL SURROGATE" ;;
	dotenv) echo "ALL_QUOTES BS_CR BS_DOUBLE BS_END BS_ONLY BS_SQUOTE" \
		"BS_T_SQUOTE CR_DQUOTE DOLLAR_BRACE DOLLAR_BRACE_COLON" \
		"DOLLAR_BRACE_DEFAULT INVALID_UTF8 NUL SURROGATE" ;;
	docker) echo "BIG BS_CR BS_NEWLINE CR CRLF CR_DQUOTE CR_SQUOTE" \
		"INJECT_DQ INJECT_SQ INVALID_UTF8 LEADING_NEWLINE NEWLINES NUL" \
		"ONLY_NEWLINE PEM SURROGATE" ;;
	*) return 1 ;;
	esac
}

refusals=$(expected_refusals "$fmt") || {
	echo "check.sh: unknown format '$fmt'" >&2
	exit 2
}

work=$(mktemp -d "${TMPDIR:-/tmp}/vc-roundtrip.XXXXXX") || exit 1
dockerd_pid=
cleanup() {
	[ -n "$dockerd_pid" ] && kill "$dockerd_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

n=0
failed=0
pass() { n=$((n + 1)); printf "ok %d - %s\n" "$n" "$*"; }
fail() { n=$((n + 1)); failed=$((failed + 1)); printf "not ok %d - %s\n" "$n" "$*"; }
skip() { n=$((n + 1)); printf "ok %d - %s # SKIP %s\n" "$n" "$1" "$2"; }
# The first 300 bytes of a log file, on one line.
excerpt() { head -c 300 "$1" | tr '\n' ' '; }
# The start of a value read back, as a Python bytes literal.
shown() {
	"$PY" -c 'import sys; b = open(sys.argv[1], "rb").read()
print(repr(b[:80]) + (" (%d bytes)" % len(b) if len(b) > 80 else ""))' "$1"
}

bin=${VC_ROUNDTRIP_BIN:-}
if [ -z "$bin" ]; then
	bin=$work/gen_export
	# shellcheck disable=SC2046 # pkg-config output is meant to split
	if ! ${CC:-cc} -std=c11 -Wall -Wextra -Werror -I"$root/lib" \
	    "$root/lib/vc.c" "$root/lib/format.c" "$root/lib/dotenv.c" \
	    "$here/gen_export.c" $(pkg-config --cflags --libs libcjson libsodium) \
	    -o "$bin" 2>"$work/cc.log"; then
		echo "Bail out! cannot build gen_export: $(excerpt "$work/cc.log")"
		exit 1
	fi
fi
exporter=${VC_EXPORT_CMD:-$bin}

# ---- 1. one value at a time ----

is_refused() {
	for r in $refusals; do
		[ "$r" = "$1" ] && return 0
	done
	return 1
}

mkdir "$work/one" "$work/accepted"
accepted=
for path in "$corpus"/*; do
	[ -f "$path" ] || continue
	name=${path##*/}
	rm -f "$work/one"/*
	cp "$path" "$work/one/"
	$exporter "$fmt" "$work/one" >"$work/one.out" 2>"$work/one.err"
	rc=$?
	if is_refused "$name"; then
		if [ $rc -eq 2 ] && [ ! -s "$work/one.out" ] &&
		    grep -qF "'$name'" "$work/one.err"; then
			pass "$fmt refuses $name by name"
		else
			fail "$fmt refuses $name by name (exit $rc: $(excerpt "$work/one.err"))"
		fi
	elif [ $rc -eq 0 ]; then
		pass "$fmt accepts $name"
		cp "$path" "$work/accepted/"
		accepted="$accepted $name"
	else
		fail "$fmt accepts $name (exit $rc: $(excerpt "$work/one.err"))"
	fi
done
present=
for r in $refusals; do
	if [ -f "$corpus/$r" ]; then
		present="$present $r"
	else
		skip "$fmt refuses $r" "not in this corpus"
	fi
done
echo "# $fmt refuses:$present"

# ---- 2. a refusal of one value refuses the whole export ----

if [ -n "$present" ]; then
	$exporter "$fmt" "$corpus" >"$work/all.out" 2>"$work/all.err"
	rc=$?
	if [ $rc -eq 2 ] && [ ! -s "$work/all.out" ]; then
		pass "$fmt refuses the whole corpus and writes nothing"
	else
		fail "$fmt refuses the whole corpus and writes nothing (exit $rc, $(wc -c <"$work/all.out") bytes)"
	fi
fi

# ---- 3. the accepted values together, through every consumer ----

if $exporter "$fmt" "$work/accepted" >"$export_file" 2>"$work/acc.err"; then
	pass "$fmt exports the $(echo "$accepted" | wc -w) accepted values to $export_file"
else
	fail "$fmt exports the accepted values ($(excerpt "$work/acc.err"))"
fi

# consume LABEL COMMAND...: runs COMMAND... OUTDIR, then compares every
# accepted value with OUTDIR/NAME.  COMMAND exits 99 when its consumer is
# missing (reported as not ok) and 98 when it may be skipped.
consume() {
	label=$1
	shift
	out=$work/out.$n
	mkdir -p "$out"
	"$@" "$out" >"$work/consumer.log" 2>&1
	rc=$?
	case $rc in
	0) ;;
	98) skip "$label" "$(excerpt "$work/consumer.log")"; return ;;
	99) fail "$label: consumer unavailable: $(excerpt "$work/consumer.log")"; return ;;
	*) fail "$label reads the export (exit $rc: $(excerpt "$work/consumer.log"))" ;;
	esac
	for name in $accepted; do
		if [ ! -f "$out/$name" ]; then
			fail "$label $name: missing"
		elif cmp -s "$corpus/$name" "$out/$name"; then
			pass "$label $name"
		else
			fail "$label $name: got $(shown "$out/$name")"
		fi
	done
}

# A POSIX shell sources (or evals) the export and prints each variable.
read_sh() { # SHELL MODE OUT
	# shellcheck disable=SC2086,SC2016 # $1 may be "busybox sh"; names
	# split; the script expands in the child shell
	$1 -c '
		__vc_file=$1 __vc_out=$2 __vc_mode=$3
		shift 3
		if [ "$__vc_mode" = eval ]; then
			eval "$(cat "$__vc_file")"
		else
			. "$__vc_file"
		fi
		for __vc_n do
			eval "printf %s \"\${$__vc_n}\"" >"$__vc_out/$__vc_n"
		done
	' sh "$export_file" "$3" "$2" $accepted
}

read_npm() { # parse|config OUT
	if [ ! -d "${VC_NODE_DOTENV:-/nonexistent}/node_modules/dotenv" ]; then
		echo "set VC_NODE_DOTENV to a directory holding node_modules/dotenv" \
			"(npm install dotenv@16)"
		return 99
	fi
	command -v node >/dev/null || { echo "node not installed"; return 99; }
	# shellcheck disable=SC2086
	NODE_PATH=$VC_NODE_DOTENV/node_modules \
		node "$here/consumers.js" "$1" "$export_file" "$2" $accepted
}

# Python readers run in a clean environment so nothing leaks in.
read_py() { # COMMAND [ARGS] OUT
	env -i PATH="$PATH" LC_ALL=C.UTF-8 "$PY" "$here/consumers.py" "$@"
}

read_load_dotenv() { # OUT
	# shellcheck disable=SC2086
	read_py load-dotenv "$export_file" "$1" $accepted
}

read_vaultctl() { # dotenv|json OUT
	"$bin" --import "$1" "$export_file" "$2"
}

read_jq() { # OUT
	command -v jq >/dev/null || { echo "jq not installed"; return 99; }
	for name in $accepted; do
		jq -j --arg k "$name" '.[$k]' "$export_file" >"$1/$name" || return 1
	done
}

read_libyaml() { # OUT
	if ! "$PY" -c 'import yaml, sys; sys.exit(not yaml.__with_libyaml__)'; then
		echo "PyYAML built without libyaml"
		return 98
	fi
	read_py yaml "$export_file" "$1" c
}

# The docker client itself parses --env-file; a fake daemon on a private
# socket records the environment of the container it is asked to create.
read_docker_client() { # OUT
	command -v docker >/dev/null || { echo "docker client not installed"; return 98; }
	sock=$work/dockerd.sock
	"$PY" "$here/consumers.py" fake-dockerd "$sock" "$work/create.json" &
	dockerd_pid=$!
	i=0
	while [ ! -S "$sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	DOCKER_HOST=unix://$sock DOCKER_CONFIG=$work/docker-config \
		timeout 60 docker create --env-file "$export_file" vaultctl-roundtrip
	rc=$?
	kill "$dockerd_pid" 2>/dev/null
	wait "$dockerd_pid" 2>/dev/null
	dockerd_pid=
	[ $rc -eq 0 ] || return 1
	read_py docker-env "$work/create.json" "$1"
}

# env -0 records: xargs hands them to env as NAME=value arguments...
read_env0_xargs() { # OUT
	xargs -0 -a "$export_file" sh -c 'exec env -i "$@" env -0' sh \
		>"$work/env0.dump" || return 1
	read_py records "$work/env0.dump" "$1"
}

# ... and bash reads them with read -d '' and exports each one.
read_env0_bash() { # OUT
	# shellcheck disable=SC2016 # expanded by the child bash
	env -i bash -c 'while IFS= read -r -d "" r; do export "$r"; done <"$1"
		exec env -0' sh "$export_file" >"$work/env0.dump" || return 1
	read_py records "$work/env0.dump" "$1"
}

case $fmt in
sh)
	for sh in bash dash zsh "busybox sh"; do
		consume "sh/$sh '. file'" read_sh "$sh" dot
		consume "sh/$sh 'eval'" read_sh "$sh" eval
	done ;;
dotenv)
	consume "dotenv/npm parse" read_npm parse
	consume "dotenv/npm config" read_npm config
	consume "dotenv/python dotenv_values" read_py dotenv-values "$export_file"
	consume "dotenv/python load_dotenv" read_load_dotenv
	consume "dotenv/vaultctl import" read_vaultctl dotenv ;;
json)
	consume "json/jq" read_jq
	consume "json/python json" read_py json "$export_file"
	consume "json/vaultctl import" read_vaultctl json ;;
yaml)
	consume "yaml/PyYAML safe_load" read_py yaml "$export_file"
	consume "yaml/PyYAML libyaml" read_libyaml ;;
docker)
	consume "docker/--env-file rules" read_py docker "$export_file"
	consume "docker/docker client" read_docker_client ;;
env0)
	consume "env0/xargs -0 env" read_env0_xargs
	consume "env0/bash read -d ''" read_env0_bash ;;
esac

echo "1..$n"
[ $failed -eq 0 ]
