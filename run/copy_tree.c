/* One tree copier for the places that copy a directory's contents as they
 * are: a volume's first mount (volumes.c), the seed of a build's cache
 * mount with from=, the context view of a build's bind mount (hard links
 * then).  Descriptors all the way down (openat with O_NOFOLLOW, never a
 * path walked twice), so a symlink in the source is copied, never
 * followed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run/run.h"

#define COPY_DEPTH_MAX 256

struct walk {
	const struct run_copy_opts *o;
	char buf[65536];
};

/* An owner we may not give (a rootless user's) is an error only when the
 * copy is strict. */
static bool owner_ok(const struct walk *w, int r)
{
	return r == 0 || (w->o->lenient && (errno == EPERM || errno == EINVAL));
}

static int copy_file(struct walk *w, int sdir, int ddir, const char *name, const char *rel,
		     const struct stat *st, struct kerror *e)
{
	_cleanup_close_ int in = -1, out = -1;
	off_t done = 0;
	if (w->o->link) {
		if (linkat(sdir, name, ddir, name, 0) == 0)
			return 0;
		/* another file system, or links the kernel protects: a copy */
		if (errno != EXDEV && errno != EPERM && errno != EMLINK)
			return kerror_sys(e, errno, "linking \"%s\"", rel);
	}
	in = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return kerror_sys(e, errno, "reading \"%s\"", rel);
	out = openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0)
		return kerror_sys(e, errno, "creating \"%s\"", rel);
	while (done < st->st_size) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)(st->st_size - done), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) /* not across these file systems, or the file shrank */
			break;
		done += n;
	}
	for (;;) {
		ssize_t n = read(in, w->buf, sizeof(w->buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return kerror_sys(e, errno, "reading \"%s\"", rel);
		if (n == 0)
			break;
		if (fs_write_all(out, w->buf, (size_t)n) < 0)
			return kerror_sys(e, errno, "writing \"%s\"", rel);
	}
	if (!owner_ok(w, fchown(out, st->st_uid, st->st_gid)) || fchmod(out, st->st_mode & 07777) < 0)
		return kerror_sys(e, errno, "setting the owner and mode of \"%s\"", rel);
	return 0;
}

static int copy_dir(struct walk *w, int src, int dst, const char *rel, int depth,
		    struct kerror *e);

static int copy_entry(struct walk *w, int sdir, int ddir, const char *name, const char *rel,
		      int depth, struct kerror *e)
{
	struct stat st;
	if (fstatat(sdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return kerror_sys(e, errno, "reading \"%s\"", rel);
	if (w->o->skip && w->o->skip(w->o->ctx, rel, S_ISDIR(st.st_mode)))
		return 0;
	if (S_ISREG(st.st_mode))
		return copy_file(w, sdir, ddir, name, rel, &st, e);
	if (S_ISLNK(st.st_mode)) {
		char link[4096];
		ssize_t n = readlinkat(sdir, name, link, sizeof(link) - 1);
		if (n < 0)
			return kerror_sys(e, errno, "reading \"%s\"", rel);
		link[n] = '\0';
		if (symlinkat(link, ddir, name) < 0 ||
		    !owner_ok(w, fchownat(ddir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW)))
			return kerror_sys(e, errno, "creating the symlink \"%s\"", rel);
		return 0;
	}
	if (S_ISDIR(st.st_mode)) {
		_cleanup_close_ int s2 = -1, d2 = -1;
		int r;
		if (mkdirat(ddir, name, 0700) < 0)
			return kerror_sys(e, errno, "creating \"%s\"", rel);
		s2 = openat(sdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		d2 = openat(ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (s2 < 0 || d2 < 0)
			return kerror_sys(e, errno, "reading \"%s\"", rel);
		r = copy_dir(w, s2, d2, rel, depth + 1, e);
		if (r == 0 && (!owner_ok(w, fchown(d2, st.st_uid, st.st_gid)) ||
			       fchmod(d2, st.st_mode & 07777) < 0))
			r = kerror_sys(e, errno, "setting the owner and mode of \"%s\"", rel);
		return r;
	}
	/* fifos, sockets, devices */
	if (mknodat(ddir, name, st.st_mode, st.st_rdev) < 0)
		return w->o->lenient ? 0 : kerror_sys(e, errno, "creating \"%s\"", rel);
	if (!owner_ok(w, fchownat(ddir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW)))
		return kerror_sys(e, errno, "setting the owner of \"%s\"", rel);
	return 0;
}

static int copy_dir(struct walk *w, int src, int dst, const char *rel, int depth,
		    struct kerror *e)
{
	int fd;
	DIR *d;
	struct dirent *de;
	int r = 0;
	if (depth > COPY_DEPTH_MAX)
		return kerror_set(e, ELOOP, "\"%s\": directories nested too deeply", rel);
	fd = fcntl(src, F_DUPFD_CLOEXEC, 3);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return kerror_sys(e, errno, "reading \"%s\"", rel[0] ? rel : ".");
	}
	while (r == 0 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		_cleanup_free_ char *crel = rel[0] ? xasprintf("%s/%s", rel, de->d_name)
						   : xstrdup(de->d_name);
		r = copy_entry(w, src, dst, de->d_name, crel, depth, e);
	}
	closedir(d);
	return r;
}

int run_copy_tree(int src, int dst, const struct run_copy_opts *o, struct kerror *e)
{
	static const struct run_copy_opts none = { 0 };
	_cleanup_free_ struct walk *w = xcalloc(1, sizeof(*w));
	w->o = o ? o : &none;
	return copy_dir(w, src, dst, w->o->prefix ? w->o->prefix : "", 0, e);
}
