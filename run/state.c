/* A container's runtime state beside its row: the monitor lock, the exit
 * file; and correcting a state whose monitor died. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "run/run_private.h"

/* The container's root of its own (vfs, or a user namespace of its own):
 * the image copied with its ids shifted. */
static int rootfs_copy(struct store *s, const char *dir, const struct run_plan *p,
		       struct kerror *e)
{
	_cleanup_free_ char *dest = xasprintf("%s/rootfs", dir);
	_cleanup_free_ struct id_shift *us = NULL, *gs = NULL;
	size_t nu = 0, ng = 0;

	if (run_id_shifts(p->uid_map, &us, &nu) < 0 || run_id_shifts(p->gid_map, &gs, &ng) < 0)
		return kerror_set(e, EINVAL, "invalid id map in the container's plan");
	return store_layers_flatten(s, p->layers, dest, nu ? us : NULL, nu, ng ? gs : NULL, ng, e);
}

int run_prepare_dirs(struct store *s, const char *id, const struct run_plan *p,
		     struct kerror *e)
{
	static const char *const sub[] = { "upper", "work" };
	_cleanup_free_ char *top = xasprintf("%s/containers", store_root(s));
	_cleanup_free_ char *dir = store_container_dir(s, id);
	bool spare = store_container_dir_take_spare(s, id) == 0;

	if (!spare && mkdir(top, 0700) < 0 && errno != EEXIST)
		return kerror_sys(e, errno, "creating \"%s\"", top);
	if (!spare && mkdir(dir, 0700) < 0)
		return kerror_sys(e, errno, "creating \"%s\"", dir);
	for (size_t i = 0; i < ARRAY_SIZE(sub); i++) {
		_cleanup_free_ char *d = xasprintf("%s/%s", dir, sub[i]);
		/* a spare has its (empty) work dir */
		if (mkdir(d, i == 0 ? 0755 : 0700) < 0 && !(spare && errno == EEXIST))
			return kerror_sys(e, errno, "creating \"%s\"", d);
	}
	return p->rootfs_copy ? rootfs_copy(s, dir, p, e) : 0;
}

int run_lock(struct store *s, const char *id, bool wait, int *fd, struct kerror *e)
{
	_cleanup_free_ char *dir = store_container_rundir(s, id);
	_cleanup_free_ char *path = xasprintf("%s/lock", dir);
	int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (f < 0 && errno == ENOENT) {
		int r = fs_mkdir_p(dir, 0700, e);
		if (r < 0)
			return r;
		f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	}
	if (f < 0)
		return kerror_sys(e, errno, "opening \"%s\"", path);
	while (flock(f, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
		int err = errno;
		if (err == EINTR)
			continue;
		close(f);
		if (err == EWOULDBLOCK)
			return -EWOULDBLOCK;
		return kerror_sys(e, err, "locking \"%s\"", path);
	}
	*fd = f;
	return 0;
}

int run_exit_file_write(struct store *s, const char *id, int code)
{
	_cleanup_free_ char *dir = store_container_rundir(s, id);
	_cleanup_free_ char *path = xasprintf("%s/exit", dir);
	char buf[32];
	snprintf(buf, sizeof(buf), "%d\n", code);
	return run_write_small(path, buf, NULL);
}

static int exit_file_read(struct store *s, const char *id)
{
	_cleanup_free_ char *dir = store_container_rundir(s, id);
	_cleanup_free_ char *path = xasprintf("%s/exit", dir);
	_cleanup_free_ char *data = NULL;
	size_t len;
	char *end;
	long v;
	if (fs_read_file(path, 64, &data, &len, NULL) < 0)
		return -1;
	v = strtol(data, &end, 10);
	if (end == data || v < 0 || v > 255)
		return -1;
	return (int)v;
}

int run_state_refresh(struct store *s, struct container_info *c, struct kerror *e)
{
	struct timespec ts;
	int fd, r;

	if (c->state != CTR_RUNNING)
		return 0;
	r = run_lock(s, c->id, false, &fd, e);
	if (r == -EWOULDBLOCK)
		return 0; /* its monitor is alive */
	if (r < 0)
		return r;
	/* The monitor is gone; so is the container's init (it dies with its
	 * monitor), unless the exit file says otherwise. */
	c->exit_code = exit_file_read(s, c->id);
	net_user_stop(s, c->id);
	/* What its monitor would have removed: addresses, veths, ports. */
	run_net_teardown(s, c->id);
	c->state = CTR_EXITED;
	c->pid = 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	c->finished = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
	r = store_container_update(s, c, e);
	if (r == 0) {
		char codes[16];
		snprintf(codes, sizeof(codes), "%d", c->exit_code);
		store_container_event(s, c, "die", "exitCode", codes);
	}
	close(fd);
	return r;
}

static char *removed_exit_path(struct store *s, const char *id)
{
	return xasprintf("%s/exits/%s", store_runroot(s), id);
}

int run_removed_exit_write(struct store *s, const char *id, int code)
{
	_cleanup_free_ char *dir = xasprintf("%s/exits", store_runroot(s));
	_cleanup_free_ char *path = removed_exit_path(s, id);
	char buf[32];
	if (fs_mkdir_p(dir, 0700, NULL) < 0)
		return -1;
	snprintf(buf, sizeof(buf), "%d\n", code);
	return run_write_small(path, buf, NULL);
}

int run_removed_exit_take(struct store *s, const char *id)
{
	_cleanup_free_ char *path = removed_exit_path(s, id), *data = NULL;
	size_t len;
	if (fs_read_file(path, 64, &data, &len, NULL) < 0)
		return -1;
	unlink(path);
	return atoi(data);
}
