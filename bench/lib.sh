# bench/lib.sh - what the benchmark scripts share; sourced after `top` is
# set.  die names the script that sources it.

die() { printf 'bench/%s: %s\n' "$(basename "$0" .sh)" "$*" >&2; exit 1; }

# median FILE: the median of the numbers in FILE, one a line, with 6
# decimals.
median() {
	sort -g "$1" | awk '{ a[NR] = $1 } END { m = NR % 2 ? a[(NR + 1) / 2] :
		(a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.6f\n", m }'
}

# sql DIR STATEMENT: the statement on the server set up in DIR, as its
# administrator, tab-separated without headers.
sql() { mariadb --defaults-file="$1/admin.cnf" docksky_vault -N -B -e "$2"; }
