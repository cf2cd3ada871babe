/* store.c - what both value stores share. */
#include "store.h"

#include <stdlib.h>
#include <string.h>

void vc_store_meta_release(struct vc_store_meta *m)
{
	free(m->versions);
	memset(m, 0, sizeof(*m));
}

void vc_store_list_free(char **keys, size_t n)
{
	if (!keys)
		return;
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
}

void vc_store_close(struct vc_store *s)
{
	if (s)
		s->ops->close(s);
}

int vc_store_path(struct vc_buf *out, const char *org_id,
		  const char *project_id, const char *env_id, const char *name)
{
	vc_buf_reset(out);
	return vc_buf_printf(out, "organizations/%s/projects/%s/environments/"
			     "%s/secrets/%s", org_id, project_id, env_id, name);
}
