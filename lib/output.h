/* output.h - one record list rendered as table, JSON or TSV (vaultctl(7), OUTPUT).
 * Rendering fills a buffer; cmd/ writes it. */
#ifndef VC_OUTPUT_H
#define VC_OUTPUT_H

#include <stddef.h>

#include "vc.h"

enum vc_out_fmt { VC_OUT_TABLE, VC_OUT_JSON, VC_OUT_TSV, VC_OUT_JSONL,
		  VC_OUT_CSV };

/* How a column is written in JSON: a string, a number, a boolean
 * ("0"/"1"), or raw JSON text (such as a plan's features). */
enum vc_col_type { VC_COL_STR, VC_COL_NUM, VC_COL_BOOL, VC_COL_JSON };

struct vc_col {
	const char *name;       /* JSON key and table header */
	enum vc_col_type type;
};

struct vc_table {
	const struct vc_col *cols;
	size_t ncols;
	size_t nrows, cap;
	char **cells;           /* nrows * ncols, NULL = null */
};

int vc_out_parse(const char *name, enum vc_out_fmt *f, struct vc_err *e);
void vc_table_init(struct vc_table *t, const struct vc_col *cols, size_t n);
/* Adds a row of ncols strings (copied; NULL allowed). */
int vc_table_add(struct vc_table *t, const char *const *row);
/* Adds a row from printf-free varargs of ncols const char *. */
int vc_table_addv(struct vc_table *t, ...);
void vc_table_release(struct vc_table *t);
/* single: render as one object (JSON) or as "key: value" lines (table). */
int vc_table_render(const struct vc_table *t, enum vc_out_fmt f, int single,
		    struct vc_buf *out);

#endif
