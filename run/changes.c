/* A container's changes to its image: its upper dir, less the mount points
 * of the /etc files kiln bind-mounts (made there when the init layer could
 * not hold them; Docker's diff, commit and export never see them either).
 * diff walks it; commit copies it into a layer. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "run/run.h"

#define DEPTH_MAX 256

bool run_upper_generated(const char *rel)
{
	return !strcmp(rel, "etc/hosts") || !strcmp(rel, "etc/hostname") ||
	       !strcmp(rel, "etc/resolv.conf");
}

/* Is rel (relative) in the image: the top layer that has it or hides it
 * decides. */
static bool in_lowers(char *const *lowers, const char *rel)
{
	size_t n = strv_len(lowers);
	for (size_t i = n; i-- > 0;) {
		_cleanup_free_ char *p = xasprintf("%s/%s", lowers[i], rel);
		struct stat st;
		if (lstat(p, &st) == 0)
			return !store_is_whiteout(&st);
		char *slash = strrchr(p, '/');
		*slash = '\0';
		if (strlen(p) > strlen(lowers[i]) && store_is_opaque(p))
			return false;
	}
	return false;
}

struct walk {
	char *const *lowers;
	struct run_change *list;
	size_t n;
};

static void add(struct walk *w, char kind, const char *rel)
{
	w->list = xrealloc(w->list, (w->n + 1) * sizeof(*w->list));
	w->list[w->n].kind = kind;
	w->list[w->n].path = xasprintf("/%s", rel);
	w->n++;
}

/* Walks dir (rel: its path, "" for the root); returns the entries added. */
static int walk_dir(struct walk *w, const char *dir, const char *rel, int depth,
		    size_t *added, struct kerror *e)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int r = 0;
	*added = 0;
	if (!d)
		return kerror_sys(e, errno, "reading \"%s\"", dir);
	if (depth > DEPTH_MAX) {
		closedir(d);
		return kerror_set(e, ELOOP, "\"%s\": directories nested too deeply", dir);
	}
	while (r == 0 && (de = readdir(d))) {
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		_cleanup_free_ char *path = xasprintf("%s/%s", dir, de->d_name);
		_cleanup_free_ char *r2 = *rel ? xasprintf("%s/%s", rel, de->d_name)
					       : xstrdup(de->d_name);
		if (run_upper_generated(r2) || lstat(path, &st) < 0)
			continue;
		if (store_is_whiteout(&st)) {
			add(w, 'D', r2);
			(*added)++;
			continue;
		}
		bool lower = in_lowers(w->lowers, r2);
		if (!S_ISDIR(st.st_mode)) {
			add(w, lower ? 'C' : 'A', r2);
			(*added)++;
			continue;
		}
		size_t at = w->n, sub = 0;
		add(w, lower ? 'C' : 'A', r2);
		r = walk_dir(w, path, r2, depth + 1, &sub, e);
		if (r == 0 && lower && sub == 0 && !store_is_opaque(path)) {
			/* a directory only kiln's generated files touched */
			free(w->list[at].path);
			memmove(&w->list[at], &w->list[at + 1], (w->n - at - 1) * sizeof(*w->list));
			w->n--;
			continue;
		}
		*added += 1 + sub;
	}
	closedir(d);
	return r;
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct run_change *)a)->path, ((const struct run_change *)b)->path);
}

static char **lower_dirs(struct store *s, char *const *layers)
{
	char **out = NULL;
	for (size_t i = 0; layers && layers[i]; i++)
		strv_push(&out, store_layer_diff_path(s, layers[i]));
	return out;
}

/* A container whose root is a full copy (vfs driver, --userns/--uidmap)
 * has no upper dir of changes: diff and commit are refused, not empty. */
static int copied_root(const char *cdir, struct kerror *e)
{
	_cleanup_free_ char *copy = xasprintf("%s/rootfs", cdir);
	if (access(copy, F_OK) == 0)
		return kerror_set(e, ENOTSUP, "the container's root is a full copy (vfs storage "
					      "driver or a user namespace of its own): its changes "
					      "cannot be listed or committed yet");
	return 0;
}

int run_changes(struct store *s, const char *id, char *const *layers, struct run_change **out,
		size_t *n, struct kerror *e)
{
	_cleanup_strv_ char **lowers = lower_dirs(s, layers);
	_cleanup_free_ char *cdir = store_container_dir(s, id);
	_cleanup_free_ char *upper = xasprintf("%s/upper", cdir);
	struct walk w = { .lowers = lowers };
	size_t added;
	int r;
	if ((r = copied_root(cdir, e)) < 0)
		return r;
	r = walk_dir(&w, upper, "", 0, &added, e);
	if (r < 0) {
		run_changes_free(w.list, w.n);
		return r;
	}
	if (w.n)
		qsort(w.list, w.n, sizeof(*w.list), by_path);
	*out = w.list;
	*n = w.n;
	return 0;
}

void run_changes_free(struct run_change *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(c[i].path);
	free(c);
}

/* ---- the upper dir copied into a layer ------------------------------------- */

static int copy_xattrs(const char *src, const char *dst, struct kerror *e)
{
	char list[16384], val[65536];
	ssize_t n = llistxattr(src, list, sizeof(list));
	for (ssize_t i = 0; n > 0 && i < n; i += (ssize_t)strlen(list + i) + 1) {
		ssize_t vl = lgetxattr(src, list + i, val, sizeof(val));
		if (vl < 0)
			continue;
		if (lsetxattr(dst, list + i, val, (size_t)vl, 0) < 0 && errno != ENOTSUP &&
		    errno != EPERM)
			return kerror_sys(e, errno, "copying the xattr %s of \"%s\"", list + i, src);
	}
	return 0;
}

static int copy_data(const char *src, const char *dst, mode_t mode, struct kerror *e)
{
	_cleanup_close_ int in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_close_ int out = -1;
	char buf[65536];
	ssize_t n;
	if (in < 0)
		return kerror_sys(e, errno, "opening \"%s\"", src);
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 0777);
	if (out < 0)
		return kerror_sys(e, errno, "creating \"%s\"", dst);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (fs_write_all(out, buf, (size_t)n) < 0)
			return kerror_sys(e, errno, "writing \"%s\"", dst);
	return n < 0 ? kerror_sys(e, errno, "reading \"%s\"", src) : 0;
}

static int copy_tree(const char *src, const char *dst, const char *rel, int depth,
		     struct kerror *e)
{
	DIR *d = opendir(src);
	struct dirent *de;
	int r = 0;
	if (!d)
		return kerror_sys(e, errno, "reading \"%s\"", src);
	if (depth > DEPTH_MAX) {
		closedir(d);
		return kerror_set(e, ELOOP, "\"%s\": directories nested too deeply", src);
	}
	while (r == 0 && (de = readdir(d))) {
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		_cleanup_free_ char *s = xasprintf("%s/%s", src, de->d_name);
		_cleanup_free_ char *t = xasprintf("%s/%s", dst, de->d_name);
		_cleanup_free_ char *r2 = *rel ? xasprintf("%s/%s", rel, de->d_name)
					       : xstrdup(de->d_name);
		if (run_upper_generated(r2) || lstat(s, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (mkdir(t, 0700) < 0)
				r = kerror_sys(e, errno, "creating \"%s\"", t);
			if (r == 0)
				r = copy_tree(s, t, r2, depth + 1, e);
			/* drop /etc when kiln's files were all it held */
			if (r == 0 && !strcmp(r2, "etc") && rmdir(t) == 0)
				continue;
		} else if (S_ISREG(st.st_mode)) {
			r = copy_data(s, t, st.st_mode, e);
		} else if (S_ISLNK(st.st_mode)) {
			char link[4096];
			ssize_t n = readlink(s, link, sizeof(link) - 1);
			if (n < 0 || (link[n] = '\0', symlink(link, t) < 0))
				r = kerror_sys(e, errno, "copying the link \"%s\"", s);
		} else if (mknod(t, st.st_mode, st.st_rdev) < 0) {
			r = kerror_sys(e, errno, "copying \"%s\"", s);
		}
		if (r < 0)
			break;
		struct timespec ts[2] = { st.st_atim, st.st_mtim };
		if (lchown(t, st.st_uid, st.st_gid) < 0 ||
		    (!S_ISLNK(st.st_mode) && chmod(t, st.st_mode & 07777) < 0))
			r = kerror_sys(e, errno, "setting the owner of \"%s\"", t);
		if (r == 0)
			r = copy_xattrs(s, t, e);
		if (r == 0)
			utimensat(AT_FDCWD, t, ts, AT_SYMLINK_NOFOLLOW);
	}
	closedir(d);
	return r;
}

int run_upper_copy(struct store *s, const char *id, const char *dest, struct kerror *e)
{
	_cleanup_free_ char *cdir = store_container_dir(s, id);
	_cleanup_free_ char *upper = xasprintf("%s/upper", cdir);
	struct stat st;
	int r;
	if ((r = copied_root(cdir, e)) < 0)
		return r;
	if (stat(upper, &st) < 0)
		return kerror_sys(e, errno, "reading \"%s\"", upper);
	if (mkdir(dest, 0755) < 0)
		return kerror_sys(e, errno, "creating \"%s\"", dest);
	r = copy_tree(upper, dest, "", 0, e);
	if (r == 0 && (chown(dest, st.st_uid, st.st_gid) < 0 || chmod(dest, st.st_mode & 07777) < 0))
		r = kerror_sys(e, errno, "setting the owner of \"%s\"", dest);
	return r;
}
