/* The command table of vaultctl-secret - the secret lifecycle and scripting commands. */
#include "secretcmd.h"

#define END { NULL, 0, NULL, 0 }
static const struct option set_opts[] = {
	{ "description", required_argument, NULL, O_DESC },
	{ "from-file", required_argument, NULL, O_FROM_FILE },
	{ "reason", required_argument, NULL, O_REASON },
	{ "cas", required_argument, NULL, O_CAS }, END,
};
static const struct option get_opts[] = {
	{ "version", required_argument, NULL, O_VERSION }, END,
};
static const struct option yes_opts[] = {
	{ "yes", no_argument, NULL, O_YES }, END,
};
static const struct option destroy_opts[] = {
	{ "versions", required_argument, NULL, O_VERSIONS },
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
	{ "concurrency", required_argument, NULL, O_CONCURRENCY },
	{ "fallback", required_argument, NULL, O_FALLBACK },
	{ "fallback-max-age", required_argument, NULL, O_FALLBACK_MAX_AGE }, END,
};
static const struct option import_opts[] = {
	{ "format", required_argument, NULL, O_FORMAT },
	{ "file", required_argument, NULL, O_FILE },
	{ "overwrite", no_argument, NULL, O_OVERWRITE },
	{ "skip-existing", no_argument, NULL, O_SKIP },
	{ "dry-run", no_argument, NULL, O_DRY_RUN },
	{ "concurrency", required_argument, NULL, O_CONCURRENCY }, END,
};
static const struct option run_opts[] = {
	{ "only", required_argument, NULL, O_ONLY },
	{ "pristine", no_argument, NULL, O_PRISTINE },
	{ "preserve-env", no_argument, NULL, O_PRESERVE_ENV },
	{ "watch", no_argument, NULL, O_WATCH },
	{ "interval", required_argument, NULL, O_INTERVAL },
	{ "signal", required_argument, NULL, O_SIGNAL },
	{ "allow-name", required_argument, NULL, O_ALLOW_NAME },
	{ "concurrency", required_argument, NULL, O_CONCURRENCY },
	{ "fallback", required_argument, NULL, O_FALLBACK },
	{ "fallback-max-age", required_argument, NULL, O_FALLBACK_MAX_AGE }, END,
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
static const struct option restore_env_opts[] = {
	{ "at", required_argument, NULL, O_AT },
	{ "dry-run", no_argument, NULL, O_DRY_RUN },
	{ "yes", no_argument, NULL, O_YES }, END,
};

#define U (NEED_USER | NEED_DB)
#define UB (U | NEED_BULK)       /* reads a whole environment */
static const struct cli_cmd cmds[] = {
	{ .name = "set", .run = cmd_set, .needs = U,
	  .usage = "ORG/PROJECT/ENV/NAME [--description S] [--from-file F] "
	           "[--reason S] [--cas N]",
	  .longopts = set_opts, .nargs = { 1, 1 },
	  .summary = "Write a new version; the value comes from standard "
	             "input, --from-file or a prompt, never from the command "
	             "line." },
	{ .name = "get", .run = cmd_get, .needs = U,
	  .usage = "ORG/PROJECT/ENV/NAME [--version N]", .longopts = get_opts,
	  .nargs = { 1, 1 }, .summary = "Print exactly the stored bytes." },
	{ .name = "list", .run = cmd_list, .needs = U,
	  .usage = "ORG/PROJECT/ENV", .nargs = { 1, 1 },
	  .summary = "List secret names and metadata, never values." },
	{ .name = "rm", .run = cmd_rm, .needs = U,
	  .usage = "ORG/PROJECT/ENV/NAME [--yes]", .longopts = yes_opts,
	  .nargs = { 1, 1 },
	  .summary = "Soft-delete a secret (hidden, restorable)." },
	{ .name = "restore", .run = cmd_restore, .needs = U,
	  .usage = "ORG/PROJECT/ENV/NAME", .nargs = { 1, 1 },
	  .summary = "Restore a soft-deleted secret." },
	{ .name = "purge", .run = cmd_purge, .needs = U,
	  .usage = "ORG/PROJECT/ENV/NAME [--yes]", .longopts = yes_opts,
	  .nargs = { 1, 1 },
	  .summary = "Destroy every version and the metadata." },
	{ .name = "destroy", .run = cmd_destroy, .needs = U,
	  .usage = "ORG/PROJECT/ENV/NAME --versions N[,N...] [--yes]",
	  .longopts = destroy_opts, .nargs = { 1, 1 },
	  .summary = "Destroy those versions' values for good." },
	{ .name = "history", .run = cmd_history, .needs = U,
	  .usage = "ORG/PROJECT/ENV/NAME", .nargs = { 1, 1 },
	  .summary = "Versions with time, author and state." },
	{ .name = "rollback", .run = cmd_rollback, .needs = U,
	  .usage = "ORG/PROJECT/ENV/NAME --to N [--reason S]",
	  .longopts = rollback_opts, .nargs = { 1, 1 },
	  .summary = "Write version N's value as a new version." },
	{ .name = "rotate", .run = cmd_rotate, .needs = U,
	  .usage = "ORG/PROJECT/ENV/NAME [--length N] [--charset "
	           "alnum|hex|base64|ascii] [--show]",
	  .longopts = rotate_opts, .nargs = { 1, 1 },
	  .summary = "Write a random new value." },
	{ .name = "export", .run = cmd_export, .needs = UB | NEED_OFFLINE,
	  .usage = "ORG/PROJECT/ENV [ORG/PROJECT/ENV...] [--format "
	           "sh|dotenv|json|yaml|docker|env0] [--only K1,K2] [-O FILE] "
	           "[--concurrency N] [--fallback FILE [--fallback-max-age D]]",
	  .shortopts = "O:", .longopts = export_opts, .nargs = { 1, -1 },
	  .summary = "Print the environment's secrets for a shell, dotenv, "
	             "JSON, YAML, docker or env -0." },
	{ .name = "import", .run = cmd_import, .needs = UB,
	  .usage = "ORG/PROJECT/ENV [--format dotenv|json] [--file F] "
	           "[--overwrite | --skip-existing] [--dry-run] "
	           "[--concurrency N]",
	  .longopts = import_opts, .nargs = { 1, 1 },
	  .summary = "Write many secrets at once, all or nothing." },
	{ .name = "run", .run = cmd_run, .needs = UB | NEED_OFFLINE,
	  .usage = "ORG/PROJECT/ENV [ORG/PROJECT/ENV...] [--only K1,K2] "
	           "[--pristine | --preserve-env] [--allow-name NAME]... "
	           "[--fallback FILE [--fallback-max-age D]] "
	           "[--watch [--interval D] [--signal SIG]] "
	           "-- COMMAND [ARGS...]",
	  .longopts = run_opts, .nargs = { 2, -1 },
	  .summary = "Run COMMAND with the secrets in its environment." },
	{ .name = "diff", .run = cmd_diff, .needs = UB,
	  .usage = "ORG/PROJECT/ENV ORG/PROJECT/ENV [--show-values]",
	  .longopts = diff_opts, .nargs = { 2, 2 },
	  .summary = "Compare two environments; exit 1 when they differ." },
	{ .name = "copy", .run = cmd_copy, .needs = UB,
	  .usage = "FROM_ENV TO_ENV [--only K1,K2] [--overwrite] [--dry-run]",
	  .longopts = copy_opts, .nargs = { 2, 2 },
	  .summary = "Copy secrets between environments, all or nothing." },
	{ .name = "restore-env", .run = cmd_restore_env, .needs = U,
	  .usage = "ORG/PROJECT/ENV --at TIME [--dry-run] [--yes]",
	  .longopts = restore_env_opts, .nargs = { 1, 1 },
	  .summary = "Put every secret of the environment back as it was at "
	             "TIME (ISO 8601, or an age such as 2h)." },
	{ .name = "inject", .run = cmd_inject, .needs = UB,
	  .usage = "[-i TEMPLATE] [-o FILE]", .shortopts = "i:o:",
	  .summary = "Copy a template with every {{ vaultctl://ORG/PROJECT/"
	             "ENV/NAME [| raw|json|yaml|sh] }} replaced by the value." },
	{ .name = "rekey", .run = cmd_rekey, .needs = U, .usage = "[--yes]",
	  .longopts = yes_opts,
	  .summary = "Local store: a new master key, every value re-sealed "
	             "under it." },
};

const struct cli_tool vc_tool_secret = {
	.prog = "vaultctl-secret", .cmds = cmds, .ncmds = ARRAY_SIZE(cmds),
};

