/* plan.h - plans, subscriptions, usage and quota checks (vaultctl-plan(1),
 * vaultctl-plan).  Prices are decimal text end to end: validated here,
 * bound as strings so that MariaDB's DECIMAL(10,2) converts them exactly,
 * and read back as the server's text.  No float is ever involved. */
#ifndef VC_PLAN_H
#define VC_PLAN_H

#include <stddef.h>

#include "db.h"
#include "ref.h"
#include "session.h"
#include "vc.h"

#define VC_PLAN_FEATURES_MAX 65536      /* bytes of --features JSON */

/* ---- pure validators (no database; unit tested) ----
 * On error each sets e to VC_EUSAGE with the reason alone ("more than two
 * decimal places"), so that the caller can name the field or option. */

/* An exact price: "0" or [1-9][0-9]{0,7}, optionally followed by '.' and
 * one or two digits; at most 99999999.99, DECIMAL(10,2).  No sign, no
 * exponent, no spaces, no leading zeros, no "5." or ".5". */
int vc_plan_price_check(const char *s, struct vc_err *e);
/* "monthly" or "yearly". */
int vc_plan_cycle_check(const char *s, struct vc_err *e);
/* A JSON object (n bytes, no NUL inside) -> *out, the same text without
 * insignificant white space (malloc'd; numbers and strings kept byte for
 * byte).  Arrays, scalars and invalid JSON are refused. */
int vc_plan_features_parse(const char *text, size_t n, char **out,
			   struct vc_err *e);
/* An ISO 8601 UTC date "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SS[Z]" -> out as
 * "YYYY-MM-DD HH:MM:SS" (a DATETIME literal, midnight for a bare date).
 * Calendar days and times are checked; other offsets are refused. */
int vc_plan_date_parse(const char *s, char out[20], struct vc_err *e);

/* ---- plans (global admins) ---- */

struct vc_plan_spec {
	const char *price;      /* NULL: unchanged (set) */
	const char *cycle;      /* NULL: unchanged (set) */
	int has_limit;          /* secrets_limit given */
	long long limit;        /* when given: -1 unlimited, else 0..INT_MAX */
	const char *features;   /* compact JSON object; NULL: unchanged */
	const char *desc;       /* NULL: unchanged */
};

int vc_plan_create(struct vc_session *s, const char *name,
		   const struct vc_plan_spec *p, struct vc_err *e);
/* Changes a plan (by name or id).  Existing subscriptions keep the limit
 * they were started with until the organization subscribes again. */
int vc_plan_set(struct vc_session *s, const char *plan,
		const struct vc_plan_spec *p, struct vc_err *e);
/* VC_ECONFLICT while any subscription or organization refers to it. */
int vc_plan_remove(struct vc_session *s, const char *plan,
		   struct vc_err *e);

/* Plans for listing, one row each, ordered by price then name; columns:
 * name, price, cycle, secrets_limit, features, description,
 * organizations (active subscriptions), id, created_at, updated_at.
 * plan NULL: all plans; else that one (VC_ENOTFOUND when unknown). */
int vc_plan_query(struct vc_session *s, const char *plan,
		  struct vc_res **out, struct vc_err *e);

/* ---- subscriptions ---- */

struct vc_plan_sub {
	const char *plan;       /* name or id */
	const char *start;      /* ISO 8601 as given, or NULL: now */
	const char *end;        /* ISO 8601 as given, or NULL: open-ended */
	int force;              /* even below the current secret count */
};

/* Ends the organization's active subscription and starts a new one on
 * plan, in one transaction (owners and global admins).  *used and *limit
 * (-1 unlimited) say where the organization stands on the new plan. */
int vc_plan_subscribe(struct vc_session *s, const struct vc_ref *org,
		      const struct vc_plan_sub *sub, long long *used,
		      long long *limit, struct vc_err *e);
/* Cancels the active subscription (VC_ENOTFOUND when there is none). */
int vc_plan_cancel(struct vc_session *s, const struct vc_ref *org,
		   struct vc_err *e);
/* Marks active subscriptions whose end_date has passed as expired, with
 * one audit row each and no acting user needed (cron).  *n: how many. */
int vc_plan_expire(struct vc_session *s, long long *n, struct vc_err *e);
/* The organization's subscriptions, newest first (admins of the org);
 * columns: plan, status, secrets_limit, start_date, end_date, created_at,
 * id. */
int vc_plan_history(struct vc_session *s, const struct vc_ref *org,
		    struct vc_res **out, struct vc_err *e);

/* ---- usage and quota (viewers and up) ---- */

struct vc_plan_usage {
	int active;             /* has an active subscription */
	char plan[256];         /* its plan's name ("" when none) */
	long long used;         /* live secrets */
	long long limit;        /* -1 unlimited (or no subscription) */
	char percent[24];       /* used/limit as "40.0", "" when no limit */
	long long api_calls;
};

/* Fills u; *envs (may be NULL) gets one row per project and environment:
 * project, environment, secrets. */
int vc_plan_usage(struct vc_session *s, const struct vc_ref *org,
		  struct vc_plan_usage *u, struct vc_res **envs,
		  struct vc_err *e);
/* The quota, the one rule of it: 0 when need more live secrets fit in
 * the organization's active subscription; VC_EQUOTA saying why when they
 * do not or when there is no active subscription.  u is filled either
 * way.  It reads on db as it is: under vc_plan_quota_lock in the caller's
 * transaction for a write, without it for a preview that writes nothing. */
int vc_plan_quota(struct vc_db *db, const struct vc_ref *org, long need,
		  struct vc_plan_usage *u, struct vc_err *e);
/* The organization's quota lock, taken first by every change that adds
 * secrets or changes the limit: its active subscription row, written,
 * so that concurrent creates serialise, on Galera too, where a read lock
 * (SELECT ... FOR UPDATE) holds on one node only. */
int vc_plan_quota_lock(struct vc_db *db, const char *org_id,
		       struct vc_err *e);
/* vc_plan_quota for a viewer of the organization, without the lock. */
int vc_plan_check(struct vc_session *s, const struct vc_ref *org, long need,
		  struct vc_plan_usage *u, struct vc_err *e);

#endif
