/* db.h - one connection per database identity, prepared statements,
 * transactions retried whole on deadlock and lock-wait timeout. */
#ifndef VC_DB_H
#define VC_DB_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "vc.h"

enum vc_db_role {
	VC_DB_METADATA,     /* secrets_api_user   [vaultctl-metadata] */
	VC_DB_VALUES,       /* vault_storage_user [vaultctl-values] */
	VC_DB_ADMIN,        /* vault_mysql_user   [vaultctl-admin] of admin_config */
	VC_DB_MONITORING,   /* monitoring_user    [vaultctl-monitoring] */
};

struct vc_db;
struct vc_res;

/* Why libmariadb could not be loaded (lib/mariadb_shim.c loads it on
 * first use); NULL once it is. */
const char *vc_db_library_error(void);
/* notify (may be NULL) receives notes such as a skipped database host. */
int vc_db_open(struct vc_db **out, const struct vc_conf *c,
	       enum vc_db_role role, void (*notify)(void *, const char *),
	       void *ctx, struct vc_err *e);
void vc_db_close(struct vc_db *db);
/* Whether the server libmariadb would reach through file's groups
 * [client] and group (host, if given, first) is certainly down, told
 * without libmariadb: its unix socket is missing.  Then *no and msg are
 * what libmariadb would have said.  0: no verdict (db_probe.c). */
int vc_db_refused(const char *file, const char *group, const char *host,
		  unsigned *no, char *msg, size_t n);
/* The MYSQL handle, for lib-internal users such as the local store. */
void *vc_db_handle(struct vc_db *db);
/* Whether the server behind such a handle runs one statement over arrays
 * of parameters (MariaDB's bulk execute, as vc_db_insert_rows uses). */
int vc_db_handle_bulk(void *m);

/* Parameters are described by a type string, one letter each:
 *   s  const char *           (NULL binds SQL NULL)
 *   b  const void *, size_t   (binary; NULL binds SQL NULL)
 *   i  int
 *   l  long long
 * exec runs a statement without a result set; affected may be NULL. */
int vc_db_exec(struct vc_db *db, unsigned long long *affected,
	       struct vc_err *e, const char *sql, const char *types, ...);
/* query runs a statement and buffers its whole result. */
int vc_db_query(struct vc_db *db, struct vc_res **res, struct vc_err *e,
		const char *sql, const char *types, ...);
/* The same with an array of parameters, for statements built at run time
 * (multi-row inserts, IN lists). */
struct vc_param {
	char type;              /* 's', 'b', 'i' or 'l' as above */
	const void *p;
	size_t len;
	long long i;
};
int vc_db_execv(struct vc_db *db, unsigned long long *affected,
		struct vc_err *e, const char *sql, const struct vc_param *p,
		size_t n);
int vc_db_queryv(struct vc_db *db, struct vc_res **res, struct vc_err *e,
		 const char *sql, const struct vc_param *p, size_t n);
/* INSERT of many rows in one statement: head is "INSERT INTO t (a, b)
 * VALUES ", row "(?, ?)", p rows * cols parameters row after row (every
 * row with the same types; NULL pointers are SQL NULL).  On MariaDB the
 * one-row statement runs once with arrays of parameters (bulk execute):
 * 12 000 placeholders cost the server more to prepare than the rows to
 * insert.  Elsewhere (MySQL) it is one multi-row VALUES statement. */
int vc_db_insert_rows(struct vc_db *db, struct vc_err *e, const char *head,
		      const char *row, const struct vc_param *p, size_t cols,
		      size_t rows);
/* Whether the server takes INSERT ... RETURNING (MariaDB 10.5 and
 * later): the values a multi-row insert generated come back with it,
 * not by a query after it. */
int vc_db_has_returning(struct vc_db *db);
/* As vc_db_insert_rows, in one multi-row VALUES statement ending with
 * tail (" RETURNING ..."), its rows in *res.  For a few rows: the
 * statement has rows * cols placeholders. */
int vc_db_insert_returning(struct vc_db *db, struct vc_res **res,
			   struct vc_err *e, const char *head, const char *row,
			   const char *tail, const struct vc_param *p,
			   size_t cols, size_t rows);
/* One statement run for each of rows rows of cols parameters, in one
 * bulk execute (MariaDB): an UPDATE of 1000 rows by their keys costs the
 * server about what their INSERT would.  1 (nothing done) where
 * the server has no bulk execute: the caller has its own way. */
int vc_db_exec_rows(struct vc_db *db, struct vc_err *e, const char *sql,
		    const struct vc_param *p, size_t cols, size_t rows);
/* Plain text statement without parameters (DDL, START TRANSACTION ...). */
int vc_db_simple(struct vc_db *db, const char *sql, struct vc_err *e);

size_t vc_res_rows(const struct vc_res *r);
size_t vc_res_cols(const struct vc_res *r);
const char *vc_res_colname(const struct vc_res *r, size_t col);
/* Cell as text (NULL for SQL NULL); len may be NULL. */
const char *vc_res_get(const struct vc_res *r, size_t row, size_t col,
		       size_t *len);
long long vc_res_int(const struct vc_res *r, size_t row, size_t col);
void vc_res_free(struct vc_res *r);
/* Marks the result as holding values: freeing wipes it. */
void vc_res_secret(struct vc_res *r);

/* Runs fn inside a transaction and commits.  On deadlock (1213) or
 * lock-wait timeout (1205), or a Galera certification failure, rolls back
 * and runs fn again (bounded, jittered backoff); then VC_ECONFLICT.
 * fn must have no effect outside this connection. */
int vc_db_txn(struct vc_db *db, int (*fn)(struct vc_db *, void *,
	      struct vc_err *), void *arg, struct vc_err *e);
int vc_db_begin(struct vc_db *db, struct vc_err *e);
int vc_db_commit(struct vc_db *db, struct vc_err *e);
void vc_db_rollback(struct vc_db *db);
/* Reads on this connection wait until a Galera node has applied what the
 * cluster committed before them (nothing changes on a single server); for
 * the reads that decide a write.  With now, at once; else from the next
 * vc_db_begin on, whose first statement carries it (no round trip). */
int vc_db_causal(struct vc_db *db, int now, struct vc_err *e);
/* Last server error number seen on this connection (0 = none). */
unsigned vc_db_errno(const struct vc_db *db);
/* The AUTO_INCREMENT value the last INSERT on this connection gave its
 * first row (0 = none): the row's own for a one-row insert. */
unsigned long long vc_db_insert_id(struct vc_db *db);

/* A time-ordered UUID, version 7 (37 bytes with the NUL). */
void vc_uuid(char out[37]);
/* n of them, one call for the randomness of all. */
void vc_uuids(char (*out)[37], size_t n);

#endif
