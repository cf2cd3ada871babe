/* vaultctl.h - the front command's parts. */
#ifndef VC_VAULTCTL_H
#define VC_VAULTCTL_H

/* Runs vaultctl-TOOL found beside this binary, then on PATH; returns
 * only when it could not be run. */
void vaultctl_exec_tool(const char *tool, char **argv);
int vaultctl_shell(void);

#endif
