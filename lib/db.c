/* db.c - connections and prepared statements over libmariadb. */
#include "db.h"

#include <mysql.h>
#include <mysqld_error.h>
#include <errmsg.h>
#include <sodium.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct vc_db {
	MYSQL *m;
	unsigned last_errno;
	int guarded;            /* in vc_db_begin's transaction */
	int causal;             /* enum causal */
};

struct cell {
	char *p;
	size_t len;
	int null;
};

/* The cells' bytes, in chunks that never move (cells point into them):
 * one malloc a chunk, not one a cell.  The names of three environments
 * are 1200 cells, and their mallocs and frees showed in a run's time. */
struct chunk {
	struct chunk *next;
	size_t len, cap;
	char data[];
};

#define CHUNK_MIN ((size_t)8 << 10)
#define CHUNK_MAX ((size_t)1 << 20)

struct vc_res {
	size_t rows, cols, cap;
	char **names;
	struct cell *cells;
	struct chunk *chunks;   /* the newest first */
	int secret;
};

/* The password plugins the tools speak: both prove the password without
 * sending it.  A server, or whoever answers at its address, that asks for
 * mysql_clear_password or dialog (PAM) gets nothing.  caching_sha2_password
 * and sha256_password are left out too: over TCP without TLS they encrypt
 * the password to whatever RSA key the server sends.  A restricted-auth
 * line in the option file replaces the list (MySQL 8 over verified TLS). */
#define AUTH_PLUGINS "mysql_native_password,client_ed25519"

static const char *const groups[] = {
	"vaultctl-metadata", "vaultctl-values", "vaultctl-admin",
	"vaultctl-monitoring",
};

/* Maps a server or client error number to a VC_E* code. */
static int classify(unsigned no)
{
	switch (no) {
	case ER_ACCESS_DENIED_ERROR: case ER_DBACCESS_DENIED_ERROR:
	case ER_TABLEACCESS_DENIED_ERROR: case ER_COLUMNACCESS_DENIED_ERROR:
	case ER_SPECIFIC_ACCESS_DENIED_ERROR: case CR_PLUGIN_NOT_ALLOWED:
		return VC_EPERM;
	case ER_LOCK_DEADLOCK: case ER_LOCK_WAIT_TIMEOUT: case ER_DUP_ENTRY:
	case ER_ROW_IS_REFERENCED_2: case ER_ROW_IS_REFERENCED:
		return VC_ECONFLICT;
	case ER_NO_REFERENCED_ROW_2: case ER_NO_REFERENCED_ROW:
		return VC_ENOTFOUND;
	case ER_DATA_TOO_LONG: case ER_TRUNCATED_WRONG_VALUE:
	case ER_WARN_DATA_OUT_OF_RANGE:
		return VC_EUSAGE;
	case CR_CONNECTION_ERROR: case CR_CONN_HOST_ERROR:
	case CR_SERVER_GONE_ERROR: case CR_SERVER_LOST: case CR_UNKNOWN_HOST:
	case CR_SERVER_LOST_EXTENDED: case ER_CON_COUNT_ERROR:
	case ER_UNKNOWN_COM_ERROR: /* Galera node not ready */
	case ER_SERVER_SHUTDOWN: case ER_BAD_DB_ERROR:
	case ER_NET_READ_ERROR: case ER_NET_READ_INTERRUPTED:
		return VC_EUNAVAIL;
	default:
		return VC_EFAIL;
	}
}

static int db_fail(struct vc_db *db, unsigned no, const char *msg,
		   struct vc_err *e)
{
	int code = classify(no);

	db->last_errno = no;
	if (no == ER_LOCK_DEADLOCK || no == ER_LOCK_WAIT_TIMEOUT)
		return vc_err_set(e, code, "concurrent change (%s); try again",
				  msg);
	if (code == VC_EUNAVAIL)
		return vc_err_set(e, code, "database unavailable: %s; check that "
				  "the server is running, then try again", msg);
	/* libmariadb names the plugin wrongly after an auth switch. */
	if (no == CR_PLUGIN_NOT_ALLOWED)
		return vc_err_set(e, code, "the database server asked for an "
				  "authentication plugin that would hand it the "
				  "password (cleartext, PAM dialog or RSA): refused; "
				  "the tools speak mysql_native_password and "
				  "client_ed25519");
	if (code == VC_EPERM)
		return vc_err_set(e, code, "database refused: %s", msg);
	return vc_err_set(e, code, "database error %u: %s", no, msg);
}

static int stmt_fail(struct vc_db *db, MYSQL_STMT *st, struct vc_err *e)
{
	int rc = db_fail(db, mysql_stmt_errno(st), mysql_stmt_error(st), e);

	mysql_stmt_close(st);
	return rc;
}

/* One host of VAULTCTL_DB_HOSTS: "host", "host:port" or "[v6]:port". */
static void split_host(const char *item, char *host, size_t n,
		       unsigned *port)
{
	const char *colon;
	size_t len;

	*port = 0;
	if (item[0] == '[' && (colon = strchr(item, ']'))) {
		len = (size_t)(colon - item - 1);
		snprintf(host, n, "%.*s", (int)len, item + 1);
		if (colon[1] == ':')
			*port = (unsigned)atoi(colon + 2);
		return;
	}
	colon = strrchr(item, ':');
	len = colon ? (size_t)(colon - item) : strlen(item);
	snprintf(host, n, "%.*s", (int)len, item);
	if (colon)
		*port = (unsigned)atoi(colon + 1);
}

/* probe: check that the server serves queries, not only logins.  A
 * Galera node cut off from the primary component accepts connections but
 * refuses every statement that could touch data with 1047 (ER_UNKNOWN_COM_
 * ERROR, "WSREP has not yet prepared node for application use"), SELECT 1
 * included only when it reads a table; DO 1 is refused there and runs
 * anywhere else (MariaDB, MySQL).  As an init command it fails the connect,
 * so that the next host of the list is tried. */
static MYSQL *connect_one(const struct vc_conf *c, enum vc_db_role role,
			  const char *host, unsigned port, int probe,
			  unsigned *no, char *msg, size_t msgn)
{
	const char *file = role == VC_DB_ADMIN ? c->admin_config : c->path;
	unsigned timeout = 5;
	MYSQL *m;

	/* Before mysql_init, whose first call costs a millisecond. */
	if (vc_db_refused(file, groups[role], host, no, msg, msgn))
		return NULL;
	m = mysql_init(NULL);
	if (!m) {
		const char *why = vc_db_library_error();
		*no = why ? CR_UNKNOWN_ERROR : CR_OUT_OF_MEMORY;
		snprintf(msg, msgn, "%s", why ? why : "out of memory");
		return NULL;
	}
	/* Refused, not skipped, by a libmariadb older than 3.3. */
	if (mysql_optionsv(m, MARIADB_OPT_RESTRICTED_AUTH, AUTH_PLUGINS)) {
		*no = CR_UNKNOWN_ERROR;
		snprintf(msg, msgn, "this libmariadb cannot restrict "
			 "authentication plugins (3.3 or later needed)");
		mysql_close(m);
		return NULL;
	}
	/* The administrative account has a file of its own (admin_config). */
	mysql_optionsv(m, MYSQL_READ_DEFAULT_FILE, file);
	mysql_optionsv(m, MYSQL_READ_DEFAULT_GROUP, groups[role]);
	mysql_optionsv(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_optionsv(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (probe)
		mysql_optionsv(m, MYSQL_INIT_COMMAND, "DO 1");
	if (mysql_real_connect(m, host, NULL, NULL, c->database, port, NULL,
			       CLIENT_FOUND_ROWS)) {
		/* libmariadb leaves its socket open across exec: the command
		 * of run --watch, a child, must not get a connection of the
		 * tools' accounts. */
		fcntl((int)mysql_get_socket(m), F_SETFD, FD_CLOEXEC);
		return m;
	}
	*no = mysql_errno(m);
	snprintf(msg, msgn, "%s", mysql_error(m));
	mysql_close(m);
	return NULL;
}

/* The next host of a VAULTCTL_DB_HOSTS list, spaces around it dropped;
 * NULL at the end. */
static const char *next_host(char **save, char *list)
{
	char *item;

	while ((item = strtok_r(list, ",", save))) {
		list = NULL;
		item += strspn(item, " \t");
		item[strcspn(item, " \t")] = '\0';
		if (*item)
			return item;
	}
	return NULL;
}

int vc_db_open(struct vc_db **out, const struct vc_conf *c,
	       enum vc_db_role role, void (*notify)(void *, const char *),
	       void *ctx, struct vc_err *e)
{
	const char *hosts = getenv("VAULTCTL_DB_HOSTS"), *item;
	char list[1024], host[256], msg[512], note[800], *save = NULL;
	unsigned no = 0, port, tried = 0;
	struct vc_db tmp = { NULL, 0, 0, 0 };
	MYSQL *m = NULL;
	int probe;

	*out = NULL;
	if (!hosts || !*hosts) {
		m = connect_one(c, role, NULL, 0, 0, &no, msg, sizeof(msg));
	} else {
		snprintf(list, sizeof(list), "%s", hosts);
		/* Probe only where there is another host to move to. */
		probe = strchr(hosts, ',') != NULL;
		for (item = next_host(&save, list); item && !m;
		     item = next_host(&save, NULL)) {
			split_host(item, host, sizeof(host), &port);
			tried++;
			m = connect_one(c, role, host, port, probe, &no, msg,
					sizeof(msg));
			if (m)
				break;
			/* A host that answers and refuses (wrong password, no
			 * such database grant) would refuse on every node. */
			if (classify(no) != VC_EUNAVAIL)
				return db_fail(&tmp, no, msg, e);
			if (notify) {
				snprintf(note, sizeof(note),
					 "database host %s is down (%s); "
					 "trying the next", item, msg);
				notify(ctx, note);
			}
		}
		if (!m && tried > 1) {
			tmp.last_errno = no;
			return vc_err_set(e, VC_EUNAVAIL, "database unavailable: "
					  "none of the %u hosts of "
					  "VAULTCTL_DB_HOSTS answered (last: %s)",
					  tried, msg);
		}
		if (!m && !tried)
			return vc_err_set(e, VC_EUSAGE, "VAULTCTL_DB_HOSTS names "
					  "no host");
	}
	/* Not connected: certainly nothing was changed. */
	if (!m && classify(no) == VC_EUNAVAIL)
		return vc_err_set(e, VC_EUNAVAIL, "database unavailable: %s; "
				  "nothing was changed: check that the server is "
				  "running, then try again", msg);
	if (!m)
		return db_fail(&tmp, no, msg, e);
	*out = calloc(1, sizeof(**out));
	if (!*out) {
		mysql_close(m);
		return vc_err_set(e, VC_EFAIL, "out of memory");
	}
	(*out)->m = m;
	return 0;
}

void vc_db_close(struct vc_db *db)
{
	if (!db)
		return;
	mysql_close(db->m);
	free(db);
}

void *vc_db_handle(struct vc_db *db)
{
	return db->m;
}

unsigned vc_db_errno(const struct vc_db *db)
{
	return db->last_errno;
}

unsigned long long vc_db_insert_id(struct vc_db *db)
{
	return mysql_insert_id(db->m);
}

int vc_db_simple(struct vc_db *db, const char *sql, struct vc_err *e)
{
	if (mysql_real_query(db->m, sql, strlen(sql)))
		return db_fail(db, mysql_errno(db->m), mysql_error(db->m), e);
	return 0;
}

enum causal { CAUSAL_NO, CAUSAL_AT_BEGIN, CAUSAL_SET };

/* On a Galera node a read sees only the write sets this node has applied:
 * a row another node committed a moment ago may still look old.  Waiting
 * for them (wsrep_sync_wait, bit 1: reads) makes the reads that decide a
 * write causal.  A session variable, so no privilege is needed; elsewhere
 * @@wsrep_on is off and nothing changes, and a server without the variable
 * (MySQL, MariaDB built without Galera) is no cluster node. */
#define CAUSAL_SQL "wsrep_sync_wait = IF(@@wsrep_on, @@wsrep_sync_wait | 1, " \
		   "@@wsrep_sync_wait)"

/* sql sets the variable, and maybe more: without the variable, plain runs
 * instead (NULL: nothing). */
static int causal_set(struct vc_db *db, const char *sql, const char *plain,
		      struct vc_err *e)
{
	int rc = vc_db_simple(db, sql, e);

	if (rc < 0 && db->last_errno == ER_UNKNOWN_SYSTEM_VARIABLE) {
		vc_err_clear(e);
		db->last_errno = 0;
		rc = plain ? vc_db_simple(db, plain, e) : 0;
	}
	if (rc == 0)
		db->causal = CAUSAL_SET;
	return rc;
}

int vc_db_causal(struct vc_db *db, int now, struct vc_err *e)
{
	if (db->causal == CAUSAL_SET)
		return 0;
	if (!now) {
		db->causal = CAUSAL_AT_BEGIN;
		return 0;
	}
	return causal_set(db, "SET SESSION " CAUSAL_SQL, NULL, e);
}

/* Binds an array of parameters; lens/ints keep values alive until the
 * statement has run. */
static void bind_params(MYSQL_BIND *b, unsigned long *lens, long long *ints,
			const struct vc_param *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		memset(&b[i], 0, sizeof(b[i]));
		if (p[i].type == 'i' || p[i].type == 'l') {
			ints[i] = p[i].i;
			b[i].buffer_type = MYSQL_TYPE_LONGLONG;
			b[i].buffer = &ints[i];
			continue;
		}
		b[i].buffer_type = !p[i].p ? MYSQL_TYPE_NULL :
			p[i].type == 'b' ? MYSQL_TYPE_BLOB : MYSQL_TYPE_STRING;
		b[i].buffer = (void *)p[i].p;
		lens[i] = (unsigned long)p[i].len;
		b[i].buffer_length = lens[i];
		b[i].length = &lens[i];
	}
}

/* Turns the type string and varargs into an array of parameters. */
static struct vc_param *params_from(const char *types, va_list ap)
{
	size_t n = strlen(types);
	struct vc_param *p = calloc(n + 1, sizeof(*p));

	for (size_t i = 0; p && i < n; i++) {
		p[i].type = types[i];
		if (types[i] == 's') {
			p[i].p = va_arg(ap, const char *);
			p[i].len = p[i].p ? strlen(p[i].p) : 0;
		} else if (types[i] == 'b') {
			p[i].p = va_arg(ap, const void *);
			p[i].len = va_arg(ap, size_t);
		} else if (types[i] == 'i') {
			p[i].i = va_arg(ap, int);
		} else {
			p[i].i = va_arg(ap, long long);
		}
	}
	return p;
}

#define MAX_COLS 64

/* MariaDB (not MySQL) servers take a statement's prepare and its execute
 * in one round trip (mariadb_stmt_execute_direct): a command runs a
 * dozen statements, each prepared once. */
static int direct_supported(struct vc_db *db)
{
	unsigned long long caps = 0;

	return !mariadb_get_infov(db->m, MARIADB_CONNECTION_SERVER_CAPABILITIES,
				  &caps) && !(caps & CLIENT_MYSQL);
}

static int params_wrong(MYSQL_STMT *st, unsigned int n, struct vc_err *e)
{
	vc_err_set(e, VC_EFAIL, "statement wants %lu parameters, got %u",
		   mysql_stmt_param_count(st), n);
	mysql_stmt_close(st);
	return VC_EFAIL;
}

/* Above this many parameters a statement is prepared, then executed.
 * In one round trip the client sends the execute while the server
 * answers the prepare with a definition per parameter: with thousands
 * (a multi-row INSERT where bulk execution is missing) both sides fill
 * their socket buffers, and wait on each other until net_write_timeout
 * (seen: 60 s, then "Broken pipe"). */
#define DIRECT_MAX_PARAMS 64

/* Prepares and runs sql with its parameters bound by b (n of them, or
 * size rows of them when size > 1); closes st on failure. */
static int stmt_go(struct vc_db *db, MYSQL_STMT *st, const char *sql,
		   MYSQL_BIND *b, unsigned int n, unsigned int size,
		   struct vc_err *e)
{
	int direct = n <= DIRECT_MAX_PARAMS && direct_supported(db);

	if (direct ? mysql_stmt_attr_set(st, STMT_ATTR_PREBIND_PARAMS, &n) :
	    mysql_stmt_prepare(st, sql, strlen(sql)) != 0)
		return stmt_fail(db, st, e);
	if (!direct && mysql_stmt_param_count(st) != n)
		return params_wrong(st, n, e);
	if ((size > 1 && mysql_stmt_attr_set(st, STMT_ATTR_ARRAY_SIZE, &size)) ||
	    (n && mysql_stmt_bind_param(st, b)) ||
	    (direct ? mariadb_stmt_execute_direct(st, sql, strlen(sql)) :
	     mysql_stmt_execute(st)) != 0)
		return stmt_fail(db, st, e);
	if (mysql_stmt_param_count(st) != n)
		return params_wrong(st, n, e);
	return 0;
}

static int prepare_run(struct vc_db *db, MYSQL_STMT **out, struct vc_err *e,
		       const char *sql, const struct vc_param *params, size_t n)
{
	MYSQL_BIND *b = calloc(n + 1, sizeof(*b));
	unsigned long *lens = calloc(n + 1, sizeof(*lens));
	long long *ints = calloc(n + 1, sizeof(*ints));
	MYSQL_STMT *st = NULL;
	int rc = 0;

	if (!b || !lens || !ints)
		rc = vc_err_set(e, VC_EFAIL, "out of memory");
	else if (!(st = mysql_stmt_init(db->m)))
		rc = db_fail(db, mysql_errno(db->m), mysql_error(db->m), e);
	else
		bind_params(b, lens, ints, params, n);
	if (st && rc == 0)
		rc = stmt_go(db, st, sql, b, (unsigned int)n, 1, e);
	free(b);
	free(lens);
	free(ints);
	if (rc == 0)
		*out = st;
	return rc;
}

int vc_db_execv(struct vc_db *db, unsigned long long *affected,
		struct vc_err *e, const char *sql, const struct vc_param *p,
		size_t n)
{
	MYSQL_STMT *st;
	int rc = prepare_run(db, &st, e, sql, p, n);

	if (rc < 0)
		return rc;
	if (affected)
		*affected = mysql_stmt_affected_rows(st);
	mysql_stmt_close(st);
	return 0;
}

/* Column-wise arrays for a bulk execute: per column, the values' pointers
 * (or, for a number column, the integers), lengths and NULL indicators of
 * every row. */
struct bulk_col {
	const void **ptr;
	long long *ints;
	unsigned long *lens;
	char *ind;
};

static int bulk_bind(MYSQL_BIND *b, struct bulk_col *c,
		     const struct vc_param *p, size_t cols, size_t rows)
{
	for (size_t k = 0; k < cols; k++) {
		int num = p[k].type == 'i' || p[k].type == 'l';

		if (num)
			c[k].ints = calloc(rows, sizeof(*c[k].ints));
		else
			c[k].ptr = calloc(rows, sizeof(*c[k].ptr));
		c[k].lens = calloc(rows, sizeof(*c[k].lens));
		c[k].ind = calloc(rows, 1);
		if (!(num ? (void *)c[k].ints : (void *)c[k].ptr) ||
		    !c[k].lens || !c[k].ind)
			return -1;
		for (size_t i = 0; i < rows; i++) {
			const struct vc_param *q = &p[i * cols + k];

			if (num)
				c[k].ints[i] = q->i;
			else
				c[k].ptr[i] = q->p;
			c[k].lens[i] = (unsigned long)q->len;
			c[k].ind[i] = !num && !q->p ? STMT_INDICATOR_NULL :
						      STMT_INDICATOR_NONE;
		}
		memset(&b[k], 0, sizeof(b[k]));
		b[k].buffer_type = num ? MYSQL_TYPE_LONGLONG :
			p[k].type == 'b' ? MYSQL_TYPE_BLOB : MYSQL_TYPE_STRING;
		b[k].buffer = num ? (void *)c[k].ints : (void *)c[k].ptr;
		b[k].length = num ? NULL : c[k].lens;
		b[k].u.indicator = c[k].ind;
	}
	return 0;
}

static int bulk_run(struct vc_db *db, struct vc_err *e, const char *sql,
		    const struct vc_param *p, size_t cols, size_t rows)
{
	MYSQL_BIND *b = calloc(cols, sizeof(*b));
	struct bulk_col *c = calloc(cols, sizeof(*c));
	unsigned int size = (unsigned int)rows;
	MYSQL_STMT *st = NULL;
	int rc = 0;

	if (!b || !c || bulk_bind(b, c, p, cols, rows) < 0)
		rc = vc_err_set(e, VC_EFAIL, "out of memory");
	else if (!(st = mysql_stmt_init(db->m)))
		rc = db_fail(db, mysql_errno(db->m), mysql_error(db->m), e);
	else
		rc = stmt_go(db, st, sql, b, (unsigned int)cols, size, e);
	if (st && rc == 0)
		mysql_stmt_close(st);
	for (size_t k = 0; c && k < cols; k++) {
		free(c[k].ptr);
		free(c[k].ints);
		free(c[k].lens);
		free(c[k].ind);
	}
	free(c);
	free(b);
	return rc;
}

int vc_db_handle_bulk(void *m)
{
	struct vc_db db = { .m = m };
	unsigned long long caps = 0;

	if (!direct_supported(&db))
		return 0;
	mariadb_get_infov(db.m, MARIADB_CONNECTION_EXTENDED_SERVER_CAPABILITIES,
			  &caps);
	return (caps & (MARIADB_CLIENT_STMT_BULK_OPERATIONS >> 32)) != 0;
}

static int bulk_supported(struct vc_db *db)
{
	return vc_db_handle_bulk(db->m);
}

/* "head row,row,..." of rows rows into sql; -1 out of memory. */
static int rows_sql(struct vc_buf *sql, const char *head, const char *row,
		    size_t rows)
{
	int rc = 0;

	for (size_t i = 0; !rc && i < rows; i++)
		rc = vc_buf_addstr(sql, i ? "," : head) < 0 ||
		     vc_buf_addstr(sql, row) < 0;
	return rc ? -1 : 0;
}

int vc_db_insert_rows(struct vc_db *db, struct vc_err *e, const char *head,
		      const char *row, const struct vc_param *p, size_t cols,
		      size_t rows)
{
	struct vc_buf sql;
	int bulk = rows > 1 && bulk_supported(db), rc;

	if (!rows)
		return 0;
	vc_buf_init(&sql, 0);
	/* The one-row statement for a bulk execute, else every row's. */
	rc = rows_sql(&sql, head, row, bulk ? 1 : rows);
	if (rc)
		rc = vc_err_set(e, VC_EFAIL, "out of memory");
	else if (bulk)
		rc = bulk_run(db, e, sql.data, p, cols, rows);
	else
		rc = vc_db_execv(db, NULL, e, sql.data, p, cols * rows);
	vc_buf_release(&sql);
	return rc;
}

int vc_db_has_returning(struct vc_db *db)
{
	return direct_supported(db) && mysql_get_server_version(db->m) >=
	       100500;
}

int vc_db_insert_returning(struct vc_db *db, struct vc_res **res,
			   struct vc_err *e, const char *head, const char *row,
			   const char *tail, const struct vc_param *p,
			   size_t cols, size_t rows)
{
	struct vc_buf sql = VC_BUF_INIT;
	int rc = rows_sql(&sql, head, row, rows);

	*res = NULL;
	if (!rc)
		rc = vc_buf_addstr(&sql, tail) < 0;
	rc = rc ? vc_err_set(e, VC_EFAIL, "out of memory") :
	     vc_db_queryv(db, res, e, sql.data, p, cols * rows);
	vc_buf_release(&sql);
	return rc;
}

int vc_db_exec_rows(struct vc_db *db, struct vc_err *e, const char *sql,
		    const struct vc_param *p, size_t cols, size_t rows)
{
	if (!rows)
		return 0;
	if (rows > 1 && !bulk_supported(db))
		return 1;
	return rows > 1 ? bulk_run(db, e, sql, p, cols, rows) :
	       vc_db_execv(db, NULL, e, sql, p, cols);
}

int vc_db_exec(struct vc_db *db, unsigned long long *affected,
	       struct vc_err *e, const char *sql, const char *types, ...)
{
	struct vc_param *p;
	va_list ap;
	int rc;

	va_start(ap, types);
	p = params_from(types, ap);
	va_end(ap);
	if (!p)
		return vc_err_set(e, VC_EFAIL, "out of memory");
	rc = vc_db_execv(db, affected, e, sql, p, strlen(types));
	free(p);
	return rc;
}

static int res_add_row(struct vc_res *r)
{
	struct cell *c;
	size_t cap;

	if (r->rows < r->cap)
		return 0;
	cap = r->cap ? r->cap * 2 : 16;
	c = realloc(r->cells, cap * r->cols * sizeof(*c));
	if (!c)
		return -1;
	r->cells = c;
	r->cap = cap;
	return 0;
}

/* n bytes of r's chunks; each new chunk twice the last (up to
 * CHUNK_MAX), or as large as n. */
static char *res_alloc(struct vc_res *r, size_t n)
{
	struct chunk *c = r->chunks;
	size_t cap;

	if (c && c->cap - c->len >= n) {
		c->len += n;
		return c->data + c->len - n;
	}
	cap = c ? (c->cap < CHUNK_MAX / 2 ? c->cap * 2 : CHUNK_MAX) : CHUNK_MIN;
	if (cap < n)
		cap = n;
	c = malloc(sizeof(*c) + cap);
	if (!c)
		return NULL;
	c->next = r->chunks;
	c->len = n;
	c->cap = cap;
	r->chunks = c;
	return c->data;
}

static int copy_cell(struct vc_res *r, struct cell *c, const char *buf,
		     unsigned long len, my_bool isnull)
{
	c->null = isnull;
	c->len = isnull ? 0 : len;
	c->p = res_alloc(r, c->len + 1);
	if (!c->p)
		return -1;
	if (c->len)
		memcpy(c->p, buf, c->len);
	c->p[c->len] = '\0';
	return 0;
}

/* Every column is fetched as text into a buffer as wide as the widest
 * value of the result (max_length, asked for before store_result); numbers
 * and dates, converted by the client, fit in 64 bytes. */
static int fetch_all(struct vc_db *db, MYSQL_STMT *st, MYSQL_RES *meta,
		     struct vc_res *r, struct vc_err *e)
{
	MYSQL_BIND b[MAX_COLS];
	unsigned long lens[MAX_COLS];
	my_bool nulls[MAX_COLS];
	char *bufs[MAX_COLS] = { NULL };
	int frc, rc = 0;

	memset(b, 0, sizeof(b));
	for (size_t i = 0; i < r->cols; i++) {
		unsigned long w = mysql_fetch_field_direct(meta, (unsigned)i)->max_length;
		b[i].buffer_type = MYSQL_TYPE_STRING;
		b[i].buffer_length = (w < 64 ? 64 : w) + 1;
		b[i].buffer = bufs[i] = malloc(b[i].buffer_length);
		b[i].length = &lens[i];
		b[i].is_null = &nulls[i];
		if (!bufs[i])
			rc = vc_err_set(e, VC_EFAIL, "out of memory");
	}
	if (rc == 0 && mysql_stmt_bind_result(st, b))
		rc = db_fail(db, mysql_stmt_errno(st), mysql_stmt_error(st), e);
	while (rc == 0 && ((frc = mysql_stmt_fetch(st)) == 0 ||
			   frc == MYSQL_DATA_TRUNCATED)) {
		if (frc == MYSQL_DATA_TRUNCATED || res_add_row(r) < 0) {
			rc = vc_err_set(e, VC_EFAIL, "cannot fetch a row");
			break;
		}
		for (size_t i = 0; i < r->cols && rc == 0; i++)
			if (copy_cell(r, &r->cells[r->rows * r->cols + i],
				      bufs[i], lens[i], nulls[i]) < 0)
				rc = vc_err_set(e, VC_EFAIL, "out of memory");
		r->rows++;
		if (frc == 1)
			break;
	}
	if (rc == 0 && frc == 1)
		rc = db_fail(db, mysql_stmt_errno(st), mysql_stmt_error(st), e);
	for (size_t i = 0; i < r->cols; i++) {
		if (bufs[i] && r->secret)
			sodium_memzero(bufs[i], b[i].buffer_length);
		free(bufs[i]);
	}
	return rc;
}

int vc_db_queryv(struct vc_db *db, struct vc_res **res, struct vc_err *e,
		 const char *sql, const struct vc_param *p, size_t n)
{
	MYSQL_STMT *st;
	MYSQL_RES *meta;
	struct vc_res *r;
	my_bool yes = 1;
	int rc;

	*res = NULL;
	rc = prepare_run(db, &st, e, sql, p, n);
	if (rc < 0)
		return rc;
	if (mysql_stmt_attr_set(st, STMT_ATTR_UPDATE_MAX_LENGTH, &yes) ||
	    mysql_stmt_store_result(st))
		return stmt_fail(db, st, e);
	r = calloc(1, sizeof(*r));
	meta = mysql_stmt_result_metadata(st);
	if (!r || !meta) {
		free(r);
		if (meta)
			mysql_free_result(meta);
		mysql_stmt_close(st);
		return vc_err_set(e, VC_EFAIL, "statement returned no result");
	}
	r->cols = mysql_num_fields(meta);
	r->names = calloc(r->cols ? r->cols : 1, sizeof(char *));
	for (size_t i = 0; r->names && i < r->cols; i++)
		r->names[i] = strdup(mysql_fetch_field_direct(meta, (unsigned)i)->name);
	rc = r->cols > MAX_COLS || !r->names ? vc_err_set(e, VC_EFAIL,
		"result too wide") : fetch_all(db, st, meta, r, e);
	mysql_free_result(meta);
	mysql_stmt_close(st);
	if (rc < 0) {
		vc_res_free(r);
		return rc;
	}
	*res = r;
	return 0;
}

int vc_db_query(struct vc_db *db, struct vc_res **res, struct vc_err *e,
		const char *sql, const char *types, ...)
{
	struct vc_param *p;
	va_list ap;
	int rc;

	va_start(ap, types);
	p = params_from(types, ap);
	va_end(ap);
	if (!p)
		return vc_err_set(e, VC_EFAIL, "out of memory");
	rc = vc_db_queryv(db, res, e, sql, p, strlen(types));
	free(p);
	return rc;
}

size_t vc_res_rows(const struct vc_res *r)
{
	return r ? r->rows : 0;
}

size_t vc_res_cols(const struct vc_res *r)
{
	return r ? r->cols : 0;
}

const char *vc_res_colname(const struct vc_res *r, size_t col)
{
	return col < r->cols ? r->names[col] : NULL;
}

const char *vc_res_get(const struct vc_res *r, size_t row, size_t col,
		       size_t *len)
{
	const struct cell *c;

	if (!r || row >= r->rows || col >= r->cols)
		return NULL;
	c = &r->cells[row * r->cols + col];
	if (len)
		*len = c->len;
	return c->null ? NULL : c->p;
}

long long vc_res_int(const struct vc_res *r, size_t row, size_t col)
{
	const char *s = vc_res_get(r, row, col, NULL);

	return s ? strtoll(s, NULL, 10) : 0;
}

void vc_res_secret(struct vc_res *r)
{
	if (r)
		r->secret = 1;
}

void vc_res_free(struct vc_res *r)
{
	if (!r)
		return;
	while (r->chunks) {
		struct chunk *c = r->chunks;
		r->chunks = c->next;
		if (r->secret)
			sodium_memzero(c->data, c->len);
		free(c);
	}
	for (size_t i = 0; r->names && i < r->cols; i++)
		free(r->names[i]);
	free(r->names);
	free(r->cells);
	free(r);
}

/* A transaction the server may lose silently.  Measured on MariaDB 10.11
 * with Galera 4: a transaction aborted by a replicated write (a "brute
 * force" abort) while its client is between two statements is rolled back,
 * yet the next statements succeed, run outside any transaction, and commit
 * one by one: a secret's metadata update was lost while its audit row,
 * written after it "in the same transaction", stayed.  So a transaction
 * runs with autocommit off, where statements after such a loss cannot
 * commit on their own, and holds a savepoint: if the savepoint is gone at
 * commit time, the transaction was lost, everything since is rolled back,
 * and it counts as a deadlock, retried like one.  Costs three short round
 * trips per transaction; the same on any server. */
int vc_db_begin(struct vc_db *db, struct vc_err *e)
{
	int rc;

	db->last_errno = 0;
	db->guarded = 1;
	if (db->causal == CAUSAL_AT_BEGIN)
		rc = causal_set(db, "SET autocommit = 0, SESSION " CAUSAL_SQL,
				"SET autocommit = 0", e);
	else
		rc = vc_db_simple(db, "SET autocommit = 0", e);
	if (rc == 0)
		rc = vc_db_simple(db, "SAVEPOINT vc_txn", e);
	return rc;
}

int vc_db_commit(struct vc_db *db, struct vc_err *e)
{
	int rc = 0;

	if (db->guarded && mysql_query(db->m, "RELEASE SAVEPOINT vc_txn")) {
		if (mysql_errno(db->m) == ER_SP_DOES_NOT_EXIST) {
			db->last_errno = ER_LOCK_DEADLOCK;
			rc = vc_err_set(e, VC_ECONFLICT, "concurrent change (the "
					"server rolled the transaction back); "
					"try again");
		} else {
			rc = db_fail(db, mysql_errno(db->m), mysql_error(db->m),
				     e);
		}
	}
	if (rc == 0 && mysql_commit(db->m))
		rc = db_fail(db, mysql_errno(db->m), mysql_error(db->m), e);
	/* Never leave autocommit off: later statements would not commit. */
	if (rc < 0)
		vc_db_rollback(db);
	else if (db->guarded && mysql_autocommit(db->m, 1))
		rc = db_fail(db, mysql_errno(db->m), mysql_error(db->m), e);
	db->guarded = 0;
	return rc;
}

void vc_db_rollback(struct vc_db *db)
{
	mysql_rollback(db->m);
	if (db->guarded)
		mysql_autocommit(db->m, 1);
	db->guarded = 0;
}

static int retryable(unsigned no)
{
	return no == ER_LOCK_DEADLOCK || no == ER_LOCK_WAIT_TIMEOUT;
}

static void backoff(int attempt)
{
	/* Jitter keeps retrying writers from colliding again in step. */
	long ms = (5L << (attempt < 6 ? attempt : 6)) +
		  (long)randombytes_uniform(20 + 10 * (uint32_t)attempt);
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

#define TXN_ATTEMPTS 12

int vc_db_txn(struct vc_db *db, int (*fn)(struct vc_db *, void *,
	      struct vc_err *), void *arg, struct vc_err *e)
{
	int rc = 0;

	for (int attempt = 0; attempt < TXN_ATTEMPTS; attempt++) {
		if (attempt)
			backoff(attempt);
		rc = vc_db_begin(db, e);
		if (rc == 0)
			rc = fn(db, arg, e);
		if (rc == 0)
			rc = vc_db_commit(db, e);
		if (rc == 0)
			return 0;
		vc_db_rollback(db);
		if (!retryable(db->last_errno))
			return rc;
	}
	return vc_err_set(e, VC_ECONFLICT, "too many concurrent changes "
			  "(gave up after %d attempts); try again", TXN_ATTEMPTS);
}

/* Version 7 (time-ordered) UUIDs: the first 48 bits are the Unix time in
 * milliseconds, so new rows land at the end of a primary key's B-tree
 * (audit_logs takes thousands per export) instead of at random pages.
 * Within a batch the 26 bits after the version are a counter (RFC 9562,
 * section 6.2, method 1) that starts at a random value below 2^25, so the
 * batch is in order too and its rows are appended, not split into the
 * last pages; the last 48 bits are random for each id.  The randomness
 * of up to 256 ids comes from one randombytes_buf() call, and no
 * snprintf: an export of 1000 secrets makes 1000 ids. */
#define UUID_CHUNK 256

static void uuid_format(char out[37], const unsigned char u[16])
{
	static const int group[] = { 4, 2, 2, 2, 6 };
	char *o = out;

	for (int g = 0; g < 5; u += group[g], g++) {
		sodium_bin2hex(o, (size_t)group[g] * 2 + 1, u, (size_t)group[g]);
		o += group[g] * 2;
		*o++ = '-';
	}
	o[-1] = '\0';
}

void vc_uuids(char (*out)[37], size_t n)
{
	unsigned char rnd[UUID_CHUNK][6], u[16];
	struct timespec ts;
	uint32_t base, c;
	uint64_t ms;

	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	for (int i = 0; i < 6; i++)
		u[i] = (unsigned char)(ms >> (40 - 8 * i));
	randombytes_buf(&base, sizeof(base));
	base &= (1u << 25) - 1;
	for (size_t i = 0; i < n; i++) {
		if (i % UUID_CHUNK == 0)
			randombytes_buf(rnd, sizeof(rnd[0]) *
					(n - i < UUID_CHUNK ? n - i : UUID_CHUNK));
		c = (base + (uint32_t)i) & ((1u << 26) - 1);
		u[6] = (unsigned char)(0x70 | (c >> 22));
		u[7] = (unsigned char)(c >> 14);
		u[8] = (unsigned char)(0x80 | ((c >> 8) & 0x3f));
		u[9] = (unsigned char)c;
		memcpy(u + 10, rnd[i % UUID_CHUNK], 6);
		uuid_format(out[i], u);
	}
}

void vc_uuid(char out[37])
{
	vc_uuids((char (*)[37])out, 1);
}
