#!/usr/bin/env bash
# Builds the libFuzzer targets tests/fuzz/fuzz_*.c into tests/fuzz/build/.
# Usage: tests/fuzz/build.sh [TARGET...]     (default: every target)
#
# lib/*.c are compiled once with the fuzzer's instrumentation and the
# sanitizers into build/obj/ and archived; each target links the archive,
# so it takes exactly the modules it needs.  A module that does not
# compile (work in progress) is left out with a warning, and only the
# targets that need it fail to link.  Needs clang with the libFuzzer
# runtime (Debian: clang and libclang-rt-14-dev).
set -u
cd "$(dirname "$0")/../.."
B=tests/fuzz/build
CC=${FUZZ_CC:-clang}
PKGS="libsodium libcjson libmariadb"
SAN="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
CFLAGS="-g -O1 $SAN -fno-omit-frame-pointer -std=c11 -D_GNU_SOURCE -Ilib \
$(pkg-config --cflags $PKGS libcurl)"
# libmariadb is loaded on first use (lib/mariadb_shim.c), as libcurl is.
LIBS="$(pkg-config --libs libsodium libcjson) -ldl -lm"

# Link flags of a target besides the archive.
extra_ldflags() {
	case $1 in
	# The transfer functions are replaced by ones that hand back the
	# fuzzer's answer (see fuzz_vault_response.c).
	fuzz_vault_response) echo "-Wl,--wrap=vault_exec,--wrap=vault_exec1" ;;
	esac
}

mkdir -p "$B/obj"
if ! command -v "$CC" >/dev/null; then
	echo "build.sh: $CC not found (install clang and libclang-rt-14-dev)" >&2
	exit 2
fi
# Everything is rebuilt when the flags change.
if [ "$(cat "$B/flags" 2>/dev/null)" != "$CC $CFLAGS $LIBS" ]; then
	rm -f "$B"/obj/*.o "$B"/fuzz_*[!.]* 2>/dev/null
	echo "$CC $CFLAGS $LIBS" >"$B/flags"
fi

newest_header=$(ls -t lib/*.h tests/fuzz/fuzz.h | head -1)
compile() {     # src obj
	"$CC" $CFLAGS -c -o "$2.tmp" "$1" 2>"$2.err" && mv "$2.tmp" "$2" &&
		rm -f "$2.err"
}

# lib objects, up to nproc at a time.
jobs=$(nproc 2>/dev/null || echo 2)
objs=() failed_src=()
for src in lib/*.c; do
	obj=$B/obj/$(basename "${src%.c}").o
	objs+=("$obj")
	if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ "$newest_header" -nt "$obj" ]; then
		while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
		rm -f "$obj"
		compile "$src" "$obj" &
	fi
done
wait
have=()
for obj in "${objs[@]}"; do
	if [ -f "$obj" ]; then
		have+=("$obj")
	else
		failed_src+=("$obj")
		echo "build.sh: warning: $(basename "${obj%.o}").c does not compile, left out:" >&2
		head -5 "$obj.err" >&2
	fi
done
ar rcs "$B/libvc-fuzz.a.tmp" "${have[@]}" && mv "$B/libvc-fuzz.a.tmp" "$B/libvc-fuzz.a"

if [ $# -gt 0 ]; then
	targets=("$@")
else
	targets=()
	for f in tests/fuzz/fuzz_*.c; do
		t=$(basename "${f%.c}")
		targets+=("$t")
	done
fi
rc=0
for t in "${targets[@]}"; do
	src=tests/fuzz/$t.c bin=$B/$t
	if [ ! -f "$src" ]; then
		echo "build.sh: no target $t" >&2
		rc=1
		continue
	fi
	if [ -x "$bin" ] && [ "$bin" -nt "$src" ] && [ "$bin" -nt "$B/libvc-fuzz.a" ] &&
	   [ "$bin" -nt "$newest_header" ]; then
		continue
	fi
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || rc=1; done
	(
		if ! "$CC" $CFLAGS -Itests/fuzz -o "$bin.tmp" "$src" "$B/libvc-fuzz.a" \
		     $LIBS $(extra_ldflags "$t") 2>"$B/$t.err"; then
			echo "build.sh: cannot build $t:" >&2
			grep -E 'error|undefined' "$B/$t.err" | head -10 >&2
			exit 1
		fi
		mv "$bin.tmp" "$bin" && rm -f "$B/$t.err"
	) &
done
while [ "$(jobs -rp | wc -l)" -gt 0 ]; do wait -n || rc=1; done
exit $rc
