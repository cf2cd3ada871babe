#!/usr/bin/env bash
# Prepare a MariaDB/MySQL server for vaultctl: database, migrations, the four
# accounts of the data model with their grants, and the configuration file
# the tools read.  Safe to run again: it applies only what is missing and
# keeps the passwords and the master key of an existing configuration.
#
# Passwords never appear on a command line: SQL goes to the mariadb client on
# standard input, and the client reads the administrative credentials from
# the --defaults-file.
set -euo pipefail

prog=${0##*/}
sqldir=$(cd "$(dirname "$0")" && pwd)

# The accounts, the environment variables that may give their passwords, and
# the configuration groups that hold them, in the file's order (read by
# libmariadb with MYSQL_READ_DEFAULT_GROUP, together with [client]).
accounts=(vault_mysql_user vault_storage_user secrets_api_user monitoring_user)
declare -A pw_env=(
	[vault_mysql_user]=VAULT_MYSQL_PASSWORD
	[vault_storage_user]=VAULT_STORAGE_PASSWORD
	[secrets_api_user]=SECRETS_API_PASSWORD
	[monitoring_user]=MONITORING_PASSWORD
)
group_order=(vaultctl-metadata vaultctl-values vaultctl-admin vaultctl-monitoring)
declare -A group_account=(
	[vaultctl-metadata]=secrets_api_user
	[vaultctl-values]=vault_storage_user
	[vaultctl-admin]=vault_mysql_user
	[vaultctl-monitoring]=monitoring_user
)

# Tables of the value stores: Vault's own, and the local store's.
value_tables=(vault_storage vault_storage_lock vc_value_keys vc_values)
# Metadata tables secrets_api_user reads and writes.  Listed, not derived:
# a table added by a later migration is granted by decision, not by default.
metadata_tables=(users organizations projects environments user_organizations
	secret_metadata plans subscriptions usage_statistics audit_chain_heads
	maintenance_locks)

# [vaultctl] keys this script writes; any other line there is the user's.
managed_keys=" database backend master_key_file vault_addr vault_mount max_value_size "

# Session settings for every run, whatever the server's defaults: without
# NO_BACKSLASH_ESCAPES, so that sql_str's escaping holds.
session_sql="SET SESSION sql_mode = 'STRICT_ALL_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION';"

usage() {
	cat <<EOF
usage: $prog --defaults-file ADMIN.cnf --config-out FILE [options]

Create or upgrade the vaultctl database on a MariaDB/MySQL server, create or
update its four accounts and their grants, and write FILE, the configuration
the vaultctl tools read (mode 0600).

  --defaults-file ADMIN.cnf  option file with an administrative account
                             ([client] group), used by the mariadb client
  --config-out FILE          configuration to write; an existing one keeps
                             its passwords, master key and extra settings
  --database NAME            database (default: FILE's, else docksky_vault)
  --account-host HOST        host part of the accounts (default: localhost)
  --backend local|vault      value store (default: FILE's, else local);
                             local creates the master key FILE.key
  -q, --quiet                print nothing but errors
  -h, --help                 show this help

Passwords come from VAULT_MYSQL_PASSWORD, VAULT_STORAGE_PASSWORD,
SECRETS_API_PASSWORD and MONITORING_PASSWORD, else from FILE, else are
generated at random.
EOF
}

die() { printf '%s: %s\n' "$prog" "$*" >&2; exit 1; }
usage_error() {
	printf '%s: %s\n' "$prog" "$*" >&2
	printf "Try '%s --help'.\n" "$prog" >&2
	exit 2
}
say() { ((quiet)) || printf '%s\n' "$*"; }

trim() {
	local s=$1
	s=${s#"${s%%[![:space:]]*}"}
	s=${s%"${s##*[![:space:]]}"}
	printf '%s' "$s"
}

# An option-file value as libmariadb and the mariadb client read it: outer
# quotes removed, then \n \t \r \b \s \" \' \\ unescaped.
cnf_unquote() {
	local v out="" c i
	v=$(trim "$1")
	if [[ $v == [\"\']* ]]; then
		v=${v:1}
		[[ $v == *[\"\'] ]] && v=${v%?}
	fi
	for ((i = 0; i < ${#v}; i++)); do
		c=${v:i:1}
		if [[ $c == '\' ]] && ((i < ${#v} - 1)); then
			i=$((i + 1))
			case ${v:i:1} in
			n) out+=$'\n' ;;
			t) out+=$'\t' ;;
			r) out+=$'\r' ;;
			b) out+=$'\b' ;;
			s) out+=' ' ;;
			'"' | "'" | '\') out+=${v:i:1} ;;
			*) out+="\\${v:i:1}" ;;
			esac
		else
			out+=$c
		fi
	done
	printf '%s' "$out"
}

# The inverse of cnf_unquote: bare when that is unambiguous, else in double
# quotes with backslash and quote escaped.  (Control characters are refused
# before this is reached.)
cnf_quote() {
	local v=$1
	if [[ $v =~ ^[A-Za-z0-9_.,:@%+=/^~*()-]+$ ]]; then
		printf '%s' "$v"
	else
		v=${v//\\/\\\\}
		v=${v//\"/\\\"}
		printf '"%s"' "$v"
	fi
}

# A single-quoted SQL string literal (backslash escapes are on: session_sql).
sql_str() {
	local v=$1
	v=${v//\\/\\\\}
	v=${v//\'/\\\'}
	printf "'%s'" "$v"
}

# A backquoted SQL identifier.
sql_ident() { printf '`%s`' "${1//\`/\`\`}"; }

# mariadb [ARGS...]: the administrative client, SQL on standard input.
mariadb_admin() {
	mariadb --defaults-file="$defaults_file" --batch --skip-column-names \
		--default-character-set=utf8mb4 "$@"
}

random_password() {
	local pw=""
	while ((${#pw} < 24)); do
		pw+=$(head -c 256 /dev/urandom | LC_ALL=C tr -dc 'A-Za-z0-9')
	done
	printf '%s' "${pw:0:24}"
}

# --- arguments -----------------------------------------------------------

defaults_file="" config_out="" database="" account_host=localhost backend=""
quiet=0
while (($#)); do
	opt=$1 val="" has_val=0
	case $opt in
	--*=*) val=${opt#*=} opt=${opt%%=*} has_val=1 ;;
	esac
	case $opt in
	-h | --help) usage; exit 0 ;;
	-q | --quiet) quiet=1; shift; continue ;;
	--defaults-file | --config-out | --database | --account-host | --backend)
		if ((!has_val)); then
			(($# >= 2)) || usage_error "option '$opt' needs a value"
			val=$2
			shift
		fi
		shift
		;;
	*) usage_error "unknown argument '$opt'" ;;
	esac
	case $opt in
	--defaults-file) defaults_file=$val ;;
	--config-out) config_out=$val ;;
	--database) database=$val ;;
	--account-host) account_host=$val ;;
	--backend) backend=$val ;;
	esac
done

[[ -n $defaults_file ]] || usage_error "--defaults-file is required"
[[ -n $config_out ]] || usage_error "--config-out is required"
[[ -f $defaults_file && -r $defaults_file ]] ||
	usage_error "cannot read defaults file '$defaults_file'"
[[ -z $backend || $backend == local || $backend == vault ]] ||
	usage_error "--backend must be local or vault, not '$backend'"
[[ $account_host =~ ^[A-Za-z0-9._%:-]{1,255}$ ]] ||
	usage_error "invalid --account-host '$account_host'"

config_dir=$(dirname "$config_out")
[[ -d $config_dir ]] || usage_error "no such directory: $config_dir"
config_dir=$(cd "$config_dir" && pwd)
config_out=$config_dir/$(basename "$config_out")
[[ -w $config_dir ]] || die "cannot write to directory $config_dir"
[[ ! -e $config_out || -f $config_out ]] || die "$config_out is not a regular file"

# --- the existing configuration, if any ------------------------------------

declare -A old_vc=() old_pw=() old_group_extra=()
old_vc_extra=() old_other=() old_client_extra=()
old_body=""
if [[ -e $config_out ]]; then
	[[ -r $config_out ]] || die "cannot read $config_out"
	group=""
	first=1
	while IFS= read -r line || [[ -n $line ]]; do
		if ((first)); then
			first=0
			[[ $line == "# vaultctl configuration written by "* ]] && continue
		fi
		old_body+=$line$'\n'
		t=$(trim "$line")
		if [[ $t =~ ^\[([^]]*)\] ]]; then
			group=$(trim "${BASH_REMATCH[1]}")
			case $group in
			client | vaultctl | vaultctl-metadata | vaultctl-values | vaultctl-admin | vaultctl-monitoring) ;;
			*) old_other+=("$line") ;;
			esac
			continue
		fi
		key="" value=""
		if [[ -n $t && $t != [\#\;]* && $t == *=* ]]; then
			key=$(trim "${t%%=*}")
			key=${key//-/_}
			value=$(cnf_unquote "${t#*=}")
		fi
		case $group in
		vaultctl)
			if [[ -n $key && $managed_keys == *" $key "* ]]; then
				old_vc[$key]=$value
			elif [[ -n $t ]]; then
				old_vc_extra+=("$line")
			fi
			;;
		vaultctl-metadata | vaultctl-values | vaultctl-admin | vaultctl-monitoring)
			# user and password are ours; the user's other lines (an
			# init-command for one account, say) stay.
			case $key in
			password) old_pw[${group_account[$group]}]=$value ;;
			user) ;;
			*) [[ -z $t ]] || old_group_extra[$group]+=$line$'\n' ;;
			esac
			;;
		client)
			# Where to connect comes from ADMIN.cnf again; any other line
			# (init-command = SET SESSION wsrep_sync_wait = 1, say) is the
			# user's and stays.
			bare=$(trim "${t%%=*}")
			case ${bare//_/-} in
			"" | socket | host | port | protocol | ssl | ssl-* | tls-* | user | password) ;;
			*) old_client_extra+=("$line") ;;
			esac
			;;
		"") ;;
		*) old_other+=("$line") ;;
		esac
	done <"$config_out"
fi

database=${database:-${old_vc[database]:-docksky_vault}}
backend=${backend:-${old_vc[backend]:-local}}
[[ $database =~ ^[A-Za-z0-9_]{1,64}$ ]] || usage_error "invalid database name '$database'"
[[ $backend == local || $backend == vault ]] ||
	die "$config_out: backend must be local or vault, not '$backend'"

declare -A password=() pw_source=()
for acct in "${accounts[@]}"; do
	env_name=${pw_env[$acct]}
	if [[ -n ${!env_name:-} ]]; then
		password[$acct]=${!env_name}
		pw_source[$acct]="from $env_name"
	elif [[ -n ${old_pw[$acct]:-} ]]; then
		password[$acct]=${old_pw[$acct]}
		pw_source[$acct]="kept from $config_out"
	else
		password[$acct]=$(random_password)
		pw_source[$acct]="generated"
	fi
	[[ ${password[$acct]} != *[[:cntrl:]]* ]] ||
		usage_error "the password of $acct contains a control character"
done

# --- connection settings copied from ADMIN.cnf ------------------------------

# The groups the mariadb client reads, in its order (later wins); only the
# settings that say where and how to connect, never user or password.
declare -A conn=()
conn_keys=()
group=""
while IFS= read -r line || [[ -n $line ]]; do
	t=$(trim "$line")
	if [[ $t =~ ^\[([^]]*)\] ]]; then
		group=$(trim "${BASH_REMATCH[1]}")
		continue
	fi
	case $group in
	client | client-server | client-mariadb | mysql | mariadb-client) ;;
	*) continue ;;
	esac
	[[ -n $t && $t != [\#\;!]* ]] || continue
	key=$(trim "${t%%=*}")
	key=${key//_/-}
	case $key in
	socket | host | port | protocol | ssl | ssl-* | tls-*) ;;
	*) continue ;;
	esac
	[[ -n ${conn[$key]+set} ]] || conn_keys+=("$key")
	if [[ $t == *=* ]]; then
		conn[$key]=$(trim "${t#*=}")
	else
		conn[$key]=""
	fi
done <"$defaults_file"

# --- database and migrations ---------------------------------------------

db_q=$(sql_ident "$database")
db_s=$(sql_str "$database")

mariadb_admin -e "SELECT 1" >/dev/null ||
	die "cannot connect to the server with $defaults_file"

exists=$(printf '%s\n' "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = $db_s;" |
	mariadb_admin)
if [[ $exists == 0 ]]; then
	printf '%s\n' "CREATE DATABASE IF NOT EXISTS $db_q CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;" |
		mariadb_admin
	say "database $database: created"
else
	say "database $database: exists"
fi

printf '%s\n' "$session_sql" "CREATE TABLE IF NOT EXISTS schema_migrations (
  version    INT          NOT NULL,
  name       VARCHAR(255) NOT NULL,
  applied_at DATETIME     NOT NULL,
  PRIMARY KEY (version)
) ENGINE=InnoDB ROW_FORMAT=DYNAMIC DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;" |
	mariadb_admin "$database"

declare -A applied=() seen=()
while read -r v; do
	[[ -n $v ]] && applied[$v]=1
done < <(printf '%s\n' "SELECT version FROM schema_migrations;" | mariadb_admin "$database")

migrations=()
shopt -s nullglob
for f in "$sqldir"/[0-9]*.sql; do
	name=${f##*/}
	[[ $name =~ ^([0-9]+)-[A-Za-z0-9._-]+\.sql$ ]] || die "bad migration file name: $name"
	v=$((10#${BASH_REMATCH[1]}))
	[[ -z ${seen[$v]:-} ]] || die "two migrations numbered $v: ${seen[$v]} and $name"
	seen[$v]=$name
	migrations+=("$v $name")
done
shopt -u nullglob

pending=0
while read -r v name; do
	[[ -n $v ]] || continue
	[[ -z ${applied[$v]:-} ]] || continue
	# The migration and its record in one client run: the client stops at the
	# first error, so a failed migration is not recorded.  (DDL commits as it
	# goes: a half-applied migration needs a look by hand.)
	if ! {
		printf '%s\n' "$session_sql"
		cat "$sqldir/$name"
		printf '\nINSERT INTO schema_migrations (version, name, applied_at) VALUES (%d, %s, UTC_TIMESTAMP());\n' \
			"$v" "$(sql_str "$name")"
	} | mariadb_admin "$database"; then
		die "migration $name failed; fix the cause and run $prog again"
	fi
	say "migration $name: applied"
	pending=$((pending + 1))
done < <(printf '%s\n' "${migrations[@]}" | sort -n)
((pending)) || say "migrations: none pending"
for v in "${!applied[@]}"; do
	[[ -n ${seen[$v]:-} ]] ||
		printf '%s: warning: database has migration %s, unknown to this %s\n' \
			"$prog" "$v" "$prog" >&2
done

# --- configuration file and master key ------------------------------------

master_key_file=${old_vc[master_key_file]:-}
if [[ $backend == local ]]; then
	master_key_file=${master_key_file:-$config_out.key}
	if [[ -e $master_key_file ]]; then
		[[ -f $master_key_file && -r $master_key_file ]] ||
			die "cannot read master key file $master_key_file"
		size=$(stat -c %s "$master_key_file")
		[[ $size == 32 ]] ||
			die "master key file $master_key_file has $size bytes, not 32; not touching it"
		say "master key $master_key_file: kept"
	else
		(
			umask 077
			tmp=$(mktemp "$master_key_file.XXXXXX")
			head -c 32 /dev/urandom >"$tmp"
			mv -f "$tmp" "$master_key_file"
		)
		say "master key $master_key_file: created"
	fi
fi

vault_addr=${old_vc[vault_addr]:-}
vault_mount=${old_vc[vault_mount]:-}
if [[ $backend == vault ]]; then
	vault_addr=${vault_addr:-https://127.0.0.1:8200}
	vault_mount=${vault_mount:-secret}
fi

new_body=$(
	printf '[client]\n'
	for key in "${conn_keys[@]}"; do
		if [[ -n ${conn[$key]} ]]; then
			printf '%s = %s\n' "$key" "${conn[$key]}"
		else
			printf '%s\n' "$key"
		fi
	done
	((${#old_client_extra[@]} == 0)) || printf '%s\n' "${old_client_extra[@]}"
	printf '[vaultctl]\n'
	printf 'database = %s\n' "$database"
	printf 'backend = %s\n' "$backend"
	[[ -z $master_key_file ]] || printf 'master_key_file = %s\n' "$(cnf_quote "$master_key_file")"
	[[ -z $vault_addr ]] || printf 'vault_addr = %s\n' "$(cnf_quote "$vault_addr")"
	[[ -z $vault_mount ]] || printf 'vault_mount = %s\n' "$(cnf_quote "$vault_mount")"
	printf 'max_value_size = %s\n' "$(cnf_quote "${old_vc[max_value_size]:-1048576}")"
	((${#old_vc_extra[@]} == 0)) || printf '%s\n' "${old_vc_extra[@]}"
	for group in "${group_order[@]}"; do
		acct=${group_account[$group]}
		printf '[%s]\nuser = %s\npassword = %s\n' "$group" "$acct" "$(cnf_quote "${password[$acct]}")"
		[[ -z ${old_group_extra[$group]:-} ]] || printf '%s' "${old_group_extra[$group]}"
	done
	((${#old_other[@]} == 0)) || printf '%s\n' "${old_other[@]}"
)

# The configuration is written before the accounts change, so that a
# generated password is never lost: if a later step fails, the next run
# takes the passwords from the file and finishes the job.
if [[ -e $config_out && $new_body$'\n' == "$old_body" ]]; then
	say "config $config_out: unchanged"
else
	(
		umask 077
		tmp=$(mktemp "$config_out.XXXXXX")
		trap 'rm -f "$tmp"' EXIT
		{
			printf '# vaultctl configuration written by sql/install.sh on %s\n' \
				"$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
			printf '%s\n' "$new_body"
		} >"$tmp"
		mv -f "$tmp" "$config_out"
		trap - EXIT
	)
	say "config $config_out: written"
fi

# --- accounts -------------------------------------------------------------

host_s=$(sql_str "$account_host")

# run_secret_sql ACCOUNT SQL: run SQL holding ACCOUNT's password; on failure,
# print the client's error with the password blotted out.
run_secret_sql() {
	local acct=$1 sql=$2 err pw
	pw=${password[$acct]}
	if ! err=$(printf '%s\n' "$session_sql" "$sql" | mariadb_admin 2>&1 >/dev/null); then
		err=${err//"$(sql_str "$pw")"/"'***'"}
		err=${err//"$pw"/***}
		printf '%s\n' "$err" >&2
		die "cannot create or update account $acct@$account_host"
	fi
}

for acct in "${accounts[@]}"; do
	user_s=$(sql_str "$acct")
	pw_s=$(sql_str "${password[$acct]}")
	# Compare before changing, so that a second run changes nothing (ALTER
	# USER would at least move password_last_changed).  PASSWORD() is
	# MariaDB's mysql_native_password hash; where the query fails (MySQL 8),
	# state is unknown and the password is simply set again.
	state=$(printf '%s\n' "SELECT CASE WHEN COUNT(*) = 0 THEN 'missing'
	  WHEN SUM(authentication_string = PASSWORD($pw_s)) > 0 THEN 'same'
	  ELSE 'different' END FROM mysql.user WHERE User = $user_s AND Host = $host_s;" |
		mariadb_admin 2>/dev/null) || state=unknown
	case $state in
	missing)
		run_secret_sql "$acct" "CREATE USER $user_s@$host_s IDENTIFIED BY $pw_s;"
		say "account $acct@$account_host: created, password ${pw_source[$acct]}"
		;;
	same)
		say "account $acct@$account_host: unchanged"
		;;
	*)
		run_secret_sql "$acct" "CREATE USER IF NOT EXISTS $user_s@$host_s IDENTIFIED BY $pw_s;
		  ALTER USER $user_s@$host_s IDENTIFIED BY $pw_s;"
		say "account $acct@$account_host: password set, ${pw_source[$acct]}"
		;;
	esac
done

# --- grants ---------------------------------------------------------------

all_tables=()
while read -r t; do
	[[ -n $t ]] && all_tables+=("$t")
done < <(printf '%s\n' "SELECT TABLE_NAME FROM information_schema.TABLES
  WHERE TABLE_SCHEMA = $db_s AND TABLE_TYPE IN ('BASE TABLE', 'VIEW')
  ORDER BY TABLE_NAME;" | mariadb_admin)

# grants_for ACCOUNT: the GRANT statements ACCOUNT must have, one a line, as
# SHOW GRANTS prints them.
grants_for() {
	local acct=$1 to t
	to="TO \`$acct\`@\`$account_host\`"
	case $acct in
	vault_mysql_user)
		printf 'GRANT ALL PRIVILEGES ON %s.* %s\n' "$db_q" "$to"
		;;
	vault_storage_user)
		for t in "${value_tables[@]}"; do
			printf 'GRANT SELECT, INSERT, UPDATE, DELETE ON %s.%s %s\n' "$db_q" "$(sql_ident "$t")" "$to"
		done
		;;
	secrets_api_user)
		for t in "${metadata_tables[@]}"; do
			printf 'GRANT SELECT, INSERT, UPDATE, DELETE ON %s.%s %s\n' "$db_q" "$(sql_ident "$t")" "$to"
		done
		# Append-only audit: no UPDATE, no DELETE.
		printf 'GRANT SELECT, INSERT ON %s.%s %s\n' "$db_q" '`audit_logs`' "$to"
		;;
	monitoring_user)
		# Per table, because a database-wide grant cannot have exceptions.
		for t in "${all_tables[@]}"; do
			[[ " ${value_tables[*]} " == *" $t "* ]] && continue
			printf 'GRANT SELECT ON %s.%s %s\n' "$db_q" "$(sql_ident "$t")" "$to"
		done
		;;
	esac
}

for acct in "${accounts[@]}"; do
	want=$(grants_for "$acct" | LC_ALL=C sort)
	have=$(printf '%s\n' "SHOW GRANTS FOR $(sql_str "$acct")@$host_s;" |
		mariadb_admin | grep -v '^GRANT USAGE ON \*\.\* TO ' | LC_ALL=C sort) || true
	if [[ $have == "$want" ]]; then
		say "grants of $acct@$account_host: unchanged"
		continue
	fi
	# Exactly the wanted grants: drop everything, then grant, in one run.
	{
		printf '%s\n' "$session_sql"
		printf 'REVOKE ALL PRIVILEGES, GRANT OPTION FROM %s@%s;\n' "$(sql_str "$acct")" "$host_s"
		printf '%s;\n' "${want//$'\n'/$';\n'}"
	} | mariadb_admin || die "cannot grant privileges to $acct@$account_host"
	say "grants of $acct@$account_host: set"
done
