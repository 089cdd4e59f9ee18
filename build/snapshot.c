/* Overlay snapshots for build steps: the parent's layers as lower dirs
 * (top first), a fresh upper dir that becomes the step's layer.  The build
 * runs in a private mount namespace (build_enter_mount_ns), so a crash
 * leaves no mount behind, only tmp/ garbage. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "build/engine.h"

#define OPTS_MAX 4000 /* mount(2) data is one page */

int build_enter_mount_ns(struct kerror *e)
{
	if (unshare(CLONE_NEWNS) < 0)
		return kerror_sys(e, errno, "creating a mount namespace for the build");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return kerror_sys(e, errno, "making the build's mounts private");
	return 0;
}

/* Lower dirs relative to base when below it, to keep the option short. */
static const char *rel_to(const char *path, const char *base)
{
	size_t n = strlen(base);
	if (strncmp(path, base, n) == 0 && path[n] == '/')
		return path + n + 1;
	return path;
}

static int mount_overlay(const char *base, char *const *lowers, const char *upper,
			 const char *work, const char *target, bool ro, struct kerror *e)
{
	struct buf o = { 0 };
	_cleanup_close_ int cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	size_t n = strv_len(lowers);
	int r = 0;

	buf_printf(&o, "lowerdir=");
	for (size_t i = 0; i < n; i++) {
		const char *l = rel_to(lowers[i], base);
		if (strchr(l, ',') || strchr(l, ':')) {
			buf_release(&o);
			return kerror_set(e, EINVAL, "layer path \"%s\" cannot be an overlay lower "
						     "dir", l);
		}
		buf_printf(&o, "%s%s", i ? ":" : "", l);
	}
	if (!ro)
		buf_printf(&o, ",upperdir=%s,workdir=%s", rel_to(upper, base), rel_to(work, base));
	/* No redirects or metacopy: every upper dir must hold whole files.
	 * (userxattr implies both and refuses them as options.) */
	if (fs_in_user_namespace())
		buf_printf(&o, "%s,userxattr", ro ? "" : ",volatile");
	else
		buf_printf(&o, ",redirect_dir=off,metacopy=off%s", ro ? "" : ",volatile");
	if (o.len > OPTS_MAX) {
		buf_release(&o);
		return kerror_set(e, E2BIG, "too many layers (%zu) for one overlay mount", n);
	}
	if (chdir(base) < 0)
		r = kerror_sys(e, errno, "entering \"%s\"", base);
	else if (mount("overlay", target, "overlay", ro ? MS_RDONLY : 0, o.data) < 0)
		r = kerror_sys(e, errno, "mounting the build snapshot");
	if (cwd >= 0 && fchdir(cwd) < 0 && r == 0)
		r = kerror_sys(e, errno, "returning to the working directory");
	buf_release(&o);
	return r;
}

int snapshot_mount(const char *base, const char *tmpdir, char *const *lowers,
		   struct snapshot *out, struct kerror *e)
{
	_cleanup_free_ char *dir = xasprintf("%s/step-XXXXXX", tmpdir);
	_cleanup_free_ char *upper = NULL, *work = NULL, *merged = NULL, *empty = NULL;
	char *const *use = lowers;
	char *one[2] = { NULL, NULL };
	int r;

	memset(out, 0, sizeof(*out));
	if (!mkdtemp(dir))
		return kerror_sys(e, errno, "creating a snapshot directory");
	chmod(dir, 0755);
	upper = xasprintf("%s/diff", dir);
	work = xasprintf("%s/work", dir);
	merged = xasprintf("%s/merged", dir);
	if (mkdir(upper, 0755) < 0 || mkdir(work, 0700) < 0 || mkdir(merged, 0755) < 0) {
		r = kerror_sys(e, errno, "creating a snapshot in \"%s\"", dir);
		goto fail;
	}
	if (!lowers || !lowers[0]) {
		/* scratch: one empty lower dir */
		empty = xasprintf("%s/empty", dir);
		if (mkdir(empty, 0755) < 0) {
			r = kerror_sys(e, errno, "creating \"%s\"", empty);
			goto fail;
		}
		one[0] = empty;
		use = one;
	}
	r = mount_overlay(base, use, upper, work, merged, false, e);
	if (r < 0)
		goto fail;
	out->dir = steal_pointer(&dir);
	out->merged = steal_pointer(&merged);
	out->mounted = true;
	return 0;
fail: {
	struct kerror ie = { 0 };
	fs_rm_rf(dir, &ie);
	kerror_release(&ie);
	return r;
}
}

int snapshot_unmount(struct snapshot *s, struct kerror *e)
{
	_cleanup_free_ char *work = NULL, *empty = NULL;
	if (s->mounted) {
		if (umount2(s->merged, 0) < 0 && umount2(s->merged, MNT_DETACH) < 0)
			return kerror_sys(e, errno, "unmounting \"%s\"", s->merged);
		s->mounted = false;
	}
	rmdir(s->merged);
	work = xasprintf("%s/work", s->dir);
	empty = xasprintf("%s/empty", s->dir);
	rmdir(empty);
	return fs_rm_rf(work, e);
}

void snapshot_release(struct snapshot *s)
{
	struct kerror e = { 0 };
	if (s->mounted)
		umount2(s->merged, MNT_DETACH);
	if (s->dir)
		fs_rm_rf(s->dir, &e);
	kerror_release(&e);
	free(s->dir);
	free(s->merged);
	memset(s, 0, sizeof(*s));
}

int rootfs_mount_ro(const char *base, const char *tmpdir, char *const *lowers, char **out,
		    struct kerror *e)
{
	_cleanup_free_ char *dir = xasprintf("%s/from-XXXXXX", tmpdir);
	int r;

	if (!mkdtemp(dir))
		return kerror_sys(e, errno, "creating a mount point");
	if (!lowers || !lowers[0]) {
		*out = steal_pointer(&dir); /* scratch: an empty directory */
		return 0;
	}
	if (!lowers[1]) {
		/* One layer needs no overlay: bind it read-only. */
		if (mount(lowers[0], dir, NULL, MS_BIND, NULL) < 0 ||
		    mount(NULL, dir, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0)
			return kerror_sys(e, errno, "mounting \"%s\"", lowers[0]);
		*out = steal_pointer(&dir);
		return 0;
	}
	r = mount_overlay(base, lowers, NULL, NULL, dir, true, e);
	if (r == 0)
		*out = steal_pointer(&dir);
	return r;
}
