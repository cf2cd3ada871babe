/* reconcile.c - vaultctl-audit reconcile [--org ORG] [--fix [--yes]] */
#include <stdio.h>
#include <stdlib.h>

#include "auditcmd.h"
#include "auditlog.h"

static const char *const kinds[] = {
	[VC_DRIFT_ORPHAN_VALUE] = "value-without-metadata",
	[VC_DRIFT_NO_VALUE] = "metadata-without-value",
	[VC_DRIFT_VERSION] = "version-drift",
	[VC_DRIFT_DELETED] = "deleted-state-drift",
};

static const struct vc_col cols[] = {
	{ "kind", VC_COL_STR }, { "secret", VC_COL_STR },
	{ "metadata_version", VC_COL_NUM }, { "store_version", VC_COL_NUM },
	{ "path", VC_COL_STR }, { "deleted_in", VC_COL_STR },
	{ "fix", VC_COL_STR },
};

/* What --fix did with one finding; 1 when it is repaired. */
static int fix_one(struct cli *c, const struct vc_drift *d, char *out,
		   size_t n)
{
	struct vc_err e = { 0, "" };

	switch (d->kind) {
	case VC_DRIFT_VERSION:
		if (vc_auditlog_adopt(&c->s, d, &e) < 0)
			break;
		snprintf(out, n, "adopted the store's version %d",
			 d->store_version);
		return 1;
	case VC_DRIFT_ORPHAN_VALUE:
		if (vc_auditlog_drop_value(&c->s, d, &e) < 0)
			break;
		snprintf(out, n, "removed the value");
		return 1;
	case VC_DRIFT_DELETED:
		if (vc_auditlog_align(&c->s, d, &e) < 0)
			break;
		snprintf(out, n, "%s the store's version %d, as the metadata "
			 "has it", d->meta_deleted ? "deleted" : "undeleted",
			 d->meta_version);
		return 1;
	default:
		snprintf(out, n, "not fixed: there is no value to adopt "
			 "(purge the secret or set it again)");
		return 0;
	}
	snprintf(out, n, "not fixed: %s", e.msg);
	return 0;
}

static int add_finding(struct vc_table *t, const struct vc_drift *d,
		       const char *fix)
{
	/* Which side has the secret removed, for a deleted-state drift. */
	const char *in = d->kind != VC_DRIFT_DELETED ? NULL :
			 d->meta_deleted ? "metadata" : "store";
	char mv[16], sv[16];

	snprintf(mv, sizeof(mv), "%d", d->meta_version);
	snprintf(sv, sizeof(sv), "%d", d->store_version);

	return vc_table_addv(t, kinds[d->kind], d->ref[0] ? d->ref : NULL,
			     d->kind == VC_DRIFT_ORPHAN_VALUE ? NULL : mv,
			     d->kind == VC_DRIFT_NO_VALUE ? NULL : sv, d->path,
			     in, fix);
}

/* Asks once for every orphaned value before anything changes. */
static int confirm_removal(struct cli *c, const struct vc_drift *d, size_t n)
{
	size_t orphans = 0;

	for (size_t i = 0; i < n; i++)
		orphans += d[i].kind == VC_DRIFT_ORPHAN_VALUE;
	if (!orphans)
		return 0;
	return cli_confirm(c, cli_opt(c, O_YES) != NULL, "remove %zu value%s "
			   "without metadata from the value store", orphans,
			   orphans == 1 ? "" : "s");
}

static int report(struct cli *c, const struct vc_drift *d, size_t n,
		  size_t *left)
{
	int fix = cli_opt(c, O_FIX) != NULL;
	struct vc_table t;
	int rc = 0;

	*left = 0;
	/* The last column, what was done, only with --fix. */
	vc_table_init(&t, cols, ARRAY_SIZE(cols) - !fix);
	for (size_t i = 0; i < n && rc == 0; i++) {
		char what[300] = "";
		if (fix && !fix_one(c, &d[i], what, sizeof(what)))
			(*left)++;
		else if (!fix)
			(*left)++;
		rc = add_finding(&t, &d[i], what);
	}
	if (rc == 0 && (n || c->out != VC_OUT_TABLE))
		rc = cli_print_table(c, &t, 0);
	vc_table_release(&t);
	return rc < 0 ? cli_fail(c, VC_EFAIL, "out of memory") : 0;
}

int cmd_audit_reconcile(struct cli *c)
{
	struct vc_drift *d = NULL;
	const char *org_id;
	struct vc_ref ref;
	long long secrets = 0;
	size_t n = 0, left = 0;
	int rc;

	rc = audit_scope(c, VC_AUDIT_RECONCILE, &ref, &org_id);
	if (rc == 0)
		rc = vc_auditlog_reconcile(&c->s, org_id, &d, &n, &secrets,
					   &c->err);
	if (rc < 0)
		return vc_err_prefix(&c->err, "cannot reconcile");
	if (cli_opt(c, O_FIX))
		rc = confirm_removal(c, d, n);
	if (rc == 0)
		rc = report(c, d, n, &left);
	free(d);
	if (rc < 0)
		return rc;
	if (left)
		return cli_fail(c, VC_EINCONSIST, "%zu inconsistenc%s between "
				"metadata and the value store%s", left,
				left == 1 ? "y" : "ies", cli_opt(c, O_FIX) ?
				" left" : "");
	if (c->quiet || c->out != VC_OUT_TABLE)
		return 0;
	if (n)
		printf("repaired %zu inconsistenc%s\n", n, n == 1 ? "y" : "ies");
	else
		printf("metadata and value store agree (%lld secret%s)\n",
		       secrets, secrets == 1 ? "" : "s");
	return 0;
}
