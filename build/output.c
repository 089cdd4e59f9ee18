/* The end products other than the image's layers as built:
 *   --squash      the layers this build added over the FROM image merged
 *                 into one (whiteouts and opaque directories of later
 *                 layers applied to earlier ones, kept where they hide
 *                 something of the base);
 *   --squash-all  the whole root file system as one layer;
 *   --output      the root file system written to a directory (type=local)
 *                 or a tar file (type=tar). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "build/engine_state.h"

#define MAX_DEPTH 256
/* trusted.overlay.opaque, or user.overlay.opaque rootless. */
#define OPQ opq_name()

static const char *opq_name(void)
{
	return fs_in_user_namespace() ? "user.overlay.opaque" : "trusted.overlay.opaque";
}

static char **lowers_range(const struct bstate *s, size_t from, size_t to)
{
	char **v = xcalloc(to - from + 1, sizeof(*v));
	for (size_t i = 0; i < to - from; i++)
		v[i] = xstrdup(s->layers[to - 1 - i]->diff);
	return v;
}

static int fd_sink(void *ctx, const void *data, size_t n, struct kerror *e)
{
	int r = fs_write_all(*(int *)ctx, data, n);
	return r < 0 ? kerror_sys(e, -r, "writing the tar") : 0;
}

/* A read-only view of the state's layers (undone with the build). */
static int view_of(struct build *b, const struct bstate *s, char **out, struct kerror *e)
{
	_cleanup_strv_ char **lowers = lowers_range(s, 0, s->n);
	char *dir = NULL;
	int r = rootfs_mount_ro(store_root(b->s), b->tmp.path, lowers, &dir, e);
	if (r < 0)
		return r;
	if (s->n) {
		size_t n = strv_len(b->mounts);
		b->mounts = xrealloc(b->mounts, (n + 2) * sizeof(char *));
		b->mounts[n] = xstrdup(dir);
		b->mounts[n + 1] = NULL;
	}
	*out = dir;
	return 0;
}

/* The state's root as a tar written to fd. */
static int tar_root(struct build *b, const struct bstate *s, int fd, struct kerror *e)
{
	_cleanup_free_ char *view = NULL;
	int r = view_of(b, s, &view, e);
	if (r == 0)
		r = tar_diff_write(view, NULL, fd_sink, &fd, e);
	return r;
}

int build_output(struct build *b, const struct bstate *s, struct kerror *e)
{
	const char *dest = b->o->output_dest;
	int r;

	if (b->o->output == BUILD_OUTPUT_TAR) {
		_cleanup_close_ int fd = strcmp(dest, "-")
						 ? open(dest, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)
						 : dup(STDOUT_FILENO);
		if (fd < 0)
			return kerror_sys(e, errno, "opening \"%s\"", dest);
		r = tar_root(b, s, fd, e);
		return r < 0 ? kerror_wrap(e, "--output %s", dest) : 0;
	}
	{
		_cleanup_free_ char *tmp = xasprintf("%s/output-XXXXXX", b->tmp.path);
		_cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
		_cleanup_close_ int dfd = -1;
		struct tar_apply_opts o = { .whiteouts = TAR_WHITEOUT_DELETE };
		if (fd < 0)
			return kerror_sys(e, errno, "creating \"%s\"", tmp);
		r = fs_mkdir_p(dest, 0755, e);
		if (r == 0)
			r = tar_root(b, s, fd, e);
		if (r < 0)
			return kerror_wrap(e, "--output %s", dest);
		dfd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0 || lseek(fd, 0, SEEK_SET) < 0)
			return kerror_sys(e, errno, "opening \"%s\"", dest);
		r = tar_apply_fd(fd, dfd, &o, NULL, e);
		return r < 0 ? kerror_wrap(e, "--output %s", dest) : 0;
	}
}

/* ---- merging layer dirs --------------------------------------------------- */

static bool is_whiteout(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

static bool is_opaque(int dfd)
{
	char v[4];
	_cleanup_free_ char *p = xasprintf("/proc/self/fd/%d", dfd);
	ssize_t n = getxattr(p, OPQ, v, sizeof(v));
	return n == 1 && v[0] == 'y';
}

static int copy_file(int sdir, const char *name, const struct stat *st, int ddir,
		     struct kerror *e)
{
	_cleanup_close_ int in = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_close_ int out = -1;
	if (in < 0)
		return kerror_sys(e, errno, "reading \"%s\"", name);
	out = openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0)
		return kerror_sys(e, errno, "creating \"%s\"", name);
	for (;;) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
		if (n > 0)
			continue;
		if (n == 0)
			break;
		if (errno == EINTR)
			continue;
		char buf[65536];
		/* no copy_file_range here: plain reads */
		for (;;) {
			ssize_t m = read(in, buf, sizeof(buf));
			if (m < 0 && errno == EINTR)
				continue;
			if (m < 0)
				return kerror_sys(e, errno, "reading \"%s\"", name);
			if (m == 0)
				break;
			if (fs_write_all(out, buf, (size_t)m) < 0)
				return kerror_sys(e, errno, "writing \"%s\"", name);
		}
		break;
	}
	if (fchown(out, st->st_uid, st->st_gid) < 0 || fchmod(out, st->st_mode & 07777) < 0)
		return kerror_sys(e, errno, "setting the owner of \"%s\"", name);
	struct timespec ts[2] = { st->st_atim, st->st_mtim };
	futimens(out, ts);
	return 0;
}

/* Applies layer directory sdir on top of the merged directory ddir. */
static int merge_dir(int sdir, int ddir, int depth, struct kerror *e)
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
		if (S_ISDIR(st.st_mode)) {
			_cleanup_close_ int s2 = openat(dirfd(d), name, O_RDONLY | O_DIRECTORY |
								       O_NOFOLLOW | O_CLOEXEC);
			_cleanup_close_ int d2 = -1;
			bool opq = s2 >= 0 && is_opaque(s2);
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
			if (d2 < 0 || fchown(d2, st.st_uid, st.st_gid) < 0 ||
			    fchmod(d2, st.st_mode & 07777) < 0) {
				r = kerror_sys(e, errno, "creating \"%s\"", name);
				break;
			}
			if (opq) {
				_cleanup_free_ char *p = xasprintf("/proc/self/fd/%d", d2);
				if (setxattr(p, OPQ, "y", 1, 0) < 0) {
					r = kerror_sys(e, errno, "marking \"%s\" opaque", name);
					break;
				}
			}
			r = merge_dir(s2, d2, depth + 1, e);
			if (r == 0) {
				struct timespec ts[2] = { st.st_atim, st.st_mtim };
				futimens(d2, ts);
			}
			continue;
		}
		if (have && (r = fs_rm_rf_at(ddir, name, e)) < 0)
			break;
		if (S_ISREG(st.st_mode)) {
			r = copy_file(dirfd(d), name, &st, ddir, e);
		} else if (S_ISLNK(st.st_mode)) {
			char target[4097];
			ssize_t n = readlinkat(dirfd(d), name, target, sizeof(target) - 1);
			if (n < 0)
				r = kerror_sys(e, errno, "reading \"%s\"", name);
			else {
				target[n] = '\0';
				if (symlinkat(target, ddir, name) < 0 ||
				    fchownat(ddir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
					r = kerror_sys(e, errno, "creating \"%s\"", name);
			}
		} else {
			/* whiteouts, devices, fifos, sockets */
			if (mknodat(ddir, name, st.st_mode, st.st_rdev) < 0 ||
			    fchownat(ddir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
				r = kerror_sys(e, errno, "creating \"%s\"", name);
			(void)is_whiteout;
		}
	}
	closedir(d);
	return r;
}

/* Replaces layers [from, n) of s by one layer. */
static int squash_range(struct build *b, struct bstate *s, size_t from, struct kerror *e)
{
	_cleanup_free_ char *dir = xasprintf("%s/squash-XXXXXX", b->tmp.path);
	_cleanup_free_ char *diff = NULL;
	_cleanup_close_ int dfd = -1;
	_cleanup_strv_ char **lowers = lowers_range(s, 0, from);
	struct blayer *l;
	int r = 0;

	if (s->n <= from || s->n == from + 1)
		return 0; /* nothing new, or one layer already */
	if (!mkdtemp(dir))
		return kerror_sys(e, errno, "creating \"%s\"", dir);
	diff = xasprintf("%s/diff", dir);
	if (mkdir(diff, 0755) < 0 || (dfd = open(diff, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return kerror_sys(e, errno, "creating \"%s\"", diff);
	for (size_t i = from; from > 0 && r == 0 && i < s->n; i++) {
		_cleanup_close_ int sfd = open(s->layers[i]->diff, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sfd < 0)
			return kerror_sys(e, errno, "opening \"%s\"", s->layers[i]->diff);
		r = merge_dir(sfd, dfd, 0, e);
	}
	if (from == 0) {
		/* Nothing below: the merged view itself (no whiteouts left). */
		_cleanup_free_ char *view = NULL;
		r = view_of(b, s, &view, e);
		if (r == 0) {
			_cleanup_close_ int vfd = open(view, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (vfd < 0)
				r = kerror_sys(e, errno, "opening \"%s\"", view);
			else
				r = merge_dir(vfd, dfd, 0, e);
		}
	}
	if (r < 0)
		return kerror_wrap(e, "squashing the layers");
	l = xcalloc(1, sizeof(*l));
	r = store_stage_layer_dir(b->s, dir, lowers, from ? s->layers[from - 1]->chain_id : NULL,
				  &l->staged, e);
	if (r < 0) {
		free(l);
		return kerror_wrap(e, "squashing the layers");
	}
	memcpy(l->diff_id, l->staged.diff_id, sizeof(l->diff_id));
	memcpy(l->chain_id, l->staged.chain_id, sizeof(l->chain_id));
	l->size = l->staged.size;
	l->diff = steal_pointer(&diff);
	b->all = xrealloc(b->all, (b->nall + 1) * sizeof(*b->all));
	b->all[b->nall++] = l;
	s->n = from;
	s->layers[s->n++] = l;
	/* History: one entry with a layer for the squashed ones. */
	{
		json_t *h = json_object_get(s->cfg, "history");
		size_t i, nonempty = 0, last = (size_t)-1;
		json_t *ent;
		json_array_foreach(h, i, ent) {
			if (json_is_true(json_object_get(ent, "empty_layer")))
				continue;
			if (nonempty++ >= from) {
				json_object_set_new(ent, "empty_layer", json_true());
				last = i;
			}
		}
		if (last != (size_t)-1)
			json_object_del(json_array_get(h, last), "empty_layer");
	}
	return 0;
}

int build_squash(struct build *b, struct bstate *s, bool all, struct kerror *e)
{
	return squash_range(b, s, all ? 0 : s->base_n, e);
}
