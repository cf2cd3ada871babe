/* mariadb_shim.c - libmariadb, loaded on first use.
 *
 * libmariadb brings OpenSSL (libssl, libcrypto) and zlib with it: loading
 * and relocating them cost every process about 180 page faults and a
 * millisecond, a quarter of `run --fallback` when the database is down
 * (the stopped server is told from its missing socket before any
 * libmariadb call, lib/db_probe.c), and of every --help, --version and
 * usage error.  The binaries therefore do not link it: these definitions
 * of the functions the tools call open libmariadb.so.3 with dlopen() the
 * first time one is called, and forward to it, as lib/curl_shim.c does
 * for libcurl.  Its own calls between its functions stay inside it (it
 * is opened RTLD_LOCAL and the binaries export none of these names).
 * The variadic mysql_optionsv and mariadb_get_infov carry exactly one
 * argument in every call of the tools, a pointer, which is forwarded.
 */
#include <dlfcn.h>
#include <errmsg.h>
#include <mysql.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

#include "db.h"

static void *handle;
static char load_error[256];
static pthread_once_t loaded = PTHREAD_ONCE_INIT;

static void load(void)
{
	const char *why;

	handle = dlopen("libmariadb.so.3", RTLD_LAZY | RTLD_LOCAL);
	if (!handle) {
		why = dlerror();
		snprintf(load_error, sizeof(load_error), "cannot load the "
			 "MariaDB client library: %s", why ? why :
			 "libmariadb.so.3 not found");
	}
}

static void *sym(const char *name)
{
	pthread_once(&loaded, load);
	return handle ? dlsym(handle, name) : NULL;
}

const char *vc_db_library_error(void)
{
	pthread_once(&loaded, load);
	return handle ? NULL : load_error;
}

#define LOAD(var, name) \
	static __typeof__(name) *var; \
	if (!var) \
		*(void **)&var = sym(#name)

/* ---- connections ---- */

MYSQL *mysql_init(MYSQL *m)
{
	LOAD(f, mysql_init);
	return f ? f(m) : NULL;
}

int mysql_optionsv(MYSQL *m, enum mysql_option option, ...)
{
	va_list ap;
	int rc;

	LOAD(f, mysql_optionsv);
	if (!f)
		return 1;
	va_start(ap, option);
	rc = f(m, option, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

int mysql_options(MYSQL *m, enum mysql_option option, const void *arg)
{
	LOAD(f, mysql_options);
	return f ? f(m, option, arg) : 1;
}

MYSQL *mysql_real_connect(MYSQL *m, const char *host, const char *user,
			  const char *passwd, const char *db,
			  unsigned int port, const char *unix_socket,
			  unsigned long clientflag)
{
	LOAD(f, mysql_real_connect);
	return f ? f(m, host, user, passwd, db, port, unix_socket,
		     clientflag) : NULL;
}

void mysql_close(MYSQL *m)
{
	LOAD(f, mysql_close);
	if (f)
		f(m);
}

unsigned int mysql_errno(MYSQL *m)
{
	LOAD(f, mysql_errno);
	return f ? f(m) : CR_UNKNOWN_ERROR;
}

const char *mysql_error(MYSQL *m)
{
	LOAD(f, mysql_error);
	return f ? f(m) : load_error;
}

my_bool mariadb_get_infov(MYSQL *m, enum mariadb_value value, void *arg,
			  ...)
{
	LOAD(f, mariadb_get_infov);
	return f ? f(m, value, arg) : 1;
}

my_socket mysql_get_socket(MYSQL *m)
{
	LOAD(f, mysql_get_socket);
	return f ? f(m) : -1;
}

unsigned long mysql_get_server_version(MYSQL *m)
{
	LOAD(f, mysql_get_server_version);
	return f ? f(m) : 0;
}

/* ---- plain statements and transactions ---- */

int mysql_query(MYSQL *m, const char *q)
{
	LOAD(f, mysql_query);
	return f ? f(m, q) : 1;
}

int mysql_real_query(MYSQL *m, const char *q, unsigned long length)
{
	LOAD(f, mysql_real_query);
	return f ? f(m, q, length) : 1;
}

my_bool mysql_autocommit(MYSQL *m, my_bool mode)
{
	LOAD(f, mysql_autocommit);
	return f ? f(m, mode) : 1;
}

my_bool mysql_commit(MYSQL *m)
{
	LOAD(f, mysql_commit);
	return f ? f(m) : 1;
}

my_bool mysql_rollback(MYSQL *m)
{
	LOAD(f, mysql_rollback);
	return f ? f(m) : 1;
}

my_ulonglong mysql_insert_id(MYSQL *m)
{
	LOAD(f, mysql_insert_id);
	return f ? f(m) : 0;
}

MYSQL_RES *mysql_store_result(MYSQL *m)
{
	LOAD(f, mysql_store_result);
	return f ? f(m) : NULL;
}

MYSQL_ROW mysql_fetch_row(MYSQL_RES *r)
{
	LOAD(f, mysql_fetch_row);
	return f ? f(r) : NULL;
}

void mysql_free_result(MYSQL_RES *r)
{
	LOAD(f, mysql_free_result);
	if (f)
		f(r);
}

unsigned int mysql_num_fields(MYSQL_RES *r)
{
	LOAD(f, mysql_num_fields);
	return f ? f(r) : 0;
}

MYSQL_FIELD *mysql_fetch_field_direct(MYSQL_RES *r, unsigned int n)
{
	LOAD(f, mysql_fetch_field_direct);
	return f ? f(r, n) : NULL;
}

/* ---- prepared statements ---- */

MYSQL_STMT *mysql_stmt_init(MYSQL *m)
{
	LOAD(f, mysql_stmt_init);
	return f ? f(m) : NULL;
}

int mysql_stmt_prepare(MYSQL_STMT *st, const char *q, unsigned long length)
{
	LOAD(f, mysql_stmt_prepare);
	return f ? f(st, q, length) : 1;
}

int mariadb_stmt_execute_direct(MYSQL_STMT *st, const char *q, size_t length)
{
	LOAD(f, mariadb_stmt_execute_direct);
	return f ? f(st, q, length) : 1;
}

int mysql_stmt_execute(MYSQL_STMT *st)
{
	LOAD(f, mysql_stmt_execute);
	return f ? f(st) : 1;
}

my_bool mysql_stmt_attr_set(MYSQL_STMT *st, enum enum_stmt_attr_type type,
			    const void *attr)
{
	LOAD(f, mysql_stmt_attr_set);
	return f ? f(st, type, attr) : 1;
}

my_bool mysql_stmt_bind_param(MYSQL_STMT *st, MYSQL_BIND *b)
{
	LOAD(f, mysql_stmt_bind_param);
	return f ? f(st, b) : 1;
}

my_bool mysql_stmt_bind_result(MYSQL_STMT *st, MYSQL_BIND *b)
{
	LOAD(f, mysql_stmt_bind_result);
	return f ? f(st, b) : 1;
}

unsigned long mysql_stmt_param_count(MYSQL_STMT *st)
{
	LOAD(f, mysql_stmt_param_count);
	return f ? f(st) : 0;
}

int mysql_stmt_store_result(MYSQL_STMT *st)
{
	LOAD(f, mysql_stmt_store_result);
	return f ? f(st) : 1;
}

MYSQL_RES *mysql_stmt_result_metadata(MYSQL_STMT *st)
{
	LOAD(f, mysql_stmt_result_metadata);
	return f ? f(st) : NULL;
}

int mysql_stmt_fetch(MYSQL_STMT *st)
{
	LOAD(f, mysql_stmt_fetch);
	return f ? f(st) : 1;
}

int mysql_stmt_fetch_column(MYSQL_STMT *st, MYSQL_BIND *b, unsigned int column,
			    unsigned long offset)
{
	LOAD(f, mysql_stmt_fetch_column);
	return f ? f(st, b, column, offset) : 1;
}

unsigned long long mysql_stmt_num_rows(MYSQL_STMT *st)
{
	LOAD(f, mysql_stmt_num_rows);
	return f ? f(st) : 0;
}

unsigned long long mysql_stmt_affected_rows(MYSQL_STMT *st)
{
	LOAD(f, mysql_stmt_affected_rows);
	return f ? f(st) : 0;
}

unsigned int mysql_stmt_errno(MYSQL_STMT *st)
{
	LOAD(f, mysql_stmt_errno);
	return f ? f(st) : CR_UNKNOWN_ERROR;
}

const char *mysql_stmt_error(MYSQL_STMT *st)
{
	LOAD(f, mysql_stmt_error);
	return f ? f(st) : load_error;
}

my_bool mysql_stmt_close(MYSQL_STMT *st)
{
	LOAD(f, mysql_stmt_close);
	return f ? f(st) : 1;
}
