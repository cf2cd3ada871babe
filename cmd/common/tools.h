/* tools.h - the tools of the suite, one line each: its name (bin/vaultctl-
 * NAME) and what it is for.  The only list of them: the front command and
 * its shell expand VC_TOOLS, each tool's help finds its line here, and the
 * Makefile reads the names with sed (the lines that start with VC_TOOL). */
#ifndef VC_TOOLS_H
#define VC_TOOLS_H

#define VC_TOOLS(VC_TOOL) \
	VC_TOOL(org, "users, organizations, members, projects and environments") \
	VC_TOOL(secret, "secrets: versions, exports and scripts") \
	VC_TOOL(plan, "plans, subscriptions, usage and quota checks") \
	VC_TOOL(audit, "audit log, usage statistics, tamper evidence, " \
		"reconciliation and retention")

/* "org, secret, plan, audit", for messages: ", org, secret, ..." from
 * its third character. */
#define VC_TOOL_NAME_(name, summary) ", " #name
#define VC_TOOL_NAMES (&(VC_TOOLS(VC_TOOL_NAME_))[2])

#endif
