#!/usr/bin/env bash
# audit_bench.sh - vaultctl-audit against the mariadb client running the same
# SQL, in the same run, on a private server filled by bench/audit_gen.sql
# (10 000 organizations, 1 000 000 secrets, 5 000 000 audit rows):
#
#  1. `stats recompute` against the bare aggregate SELECTs it needs;
#  2. one page of `log --org org1 --since 7d --limit 100` deep into the
#     table (a cursor half way through org1's last 7 days, ~60 000 rows in)
#     against the page's SELECT; EXPLAIN of that SELECT is printed too
#     (an index range, no filesort).
#
# Each side is a whole process (start, connect, query, exit), best and
# median of ROUNDS.  Goal: both ratios at most 1.5.
#
#   bench/audit_bench.sh          ROUNDS=7 to change; KEEP=1 keeps the server
set -eu

ROUNDS=${ROUNDS:-7}
top=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/audit_bench.XXXXXX")

cleanup() {
	"$top/tests/harness/mariadb.sh" stop "$dir" >/dev/null 2>&1 || true
	[ -n "${KEEP:-}" ] && { echo "kept $dir"; return; }
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x "$top/bin/vaultctl-audit" ] || { echo "audit_bench: run make first" >&2; exit 1; }
export PATH="$top/bin:$PATH" VAULTCTL_CONFIG=$dir/vaultctl.cnf
export VAULTCTL_USER=bench@example.com
"$top/tests/harness/setup.sh" "$dir" >/dev/null
sql() { mariadb --defaults-file="$dir/admin.cnf" docksky_vault -N -B "$@"; }

echo "generating (a few minutes)..."
sql -e "SET GLOBAL innodb_buffer_pool_size = 2147483648"
start=$(date +%s)
sql <"$top/bench/audit_gen.sql" >/dev/null
echo "generated in $(($(date +%s) - start)) s:" \
	"$(sql -e "SELECT (SELECT COUNT(*) FROM organizations),
		(SELECT COUNT(*) FROM secret_metadata),
		(SELECT COUNT(*) FROM audit_logs)" | tr '\t' ' ')" \
	"(organizations, secrets, audit rows)"

# ms CMD...: wall time of one run in milliseconds.
ms() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null 2>&1
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}

# measure NAME CMD...: ROUNDS runs; prints "best median".
measure() {
	local i t=()
	shift
	for ((i = 0; i < ROUNDS; i++)); do
		t+=("$(ms "$@")")
	done
	printf '%s\n' "${t[@]}" | sort -n | awk '{ a[NR] = $1 }
		END { print a[1], a[int((NR + 1) / 2)] }'
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'
}

report() {
	local name=$1 tool=$2 base=$3
	set -- $tool $base
	printf '%-16s tool best %5d ms median %5d ms | mariadb best %5d ms median %5d ms | ratio best %s median %s\n' \
		"$name" "$1" "$2" "$3" "$4" "$(ratio "$1" "$3")" "$(ratio "$2" "$4")"
}

# The monitoring account, as vaultctl-audit log reads.
mon_cnf=$dir/mon.cnf
{
	printf '[client]\n'
	awk '/^\[/ { g = $0 } g == "[client]" && !/^\[/' "$VAULTCTL_CONFIG"
	awk '/^\[/ { g = $0 } g == "[vaultctl-monitoring]" && !/^\[/' "$VAULTCTL_CONFIG"
} >"$mon_cnf"
chmod 600 "$mon_cnf"
meta_cnf=$dir/meta.cnf
{
	printf '[client]\n'
	awk '/^\[/ { g = $0 } g == "[client]" && !/^\[/' "$VAULTCTL_CONFIG"
	awk '/^\[/ { g = $0 } g == "[vaultctl-metadata]" && !/^\[/' "$VAULTCTL_CONFIG"
} >"$meta_cnf"
chmod 600 "$meta_cnf"

# --- 1. stats recompute ---------------------------------------------------
aggregates="SELECT o.id, COUNT(sm.id) FROM organizations o LEFT JOIN
	secret_metadata sm ON sm.organization_id = o.id AND sm.deleted_at IS NULL
	GROUP BY o.id;
SELECT o.id, COUNT(a.seq) FROM organizations o LEFT JOIN (SELECT
	organization_id, MAX(start_date) AS since FROM subscriptions WHERE
	status = 'active' GROUP BY organization_id) s ON s.organization_id = o.id
	LEFT JOIN audit_logs a ON a.organization_id = o.id AND a.\`timestamp\` >=
	COALESCE(s.since, '1000-01-01 00:00:00') GROUP BY o.id;"
vaultctl-audit stats recompute          # warm the buffer pool
mariadb --defaults-file="$meta_cnf" docksky_vault -e "$aggregates" >/dev/null
tool=$(measure recompute vaultctl-audit stats recompute)
base=$(measure aggregates mariadb --defaults-file="$meta_cnf" docksky_vault \
	-e "$aggregates")
report "stats recompute" "$tool" "$base"
[ "$(sql -e "SELECT COUNT(*) FROM usage_statistics")" -eq 10000 ] ||
	{ echo "audit_bench: recompute did not fill usage_statistics" >&2; exit 1; }

# --- 2. a page of the log deep into the table -----------------------------
org1=00000000-0000-4000-8001-000000000001
since=$(date -u -d '7 days ago' '+%Y-%m-%d %H:%M:%S')
cursor=$(sql -e "SELECT seq FROM audit_logs WHERE organization_id = '$org1'
	AND \`timestamp\` >= '$since' ORDER BY \`timestamp\` DESC, seq DESC
	LIMIT 1 OFFSET 60000")
cts=$(sql -e "SELECT \`timestamp\` FROM audit_logs WHERE seq = $cursor")
page="SELECT a.seq, DATE_FORMAT(a.\`timestamp\`, '%Y-%m-%dT%H:%i:%sZ'),
	u.email, a.user_id, o.name, a.organization_id, a.action,
	a.resource_type, a.resource_id, a.ip_address, a.user_agent, a.details
	FROM audit_logs a LEFT JOIN users u ON u.id = a.user_id
	LEFT JOIN organizations o ON o.id = a.organization_id
	WHERE 1 = 1 AND a.organization_id = '$org1' AND a.\`timestamp\` >= '$since'
	AND a.\`timestamp\` <= '$cts' AND (a.\`timestamp\` < '$cts' OR a.seq < $cursor)
	ORDER BY a.\`timestamp\` DESC, a.seq DESC LIMIT 101"
echo "EXPLAIN of the page (cursor $cursor):"
sql -t -e "EXPLAIN $page"
vaultctl-audit log --org org1 --since 7d --limit 100 --after "$cursor" -o tsv \
	>"$dir/tool.tsv" 2>/dev/null
[ "$(wc -l <"$dir/tool.tsv")" -eq 100 ] ||
	{ echo "audit_bench: the page has $(wc -l <"$dir/tool.tsv") rows" >&2; exit 1; }
tool=$(measure log vaultctl-audit log --org org1 --since 7d --limit 100 \
	--after "$cursor" -o tsv)
base=$(measure page mariadb --defaults-file="$mon_cnf" docksky_vault -N -B \
	-e "$page")
report "log page" "$tool" "$base"
