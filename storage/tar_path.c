/* Entry-name cleaning, the created-path set and openat2-based directory
 * resolution for tar application. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/common.h"
#include "storage/tar_path.h"

int tar_path_clean(const char *name, char **out, const char **why)
{
	size_t n = strlen(name), len = 0;
	char *res;

	*out = NULL;
	if (name[0] == '/') {
		*why = "absolute path refused";
		return -EINVAL;
	}
	if (n > TAR_PATH_MAX) {
		*why = "name too long";
		return -EINVAL;
	}
	res = xmalloc(n + 1);
	for (const char *p = name; *p;) {
		const char *s = p;
		size_t cl;

		while (*p && *p != '/')
			p++;
		cl = (size_t)(p - s);
		if (*p)
			p++;
		if (cl == 0 || (cl == 1 && s[0] == '.'))
			continue;
		if (cl == 2 && s[0] == '.' && s[1] == '.') {
			if (len == 0) {
				free(res);
				*why = "path leaves the layer";
				return -EINVAL;
			}
			while (len > 0 && res[len - 1] != '/')
				len--;
			if (len > 0)
				len--;
			continue;
		}
		if (cl > NAME_MAX) {
			free(res);
			*why = "name too long";
			return -EINVAL;
		}
		if (len)
			res[len++] = '/';
		memcpy(res + len, s, cl);
		len += cl;
	}
	res[len] = '\0';
	*out = res;
	return 0;
}

/* ---- pathset: open addressing, FNV-1a ---------------------------------- */

static size_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (size_t)h;
}

static size_t slot_of(const struct pathset *s, const char *key)
{
	size_t i = hash_str(key) & (s->cap - 1);
	while (s->keys[i] && strcmp(s->keys[i], key))
		i = (i + 1) & (s->cap - 1);
	return i;
}

static void grow(struct pathset *s)
{
	struct pathset ns = { .cap = s->cap ? s->cap * 2 : 256, .n = s->n };
	ns.keys = xcalloc(ns.cap, sizeof(*ns.keys));
	ns.flags = xcalloc(ns.cap, 1);
	for (size_t i = 0; i < s->cap; i++) {
		if (!s->keys[i])
			continue;
		size_t j = slot_of(&ns, s->keys[i]);
		ns.keys[j] = s->keys[i];
		ns.flags[j] = s->flags[i];
	}
	free(s->keys);
	free(s->flags);
	*s = ns;
}

/* Returns true when the key was already there with all of flag set. */
static bool set_flag(struct pathset *s, const char *key, size_t klen, unsigned flag)
{
	_cleanup_free_ char *k = xstrndup(key, klen);
	size_t i;

	if ((s->n + 1) * 10 >= s->cap * 7)
		grow(s);
	i = slot_of(s, k);
	if (!s->keys[i]) {
		s->keys[i] = steal_pointer(&k);
		s->n++;
	} else if ((s->flags[i] & flag) == flag) {
		return true;
	}
	s->flags[i] |= flag;
	return false;
}

void pathset_add(struct pathset *s, const char *path)
{
	set_flag(s, path, strlen(path), PATHSET_CREATED);
	/* Ancestors, deepest first; once one is known, so are those above it. */
	for (const char *p = strrchr(path, '/'); p; ) {
		size_t len = (size_t)(p - path);
		if (set_flag(s, path, len, PATHSET_ANCESTOR))
			break;
		p = memrchr(path, '/', len);
	}
}

unsigned pathset_get(const struct pathset *s, const char *path)
{
	if (!s->cap)
		return 0;
	size_t i = slot_of(s, path);
	return s->keys[i] ? s->flags[i] : 0;
}

void pathset_release(struct pathset *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->keys[i]);
	free(s->keys);
	free(s->flags);
	*s = (struct pathset){ 0 };
}

/* ---- resolution beneath the root --------------------------------------- */

int tar_open_beneath(int rootfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};
	long fd;
	int tries = 0;

	/* EAGAIN: a concurrent rename made the kernel give up on ".."; retry. */
	do
		fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	while (fd < 0 && (errno == EINTR || (errno == EAGAIN && ++tries < 32)));
	return fd < 0 ? -errno : (int)fd;
}

int tar_open_dir(int rootfd, const char *path, bool create)
{
	_cleanup_free_ char *p = NULL;
	int fd = tar_open_beneath(rootfd, path, O_PATH | O_DIRECTORY);
	int cur = -1;

	if (fd != -ENOENT || !create)
		return fd;
	/* Slow path: walk the prefixes, making the missing ones.  Each prefix
	 * is resolved from the root again, so a symlink met on the way is
	 * judged exactly like in the fast path. */
	p = xstrdup(path);
	for (char *s = p;; s++) {
		if (*s && *s != '/')
			continue;
		char c = *s;
		const char *base;
		*s = '\0';
		fd = tar_open_beneath(rootfd, p, O_PATH | O_DIRECTORY);
		if (fd == -ENOENT) {
			base = strrchr(p, '/');
			base = base ? base + 1 : p;
			int dfd = cur < 0 ? rootfd : cur;
			if (mkdirat(dfd, base, 0755) == 0)
				fchmodat(dfd, base, 0755, 0); /* umask-proof */
			else if (errno != EEXIST)
				fd = -errno;
			if (fd == -ENOENT)
				fd = tar_open_beneath(rootfd, p, O_PATH | O_DIRECTORY);
		}
		if (cur >= 0)
			close(cur);
		if (fd < 0 || !c)
			return fd;
		cur = fd;
		*s = c;
	}
}
