/* kiln mount / unmount: a container's root filesystem mounted in the
 * host's mount namespace on <runroot>/containers/<id>/merged, counted in
 * <runroot>/containers/<id>/mountcnt under an flock, as Podman counts its
 * mounts.  The runroot is cleared at boot, and so are the mounts. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run/run_private.h"

static char *count_path(struct store *s, const char *id)
{
	_cleanup_free_ char *rd = store_container_rundir(s, id);
	return xasprintf("%s/mountcnt", rd);
}

static int read_count(const char *path)
{
	_cleanup_free_ char *data = NULL;
	size_t len;
	if (fs_read_file(path, 64, &data, &len, NULL) < 0)
		return 0;
	int v = atoi(data);
	return v < 0 ? 0 : v;
}

static int write_count(const char *path, int v, struct kerror *e)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%d\n", v);
	if (v == 0) {
		unlink(path);
		return 0;
	}
	return fs_write_atomic(path, buf, strlen(buf), 0600, e);
}

/* An flock beside the count: mount and unmount do not race. */
static int count_lock(struct store *s, const char *id, struct kerror *e)
{
	_cleanup_free_ char *rd = store_container_rundir(s, id);
	_cleanup_free_ char *path = xasprintf("%s/mountlock", rd);
	int r = fs_mkdir_p(rd, 0700, e), fd;
	if (r < 0)
		return r;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return kerror_sys(e, errno, "opening \"%s\"", path);
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			close(fd);
			return kerror_sys(e, errno, "locking \"%s\"", path);
		}
	return fd;
}

int run_mount_count(struct store *s, const char *id)
{
	_cleanup_free_ char *path = count_path(s, id);
	return read_count(path);
}

int run_mount_rootfs(struct store *s, const struct container_info *c, char **path,
		     struct kerror *e)
{
	_cleanup_free_ char *cnt = count_path(s, c->id);
	_cleanup_free_ char *merged = run_merged_dir(s, c->id);
	_cleanup_close_ int lock = count_lock(s, c->id, e);
	struct run_plan p = { 0 };
	int n, r;

	if (lock < 0)
		return lock;
	n = read_count(cnt);
	if (n == 0 || !rootfs_is_mountpoint(merged)) {
		_cleanup_close_ int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
		r = run_plan_from_json(c->plan, &p, e);
		if (r < 0)
			return r;
		/* The overlay's lower dirs are relative to the layers dir:
		 * entered for the mount, then back. */
		if (mkdir(merged, 0700) < 0 && errno != EEXIST)
			r = kerror_sys(e, errno, "creating \"%s\"", merged);
		else
			r = rootfs_mount_overlay(s, c->id, &p, e);
		if (cwd >= 0 && fchdir(cwd) < 0 && r == 0)
			r = kerror_sys(e, errno, "returning to the working directory");
		run_plan_release(&p);
		if (r < 0)
			return r;
		n = 0;
	}
	r = write_count(cnt, n + 1, e);
	if (r < 0)
		return r;
	*path = steal_pointer(&merged);
	return 0;
}

int run_unmount_rootfs(struct store *s, const struct container_info *c, bool force,
		       struct kerror *e)
{
	_cleanup_free_ char *cnt = count_path(s, c->id);
	_cleanup_free_ char *merged = run_merged_dir(s, c->id);
	_cleanup_close_ int lock = count_lock(s, c->id, e);
	int n;

	if (lock < 0)
		return lock;
	n = read_count(cnt);
	if (n == 0)
		return -EINVAL;
	n = force ? 0 : n - 1;
	if (n == 0 && rootfs_is_mountpoint(merged) && umount2(merged, 0) < 0 &&
	    umount2(merged, MNT_DETACH) < 0)
		return kerror_sys(e, errno, "unmounting \"%s\"", merged);
	return write_count(cnt, n, e);
}

void run_rootfs_release(struct store *s, const struct container_info *c)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	run_oci_delete(s, c);
	if (run_mount_count(s, c->id) > 0)
		run_unmount_rootfs(s, c, true, &e);
}
