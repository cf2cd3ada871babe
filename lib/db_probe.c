/* db_probe.c - a server that is certainly not there, told before
 * libmariadb is asked (vc_db_refused, db.h).
 *
 * libmariadb's first handle sets OpenSSL up (its configuration file,
 * every cipher's name) and looks the mysql service up in NSS: about a
 * millisecond, a fifth of a `run --fallback` served while the server is
 * stopped.  Yet a server that is stopped has removed its unix socket, and
 * a socket that does not exist refuses every client.  So the socket
 * libmariadb would connect to is worked out here from the same option
 * file, as libmariadb reads it, and looked for: when it is missing, the
 * connection is refused here, with libmariadb's error.  Nothing is
 * connected to (a live server would count an aborted connection for
 * every command), and no timeout is involved; anything else (a socket
 * that is there, TCP, an option file line this reader does not follow)
 * goes to libmariadb as before.
 */
#include "db.h"

#include <ctype.h>
#include <errmsg.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* What the option file says of the address; unsure: a line that makes
 * libmariadb do what this reader does not (an include, a quoted line, an
 * escape, a named pipe or shared memory), so no verdict. */
struct addr {
	char host[256], socket[4096];
	int tcp, unsure;
};

static char *trim_end(char *s, char *end)
{
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static void set_value(struct addr *a, const char *key, char *val)
{
	size_t len;

	/* libmariadb drops a quote first and one last; escapes it
	 * decodes, which this reader does not. */
	if (*val == '"' || *val == '\'') {
		len = strlen(++val);
		if (len && (val[len - 1] == '"' || val[len - 1] == '\''))
			val[len - 1] = '\0';
	}
	if (strchr(val, '\\'))
		a->unsure = 1;
	else if (!strcmp(key, "host"))
		a->unsure |= snprintf(a->host, sizeof(a->host), "%s", val) >=
			     (int)sizeof(a->host);
	else if (!strcmp(key, "socket"))
		a->unsure |= snprintf(a->socket, sizeof(a->socket), "%s", val) >=
			     (int)sizeof(a->socket);
	else if (!strcmp(key, "protocol")) {
		a->tcp = !strcasecmp(val, "tcp");
		a->unsure |= !a->tcp && strcasecmp(val, "socket");
	}
}

/* One line of a group libmariadb reads: "key[ = value]", '_' in the key
 * read as '-'. */
static void option(struct addr *a, char *s)
{
	char *eq = strchr(s, '='), *val = NULL, *k;

	if (eq) {
		*eq = '\0';
		val = eq + 1;
		while (isspace((unsigned char)*val))
			val++;
		trim_end(val, val + strlen(val));
	}
	trim_end(s, s + strlen(s));
	for (k = s; *k; k++)
		if (*k == '_')
			*k = '-';
	if (!strcmp(s, "pipe") || !strcmp(s, "shared-memory-base-name"))
		a->unsure = 1;
	else if (val)
		set_value(a, s, val);
}

static int is_group(const char *name, const char *const *groups, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(name, groups[i]))
			return 1;
	return 0;
}

/* The groups libmariadb reads with MYSQL_READ_DEFAULT_GROUP, in file
 * order, the last value of a key winning. */
static void read_file(const char *path, const char *group, struct addr *a)
{
	const char *const groups[] = { "client", "client-server",
				       "client-mariadb", group };
	char line[4096], *s, *end;
	int in = 0, seen = 0;
	FILE *f = path ? fopen(path, "re") : NULL;

	a->unsure = !f;
	while (f && !a->unsure && fgets(line, sizeof(line) - 1, f)) {
		a->unsure = !strchr(line, '\n') && !feof(f);
		for (s = line; isspace((unsigned char)*s); s++)
			;
		if (*s == '"' || *s == '\'' || *s == '!' || *s == '\\')
			a->unsure = 1;
		if (a->unsure || !*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			if (!(end = strchr(++s, ']'))) {
				a->unsure = 1;
				continue;
			}
			*end = '\0';
			seen = 1;
			in = is_group(trim_end(s, end), groups,
				      ARRAY_SIZE(groups));
			continue;
		}
		/* libmariadb stops at a line before any group. */
		a->unsure = !seen;
		if (in && !a->unsure)
			option(a, s);
	}
	if (f)
		fclose(f);
}

int vc_db_refused(const char *file, const char *group, const char *host,
		  unsigned *no, char *msg, size_t n)
{
	struct addr a;
	struct stat st;

	memset(&a, 0, sizeof(a));
	read_file(file, group, &a);
	if (a.unsure || !*a.socket)
		return 0;
	if (host && *host)
		snprintf(a.host, sizeof(a.host), "%s", host);
	/* libmariadb's choice: the socket for localhost, unless tcp. */
	if ((*a.host && strcmp(a.host, "localhost")) || a.tcp ||
	    stat(a.socket, &st) == 0 || errno != ENOENT)
		return 0;
	*no = CR_CONNECTION_ERROR;
	snprintf(msg, n, "Can't connect to local server through socket "
		 "'%.64s' (%d)", a.socket, ENOENT);
	return 1;
}
