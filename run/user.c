/* user[:group] → uid, gid, supplementary groups, from the container's own
 * /etc/passwd and /etc/group text (never the host's). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "run/run.h"

#define FIELDS_MAX 8

/* Splits one line into at most FIELDS_MAX ':'-separated fields (in place);
 * returns the count. */
static size_t split_fields(char *line, char **f)
{
	size_t n = 0;
	f[n++] = line;
	for (char *p = line; *p && n < FIELDS_MAX; p++)
		if (*p == ':') {
			*p = '\0';
			f[n++] = p + 1;
		}
	return n;
}

static bool parse_id(const char *s, unsigned long *out)
{
	char *end;
	if (!*s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v > 0xfffffffeUL)
		return false;
	*out = v;
	return true;
}

/* Finds the line whose field 0 (by name) or field 2 (by id) matches;
 * calls fn with its fields.  Returns true if found. */
typedef void (*entry_fn)(char **f, size_t n, void *ctx);
static bool find_entry(const char *text, const char *name, const unsigned long *id,
		       size_t min_fields, entry_fn fn, void *ctx)
{
	if (!text)
		return false;
	for (const char *line = text; *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		if (len > 0 && len < 4096 && line[0] != '#') {
			_cleanup_free_ char *copy = xstrndup(line, len);
			char *f[FIELDS_MAX];
			size_t n = split_fields(copy, f);
			unsigned long v;
			if (n >= min_fields &&
			    ((name && strcmp(f[0], name) == 0) ||
			     (id && parse_id(f[2], &v) && v == *id))) {
				fn(f, n, ctx);
				return true;
			}
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	return false;
}

struct pw { unsigned long uid, gid; char *name, *home; };
static void take_pw(char **f, size_t n, void *ctx)
{
	struct pw *p = ctx;
	(void)n;
	parse_id(f[2], &p->uid);
	parse_id(f[3], &p->gid);
	p->name = xstrdup(f[0]);
	p->home = xstrdup(f[5]);
}

struct gr { unsigned long gid; };
static void take_gr(char **f, size_t n, void *ctx)
{
	(void)n;
	parse_id(f[2], &((struct gr *)ctx)->gid);
}

static bool member_of(const char *members, const char *user)
{
	size_t ul = strlen(user);
	for (const char *p = members; *p;) {
		const char *c = strchr(p, ',');
		size_t len = c ? (size_t)(c - p) : strlen(p);
		if (len == ul && strncmp(p, user, ul) == 0)
			return true;
		if (!c)
			break;
		p = c + 1;
	}
	return false;
}

static void add_gid(struct run_user *u, gid_t g)
{
	for (size_t i = 0; i < u->n_gids; i++)
		if (u->gids[i] == g)
			return;
	if (u->n_gids >= 64)
		return;
	u->gids = xrealloc(u->gids, (u->n_gids + 1) * sizeof(gid_t));
	u->gids[u->n_gids++] = g;
}

/* Groups listing the user as a member, other than its primary group. */
static void supplementary(struct run_user *u, const char *group, const char *user)
{
	if (!group || !user)
		return;
	for (const char *line = group; *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		if (len > 0 && len < 4096) {
			_cleanup_free_ char *copy = xstrndup(line, len);
			char *f[FIELDS_MAX];
			unsigned long g;
			if (split_fields(copy, f) >= 4 && parse_id(f[2], &g) && g != u->gid &&
			    member_of(f[3], user))
				add_gid(u, (gid_t)g);
		}
		if (!nl)
			break;
		line = nl + 1;
	}
}

int run_user_resolve(const char *spec, const char *passwd, const char *group,
		     struct run_user *out, struct kerror *e)
{
	_cleanup_free_ char *user = NULL;
	const char *colon;
	const char *grp = NULL;
	struct pw pw = { 0 };
	unsigned long v;
	bool found;

	bool asked = spec && *spec;
	memset(out, 0, sizeof(*out));
	if (!spec || !*spec)
		spec = "0";
	if (strlen(spec) > 512)
		return kerror_set(e, EINVAL, "user \"%.32s…\" is too long", spec);
	colon = strchr(spec, ':');
	user = colon ? xstrndup(spec, (size_t)(colon - spec)) : xstrdup(spec);
	if (colon)
		grp = colon + 1;
	if (!*user)
		return kerror_set(e, EINVAL, "invalid user \"%s\"", spec);

	if (parse_id(user, &v)) {
		/* Numeric: the passwd entry, if any, gives gid and home. */
		found = find_entry(passwd, NULL, &v, 7, take_pw, &pw);
		out->uid = (uid_t)v;
		out->gid = found ? (gid_t)pw.gid : 0;
	} else {
		if (!find_entry(passwd, user, NULL, 7, take_pw, &pw))
			return kerror_set(e, ENOENT,
					  "unable to find user %s: no matching entries in "
					  "passwd file",
					  user);
		found = true;
		out->uid = (uid_t)pw.uid;
		out->gid = (gid_t)pw.gid;
	}
	out->home = xstrdup(found && pw.home && *pw.home ? pw.home : "/");
	if (grp && *grp) {
		struct gr g = { 0 };
		if (parse_id(grp, &v))
			out->gid = (gid_t)v;
		else if (find_entry(group, grp, NULL, 3, take_gr, &g))
			out->gid = (gid_t)g.gid;
		else {
			free(pw.name);
			free(pw.home);
			run_user_release(out);
			return kerror_set(e, ENOENT,
					  "unable to find group %s: no matching entries in group "
					  "file",
					  grp);
		}
	}
	/* A user asked for (-u, USER) gets its primary group as a
	 * supplementary one too, as Podman sets it (`id` shows groups=GID). */
	if (asked)
		add_gid(out, out->gid);
	if (!(grp && *grp) && found)
		supplementary(out, group, pw.name);
	free(pw.name);
	free(pw.home);
	return 0;
}

void run_user_release(struct run_user *u)
{
	free(u->gids);
	free(u->home);
	memset(u, 0, sizeof(*u));
}

int run_user_add_groups(struct run_user *u, char *const *groups, const char *group,
			struct kerror *e)
{
	for (size_t i = 0; groups && groups[i]; i++) {
		unsigned long v;
		struct gr g = { 0 };
		if (!strcmp(groups[i], "keep-groups"))
			continue; /* rootless only: nothing to keep as root */
		if (parse_id(groups[i], &v))
			add_gid(u, (gid_t)v);
		else if (find_entry(group, groups[i], NULL, 3, take_gr, &g))
			add_gid(u, (gid_t)g.gid);
		else
			return kerror_set(e, ENOENT, "unable to find group %s: no matching entries "
						     "in group file",
					  groups[i]);
	}
	return 0;
}
