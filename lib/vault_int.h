/* vault_int.h - what vault.c (KV v2 over JSON), vault_env.c (settings)
 * and vault_http.c (transfers, retries) share.  Not a public header: curl
 * types stay inside lib/.
 */
#ifndef VC_VAULT_INT_H
#define VC_VAULT_INT_H

#include <stdint.h>

#include <curl/curl.h>

#include "vault.h"
#include "vc.h"

/* What the configuration and the VAULT_* environment decide together. */
struct vault_settings {
	char *addr;             /* as given, for messages */
	char *base;             /* "<scheme>://<host>[:port]/v1/" */
	char *unix_socket;      /* VAULT_ADDR=unix:///path */
	int https;
	int plain_remote;       /* http:// to a host not this one */
	char *mount;            /* without leading or trailing '/' */
	char *namespace_;
	char *cacert, *capath, *client_cert, *client_key;
	char *connect_to;       /* VAULT_TLS_SERVER_NAME, see vault_env.c */
	int skip_verify;
	int max_retries;
	int64_t timeout_ms;
	double rate, burst;     /* VAULT_RATE_LIMIT; rate 0 = none */
	int curl_only;          /* never vault_h1.c: set by tests/unit/
				   test_vault.c, so that both transports
				   meet every fault of the emulator */
};

/* One kept-alive connection of vault_h1.c. */
struct vault_h1_conn {
	int fd;                         /* -1: none */
	char authority[256];            /* where fd goes */
};

struct vault_slot {
	CURL *h;
	int busy;
};

struct vault {
	struct vc_store store;          /* first: a vc_store * is a vault * */
	struct vault_settings set;
	void (*notify)(void *ctx, const char *line);
	void *notify_ctx;
	int64_t last_notify;
	CURLM *multi;
	struct vault_slot *slots;       /* easy handles, reused for the run */
	size_t nslots;
	struct curl_slist *hdrs;        /* X-Vault-Token and friends */
	struct curl_slist *hdrs_json;   /* the same for requests with a body */
	struct curl_slist *connect_to;  /* VAULT_TLS_SERVER_NAME */
	double tokens;                  /* rate limiter bucket */
	int64_t tokens_at;
	int global_init;
	int curl_up;                    /* libcurl loaded and set up */
	struct vc_buf token;            /* secret; for both transports */
	int has_token;
	struct vault_h1_conn h1;        /* vault_h1.c's kept-alive socket */
};

/* One HTTP exchange and what became of it. */
struct vault_req {
	const char *method;     /* GET, POST, PUT, DELETE */
	struct vc_buf url;
	struct vc_buf body;     /* secret: may hold a value; len 0 = none */
	struct vc_buf resp;     /* secret: may hold a value */
	long status;            /* 0 when no HTTP answer arrived */
	long retry_after;       /* seconds, -1 when absent */
	CURLcode cc;
	char curl_msg[CURL_ERROR_SIZE];
	int attempts;
	int lost;               /* an attempt may have reached vault but
				   its answer never came back */
	int state;
	int64_t deadline, not_before;
	int rc;                 /* transport outcome: 0 = an HTTP answer */
	struct vc_err err;
};

/* vault_env.c */
int vault_settings_load(struct vault_settings *s,
			const struct vc_vault_conf *conf, struct vc_err *e);
void vault_settings_release(struct vault_settings *s);
/* The token: VAULT_TOKEN, ~/.vault-token, conf->token_file.  Leaves
 * tok empty (returns 0) when none is found. */
int vault_token_find(struct vc_buf *tok, const struct vc_vault_conf *conf,
		     struct vc_err *e);
/* Reads a credential's file into a secret buffer: refused when others
 * may read it or group or others may write it, or when it holds a
 * control character besides one final newline; spaces around dropped. */
int vault_read_trimmed(struct vc_buf *out, const char *path, const char *what,
		       struct vc_err *e);

/* vault_h1.c */
/* Whether the built-in HTTP/1.1 client can carry single requests to this
 * vault: http:// and unix:// addresses. */
int vault_h1_usable(const struct vault *v);
/* One attempt of r up to r->deadline on connection c (kept alive when
 * the answer allows).  Reads only v's settings and token, so threads
 * may run attempts at once, each on its own connection: fills r->cc (CURLE_OK when an HTTP
 * answer came), r->curl_msg, r->status, r->retry_after and r->resp.
 * Returns 1 when only libcurl can carry it (the URL is not plain http://,
 * or vault redirected to https): the caller sends it again that way. */
int vault_h1_attempt(struct vault *v, struct vault_h1_conn *c,
		     struct vault_req *r);
void vault_h1_close(struct vault_h1_conn *c);
/* Reads one answer from fd as vault_h1_attempt does (for the fuzz target
 * tests/fuzz/fuzz_http1.c): 0 with r->status and the body in r->resp, or
 * -1 with r->cc and r->curl_msg. */
int vault_h1_read_answer(struct vault *v, struct vault_req *r, int fd);

/* vault_http.c */
int64_t vault_now_ms(void);
void vault_notify(struct vault *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int vault_http_open(struct vault *v, struct vc_err *e);
void vault_http_close(struct vault *v);
/* (Re)builds the header lists; token NULL for the login request. */
int vault_http_headers(struct vault *v, const char *token, struct vc_err *e);
void vault_req_init(struct vault_req *r, const char *method);
void vault_req_release(struct vault_req *r);
/* Appends path to url, each '/'-separated segment URL-escaped. */
int vault_url_path(struct vc_buf *url, const char *path);
/* Runs the requests, at most conc at a time, each retried and bounded by
 * the timeout on its own.  Returns 0 when every request ran (each has rc
 * and status), or VC_EUNAVAIL when Vault failed for good before all of
 * them started: those left have rc VC_EUNAVAIL too. */
int vault_exec(struct vault *v, struct vault_req *reqs, size_t n, int conc,
	       struct vc_err *e);
/* One request; returns its rc and err. */
int vault_exec1(struct vault *v, struct vault_req *r, struct vc_err *e);
/* The server's "errors" joined with "; ", on one line. */
void vault_errors_text(const struct vault_req *r, char *out, size_t n);
/* Maps an answer that is not 2xx to a VC_E* code and message. */
int vault_status_err(struct vault *v, const struct vault_req *r,
		     struct vc_err *e);

#endif
