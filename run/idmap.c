/* --userns, --uidmap, --gidmap, --subuidname, --subgidname: a container in
 * a user namespace of its own.  Maps are "INNER OUTER COUNT" lines, OUTER
 * in kiln's own ids (the host's as root; kiln's user namespace's rootless,
 * as Podman's rootless --uidmap).  Such a container gets a chowned copy of
 * its image (overlay's layers cannot be idmapped from inside a user
 * namespace, nor the overlay mount itself). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run/run.h"

#define MAP_LINES_MAX 340 /* the kernel's limit per map */

/* The number of ids of our namespace ("0 0 4294967295" in the initial). */
static unsigned long ns_size(const char *file)
{
	_cleanup_free_ char *text = NULL;
	struct kerror e = { 0 };
	size_t len;
	unsigned long total = 0;
	if (fs_read_file(file, 64 * 1024, &text, &len, &e) < 0) {
		kerror_release(&e);
		return 65536;
	}
	for (char *line = text; line && *line;) {
		unsigned long a, b, c;
		if (sscanf(line, "%lu %lu %lu", &a, &b, &c) == 3 && c <= 0xffffffffUL - total)
			total += c;
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return total ? total : 1;
}

static char **copy_strv(char *const *v)
{
	char **out = NULL;
	for (size_t i = 0; v && v[i]; i++)
		strv_push(&out, xstrdup(v[i]));
	return out;
}

static void push_map(char ***v, unsigned long inner, unsigned long outer, unsigned long count)
{
	if (count)
		strv_push(v, xasprintf("%lu %lu %lu", inner, outer, count));
}

/* "C:H:L" (--uidmap) to "C H L". */
static int parse_triplet(const char *flag, const char *s, char ***out, struct kerror *e)
{
	unsigned long v[3];
	const char *p = s;
	char *end;
	for (int i = 0; i < 3; i++) {
		if (*p < '0' || *p > '9')
			goto bad;
		errno = 0;
		v[i] = strtoul(p, &end, 10);
		if (errno || v[i] > 0xffffffffUL || (i < 2 && *end != ':') || (i == 2 && *end))
			goto bad;
		p = end + 1;
	}
	if (v[2] == 0 || v[0] > 0xffffffffUL - v[2] || v[1] > 0xffffffffUL - v[2])
		goto bad;
	if (strv_len(*out) >= MAP_LINES_MAX)
		return kerror_set(e, E2BIG, "too many %s entries", flag);
	push_map(out, v[0], v[1], v[2]);
	return 0;
bad:
	return kerror_set(e, EINVAL, "invalid %s \"%s\": CONTAINER_ID:HOST_ID:LENGTH", flag, s);
}

static int subid_map(const char *file, const char *name, char ***out, struct kerror *e)
{
	_cleanup_free_ char *text = NULL;
	struct run_subid r;
	size_t len;
	int rc = fs_read_file(file, 4 << 20, &text, &len, e);
	if (rc < 0)
		return rc;
	if (run_subid_find(text, name, (unsigned long)-1, &r) <= 0)
		return kerror_set(e, ENOENT, "no subordinate ids for \"%s\" in %s", name, file);
	push_map(out, 0, r.start, r.count > 65536 ? 65536 : r.count);
	return 0;
}

/* "key=N" options of keep-id and auto. */
static int mode_opt(const char *opts, const char *key, unsigned long *out, struct kerror *e)
{
	size_t kl = strlen(key);
	for (const char *p = opts; p && *p;) {
		const char *c = strchr(p, ',');
		size_t n = c ? (size_t)(c - p) : strlen(p);
		if (n > kl && !strncmp(p, key, kl) && p[kl] == '=') {
			_cleanup_free_ char *v = xstrndup(p + kl + 1, n - kl - 1);
			char *end;
			errno = 0;
			*out = strtoul(v, &end, 10);
			if (!*v || *end || errno || *out > 0xfffffffeUL)
				return kerror_set(e, EINVAL, "invalid --userns option \"%.*s\"", (int)n,
						  p);
		}
		p = c ? c + 1 : NULL;
	}
	return 0;
}

static unsigned long env_id(const char *name, unsigned long dflt)
{
	const char *v = getenv(name);
	char *end;
	if (!v || !*v)
		return dflt;
	unsigned long id = strtoul(v, &end, 10);
	return *end ? dflt : id;
}

int run_userns_plan(const struct run_flags *f, struct run_plan *p, struct kerror *e)
{
	const char *mode = f->userns && *f->userns ? f->userns : "";
	const char *opts = strchr(mode, ':') ? strchr(mode, ':') + 1 : NULL;
	bool rootless = run_rootless();
	unsigned long usize = ns_size("/proc/self/uid_map"), gsize = ns_size("/proc/self/gid_map");
	int r;

	p->userns = xstrdup(mode);
	for (size_t i = 0; f->uidmap && f->uidmap[i]; i++)
		if ((r = parse_triplet("--uidmap", f->uidmap[i], &p->uid_map, e)) < 0)
			return r;
	for (size_t i = 0; f->gidmap && f->gidmap[i]; i++)
		if ((r = parse_triplet("--gidmap", f->gidmap[i], &p->gid_map, e)) < 0)
			return r;
	if (f->subuidname && (r = subid_map("/etc/subuid", f->subuidname, &p->uid_map, e)) < 0)
		return r;
	if ((f->subgidname || f->subuidname) &&
	    (r = subid_map("/etc/subgid", f->subgidname ? f->subgidname : f->subuidname,
			   &p->gid_map, e)) < 0)
		return r;
	if (p->uid_map || p->gid_map) {
		if (*mode && strcmp(mode, "private"))
			return kerror_set(e, EINVAL, "--userns %s cannot be combined with --uidmap, "
						     "--gidmap or --subuidname", mode);
		/* One given: the other is the same (Podman's rule). */
		if (!p->uid_map)
			p->uid_map = copy_strv(p->gid_map);
		if (!p->gid_map)
			p->gid_map = copy_strv(p->uid_map);
		return 0;
	}
	if (!*mode || !strcmp(mode, "host"))
		return 0;
	if (str_has_prefix(mode, "keep-id")) {
		if (!rootless)
			return kerror_set(e, EINVAL, "keep-id is only supported in rootless mode");
		unsigned long uid = env_id("KILN_ROOTLESS_UID", getuid());
		unsigned long gid = env_id("KILN_ROOTLESS_GID", getgid());
		if ((r = mode_opt(opts, "uid", &uid, e)) < 0 || (r = mode_opt(opts, "gid", &gid, e)) < 0)
			return r;
		if (uid >= usize || gid >= gsize)
			return kerror_set(e, EINVAL, "--userns keep-id: id %lu is beyond the %lu ids "
						     "of the user namespace", uid >= usize ? uid : gid,
					  uid >= usize ? usize : gsize);
		/* The user (root of ours) is uid inside; 1..uid below it, the
		 * rest above. */
		push_map(&p->uid_map, 0, 1, uid);
		push_map(&p->uid_map, uid, 0, 1);
		push_map(&p->uid_map, uid + 1, uid + 1, usize - uid - 1);
		push_map(&p->gid_map, 0, 1, gid);
		push_map(&p->gid_map, gid, 0, 1);
		push_map(&p->gid_map, gid + 1, gid + 1, gsize - gid - 1);
		if (!f->user || !*f->user) {
			p->uid = (uid_t)uid;
			p->gid = (gid_t)gid;
		}
		return 0;
	}
	if (!strcmp(mode, "nomap") || str_has_prefix(mode, "auto")) {
		unsigned long size = 65536;
		if (str_has_prefix(mode, "auto") && (r = mode_opt(opts, "size", &size, e)) < 0)
			return r;
		if (!rootless) {
			if (!strcmp(mode, "nomap"))
				return kerror_set(e, EINVAL, "nomap is only supported in rootless mode");
			/* Root: the range of the "containers" user, as Podman. */
			if ((r = subid_map("/etc/subuid", "containers", &p->uid_map, e)) < 0 ||
			    (r = subid_map("/etc/subgid", "containers", &p->gid_map, e)) < 0)
				return kerror_wrap(e, "--userns auto");
			return 0;
		}
		/* Rootless: the subordinate ids only, not the user's own. */
		if (usize < 2 || gsize < 2)
			return kerror_set(e, EINVAL, "--userns %s needs subordinate ids (/etc/subuid)",
					  mode);
		push_map(&p->uid_map, 0, 1, size < usize - 1 ? size : usize - 1);
		push_map(&p->gid_map, 0, 1, size < gsize - 1 ? size : gsize - 1);
		return 0;
	}
	return kerror_set(e, EINVAL, "invalid --userns \"%s\": host, keep-id, auto, nomap", mode);
}

int run_id_shifts(char *const *map, struct id_shift **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	for (size_t i = 0; map && map[i]; i++) {
		unsigned long a, b, c;
		if (sscanf(map[i], "%lu %lu %lu", &a, &b, &c) != 3)
			return -EINVAL;
		*out = xrealloc(*out, (*n + 1) * sizeof(**out));
		(*out)[(*n)++] = (struct id_shift){ (unsigned)a, (unsigned)b, (unsigned)c };
	}
	return 0;
}
