/* A child process whose root is a container's filesystem, for cp and
 * export: setns into a running container's mount namespace, or a private
 * overlay mount of its layers and upper dir, then chroot.  Every path the
 * callback opens is then resolved inside the container. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run/run_private.h"

static int mount_view(struct store *s, const struct container_info *c, bool writable,
		      struct kerror *e)
{
	struct run_plan p = { 0 };
	const char *root = store_root(s);
	_cleanup_free_ char *layers = xasprintf("%s/layers", root);
	_cleanup_free_ char *cdir = store_container_dir(s, c->id);
	_cleanup_free_ char *merged = run_merged_dir(s, c->id);
	_cleanup_free_ char *rundir = store_container_rundir(s, c->id);
	_cleanup_free_ char *empty = xasprintf("%s/empty", cdir);
	_cleanup_free_ char *copy = xasprintf("%s/rootfs", cdir);
	struct buf o = { 0 };
	int r;
	if (access(copy, F_OK) == 0) {
		/* A full copy (vfs, --userns): it is the container's root. */
		if (unshare(CLONE_NEWNS) < 0)
			return kerror_sys(e, errno, "creating a mount namespace");
		if (chroot(copy) < 0 || chdir("/") < 0)
			return kerror_sys(e, errno, "entering the container's filesystem");
		return 0;
	}
	r = run_plan_from_json(c->plan, &p, e);
	if (r < 0)
		return r;
	for (size_t i = 0; p.layers && p.layers[i]; i++)
		if (strlen(p.layers[i]) != DIGEST_HEX_LEN || strchr(p.layers[i], '/')) {
			run_plan_release(&p);
			return kerror_set(e, EINVAL, "invalid layer id \"%s\"", p.layers[i]);
		}
	size_t n = strv_len(p.layers);
	buf_printf(&o, "lowerdir=");
	if (!writable)
		buf_printf(&o, "../containers/%s/upper:", c->id);
	for (size_t i = n; i-- > 0;)
		buf_printf(&o, "%s/diff:", p.layers[i]);
	mkdir(empty, 0755);
	buf_printf(&o, "../containers/%s/empty", c->id);
	if (writable)
		buf_printf(&o, ",upperdir=../containers/%s/upper,workdir=../containers/%s/work",
			   c->id, c->id);
	buf_printf(&o, "%s", fs_overlay_extra_opts());
	run_plan_release(&p);
	_cleanup_free_ char *opts = buf_steal(&o);
	if (strlen(opts) > 4000)
		return kerror_set(e, E2BIG, "the image has too many layers for one overlay mount");
	fs_mkdir_p(rundir, 0700, NULL);
	mkdir(merged, 0700);
	if (unshare(CLONE_NEWNS) < 0)
		return kerror_sys(e, errno, "creating a mount namespace");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return kerror_sys(e, errno, "making the mounts private");
	if (chdir(layers) < 0)
		return kerror_sys(e, errno, "entering \"%s\"", layers);
	if (mount("overlay", merged, "overlay", writable ? 0 : MS_RDONLY, opts) < 0)
		return kerror_sys(e, errno, "mounting the container's filesystem");
	if (chroot(merged) < 0 || chdir("/") < 0)
		return kerror_sys(e, errno, "entering the container's filesystem");
	return 0;
}

static int enter_live(const struct container_info *c, struct kerror *e)
{
	int fd = (int)syscall(SYS_pidfd_open, c->pid, 0);
	if (fd < 0)
		return kerror_sys(e, errno, "opening the container's init");
	if (setns(fd, CLONE_NEWNS) < 0) {
		int err = errno;
		close(fd);
		return kerror_sys(e, err, "joining the container's mount namespace");
	}
	close(fd);
	return chdir("/") < 0 ? kerror_sys(e, errno, "entering the container's root") : 0;
}

int run_in_rootfs(struct store *s, const struct container_info *c, bool live, bool writable,
		  run_rootfs_fn fn, void *ctx, struct kerror *e)
{
	bool running = c->state == CTR_RUNNING && c->pid > 0;
	int pfd[2], status;
	pid_t pid;
	if (writable && running && !live)
		return kerror_set(e, EBUSY, "container %s is running", c->name);
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return kerror_sys(e, errno, "creating a pipe");
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return kerror_sys(e, errno, "forking");
	}
	if (pid == 0) {
		struct kerror ce = { 0 };
		int r;
		close(pfd[0]);
		signal(SIGPIPE, SIG_DFL);
		r = running && live ? enter_live(c, &ce) : mount_view(s, c, writable, &ce);
		if (r == 0)
			r = fn(ctx, &ce);
		if (r < 0) {
			const char *m = ce.msg ? ce.msg : "failed";
			(void)!write(pfd[1], m, strlen(m));
			_exit(1);
		}
		_exit(0);
	}
	close(pfd[1]);
	char msg[4096];
	size_t len = 0;
	ssize_t n;
	while (len < sizeof(msg) - 1 && (n = read(pfd[0], msg + len, sizeof(msg) - 1 - len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		len += (size_t)n;
	}
	msg[len] = '\0';
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (len)
		return kerror_set(e, EIO, "%s", msg);
	return kerror_set(e, EIO, "the process in the container's filesystem failed (status %d)",
			  status);
}
