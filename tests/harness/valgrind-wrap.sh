#!/usr/bin/env bash
# Runs the vaultctl binaries under valgrind memcheck, for
# `make check VALGRIND=1` (tests/run.sh exports VC_VALGRIND=1).
#
#   tests/harness/valgrind-wrap.sh --setup [DIR]
#       makes DIR (default: $VC_VALGRIND_DIR, else a directory under
#       $TMPDIR) hold one link to this script per binary of bin/, named
#       like it, and prints DIR: put it first on PATH and every vaultctl
#       command the tests run goes through valgrind.
#   tests/harness/valgrind-wrap.sh --report [LOGDIR]
#       prints the logs that hold errors (empty ones are removed); exits 1
#       when there is one.
#   DIR/vaultctl-secret ARGS...
#       execs valgrind on bin/vaultctl-secret ARGS...: the process keeps
#       its pid, so signals sent to it (kill -INT) reach the program.
#
# valgrind exits 99 on any memory error or definite leak, so a test that
# expects another status fails; the report (one log per process, in
# $VC_VALGRIND_LOG, default DIR/../logs) says where.  VC_VALGRIND_OPTS
# adds options (for example --track-origins=yes).
set -euo pipefail

self=$(readlink -f "${BASH_SOURCE[0]}")
repo=$(cd "$(dirname "$self")/../.." && pwd)
base=${VC_VALGRIND_DIR:-${TMPDIR:-/tmp}/vaultctl-valgrind.$(id -u)/bin}
logs=${VC_VALGRIND_LOG:-$(dirname "$base")/logs}

case ${1:-} in
--setup)
	dir=${2:-$base}
	mkdir -p "$dir" "$logs"
	for bin in "$repo"/bin/vaultctl*; do
		[[ -x $bin ]] || continue
		ln -sfn "$self" "$dir/${bin##*/}"
	done
	printf '%s\n' "$dir"
	exit 0
	;;
--report)
	dir=${2:-$logs}
	[[ -d $dir ]] || { echo "valgrind: no logs in $dir"; exit 0; }
	find "$dir" -type f -name '*.log' -empty -delete
	n=$(find "$dir" -type f -name '*.log' | wc -l)
	if ((n == 0)); then
		echo "valgrind: no errors, no definite leaks"
		exit 0
	fi
	echo "valgrind: $n process(es) with errors or definite leaks:"
	find "$dir" -type f -name '*.log' | sort | while read -r f; do
		printf -- '--- %s\n' "$f"
		head -n 60 "$f"
	done
	exit 1
	;;
esac

name=${0##*/}
real=$repo/bin/$name
[[ $name == vaultctl* && -x $real ]] || {
	printf 'valgrind-wrap.sh: run me as --setup, --report, or through a link named like a binary of %s/bin\n' "$repo" >&2
	exit 2
}
mkdir -p "$logs"
# shellcheck disable=SC2086 # VC_VALGRIND_OPTS is a list of options
exec valgrind --error-exitcode=99 --leak-check=full \
	--errors-for-leak-kinds=definite --show-leak-kinds=definite --quiet \
	--log-file="$logs/$name.%p.log" ${VC_VALGRIND_OPTS:-} "$real" "$@"
