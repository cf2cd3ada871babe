/* audit_record.c - what a command leaves for the audit trail besides its
 * own rows: a refusal by a role check ("<command>.denied"), a password
 * that did not match ("auth.failed"), and the API call of a command that
 * writes no audit row (a metadata read: list, show, history, usage). */
#include "audit.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref.h"

/* By the reference's depth. */
static const char *const ref_types[] = { "organization", "organization",
					 "project", "environment", "secret" };

/* The deepest id the reference resolved (a secret's is not looked up). */
static const char *ref_id(const struct vc_ref *ref)
{
	if (ref->depth >= 3)
		return ref->env_id;
	return ref->depth == 2 ? ref->project_id : ref->org_id;
}

/* A JSON object of the string pairs given (NULL values left out), into
 * out; "{}" when it does not fit. */
static void json_pairs(char *out, size_t n, const char *const kv[], size_t k)
{
	cJSON *o = cJSON_CreateObject();
	char *text = NULL;

	for (size_t i = 0; o && i + 1 < k; i += 2)
		if (kv[i + 1] && !cJSON_AddStringToObject(o, kv[i], kv[i + 1]))
			break;
	if (o)
		text = cJSON_PrintUnformatted(o);
	snprintf(out, n, "%s", text && strlen(text) < n ? text : "{}");
	free(text);
	cJSON_Delete(o);
}

void vc_audit_denied(struct vc_session *s, const struct vc_ref *ref,
		     const char *need)
{
	struct vc_session_audit *a = &s->audit;
	int depth = ref && ref->depth >= 1 && ref->depth <= 4 ? ref->depth : 0;
	const char *kv[] = { "ref", ref ? ref->text : NULL, "need", need,
			     "role", ref ? vc_role_name(ref->role) : NULL };

	if (a->denied)
		return;
	a->denied = 1;
	snprintf(a->org_id, sizeof(a->org_id), "%s", ref ? ref->org_id : "");
	snprintf(a->rtype, sizeof(a->rtype), "%s",
		 ref ? ref_types[depth] : "command");
	snprintf(a->rid, sizeof(a->rid), "%s", ref ? ref_id(ref) : "");
	json_pairs(a->details, sizeof(a->details), kv, ARRAY_SIZE(kv));
}

void vc_audit_count_call(struct vc_session *s, const char *org_id)
{
	if (org_id && *org_id && !s->audit.calls_org[0])
		snprintf(s->audit.calls_org, sizeof(s->audit.calls_org), "%s",
			 org_id);
}

struct one {
	struct vc_session *s;
	struct vc_audit_ev ev;
};

static int one_txn(struct vc_db *db, void *arg, struct vc_err *e)
{
	struct one *o = arg;

	return vc_audit_write(o->s, db, &o->ev, 1, e);
}

void vc_audit_auth_failed(struct vc_session *s, const char *user_id,
			  const char *email)
{
	struct vc_db *db = s->db[VC_DB_METADATA];
	const char *kv[] = { "email", email };
	char details[400];
	struct one o = { s, { NULL, "auth.failed", "user",
			      user_id ? user_id : "", details } };
	struct vc_err ignored;

	json_pairs(details, sizeof(details), kv, ARRAY_SIZE(kv));
	if (db)
		vc_db_txn(db, one_txn, &o, &ignored);
}

/* One statement: the call counted, and kept apart from the audited ones
 * so that stats recompute can add it back. */
static int count_read(struct vc_db *db, const char *org, struct vc_err *e)
{
	char id[37];

	vc_uuid(id);
	return vc_db_exec(db, NULL, e, "INSERT INTO usage_statistics (id, "
			  "organization_id, secret_count, api_calls, read_calls, "
			  "last_updated) VALUES (?, ?, 0, 1, 1, UTC_TIMESTAMP()) "
			  "ON DUPLICATE KEY UPDATE api_calls = api_calls + 1, "
			  "read_calls = read_calls + 1, last_updated = "
			  "UTC_TIMESTAMP()", "ss", id, org);
}

void vc_audit_flush(struct vc_session *s)
{
	struct vc_session_audit *a = &s->audit;
	struct vc_db *db = s->db[VC_DB_METADATA];
	struct vc_err ignored;
	char action[51];
	struct one o = { s, { a->org_id[0] ? a->org_id : NULL, action,
			      a->rtype, a->rid, a->details } };

	snprintf(action, sizeof(action), "%.43s.denied",
		 a->command[0] ? a->command : "command");
	if (db && a->denied)
		vc_db_txn(db, one_txn, &o, &ignored);
	if (db && a->calls_org[0])
		count_read(db, a->calls_org, &ignored);
	a->denied = 0;
	a->calls_org[0] = '\0';
}
