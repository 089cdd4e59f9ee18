/* RUN steps of a build: a command in an already mounted root (the build's
 * overlay snapshot), in new mount, PID, IPC and UTS namespaces, in the
 * build's network namespace (build_net.c) or the host's, with /proc, /dev,
 * /sys, and resolv.conf and hosts (the namespace's or the host's).  Mount
 * points the image lacks are created for the run and removed afterwards, so
 * they do not end up in the layer. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "run/run_private.h"

#define ETC_MAX (4 * 1024 * 1024)

/* What was created for the run, to remove afterwards (reverse order). */
struct made {
	const char *rel;
	bool dir;
};

/* The directory holding rel, resolved inside the root (an image's /etc may
 * be a symlink to anywhere: it must not lead to the host's files), and
 * rel's last component in *name. */
static int parent_in(int rootfd, const char *rel, const char **name)
{
	const char *slash = strrchr(rel, '/');
	if (!slash) {
		*name = rel;
		return fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
	}
	_cleanup_free_ char *dir = xstrndup(rel, (size_t)(slash - rel));
	*name = slash + 1;
	return fs_open_in_root(rootfd, dir, O_PATH | O_DIRECTORY);
}

static void make_point(int rootfd, const char *rel, bool dir, struct made *m, size_t *n)
{
	const char *name;
	_cleanup_close_ int pfd = parent_in(rootfd, rel, &name);
	struct stat st;
	if (pfd < 0 || fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return;
	if (dir ? mkdirat(pfd, name, 0755) == 0
		: ({
			  int fd = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
							     O_CLOEXEC, 0644);
			  if (fd >= 0)
				  close(fd);
			  fd >= 0;
		  })) {
		m[*n].rel = rel;
		m[*n].dir = dir;
		(*n)++;
	}
}

static void unmake_point(int rootfd, const struct made *m)
{
	const char *name;
	_cleanup_close_ int pfd = parent_in(rootfd, m->rel, &name);
	if (pfd >= 0)
		unlinkat(pfd, name, m->dir ? AT_REMOVEDIR : 0);
}

static _Noreturn void child_fail(int errfd, int code, const char *what, int err)
{
	char msg[512];
	int n = snprintf(msg, sizeof(msg), "%d %s: %s", code, what, strerror(err));
	if (n > 0 && write(errfd, msg, (size_t)n) < 0)
		_exit(code);
	_exit(code);
}

static void bind_file(const char *src, const char *rootfs, const char *rel)
{
	_cleanup_close_ int rootfd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int fd = rootfd < 0 ? -1 : fs_open_in_root(rootfd, rel, O_PATH | O_NOFOLLOW);
	struct stat st;
	char path[64];
	/* Only over a regular file: a symlink there could point anywhere. */
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	mount(src, path, NULL, MS_BIND, NULL);
}

static void setup_dev(const char *rootfs, int errfd)
{
	static const struct { const char *name; unsigned maj, min; } devs[] = {
		{ "null", 1, 3 }, { "zero", 1, 5 }, { "full", 1, 7 },
		{ "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
	};
	_cleanup_free_ char *dev = xasprintf("%s/dev", rootfs);
	if (mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k") < 0)
		child_fail(errfd, 125, "mounting /dev", errno);
	for (size_t i = 0; i < ARRAY_SIZE(devs); i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", dev, devs[i].name);
		if (mknod(p, S_IFCHR | 0666, makedev(devs[i].maj, devs[i].min)) == 0)
			continue;
		/* In a user namespace (rootless): the host's node, bound. */
		_cleanup_free_ char *host = xasprintf("/dev/%s", devs[i].name);
		int t = errno == EPERM ? open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0666) : -1;
		if (t < 0 || close(t) < 0 || mount(host, p, NULL, MS_BIND, NULL) < 0)
			child_fail(errfd, 125, "creating a device", errno);
	}
	{
		_cleanup_free_ char *fdl = xasprintf("%s/fd", dev);
		_cleanup_free_ char *pts = xasprintf("%s/pts", dev);
		_cleanup_free_ char *shm = xasprintf("%s/shm", dev);
		if (symlink("/proc/self/fd", fdl) < 0)
			child_fail(errfd, 125, "creating /dev/fd", errno);
		mkdir(pts, 0755);
		mkdir(shm, 01777);
		mount("devpts", pts, "devpts", MS_NOSUID | MS_NOEXEC,
		      "newinstance,ptmxmode=0666,mode=0620");
		mount("shm", shm, "tmpfs", MS_NOSUID | MS_NOEXEC | MS_NODEV, "mode=1777,size=65536k");
	}
}

/* pid 1 of the step's PID namespace. */
static _Noreturn void step_main(const struct run_build_exec *x, const struct run_user *u,
				const struct run_bpf *bpf, int errfd)
{
	_cleanup_free_ char *proc = xasprintf("%s/proc", x->rootfs);
	_cleanup_free_ char *sys = xasprintf("%s/sys", x->rootfs);
	extern char **environ;

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		child_fail(errfd, 125, "making the mounts private", errno);
	if (mount(x->rootfs, x->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		child_fail(errfd, 125, "binding the root", errno);
	if (mount("proc", proc, "proc", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL) < 0)
		child_fail(errfd, 125, "mounting /proc", errno);
	setup_dev(x->rootfs, errfd);
	if (mount("sysfs", sys, "sysfs", MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY, NULL) < 0)
		mount("/sys", sys, NULL, MS_BIND | MS_REC | MS_RDONLY, NULL);
	bind_file(x->net ? x->net->resolv_path : "/etc/resolv.conf", x->rootfs,
		  "etc/resolv.conf");
	bind_file(x->net ? x->net->hosts_path : "/etc/hosts", x->rootfs, "etc/hosts");
	if (chdir(x->rootfs) < 0)
		child_fail(errfd, 125, "entering the root", errno);
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		child_fail(errfd, 125, "pivot_root", errno);
	if (umount2(".", MNT_DETACH) < 0)
		child_fail(errfd, 125, "detaching the old root", errno);
	if (chdir("/") < 0)
		child_fail(errfd, 125, "entering the new root", errno);
	{
		struct kerror e = { 0 };
		const char *cwd = x->cwd && x->cwd[0] ? x->cwd : "/";
		fs_mkdir_p(cwd, 0755, &e);
		kerror_release(&e);
		if (chdir(cwd) < 0)
			child_fail(errfd, 125, "entering the working directory", errno);
	}
	if (x->confine) {
		/* as spawn.c: bounding set, filter (while CAP_SYS_ADMIN is still
		 * held: no no_new_privs needed, as podman), then the user */
		struct kerror e = { 0 };
		if (run_caps_bound(run_caps_default(), &e) < 0)
			child_fail(errfd, 125, "dropping capabilities", e.code);
		if (bpf && run_seccomp_install(bpf, &e) < 0)
			child_fail(errfd, 125, "installing the seccomp filter", e.code);
	}
	if (run_setgroups(u->n_gids, u->gids) < 0 || setgid(u->gid) < 0 || setuid(u->uid) < 0)
		child_fail(errfd, 125, "switching to the user", errno);
	if (x->confine && u->uid == 0) {
		struct kerror e = { 0 };
		if (run_caps_apply(run_caps_default(), &e) < 0)
			child_fail(errfd, 125, "setting capabilities", e.code);
	}
	{
		int null = open("/dev/null", O_RDONLY);
		if (null >= 0) {
			dup2(null, 0);
			close(null);
		}
		if (x->out_fd >= 0)
			dup2(x->out_fd, 1);
		if (x->err_fd >= 0)
			dup2(x->err_fd, 2);
	}
	/* The step ends with the build (set after the user switch, which
	 * clears it): pid 1's death ends the whole PID namespace. */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	environ = (char **)x->env;
	execvp(x->argv[0], x->argv);
	child_fail(errfd, errno == ENOENT ? 127 : 126, x->argv[0], errno);
}

int run_build_exec(const struct run_build_exec *x, int *exit_code, struct kerror *e)
{
	_cleanup_close_ int rootfd = open(x->rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_free_ char *passwd = NULL, *group = NULL;
	struct run_user u = { 0 };
	struct run_bpf bpf = { 0 };
	struct made made[8];
	size_t nmade = 0;
	int pipefd[2] = { -1, -1 };
	char msg[600];
	ssize_t n;
	pid_t pid, parent;
	int status, r = 0;

	*exit_code = 125;
	if (rootfd < 0)
		return kerror_sys(e, errno, "opening \"%s\"", x->rootfs);
	if (!x->argv || !x->argv[0])
		return kerror_set(e, EINVAL, "no command to run");
	passwd = fs_read_in_root(rootfd, "etc/passwd", ETC_MAX);
	group = fs_read_in_root(rootfd, "etc/group", ETC_MAX);
	r = run_user_resolve(x->user && x->user[0] ? x->user : NULL, passwd, group, &u, e);
	if (r < 0)
		return r;
	/* The primary group is among the supplementary ones too, as buildah's
	 * and podman's runtimes set them (`id` shows "groups=…"). */
	{
		bool have = false;
		for (size_t i = 0; i < u.n_gids; i++)
			have |= u.gids[i] == u.gid;
		if (!have) {
			u.gids = xrealloc(u.gids, (u.n_gids + 1) * sizeof(gid_t));
			memmove(u.gids + 1, u.gids, u.n_gids * sizeof(gid_t));
			u.gids[0] = u.gid;
			u.n_gids++;
		}
	}
	make_point(rootfd, "proc", true, made, &nmade);
	make_point(rootfd, "dev", true, made, &nmade);
	make_point(rootfd, "sys", true, made, &nmade);
	make_point(rootfd, "etc", true, made, &nmade);
	make_point(rootfd, "etc/resolv.conf", false, made, &nmade);
	make_point(rootfd, "etc/hosts", false, made, &nmade);
	if (x->net) {
		r = run_build_net_write_etc(x->net, e);
		if (r < 0)
			goto out;
	}
	if (x->confine) {
		r = run_seccomp_filter(x->seccomp_cache_dir, &bpf, e);
		if (r < 0)
			goto out;
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		r = kerror_sys(e, errno, "creating a pipe");
		goto out;
	}
	fflush(stdout);
	fflush(stderr);
	parent = getpid();
	pid = fork();
	if (pid < 0) {
		r = kerror_sys(e, errno, "forking");
		goto out;
	}
	if (pid == 0) {
		int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS;
		pid_t inner;
		close(pipefd[0]);
		/* A killed build takes its step along (see step_main). */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != parent)
			_exit(125);
		if (x->net && setns(x->net->fd, CLONE_NEWNET) < 0)
			child_fail(pipefd[1], 125, "joining the build's network namespace", errno);
		if (unshare(flags) < 0)
			child_fail(pipefd[1], 125, "creating namespaces", errno);
		inner = fork();
		if (inner < 0)
			child_fail(pipefd[1], 125, "forking", errno);
		if (inner == 0)
			step_main(x, &u, x->confine ? &bpf : NULL, pipefd[1]);
		close(pipefd[1]);
		while (waitpid(inner, &status, 0) < 0)
			if (errno != EINTR)
				_exit(125);
		_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	}
	close(pipefd[1]);
	pipefd[1] = -1;
	n = read(pipefd[0], msg, sizeof(msg) - 1);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			r = kerror_sys(e, errno, "waiting for the step");
			goto out;
		}
	*exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (n > 0) {
		char *sp;
		msg[n] = '\0';
		*exit_code = (int)strtol(msg, &sp, 10);
		r = kerror_set(e, *exit_code == 127 ? ENOENT : EPERM, "%s", sp + 1);
	}
out:
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	while (nmade-- > 0)
		unmake_point(rootfd, &made[nmade]);
	run_user_release(&u);
	run_bpf_release(&bpf);
	return r;
}
