#!/usr/bin/env bash
# Replays every seed (corpus/<target>/) and every kept crash
# (regressions/<target>/) through its fuzz target once, as TAP: one line
# "ok N - target file" per input.  Run by `make check`, so that a crash
# the fuzzer once found stays fixed.
set -u
cd "$(dirname "$0")/../.."
F=tests/fuzz B=tests/fuzz/build
n=0 fail=0

mkdir -p "$B"
probe=$B/probe.c
echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' >"$probe"
if ! clang -fsanitize=fuzzer -o "$B/probe" "$probe" >/dev/null 2>&1; then
	echo "ok 1 - fuzz regressions # SKIP no clang with libFuzzer (Debian: clang libclang-rt-14-dev)"
	echo "1..1"
	exit 0
fi
if ! "$F/build.sh" >"$B/build.log" 2>&1; then
	echo "not ok 1 - fuzz targets build"
	sed 's/^/# /' "$B/build.log"
	echo "1..1"
	exit 1
fi

# Runs files through the target one at a time; prints TAP.
one_by_one() {  # target files...
	local t=$1 f out
	shift
	for f in "$@"; do
		n=$((n + 1))
		if out=$(timeout 60 "$B/$t" -timeout=10 "$f" 2>&1); then
			echo "ok $n - $t ${f#$F/}"
		else
			fail=$((fail + 1))
			echo "not ok $n - $t ${f#$F/}"
			echo "$out" | grep -E 'invariant failed|ERROR|SUMMARY|runtime error|#[0-9]+ ' |
				head -15 | sed 's/^/# /'
		fi
	done
}

for src in "$F"/fuzz_*.c; do
	t=$(basename "${src%.c}")
	files=()
	for f in "$F/regressions/$t"/* "$F/corpus/$t"/*; do
		[ -f "$f" ] && files+=("$f")
	done
	[ ${#files[@]} -gt 0 ] || continue
	# One process for all of a target's files; one by one only to find
	# which input fails.
	if timeout 300 "$B/$t" -timeout=10 "${files[@]}" >/dev/null 2>&1; then
		for f in "${files[@]}"; do
			n=$((n + 1))
			echo "ok $n - $t ${f#$F/}"
		done
	else
		one_by_one "$t" "${files[@]}"
	fi
done
echo "1..$n"
[ "$fail" -eq 0 ]
