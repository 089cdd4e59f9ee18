/* File-system helpers: mkdir -p, rm -rf, atomic writes, bounded reads. */
#include <errno.h>
#include <linux/openat2.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common.h"

int fs_mkdir_p(const char *path, mode_t mode, struct kerror *e)
{
	_cleanup_free_ char *p = xstrdup(path);
	size_t len = strlen(p);

	while (len > 1 && p[len - 1] == '/')
		p[--len] = '\0';
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return kerror_sys(e, errno, "creating directory \"%s\"", p);
		*s = '/';
	}
	if (mkdir(p, mode) < 0) {
		struct stat st;
		if (errno != EEXIST)
			return kerror_sys(e, errno, "creating directory \"%s\"", p);
		if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode))
			return kerror_set(e, ENOTDIR, "creating directory \"%s\": not a directory", p);
	}
	return 0;
}

/* Removes the contents of the directory open at fd (fd is consumed). */
static int rm_contents(int fd, dev_t dev, const char *what, struct kerror *e)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;
	int r = 0;

	if (!d) {
		close(fd);
		return kerror_sys(e, errno, "removing \"%s\"", what);
	}
	while ((de = readdir(d))) {
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue;
			r = kerror_sys(e, errno, "removing \"%s/%s\"", what, de->d_name);
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			int cfd;
			if (st.st_dev != dev) {
				r = kerror_set(e, EXDEV, "removing \"%s/%s\": a mount point",
					       what, de->d_name);
				break;
			}
			cfd = openat(dirfd(d), de->d_name,
				     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (cfd < 0) {
				/* A directory without search permission: allow ourselves in. */
				if (errno == EACCES && fchmodat(dirfd(d), de->d_name, 0700, 0) == 0)
					cfd = openat(dirfd(d), de->d_name,
						     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				if (cfd < 0) {
					r = kerror_sys(e, errno, "removing \"%s/%s\"", what,
						       de->d_name);
					break;
				}
			}
			r = rm_contents(cfd, dev, what, e);
			if (r < 0)
				break;
			if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
				r = kerror_sys(e, errno, "removing \"%s/%s\"", what, de->d_name);
				break;
			}
		} else if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT) {
			r = kerror_sys(e, errno, "removing \"%s/%s\"", what, de->d_name);
			break;
		}
	}
	closedir(d);
	return r;
}

int fs_rm_rf_at(int dirfd, const char *name, struct kerror *e)
{
	struct stat st;
	int fd, r;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return kerror_sys(e, errno, "removing \"%s\"", name);
	}
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
			return kerror_sys(e, errno, "removing \"%s\"", name);
		return 0;
	}
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return kerror_sys(e, errno, "removing \"%s\"", name);
	r = rm_contents(fd, st.st_dev, name, e);
	if (r < 0)
		return r;
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return kerror_sys(e, errno, "removing \"%s\"", name);
	return 0;
}

int fs_rm_rf(const char *path, struct kerror *e)
{
	return fs_rm_rf_at(AT_FDCWD, path, e);
}

int fs_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int fs_fsync_dir(const char *dir, struct kerror *e)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		return kerror_sys(e, errno, "syncing directory \"%s\"", dir);
	return 0;
}

static int write_atomic(const char *tmpdir, const char *path, const void *data, size_t len,
			mode_t mode, bool sync, struct kerror *e)
{
	_cleanup_free_ char *dir = xstrdup(path);
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -1;
	char *slash = strrchr(dir, '/');
	int r;

	if (slash == dir)
		dir[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		strcpy(dir, ".");
	tmp = tmpdir ? xasprintf("%s/write-XXXXXX", tmpdir) : xasprintf("%s.tmp-XXXXXX", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return kerror_sys(e, errno, "writing \"%s\"", path);
	r = fs_write_all(fd, data, len);
	if (r == 0 && fchmod(fd, mode) < 0)
		r = -errno;
	if (r == 0 && sync && fsync(fd) < 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return kerror_sys(e, -r, "writing \"%s\"", path);
	}
	return sync ? fs_fsync_dir(dir, e) : 0;
}

int fs_write_atomic_in(const char *tmpdir, const char *path, const void *data, size_t len,
		       mode_t mode, struct kerror *e)
{
	return write_atomic(tmpdir, path, data, len, mode, true, e);
}

int fs_write_atomic_unsynced_in(const char *tmpdir, const char *path, const void *data,
				size_t len, mode_t mode, struct kerror *e)
{
	return write_atomic(tmpdir, path, data, len, mode, false, e);
}

int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
		    struct kerror *e)
{
	return fs_write_atomic_in(NULL, path, data, len, mode, e);
}

int fs_read_fd(int fd, size_t max, const char *what, char **out, size_t *len,
	       struct kerror *e)
{
	struct buf b = { 0 };
	char chunk[65536];

	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			buf_release(&b);
			return kerror_sys(e, errno, "reading \"%s\"", what);
		}
		if (n == 0)
			break;
		if (b.len + (size_t)n > max) {
			buf_release(&b);
			return kerror_set(e, EFBIG, "reading \"%s\": larger than %zu bytes",
					  what, max);
		}
		buf_append(&b, chunk, (size_t)n);
	}
	if (len)
		*len = b.len;
	*out = buf_steal(&b);
	return 0;
}

int fs_read_file(const char *path, size_t max, char **out, size_t *len, struct kerror *e)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return kerror_sys(e, errno, "opening \"%s\"", path);
	return fs_read_fd(fd, max, path, out, len, e);
}

bool fs_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

bool fs_in_user_namespace(void)
{
	/* The initial namespace maps every id: "0 0 4294967295". */
	char buf[128];
	unsigned long inner, outer, count;
	int fd = open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);
	ssize_t n;
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	if (sscanf(buf, "%lu %lu %lu", &inner, &outer, &count) != 3)
		return true;
	return !(inner == 0 && outer == 0 && count == 4294967295UL);
}

bool fs_rootless(void)
{
	return geteuid() != 0 || fs_in_user_namespace();
}

unsigned fs_host_uid(void)
{
	const char *v = getenv("KILN_ROOTLESS_UID");
	char *end;
	if (getuid() == 0 && v && *v && fs_in_user_namespace()) {
		unsigned long u = strtoul(v, &end, 10);
		if (!*end && u < 0xffffffffUL)
			return (unsigned)u;
	}
	return (unsigned)getuid();
}

const char *fs_overlay_extra_opts(void)
{
	return fs_in_user_namespace() ? ",userxattr" : "";
}

const char *fs_overlay_xattr_prefix(void)
{
	return fs_in_user_namespace() ? "user.overlay." : "trusted.overlay.";
}

struct inode_set {
	ino_t *v;
	size_t n, cap;
};

static bool inode_seen(struct inode_set *s, ino_t ino)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == ino)
			return true;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->v = xrealloc(s->v, s->cap * sizeof(ino_t));
	}
	s->v[s->n++] = ino;
	return false;
}

static int du_at(int dfd, const char *name, struct inode_set *links, uint64_t *total,
		 struct kerror *e)
{
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : kerror_sys(e, errno, "measuring \"%s\"", name);
	if (!S_ISDIR(st.st_mode) && st.st_nlink > 1 && inode_seen(links, st.st_ino))
		return 0;
	*total += (uint64_t)st.st_blocks * 512;
	if (S_ISDIR(st.st_mode)) {
		int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		_cleanup_closedir_ DIR *d = NULL;
		struct dirent *de;
		if (fd < 0)
			return kerror_sys(e, errno, "measuring \"%s\"", name);
		d = fdopendir(fd);
		if (!d) {
			close(fd);
			return kerror_sys(e, errno, "measuring \"%s\"", name);
		}
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			int r = du_at(dirfd(d), de->d_name, links, total, e);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int fs_disk_usage(const char *path, uint64_t *bytes, struct kerror *e)
{
	struct inode_set links = { 0 };
	int r;
	*bytes = 0;
	r = du_at(AT_FDCWD, path, &links, bytes, e);
	free(links.v);
	return r;
}

int fs_open_in_root(int rootfd, const char *rel, int flags)
{
	struct open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC),
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	return (int)syscall(SYS_openat2, rootfd, rel[0] ? rel : ".", &how, sizeof(how));
}

char *fs_read_in_root(int rootfd, const char *rel, size_t max)
{
	_cleanup_close_ int fd = fs_open_in_root(rootfd, rel, O_RDONLY);
	char *data = NULL;
	size_t len;
	struct kerror e = { 0 };
	if (fd >= 0)
		fs_read_fd(fd, max, rel, &data, &len, &e);
	kerror_release(&e);
	return data;
}

void fs_stdio_to_devnull(void)
{
	int null = open("/dev/null", O_RDWR);
	if (null < 0)
		return;
	dup2(null, 0);
	dup2(null, 1);
	dup2(null, 2);
	if (null > 2)
		close(null);
}
