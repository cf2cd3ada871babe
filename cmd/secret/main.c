/* vaultctl-secret - the secret lifecycle and scripting commands. */
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

#define U (NEED_USER | NEED_DB)
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
};

static const struct cli_tool tool = {
	"vaultctl-secret", "secrets: versions, exports and scripts", cmds,
	sizeof(cmds) / sizeof(cmds[0]),
};

int main(int argc, char **argv)
{
	return cli_main(&tool, argc, argv);
}
