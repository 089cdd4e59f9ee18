/* The per-container monitor: the foreground `kiln run` itself, or a
 * detached process (setsid, double fork) for -d and start.  It holds the
 * container's lock for its whole life, relays stdio (a pty with -t, the log
 * file when detached), forwards signals, and records the exit. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <linux/close_range.h>

#include "run/run_private.h"

struct ready_msg {
	int code; /* 0 started, else the exit code to return */
	int err;
	char msg[1000];
};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void report_ready(int fd, int code, const struct kerror *e)
{
	struct ready_msg m = { .code = code, .err = e && e->code ? e->code : 0 };
	if (fd < 0)
		return;
	if (e && e->msg)
		snprintf(m.msg, sizeof(m.msg), "%s", e->msg);
	if (write(fd, &m, sizeof(m)) < 0) {
		/* the waiting CLI is gone: nothing to tell */
	}
}

static void set_nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void copy_winsize(int from, int to)
{
	struct winsize ws;
	if (ioctl(from, TIOCGWINSZ, &ws) == 0)
		ioctl(to, TIOCSWINSZ, &ws);
}

struct relay {
	int pty;          /* master, -1 */
	int out_r, err_r; /* detached pipes, -1 */
	int in;           /* our stdin to forward to the pty, -1 */
	struct log_writer *log;
	bool no_sig_proxy;
	struct attach_hub *hub; /* kiln attach clients, NULL */
	int stdin_w;            /* the container's stdin pipe (detached -i), -1 */
};

/* Moves what is readable on fd to its destination; false at EOF. */
static bool pump(struct relay *r, int fd, bool is_stderr)
{
	char buf[16384];
	ssize_t n = read(fd, buf, sizeof(buf));
	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	if (n == 0)
		return false;
	if (r->hub)
		attach_broadcast(r->hub, is_stderr, buf, (size_t)n);
	if (r->log)
		log_writer_feed(r->log, is_stderr, buf, (size_t)n);
	else if (fs_write_all(is_stderr ? 2 : 1, buf, (size_t)n) < 0)
		return true; /* our output went away: keep draining */
	return true;
}

static int status_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 125;
}

/* The health checks the monitor runs, each in a child of its own (an
 * exec joins the container's namespaces, and the relay must go on). */
struct health_sched {
	struct store *s;
	const struct container_info *c;
	const struct run_plan *p;
	int64_t next;  /* ns; 0: no checks */
	pid_t running; /* a check in progress, 0 */
};

static void health_tick(struct health_sched *h)
{
	int64_t now = now_ns();
	if (!h->next || h->running || now < h->next)
		return;
	h->next = now + h->p->health.interval;
	h->running = fork();
	if (h->running < 0)
		h->running = 0;
	if (h->running == 0) {
		struct kerror e = { 0 };
		bool ok = false;
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		run_health_check(h->s, h->c, h->p, &ok, &e);
		_exit(ok ? 0 : 1);
	}
}

static int poll_timeout(const struct health_sched *h, bool exited)
{
	if (exited)
		return 0;
	if (!h || !h->next || h->running)
		return -1;
	int64_t ms = (h->next - now_ns()) / 1000000;
	return ms < 0 ? 0 : ms > 60000 ? 60000 : (int)ms + 1;
}

/* Waits for the container's exit, relaying and forwarding meanwhile. */
static int supervise(pid_t pid, int sfd, struct relay *r, struct health_sched *h)
{
	bool exited = false;
	int code = 125, status;

	while (!exited || r->pty >= 0 || r->out_r >= 0 || r->err_r >= 0) {
		struct pollfd pf[6 + ATTACH_MAX_CLIENTS];
		int n = 0, ipty = -1, iout = -1, ierr = -1, iin = -1, ilisten = -1, icl = -1;
		pf[n++] = (struct pollfd){ sfd, POLLIN, 0 };
		if (r->pty >= 0)
			ipty = n, pf[n++] = (struct pollfd){ r->pty, POLLIN, 0 };
		if (r->out_r >= 0)
			iout = n, pf[n++] = (struct pollfd){ r->out_r, POLLIN, 0 };
		if (r->err_r >= 0)
			ierr = n, pf[n++] = (struct pollfd){ r->err_r, POLLIN, 0 };
		if (r->in >= 0 && r->pty >= 0 && !exited)
			iin = n, pf[n++] = (struct pollfd){ r->in, POLLIN, 0 };
		if (r->hub && r->hub->listen_fd >= 0 && !exited) {
			ilisten = n, pf[n++] = (struct pollfd){ r->hub->listen_fd, POLLIN, 0 };
			icl = n;
			for (size_t k = 0; k < r->hub->n; k++)
				pf[n++] = (struct pollfd){ r->hub->clients[k], POLLIN, 0 };
		}
		/* After the exit, drain what is left without waiting on
		 * descriptors some orphan might keep open. */
		if (poll(pf, (nfds_t)n, poll_timeout(h, exited)) < 0) {
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
					if (h && h->running &&
					    waitpid(h->running, NULL, WNOHANG) == h->running)
						h->running = 0;
				} else if (si.ssi_signo == SIGWINCH) {
					if (r->pty >= 0)
						copy_winsize(0, r->pty);
				} else if (!exited && si.ssi_signo != SIGPIPE && !r->no_sig_proxy) {
					kill(pid, (int)si.ssi_signo);
				}
			}
		}
		if (h && !exited)
			health_tick(h);
		if (icl >= 0) {
			/* clients' input, last first (a dropped one is
			 * replaced by the last) */
			for (int k = n - 1; k >= icl; k--)
				if (pf[k].revents)
					attach_client_input(r->hub, (size_t)(k - icl), r->pty,
							    &r->stdin_w);
		}
		if (ilisten >= 0 && (pf[ilisten].revents & POLLIN))
			attach_accept(r->hub);
		bool idle = true;
		if (ipty >= 0 && pf[ipty].revents) {
			if (!pump(r, r->pty, false)) {
				close(r->pty);
				r->pty = -1;
			} else
				idle = false;
		}
		if (iout >= 0 && pf[iout].revents) {
			if (!pump(r, r->out_r, false)) {
				close(r->out_r);
				r->out_r = -1;
			} else
				idle = false;
		}
		if (ierr >= 0 && pf[ierr].revents) {
			if (!pump(r, r->err_r, true)) {
				close(r->err_r);
				r->err_r = -1;
			} else
				idle = false;
		}
		if (iin >= 0 && pf[iin].revents) {
			char buf[4096];
			ssize_t k = read(r->in, buf, sizeof(buf));
			if (k > 0)
				fs_write_all(r->pty, buf, (size_t)k);
			else if (k == 0 || errno != EAGAIN)
				r->in = -1;
		}
		if (exited && idle) {
			/* Nothing more came within a poll round: done. */
			if (r->pty >= 0)
				close(r->pty), r->pty = -1;
			if (r->out_r >= 0)
				close(r->out_r), r->out_r = -1;
			if (r->err_r >= 0)
				close(r->err_r), r->err_r = -1;
		}
	}
	if (!exited && waitpid(pid, &status, 0) == pid)
		code = status_code(status);
	if (h && h->running) {
		kill(-h->running, SIGKILL);
		kill(h->running, SIGKILL);
		waitpid(h->running, NULL, 0);
		h->running = 0;
	}
	return code;
}

bool run_restart_wanted(struct store *s, const struct container_info *c,
			const struct run_plan *p, int code, int restarts)
{
	const char *pol = p->restart ? p->restart : "no";
	if (!strcmp(pol, "no") || run_stopped_by_user(s, c->id))
		return false;
	if (!strcmp(pol, "on-failure"))
		return code != 0 && (p->restart_max == 0 || restarts < p->restart_max);
	return true; /* always, unless-stopped */
}

/* Only a detached monitor restarts (a foreground run hands over to one). */
static bool restart_wanted(struct store *s, const struct container_info *c,
			   const struct run_plan *p, const struct run_monitor_opts *o, int code,
			   int restarts)
{
	return o->detach && !o->remove && run_restart_wanted(s, c, p, code, restarts);
}

/* The count lives in the run dir (gone at reboot, as the count is); 0 is
 * no file, so a start without restarts costs one unlink. */
static void write_restart_count(struct store *s, const char *id, int n)
{
	_cleanup_free_ char *rd = store_container_rundir(s, id);
	_cleanup_free_ char *path = xasprintf("%s/restarts", rd);
	char buf[32];
	_cleanup_kerror_ struct kerror e = { 0 };
	if (n == 0) {
		unlink(path);
		return;
	}
	snprintf(buf, sizeof(buf), "%d\n", n);
	fs_write_atomic(path, buf, strlen(buf), 0600, &e);
}

int run_restart_count(struct store *s, const char *id)
{
	_cleanup_free_ char *rd = store_container_rundir(s, id);
	_cleanup_free_ char *path = xasprintf("%s/restarts", rd);
	_cleanup_free_ char *data = NULL;
	size_t len;
	if (fs_read_file(path, 64, &data, &len, NULL) < 0)
		return 0;
	return atoi(data);
}

static char *stopped_path(struct store *s, const char *id)
{
	_cleanup_free_ char *dir = store_container_dir(s, id);
	return xasprintf("%s/stopped", dir);
}

void run_mark_stopped(struct store *s, const char *id, bool stopped)
{
	_cleanup_free_ char *path = stopped_path(s, id);
	if (!stopped) {
		unlink(path);
		return;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
}

bool run_stopped_by_user(struct store *s, const char *id)
{
	_cleanup_free_ char *path = stopped_path(s, id);
	return access(path, F_OK) == 0;
}

/* The back-off before a restart (Docker's: 100 ms doubling up to a
 * minute); false when a stop came meanwhile. */
static bool backoff_sleep(struct store *s, const char *id, int64_t ns)
{
	int64_t until = now_ns() + ns;
	_cleanup_free_ char *dir = store_container_dir(s, id);
	while (now_ns() < until) {
		struct timespec ts = { 0, 50 * 1000000L };
		if (run_stopped_by_user(s, id) || access(dir, F_OK) < 0)
			return false; /* stopped, or removed */
		nanosleep(&ts, NULL);
	}
	return !run_stopped_by_user(s, id);
}

static void finish(struct store *s, struct container_info *c, bool remove, int code)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	c->state = CTR_EXITED;
	c->exit_code = code;
	c->pid = 0;
	c->finished = now_ns();
	char codes[16];
	snprintf(codes, sizeof(codes), "%d", code);
	{
		/* by its current name (a rename reaches the row, not us) */
		_cleanup_container_info_ struct container_info *now = NULL;
		store_container_event(s, store_container_get(s, c->id, &now, NULL) == 0 ? now : c,
				      "die", "exitCode", codes);
	}
	if (remove) {
		run_rootfs_release(s, c);
		run_removed_exit_write(s, c->id, code);
		if (store_container_remove(s, c->id, &e) < 0)
			log_warn("removing container %.12s: %s", c->id, e.msg);
		else
			run_volumes_remove_anonymous(s, c->plan); /* as docker run --rm */
		return;
	}
	run_exit_file_write(s, c->id, code);
	if (store_container_update(s, c, &e) < 0)
		log_warn("recording the exit of container %.12s: %s", c->id, e.msg);
}

int run_monitor(struct store *s, struct container_info *c, const struct run_plan *p,
		const struct run_monitor_opts *o, int *exit_code, struct kerror *e)
{
	_cleanup_close_ int lock = -1, sfd = -1, logfd = -1;
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	struct run_stdio io = { -1, 1, 2 };
	struct run_proc proc;
	struct relay rl = { -1, -1, -1, -1, NULL, o->no_sig_proxy, NULL, -1 };
	struct attach_hub hub = { .listen_fd = -1 };
	int inp[2] = { -1, -1 };
	_cleanup_free_ char *rundir = store_container_rundir(s, c->id);
	struct log_writer lw = { -1, { { 0 }, { 0 } } };
	struct termios saved;
	bool raw = false;
	sigset_t set, old;
	int64_t backoff = 100LL * 1000000;
	pid_t dying = 0; /* the last run's pasta, killed, maybe not reaped */
	int r;

	*exit_code = 125;
	r = run_lock(s, c->id, false, &lock, e);
	if (r == -EWOULDBLOCK)
		r = kerror_set(e, EBUSY, "container %s is already running", c->name);
	if (r < 0) {
		report_ready(o->ready_fd, 125, e);
		return r;
	}
	{
		/* An exit file from an earlier run must not be taken for
		 * this one's. */
		_cleanup_free_ char *rd = store_container_rundir(s, c->id);
		_cleanup_free_ char *ef = xasprintf("%s/exit", rd);
		unlink(ef);
	}
	/* Signals come through a signalfd; the child unblocks them. */
	sigemptyset(&set);
	for (int sig = 1; sig < 32; sig++)
		if (sig != SIGKILL && sig != SIGSTOP && sig != SIGSEGV && sig != SIGBUS &&
		    sig != SIGILL && sig != SIGFPE && sig != SIGTSTP && sig != SIGTTIN &&
		    sig != SIGTTOU && sig != SIGCONT)
			sigaddset(&set, sig);
	sigprocmask(SIG_BLOCK, &set, &old);
	sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		r = kerror_sys(e, errno, "creating a signalfd");
		goto fail;
	}
	bool to_log = false;
	if (o->detach && !strcmp(p->log_driver ? p->log_driver : "", "none")) {
		/* --log-driver none: the output goes nowhere (but to kiln
		 * attach). */
		to_log = !p->tty;
	} else if (o->detach) {
		_cleanup_free_ char *path = run_log_path(s, c->id);
		struct stat st;
		logfd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (logfd < 0) {
			r = kerror_sys(e, errno, "opening the log \"%s\"", path);
			goto fail;
		}
		lw.fd = logfd;
		lw.max_size = p->log_max_size;
		if (fstat(logfd, &st) == 0)
			lw.size = st.st_size;
		rl.log = &lw;
		to_log = !p->tty;
	} else if (p->interactive) {
		io.in = 0;
	}
	if (o->restarts == 0) {
		run_mark_stopped(s, c->id, false);
		write_restart_count(s, c->id, 0);
	}
	for (int i = 0; i < o->restarts && backoff < 60LL * 1000000000; i++)
		backoff *= 2;
	/* kiln attach: to a detached container, and to a foreground one with
	 * a terminal (its pty goes through here; without one its output goes
	 * straight to the caller's descriptors) */
	if (o->detach || p->tty) {
		_cleanup_kerror_ struct kerror ae = { 0 };
		hub.listen_fd = attach_listen(rundir, &ae);
		if (hub.listen_fd < 0)
			log_warn("container %.12s cannot be attached to: %s", c->id, ae.msg);
		else
			rl.hub = &hub;
	}
	for (int restarts = o->restarts;; restarts++) {
		if (dying > 0)
			waitpid(dying, NULL, 0);
		dying = 0;
		if (o->detach && p->interactive && !p->tty) {
			/* -d -i: stdin is a pipe kiln attach writes to */
			if (pipe2(inp, O_CLOEXEC) < 0) {
				r = kerror_sys(e, errno, "creating the stdin pipe");
				goto fail;
			}
			io.in = inp[0];
			if (rl.stdin_w >= 0)
				close(rl.stdin_w);
			rl.stdin_w = inp[1];
			set_nonblock(rl.stdin_w);
		}
		if (to_log) {
			if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
				r = kerror_sys(e, errno, "creating the log pipes");
				goto fail;
			}
			io.out = outp[1];
			io.err = errp[1];
		}
		/* Every start writes the run dir anew: a reboot emptied it,
		 * and the name or the host's resolver may have changed. */
		r = run_prepare_start(s, c, p, e);
		if (r == 0)
			r = p->runtime ? oci_spawn(s, c->id, p, &io, &proc, exit_code, e)
				       : run_spawn(s, c->id, p, &io, &proc, exit_code, e);
		if (inp[0] >= 0)
			close(inp[0]);
		inp[0] = -1;
		io.in = -1;
		if (outp[1] >= 0)
			close(outp[1]);
		if (errp[1] >= 0)
			close(errp[1]);
		outp[1] = errp[1] = -1;
		rl.out_r = outp[0];
		rl.err_r = errp[0];
		if (r < 0 && restarts > o->restarts) {
			/* a restart that cannot start: recorded, and no more */
			log_warn("restarting container %.12s: %s", c->id, e->msg);
			kerror_release(e);
			if (rl.out_r >= 0)
				close(rl.out_r);
			if (rl.err_r >= 0)
				close(rl.err_r);
			break;
		}
		if (r < 0)
			goto fail;
		c->state = CTR_RUNNING;
		c->pid = proc.pid;
		c->started = now_ns();
		c->exit_code = 0;
		c->finished = 0;
		if (store_container_update(s, c, e) < 0) {
			kill(proc.pid, SIGKILL);
			waitpid(proc.pid, NULL, 0);
			cgroup_remove(&proc.cg);
			if (p->runtime)
				oci_cleanup(s, c->id, p);
			net_user_end(proc.net_fd, proc.net_pid);
			net_user_stop(s, c->id);
			if (p->networks)
				run_net_release(s, c->id);
			r = -EIO;
			if (restarts > o->restarts)
				break;
			goto fail;
		}
		/* counted once it runs: "N exited" then means run N+1 is over */
		if (restarts > 0)
			write_restart_count(s, c->id, restarts);
		/* a restart policy's restart: Podman's event, then the start */
		if (restarts > 0)
			store_container_event(s, c, "restart", NULL, NULL);
		store_container_event(s, c, "start", NULL, NULL);
		if (restarts == o->restarts) {
			report_ready(o->ready_fd, 0, NULL);
			if (o->ready_fd >= 0)
				close(o->ready_fd);
		}
		if (proc.pty_master >= 0) {
			rl.pty = proc.pty_master;
			set_nonblock(rl.pty);
			if (!o->detach && restarts == 0) {
				if (isatty(0)) {
					copy_winsize(0, rl.pty);
					if (tcgetattr(0, &saved) == 0) {
						struct termios t = saved;
						cfmakeraw(&t);
						raw = tcsetattr(0, TCSANOW, &t) == 0;
					}
				}
				if (p->interactive)
					rl.in = 0;
			}
		}
		if (rl.out_r >= 0)
			set_nonblock(rl.out_r);
		if (rl.err_r >= 0)
			set_nonblock(rl.err_r);
		struct health_sched hs = { s, c, p, 0, 0 };
		if (p->health.test) {
			run_health_reset(s, c->id);
			hs.next = now_ns() + p->health.interval;
		}
		*exit_code = supervise(proc.pid, sfd, &rl, p->health.test ? &hs : NULL);
		cgroup_remove(&proc.cg);
		if (p->runtime)
			oci_cleanup(s, c->id, p);
		net_user_end(proc.net_fd, proc.net_pid);
		dying = proc.net_pid;
		net_user_stop(s, c->id);
		if (p->networks)
			run_net_release(s, c->id);
		int64_t ran = now_ns() - c->started;
		if (!restart_wanted(s, c, p, o, *exit_code, restarts))
			break;
		/* recorded as exited while it waits, as Docker shows it */
		if (rl.log)
			log_writer_flush(rl.log);
		finish(s, c, false, *exit_code);
		if (ran > 10LL * 1000000000)
			backoff = 100LL * 1000000;
		if (!backoff_sleep(s, c->id, backoff))
			break;
		backoff = backoff * 2 > 60LL * 1000000000 ? 60LL * 1000000000 : backoff * 2;
	}
	if (raw)
		tcsetattr(0, TCSANOW, &saved);
	if (rl.log)
		log_writer_flush(rl.log);
	if (rl.stdin_w >= 0)
		close(rl.stdin_w);
	attach_close(&hub, rundir);
	finish(s, c, o->remove, *exit_code);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return 0;

fail:
	if (rl.stdin_w >= 0)
		close(rl.stdin_w);
	attach_close(&hub, rundir);
	if (p->networks)
		run_net_release(s, c->id);
	if (rl.out_r >= 0)
		close(rl.out_r);
	if (rl.err_r >= 0)
		close(rl.err_r);
	report_ready(o->ready_fd, *exit_code, e);
	if (o->remove) {
		_cleanup_kerror_ struct kerror e2 = { 0 };
		if (store_container_remove(s, c->id, &e2) == 0)
			run_volumes_remove_anonymous(s, c->plan);
	} else if (*exit_code != 125) {
		/* As Docker: a command that cannot run leaves the container
		 * "created", with the code. */
		c->exit_code = *exit_code;
		store_container_update(s, c, NULL);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return r;
}

int run_detached(const struct store_opts *so, struct container_info *c,
		 const struct run_plan *p, bool remove, int restarts, int *exit_code,
		 struct kerror *e)
{
	int ready[2];
	struct ready_msg m;
	pid_t mid;
	ssize_t n;
	int status;

	*exit_code = 125;
	if (pipe2(ready, O_CLOEXEC) < 0)
		return kerror_sys(e, errno, "creating a pipe");
	fflush(stdout);
	fflush(stderr);
	mid = fork();
	if (mid < 0) {
		close(ready[0]);
		close(ready[1]);
		return kerror_sys(e, errno, "forking the monitor");
	}
	if (mid == 0) {
		/* Intermediate: a new session, then the monitor as its child,
		 * so the monitor is not a session leader and gets reparented. */
		close(ready[0]);
		setsid();
		pid_t g = fork();
		if (g != 0)
			_exit(g < 0 ? 1 : 0);
		struct store *ms = NULL;
		struct kerror me = { 0 };
		struct run_monitor_opts mo = { .detach = true, .remove = remove, .ready_fd = ready[1],
					       .restarts = restarts };
		int code;
		/* The caller's descriptors (a test harness's pipes, a
		 * terminal) must not be held by the monitor: keep only the
		 * ready pipe, as fd 3. */
		if (ready[1] != 3) {
			dup2(ready[1], 3);
			close(ready[1]);
			ready[1] = 3;
			mo.ready_fd = 3;
		}
		fcntl(3, F_SETFD, FD_CLOEXEC);
		close_range(4, ~0U, 0);
		fs_stdio_to_devnull();
		/* Our own connection: SQLite handles do not survive fork. */
		if (store_open(so, &ms, &me) < 0) {
			report_ready(ready[1], 125, &me);
			_exit(125);
		}
		run_monitor(ms, c, p, &mo, &code, &me);
		_exit(0);
	}
	close(ready[1]);
	waitpid(mid, &status, 0);
	do
		n = read(ready[0], &m, sizeof(m));
	while (n < 0 && errno == EINTR);
	close(ready[0]);
	if (n != (ssize_t)sizeof(m))
		return kerror_set(e, EIO, "the container's monitor died before it started");
	m.msg[sizeof(m.msg) - 1] = '\0';
	if (m.code != 0) {
		*exit_code = m.code;
		return kerror_set(e, m.err ? m.err : EIO, "%s", m.msg);
	}
	*exit_code = 0;
	return 0;
}
