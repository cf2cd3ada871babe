/* curl_shim.c - libcurl, loaded on first use.
 *
 * Linking libcurl pulls in some 27 more shared libraries (TLS, HTTP/2,
 * IDN, LDAP, ...) and costs every process about 9 ms at start-up, also
 * the commands that never talk to Vault.  The binaries therefore do not
 * link it: these definitions of the libcurl functions the Vault store
 * calls open libcurl.so.4 with dlopen() the first time one is called, and
 * forward to it.  The variadic setopt/getinfo calls carry exactly one
 * argument whose type follows from the option number (curl.h's
 * CURLOPTTYPE_* ranges), which is what is forwarded.
 */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>

#include "vault.h"

static void *handle;
static pthread_once_t loaded = PTHREAD_ONCE_INIT;
static pthread_t preloader;
static int preloading;

static void load(void)
{
	handle = dlopen("libcurl.so.4", RTLD_LAZY | RTLD_LOCAL);
}

static void *preload_main(void *arg)
{
	(void)arg;
	pthread_once(&loaded, load);
	return NULL;
}

/* Loading libcurl and its libraries takes 5-7 ms: a command that will
 * read many values from Vault at https starts it while it connects to
 * the database and looks names up.  Only the thread that calls libcurl
 * starts, waits for and ends the preload. */
void vc_vault_preload(void)
{
	if (!preloading && pthread_create(&preloader, NULL, preload_main,
					  NULL) == 0)
		preloading = 1;
}

void vc_vault_preload_end(void)
{
	if (preloading)
		pthread_join(preloader, NULL);
	preloading = 0;
}

static void *sym(const char *name)
{
	vc_vault_preload_end();
	pthread_once(&loaded, load);
	return handle ? dlsym(handle, name) : NULL;
}

#define LOAD(var, name) \
	static __typeof__(name) *var; \
	if (!var) \
		*(void **)&var = sym(#name)

CURLcode curl_global_init(long flags)
{
	LOAD(f, curl_global_init);
	return f ? f(flags) : CURLE_FAILED_INIT;
}

void curl_global_cleanup(void)
{
	LOAD(f, curl_global_cleanup);
	if (f)
		f();
}

CURL *curl_easy_init(void)
{
	LOAD(f, curl_easy_init);
	return f ? f() : NULL;
}

void curl_easy_cleanup(CURL *c)
{
	LOAD(f, curl_easy_cleanup);
	if (f)
		f(c);
}

CURLcode curl_easy_perform(CURL *c)
{
	LOAD(f, curl_easy_perform);
	return f ? f(c) : CURLE_FAILED_INIT;
}

/* Forwards the single argument of a setopt-style call by its type. */
#define FORWARD(f, obj, opt, ap) \
	((opt) < CURLOPTTYPE_OBJECTPOINT ? f(obj, opt, va_arg(ap, long)) : \
	 (opt) < CURLOPTTYPE_FUNCTIONPOINT ? f(obj, opt, va_arg(ap, void *)) : \
	 (opt) < CURLOPTTYPE_OFF_T ? f(obj, opt, va_arg(ap, void (*)(void))) : \
	 (opt) < CURLOPTTYPE_BLOB ? f(obj, opt, va_arg(ap, curl_off_t)) : \
	 f(obj, opt, va_arg(ap, void *)))

CURLcode curl_easy_setopt(CURL *c, CURLoption opt, ...)
{
	CURLcode rc;
	va_list ap;

	LOAD(f, curl_easy_setopt);
	if (!f)
		return CURLE_FAILED_INIT;
	va_start(ap, opt);
	rc = FORWARD(f, c, opt, ap);
	va_end(ap);
	return rc;
}

CURLcode curl_easy_getinfo(CURL *c, CURLINFO info, ...)
{
	CURLcode rc;
	va_list ap;

	LOAD(f, curl_easy_getinfo);
	if (!f)
		return CURLE_FAILED_INIT;
	va_start(ap, info);
	rc = f(c, info, va_arg(ap, void *));     /* always a pointer */
	va_end(ap);
	return rc;
}

CURLMcode curl_multi_setopt(CURLM *m, CURLMoption opt, ...)
{
	CURLMcode rc;
	va_list ap;

	LOAD(f, curl_multi_setopt);
	if (!f)
		return CURLM_INTERNAL_ERROR;
	va_start(ap, opt);
	rc = FORWARD(f, m, opt, ap);
	va_end(ap);
	return rc;
}

const char *curl_easy_strerror(CURLcode code)
{
	LOAD(f, curl_easy_strerror);
	return f ? f(code) : "libcurl.so.4 could not be loaded";
}

char *curl_easy_escape(CURL *c, const char *s, int n)
{
	LOAD(f, curl_easy_escape);
	return f ? f(c, s, n) : NULL;
}

void curl_free(void *p)
{
	LOAD(f, curl_free);
	if (f)
		f(p);
}

CURLHcode curl_easy_header(CURL *c, const char *name, size_t index,
			   unsigned int origin, int request,
			   struct curl_header **hout)
{
	LOAD(f, curl_easy_header);
	return f ? f(c, name, index, origin, request, hout) : CURLHE_NOT_BUILT_IN;
}

struct curl_slist *curl_slist_append(struct curl_slist *l, const char *s)
{
	LOAD(f, curl_slist_append);
	return f ? f(l, s) : NULL;
}

void curl_slist_free_all(struct curl_slist *l)
{
	LOAD(f, curl_slist_free_all);
	if (f)
		f(l);
}

CURLM *curl_multi_init(void)
{
	LOAD(f, curl_multi_init);
	return f ? f() : NULL;
}

CURLMcode curl_multi_add_handle(CURLM *m, CURL *c)
{
	LOAD(f, curl_multi_add_handle);
	return f ? f(m, c) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_remove_handle(CURLM *m, CURL *c)
{
	LOAD(f, curl_multi_remove_handle);
	return f ? f(m, c) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_cleanup(CURLM *m)
{
	LOAD(f, curl_multi_cleanup);
	return f ? f(m) : CURLM_INTERNAL_ERROR;
}

CURLMsg *curl_multi_info_read(CURLM *m, int *left)
{
	LOAD(f, curl_multi_info_read);
	return f ? f(m, left) : NULL;
}

CURLMcode curl_multi_perform(CURLM *m, int *running)
{
	LOAD(f, curl_multi_perform);
	return f ? f(m, running) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_poll(CURLM *m, struct curl_waitfd *fds, unsigned n,
			  int ms, int *ret)
{
	LOAD(f, curl_multi_poll);
	return f ? f(m, fds, n, ms, ret) : CURLM_INTERNAL_ERROR;
}

const char *curl_multi_strerror(CURLMcode code)
{
	LOAD(f, curl_multi_strerror);
	return f ? f(code) : "libcurl.so.4 could not be loaded";
}

CURLU *curl_url(void)
{
	LOAD(f, curl_url);
	return f ? f() : NULL;
}

void curl_url_cleanup(CURLU *u)
{
	LOAD(f, curl_url_cleanup);
	if (f)
		f(u);
}

CURLUcode curl_url_get(CURLU *u, CURLUPart what, char **part,
		       unsigned int flags)
{
	LOAD(f, curl_url_get);
	return f ? f(u, what, part, flags) : CURLUE_OUT_OF_MEMORY;
}

CURLUcode curl_url_set(CURLU *u, CURLUPart what, const char *part,
		       unsigned int flags)
{
	LOAD(f, curl_url_set);
	return f ? f(u, what, part, flags) : CURLUE_OUT_OF_MEMORY;
}
