/* vault_bulk.c - the client half of bench/vault_bulk.sh: writes the
 * secrets, prints their URL paths for wrk, and times the store's bulk read.
 *
 *   vault_bulk put N          write N secrets
 *   vault_bulk paths N        print the N GET paths, one a line
 *   vault_bulk get N ROUNDS C get_many of the N at concurrency C, ROUNDS
 *                             times; prints the best and the median rate
 *
 * VAULT_ADDR and VAULT_TOKEN say where, as for the tools.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vault.h"

#define PATH_FMT "organizations/bench/projects/p/environments/e/secrets/S%d"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int die(const char *what, const struct vc_err *e)
{
	fprintf(stderr, "vault_bulk: %s: %s\n", what, e->msg);
	return 1;
}

static int put_all(struct vc_store *s, int n)
{
	struct vc_err e = { 0, "" };
	char path[128], val[64];

	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), PATH_FMT, i);
		snprintf(val, sizeof(val), "value of secret %d", i);
		if (s->ops->put(s, path, val, strlen(val), -1, NULL, &e) < 0)
			return die("put", &e);
	}
	return 0;
}

/* One get_many of every path; returns the seconds it took, < 0 on error. */
static double get_round(struct vc_store *s, struct vc_store_item *it, int n,
			int conc)
{
	struct vc_err e = { 0, "" };
	double t = now_s();

	if (s->ops->get_many(s, it, (size_t)n, conc, &e) < 0) {
		die("get_many", &e);
		return -1;
	}
	t = now_s() - t;
	for (int i = 0; i < n; i++) {
		if (it[i].rc < 0) {
			die(it[i].path, &it[i].err);
			return -1;
		}
		vc_buf_release(&it[i].value);
	}
	return t;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int get_all(struct vc_store *s, int n, int rounds, int conc)
{
	struct vc_store_item *it = calloc((size_t)n, sizeof(*it));
	char (*paths)[128] = calloc((size_t)n, sizeof(*paths));
	double *t = calloc((size_t)rounds, sizeof(*t));

	if (!it || !paths || !t)
		return 1;
	for (int i = 0; i < n; i++) {
		snprintf(paths[i], sizeof(paths[i]), PATH_FMT, i);
		it[i].path = paths[i];
	}
	for (int r = 0; r < rounds; r++)
		if ((t[r] = get_round(s, it, n, conc)) < 0)
			return 1;
	qsort(t, (size_t)rounds, sizeof(*t), cmp_double);
	printf("%.0f %.0f\n", n / t[0], n / t[rounds / 2]);
	free(it);
	free(paths);
	free(t);
	return 0;
}

int main(int argc, char **argv)
{
	struct vc_vault_conf conf = { 0 };
	struct vc_store *s;
	struct vc_err e = { 0, "" };
	int n = argc > 2 ? atoi(argv[2]) : 0, rc;

	if (argc < 3 || n <= 0 || (!strcmp(argv[1], "get") && argc < 5)) {
		fprintf(stderr, "usage: vault_bulk put|paths N | "
			"vault_bulk get N ROUNDS CONCURRENCY\n");
		return 2;
	}
	if (!strcmp(argv[1], "paths")) {
		for (int i = 0; i < n; i++)
			printf("/v1/secret/data/" PATH_FMT "\n", i);
		return 0;
	}
	if (vc_vault_open(&s, &conf, &e) < 0)
		return die("open", &e);
	if (!strcmp(argv[1], "put"))
		rc = put_all(s, n);
	else
		rc = get_all(s, n, atoi(argv[3]) > 0 ? atoi(argv[3]) : 1,
			     atoi(argv[4]));
	vc_store_close(s);
	return rc;
}
