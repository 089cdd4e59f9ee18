/* Safe application of a layer tar onto a directory (see storage.h, "tar
 * application", and /work/shared/specs/layers-whiteouts.md).  Every name is
 * cleaned lexically, every parent is opened with openat2(RESOLVE_BENEATH)
 * from the root, and the final component is never followed. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "storage/storage.h"
#include "storage/tar_path.h"

struct dirtime {
	char *path;
	struct timespec ts[2];
};

/* What the kernel gives a regular file created in one directory, learnt
 * from fstat of the files created there: which permission bits creation
 * keeps (the umask, or the directory's default ACL: either way the mode
 * asked AND a fixed mask) and the owner (fsuid, fsgid or the directory's
 * group: setgid, grpid mounts, id-mapping).  While that holds, a file
 * created with its final mode and wanting that owner needs no fchmod nor
 * fchown.  It holds until the directory's own owner, mode or ACL change,
 * which only its entry's set_meta does here (the umask is only changed
 * where nothing is extracted at the same time). */
struct new_file {
	mode_t known;     /* permission bits whose fate at creation is known */
	mode_t kept;      /* of those, the ones creation keeps */
	bool owner_known;
	uid_t uid;
	gid_t gid;
};

struct applier {
	int rootfd;
	const struct tar_apply_opts *o;
	const char *prefix;      /* overlay xattr prefix */
	struct pathset created;  /* paths this layer wrote */
	struct dirtime *dirs;    /* directory times, set at the end */
	size_t ndirs, capdirs;
	/* The last parent directory opened: consecutive entries mostly share
	 * it.  cache_path NULL means "nothing cached" (the fd may still be
	 * open, in use by the current entry, until it is replaced). */
	char *cache_path;
	int cache_fd;
	struct new_file root_new, cache_new; /* for the root, for cache_fd */
	struct tar_apply_stats st;
};

static bool overlay_mode(const struct applier *ap)
{
	return ap->o->whiteouts == TAR_WHITEOUT_OVERLAY;
}

static bool ignorable(const struct applier *ap, int err)
{
	return ap->o->ignore_chown_errors && (err == EPERM || err == EINVAL || err == ENOTSUP);
}

/* Called whenever something existing is removed: the cached parent may
 * have been (or been under) it. */
static void invalidate(struct applier *ap)
{
	free(ap->cache_path);
	ap->cache_path = NULL;
	ap->cache_new = (struct new_file){ 0 };
}

/* Fd of directory dir ("" = the root), owned by the applier. */
static int parent_fd(struct applier *ap, const char *dir, bool create, int *out)
{
	int fd;

	if (!*dir) {
		*out = ap->rootfd;
		return 0;
	}
	if (ap->cache_path && !strcmp(ap->cache_path, dir)) {
		*out = ap->cache_fd;
		return 0;
	}
	fd = tar_open_dir(ap->rootfd, dir, create);
	if (fd < 0)
		return fd;
	if (ap->cache_fd >= 0)
		close(ap->cache_fd);
	free(ap->cache_path);
	ap->cache_fd = *out = fd;
	ap->cache_path = xstrdup(dir);
	ap->cache_new = (struct new_file){ 0 };
	return 0;
}

static int parent_err(struct kerror *e, int r, const char *dir)
{
	if (r == -EXDEV)
		return kerror_set(e, EXDEV, "parent \"%.256s\" leaves the layer through a symlink",
				  dir);
	if (r == -ENOTDIR)
		return kerror_set(e, ENOTDIR, "parent \"%.256s\" is not a directory", dir);
	return kerror_sys(e, -r, "opening parent \"%.256s\"", dir);
}

/* Splits a cleaned path into a new parent string and a pointer to the
 * base inside path. */
static char *split(const char *path, const char **base)
{
	const char *slash = strrchr(path, '/');
	*base = slash ? slash + 1 : path;
	return slash ? xstrndup(path, (size_t)(slash - path)) : xstrdup("");
}

static char *join(const char *dir, const char *name)
{
	return *dir ? xasprintf("%s/%s", dir, name) : xstrdup(name);
}

/* ---- whiteouts -------------------------------------------------------- */

static int prune(struct applier *ap, int dirfd, const char *name, const char *rel,
		 struct kerror *e);

/* Prunes every child of the directory open at fd (consumed). */
static int prune_children(struct applier *ap, int fd, const char *rel, struct kerror *e)
{
	_cleanup_closedir_ DIR *d = fdopendir(fd);
	_cleanup_strv_ char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;

	if (!d) {
		int err = errno;
		close(fd);
		return kerror_sys(e, err, "reading \"%.256s\"", rel);
	}
	/* Names first, removals after: no readdir over a changing directory. */
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n + 1 >= cap) {
			cap = cap ? cap * 2 : 16;
			names = xrealloc(names, cap * sizeof(*names));
		}
		names[n++] = xstrdup(de->d_name);
		names[n] = NULL;
	}
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *crel = join(rel, names[i]);
		int r = prune(ap, dirfd(d), names[i], crel, e);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Removes dirfd/name (rel from the root) except what this layer created:
 * whiteouts and opaque markers only hide lower layers, whatever their
 * position in the tar. */
static int prune(struct applier *ap, int dirfd, const char *name, const char *rel,
		 struct kerror *e)
{
	int fd;

	if (!pathset_get(&ap->created, rel))
		return fs_rm_rf_at(dirfd, name, e);
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0; /* a non-directory this layer wrote: kept */
	return prune_children(ap, fd, rel, e);
}

static int apply_opaque(struct applier *ap, const char *dir, struct kerror *e)
{
	_cleanup_close_ int dfd = -1;
	int pfd, r = parent_fd(ap, dir, overlay_mode(ap), &pfd);

	if (!overlay_mode(ap) && (r == -ENOENT || r == -ENOTDIR))
		return 0;
	if (r < 0)
		return parent_err(e, r, dir);
	dfd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return kerror_sys(e, errno, "opening \"%.256s\"", dir);
	if (overlay_mode(ap)) {
		_cleanup_free_ char *x = xasprintf("%sopaque", ap->prefix);
		if (fsetxattr(dfd, x, "y", 1, 0) < 0 && !ignorable(ap, errno))
			return kerror_sys(e, errno, "marking \"%.256s\" opaque", *dir ? dir : "/");
		if (*dir)
			pathset_add(&ap->created, dir);
		return 0;
	}
	invalidate(ap);
	return prune_children(ap, steal_fd(&dfd), dir, e);
}

static int apply_whiteout(struct applier *ap, const char *parent, const char *base,
			  struct kerror *e)
{
	const char *name = base + 4;
	_cleanup_free_ char *target = NULL;
	struct stat st;
	int pfd, r;

	if (!strcmp(base, ".wh..wh..opq"))
		return apply_opaque(ap, parent, e);
	if (str_has_prefix(base, ".wh..wh."))
		return 0; /* AUFS metadata (.wh..wh.plnk, ...) */
	if (!*name || !strcmp(name, ".") || !strcmp(name, ".."))
		return kerror_set(e, EINVAL, "invalid whiteout");
	target = join(parent, name);
	/* The same layer wrote target: a whiteout only hides lower layers. */
	if (overlay_mode(ap) && pathset_get(&ap->created, target))
		return 0;
	r = parent_fd(ap, parent, overlay_mode(ap), &pfd);
	/* The parent was itself whited out or deleted: nothing to hide. */
	if (r == -ENOENT || r == -ENOTDIR)
		return 0;
	if (r < 0)
		return parent_err(e, r, parent);
	if (!overlay_mode(ap)) {
		invalidate(ap);
		return prune(ap, pfd, name, target, e);
	}
	r = mknodat(pfd, name, S_IFCHR, makedev(0, 0));
	if (r < 0 && errno == EEXIST) {
		if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && store_is_whiteout(&st))
			return 0;
		invalidate(ap);
		if ((r = fs_rm_rf_at(pfd, name, e)) < 0)
			return r;
		r = mknodat(pfd, name, S_IFCHR, makedev(0, 0));
	}
	if (r < 0 && errno != ENOTDIR && !ignorable(ap, errno))
		return kerror_sys(e, errno, "creating whiteout \"%.256s\"", target);
	return 0;
}

/* ---- regular entries --------------------------------------------------- */

static bool xattr_allowed(const struct applier *ap, const char *name)
{
	if (str_has_prefix(name, ap->prefix) || str_has_prefix(name, "user.overlay.") ||
	    str_has_prefix(name, "trusted."))
		return false;
	if (str_has_prefix(name, "security."))
		return !strcmp(name, "security.capability");
	return true;
}

static int set_xattrs(struct applier *ap, struct archive_entry *en, int pfd, const char *base,
		      const char *path, int fd, struct kerror *e)
{
	_cleanup_close_ int opath = -1;
	const char *name;
	const void *val;
	size_t size;
	char proc[64];

	if (archive_entry_xattr_reset(en) == 0)
		return 0;
	while (archive_entry_xattr_next(en, &name, &val, &size) == ARCHIVE_OK) {
		int r;
		if (!name || !xattr_allowed(ap, name)) {
			log_debug("tar: \"%.256s\": xattr \"%.256s\" skipped", path, name ?: "");
			continue;
		}
		if (fd < 0 && opath < 0) {
			/* No fd to the object itself: an O_PATH fd, used through
			 * /proc, never follows a symlink nor opens a device. */
			opath = openat(pfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
			if (opath < 0)
				return kerror_sys(e, errno, "opening \"%.256s\"", path);
			snprintf(proc, sizeof(proc), "/proc/self/fd/%d", opath);
		}
		r = fd >= 0 ? fsetxattr(fd, name, val, size, 0) : setxattr(proc, name, val, size, 0);
		if (r < 0 && !ignorable(ap, errno))
			return kerror_sys(e, errno, "setting xattr \"%.256s\" on \"%.256s\"", name, path);
	}
	return 0;
}

static void entry_times(struct archive_entry *en, struct timespec ts[2])
{
	long mn = archive_entry_mtime_nsec(en);
	ts[1] = (struct timespec){ archive_entry_mtime(en), mn >= 0 && mn < 1000000000 ? mn : 0 };
	ts[0] = ts[1];
	if (archive_entry_atime_is_set(en)) {
		long an = archive_entry_atime_nsec(en);
		ts[0] = (struct timespec){ archive_entry_atime(en),
					   an >= 0 && an < 1000000000 ? an : 0 };
	}
}

enum { SKIP_CHOWN = 1, SKIP_CHMOD = 2 };

/* The mode a regular file is created with: its own, unless chown would
 * clear part of it (setuid, setgid), then 0600 until fchmod. */
static mode_t creation_mode(mode_t perm)
{
	return perm & 07000 ? 0600 : perm & 0777;
}

/* Which of fchown and fchmod the regular file just created at fd (with
 * creation_mode) can go without, as nf knows or learns now from fstat:
 * the calls would change nothing. */
static int new_file_skips(struct new_file *nf, int fd, struct archive_entry *en)
{
	mode_t perm = archive_entry_perm(en) & 07777;
	struct stat st;
	int skip = 0;

	if (perm & 07000)
		return 0;
	if ((perm & ~nf->known) || !nf->owner_known) {
		if (fstat(fd, &st) < 0)
			return 0;
		nf->known |= perm;
		nf->kept = (nf->kept & ~perm) | (st.st_mode & perm);
		nf->owner_known = true;
		nf->uid = st.st_uid;
		nf->gid = st.st_gid;
	}
	if (!(perm & ~nf->kept))
		skip |= SKIP_CHMOD;
	if ((int64_t)nf->uid == archive_entry_uid(en) && (int64_t)nf->gid == archive_entry_gid(en))
		skip |= SKIP_CHOWN;
	return skip;
}

/* Owner, then mode (chown clears setuid), xattrs, times (directories: at
 * the end).  fd is the open regular file, or -1; skip: what
 * new_file_skips found needless. */
static int set_meta(struct applier *ap, struct archive_entry *en, int pfd, const char *base,
		    const char *path, int fd, int skip, struct kerror *e)
{
	mode_t type = archive_entry_filetype(en);
	uid_t uid = (uid_t)archive_entry_uid(en);
	gid_t gid = (gid_t)archive_entry_gid(en);
	struct timespec ts[2];
	int r = 0;

	if (type == AE_IFDIR) /* it may be the cached parent: what it gives changes */
		ap->cache_new = (struct new_file){ 0 };
	if (!(skip & SKIP_CHOWN))
		r = fd >= 0 ? fchown(fd, uid, gid)
			    : fchownat(pfd, base, uid, gid, AT_SYMLINK_NOFOLLOW);
	if (r < 0 && !ignorable(ap, errno))
		return kerror_sys(e, errno, "changing owner of \"%.256s\"", path);
	if (type != AE_IFLNK && !(skip & SKIP_CHMOD)) {
		mode_t mode = archive_entry_perm(en) & 07777;
		r = fd >= 0 ? fchmod(fd, mode) : fchmodat(pfd, base, mode, 0);
		if (r < 0)
			return kerror_sys(e, errno, "changing mode of \"%.256s\"", path);
	}
	if ((r = set_xattrs(ap, en, pfd, base, path, fd, e)) < 0)
		return r;
	entry_times(en, ts);
	if (type == AE_IFDIR) {
		if (ap->ndirs == ap->capdirs) {
			ap->capdirs = ap->capdirs ? ap->capdirs * 2 : 64;
			ap->dirs = xrealloc(ap->dirs, ap->capdirs * sizeof(*ap->dirs));
		}
		ap->dirs[ap->ndirs++] = (struct dirtime){ xstrdup(path), { ts[0], ts[1] } };
		return 0;
	}
	r = fd >= 0 ? futimens(fd, ts) : utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW);
	if (r < 0)
		return kerror_sys(e, errno, "setting times of \"%.256s\"", path);
	return 0;
}

static int write_data(struct applier *ap, struct archive *a, struct archive_entry *en, int fd,
		      const char *path, struct kerror *e)
{
	int64_t pos = 0;

	for (;;) {
		const void *buf;
		size_t n;
		la_int64_t off;
		int r = archive_read_data_block(a, &buf, &n, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
			return kerror_set(e, EIO, "reading \"%.256s\": %s", path,
					  archive_error_string(a) ?: "read error");
		if (off != pos) { /* sparse file: a hole */
			if (off < pos || lseek(fd, off, SEEK_SET) < 0)
				return kerror_set(e, EINVAL, "writing \"%.256s\": bad data offset", path);
			pos = off;
		}
		if ((r = fs_write_all(fd, buf, n)) < 0)
			return kerror_sys(e, -r, "writing \"%.256s\"", path);
		pos += (int64_t)n;
		ap->st.bytes += n;
	}
	if (archive_entry_size_is_set(en) && pos < archive_entry_size(en) &&
	    ftruncate(fd, archive_entry_size(en)) < 0) /* a trailing hole */
		return kerror_sys(e, errno, "writing \"%.256s\"", path);
	return 0;
}

static int create(int pfd, const char *base, struct archive_entry *en, int *fd)
{
	mode_t perm = archive_entry_perm(en) & 07777;
	mode_t type = archive_entry_filetype(en);
	const char *target;
	int r;

	switch (type) {
	case AE_IFREG:
		r = *fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
				 creation_mode(perm));
		break;
	case AE_IFDIR:
		r = mkdirat(pfd, base, 0700);
		break;
	case AE_IFLNK:
		target = archive_entry_symlink(en);
		if (!target || !*target)
			return -EINVAL;
		r = symlinkat(target, pfd, base);
		break;
	default: /* devices and FIFOs */
		r = mknodat(pfd, base, type | 0600,
			    makedev(archive_entry_rdevmajor(en), archive_entry_rdevminor(en)));
	}
	return r < 0 ? -errno : 0;
}

static int make_node(struct applier *ap, struct archive *a, struct archive_entry *en, int pfd,
		     const char *base, const char *path, struct kerror *e)
{
	mode_t type = archive_entry_filetype(en);
	_cleanup_close_ int fd = -1;
	struct stat st;
	int skip = 0, r = create(pfd, base, en, &fd);

	if (r == -EEXIST) {
		if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return kerror_sys(e, errno, "inspecting \"%.256s\"", path);
		if (S_ISDIR(st.st_mode) && type == AE_IFDIR) {
			r = 0; /* merge: keep the directory, update its metadata */
		} else {
			invalidate(ap);
			if ((r = fs_rm_rf_at(pfd, base, e)) < 0)
				return r;
			r = create(pfd, base, en, &fd);
		}
	}
	if (r == -EPERM && (type == AE_IFCHR || type == AE_IFBLK) && ap->o->ignore_chown_errors) {
		log_debug("tar: device \"%.256s\" skipped (no permission)", path);
		return 0;
	}
	if (r < 0)
		return kerror_sys(e, -r, "creating \"%.256s\"", path);
	pathset_add(&ap->created, path);
	if (type == AE_IFREG) {
		skip = new_file_skips(pfd == ap->rootfd ? &ap->root_new : &ap->cache_new, fd, en);
		if ((r = write_data(ap, a, en, fd, path, e)) < 0)
			return r;
	}
	return set_meta(ap, en, pfd, base, path, fd, skip, e);
}

static int make_hardlink(struct applier *ap, int pfd, const char *base, const char *path,
			 const char *target, struct kerror *e)
{
	_cleanup_free_ char *t = NULL, *tdir = NULL;
	_cleanup_close_ int tfd = -1;
	const char *why, *tbase;
	int r;

	if (tar_path_clean(target, &t, &why) < 0)
		return kerror_set(e, EINVAL, "hardlink target \"%.256s\": %s", target, why);
	if (!*t)
		return kerror_set(e, EINVAL, "hardlink target \"%.256s\": not a file", target);
	if (!strcmp(t, path))
		return 0; /* a link to itself changes nothing */
	tdir = split(t, &tbase);
	if (*tdir && (tfd = tar_open_dir(ap->rootfd, tdir, false)) < 0) {
		r = tfd;
		if (r == -ENOENT)
			return kerror_set(e, ENOENT, "hardlink target \"%.256s\" is missing", target);
		parent_err(e, r, tdir);
		return kerror_wrap(e, "hardlink target \"%.256s\"", target);
	}
	/* flags 0: a symlink target is linked itself, never followed. */
	r = linkat(*tdir ? tfd : ap->rootfd, tbase, pfd, base, 0);
	if (r < 0 && errno == EEXIST) {
		invalidate(ap);
		if ((r = fs_rm_rf_at(pfd, base, e)) < 0)
			return r;
		r = linkat(*tdir ? tfd : ap->rootfd, tbase, pfd, base, 0);
	}
	if (r < 0 && errno == ENOENT)
		return kerror_set(e, ENOENT, "hardlink target \"%.256s\" is missing", target);
	if (r < 0 && errno == EPERM) { /* linkat's answer for a directory */
		struct stat st;
		if (fstatat(*tdir ? tfd : ap->rootfd, tbase, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISDIR(st.st_mode))
			return kerror_set(e, EINVAL, "hardlink target \"%.256s\" is a directory",
					  target);
		errno = EPERM;
	}
	if (r < 0)
		return kerror_sys(e, errno, "linking to \"%.256s\"", target);
	pathset_add(&ap->created, path);
	return 0;
}

static const char *type_name(mode_t type)
{
	return type == AE_IFSOCK ? "socket" : "unknown";
}

static int apply_clean(struct applier *ap, struct archive *a, struct archive_entry *en,
		       const char *path, struct kerror *e)
{
	const char *hl = archive_entry_hardlink(en), *base;
	mode_t type = archive_entry_filetype(en);
	_cleanup_free_ char *parent = NULL;
	int pfd, r;

	if (!*path) {
		if (type == AE_IFDIR && !hl)
			return 0; /* "./": the root itself is left as it is */
		return kerror_set(e, EINVAL, "the layer's root can only be a directory");
	}
	parent = split(path, &base);
	if (str_has_prefix(base, ".wh."))
		return apply_whiteout(ap, parent, base, e);
	if (!hl) {
		if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK && type != AE_IFCHR &&
		    type != AE_IFBLK && type != AE_IFIFO)
			return kerror_set(e, EINVAL, "unsupported entry type (%s, mode 0%o)",
					  type_name(type), (unsigned)type);
		int64_t uid = archive_entry_uid(en), gid = archive_entry_gid(en);
		if (uid < 0 || gid < 0 || uid >= UINT32_MAX || gid >= UINT32_MAX)
			return kerror_set(e, EINVAL, "invalid owner %lld:%lld", (long long)uid,
					  (long long)gid);
	}
	r = parent_fd(ap, parent, true, &pfd);
	if (r < 0)
		return parent_err(e, r, parent);
	if (hl)
		return make_hardlink(ap, pfd, base, path, hl, e);
	return make_node(ap, a, en, pfd, base, path, e);
}

static int apply_entry(struct applier *ap, struct archive *a, struct archive_entry *en,
		       struct kerror *e)
{
	const char *raw = archive_entry_pathname(en), *why;
	_cleanup_free_ char *path = NULL;
	int r;

	if (!raw || !*raw)
		return kerror_set(e, EINVAL, "entry without a name");
	if (tar_path_clean(raw, &path, &why) < 0)
		r = kerror_set(e, EINVAL, "%s", why);
	else
		r = apply_clean(ap, a, en, path, e);
	if (r < 0)
		kerror_wrap(e, "entry \"%.256s\"", raw);
	return r;
}

/* Directory times last: writing children changed them. */
static int apply_dir_times(struct applier *ap, struct kerror *e)
{
	for (size_t i = 0; i < ap->ndirs; i++) {
		const char *base;
		_cleanup_free_ char *dir = split(ap->dirs[i].path, &base);
		struct stat st;
		int pfd;

		/* Gone or replaced by a later entry: nothing to do. */
		if (parent_fd(ap, dir, false, &pfd) < 0 ||
		    fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
			continue;
		if (utimensat(pfd, base, ap->dirs[i].ts, AT_SYMLINK_NOFOLLOW) < 0)
			return kerror_sys(e, errno, "setting times of \"%.256s\"",
					  ap->dirs[i].path);
	}
	return 0;
}

static void applier_release(struct applier *ap)
{
	for (size_t i = 0; i < ap->ndirs; i++)
		free(ap->dirs[i].path);
	free(ap->dirs);
	pathset_release(&ap->created);
	invalidate(ap);
	if (ap->cache_fd >= 0)
		close(ap->cache_fd);
}

int tar_apply(struct archive *a, int rootfd, const struct tar_apply_opts *o,
	      struct tar_apply_stats *stats, struct kerror *e)
{
	static const struct tar_apply_opts defaults = { 0 };
	struct applier ap = { .rootfd = rootfd, .o = o ? o : &defaults, .cache_fd = -1 };
	struct archive_entry *en;
	int r = 0;

	ap.prefix = ap.o->xattr_prefix ? ap.o->xattr_prefix : "trusted.overlay.";
	for (;;) {
		int ar = archive_read_next_header(a, &en);
		if (ar == ARCHIVE_EOF)
			break;
		if (ar != ARCHIVE_OK && ar != ARCHIVE_WARN) {
			r = kerror_set(e, EIO, "reading layer: %s",
				       archive_error_string(a) ?: "unreadable header");
			break;
		}
		if (ar == ARCHIVE_WARN)
			log_debug("tar: %s", archive_error_string(a) ?: "warning");
		ap.st.entries++;
		if ((r = apply_entry(&ap, a, en, e)) < 0)
			break;
	}
	if (r == 0)
		r = apply_dir_times(&ap, e);
	if (stats)
		*stats = ap.st;
	applier_release(&ap);
	return r;
}

/* A reader of plain or compressed tar. */
static struct archive *tar_reader_new(void)
{
	struct archive *a = archive_read_new();
	if (!a)
		return NULL;
	/* The built-in decoders only: archive_read_support_filter_all would
	 * also run external programs chosen by the input's first bytes. */
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_format_tar(a); /* ustar, pax, GNU */
	return a;
}

bool tar_fd_is_tar(int fd)
{
	struct archive *a = tar_reader_new();
	struct archive_entry *ent;
	bool yes = false;
	if (!a)
		return false;
	if (lseek(fd, 0, SEEK_SET) == 0 && archive_read_open_fd(a, fd, 16 * 1024) == ARCHIVE_OK) {
		int r = archive_read_next_header(a, &ent);
		yes = r == ARCHIVE_OK || r == ARCHIVE_WARN;
	}
	archive_read_free(a);
	lseek(fd, 0, SEEK_SET);
	return yes;
}

int tar_apply_fd(int fd, int rootfd, const struct tar_apply_opts *o,
		 struct tar_apply_stats *stats, struct kerror *e)
{
	struct archive *a = tar_reader_new();
	int r;

	if (!a)
		return kerror_set(e, ENOMEM, "opening layer: out of memory");
	archive_read_support_format_empty(a);
	if (archive_read_open_fd(a, fd, 128 * 1024) != ARCHIVE_OK)
		r = kerror_set(e, EIO, "opening layer: %s",
			       archive_error_string(a) ?: "unrecognised format");
	else
		r = tar_apply(a, rootfd, o, stats, e);
	archive_read_free(a);
	return r;
}
