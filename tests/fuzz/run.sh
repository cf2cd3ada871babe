#!/usr/bin/env bash
# Runs every libFuzzer target for a set time and prints one summary line
# per target: executions, coverage (cov: edges, ft: features, from
# libFuzzer's final status line), corpus size and crashes.
#
# Usage: tests/fuzz/run.sh [SECONDS] [TARGET...]
#   SECONDS  per target (default 60); `make fuzz` passes 600
#   TARGET   fuzz_dotenv ... (default: every tests/fuzz/fuzz_*.c)
#   JOBS     targets run at once (default: the number of CPUs)
#
# Seeds are read from corpus/<target>/ (kept in git); what libFuzzer
# finds is added to build/corpus/<target>/ and reused by the next run.
# A crash stops that target: its input is written to
# build/artifacts/<target>/ and the log to build/logs/<target>.log.  To
# keep a crash as a regression test, fix the bug and copy the input into
# regressions/<target>/ (regress.sh replays it in `make check`).
# Exit status: 0 when no target crashed.
set -u
cd "$(dirname "$0")/../.."
F=tests/fuzz B=tests/fuzz/build
secs=${1:-60}
shift || true
case $secs in
''|*[!0-9]*) echo "usage: tests/fuzz/run.sh [SECONDS] [TARGET...]" >&2; exit 2 ;;
esac
if [ $# -gt 0 ]; then
	targets=("$@")
else
	targets=()
	for f in "$F"/fuzz_*.c; do targets+=("$(basename "${f%.c}")"); done
fi
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}

"$F/build.sh" "${targets[@]}" || exit 2

run_one() {     # target
	local t=$1 dict=()
	mkdir -p "$B/corpus/$t" "$B/artifacts/$t" "$B/logs" "$F/corpus/$t"
	[ -f "$F/dict/$t.dict" ] && dict=(-dict="$F/dict/$t.dict")
	# -timeout: an input running 10 s is a hang, reported as a crash.
	"$B/$t" -max_total_time="$secs" -print_final_stats=1 -timeout=10 \
		-rss_limit_mb=2048 -max_len=8192 -artifact_prefix="$B/artifacts/$t/" \
		"${dict[@]}" "$B/corpus/$t" "$F/corpus/$t" >"$B/logs/$t.log" 2>&1
}

summary() {     # target
	local t=$1 log=$B/logs/$1.log execs cov ft corp crash
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$log" | tail -1)
	ft=$(echo "$cov" | awk '{print $4}')
	corp=$(echo "$cov" | awk '{print $6}')
	cov=$(echo "$cov" | awk '{print $2}')
	crash=$(sed -n "s/.*Test unit written to \(.*\)/\1/p" "$log" | head -1)
	printf '%-22s executions %11s  cov %5s  ft %6s  corpus %5s  crashes %d\n' \
		"$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" \
		"$([ -n "$crash" ] && echo 1 || echo 0)"
	if [ -n "$crash" ]; then
		echo "    crash input: $crash"
		grep -m1 -E 'invariant failed|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error' \
			"$log" | sed 's/^/    /'
		echo "    log: $log"
		return 1
	fi
	[ -n "$execs" ] || { echo "    no final stats: see $log"; return 1; }
}

echo "fuzzing ${#targets[@]} targets for ${secs}s each, $jobs at a time"
for t in "${targets[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
	run_one "$t" &
done
wait
rc=0
for t in "${targets[@]}"; do summary "$t" || rc=1; done | tee "$B/summary.txt"
grep -q '^    ' "$B/summary.txt" && rc=1
exit $rc
