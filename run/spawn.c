/* Starting the container's init: clone into new namespaces, set up the
 * root filesystem, drop privileges, exec.  A failure in the child comes
 * back through a close-on-exec pipe (EOF there means the exec happened). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <linux/close_range.h>

#include "run/run_private.h"

struct child_msg {
	int exit_code; /* 125, 126, 127 */
	int err;
	char msg[1000];
};

struct child_ctx {
	struct store *s;
	const char *id;
	const struct run_plan *p;
	const struct run_stdio *io;
	const struct run_bpf *bpf; /* NULL: no seccomp */
	int err_fd, sync_fd, sock_fd;
	bool new_cgns; /* a cgroup namespace after the move into the cgroups */
	bool net_wait; /* a second byte on sync_fd: the network is configured */
	int pod_fd;    /* a pidfd of the pod's infra, -1 */
};

static _Noreturn void child_fail(const struct child_ctx *c, int code, struct kerror *e)
{
	struct child_msg m = { .exit_code = code, .err = e->code ? e->code : EINVAL };
	snprintf(m.msg, sizeof(m.msg), "%s", e->msg ? e->msg : "container set-up failed");
	if (write(c->err_fd, &m, sizeof(m)) < 0) {
		/* nothing more to do: the parent sees EOF and a dead child */
	}
	_exit(code);
}

void run_loopback_up(void)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	close(s);
}

int run_send_fd(int sock, int fd)
{
	char c = 'p';
	struct iovec iov = { &c, 1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u = { 0 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &m, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

int run_recv_fd(int sock)
{
	char c;
	struct iovec iov = { &c, 1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u = { 0 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm;
	int fd;
	if (recvmsg(sock, &m, MSG_CMSG_CLOEXEC) <= 0)
		return -1;
	cm = CMSG_FIRSTHDR(&m);
	if (!cm || cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len != CMSG_LEN(sizeof(int)))
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* A pty from the container's own devpts: the slave becomes the
 * controlling terminal and stdio, the master goes to the monitor. */
static int setup_tty(const struct child_ctx *c, struct kerror *e)
{
	int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC), slave;
	char name[64];
	if (master < 0)
		return kerror_sys(e, errno, "opening /dev/ptmx");
	if (unlockpt(master) < 0 || ptsname_r(master, name, sizeof(name)) != 0)
		return kerror_sys(e, errno, "unlocking the pty");
	slave = open(name, O_RDWR | O_NOCTTY);
	if (slave < 0)
		return kerror_sys(e, errno, "opening \"%s\"", name);
	{
		int t = open("/dev/console", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (t >= 0)
			close(t);
		mount(name, "/dev/console", NULL, MS_BIND, NULL);
	}
	if (run_send_fd(c->sock_fd, master) < 0)
		return kerror_sys(e, errno, "sending the pty to the monitor");
	close(master);
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		return kerror_sys(e, errno, "setting the controlling terminal");
	for (int fd = 0; fd < 3; fd++)
		if (dup2(slave, fd) < 0)
			return kerror_sys(e, errno, "duplicating the pty");
	if (slave > 2)
		close(slave);
	return 0;
}

static int setup_stdio(const struct child_ctx *c, struct kerror *e)
{
	int fds[3] = { c->io->in, c->io->out, c->io->err };
	int null = -1;
	for (int i = 0; i < 3; i++) {
		if (fds[i] < 0) {
			if (null < 0 && (null = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
				return kerror_sys(e, errno, "opening /dev/null");
			fds[i] = null;
		}
	}
	/* Move every source above 2 first so that the dup2s cannot clobber
	 * one another. */
	for (int i = 0; i < 3; i++)
		if (fds[i] <= 2 && fds[i] != i) {
			int n = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
			if (n < 0)
				return kerror_sys(e, errno, "duplicating stdio");
			fds[i] = n;
		}
	for (int i = 0; i < 3; i++) {
		if (fds[i] == i) {
			fcntl(i, F_SETFD, 0);
			continue;
		}
		if (dup2(fds[i], i) < 0)
			return kerror_sys(e, errno, "setting up stdio");
	}
	return 0;
}

/* execvp with the container's PATH (not ours); 127 when nothing was
 * found, 126 when something was found but could not be executed. */
int run_execvpe(char *const *argv, char *const *env, struct kerror *e)
{
	const char *arg0 = argv[0];
	const char *path = NULL;
	int err = ENOENT;
	bool found = false;

	for (size_t i = 0; env[i]; i++)
		if (str_has_prefix(env[i], "PATH="))
			path = env[i] + 5;
	if (strchr(arg0, '/')) {
		execve(arg0, argv, env);
		err = errno;
		found = err != ENOENT && err != ENOTDIR;
	} else {
		_cleanup_free_ char *copy = xstrdup(path ? path : "/usr/local/sbin:/usr/local/bin:"
								 "/usr/sbin:/usr/bin:/sbin:/bin");
		char *save = NULL;
		for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
			_cleanup_free_ char *full = xasprintf("%s/%s", *d ? d : ".", arg0);
			execve(full, argv, env);
			if (errno != ENOENT && errno != ENOTDIR) {
				err = errno;
				found = true;
			}
		}
	}
	if (!found) {
		if (strchr(arg0, '/'))
			kerror_sys(e, err, "%s", arg0);
		else
			kerror_set(e, ENOENT, "executable file `%s` not found in $PATH: No such "
					      "file or directory", arg0);
		return 127;
	}
	kerror_sys(e, err, "%s", arg0);
	return 126;
}

static _Noreturn void exec_plan(const struct child_ctx *c, struct kerror *e)
{
	if (c->p->init && init_run(e) < 0)
		child_fail(c, 125, e);
	int code = run_execvpe(c->p->argv, c->p->env, e);
	child_fail(c, code, e);
}

/* A pod's infra: nothing to exec; the process stays, holding the
 * namespaces, until a signal ends it (pid 1 gets only the signals it
 * waits for). */
static _Noreturn void infra_pause(const struct child_ctx *c)
{
	sigset_t set;
	int sig;
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	prctl(PR_SET_NAME, "kiln-pause", 0, 0, 0);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_SETMASK, &set, NULL);
	/* EOF on the error pipe: the start succeeded */
	close(c->err_fd);
	for (int fd = 0; fd < 3; fd++) {
		int null = open("/dev/null", O_RDWR);
		if (null >= 0 && null != fd) {
			dup2(null, fd);
			close(null);
		}
	}
	for (;;) {
		sig = sigwaitinfo(&set, NULL);
		if (sig == SIGCHLD)
			while (waitpid(-1, NULL, WNOHANG) > 0)
				;
		else if (sig > 0)
			_exit(0);
	}
}

/* The infra container's init as a pidfd; it must be running. */
static int pod_infra_pidfd(struct store *s, const char *infra_id, int *fd, struct kerror *e)
{
	_cleanup_container_info_ struct container_info *ic = NULL;
	int r = store_container_get(s, infra_id, &ic, e);
	if (r == 0)
		r = run_state_refresh(s, ic, e);
	if (r < 0)
		return kerror_wrap(e, "the pod's infra container");
	if (ic->state != CTR_RUNNING || ic->pid <= 0)
		return kerror_set(e, EINVAL, "the pod's infra container %.12s is not running",
				  infra_id);
	*fd = (int)syscall(SYS_pidfd_open, ic->pid, 0);
	if (*fd < 0)
		return kerror_sys(e, errno, "opening the pod's infra (pid %d)", ic->pid);
	return 0;
}

static _Noreturn void child_main(struct child_ctx *c)
{
	struct kerror e = { 0 };
	const struct run_plan *p = c->p;
	sigset_t all;

	if (c->sync_fd >= 0) {
		char b;
		/* Wait until the monitor placed us in our cgroups and set up
		 * the network. */
		if (read(c->sync_fd, &b, 1) != 1)
			_exit(125);
		if (!c->net_wait)
			close(c->sync_fd);

		if (c->new_cgns && unshare(CLONE_NEWCGROUP) < 0) {
			kerror_sys(&e, errno, "creating the cgroup namespace");
			child_fail(c, 125, &e);
		}
	}
	if (c->pod_fd >= 0) {
		/* a pod member: the infra's network, IPC and UTS */
		if (setns(c->pod_fd, (int)p->pod_ns) < 0) {
			kerror_sys(&e, errno, "joining the pod's namespaces");
			child_fail(c, 125, &e);
		}
		close(c->pod_fd);
	}
	setsid();
	umask(0);
	if (!p->tty && setup_stdio(c, &e) < 0)
		child_fail(c, 125, &e);
	if (rootfs_enter(c->s, c->id, p, &e) < 0)
		child_fail(c, 125, &e);
	umask(022);
	if (!p->network_host)
		run_loopback_up();
	if (!(p->pod_ns & CLONE_NEWUTS) &&
	    sethostname(p->hostname, strlen(p->hostname)) < 0 && !p->network_host) {
		kerror_sys(&e, errno, "setting the hostname");
		child_fail(c, 125, &e);
	}
	if (c->net_wait) {
		char b;
		/* The monitor configured the network while we set up the
		 * rest: nothing of the container's runs before it is ready. */
		if (read(c->sync_fd, &b, 1) != 1)
			_exit(125);
		close(c->sync_fd);
	}
	if (p->infra)
		infra_pause(c);
	if (p->tty && setup_tty(c, &e) < 0)
		child_fail(c, 125, &e);
	if (chdir(p->cwd) < 0) {
		kerror_sys(&e, errno, "entering the working directory \"%s\"", p->cwd);
		child_fail(c, 125, &e);
	}
	if (ulimits_apply(p->ulimits, &e) < 0)
		child_fail(c, 125, &e);
	if (run_caps_bound(p->caps, &e) < 0)
		child_fail(c, 125, &e);
	if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		kerror_sys(&e, errno, "setting no_new_privs");
		child_fail(c, 125, &e);
	}
	if (c->bpf && run_seccomp_install(c->bpf, &e) < 0)
		child_fail(c, 125, &e);
	if (run_setgroups(p->n_gids, p->gids) < 0 || setresgid(p->gid, p->gid, p->gid) < 0 ||
	    setresuid(p->uid, p->uid, p->uid) < 0) {
		kerror_sys(&e, errno, "switching to user %u:%u", p->uid, p->gid);
		child_fail(c, 125, &e);
	}
	if (p->uid == 0 && run_caps_apply(p->caps, &e) < 0)
		child_fail(c, 125, &e);
	/* Dies with its monitor (set after the credential change, which
	 * clears it). */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	/* Nothing of ours or of our caller's (beyond stdio) reaches the
	 * container: every other descriptor closes at exec. */
	close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
	sigemptyset(&all);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	sigprocmask(SIG_SETMASK, &all, NULL);
	exec_plan(c, &e);
}

/* The maps of the child's own user namespace (written from outside it). */
static int write_maps(pid_t pid, const struct run_plan *p, struct kerror *e)
{
	static const char *const files[] = { "uid_map", "gid_map" };
	char *const *maps[] = { p->uid_map, p->gid_map };
	for (size_t i = 0; i < 2; i++) {
		_cleanup_free_ char *path = xasprintf("/proc/%d/%s", (int)pid, files[i]);
		_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
		struct buf b = { 0 };
		for (size_t j = 0; maps[i] && maps[i][j]; j++)
			buf_printf(&b, "%s\n", maps[i][j]);
		ssize_t n = fd < 0 ? -1 : write(fd, b.data, b.len);
		int err = errno;
		bool ok = n == (ssize_t)b.len;
		buf_release(&b);
		if (!ok)
			return kerror_sys(e, err, "writing the container's %s", files[i]);
	}
	return 0;
}

int run_spawn(struct store *s, const char *id, const struct run_plan *p,
	      const struct run_stdio *io, struct run_proc *out, int *exit_code,
	      struct kerror *e)
{
	struct cg_limits lim = { p->memory, p->pids_limit, p->cpu_shares, p->cpu_quota,
				 p->memory_swap };
	struct child_ctx c = { .s = s, .id = id, .p = p, .io = io,
			       .err_fd = -1, .sync_fd = -1, .sock_fd = -1, .pod_fd = -1 };
	_cleanup_close_ int pod_fd = -1;
	_cleanup_close_ int err_r = -1, sync_w = -1, sock_p = -1;
	int errp[2], syncp[2] = { -1, -1 }, sock[2] = { -1, -1 };
	__attribute__((cleanup(run_bpf_release))) struct run_bpf bpf = { 0 };
	struct child_msg m;
	unsigned long flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | SIGCHLD;
	bool user_net = run_network_user_mode(p->network) && !(p->pod_ns & CLONE_NEWNET);
	bool userns = p->uid_map != NULL;
	bool bridge = p->networks && p->networks[0] && !(p->pod_ns & CLONE_NEWNET);
	/* The child waits on the sync pipe while we write its id maps, place
	 * it in its cgroups and connect its network namespace. */
	bool sync = user_net || userns || bridge;
	ssize_t n;
	pid_t pid;
	int r;

	*exit_code = 125;
	memset(out, 0, sizeof(*out));
	out->pty_master = -1;
	out->net_fd = -1;
	if (!p->network_host)
		flags |= CLONE_NEWNET;
	if (p->infra_id) {
		r = pod_infra_pidfd(s, p->infra_id, &pod_fd, e);
		if (r < 0)
			return r;
		c.pod_fd = pod_fd;
		flags &= ~(unsigned long)p->pod_ns;
	}
	if (p->seccomp) {
		r = run_seccomp_filter(store_runroot(s), &bpf, e);
		if (r < 0)
			return r;
		c.bpf = &bpf;
	}
	r = cgroup_create(id, &lim, &out->cg, e);
	if (r < 0)
		return r;
	if (out->cg.n == 0)
		flags |= CLONE_NEWCGROUP;
	c.new_cgns = out->cg.n > 0;
	if (userns)
		flags |= CLONE_NEWUSER;
	sync = sync || out->cg.n;
	if (pipe2(errp, O_CLOEXEC) < 0 || (sync && pipe2(syncp, O_CLOEXEC) < 0) ||
	    (p->tty && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sock) < 0)) {
		r = kerror_sys(e, errno, "creating the container's pipes");
		goto fail_cg;
	}
	err_r = errp[0];
	c.err_fd = errp[1];
	c.sync_fd = syncp[0];
	c.net_wait = user_net || bridge;
	sync_w = syncp[1];
	c.sock_fd = sock[1];
	sock_p = sock[0];

	/* fork-like clone: the child runs on a copy of our stack. */
	pid = (pid_t)syscall(SYS_clone, flags, NULL, NULL, NULL, NULL);
	if (pid < 0) {
		r = kerror_sys(e, errno, "creating the container's namespaces");
		close(c.err_fd);
		if (c.sync_fd >= 0)
			close(c.sync_fd);
		if (c.sock_fd >= 0)
			close(c.sock_fd);
		goto fail_cg;
	}
	if (pid == 0) {
		close(err_r);
		if (sync_w >= 0)
			close(sync_w);
		if (sock_p >= 0)
			close(sock_p);
		child_main(&c);
	}
	close(c.err_fd);
	if (c.sync_fd >= 0)
		close(c.sync_fd);
	if (c.sock_fd >= 0)
		close(c.sock_fd);
	out->pid = pid;
	if (sync) {
		struct net_user_pending net;
		bool net_begun = false;
		r = userns ? write_maps(pid, p, e) : 0;
		if (r == 0 && out->cg.n)
			r = cgroup_add_pid(&out->cg, pid, e);
		/* The network is configured while the child sets up its root
		 * (pasta's start-up costs more than the rest of ours); the
		 * child waits for a second byte before it runs anything. */
		if (r == 0 && user_net) {
			_cleanup_free_ char *rundir = store_container_rundir(s, id);
			r = net_user_begin(p, pid, rundir, &net, e);
			net_begun = r == 0;
		}
		if (r == 0 && write(sync_w, "g", 1) != 1) {
			/* the child died: its error comes through the pipe */
		}
		if (net_begun) {
			r = net_user_finish(p, &net, &out->net_fd, &out->net_pid, e);
		}
		if (r == 0 && bridge)
			r = run_net_setup(s, id, p, pid, e);
		if (r < 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			net_user_end(out->net_fd, out->net_pid);
			out->net_fd = -1;
			out->net_pid = 0;
			cgroup_remove(&out->cg);
			out->pid = 0;
			return r;
		}
		if (c.net_wait && write(sync_w, "n", 1) != 1) {
			/* as above */
		}
	} else if (sync_w >= 0 && write(sync_w, "g", 1) != 1) {
		/* the child died: its error comes through the pipe */
	}
	if (p->tty) {
		out->pty_master = run_recv_fd(sock_p);
		/* no pty: the child failed, the error pipe says why */
	}
	do
		n = read(err_r, &m, sizeof(m));
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return 0; /* exec'd */
	waitpid(pid, NULL, 0);
	out->pid = 0;
	net_user_end(out->net_fd, out->net_pid);
	out->net_fd = -1;
	out->net_pid = 0;
	if (out->pty_master >= 0)
		close(out->pty_master);
	out->pty_master = -1;
	cgroup_remove(&out->cg);
	if (n != (ssize_t)sizeof(m))
		return kerror_set(e, EIO, "the container's init died during set-up");
	m.msg[sizeof(m.msg) - 1] = '\0';
	*exit_code = m.exit_code;
	return kerror_set(e, m.err, "%s", m.msg);

fail_cg:
	cgroup_remove(&out->cg);
	return r;
}
