/* vault.h - the value store on HashiCorp Vault KV v2 (vault.c, settings
 * in vault_env.c, transfers in vault_http.c and vault_h1.c, libcurl
 * loaded by curl_shim.c): its public half.  What those files share among
 * themselves is in vault_int.h, which is not public.
 */
#ifndef VC_VAULT_H
#define VC_VAULT_H

#include "store.h"
#include "vc.h"

/* Settings of the Vault store as the configuration gives them (NULL when
 * unset).  vc_vault_open applies the VAULT_* environment on top
 * (vaultctl-secret(1), ENVIRONMENT). */
struct vc_vault_conf {
	const char *addr;           /* vault_addr */
	const char *mount;          /* vault_mount, default "secret" */
	const char *namespace_;     /* vault_namespace */
	const char *token_file;     /* vault_token_file */
	const char *approle_mount;  /* vault_approle_mount, default "approle" */
	const char *role_id;        /* vault_role_id */
	const char *role_id_file;   /* vault_role_id_file */
	const char *secret_id_file; /* vault_secret_id_file */
	const char *cacert;         /* vault_cacert */
	const char *capath;         /* vault_capath */
	const char *client_cert;    /* vault_client_cert */
	const char *client_key;     /* vault_client_key */
	const char *tls_server_name;/* vault_tls_server_name */
	int verbose;                /* lookup-self diagnostics through notify */
	/* Called (when set) with a line for the user, for example
	 * "vault answered 429; retrying in 2 s".  lib/ never prints itself. */
	void (*notify)(void *ctx, const char *line);
	void *notify_ctx;
};

/* A notify line that starts with this is a warning for every run (an
 * unverified or unencrypted connection to Vault): callers that filter
 * notes by verbosity or terminal still show it. */
#define VC_NOTE_WARNING "warning: "

int vc_vault_open(struct vc_store **out, const struct vc_vault_conf *conf,
		  struct vc_err *e);
/* Whether the Vault store will need libcurl for many requests at once:
 * an https:// address (VAULT_ADDR over conf->addr).  Over http:// and
 * unix:// it speaks HTTP/1.1 itself. */
int vc_vault_needs_curl(const struct vc_vault_conf *conf);

/* Starts loading the Vault client's HTTP library (libcurl) in the
 * background, for a command about to read many values; the first call
 * into it, or vc_vault_preload_end(), waits for the load to finish. */
void vc_vault_preload(void);
void vc_vault_preload_end(void);

#endif
