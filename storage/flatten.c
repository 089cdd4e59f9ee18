/* Layer directories laid one over another (store_merge_dir):
 * - a full copy of an image's root file system (store_layers_flatten): its
 *   layers applied base first into one directory, whiteouts deleting and
 *   opaque directories emptying what is below, owners optionally shifted.
 *   The rootfs of a container under the vfs driver, and of a container in
 *   a user namespace of its own as root (a chowned copy, where overlay
 *   cannot be idmapped);
 * - a build's --squash: later layers merged into one layer, whiteouts and
 *   opaque markers kept to hide what is below it. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "storage/store_private.h"

#define MAX_DEPTH 256

static unsigned shift_id(const struct id_shift *m, size_t n, unsigned id)
{
	if (!m)
		return id;
	for (size_t i = 0; i < n; i++)
		if (id >= m[i].inner && id - m[i].inner < m[i].count)
			return m[i].outer + (id - m[i].inner);
	return 65534; /* unmapped: overflow id, as the kernel shows it */
}

static int set_owner(const struct store_merge_opts *f, int dir, const char *name,
		     const struct stat *st, struct kerror *e)
{
	if (fchownat(dir, name, shift_id(f->uids, f->n_uids, st->st_uid),
		     shift_id(f->gids, f->n_gids, st->st_gid), AT_SYMLINK_NOFOLLOW) < 0 &&
	    !(f->lenient && (errno == EPERM || errno == EINVAL)))
		return kerror_sys(e, errno, "setting the owner of \"%s\"", name);
	return 0;
}

/* xattrs other than overlay's own.  (Through the fd: the l*xattr calls on
 * /proc/self/fd/N would read the magic link's own, none.) */
static void copy_xattrs(int in, int out)
{
	char names[4096], val[4096];
	ssize_t n = flistxattr(in, names, sizeof(names));
	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(names + i) + 1) {
		const char *k = names + i;
		if (str_has_prefix(k, "trusted.overlay.") || str_has_prefix(k, "user.overlay."))
			continue;
		ssize_t m = fgetxattr(in, k, val, sizeof(val));
		if (m >= 0)
			fsetxattr(out, k, val, (size_t)m, 0);
	}
}

static int copy_reg(const struct store_merge_opts *f, int sdir, const char *name,
		    const struct stat *st, int ddir, struct kerror *e)
{
	_cleanup_close_ int in = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_close_ int out = -1;
	if (in < 0)
		return kerror_sys(e, errno, "reading \"%s\"", name);
	out = openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0)
		return kerror_sys(e, errno, "creating \"%s\"", name);
	for (off_t left = st->st_size; left > 0;) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)left, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			char buf[65536];
			ssize_t m = read(in, buf, sizeof(buf));
			if (m < 0 && errno == EINTR)
				continue;
			if (m <= 0 || fs_write_all(out, buf, (size_t)m) < 0)
				return kerror_sys(e, m < 0 ? errno : EIO, "copying \"%s\"", name);
			n = m;
		}
		left -= n;
	}
	/* chown clears set-id bits and file capabilities: it goes first. */
	if (fchown(out, shift_id(f->uids, f->n_uids, st->st_uid),
		   shift_id(f->gids, f->n_gids, st->st_gid)) < 0 &&
	    !(f->lenient && (errno == EPERM || errno == EINVAL)))
		return kerror_sys(e, errno, "setting the owner of \"%s\"", name);
	if (fchmod(out, st->st_mode & 07777) < 0)
		return kerror_sys(e, errno, "setting the mode of \"%s\"", name);
	copy_xattrs(in, out);
	struct timespec ts[2] = { st->st_atim, st->st_mtim };
	futimens(out, ts);
	return 0;
}

static int merge_dir(const struct store_merge_opts *f, int sdir, int ddir, int depth,
		     struct kerror *e)
{
	_cleanup_close_ int rfd = openat(sdir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;
	struct dirent *de;
	int r = 0;

	if (depth > MAX_DEPTH)
		return kerror_set(e, ELOOP, "layer directories nested too deeply");
	if (rfd < 0 || !(d = fdopendir(rfd)))
		return kerror_sys(e, errno, "reading a layer");
	rfd = -1;
	while (r == 0 && (de = readdir(d))) {
		const char *name = de->d_name;
		struct stat st, dst;
		bool have;
		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = kerror_sys(e, errno, "reading \"%s\"", name);
			break;
		}
		have = fstatat(ddir, name, &dst, AT_SYMLINK_NOFOLLOW) == 0;
		if (store_is_whiteout(&st) && !f->keep_whiteouts) {
			/* a whiteout: what is below is gone */
			if (have)
				r = fs_rm_rf_at(ddir, name, e);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			_cleanup_close_ int s2 = openat(dirfd(d), name, O_RDONLY | O_DIRECTORY |
								       O_NOFOLLOW | O_CLOEXEC);
			_cleanup_close_ int d2 = -1;
			bool opq = s2 >= 0 && store_is_opaque_fd(s2);
			if (s2 < 0) {
				r = kerror_sys(e, errno, "reading \"%s\"", name);
				break;
			}
			if (have && (!S_ISDIR(dst.st_mode) || opq)) {
				r = fs_rm_rf_at(ddir, name, e);
				have = false;
			}
			if (r == 0 && !have && mkdirat(ddir, name, 0700) < 0)
				r = kerror_sys(e, errno, "creating \"%s\"", name);
			if (r < 0)
				break;
			d2 = openat(ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (d2 < 0) {
				r = kerror_sys(e, errno, "creating \"%s\"", name);
				break;
			}
			/* Kept, the marker hides what is below the merged layer. */
			if (opq && f->keep_whiteouts &&
			    fsetxattr(d2, fs_in_user_namespace() ? "user.overlay.opaque"
								 : "trusted.overlay.opaque",
				      "y", 1, 0) < 0) {
				r = kerror_sys(e, errno, "marking \"%s\" opaque", name);
				break;
			}
			r = merge_dir(f, s2, d2, depth + 1, e);
			if (r == 0)
				r = set_owner(f, ddir, name, &st, e);
			if (r == 0 && fchmod(d2, st.st_mode & 07777) < 0)
				r = kerror_sys(e, errno, "setting the mode of \"%s\"", name);
			if (r == 0) {
				struct timespec ts[2] = { st.st_atim, st.st_mtim };
				copy_xattrs(s2, d2);
				futimens(d2, ts);
			}
			continue;
		}
		if (have && (r = fs_rm_rf_at(ddir, name, e)) < 0)
			break;
		if (S_ISREG(st.st_mode)) {
			r = copy_reg(f, dirfd(d), name, &st, ddir, e);
		} else if (S_ISLNK(st.st_mode)) {
			char target[4097];
			ssize_t n = readlinkat(dirfd(d), name, target, sizeof(target) - 1);
			if (n < 0) {
				r = kerror_sys(e, errno, "reading \"%s\"", name);
				break;
			}
			target[n] = '\0';
			if (symlinkat(target, ddir, name) < 0)
				r = kerror_sys(e, errno, "creating \"%s\"", name);
			else
				r = set_owner(f, ddir, name, &st, e);
		} else {
			/* kept whiteouts, devices, fifos, sockets (a device needs
			 * privilege: skipped without it when lenient, as tar_apply
			 * does rootless) */
			if (mknodat(ddir, name, st.st_mode, st.st_rdev) < 0) {
				if (!f->lenient || errno != EPERM)
					r = kerror_sys(e, errno, "creating \"%s\"", name);
				continue;
			}
			r = set_owner(f, ddir, name, &st, e);
		}
	}
	closedir(d);
	return r;
}

int store_merge_dir(int sdir, int ddir, const struct store_merge_opts *o, struct kerror *e)
{
	return merge_dir(o, sdir, ddir, 0, e);
}

int store_layers_flatten(struct store *s, char *const *layers, const char *dest,
			 const struct id_shift *uids, size_t n_uids, const struct id_shift *gids,
			 size_t n_gids, struct kerror *e)
{
	struct store_merge_opts f = { .uids = uids, .gids = gids, .n_uids = n_uids,
				      .n_gids = n_gids, .lenient = true };
	_cleanup_close_ int dfd = -1;
	int r;

	if (mkdir(dest, 0755) < 0 && errno != EEXIST)
		return kerror_sys(e, errno, "creating \"%s\"", dest);
	dfd = open(dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return kerror_sys(e, errno, "opening \"%s\"", dest);
	for (size_t i = 0; layers && layers[i]; i++) {
		_cleanup_free_ char *diff = store_layer_diff_path(s, layers[i]);
		_cleanup_close_ int sfd = open(diff, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sfd < 0)
			return kerror_sys(e, errno, "opening layer \"%s\"", layers[i]);
		if ((r = store_merge_dir(sfd, dfd, &f, e)) < 0)
			return kerror_wrap(e, "copying layer %.12s", layers[i]);
	}
	/* The root directory itself: root's, as the kernel maps it. */
	if (fchown(dfd, shift_id(uids, n_uids, 0), shift_id(gids, n_gids, 0)) < 0 && errno != EPERM)
		return kerror_sys(e, errno, "setting the owner of \"%s\"", dest);
	return 0;
}
