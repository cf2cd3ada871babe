/* test_policy.c - the Vault policies of lib/policy.c: paths by scope,
 * capabilities by role, --read-only, the mount, stable output. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "policy.h"
#include "vc.h"

#define ORG "11111111-1111-1111-1111-111111111111"
#define PRJ "22222222-2222-2222-2222-222222222222"
#define ENV "33333333-3333-3333-3333-333333333333"
#define ENV_SCOPE "organizations/" ORG "/projects/" PRJ "/environments/" \
		  ENV "/secrets/*"

static struct vc_ref ref_at(int depth)
{
	struct vc_ref r;

	memset(&r, 0, sizeof(r));
	r.depth = depth;
	snprintf(r.org_id, sizeof(r.org_id), "%s", ORG);
	snprintf(r.project_id, sizeof(r.project_id), "%s", PRJ);
	snprintf(r.env_id, sizeof(r.env_id), "%s", ENV);
	snprintf(r.text, sizeof(r.text), "%s", depth == 1 ? "acme" :
		 depth == 2 ? "acme/api" : "acme/api/prod");
	return r;
}

static void render(int depth, enum vc_role role, int read_only,
		   const char *mount, struct vc_buf *out)
{
	struct vc_ref r = ref_at(depth);
	struct vc_err e = { 0, "" };

	vc_buf_reset(out);
	if (vc_policy_hcl(&r, role, read_only, mount, out, &e) != 0)
		fail_msg("vc_policy_hcl: %s", e.msg);
}

/* The capabilities line of the block for path, "" when there is none. */
static const char *caps(const struct vc_buf *b, const char *path)
{
	static char line[200];
	char want[300];
	const char *p, *end;

	snprintf(want, sizeof(want), "\npath \"%s\" {\n  capabilities = ", path);
	p = strstr(b->data, want);
	if (!p)
		return "";
	p += strlen(want);
	end = strchr(p, '\n');
	snprintf(line, sizeof(line), "%.*s", (int)(end - p), p);
	return line;
}

static int count(const char *s, const char *what)
{
	int n = 0;

	for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

static void env_scope_by_role(void **state)
{
	struct vc_buf b = VC_BUF_INIT;

	(void)state;
	render(3, VC_ROLE_VIEWER, 0, "secret", &b);
	assert_string_equal(caps(&b, "secret/metadata/" ENV_SCOPE), "[\"list\"]");
	assert_int_equal(count(b.data, "\npath "), 1);

	render(3, VC_ROLE_MEMBER, 0, "secret", &b);
	assert_string_equal(caps(&b, "secret/metadata/" ENV_SCOPE),
			    "[\"read\", \"list\"]");
	assert_string_equal(caps(&b, "secret/data/" ENV_SCOPE),
			    "[\"create\", \"read\", \"update\"]");
	assert_int_equal(count(b.data, "\npath "), 2);

	for (enum vc_role r = VC_ROLE_ADMIN; r <= VC_ROLE_OWNER; r++) {
		render(3, r, 0, "secret", &b);
		assert_string_equal(caps(&b, "secret/metadata/" ENV_SCOPE),
				    "[\"read\", \"list\", \"delete\"]");
		assert_string_equal(caps(&b, "secret/data/" ENV_SCOPE),
				    "[\"create\", \"read\", \"update\", \"delete\"]");
		assert_string_equal(caps(&b, "secret/delete/" ENV_SCOPE),
				    "[\"update\"]");
		assert_string_equal(caps(&b, "secret/undelete/" ENV_SCOPE),
				    "[\"update\"]");
		assert_string_equal(caps(&b, "secret/destroy/" ENV_SCOPE),
				    "[\"update\"]");
		assert_int_equal(count(b.data, "\npath "), 5);
	}
	vc_buf_release(&b);
}

static void read_only(void **state)
{
	struct vc_buf b = VC_BUF_INIT;

	(void)state;
	for (enum vc_role r = VC_ROLE_MEMBER; r <= VC_ROLE_OWNER; r++) {
		render(3, r, 1, "secret", &b);
		assert_string_equal(caps(&b, "secret/metadata/" ENV_SCOPE),
				    "[\"read\", \"list\"]");
		assert_string_equal(caps(&b, "secret/data/" ENV_SCOPE),
				    "[\"read\"]");
		assert_int_equal(count(b.data, "\npath "), 2);
		assert_int_equal(count(b.data, "create"), 0);
		assert_int_equal(count(b.data, "update"), 0);
		assert_int_equal(count(b.data, "delete"), 0);
		assert_non_null(strstr(b.data, "read-only"));
	}
	/* Read-only narrows a role; it never widens a viewer's. */
	render(3, VC_ROLE_VIEWER, 1, "secret", &b);
	assert_string_equal(caps(&b, "secret/metadata/" ENV_SCOPE), "[\"list\"]");
	assert_int_equal(count(b.data, "\npath "), 1);
	vc_buf_release(&b);
}

static void scopes(void **state)
{
	struct vc_buf b = VC_BUF_INIT;

	(void)state;
	render(1, VC_ROLE_MEMBER, 0, "secret", &b);
	assert_string_equal(caps(&b, "secret/data/organizations/" ORG "/*"),
			    "[\"create\", \"read\", \"update\"]");
	assert_int_equal(count(b.data, "/projects/"), 0);
	render(2, VC_ROLE_MEMBER, 0, "secret", &b);
	assert_string_equal(caps(&b, "secret/data/organizations/" ORG
				 "/projects/" PRJ "/*"),
			    "[\"create\", \"read\", \"update\"]");
	assert_int_equal(count(b.data, "/environments/"), 0);
	/* Every path is under the scope: no glob before its end, no '+'. */
	render(3, VC_ROLE_OWNER, 0, "secret", &b);
	assert_int_equal(count(b.data, "\npath "), count(b.data, ENV_SCOPE "\""));
	assert_int_equal(count(b.data, "+"), 0);
	assert_non_null(strstr(b.data, "environment 'acme/api/prod'"));
	vc_buf_release(&b);
}

static void mounts(void **state)
{
	static const char *const bad[] = {
		"se\"cret", "kv*", "kv+", "a b", "kv/{{identity}}", "/", "kv\n",
		"kv\\x",
	};
	struct vc_ref r = ref_at(3);
	struct vc_err e = { 0, "" };
	struct vc_buf b = VC_BUF_INIT, c = VC_BUF_INIT;

	(void)state;
	render(3, VC_ROLE_MEMBER, 0, "/team/kv/", &b);
	assert_string_equal(caps(&b, "team/kv/data/" ENV_SCOPE),
			    "[\"create\", \"read\", \"update\"]");
	render(3, VC_ROLE_MEMBER, 0, NULL, &b);
	assert_string_equal(caps(&b, "secret/data/" ENV_SCOPE),
			    "[\"create\", \"read\", \"update\"]");
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		vc_buf_reset(&c);
		if (vc_policy_hcl(&r, VC_ROLE_MEMBER, 0, bad[i], &c, &e) !=
		    VC_EUSAGE)
			fail_msg("mount '%s' accepted", bad[i]);
		assert_non_null(strstr(e.msg, "vault_mount"));
	}
	r.depth = 4;
	assert_int_equal(vc_policy_hcl(&r, VC_ROLE_MEMBER, 0, "secret", &c, &e),
			 VC_EUSAGE);
	vc_buf_release(&b);
	vc_buf_release(&c);
}

static void stable(void **state)
{
	struct vc_buf a = VC_BUF_INIT, b = VC_BUF_INIT;

	(void)state;
	render(3, VC_ROLE_ADMIN, 0, "secret", &a);
	render(3, VC_ROLE_ADMIN, 0, "secret", &b);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	/* Comments, then blocks; every brace closed, nothing after the last. */
	assert_int_equal(a.data[0], '#');
	assert_int_equal(count(a.data, "{"), count(a.data, "}"));
	assert_string_equal(a.data + a.len - 4, "]\n}\n");
	vc_buf_release(&a);
	vc_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(env_scope_by_role),
		cmocka_unit_test(read_only),
		cmocka_unit_test(scopes),
		cmocka_unit_test(mounts),
		cmocka_unit_test(stable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
