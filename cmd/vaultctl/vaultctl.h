/* vaultctl.h - the front command's parts. */
#ifndef VC_VAULTCTL_H
#define VC_VAULTCTL_H

struct vc_session;

/* Runs vaultctl-TOOL found beside this binary, then on PATH; returns
 * only when it could not be run. */
void vaultctl_exec_tool(const char *tool, char **argv);
int vaultctl_shell(void);
/* In the worker (worker.c): runs one command line, argv[0] the tool's
 * program name, over the worker's session; returns its exit status. */
int vaultctl_shell_exec(int argc, char **argv, struct vc_session *s);

/* worker.c: the shell's commands run in a child process that keeps the
 * connections between commands and dies alone on Ctrl-C.  Each returns
 * the command's exit status (130 when interrupted). */
int vaultctl_worker_run(int argc, char **argv);
void vaultctl_worker_stop(void);
/* `secret run`: vaultctl-secret in the foreground, as a shell runs it. */
int vaultctl_run_child(char **argv);
/* How SIGINT, SIGPIPE, SIGWINCH, SIGTSTP and the signal mask were when
 * the shell started: saved before it sets its own, given back to the
 * programs it starts. */
void vaultctl_signals_save(void);
void vaultctl_signals_restore(void);
/* Whether the shell was started with sig ignored (then it stays so). */
int vaultctl_signal_ignored(int sig);

#endif
