#!/usr/bin/env bash
# Prepare a MariaDB/MySQL server for vaultctl: database, migrations, the four
# accounts of the data model with their grants, and the files that hold
# their credentials, each where it belongs: the tools' configuration (the
# metadata and monitoring accounts, the value store's with the local store),
# the administrative account's file (root's alone, named by admin_config)
# and, with the Vault backend, Vault's storage account's file.  Safe to run
# again: it applies only what is missing and keeps the passwords and keys of
# existing files.
#
# Passwords never appear on a command line: SQL goes to the mariadb client on
# standard input, and the client reads the administrative credentials from
# the --defaults-file.  Nor do they reach the server: accounts are set with
# their password hash (see "accounts" below).
set -euo pipefail

prog=${0##*/}
sqldir=$(cd "$(dirname "$0")" && pwd)

# The accounts, the environment variables that may give their passwords, and
# the option-file groups that hold them (read by libmariadb with
# MYSQL_READ_DEFAULT_GROUP, together with [client]).
accounts=(vault_mysql_user vault_storage_user secrets_api_user monitoring_user)
declare -A pw_env=(
	[vault_mysql_user]=VAULT_MYSQL_PASSWORD
	[vault_storage_user]=VAULT_STORAGE_PASSWORD
	[secrets_api_user]=SECRETS_API_PASSWORD
	[monitoring_user]=MONITORING_PASSWORD
)
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
# Columns monitoring_user may not read although it reads their table.
declare -A hidden_columns=([users]=" hashed_password ")

# [vaultctl] keys this script writes; any other line there is the user's.
managed_keys=" database backend master_key_file audit_key_file admin_config vault_addr vault_mount max_value_size "

# Session settings for every run, whatever the server's defaults: without
# NO_BACKSLASH_ESCAPES, so that sql_str's escaping holds.
session_sql="SET SESSION sql_mode = 'STRICT_ALL_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION';"

usage() {
	cat <<EOF
usage: $prog --defaults-file ADMIN.cnf --config-out FILE [options]

Create or upgrade the vaultctl database on a MariaDB/MySQL server, create or
update its four accounts and their grants, and write FILE, the configuration
the vaultctl tools read, with its key files: the audit key FILE.audit.key
and, with the local store, the master key FILE.key.

  --defaults-file ADMIN.cnf  option file with an administrative account
                             ([client] group), used by the mariadb client
  --config-out FILE          configuration to write; an existing one keeps
                             its passwords, keys and extra settings
  --group GROUP              FILE and its key files 0640 root:GROUP (host
                             mode; needs root); without, 0600
  --admin-config-out FILE2   the administrative account's file, mode 0600
                             (default: FILE's admin_config, else FILE.admin)
  --vault-storage-out FILE3  with --backend vault, Vault's storage account's
                             file, mode 0600 (default: FILE.vault-storage)
  --database NAME            database (default: FILE's, else docksky_vault)
  --account-host HOST        host part of the accounts (default: localhost)
  --backend local|vault      value store (default: FILE's, else local)
  -q, --quiet                print nothing but errors
  -h, --help                 show this help

Passwords come from VAULT_MYSQL_PASSWORD, VAULT_STORAGE_PASSWORD,
SECRETS_API_PASSWORD and MONITORING_PASSWORD, else from the files, else are
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

# native_hash PASSWORD: its mysql_native_password hash, *HEX(SHA1(SHA1())),
# as the server stores it.  The password goes through pipes only.
native_hash() {
	local h
	h=$(printf '%s' "$1" | sha1sum)
	h=$(printf '%b' "$(printf '%s' "${h%% *}" | sed 's/../\\x&/g')" | sha1sum)
	h=${h%% *}
	printf '*%s' "${h^^}"
}

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
file_group="" admin_out="" vault_out=""
quiet=0
while (($#)); do
	opt=$1 val="" has_val=0
	case $opt in
	--*=*) val=${opt#*=} opt=${opt%%=*} has_val=1 ;;
	esac
	case $opt in
	-h | --help) usage; exit 0 ;;
	-q | --quiet) quiet=1; shift; continue ;;
	--defaults-file | --config-out | --database | --account-host | --backend | \
		--group | --admin-config-out | --vault-storage-out)
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
	--group) file_group=$val ;;
	--admin-config-out) admin_out=$val ;;
	--vault-storage-out) vault_out=$val ;;
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

if [[ -n $file_group ]]; then
	((EUID == 0)) || usage_error "--group needs root: the files become root:$file_group"
	getent group "$file_group" >/dev/null || usage_error "no such group '$file_group'"
fi

# out_path OPTION FILE: FILE made absolute, in a directory that exists and
# that we may write to.
out_path() {
	local dir
	dir=$(dirname "$2")
	[[ -d $dir ]] || usage_error "$1: no such directory: $dir"
	dir=$(cd "$dir" && pwd)
	[[ -w $dir ]] || die "cannot write to directory $dir"
	printf '%s/%s' "$dir" "$(basename "$2")"
}
config_out=$(out_path --config-out "$config_out")

# --- the existing files, if any ------------------------------------------

# read_cnf TAG FILE: what an earlier run wrote to FILE, TAG being main (the
# tools' configuration), admin (the administrative account's file) or vault
# (Vault's storage account's file).  Fills old_body[TAG], the password of
# each account group in old_pw[TAG:ACCOUNT], the user's own lines of an
# account group or of [client] in old_extra[TAG:GROUP], groups that are
# not ours in old_other[TAG], and, for main, the [vaultctl] keys in old_vc
# and the user's lines there in old_vc_extra.
declare -A old_vc=() old_pw=() old_extra=() old_other=() old_body=()
old_vc_extra=()
read_cnf() {
	local tag=$1 file=$2 line t key value bare group="" first=1
	[[ -e $file ]] || return 0
	[[ -f $file ]] || die "$file is not a regular file"
	[[ -r $file ]] || die "cannot read $file"
	old_body[$tag]=""
	while IFS= read -r line || [[ -n $line ]]; do
		if ((first)); then
			first=0
			[[ $line == "# "*" written by sql/install.sh on "* ]] && continue
		fi
		old_body[$tag]+=$line$'\n'
		t=$(trim "$line")
		if [[ $t =~ ^\[([^]]*)\] ]]; then
			group=$(trim "${BASH_REMATCH[1]}")
			case $group in
			client | vaultctl | vaultctl-metadata | vaultctl-values | vaultctl-admin | vaultctl-monitoring) ;;
			*) old_other[$tag]+=$line$'\n' ;;
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
			password) old_pw[$tag:${group_account[$group]}]=$value ;;
			user) ;;
			*) [[ -z $t ]] || old_extra[$tag:$group]+=$line$'\n' ;;
			esac
			;;
		client)
			# Where to connect comes from ADMIN.cnf again; any other line
			# (init-command = SET SESSION wsrep_sync_wait = 1, say) is the
			# user's and stays.
			bare=$(trim "${t%%=*}")
			case ${bare//_/-} in
			"" | socket | host | port | protocol | ssl | ssl-* | tls-* | user | password) ;;
			*) old_extra[$tag:client]+=$line$'\n' ;;
			esac
			;;
		"") ;;
		*) old_other[$tag]+=$line$'\n' ;;
		esac
	done <"$file"
}

read_cnf main "$config_out"
database=${database:-${old_vc[database]:-docksky_vault}}
backend=${backend:-${old_vc[backend]:-local}}
[[ $database =~ ^[A-Za-z0-9_]{1,64}$ ]] || usage_error "invalid database name '$database'"
[[ $backend == local || $backend == vault ]] ||
	die "$config_out: backend must be local or vault, not '$backend'"

admin_out=$(out_path --admin-config-out "${admin_out:-${old_vc[admin_config]:-$config_out.admin}}")
vault_out=$(out_path --vault-storage-out "${vault_out:-$config_out.vault-storage}")
[[ $admin_out != "$config_out" && $vault_out != "$config_out" && $admin_out != "$vault_out" ]] ||
	usage_error "the configuration, the administrative account's file and Vault's storage account's file must be three files"
# Vault's file is read with either backend: after a switch to the local
# store, its password comes back into the configuration.
read_cnf admin "$admin_out"
read_cnf vault "$vault_out"
declare -A tag_file=([main]=$config_out [admin]=$admin_out [vault]=$vault_out)

# home ACCOUNT: the file (its TAG) that holds ACCOUNT's credentials.
home() {
	case $1 in
	vault_mysql_user) printf admin ;;
	vault_storage_user) [[ $backend == local ]] && printf main || printf vault ;;
	*) printf main ;;
	esac
}

# A password from the environment, else from the account's file, else from
# where an earlier layout or backend kept it, else a new one.
declare -A password=() pw_source=()
for acct in "${accounts[@]}"; do
	env_name=${pw_env[$acct]}
	if [[ -n ${!env_name:-} ]]; then
		password[$acct]=${!env_name}
		pw_source[$acct]="from $env_name"
	else
		for tag in "$(home "$acct")" main admin vault; do
			[[ -n ${old_pw[$tag:$acct]:-} ]] || continue
			password[$acct]=${old_pw[$tag:$acct]}
			pw_source[$acct]="kept from ${tag_file[$tag]}"
			break
		done
		if [[ -z ${password[$acct]:-} ]]; then
			password[$acct]=$(random_password)
			pw_source[$acct]="generated"
		fi
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

# --- files: keys, configuration, accounts' files --------------------------

# set_access FILE shared|private: with --group, the tools' files (shared)
# are 0640 root:GROUP, for the setgid tools of host mode; every other file,
# and every file without --group, is 0600.
set_access() {
	if [[ $2 == shared && -n $file_group ]]; then
		chown "root:$file_group" "$1"
		chmod 0640 "$1"
	else
		chmod 0600 "$1"
	fi
}

# ensure_key FILE WHAT: a 32-byte key, created if missing, never replaced.
# Sets key_created.
ensure_key() {
	local file=$1 what=$2 size
	key_created=0
	if [[ -e $file ]]; then
		[[ -f $file && -r $file ]] || die "cannot read $what file $file"
		size=$(stat -c %s "$file")
		[[ $size == 32 ]] ||
			die "$what file $file has $size bytes, not 32; not touching it"
		say "$what $file: kept"
	else
		(
			umask 077
			tmp=$(mktemp "$file.XXXXXX")
			head -c 32 /dev/urandom >"$tmp"
			mv -f "$tmp" "$file"
		)
		key_created=1
		say "$what $file: created"
	fi
	set_access "$file" shared
}

master_key_file=${old_vc[master_key_file]:-}
if [[ $backend == local ]]; then
	master_key_file=${master_key_file:-$config_out.key}
	ensure_key "$master_key_file" "master key"
fi

audit_key_file=${old_vc[audit_key_file]:-$config_out.audit.key}
ensure_key "$audit_key_file" "audit key"
if ((key_created)); then
	n=$(printf '%s\n' "SELECT COUNT(*) FROM audit_logs;" | mariadb_admin "$database")
	((n == 0)) || printf '%s: warning: %s audit rows were chained without a key: vaultctl-audit verify reports their chains as broken under the new key %s\n' \
		"$prog" "$n" "$audit_key_file" >&2
fi

vault_addr=${old_vc[vault_addr]:-}
vault_mount=${old_vc[vault_mount]:-}
if [[ $backend == vault ]]; then
	vault_addr=${vault_addr:-https://127.0.0.1:8200}
	vault_mount=${vault_mount:-secret}
fi

# client_group TAG: [client], where to connect, as ADMIN.cnf says, and the
# user's own lines: the file's, or the configuration's for a new file.
client_group() {
	local key
	printf '[client]\n'
	for key in "${conn_keys[@]}"; do
		if [[ -n ${conn[$key]} ]]; then
			printf '%s = %s\n' "$key" "${conn[$key]}"
		else
			printf '%s\n' "$key"
		fi
	done
	if [[ -n ${old_body[$1]+set} ]]; then
		printf '%s' "${old_extra[$1:client]:-}"
	else
		printf '%s' "${old_extra[main:client]:-}"
	fi
}

# account_group GROUP TAG: the account's user and password, and the user's
# own lines of that group, from TAG's file or where an earlier layout kept
# them.
account_group() {
	local group=$1 acct=${group_account[$1]} tag
	printf '[%s]\nuser = %s\npassword = %s\n' "$group" "$acct" \
		"$(cnf_quote "${password[$acct]}")"
	for tag in "$2" main admin vault; do
		if [[ -n ${old_extra[$tag:$group]+set} ]]; then
			printf '%s' "${old_extra[$tag:$group]}"
			break
		fi
	done
}

main_body() {
	client_group main
	printf '[vaultctl]\n'
	printf 'database = %s\n' "$database"
	printf 'backend = %s\n' "$backend"
	[[ -z $master_key_file ]] || printf 'master_key_file = %s\n' "$(cnf_quote "$master_key_file")"
	printf 'audit_key_file = %s\n' "$(cnf_quote "$audit_key_file")"
	printf 'admin_config = %s\n' "$(cnf_quote "$admin_out")"
	[[ -z $vault_addr ]] || printf 'vault_addr = %s\n' "$(cnf_quote "$vault_addr")"
	[[ -z $vault_mount ]] || printf 'vault_mount = %s\n' "$(cnf_quote "$vault_mount")"
	printf 'max_value_size = %s\n' "$(cnf_quote "${old_vc[max_value_size]:-1048576}")"
	((${#old_vc_extra[@]} == 0)) || printf '%s\n' "${old_vc_extra[@]}"
	account_group vaultctl-metadata main
	[[ $backend != local ]] || account_group vaultctl-values main
	account_group vaultctl-monitoring main
	printf '%s' "${old_other[main]:-}"
}

admin_body() {
	printf '# Read by vaultctl-audit prune only (admin_config in %s).\n' "$config_out"
	client_group admin
	account_group vaultctl-admin admin
	printf '%s' "${old_other[admin]:-}"
}

vault_body() {
	printf '# For the storage "mysql" stanza of Vault'"'"'s configuration: username,\n'
	printf '# password and database = "%s" (see sql/vault.hcl).\n' "$database"
	client_group vault
	account_group vaultctl-values vault
	printf '%s' "${old_other[vault]:-}"
}

# write_cnf TAG shared|private HEADER LABEL BODY: TAG's file replaced whole
# (a temporary file renamed over it) with HEADER's line and BODY, unless it
# holds BODY already.
write_cnf() {
	local tag=$1 file=${tag_file[$1]} header=$3 label=$4 body=$5
	if [[ -e $file && $body$'\n' == "${old_body[$tag]:-}" ]]; then
		say "$label $file: unchanged"
	else
		(
			umask 077
			tmp=$(mktemp "$file.XXXXXX")
			trap 'rm -f "$tmp"' EXIT
			{
				printf '# %s written by sql/install.sh on %s\n' "$header" \
					"$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
				printf '%s\n' "$body"
			} >"$tmp"
			mv -f "$tmp" "$file"
			trap - EXIT
		)
		say "$label $file: written"
	fi
	set_access "$file" "$2"
}

# The files are written before the accounts change, so that a generated
# password is never lost: if a later step fails, the next run takes the
# passwords from the files and finishes the job.
write_cnf main shared "vaultctl configuration" config "$(main_body)"
write_cnf admin private "vaultctl administrative account" "admin config" "$(admin_body)"
[[ $backend != vault ]] ||
	write_cnf vault private "Vault's storage account" "vault storage config" "$(vault_body)"

# --- accounts -------------------------------------------------------------

# The server is given each password's mysql_native_password hash, never the
# password: the general log, the slow log and the binary log record
# statements as they come, IDENTIFIED BY '...' included.  The hash is what
# mysql.global_priv holds anyway; sql_log_off (SUPER) keeps it out of the
# general log too, and a long long_query_time out of the slow log.  Not
# sql_log_bin = 0: replicas, and MariaDB's own, need the accounts.
host_s=$(sql_str "$account_host")
quiet_sql="SET SESSION long_query_time = 31536000;"
if printf '%s\n' "SET SESSION sql_log_off = 1;" | mariadb_admin 2>/dev/null; then
	quiet_sql+=" SET SESSION sql_log_off = 1;"
elif [[ $(printf '%s\n' "SELECT @@global.general_log;" | mariadb_admin) == 1 ]]; then
	printf '%s: warning: the general log is on, and this account may not turn it off (SUPER): it records the password hashes of the accounts (not the passwords)\n' \
		"$prog" >&2
fi
if [[ $(printf '%s\n' "SELECT VERSION();" | mariadb_admin) == *MariaDB* ]]; then
	identified="IDENTIFIED BY PASSWORD"
else
	identified="IDENTIFIED WITH mysql_native_password AS"
fi

# run_secret_sql ACCOUNT HASH SQL: run SQL holding ACCOUNT's password hash;
# on failure, print the client's error with the hash blotted out.
run_secret_sql() {
	local acct=$1 hash=$2 out err
	if ! out=$(printf '%s\n' "$session_sql" "$quiet_sql" "$3" | mariadb_admin 2>&1); then
		err=${out//"$hash"/***}
		printf '%s\n' "$err" >&2
		die "cannot create or update account $acct@$account_host"
	fi
	printf '%s' "$out"
}

for acct in "${accounts[@]}"; do
	user_s=$(sql_str "$acct")
	hash=$(native_hash "${password[$acct]}")
	hash_s=$(sql_str "$hash")
	# Compare before changing, so that a second run changes nothing (ALTER
	# USER would at least move password_last_changed).
	state=$(run_secret_sql "$acct" "$hash" "SELECT CASE WHEN COUNT(*) = 0 THEN 'missing'
	  WHEN SUM(authentication_string = $hash_s) > 0 THEN 'same'
	  ELSE 'different' END FROM mysql.user WHERE User = $user_s AND Host = $host_s;")
	case $state in
	missing)
		run_secret_sql "$acct" "$hash" "CREATE USER $user_s@$host_s $identified $hash_s;" >/dev/null
		say "account $acct@$account_host: created, password ${pw_source[$acct]}"
		;;
	same)
		say "account $acct@$account_host: unchanged"
		;;
	*)
		run_secret_sql "$acct" "$hash" "CREATE USER IF NOT EXISTS $user_s@$host_s $identified $hash_s;
		  ALTER USER $user_s@$host_s $identified $hash_s;" >/dev/null
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
		for t in audit_logs audit_reads; do
			printf 'GRANT SELECT, INSERT ON %s.%s %s\n' "$db_q" "$(sql_ident "$t")" "$to"
		done
		;;
	monitoring_user)
		# Per table, because a database-wide grant cannot have exceptions;
		# per column where a column is one (users.hashed_password).
		for t in "${all_tables[@]}"; do
			[[ " ${value_tables[*]} " == *" $t "* ]] && continue
			if [[ -n ${hidden_columns[$t]:-} ]]; then
				printf 'GRANT SELECT (%s) ON %s.%s %s\n' "$(visible_columns "$t")" \
					"$db_q" "$(sql_ident "$t")" "$to"
			else
				printf 'GRANT SELECT ON %s.%s %s\n' "$db_q" "$(sql_ident "$t")" "$to"
			fi
		done
		;;
	esac
}

# visible_columns TABLE: its columns but the hidden ones, as a column list.
visible_columns() {
	local c list=""
	while read -r c; do
		[[ -z $c || ${hidden_columns[$1]} == *" $c "* ]] ||
			list+=${list:+, }$(sql_ident "$c")
	done < <(printf '%s\n' "SELECT COLUMN_NAME FROM information_schema.COLUMNS
	  WHERE TABLE_SCHEMA = $db_s AND TABLE_NAME = $(sql_str "$1")
	  ORDER BY ORDINAL_POSITION;" | mariadb_admin)
	printf '%s' "$list"
}

# norm_grants: GRANT lines in a comparable form: sorted, and so are the
# column lists, which SHOW GRANTS prints in an order of its own.
norm_grants() {
	LC_ALL=C awk '{
		if (match($0, /\([^)]*\)/)) {
			n = split(substr($0, RSTART + 1, RLENGTH - 2), c, /, /)
			for (i = 2; i <= n; i++) {
				v = c[i]
				for (j = i - 1; j > 0 && c[j] > v; j--)
					c[j + 1] = c[j]
				c[j + 1] = v
			}
			s = c[1]
			for (i = 2; i <= n; i++)
				s = s ", " c[i]
			$0 = substr($0, 1, RSTART) s substr($0, RSTART + RLENGTH - 1)
		}
		print
	}' | LC_ALL=C sort
}

for acct in "${accounts[@]}"; do
	want=$(grants_for "$acct")
	have=$(printf '%s\n' "SHOW GRANTS FOR $(sql_str "$acct")@$host_s;" |
		mariadb_admin | grep -v '^GRANT USAGE ON \*\.\* TO ' | norm_grants) || true
	if [[ $have == "$(norm_grants <<<"$want")" ]]; then
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
