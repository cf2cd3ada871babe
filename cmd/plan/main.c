/* vaultctl-plan: the command table is in table.c, shared with the
 * in-process `vaultctl shell`. */
#include "cli.h"

int main(int argc, char **argv)
{
	return cli_main(&vc_tool_plan, argc, argv);
}
