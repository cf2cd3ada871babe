# Example HashiCorp Vault server configuration for the vaultctl database.
#
# Vault keeps its encrypted storage in docksky_vault.vault_storage (created by
# sql/001-vault-storage.sql with the types Vault needs), reached as
# vault_storage_user, whose password sql/install.sh --backend vault wrote to
# the file beside the vaultctl configuration, vaultctl.cnf.vault-storage
# (--vault-storage-out), never to the configuration itself.  vaultctl never
# touches these tables: it talks to Vault over HTTP (backend = vault in its
# configuration).
#
# Prepare the database first:
#   sql/install.sh --defaults-file admin.cnf --backend vault \
#       --account-host 127.0.0.1 --config-out /etc/vaultctl/vaultctl.cnf
# Vault connects over TCP only.  Use --account-host 127.0.0.1 (or the Vault
# host's address) when the server runs with skip-name-resolve: then a TCP
# connection from 127.0.0.1 does not match an account @'localhost'.
#
# OpenBao has no MySQL storage backend: this needs HashiCorp Vault.
# All values of the storage stanza are strings, as Vault reads them.

storage "mysql" {
  address  = "127.0.0.1:3306"
  username = "vault_storage_user"
  # The password of vaultctl.cnf.vault-storage.  Vault builds a DSN
  # "user:password@tcp(address)/" from it, so keep it free of "/" and "@"
  # (install.sh generates alphanumeric passwords).  Keep this file readable
  # by the Vault service user only.
  password = "CHANGE-ME"
  database = "docksky_vault"
  # Vault's default table is "vault"; ours is vault_storage.
  table    = "vault_storage"

  # TLS to MariaDB: Vault turns TLS on as soon as tls_ca_file is present.
  # tls_ca_file = "/etc/mysql/ca.pem"
  # Without TLS (database on the same host or a private network), silence
  # Vault's warning about plaintext credentials.  This is the name Vault's
  # code reads (its docs say plaintext_credentials_transmission).
  plaintext_connection_allowed = "true"

  # Connections Vault opens at most (its default is 128); keep the sum over
  # all Vault nodes below the server's max_connections.
  max_parallel = "128"

  # High availability: leader election with GET_LOCK() plus the lock table
  # (created by sql/001-vault-storage.sql, so Vault needs no CREATE).
  # MariaDB releases a named lock when its connection drops, and an idle
  # connection is dropped after wait_timeout: raise wait_timeout and
  # interactive_timeout on the server (e.g. 28800 or more) for the Vault
  # account, or the active node loses leadership when its lock connection
  # idles out.  GET_LOCK() is node-local on a Galera cluster: point every
  # Vault node at the same MariaDB node (or a proxy that pins one).
  ha_enabled = "true"
  lock_table = "vault_storage_lock"
}

listener "tcp" {
  address       = "127.0.0.1:8200"
  tls_cert_file = "/etc/vault/tls/vault.crt"
  tls_key_file  = "/etc/vault/tls/vault.key"
}

# The address other nodes and clients are redirected to (required with HA).
api_addr     = "https://127.0.0.1:8200"
cluster_addr = "https://127.0.0.1:8201"

ui = false
