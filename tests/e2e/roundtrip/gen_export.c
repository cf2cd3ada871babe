/* gen_export - drives lib/format.c and lib/dotenv.c for the round trip.
 *
 *   gen_export FORMAT DIR             export every file of DIR (file name =
 *                                     secret name, contents = value, sorted
 *                                     by name) to stdout
 *   gen_export --import dotenv|json FILE OUTDIR
 *                                     parse FILE and write each value to
 *                                     OUTDIR/NAME
 *
 * Exit 2 with the library's message on a refusal or parse error, 1 on
 * other failures.  Test-only: it stands in for vaultctl-secret export and
 * import until the binaries exist.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dotenv.h"
#include "format.h"
#include "vc.h"

static int fail(int code, const char *what, const char *msg)
{
	fprintf(stderr, "gen_export: %s: %s\n", what, msg);
	return code;
}

static int read_file(const char *path, struct vc_buf *b)
{
	char chunk[65536];
	size_t n;
	FILE *f = fopen(path, "rb");

	if (!f)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (vc_buf_add(b, chunk, n) < 0)
			break;
	n = (size_t)ferror(f);
	fclose(f);
	return n ? -1 : 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct vc_kv *)a)->name,
		      ((const struct vc_kv *)b)->name);
}

/* Appends name and the value taken out of v to l. */
static int push(struct vc_kvlist *l, const char *name, struct vc_buf *v)
{
	size_t len;

	if (l->n == l->cap) {
		size_t cap = l->cap * 2 + 8;
		struct vc_kv *p = realloc(l->items, cap * sizeof(*p));

		if (!p)
			return -1;
		l->items = p;
		l->cap = cap;
	}
	l->items[l->n].name = strdup(name);
	if (!l->items[l->n].name)
		return -1;
	l->items[l->n].value = vc_buf_detach(v, &len);
	l->items[l->n++].len = len;
	return 0;
}

/* Reads every entry of dir but dot files into l, sorted by name. */
static int read_corpus(const char *dir, struct vc_kvlist *l)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[4096];
	int rc = 0;

	if (!d)
		return -1;
	while (rc == 0 && (de = readdir(d))) {
		struct vc_buf v;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		vc_buf_init(&v, 1);
		rc = read_file(path, &v);
		if (rc == 0)
			rc = push(l, de->d_name, &v);
		vc_buf_release(&v);
	}
	closedir(d);
	qsort(l->items, l->n, sizeof(*l->items), by_name);
	return rc;
}

static int do_export(const char *fmt, const char *dir)
{
	struct vc_kvlist l = VC_KVLIST_INIT;
	struct vc_buf out;
	struct vc_err e = { 0, "" };
	enum vc_format f;
	int rc;

	if (vc_format_parse(fmt, &f, &e) < 0)
		return fail(2, fmt, e.msg);
	if (read_corpus(dir, &l) < 0) {
		vc_kvlist_free(&l);
		return fail(1, dir, strerror(errno));
	}
	vc_buf_init(&out, 1);
	rc = vc_format_export(f, l.items, l.n, &out, &e);
	if (rc == 0 && fwrite(out.data, 1, out.len, stdout) != out.len)
		rc = VC_EFAIL;
	vc_buf_release(&out);
	vc_kvlist_free(&l);
	if (rc < 0)
		return fail(vc_err_exit(rc), "export", e.msg);
	return fflush(stdout) ? 1 : 0;
}

static int write_values(const struct vc_kvlist *l, const char *outdir)
{
	char path[4096];

	for (size_t i = 0; i < l->n; i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", outdir, l->items[i].name);
		f = fopen(path, "wb");
		if (!f)
			return -1;
		fwrite(l->items[i].value, 1, l->items[i].len, f);
		if (fclose(f) != 0)
			return -1;
	}
	return 0;
}

static int do_import(const char *fmt, const char *file, const char *outdir)
{
	struct vc_kvlist l = VC_KVLIST_INIT;
	struct vc_buf text;
	struct vc_err e = { 0, "" };
	int rc;

	vc_buf_init(&text, 1);
	if (read_file(file, &text) < 0) {
		vc_buf_release(&text);
		return fail(1, file, strerror(errno));
	}
	if (strcmp(fmt, "json") == 0)
		rc = vc_json_import_parse(text.data ? text.data : "", text.len, &l, &e);
	else
		rc = vc_dotenv_parse(text.data ? text.data : "", text.len, &l, &e);
	vc_buf_release(&text);
	if (rc < 0)
		return fail(vc_err_exit(rc), file, e.msg);
	rc = write_values(&l, outdir);
	vc_kvlist_free(&l);
	return rc < 0 ? fail(1, outdir, strerror(errno)) : 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && argv[1][0] != '-')
		return do_export(argv[1], argv[2]);
	if (argc == 5 && strcmp(argv[1], "--import") == 0 &&
	    (strcmp(argv[2], "dotenv") == 0 || strcmp(argv[2], "json") == 0))
		return do_import(argv[2], argv[3], argv[4]);
	fprintf(stderr, "usage: gen_export FORMAT DIR\n"
		"       gen_export --import dotenv|json FILE OUTDIR\n");
	return 2;
}
