#!/usr/bin/env bash
# A private MariaDB server in DIR, set up by sql/install.sh as a user would:
# DIR/admin.cnf (root), DIR/vaultctl.cnf (the tools' configuration), its
# audit key DIR/vaultctl.cnf.audit.key, the administrative account's file
# DIR/vaultctl.cnf.admin and, for the local backend, the master key
# DIR/vaultctl.cnf.key, for the Vault backend, Vault's storage account's file
# DIR/vaultctl.cnf.vault-storage.  Stop it with
# tests/harness/mariadb.sh stop DIR.
#
#   tests/harness/setup.sh DIR [--backend local|vault]
#
# The password variables of sql/install.sh (VAULT_MYSQL_PASSWORD, ...) are
# passed through.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

if (($# != 1 && $# != 3)) || { (($# == 3)) && [[ $2 != --backend ]]; }; then
	printf 'usage: %s DIR [--backend local|vault]\n' "${0##*/}" >&2
	exit 2
fi
dir=$1
backend=${3:-local}

"$here/mariadb.sh" start "$dir"
if ! out=$("$repo/sql/install.sh" --defaults-file "$dir/admin.cnf" \
	--backend "$backend" --config-out "$dir/vaultctl.cnf" 2>&1); then
	printf '%s\n' "$out" >&2
	printf '%s: sql/install.sh failed (the server in %s is still running)\n' \
		"${0##*/}" "$dir" >&2
	exit 1
fi
