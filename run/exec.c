/* kiln exec: a new process in a running container's namespaces, cgroups,
 * capability set, seccomp filter and user.  No monitor is involved: the
 * calling kiln forks a set-up process that joins the container's
 * namespaces (one setns on a pidfd) and creates the exec process as the
 * caller's child; the caller, which stays in its own namespaces, relays a
 * pty if there is one, forwards signals and returns the exit code. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <linux/close_range.h>

#include "run/run_private.h"

#define MAX_CGROUPS 16

struct exec_msg {
	int exit_code;
	int err;
	char msg[1000];
};

struct exec_child {
	const struct run_plan *p;
	const struct run_exec_opts *o;
	const struct run_bpf *bpf;
	char *const *env;
	const char *cwd;
	uid_t uid;
	gid_t gid;
	const gid_t *gids;
	size_t n_gids;
	const char *pts; /* slave path with a tty */
	int err_fd;
	int cg_fds[MAX_CGROUPS];
	size_t n_cg;
};

static _Noreturn void fail(const struct exec_child *x, int code, struct kerror *e)
{
	struct exec_msg m = { .exit_code = code, .err = e->code ? e->code : EINVAL };
	snprintf(m.msg, sizeof(m.msg), "%s", e->msg ? e->msg : "exec set-up failed");
	if (write(x->err_fd, &m, sizeof(m)) < 0) {
		/* the parent sees EOF and a dead child */
	}
	_exit(code);
}

static int dup_null(int fd)
{
	int n = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (n < 0)
		return -1;
	if (dup2(n, fd) < 0)
		return -1;
	close(n);
	return 0;
}

static _Noreturn void child(struct exec_child *x)
{
	struct kerror e = { 0 };
	const struct run_plan *p = x->p;
	sigset_t none;
	int code;

	/* Into the container's cgroups (the descriptors were opened on the
	 * host's cgroupfs before joining its mount namespace). */
	for (size_t i = 0; i < x->n_cg; i++)
		if (write(x->cg_fds[i], "0", 1) < 0) {
			kerror_sys(&e, errno, "joining the container's cgroup");
			fail(x, 125, &e);
		}
	setsid();
	if (x->pts) {
		int slave = open(x->pts, O_RDWR | O_NOCTTY);
		if (slave < 0 || ioctl(slave, TIOCSCTTY, 0) < 0) {
			kerror_sys(&e, errno, "opening the pty \"%s\"", x->pts);
			fail(x, 125, &e);
		}
		for (int fd = 0; fd < 3; fd++)
			dup2(slave, fd);
		if (slave > 2)
			close(slave);
	} else {
		if (!x->o->interactive || x->o->detach)
			dup_null(0);
		if (x->o->detach) {
			dup_null(1);
			dup_null(2);
		}
	}
	if (chdir(x->cwd) < 0) {
		kerror_sys(&e, errno, "entering the working directory \"%s\"", x->cwd);
		fail(x, 125, &e);
	}
	if (run_caps_bound(p->caps, &e) < 0)
		fail(x, 125, &e);
	if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		kerror_sys(&e, errno, "setting no_new_privs");
		fail(x, 125, &e);
	}
	if (x->bpf && run_seccomp_install(x->bpf, &e) < 0)
		fail(x, 125, &e);
	if (run_setgroups(x->n_gids, x->gids) < 0 || setresgid(x->gid, x->gid, x->gid) < 0 ||
	    setresuid(x->uid, x->uid, x->uid) < 0) {
		kerror_sys(&e, errno, "switching to user %u:%u", x->uid, x->gid);
		fail(x, 125, &e);
	}
	if (x->uid == 0 && run_caps_apply(p->caps, &e) < 0)
		fail(x, 125, &e);
	close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	code = run_execvpe(x->o->argv, x->env, &e);
	fail(x, code, &e);
}

/* The container's cgroups, seen from the host: one cgroup.procs per
 * hierarchy of /proc/<pid>/cgroup that differs from ours. */
static size_t open_cgroups(pid_t pid, int *fds)
{
	_cleanup_free_ char *path = xasprintf("/proc/%d/cgroup", (int)pid);
	_cleanup_free_ char *theirs = NULL, *ours = NULL;
	bool hybrid = access("/sys/fs/cgroup/cgroup.controllers", F_OK) < 0;
	size_t len, n = 0;
	if (fs_read_file(path, 64 * 1024, &theirs, &len, NULL) < 0 ||
	    fs_read_file("/proc/self/cgroup", 64 * 1024, &ours, &len, NULL) < 0)
		return 0;
	char *save = NULL;
	for (char *l = strtok_r(theirs, "\n", &save); l && n < MAX_CGROUPS;
	     l = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(l, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		_cleanup_free_ char *line = NULL, *dir = NULL;
		if (!c2 || strstr(c2 + 1, "/.."))
			continue;
		line = xasprintf("\n%s\n", l);
		{
			_cleanup_free_ char *ours_nl = xasprintf("\n%s\n", ours);
			if (strstr(ours_nl, line))
				continue; /* the same cgroup as ours: nothing to join */
		}
		*c2 = '\0';
		const char *ctrls = c1 + 1;
		if (!*ctrls)
			dir = xasprintf("/sys/fs/cgroup%s%s", hybrid ? "/unified" : "", c2 + 1);
		else
			dir = xasprintf("/sys/fs/cgroup/%s%s",
					str_has_prefix(ctrls, "name=") ? ctrls + 5 : ctrls, c2 + 1);
		_cleanup_free_ char *procs = xasprintf("%s/cgroup.procs", dir);
		int fd = open(procs, O_WRONLY | O_CLOEXEC);
		if (fd >= 0)
			fds[n++] = fd;
	}
	return n;
}

static int status_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 125;
}

/* Relays the pty and forwards signals until pid exits. */
static int supervise(pid_t pid, int sfd, int pty, bool in)
{
	int code = 125, status;
	bool exited = false;
	while (!exited || pty >= 0) {
		struct pollfd pf[3] = { { sfd, POLLIN, 0 }, { pty, POLLIN, 0 },
					{ in && !exited ? 0 : -1, POLLIN, 0 } };
		if (poll(pf, 3, exited ? 0 : -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pf[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				if (si.ssi_signo == SIGCHLD) {
					if (!exited && waitpid(pid, &status, WNOHANG) == pid) {
						exited = true;
						code = status_code(status);
					}
				} else if (si.ssi_signo == SIGWINCH && pty >= 0) {
					struct winsize ws;
					if (ioctl(0, TIOCGWINSZ, &ws) == 0)
						ioctl(pty, TIOCSWINSZ, &ws);
				} else if (!exited && si.ssi_signo != SIGPIPE) {
					kill(pid, (int)si.ssi_signo);
				}
			}
		}
		bool idle = true;
		if (pty >= 0 && pf[1].revents) {
			char buf[16384];
			ssize_t k = read(pty, buf, sizeof(buf));
			if (k > 0) {
				fs_write_all(1, buf, (size_t)k);
				idle = false;
			} else if (k == 0 || (errno != EAGAIN && errno != EINTR)) {
				close(pty);
				pty = -1;
			}
		}
		if (pf[2].fd >= 0 && pf[2].revents) {
			char buf[4096];
			ssize_t k = read(0, buf, sizeof(buf));
			if (k > 0)
				fs_write_all(pty, buf, (size_t)k);
			else
				in = false;
		}
		if (exited && idle && pty >= 0) {
			close(pty);
			pty = -1;
		}
	}
	if (!exited && waitpid(pid, &status, 0) == pid)
		code = status_code(status);
	return code;
}

/* The set-up process, forked by kiln exec: it joins the container's
 * namespaces (the caller stays in its own, so that nothing it does later
 * lands in the container: an event written by path, /proc/self, a process
 * it forks such as LeakSanitizer's tracer at exit), resolves the user in
 * the container's files, allocates the pty in the container's devpts and
 * creates the exec process as the caller's child (CLONE_PARENT: only a
 * process's children enter a PID namespace it joins).  It sends the exec
 * process's pid, then the pty master, on sock and exits.  Its failures go
 * through x->err_fd as the exec process's do. */
static _Noreturn void setup_main(struct exec_child *x, int pidfd, int sock, const char *id)
{
	const struct run_plan *p = x->p;
	const struct run_exec_opts *o = x->o;
	struct run_user u = { 0 };
	struct kerror e = { 0 };
	int master = -1;
	char pts[64];
	pid_t pid;

	if (setns(pidfd, CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC |
				 CLONE_NEWCGROUP | (p->network_host ? 0 : CLONE_NEWNET) |
				 (p->uid_map ? CLONE_NEWUSER : 0)) < 0) {
		kerror_sys(&e, errno, "joining the namespaces of container %.12s", id);
		fail(x, 125, &e);
	}
	if (o->user && *o->user) {
		_cleanup_free_ char *passwd = NULL, *group = NULL;
		size_t len;
		bool home_set = false;
		/* Our root is the container's now: its files, its symlinks. */
		fs_read_file("/etc/passwd", 4 * 1024 * 1024, &passwd, &len, NULL);
		fs_read_file("/etc/group", 4 * 1024 * 1024, &group, &len, NULL);
		if (run_user_resolve(o->user, passwd, group, &u, &e) < 0)
			fail(x, 125, &e);
		x->uid = u.uid;
		x->gid = u.gid;
		x->gids = u.gids;
		x->n_gids = u.n_gids;
		for (size_t i = 0; o->env && o->env[i]; i++)
			home_set |= str_has_prefix(o->env[i], "HOME=");
		if (!home_set) {
			_cleanup_free_ char *h = xasprintf("HOME=%s", u.home ? u.home : "/");
			char *one[] = { h, NULL };
			x->env = run_merge_env(x->env, NULL, one);
		}
	}
	if (o->tty) {
		master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (master < 0 || unlockpt(master) < 0 || ptsname_r(master, pts, sizeof(pts)) != 0) {
			kerror_sys(&e, errno, "allocating a pty in the container");
			fail(x, 125, &e);
		}
		x->pts = pts;
		if (isatty(0)) {
			struct winsize ws;
			if (ioctl(0, TIOCGWINSZ, &ws) == 0)
				ioctl(master, TIOCSWINSZ, &ws);
		}
	}
	/* This process is single-threaded: a raw clone is a fork. */
	pid = (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, NULL, NULL, NULL, NULL);
	if (pid < 0) {
		kerror_sys(&e, errno, "forking the exec process");
		fail(x, 125, &e);
	}
	if (pid == 0)
		child(x);
	if (write(sock, &pid, sizeof(pid)) != (ssize_t)sizeof(pid) ||
	    (master >= 0 && run_send_fd(sock, master) < 0)) {
		kill(pid, SIGKILL);
		kerror_sys(&e, errno, "handing the exec process over");
		fail(x, 125, &e);
	}
	_exit(0);
}

int run_exec(struct store *s, const struct container_info *c, const struct run_exec_opts *o,
	     int *exit_code, struct kerror *e)
{
	struct run_plan p = { 0 };
	__attribute__((cleanup(run_bpf_release))) struct run_bpf bpf = { 0 };
	struct exec_child x = { .o = o, .err_fd = -1 };
	_cleanup_strv_ char **env = NULL;
	_cleanup_close_ int pidfd = -1, err_r = -1, sfd = -1, master = -1, sock = -1;
	struct exec_msg m;
	struct termios saved;
	bool raw = false;
	sigset_t set, old;
	int errp[2], sv[2], r;
	pid_t setup, pid = -1;
	ssize_t n;

	*exit_code = 125;
	if (!o->argv || !o->argv[0])
		return kerror_set(e, EINVAL, "exec requires a command");
	if (c->state != CTR_RUNNING || c->pid <= 0)
		return kerror_set(e, EINVAL, "can only create exec sessions on running "
					     "containers: container state improper");
	r = run_plan_from_json(c->plan, &p, e);
	if (r < 0)
		return r;
	pidfd = (int)syscall(SYS_pidfd_open, c->pid, 0);
	if (pidfd < 0) {
		r = kerror_sys(e, errno, "opening the container's init (pid %d)", c->pid);
		goto out;
	}
	if (p.seccomp) {
		r = run_seccomp_filter(store_runroot(s), &bpf, e);
		if (r < 0)
			goto out;
		x.bpf = &bpf;
	}
	x.n_cg = open_cgroups(c->pid, x.cg_fds);
	x.p = &p;
	x.uid = p.uid;
	x.gid = p.gid;
	x.gids = p.gids;
	x.n_gids = p.n_gids;
	env = run_merge_env(p.env, NULL, o->env);
	x.env = env;
	x.cwd = o->cwd && *o->cwd ? o->cwd : p.cwd;
	if (pipe2(errp, O_CLOEXEC) < 0) {
		r = kerror_sys(e, errno, "creating a pipe");
		goto out;
	}
	err_r = errp[0];
	x.err_fd = errp[1];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		r = kerror_sys(e, errno, "creating a socket pair");
		close(x.err_fd);
		goto out;
	}
	sock = sv[0];
	sigemptyset(&set);
	for (int sig = 1; sig < 32; sig++)
		if (sig != SIGKILL && sig != SIGSTOP && sig != SIGSEGV && sig != SIGBUS &&
		    sig != SIGILL && sig != SIGFPE && sig != SIGTSTP && sig != SIGTTIN &&
		    sig != SIGTTOU && sig != SIGCONT)
			sigaddset(&set, sig);
	sigprocmask(SIG_BLOCK, &set, &old);
	fflush(stdout);
	fflush(stderr);
	setup = fork();
	if (setup == 0) {
		close(err_r);
		close(sock);
		setup_main(&x, pidfd, sv[1], c->id);
	}
	close(x.err_fd);
	close(sv[1]);
	if (setup < 0) {
		r = kerror_sys(e, errno, "forking the exec process");
		sigprocmask(SIG_SETMASK, &old, NULL);
		goto out;
	}
	do
		n = read(sock, &pid, sizeof(pid));
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(pid))
		pid = -1;
	else if (o->tty)
		master = run_recv_fd(sock);
	while (waitpid(setup, NULL, 0) < 0 && errno == EINTR)
		;
	do
		n = read(err_r, &m, sizeof(m));
	while (n < 0 && errno == EINTR);
	if (n == 0 && pid > 0 && o->tty && master < 0) {
		kill(pid, SIGKILL);
		n = -1;
	}
	if (n != 0 || pid <= 0) {
		if (pid > 0)
			waitpid(pid, NULL, 0);
		sigprocmask(SIG_SETMASK, &old, NULL);
		if (n != (ssize_t)sizeof(m)) {
			r = kerror_set(e, EIO, "the exec process died during set-up");
			goto out;
		}
		m.msg[sizeof(m.msg) - 1] = '\0';
		*exit_code = m.exit_code;
		r = kerror_set(e, m.err, "%s", m.msg);
		goto out;
	}
	if (o->detach) {
		/* Its parent will be the container's init once we exit. */
		sigprocmask(SIG_SETMASK, &old, NULL);
		*exit_code = 0;
		r = 0;
		goto out;
	}
	sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (master >= 0) {
		fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
		if (o->interactive && isatty(0) && tcgetattr(0, &saved) == 0) {
			struct termios t = saved;
			cfmakeraw(&t);
			raw = tcsetattr(0, TCSANOW, &t) == 0;
		}
	}
	*exit_code = supervise(pid, sfd, master, o->interactive && master >= 0);
	master = -1; /* closed by supervise */
	if (raw)
		tcsetattr(0, TCSANOW, &saved);
	sigprocmask(SIG_SETMASK, &old, NULL);
	r = 0;
out:
	for (size_t i = 0; i < x.n_cg; i++)
		close(x.cg_fds[i]);
	run_plan_release(&p);
	return r;
}
