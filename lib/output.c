/* output.c - table, JSON, JSON lines, TSV and CSV renderers. */
#include "output.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int vc_out_parse(const char *name, enum vc_out_fmt *f, struct vc_err *e)
{
	static const char *const names[] = { "table", "json", "tsv", "jsonl",
					     "csv" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(name, names[i])) {
			*f = (enum vc_out_fmt)i;
			return 0;
		}
	return vc_err_set(e, VC_EUSAGE, "unknown output format '%.64s' (use "
			  "table, json, tsv, jsonl or csv)", name);
}

void vc_table_init(struct vc_table *t, const struct vc_col *cols, size_t n)
{
	memset(t, 0, sizeof(*t));
	t->cols = cols;
	t->ncols = n;
}

int vc_table_add(struct vc_table *t, const char *const *row)
{
	char **cells;

	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		cells = realloc(t->cells, cap * t->ncols * sizeof(char *));
		if (!cells)
			return VC_EFAIL;
		t->cells = cells;
		t->cap = cap;
	}
	cells = t->cells + t->nrows * t->ncols;
	for (size_t i = 0; i < t->ncols; i++) {
		cells[i] = row[i] ? strdup(row[i]) : NULL;
		if (row[i] && !cells[i])
			return VC_EFAIL;
	}
	t->nrows++;
	return 0;
}

int vc_table_addv(struct vc_table *t, ...)
{
	const char *row[64];
	va_list ap;

	if (t->ncols > 64)
		return VC_EFAIL;
	va_start(ap, t);
	for (size_t i = 0; i < t->ncols; i++)
		row[i] = va_arg(ap, const char *);
	va_end(ap);
	return vc_table_add(t, row);
}

void vc_table_release(struct vc_table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->nrows = t->cap = 0;
}

static const char *cell(const struct vc_table *t, size_t r, size_t c)
{
	return t->cells[r * t->ncols + c];
}

static cJSON *json_value(const struct vc_col *col, const char *v)
{
	cJSON *j;

	if (!v)
		return cJSON_CreateNull();
	switch (col->type) {
	case VC_COL_NUM:
		/* Raw keeps exact decimals such as prices. */
		return cJSON_CreateRaw(v);
	case VC_COL_BOOL:
		return cJSON_CreateBool(strcmp(v, "0") != 0);
	case VC_COL_JSON:
		j = cJSON_Parse(v);
		return j ? j : cJSON_CreateString(v);
	default:
		return cJSON_CreateString(v);
	}
}

static cJSON *json_row(const struct vc_table *t, size_t r)
{
	cJSON *o = cJSON_CreateObject();

	for (size_t c = 0; o && c < t->ncols; c++)
		cJSON_AddItemToObject(o, t->cols[c].name,
				      json_value(&t->cols[c], cell(t, r, c)));
	return o;
}

static int add_json(struct vc_buf *out, cJSON *j, int pretty)
{
	char *s = pretty ? cJSON_Print(j) : cJSON_PrintUnformatted(j);
	int rc;

	cJSON_Delete(j);
	if (!s)
		return VC_EFAIL;
	rc = vc_buf_addstr(out, s);
	free(s);
	return rc < 0 ? rc : vc_buf_addch(out, '\n');
}

static int render_json(const struct vc_table *t, int single,
		       struct vc_buf *out)
{
	cJSON *a;

	if (single)
		return t->nrows ? add_json(out, json_row(t, 0), 1)
				: vc_buf_addstr(out, "null\n");
	a = cJSON_CreateArray();
	for (size_t r = 0; a && r < t->nrows; r++)
		cJSON_AddItemToArray(a, json_row(t, r));
	return add_json(out, a, 1);
}

static int render_jsonl(const struct vc_table *t, struct vc_buf *out)
{
	for (size_t r = 0; r < t->nrows; r++)
		if (add_json(out, json_row(t, r), 0) < 0)
			return VC_EFAIL;
	return 0;
}

static int tsv_field(struct vc_buf *out, const char *v)
{
	int rc = 0;

	for (; v && *v && rc == 0; v++) {
		if (*v == '\t')
			rc = vc_buf_addstr(out, "\\t");
		else if (*v == '\n')
			rc = vc_buf_addstr(out, "\\n");
		else if (*v == '\\')
			rc = vc_buf_addstr(out, "\\\\");
		else
			rc = vc_buf_addch(out, *v);
	}
	return rc;
}

static int csv_field(struct vc_buf *out, const char *v)
{
	int rc;

	if (!v)
		return 0;
	if (!strpbrk(v, ",\"\r\n"))
		return vc_buf_addstr(out, v);
	rc = vc_buf_addch(out, '"');
	for (; *v && rc == 0; v++)
		rc = *v == '"' ? vc_buf_addstr(out, "\"\"") : vc_buf_addch(out, *v);
	return rc < 0 ? rc : vc_buf_addch(out, '"');
}

/* TSV has no header; CSV (RFC 4180) has one and ends lines with CRLF. */
static int render_sep(const struct vc_table *t, int csv, struct vc_buf *out)
{
	int rc = 0;

	for (size_t c = 0; csv && c < t->ncols && rc == 0; c++)
		rc = (c ? vc_buf_addch(out, ',') : 0) < 0 ? VC_EFAIL :
		     csv_field(out, t->cols[c].name);
	if (csv && rc == 0)
		rc = vc_buf_addstr(out, "\r\n");
	for (size_t r = 0; r < t->nrows && rc == 0; r++) {
		for (size_t c = 0; c < t->ncols && rc == 0; c++) {
			if (c)
				rc = vc_buf_addch(out, csv ? ',' : '\t');
			if (rc == 0)
				rc = csv ? csv_field(out, cell(t, r, c))
					 : tsv_field(out, cell(t, r, c));
		}
		if (rc == 0)
			rc = vc_buf_addstr(out, csv ? "\r\n" : "\n");
	}
	return rc;
}

/* Table cells show control characters escaped so a listing stays one
 * line per row whatever a description holds. */
static int table_field(struct vc_buf *out, const char *v, size_t width)
{
	size_t start = out->len, shown;

	if (tsv_field(out, v ? v : "-") < 0)
		return VC_EFAIL;
	shown = out->len - start;
	while (shown++ < width)
		if (vc_buf_addch(out, ' ') < 0)
			return VC_EFAIL;
	return 0;
}

static size_t shown_len(const char *v)
{
	size_t n = 0;

	if (!v)
		return 1;
	for (; *v; v++)
		n += (*v == '\t' || *v == '\n' || *v == '\\') ? 2 : 1;
	return n;
}

static int render_table(const struct vc_table *t, struct vc_buf *out)
{
	size_t w[64] = { 0 };
	int rc = 0;

	if (t->ncols > 64)
		return VC_EFAIL;
	for (size_t c = 0; c < t->ncols; c++) {
		w[c] = strlen(t->cols[c].name);
		for (size_t r = 0; r < t->nrows; r++)
			if (shown_len(cell(t, r, c)) > w[c])
				w[c] = shown_len(cell(t, r, c));
	}
	for (size_t r = 0; r <= t->nrows && rc == 0; r++) {
		for (size_t c = 0; c < t->ncols && rc == 0; c++) {
			int last = c + 1 == t->ncols;
			if (r == 0) {
				char up[128];
				size_t i;
				for (i = 0; t->cols[c].name[i] && i < 127; i++)
					up[i] = (char)(t->cols[c].name[i] >= 'a' &&
						t->cols[c].name[i] <= 'z' ?
						t->cols[c].name[i] - 32 :
						t->cols[c].name[i]);
				up[i] = '\0';
				rc = table_field(out, up, last ? 0 : w[c] + 2);
			} else {
				rc = table_field(out, cell(t, r - 1, c),
						 last ? 0 : w[c] + 2);
			}
		}
		if (rc == 0)
			rc = vc_buf_addch(out, '\n');
	}
	return rc;
}

static int render_pairs(const struct vc_table *t, struct vc_buf *out)
{
	size_t w = 0;
	int rc = 0;

	for (size_t c = 0; c < t->ncols; c++)
		if (strlen(t->cols[c].name) > w)
			w = strlen(t->cols[c].name);
	for (size_t c = 0; t->nrows && c < t->ncols && rc == 0; c++) {
		rc = vc_buf_printf(out, "%s:%*s", t->cols[c].name,
				   (int)(w - strlen(t->cols[c].name) + 2), "");
		if (rc == 0)
			rc = table_field(out, cell(t, 0, c), 0);
		if (rc == 0)
			rc = vc_buf_addch(out, '\n');
	}
	return rc;
}

int vc_table_render(const struct vc_table *t, enum vc_out_fmt f, int single,
		    struct vc_buf *out)
{
	switch (f) {
	case VC_OUT_JSON:
		return render_json(t, single, out);
	case VC_OUT_JSONL:
		return render_jsonl(t, out);
	case VC_OUT_TSV:
		return render_sep(t, 0, out);
	case VC_OUT_CSV:
		return render_sep(t, 1, out);
	default:
		return single ? render_pairs(t, out) : render_table(t, out);
	}
}
