/* The command table of vaultctl-secret - the secret lifecycle and scripting commands. */
#include "secretcmd.h"

#define END { NULL, 0, NULL, 0 }
static const struct option set_opts[] = {
	{ "description", required_argument, NULL, O_DESC },
	{ "from-file", required_argument, NULL, O_FROM_FILE },
	{ "reason", required_argument, NULL, O_REASON }, END,
};
static const struct option get_opts[] = {
	{ "version", required_argument, NULL, O_VERSION }, END,
};
static const struct option yes_opts[] = {
	{ "yes", no_argument, NULL, O_YES }, END,
};
static const struct option rollback_opts[] = {
	{ "to", required_argument, NULL, O_TO },
	{ "reason", required_argument, NULL, O_REASON }, END,
};
static const struct option rotate_opts[] = {
	{ "length", required_argument, NULL, O_LENGTH },
	{ "charset", required_argument, NULL, O_CHARSET },
	{ "show", no_argument, NULL, O_SHOW },
	{ "reason", required_argument, NULL, O_REASON }, END,
};

static const struct option export_opts[] = {
	{ "format", required_argument, NULL, O_FORMAT },
	{ "only", required_argument, NULL, O_ONLY },
	{ "concurrency", required_argument, NULL, O_CONCURRENCY }, END,
};
static const struct option import_opts[] = {
	{ "format", required_argument, NULL, O_FORMAT },
	{ "file", required_argument, NULL, O_FILE },
	{ "overwrite", no_argument, NULL, O_OVERWRITE },
	{ "skip-existing", no_argument, NULL, O_SKIP },
	{ "dry-run", no_argument, NULL, O_DRY_RUN }, END,
};
static const struct option run_opts[] = {
	{ "only", required_argument, NULL, O_ONLY },
	{ "pristine", no_argument, NULL, O_PRISTINE },
	{ "allow-name", required_argument, NULL, O_ALLOW_NAME },
	{ "concurrency", required_argument, NULL, O_CONCURRENCY }, END,
};
static const struct option diff_opts[] = {
	{ "show-values", no_argument, NULL, O_SHOW_VALUES },
	{ "concurrency", required_argument, NULL, O_CONCURRENCY }, END,
};
static const struct option copy_opts[] = {
	{ "only", required_argument, NULL, O_ONLY },
	{ "overwrite", no_argument, NULL, O_OVERWRITE },
	{ "dry-run", no_argument, NULL, O_DRY_RUN },
	{ "concurrency", required_argument, NULL, O_CONCURRENCY }, END,
};

#define U (NEED_USER | NEED_DB)
#define UB (U | NEED_BULK)       /* reads a whole environment */
static const struct cli_cmd cmds[] = {
	{ "set", cmd_set, "ORG/PROJECT/ENV/NAME [--description S] "
	  "[--from-file F] [--reason S]", U, "", set_opts, 1, 1,
	  "Write a new version; the value comes from standard input, "
	  "--from-file or a prompt, never from the command line." },
	{ "get", cmd_get, "ORG/PROJECT/ENV/NAME [--version N]", U, "",
	  get_opts, 1, 1, "Print exactly the stored bytes." },
	{ "list", cmd_list, "ORG/PROJECT/ENV", U, "", NULL, 1, 1,
	  "List secret names and metadata, never values." },
	{ "rm", cmd_rm, "ORG/PROJECT/ENV/NAME [--yes]", U, "", yes_opts, 1, 1,
	  "Soft-delete a secret (hidden, restorable)." },
	{ "restore", cmd_restore, "ORG/PROJECT/ENV/NAME", U, "", NULL, 1, 1,
	  "Restore a soft-deleted secret." },
	{ "purge", cmd_purge, "ORG/PROJECT/ENV/NAME [--yes]", U, "", yes_opts,
	  1, 1, "Destroy every version and the metadata." },
	{ "history", cmd_history, "ORG/PROJECT/ENV/NAME", U, "", NULL, 1, 1,
	  "Versions with time, author and state." },
	{ "rollback", cmd_rollback, "ORG/PROJECT/ENV/NAME --to N "
	  "[--reason S]", U, "", rollback_opts, 1, 1,
	  "Write version N's value as a new version." },
	{ "rotate", cmd_rotate, "ORG/PROJECT/ENV/NAME [--length N] "
	  "[--charset alnum|hex|base64|ascii] [--show]", U, "", rotate_opts,
	  1, 1, "Write a random new value." },
	{ "export", cmd_export, "ORG/PROJECT/ENV [--format sh|dotenv|json|yaml|"
	  "docker|env0] [--only K1,K2] [-O FILE] [--concurrency N]", UB, "O:",
	  export_opts, 1, 1, "Print the environment's secrets for a shell, "
	  "dotenv, JSON, YAML, docker or env -0." },
	{ "import", cmd_import, "ORG/PROJECT/ENV [--format dotenv|json] "
	  "[--file F] [--overwrite | --skip-existing] [--dry-run]", U, "",
	  import_opts, 1, 1, "Write many secrets at once, all or nothing." },
	{ "run", cmd_run, "ORG/PROJECT/ENV [--only K1,K2] [--pristine] "
	  "[--allow-name NAME]... -- COMMAND [ARGS...]", UB, "", run_opts, 2, -1,
	  "Run COMMAND with the secrets in its environment." },
	{ "diff", cmd_diff, "ORG/PROJECT/ENV ORG/PROJECT/ENV [--show-values]",
	  UB, "", diff_opts, 2, 2, "Compare two environments; exit 1 when they "
	  "differ." },
	{ "copy", cmd_copy, "FROM_ENV TO_ENV [--only K1,K2] [--overwrite] "
	  "[--dry-run]", UB, "", copy_opts, 2, 2,
	  "Copy secrets between environments, all or nothing." },
};

const struct cli_tool vc_tool_secret = {
	"vaultctl-secret", "secrets: versions, exports and scripts", cmds,
	sizeof(cmds) / sizeof(cmds[0]),
};

