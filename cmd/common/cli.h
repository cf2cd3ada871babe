/* cli.h - the dispatcher shared by every binary: one command table per
 * tool, global options, what a command needs opened, errors -> exit codes.
 * This is the only layer that prints. */
#ifndef VC_CLI_H
#define VC_CLI_H

#include <getopt.h>
#include <stdio.h>

#include "output.h"
#include "session.h"
#include "tools.h"
#include "vc.h"

/* What the dispatcher opens before the handler runs. */
enum {
	NEED_CONF = 1 << 0,     /* the configuration file */
	NEED_DB = 1 << 1,       /* metadata connection (implies CONF) */
	NEED_STORE = 1 << 2,    /* value store (implies DB) */
	NEED_USER = 1 << 3,     /* acting user resolved (implies DB) */
	NEED_ADMIN = 1 << 4,    /* administrative connection */
	NEED_MON = 1 << 5,      /* monitoring connection */
	/* reads many values: with Vault, its HTTP library loads meanwhile */
	NEED_BULK = 1 << 6,
	/* with NEED_USER: none while the users table is empty (the first
	   user is being added) */
	NEED_FIRST = 1 << 7,
	/* the handler runs even when the database is unavailable (c->offline
	   holds the error): it may have a snapshot to serve (--fallback) */
	NEED_OFFLINE = 1 << 8,
};

/* Option values beyond ASCII, for long options without a short one. */
enum { OPT_AS = 0x100, OPT_NO_COLOR, OPT_LIST_COMMANDS, OPT_FIRST_LONG };

struct cli;

/* A command of a tool's table, written with designated initializers:
 * what is left out is none (no options, no arguments). */
struct cli_cmd {
	const char *name;       /* "get", or two words: "user add" */
	int (*run)(struct cli *c);
	unsigned needs;
	const char *usage;      /* after the name */
	const char *shortopts;  /* the command's own, getopt style */
	const struct option *longopts;
	struct {
		int min, max;   /* positional arguments; max -1 = any */
	} nargs;
	const char *summary;
};

/* What the tool is for comes from tools.h. */
struct cli_tool {
	const char *prog;       /* "vaultctl-secret" */
	const struct cli_cmd *cmds;
	size_t ncmds;
};

#define MAX_OPT 0x200

struct cli {
	const struct cli_tool *tool;
	const struct cli_cmd *cmd;
	struct vc_session s;
	struct vc_err err;
	enum vc_out_fmt out;
	int out_set;            /* -o given explicitly */
	int quiet, verbose, color;
	const char *config, *as;
	const char *opt[MAX_OPT];       /* the command's options, last wins */
	struct cli_optval { int opt; const char *val; } *optv;
	int noptv;                      /* every one given, in order */
	int nargs;
	char **args;
	int ndash;              /* arguments before "--"; -1: no "--" */
	int status;             /* exit status of a success that is not 0
				   (diff: the environments differ) */
	struct vc_session *shared;      /* the shell's, kept open */
	int silent;             /* the exit status says it all (check -q):
				   no error message */
	int offline;            /* NEED_OFFLINE: VC_EUNAVAIL opening what the
				   command needs (c->err says why), or 0 */
};

int cli_main(const struct cli_tool *tool, int argc, char **argv);
/* No core file, not dumpable: done by cli_run; the shell's own process
 * holds credentials too (completion). */
void cli_harden(void);
/* Runs one command line over a session that stays open (vaultctl shell);
 * returns the exit status the command would have had. */
int cli_run(const struct cli_tool *tool, int argc, char **argv,
	    struct vc_session *shared);

/* The tools' command tables (cmd/<tool>/table.c). */
#define CLI_TOOL_EXTERN_(name, summary) \
	extern const struct cli_tool vc_tool_##name;
VC_TOOLS(CLI_TOOL_EXTERN_)
/* The tools of the suite, from tools.h, in its order. */
struct cli_tool_info {
	const char *name;       /* "org" */
	const char *summary;    /* what it is for */
};
extern const struct cli_tool_info cli_tools[];
extern const size_t cli_ntools;
/* What a tool is for, by its name ("org"); NULL for an unknown one. */
const char *cli_tool_summary(const char *name);

/* The command's option value (NULL when not given; "" for flags). */
const char *cli_opt(const struct cli *c, int opt);
/* Every value of a repeatable option, in order, NULL-terminated; free()
 * the array.  NULL when memory ran out. */
const char **cli_opt_all(const struct cli *c, int opt);
/* Prints a rendered table on stdout. */
int cli_print_table(struct cli *c, const struct vc_table *t, int single);
/* Prints the first ncols columns of a query result as a table. */
struct vc_res;
int cli_print_res(struct cli *c, const struct vc_col *cols, size_t ncols,
		  const struct vc_res *r, int single);
/* Sets c->err with code, message; returns code. */
int cli_fail(struct cli *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A note for the user on stderr (suppressed by -q). */
void cli_note(struct cli *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Asks yes/no on the terminal; without a terminal, refuses unless --yes.
 * Returns 0 to go on or a VC_E* code. */
int cli_confirm(struct cli *c, int yes, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Parses a non-negative integer option; VC_EUSAGE naming it when bad. */
int cli_uint(struct cli *c, const char *name, const char *v, long max,
	     long *out);

#endif
