/* cli.c - the dispatcher: global options, command lookup, set-up of what
 * the command needs, and the mapping of errors to messages and exit codes. */
#include "cli.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "host.h"
#include "prompt.h"
#include "store.h"

static const struct option global_long[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ "config", required_argument, NULL, 'c' },
	{ "as", required_argument, NULL, OPT_AS },
	{ "output", required_argument, NULL, 'o' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "no-color", no_argument, NULL, OPT_NO_COLOR },
	{ "list-commands", no_argument, NULL, OPT_LIST_COMMANDS },
};
#define NGLOBAL ARRAY_SIZE(global_long)
static const char global_short[] = "hVc:o:qv";

/* Secrets must not end up in a core file (doc/architecture.md, section 8). */
void cli_harden(void)
{
	struct rlimit no = { 0, 0 };

	setrlimit(RLIMIT_CORE, &no);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

const char *cli_opt(const struct cli *c, int opt)
{
	return opt >= 0 && opt < MAX_OPT ? c->opt[opt] : NULL;
}

const char **cli_opt_all(const struct cli *c, int opt)
{
	const char **v = calloc((size_t)c->noptv + 1, sizeof(*v));
	size_t n = 0;

	for (int i = 0; v && i < c->noptv; i++)
		if (c->optv[i].opt == opt)
			v[n++] = c->optv[i].val;
	return v;
}

int cli_fail(struct cli *c, int code, const char *fmt, ...)
{
	va_list ap;

	c->err.code = code;
	va_start(ap, fmt);
	vsnprintf(c->err.msg, sizeof(c->err.msg), fmt, ap);
	va_end(ap);
	return code;
}

void cli_note(struct cli *c, const char *fmt, ...)
{
	va_list ap;

	if (c->quiet)
		return;
	fprintf(stderr, "%s: ", c->tool->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Notes from lib/ (a skipped database host, Vault retrying) are shown
 * with -v, or on a terminal, where a wait should never look like a hang;
 * its warnings always, -q or not. */
static void notify_filtered(void *ctx, const char *line)
{
	struct cli *c = ctx;

	if (!strncmp(line, VC_NOTE_WARNING, strlen(VC_NOTE_WARNING)))
		fprintf(stderr, "%s: %s\n", c->tool->prog, line);
	else if (c->verbose || isatty(STDERR_FILENO))
		cli_note(c, "%s", line);
}

int cli_print_table(struct cli *c, const struct vc_table *t, int single)
{
	struct vc_buf b = VC_BUF_INIT;
	int rc = vc_table_render(t, c->out, single, &b);

	if (rc == 0 && b.len && fwrite(b.data, 1, b.len, stdout) != b.len)
		rc = cli_fail(c, VC_EFAIL, "cannot write output: %s",
			      strerror(errno));
	vc_buf_release(&b);
	return rc;
}

int cli_print_res(struct cli *c, const struct vc_col *cols, size_t ncols,
		  const struct vc_res *r, int single)
{
	const char *row[64];
	struct vc_table t;
	int rc = 0;

	if (ncols > ARRAY_SIZE(row) || ncols > vc_res_cols(r))
		return cli_fail(c, VC_EFAIL, "a listing has more columns than its "
				"query");
	vc_table_init(&t, cols, ncols);
	for (size_t i = 0; i < vc_res_rows(r) && rc == 0; i++) {
		for (size_t k = 0; k < ncols; k++)
			row[k] = vc_res_get(r, i, k, NULL);
		if (vc_table_add(&t, row) < 0)
			rc = cli_fail(c, VC_EFAIL, "out of memory");
	}
	if (rc == 0)
		rc = cli_print_table(c, &t, single);
	vc_table_release(&t);
	return rc;
}

int cli_uint(struct cli *c, const char *name, const char *v, long max,
	     long *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || !*v || *end || n < 0 || n > max || *v == '+' || *v == ' ')
		return cli_fail(c, VC_EUSAGE, "%s must be a whole number from 0 "
				"to %ld, not '%.40s'", name, max, v);
	*out = n;
	return 0;
}

int cli_confirm(struct cli *c, int yes, const char *fmt, ...)
{
	char q[512];
	va_list ap;

	if (yes)
		return 0;
	va_start(ap, fmt);
	vsnprintf(q, sizeof(q), fmt, ap);
	va_end(ap);
	if (!isatty(STDIN_FILENO) || !isatty(STDERR_FILENO))
		return cli_fail(c, VC_EUSAGE, "%s: refusing without --yes "
				"(not on a terminal)", q);
	if (!prompt_yes_no(q))
		return cli_fail(c, VC_EINTR, "not confirmed; nothing changed");
	return 0;
}

#define CLI_TOOL_ROW_(tool, summary) { #tool, summary },
const struct cli_tool_info cli_tools[] = { VC_TOOLS(CLI_TOOL_ROW_) };
const size_t cli_ntools = ARRAY_SIZE(cli_tools);

const char *cli_tool_summary(const char *name)
{
	for (size_t i = 0; i < cli_ntools; i++)
		if (!strcmp(cli_tools[i].name, name))
			return cli_tools[i].summary;
	return NULL;
}

/* " USAGE" after a command's name, or nothing when it takes nothing. */
static const char *usage_of(const struct cli_cmd *cmd, const char **sep)
{
	*sep = cmd->usage ? " " : "";
	return cmd->usage ? cmd->usage : "";
}

static void usage_line(FILE *f, const struct cli_tool *t,
		       const struct cli_cmd *cmd)
{
	const char *sep, *usage = usage_of(cmd, &sep);

	fprintf(f, "  %s %s%s%s\n", t->prog, cmd->name, sep, usage);
}

static void print_help(FILE *f, const struct cli_tool *t,
		       const struct cli_cmd *cmd)
{
	if (cmd) {
		fprintf(f, "usage:\n");
		usage_line(f, t, cmd);
		fprintf(f, "\n%s\n", cmd->summary);
	} else {
		fprintf(f, "%s - %s\n\nusage: %s [OPTIONS] COMMAND [ARGS]\n\n"
			"commands:\n", t->prog, cli_tool_summary(t->prog + 9),
			t->prog);
		for (size_t i = 0; i < t->ncmds; i++)
			usage_line(f, t, &t->cmds[i]);
	}
	fprintf(f, "\noptions: -h/--help  -V/--version  -c/--config FILE  "
		"--as EMAIL\n  -o/--output table|json|tsv  -q/--quiet  "
		"-v/--verbose  --no-color\n\nSee %s(1).\n", t->prog);
}

static int global_takes_arg(const char *a)
{
	static const char *const with_arg[] = { "-c", "-o", "--config",
						"--as", "--output" };

	for (size_t i = 0; i < ARRAY_SIZE(with_arg); i++)
		if (!strcmp(a, with_arg[i]))
			return 1;
	return 0;
}

/* Finds the command words (one or two) among argv, skipping global
 * options that may come first; returns the index of the first word. */
static const struct cli_cmd *find_cmd(const struct cli_tool *t, int argc,
				      char **argv, int *at, int *words)
{
	int i = 1;

	while (i < argc && argv[i][0] == '-' && strcmp(argv[i], "--"))
		i += global_takes_arg(argv[i]) ? 2 : 1;
	*at = i;
	if (i >= argc)
		return NULL;
	for (size_t k = 0; k < t->ncmds; k++) {
		const char *n = t->cmds[k].name, *sp = strchr(n, ' ');
		if (sp && i + 1 < argc && !strncmp(n, argv[i], (size_t)(sp - n)) &&
		    argv[i][sp - n] == '\0' && !strcmp(sp + 1, argv[i + 1])) {
			*words = 2;
			return &t->cmds[k];
		}
	}
	for (size_t k = 0; k < t->ncmds; k++)
		if (!strcmp(t->cmds[k].name, argv[i])) {
			*words = 1;
			return &t->cmds[k];
		}
	return NULL;
}

static size_t count_long(const struct option *o)
{
	size_t n = 0;

	while (o && o[n].name)
		n++;
	return n;
}

static int global_opt(struct cli *c, int ch, const char *arg)
{
	switch (ch) {
	case 'c': c->config = arg; return 1;
	case OPT_AS: c->as = arg; return 1;
	case 'q': c->quiet = 1; return 1;
	case 'v': c->verbose = 1; return 1;
	case OPT_NO_COLOR: c->color = 0; return 1;
	case 'o':
		c->out_set = 1;
		if (vc_out_parse(arg, &c->out, &c->err) < 0)
			return -1;
		return 1;
	default: return 0;
	}
}

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* "--yes=1": getopt_long says '?' as for an unknown option; the name is
 * known (exactly or as the unique prefix getopt accepts), it only takes
 * no value. */
static const char *flag_with_value(const struct option *lo, const char *arg)
{
	size_t n = strcspn(arg, "=");
	const struct option *hit = NULL;

	if (strncmp(arg, "--", 2) || !arg[n] || n <= 2)
		return NULL;
	for (; lo->name; lo++) {
		if (strncmp(lo->name, arg + 2, n - 2))
			continue;
		if (strlen(lo->name) == n - 2) {
			hit = lo;
			break;
		}
		if (hit)
			return NULL;    /* ambiguous */
		hit = lo;
	}
	return hit && hit->has_arg == no_argument ? hit->name : NULL;
}

/* Parses options and positional arguments of the command (argv without
 * the command words).  Returns 0, 1 when help/version was printed, or a
 * VC_E* code. */
static int parse_opts(struct cli *c, int argc, char **argv)
{
	struct option lo[NGLOBAL + 64];
	char so[128];
	size_t n = count_long(c->cmd ? c->cmd->longopts : NULL);
	const char *flag;
	int ch, rc;

	if (n > 63)
		return cli_fail(c, VC_EFAIL, "too many options");
	/* The command's options come first: getopt_long takes the first
	 * exact match, so `get --version N` is get's, not the global -V. */
	if (n)
		memcpy(lo, c->cmd->longopts, n * sizeof(*lo));
	memcpy(lo + n, global_long, sizeof(global_long));
	memset(&lo[NGLOBAL + n], 0, sizeof(*lo));
	snprintf(so, sizeof(so), "+:%s%s", global_short,
		 c->cmd && c->cmd->shortopts ? c->cmd->shortopts : "");
	/* '+' stops at the first positional: option order is free only
	 * before it, except that we restart after each positional below. */
	optind = 1;
	opterr = 0;
	c->ndash = -1;
	c->args = calloc((size_t)argc + 1, sizeof(char *));
	c->optv = calloc((size_t)argc + 1, sizeof(*c->optv));
	if (!c->args || !c->optv)
		return cli_fail(c, VC_EFAIL, "out of memory");
	while (optind < argc) {
		if (!strcmp(argv[optind], "--")) {
			c->ndash = c->nargs;
			for (optind++; optind < argc; optind++)
				c->args[c->nargs++] = argv[optind];
			break;
		}
		if (argv[optind][0] != '-' || !argv[optind][1]) {
			c->args[c->nargs++] = argv[optind++];
			continue;
		}
		ch = getopt_long(argc, argv, so, lo, NULL);
		if (ch == -1)
			continue;
		if (ch == '?' && (flag = flag_with_value(lo, argv[optind - 1])))
			return cli_fail(c, VC_EUSAGE, "option '--%s' takes no "
					"value", flag);
		/* Only the name: "--value=..." may carry what must not be
		 * repeated (a value typed on the command line). */
		if (ch == '?' || ch == ':')
			return cli_fail(c, VC_EUSAGE, "%s '%.*s'",
					ch == ':' ? "missing value for option"
						  : "unknown option",
					(int)min_size(strcspn(argv[optind - 1], "="),
						      64), argv[optind - 1]);
		if (ch == 'h' || ch == 'V')
			return ch;
		if (ch == OPT_LIST_COMMANDS)
			return ch;
		/* A command's own short option wins over a global one of
		 * the same letter (inject -o FILE). */
		rc = c->cmd && c->cmd->shortopts && ch > 0 && ch < 0x80 &&
		     strchr(c->cmd->shortopts, ch) ? 0 :
		     global_opt(c, ch, optarg);
		if (rc < 0)
			return c->err.code;
		if (rc == 0 && ch >= 0 && ch < MAX_OPT) {
			c->opt[ch] = optarg ? optarg : "";
			c->optv[c->noptv++] = (struct cli_optval){ ch, c->opt[ch] };
		}
	}
	return 0;
}

static int check_args(struct cli *c)
{
	const struct cli_cmd *cmd = c->cmd;
	const char *sep, *usage = usage_of(cmd, &sep);

	if (c->nargs < cmd->nargs.min)
		return cli_fail(c, VC_EUSAGE, "%s: missing argument (usage: %s%s%s)",
				cmd->name, cmd->name, sep, usage);
	if (cmd->nargs.max >= 0 && c->nargs > cmd->nargs.max)
		/* The argument is not repeated: it may be a value typed on
		 * the command line by mistake. */
		return cli_fail(c, VC_EUSAGE, "%s: too many arguments (%d "
				"expected)", cmd->name, cmd->nargs.max);
	return 0;
}

static int acting_user(struct cli *c)
{
	struct vc_buf pw = VC_BUF_INIT;
	int rc = vc_session_actor(&c->s, c->as, c->cmd->needs & NEED_FIRST ?
				  VC_ACTOR_FIRST : 0, &c->err);

	if (rc < 0 || !vc_session_wants_password(&c->s))
		return rc;
	pw.secret = 1;
	rc = prompt_password_for(c, vc_session_prover(&c->s), &pw);
	if (rc == 0)
		rc = vc_session_check_password(&c->s, vc_session_prover(&c->s),
					       pw.data, &c->err);
	vc_buf_release(&pw);
	return rc;
}

static int open_needs(struct cli *c)
{
	unsigned need = c->cmd->needs;
	struct vc_db *db;
	struct vc_store *st;
	int rc = 0;

	if (need & (NEED_CONF | NEED_DB | NEED_STORE | NEED_USER | NEED_ADMIN |
		    NEED_MON))
		rc = vc_session_load_conf(&c->s, c->config, &c->err);
	if (rc == 0 && (need & (NEED_DB | NEED_USER | NEED_STORE)))
		rc = vc_session_db(&c->s, VC_DB_METADATA, &db, &c->err);
	/* After the connection: libmariadb's set-up loads NSS modules, and
	 * two loads at once take turns. */
	if (rc == 0 && (need & NEED_BULK))
		vc_session_preload(&c->s);
	if (rc == 0 && (need & NEED_USER))
		rc = acting_user(c);
	if (rc == 0 && (need & NEED_ADMIN))
		rc = vc_session_db(&c->s, VC_DB_ADMIN, &db, &c->err);
	if (rc == 0 && (need & NEED_MON))
		rc = vc_session_db(&c->s, VC_DB_MONITORING, &db, &c->err);
	if (rc == 0 && (need & NEED_STORE))
		rc = vc_session_store(&c->s, &st, &c->err);
	return rc;
}

static void print_error(struct cli *c)
{
	cJSON *o, *e;
	char *s;

	if (c->out == VC_OUT_JSON || c->out == VC_OUT_JSONL) {
		o = cJSON_CreateObject();
		e = cJSON_AddObjectToObject(o, "error");
		cJSON_AddStringToObject(e, "code", vc_err_name(c->err.code));
		cJSON_AddStringToObject(e, "message", c->err.msg);
		cJSON_AddNumberToObject(e, "exit", vc_err_exit(c->err.code));
		s = cJSON_PrintUnformatted(o);
		if (s)
			fprintf(stderr, "%s\n", s);
		free(s);
		cJSON_Delete(o);
		return;
	}
	fprintf(stderr, "%s: %s\n", c->tool->prog, c->err.msg);
}

static void print_usage(struct cli *c)
{
	const char *sep, *usage = usage_of(c->cmd, &sep);

	fprintf(stderr, "usage: %s %s%s%s\n", c->tool->prog, c->cmd->name, sep,
		usage);
}

static int list_commands(const struct cli_tool *t)
{
	for (size_t i = 0; i < t->ncmds; i++) {
		const struct option *o = t->cmds[i].longopts;
		printf("%s", t->cmds[i].name);
		for (; o && o->name; o++)
			printf(" --%s", o->name);
		printf("\n");
	}
	return 0;
}

static int finish(struct cli *c, int rc, int ran)
{
	struct vc_session *shared = c->shared;

	if (rc < 0) {
		if (!c->err.msg[0])
			vc_err_set(&c->err, rc, "failed");
		c->err.code = rc;
		if (!c->silent)
			print_error(c);
		/* Usage is shown for a wrong command line, not for bad data. */
		if (rc == VC_EUSAGE && c->cmd && !ran && !c->silent &&
		    !strstr(c->err.msg, "usage"))
			print_usage(c);
	}
	if (fflush(stdout) != 0 && rc == 0) {
		fprintf(stderr, "%s: cannot write output: %s\n",
			c->tool->prog, strerror(errno));
		rc = VC_EFAIL;
	}
	vc_session_end_command(&c->s, rc);
	/* In the shell the connections outlive the command. */
	if (shared)
		*shared = c->s;
	else
		vc_session_close(&c->s);
	free(c->args);
	free(c->optv);
	return rc == 0 && c->status ? c->status : vc_err_exit(rc);
}

/* "stats" alone, or "stats frob": name the words that may follow. */
static int unknown_cmd(struct cli *c)
{
	const struct cli_tool *t = c->tool;
	const char *w = c->args[0];
	size_t n = strlen(w);
	char subs[256] = "";

	for (size_t k = 0; k < t->ncmds; k++) {
		const char *name = t->cmds[k].name;
		if (!strncmp(name, w, n) && name[n] == ' ')
			snprintf(subs + strlen(subs), sizeof(subs) - strlen(subs),
				 "%s%s", subs[0] ? ", " : "", name + n + 1);
	}
	if (!subs[0])
		return cli_fail(c, VC_EUSAGE, "unknown command '%.64s' (see %s "
				"--help)", w, t->prog);
	if (c->nargs < 2)
		return cli_fail(c, VC_EUSAGE, "'%.64s' needs a subcommand: %s (see "
				"%s --help)", w, subs, t->prog);
	return cli_fail(c, VC_EUSAGE, "unknown command '%.64s %.64s' ('%s' "
			"takes %s)", w, c->args[1], w, subs);
}

int cli_main(const struct cli_tool *tool, int argc, char **argv)
{
	return cli_run(tool, argc, argv, NULL);
}

int cli_run(const struct cli_tool *tool, int argc, char **argv,
	    struct vc_session *shared)
{
	static struct cli c;
	int at = 1, words = 0, rc;

	cli_harden();
	memset(&c, 0, sizeof(c));
	c.tool = tool;
	c.color = !getenv("NO_COLOR") && isatty(STDOUT_FILENO);
	c.shared = shared;
	if (shared)
		c.s = *shared;
	else
		vc_session_init(&c.s, tool->prog);
	c.s.notify_ctx = &c;
	/* First, before a library reads the environment (lib/host.h). */
	if (!shared && (rc = vc_host_init(&c.err)) < 0)
		return finish(&c, rc, 0);
	c.cmd = find_cmd(tool, argc, argv, &at, &words);
	if (c.cmd) {
		/* Drop the command words; what is left parses as one list. */
		memmove(&argv[at], &argv[at + words],
			(size_t)(argc - at - words + 1) * sizeof(char *));
		argc -= words;
	}
	rc = parse_opts(&c, argc, argv);
	if (rc == 'h' || (!c.cmd && rc == 0 && c.nargs == 0 && argc == 1)) {
		print_help(rc == 'h' ? stdout : stderr, tool, c.cmd);
		return finish(&c, rc == 'h' ? 0 : cli_fail(&c, VC_EUSAGE,
			      "a command is required"), 0);
	}
	if (rc == 'V') {
		printf("%s %s\n", tool->prog, VC_VERSION);
		return finish(&c, 0, 0);
	}
	if (rc == OPT_LIST_COMMANDS)
		return finish(&c, list_commands(tool), 0);
	if (rc == 0 && !c.cmd && c.nargs)
		rc = unknown_cmd(&c);
	else if (rc == 0 && !c.cmd)
		rc = cli_fail(&c, VC_EUSAGE, "a command is required (see %s "
			      "--help)", tool->prog);
	c.s.verbose = c.verbose;
	c.s.notify = notify_filtered;
	if (rc == 0)
		rc = check_args(&c);
	/* From here on an error is about data or servers, not the command
	 * line: no usage reminder. */
	if (rc == 0) {
		vc_session_set_command(&c.s, tool->prog, c.cmd->name);
		rc = open_needs(&c);
		if (rc == VC_EUNAVAIL && (c.cmd->needs & NEED_OFFLINE)) {
			c.offline = rc;
			rc = 0;
		}
		return finish(&c, rc ? rc : c.cmd->run(&c), 1);
	}
	return finish(&c, rc, 0);
}
