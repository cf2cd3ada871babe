/* verify.c - vaultctl-audit verify */
#include <stdio.h>
#include <stdlib.h>

#include "auditcmd.h"
#include "auditlog.h"

static const struct vc_col all_cols[] = {
	{ "organization", VC_COL_STR }, { "organization_id", VC_COL_STR },
	{ "rows", VC_COL_NUM }, { "intact", VC_COL_BOOL },
	{ "seq", VC_COL_NUM }, { "problem", VC_COL_STR },
};
static const struct vc_col broken_cols[] = {
	{ "organization", VC_COL_STR }, { "seq", VC_COL_NUM },
	{ "problem", VC_COL_STR },
};

static const char *chain_name(const struct vc_auditlog_chain *ch)
{
	if (!ch->chain[0])
		return "(global)";
	return ch->org[0] ? ch->org : ch->chain;    /* a removed one: its id */
}

/* A table lists the broken chains only; other formats every chain. */
static int print_chains(struct cli *c, const struct vc_auditlog_chain *ch,
			size_t n)
{
	int table = c->out == VC_OUT_TABLE;
	struct vc_table t;
	int rc = 0;

	if (table)
		vc_table_init(&t, broken_cols, ARRAY_SIZE(broken_cols));
	else
		vc_table_init(&t, all_cols, ARRAY_SIZE(all_cols));
	for (size_t i = 0; i < n && rc == 0; i++) {
		char rows[24], seq[24];
		snprintf(rows, sizeof(rows), "%lld", ch[i].rows);
		snprintf(seq, sizeof(seq), "%lld", ch[i].bad_seq);
		if (table && !ch[i].bad_seq)
			continue;
		if (table)
			rc = vc_table_addv(&t, chain_name(&ch[i]),
					   ch[i].bad_seq > 0 ? seq : NULL,
					   ch[i].problem);
		else
			rc = vc_table_addv(&t, chain_name(&ch[i]),
					   ch[i].chain[0] ? ch[i].chain : NULL,
					   rows, ch[i].bad_seq ? "0" : "1",
					   ch[i].bad_seq > 0 ? seq : NULL,
					   ch[i].bad_seq ? ch[i].problem : NULL);
	}
	if (rc == 0 && (!table || t.nrows))
		rc = cli_print_table(c, &t, 0);
	vc_table_release(&t);
	return rc < 0 ? cli_fail(c, VC_EFAIL, "out of memory") : 0;
}

int cmd_audit_verify(struct cli *c)
{
	struct vc_auditlog_chain *ch = NULL;
	const char *org_id;
	struct vc_ref ref;
	size_t n = 0, bad = 0;
	long long rows = 0;
	int rc;

	rc = audit_scope(c, VC_AUDIT_VERIFY, &ref, &org_id);
	if (rc == 0)
		rc = vc_auditlog_verify(&c->s, c->s.db[VC_DB_MONITORING], org_id,
					cli_opt(c, O_ANCHOR), &ch, &n, &c->err);
	if (rc < 0)
		return vc_err_prefix(&c->err, "cannot verify the audit log");
	for (size_t i = 0; i < n; i++) {
		rows += ch[i].rows;
		bad += ch[i].bad_seq != 0;
	}
	rc = print_chains(c, ch, n);
	free(ch);
	if (rc == 0 && bad)
		rc = cli_fail(c, VC_EINCONSIST, "audit chain broken in %zu of %zu "
			      "chain%s", bad, n, n == 1 ? "" : "s");
	else if (rc == 0 && !c->quiet && c->out == VC_OUT_TABLE)
		printf("audit chains intact (%lld row%s, %zu chain%s)\n", rows,
		       rows == 1 ? "" : "s", n, n == 1 ? "" : "s");
	return rc;
}
