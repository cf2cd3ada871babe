/* batch.c - vaultctl-secret import|copy|diff: many secrets at once, all
 * validated (names, sizes, conflicts, quota) before anything is written. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "bulk.h"
#include "dotenv.h"
#include "format.h"
#include "plan.h"
#include "prompt.h"
#include "secretcmd.h"
#include "host.h"
#include "valuemac.h"

int secret_read_values(struct cli *c, const struct vc_ref *ref,
		       struct vc_secret_set *set, int how);
int secret_only(struct cli *c, char ***out);
int secret_concurrency(struct cli *c, int *out);
void secret_only_free(char **only);

static const struct vc_secret_val *find(const struct vc_secret_set *set,
					const char *name)
{
	for (size_t i = 0; i < set->n; i++)
		if (!strcasecmp(set->v[i].name, name))
			return &set->v[i];
	return NULL;
}

static enum vc_change classify(const struct vc_secret_set *cur,
			       const struct vc_kv *kv)
{
	const struct vc_secret_val *v = find(cur, kv->name);

	if (!v)
		return VC_CHANGE_ADD;
	return v->value.len == kv->len && (!kv->len ||
		!memcmp(v->value.data, kv->value, kv->len)) ? VC_CHANGE_SAME :
		VC_CHANGE_CHANGE;
}

/* One batch is one change: the bar goes from nothing to all at once. */
static void progress(struct cli *c, size_t done, size_t total)
{
	int width = 30, fill;

	if (!isatty(STDERR_FILENO) || c->quiet || total < 2)
		return;
	fill = (int)(done * (size_t)width / total);
	fprintf(stderr, "\r[%.*s%*s] %zu/%zu", fill,
		"##############################", width - fill, "", done, total);
	if (done == total)
		fputc('\n', stderr);
}

/* Names and sizes, before the target environment is read (and its
 * reads audited): bad input changes nothing. */
static int check_entries(struct cli *c, const struct vc_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (vc_secret_name_check(kv[i].name, &c->err) < 0)
			return vc_err_prefix(&c->err, "entry '%.64s'", kv[i].name);
		if (kv[i].len > c->s.conf.max_value_size)
			return cli_fail(c, VC_EUSAGE, "value of '%.64s' is larger "
					"than %zu bytes (max_value_size)",
					kv[i].name, c->s.conf.max_value_size);
	}
	return 0;
}

/* Checks the whole batch against the plan of each entry, ch; counts
 * what would be added and changed.  Nothing is written here. */
static int plan_batch(struct cli *c, const struct vc_kv *kv, size_t n,
		      const enum vc_change *ch, size_t *add, size_t *chg,
		      struct vc_buf *conflicts)
{
	int overwrite = cli_opt(c, O_OVERWRITE) != NULL;
	int skip = cli_opt(c, O_SKIP) != NULL;

	*add = *chg = 0;
	for (size_t i = 0; i < n; i++) {
		switch (ch[i]) {
		case VC_CHANGE_ADD: (*add)++; break;
		case VC_CHANGE_CHANGE:
			if (!overwrite && !skip)
				vc_buf_printf(conflicts, "%s%s",
					      conflicts->len ? ", " : "", kv[i].name);
			*chg += overwrite;
			break;
		default: break;
		}
	}
	if (conflicts->len)
		return cli_fail(c, VC_ECONFLICT, "these secrets exist with other "
				"values: %.150s (use --overwrite or "
				"--skip-existing); nothing was written",
				conflicts->data);
	return 0;
}

static void print_plan(struct cli *c, const struct vc_kv *kv, size_t n,
		       const enum vc_change *ch)
{
	static const char *const word[] = { "add", "change", "unchanged" };

	for (size_t i = 0; i < n; i++) {
		if (ch[i] == VC_CHANGE_CHANGE && cli_opt(c, O_SKIP))
			printf("%-9s %s (skipped)\n", "unchanged", kv[i].name);
		else
			printf("%-9s %s\n", word[ch[i]], kv[i].name);
	}
}

/* SIGINT or SIGTERM during a batch: before the values go to the store,
 * the batch stops and nothing is written; from there to the commit they
 * wait (lib/batch.c), and the batch is written whole.  A second signal
 * kills as usual (SA_RESETHAND). */
volatile sig_atomic_t batch_interrupted;

static void on_interrupt(int sig)
{
	batch_interrupted = sig;
}

void catch_interrupts(struct sigaction old[2])
{
	static const int sigs[2] = { SIGINT, SIGTERM };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_interrupt;
	/* SA_RESTART: the database and Vault clients never see EINTR. */
	sa.sa_flags = SA_RESTART | SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	batch_interrupted = 0;
	for (int i = 0; i < 2; i++) {
		sigaction(sigs[i], &sa, &old[i]);
		/* Ignored by whoever started us (nohup, a background job of a
		 * script): it stays ignored. */
		if (old[i].sa_handler == SIG_IGN)
			sigaction(sigs[i], &old[i], NULL);
	}
}

void release_interrupts(const struct sigaction old[2])
{
	sigaction(SIGINT, &old[0], NULL);
	sigaction(SIGTERM, &old[1], NULL);
}

/* The secrets to add or change, as one batch of the library's. */
static int write_batch(struct cli *c, const struct vc_ref *env,
		       const struct vc_kv *kv, size_t n,
		       const enum vc_change *ch, const char *reason, size_t todo)
{
	struct vc_batch_item *it = calloc(todo + 1, sizeof(*it));
	struct vc_batch_opts o = { reason, 0, &batch_interrupted };
	size_t k = 0;
	int rc;

	if (!it)
		return cli_fail(c, VC_EFAIL, "out of memory");
	rc = secret_concurrency(c, &o.concurrency);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (ch[i] == VC_CHANGE_SAME || (ch[i] == VC_CHANGE_CHANGE &&
						!cli_opt(c, O_OVERWRITE)))
			continue;
		it[k++] = (struct vc_batch_item){ .name = kv[i].name,
			.op = VC_BATCH_PUT, .val = kv[i].value, .len = kv[i].len,
			.expect = -1 };
	}
	if (rc == 0) {
		progress(c, 0, k);
		rc = vc_secret_write_batch(&c->s, env, it, k, &o, &c->err);
	}
	if (rc == 0)
		progress(c, k, k);
	else if (isatty(STDERR_FILENO) && !c->quiet && k > 1)
		fputc('\n', stderr);
	free(it);
	if (rc == VC_EINTR)
		return cli_fail(c, VC_EINTR, "interrupted before the %zu "
				"secret%s went to the store: nothing was written; "
				"run the same command again", todo,
				todo == 1 ? "" : "s");
	if (rc < 0)
		return rc;
	if (!c->quiet)
		fprintf(stderr, "%s: wrote %zu secret%s to %s\n", c->tool->prog,
			k, k == 1 ? "" : "s", env->text);
	return 0;
}

static int apply_batch(struct cli *c, const struct vc_ref *env,
		       const struct vc_kv *kv, size_t n,
		       const enum vc_change *ch, const char *reason)
{
	size_t todo = 0;

	for (size_t i = 0; i < n; i++)
		todo += ch[i] == VC_CHANGE_ADD || (ch[i] == VC_CHANGE_CHANGE &&
						   cli_opt(c, O_OVERWRITE));
	return write_batch(c, env, kv, n, ch, reason, todo);
}

/* Checks, plans and writes a batch: the common body of import and copy. */
static int run_batch(struct cli *c, const struct vc_ref *env,
		     const struct vc_kv *kv, size_t n, const char *reason)
{
	enum vc_change *ch = calloc(n + 1, sizeof(*ch));
	struct vc_buf conflicts = VC_BUF_INIT;
	size_t add = 0, chg = 0;
	struct vc_plan_usage u;
	struct sigaction old[2];
	int dry = cli_opt(c, O_DRY_RUN) != NULL, conc;
	/* A bad --concurrency is bad input: refused before anything is read
	 * (and audited) or locked. */
	int rc = secret_concurrency(c, &conc);

	if (rc == 0 && !ch)
		rc = cli_fail(c, VC_EFAIL, "out of memory");
	if (rc == 0)
		rc = vc_secret_may(&c->s, env, VC_SECRET_WRITE, &c->err);

	/* From here: a signal while the batch is read and checked stops it
	 * before anything is written, with a message. */
	if (!dry)
		catch_interrupts(old);
	if (rc == 0)
		rc = check_entries(c, kv, n);
	/* Against what vaultctl last wrote; the values it cannot vouch for
	 * are read (and audited) to compare. */
	if (rc == 0)
		rc = vc_secret_plan_changes(&c->s, env, kv, n, conc, dry, ch,
					    &c->err);
	if (rc == 0)
		rc = plan_batch(c, kv, n, ch, &add, &chg, &conflicts);
	/* A dry run reads the quota without taking its lock: it writes
	 * nothing.  The same rule either way (lib/plan.c). */
	if (rc == 0 && add && cli_opt(c, O_DRY_RUN))
		rc = vc_plan_check(&c->s, env, (long)add, &u, &c->err);
	else if (rc == 0 && add)
		rc = vc_secret_quota_check(&c->s, env, (long)add, &c->err);
	if (rc == VC_EQUOTA) {
		char msg[sizeof(c->err.msg)];

		snprintf(msg, sizeof(msg), "%s", c->err.msg);
		vc_err_set(&c->err, VC_EQUOTA, "%.180s; this batch adds %zu; "
			   "nothing was written", msg, add);
	}
	if (rc == 0 && dry)
		print_plan(c, kv, n, ch);
	else if (rc == 0)
		rc = apply_batch(c, env, kv, n, ch, reason);
	if (!dry)
		release_interrupts(old);
	vc_buf_release(&conflicts);
	free(ch);
	return rc;
}

static int read_input(struct cli *c, struct vc_buf *text)
{
	const char *file = cli_opt(c, O_FILE);

	return read_file(c, "--file", file && strcmp(file, "-") ? file : NULL,
			 64 * 1024 * 1024, text);
}

int cmd_import(struct cli *c)
{
	const char *fmt = cli_opt(c, O_FORMAT);
	struct vc_kvlist list = VC_KVLIST_INIT;
	struct vc_buf text = VC_BUF_INIT;
	struct vc_ref env;
	int rc = 0;

	text.secret = 1;
	if (cli_opt(c, O_OVERWRITE) && cli_opt(c, O_SKIP))
		rc = cli_fail(c, VC_EUSAGE, "--overwrite and --skip-existing "
			      "exclude each other");
	if (rc == 0 && fmt && strcmp(fmt, "dotenv") && strcmp(fmt, "json"))
		rc = cli_fail(c, VC_EUSAGE, "import reads dotenv or json, not "
			      "'%.40s'", fmt);
	if (rc == 0)
		rc = secret_ref(c, 0, 3, &env);
	if (rc == 0)
		rc = read_input(c, &text);
	if (rc == 0)
		rc = fmt && !strcmp(fmt, "json") ?
		     vc_json_import_parse(text.data ? text.data : "", text.len,
					  &list, &c->err) :
		     vc_dotenv_parse(text.data ? text.data : "", text.len, &list,
				     &c->err);
	if (rc == 0)
		rc = run_batch(c, &env, list.items, list.n, "import");
	vc_kvlist_free(&list);
	vc_buf_release(&text);
	if (rc < 0)
		return vc_err_prefix(&c->err, "cannot import into '%s'",
				     c->args[0]);
	return 0;
}

int cmd_copy(struct cli *c)
{
	struct vc_secret_set from = { NULL, 0, NULL };
	struct vc_kv *kv = NULL;
	struct vc_ref src, dst;
	int rc;

	/* Both references before any value is read (and audited). */
	rc = secret_ref(c, 0, 3, &src);
	if (rc == 0)
		rc = secret_ref(c, 1, 3, &dst);
	if (rc == 0 && !strcmp(src.env_id, dst.env_id))
		rc = cli_fail(c, VC_EUSAGE, "source and target are the same "
			      "environment");
	if (rc == 0)
		rc = secret_read_values(c, &src, &from, VC_READ_VALUES);
	if (rc == 0)
		rc = vc_secret_audit_reads(&c->s, &src, &from, &c->err);
	if (rc == 0 && !(kv = calloc(from.n + 1, sizeof(*kv))))
		rc = cli_fail(c, VC_EFAIL, "out of memory");
	for (size_t i = 0; rc == 0 && i < from.n; i++)
		kv[i] = (struct vc_kv){ from.v[i].name, from.v[i].value.data ?
			from.v[i].value.data : "", from.v[i].value.len };
	if (rc == 0)
		rc = run_batch(c, &dst, kv, from.n, "copy");
	free(kv);
	vc_secret_set_free(&from);
	if (rc < 0)
		return vc_err_prefix(&c->err, "cannot copy '%s' to '%s'",
				     c->args[0], c->args[1]);
	return 0;
}

/* diff -o json: {"a": REF, "b": REF, "equal": BOOL, "only_in_a": [...],
 * "only_in_b": [...], "differs": [...]}, and with --show-values
 * "values": {"NAME": {"a": "...", "b": "..."}} for the names that differ.
 * Names and references are identifiers (nothing to escape); values are
 * JSON-encoded by the json export, which refuses what JSON cannot carry
 * (invalid UTF-8, NUL) -- such a value is refused by name, exit 2. */
static int diff_json(struct cli *c, const struct vc_ref *ra,
		     const struct vc_ref *rb, const struct vc_secret_set *a,
		     const struct vc_secret_set *b, int show, int differ)
{
	struct vc_buf out = VC_BUF_INIT;
	const char *sep = "";
	int rc;

	out.secret = show;
	rc = vc_buf_printf(&out, "{\"a\":\"%s\",\"b\":\"%s\",\"equal\":%s,"
			   "\"only_in_a\":[", ra->text, rb->text,
			   differ ? "false" : "true");
	for (size_t i = 0; rc == 0 && i < a->n; i++)
		if (!find(b, a->v[i].name)) {
			rc = vc_buf_printf(&out, "%s\"%s\"", sep, a->v[i].name);
			sep = ",";
		}
	sep = "";
	if (rc == 0)
		rc = vc_buf_addstr(&out, "],\"only_in_b\":[");
	for (size_t i = 0; rc == 0 && i < b->n; i++)
		if (!find(a, b->v[i].name)) {
			rc = vc_buf_printf(&out, "%s\"%s\"", sep, b->v[i].name);
			sep = ",";
		}
	sep = "";
	if (rc == 0)
		rc = vc_buf_addstr(&out, "],\"differs\":[");
	for (size_t i = 0; rc == 0 && i < a->n; i++) {
		struct vc_kv kv = { a->v[i].name, a->v[i].value.data,
				    a->v[i].value.len };
		if (find(b, a->v[i].name) &&
		    classify(b, &kv) == VC_CHANGE_CHANGE) {
			rc = vc_buf_printf(&out, "%s\"%s\"", sep, a->v[i].name);
			sep = ",";
		}
	}
	if (rc == 0)
		rc = vc_buf_addch(&out, ']');
	if (rc == 0 && show) {
		sep = "";
		rc = vc_buf_addstr(&out, ",\"values\":{");
		for (size_t i = 0; rc == 0 && i < a->n; i++) {
			const struct vc_secret_val *o = find(b, a->v[i].name);
			struct vc_kv self = { a->v[i].name, a->v[i].value.data,
					      a->v[i].value.len };
			struct vc_kv kv[2] = {
				{ "a", a->v[i].value.data, a->v[i].value.len },
				{ "b", o ? o->value.data : NULL, o ? o->value.len : 0 },
			};
			if (!o || classify(b, &self) != VC_CHANGE_CHANGE)
				continue;
			rc = vc_buf_printf(&out, "%s\"%s\":", sep, a->v[i].name);
			sep = ",";
			if (rc == 0 && vc_format_export(VC_FMT_JSON, kv, 2, &out,
							&c->err) < 0) {
				vc_buf_release(&out);
				return cli_fail(c, VC_EUSAGE, "secret '%s': JSON "
						"cannot show its values (NUL byte or "
						"invalid UTF-8); use the text output",
						a->v[i].name);
			}
			/* The export ends its object with a newline. */
			out.len--;
		}
		if (rc == 0)
			rc = vc_buf_addch(&out, '}');
	}
	if (rc == 0)
		rc = vc_buf_addstr(&out, "}\n");
	if (rc < 0) {
		vc_buf_release(&out);
		return cli_fail(c, VC_EFAIL, "out of memory");
	}
	if (fwrite(out.data, 1, out.len, stdout) != out.len)
		rc = cli_fail(c, VC_EFAIL, "cannot write output: %s",
			      strerror(errno));
	vc_buf_release(&out);
	return rc;
}

/* diff exits 0 when equal, 1 when the environments differ. */
int cmd_diff(struct cli *c)
{
	struct vc_secret_set a = { NULL, 0, NULL }, b = { NULL, 0, NULL };
	struct vc_ref ra, rb;
	int show = cli_opt(c, O_SHOW_VALUES) != NULL, differ = 0;
	int json = c->out == VC_OUT_JSON || c->out == VC_OUT_JSONL;
	int rc;

	/* Both references before any value is read (and audited). */
	rc = secret_ref(c, 0, 3, &ra);
	if (rc == 0)
		rc = secret_ref(c, 1, 3, &rb);
	if (rc == 0)
		rc = secret_read_values(c, &ra, &a, VC_READ_VALUES);
	if (rc == 0)
		rc = secret_read_values(c, &rb, &b, VC_READ_VALUES);
	if (rc == 0)
		rc = vc_secret_audit_reads(&c->s, &ra, &a, &c->err);
	if (rc == 0)
		rc = vc_secret_audit_reads(&c->s, &rb, &b, &c->err);
	for (size_t i = 0; rc == 0 && i < a.n; i++) {
		struct vc_kv kv = { a.v[i].name, a.v[i].value.data, a.v[i].value.len };
		differ |= !find(&b, a.v[i].name) ||
			  classify(&b, &kv) == VC_CHANGE_CHANGE;
	}
	for (size_t i = 0; rc == 0 && i < b.n; i++)
		differ |= !find(&a, b.v[i].name);
	if (rc == 0 && json)
		rc = diff_json(c, &ra, &rb, &a, &b, show, differ);
	for (size_t i = 0; rc == 0 && !json && i < a.n; i++) {
		const struct vc_secret_val *o = find(&b, a.v[i].name);
		struct vc_kv kv = { a.v[i].name, a.v[i].value.data, a.v[i].value.len };
		if (!o) {
			printf("only in %s: %s\n", ra.text, a.v[i].name);
		} else if (classify(&b, &kv) == VC_CHANGE_CHANGE) {
			printf("differs: %s\n", a.v[i].name);
			if (show) {
				printf("  %s: ", ra.text);
				fwrite(a.v[i].value.data, 1, a.v[i].value.len, stdout);
				printf("\n  %s: ", rb.text);
				fwrite(o->value.data, 1, o->value.len, stdout);
				printf("\n");
			}
		}
	}
	for (size_t i = 0; rc == 0 && !json && i < b.n; i++)
		if (!find(&a, b.v[i].name))
			printf("only in %s: %s\n", rb.text, b.v[i].name);
	vc_secret_set_free(&a);
	vc_secret_set_free(&b);
	if (rc < 0)
		return vc_err_prefix(&c->err, "cannot compare '%s' and '%s'",
				     c->args[0], c->args[1]);
	c->status = differ;
	return 0;
}
