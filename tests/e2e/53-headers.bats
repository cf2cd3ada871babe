#!/usr/bin/env bats
# Every header of lib/ and cmd/ stands on its own: it compiles as the only
# include of a file, twice over, and holds nothing outside its include
# guard (a declaration after the #endif compiles once, and breaks the
# second include only when it defines something).  No server needed.

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

headers() {
	ls "$REPO"/lib/*.h "$REPO"/cmd/*/*.h
}

# The compilers of the build: cc (or $CC), and clang when there is one.
compilers() {
	echo "${CC:-cc}"
	[ "${CC:-cc}" = clang ] || ! command -v clang >/dev/null || echo clang
}

@test "every header compiles on its own, included twice" {
	local cc h flags failed=""
	flags="-std=c11 -Wall -Wextra -Werror -Wshadow -D_GNU_SOURCE -I$REPO/lib
		-I$REPO/cmd/common $(pkg-config --cflags libmariadb libcurl libcjson libsodium)"
	for cc in $(compilers); do
		for h in $(headers); do
			printf '#include "%s"\n#include "%s"\n' "$h" "$h" |
				"$cc" $flags -I"$(dirname "$h")" -fsyntax-only -x c - ||
				failed="$failed $cc:${h#"$REPO"/}"
		done
	done
	[ -z "$failed" ] || { echo "do not compile on their own:$failed" >&2; return 1; }
}

# Outside comments, a header is "#ifndef G", "#define G", its body, and
# the "#endif" that closes the #ifndef as its last line.
guard_problem() {      # header
	awk '
	function fail(why) { print FILENAME ": " why; bad = 1; exit }
	{ line = $0 }
	incomment { if (sub(/.*\*\//, "", line)) incomment = 0; else next }
	{ gsub(/\/\*([^*]|\*+[^*\/])*\*+\//, "", line)
	  if (sub(/\/\*.*/, "", line)) incomment = 1 }
	line ~ /^[ \t]*$/ { next }
	state == 0 {
		if (line !~ /^#ifndef [A-Z0-9_]+[ \t]*$/) fail("line " NR " comes before the include guard")
		guard = line; sub(/^#ifndef /, "", guard); sub(/[ \t]*$/, "", guard)
		state = 1; depth = 1; next
	}
	state == 1 {
		if (line !~ "^#define " guard "[ \t]*$") fail("#ifndef " guard " is not followed by #define " guard)
		state = 2; next
	}
	state == 3 { fail("line " NR " is outside the include guard") }
	line ~ /^[ \t]*#[ \t]*if/ { depth++ }
	line ~ /^[ \t]*#[ \t]*endif/ { if (--depth == 0) state = 3 }
	END {
		if (bad) exit 1
		if (state != 3) { print FILENAME ": no include guard closing at the end"; exit 1 }
		print guard > "/dev/stderr"
	}' "$1"
}

@test "nothing outside an include guard; each guard names one header" {
	local h out problems="" guards
	for h in $(headers); do
		out=$(guard_problem "$h" 2>>"$BATS_TEST_TMPDIR/guards") ||
			problems="$problems"$'\n'"$out"
	done
	[ -z "$problems" ] || { echo "include guards:$problems" >&2; return 1; }
	guards=$(sort "$BATS_TEST_TMPDIR/guards" | uniq -d)
	[ -z "$guards" ] || { echo "guards used twice: $guards" >&2; return 1; }
}

@test "the guard check finds a declaration after the #endif" {
	local h=$BATS_TEST_TMPDIR/late.h
	printf '/* x */\n#ifndef VC_LATE_H\n#define VC_LATE_H\nint a;\n#endif\n\nint b;\n' >"$h"
	run guard_problem "$h"
	[ "$status" -ne 0 ]
	[[ $output == *"line 7 is outside the include guard"* ]]
	printf '#include <stdio.h>\n#ifndef VC_EARLY_H\n#define VC_EARLY_H\n#endif\n' >"$h"
	run guard_problem "$h"
	[ "$status" -ne 0 ]
	printf '/* a\n * b */\n#ifndef VC_OK_H\n#define VC_OK_H\n#if 1\n#endif\n#endif\n' >"$h"
	run guard_problem "$h"
	[ "$status" -eq 0 ]
}
