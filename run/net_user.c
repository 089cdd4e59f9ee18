/* User-mode networking for a container's network namespace: pasta (package
 * passt) or slirp4netns, both of which need /dev/net/tun.
 *
 * pasta drops its capabilities before it opens the namespace, and then may
 * not open /proc/PID/ns/net of a process with more capabilities than it
 * (the container's init is root of our user namespace); so it gets the
 * namespace as an inherited descriptor, named /proc/self/fd/3, which it
 * may always open.  It does not notice when a namespace given so goes
 * away: a container's pasta stays in the foreground, our child, killed
 * when the container ends or we die (its parent-death signal), and is
 * ready long before its start-up ends (pasta_ready.c).  A build's forks
 * into the background once it is up, and is stopped through its pid file.
 * slirp4netns (no capability dropping) takes the PID; it stops when the
 * descriptor given as --exit-fd closes, which the caller keeps for the
 * container's life.  Published TCP ports are neither tool's but a process
 * of ours (portfwd.c), stopped through the descriptor kept the same way;
 * with slirp4netns it holds --exit-fd's end in our place. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run/run_private.h"

#define NET_FD 3
#define SLIRP_SOCK "slirp4netns.sock"

static int check_tun(const char *tool, struct kerror *e)
{
	if (access("/dev/net/tun", R_OK | W_OK) == 0)
		return 0;
	return kerror_sys(e, errno, "--network %s needs /dev/net/tun, which this user cannot open "
				    "(it must exist with mode 0666); use --network none or host",
			  tool);
}

/* The last line of the tool's log, for the error message. */
static char *log_tail(const char *log)
{
	_cleanup_free_ char *text = NULL;
	struct kerror e = { 0 };
	size_t len;
	if (fs_read_file(log, 64 * 1024, &text, &len, &e) < 0) {
		kerror_release(&e);
		return xstrdup("no message");
	}
	while (len && (text[len - 1] == '\n' || text[len - 1] == ' '))
		text[--len] = '\0';
	char *nl = strrchr(text, '\n');
	return xstrdup(nl ? nl + 1 : *text ? text : "no message");
}

enum tool_life {
	TOOL_CHILD,  /* our child until it exits (pasta then forks its daemon) */
	TOOL_DAEMON, /* out of our session, not our child: its parent exits at once */
	TOOL_TIED,   /* out of our session, our child, killed when we die */
};

/* Forks and execs file (looked up in $PATH without a slash) with argv,
 * stdin/stdout on /dev/null, stderr on log, keep (if >= 0) as descriptor
 * NET_FD and extra (if >= 0) left open. */
static pid_t spawn_tool(const char *file, char *const *argv, const char *log, int keep,
			int extra, enum tool_life life)
{
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	if (life == TOOL_TIED) {
		/* Not in the terminal's process group (a ^C is the
		 * container's), and gone with us even after a SIGKILL. */
		setsid();
		if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != parent)
			_exit(126);
	}
	/* Our blocked signals (the monitor's signalfd set) are not the
	 * tool's: pasta would never reap its helpers (SIGCHLD). */
	sigset_t none;
	sigemptyset(&none);
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* In the container's run dir: relative socket paths stay short. */
	_cleanup_free_ char *dir = xstrdup(log);
	*strrchr(dir, '/') = '\0';
	if (chdir(dir) < 0)
		_exit(126);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	int lfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
	    dup2(lfd >= 0 ? lfd : null, 2) < 0)
		_exit(126);
	if (keep >= 0 && dup2(keep, NET_FD) < 0)
		_exit(126);
	if (extra >= 0)
		fcntl(extra, F_SETFD, 0);
	if (life == TOOL_DAEMON) {
		/* Out of the caller's session; the intermediate exits at once. */
		setsid();
		pid_t g = fork();
		if (g != 0)
			_exit(g < 0 ? 126 : 0);
	}
	execvp(file, argv);
	_exit(127);
}

static int wait_tool(pid_t pid, const char *tool, const char *log, struct kerror *e)
{
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return kerror_sys(e, errno, "waiting for %s", tool);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return kerror_set(e, ENOENT, "%s not found in $PATH", tool);
	_cleanup_free_ char *why = log_tail(log);
	return kerror_set(e, EIO, "%s failed: %s", tool, why);
}

/* pasta's -t/-u value for the plan's ports of one protocol ("none" when
 * there are none): "[IP/]HOST:CTR,…". */
static char *pasta_ports(char *const *ports, bool udp)
{
	struct buf b = { 0 };
	for (size_t i = 0; ports && ports[i]; i++) {
		struct run_port pt;
		if (run_port_split(ports[i], &pt) < 0 || pt.udp != udp)
			continue;
		buf_printf(&b, "%s%s%s%u:%u", b.len ? "," : "", pt.host_ip,
			   *pt.host_ip ? "/" : "", pt.host_port, pt.ctr_port);
	}
	if (!b.len)
		buf_printf(&b, "none");
	return buf_steal(&b);
}

/* pasta's executable.  On a CPU with AVX2, pasta re-executes itself as its
 * AVX2 build (about 1.5 ms here) unless it already is that build, which
 * the packages install beside it as pasta.avx2: that one is started. */
static char *pasta_file(void)
{
	struct kerror e = { 0 };
	char *path = NULL;
	if (run_oci_runtime_path("pasta", &path, &e) < 0) {
		kerror_release(&e);
		return xstrdup("pasta"); /* execvp's 127 says it is missing */
	}
#ifdef __x86_64__
	if (__builtin_cpu_supports("avx2")) {
		char *avx2 = xasprintf("%s.avx2", path);
		if (access(avx2, X_OK) == 0) {
			free(path);
			return avx2;
		}
		free(avx2);
	}
#endif
	return path;
}

/* Starts pasta for the namespace nsfd, publishing ports; its pid in *tool.
 * In the foreground, it stays the process we started. */
static int begin_pasta(char *const *ports, bool tcp_too, int nsfd, const char *logdir,
		       const char *log, bool foreground, pid_t *tool, struct kerror *e)
{
	_cleanup_free_ char *pidfile = xasprintf("%s/" PASTA_PID_FILE, logdir);
	_cleanup_free_ char *tcp = pasta_ports(tcp_too ? ports : NULL, false);
	_cleanup_free_ char *udp = pasta_ports(ports, true);
	char fdpath[32];

	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", NET_FD);
	/* -T/-U none: the container does not reach the host's loopback
	 * ports (Podman's default); --runas 0:0 keeps pasta from changing to
	 * "nobody" (it is root only of our user namespace, or real root). */
	char *argv[] = { "pasta", "--config-net", "--quiet", "--runas", "0:0",
			 "-t", tcp, "-u", udp, "-T", "none", "-U", "none",
			 "--netns", fdpath, "--pid", pidfile,
			 foreground ? "--foreground" : NULL, NULL };
	_cleanup_free_ char *file = pasta_file();
	*tool = spawn_tool(file, argv, log, nsfd, -1, foreground ? TOOL_TIED : TOOL_CHILD);
	if (*tool < 0)
		return kerror_sys(e, errno, "starting pasta");
	return 0;
}

/* pasta forks into the background once the namespace is configured and its
 * ports are bound: the exit of the process we started is the readiness. */
static int start_pasta(char *const *ports, int nsfd, const char *logdir, const char *log,
		       struct kerror *e)
{
	pid_t tool;
	int r = begin_pasta(ports, true, nsfd, logdir, log, false, &tool, e);
	return r < 0 ? r : wait_tool(tool, "pasta", log, e);
}

/* slirp4netns' API: one JSON request per connection. */
static int slirp_hostfwd(const char *logdir, const struct run_port *pt, struct kerror *e)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	_cleanup_close_ int dfd = open(logdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	char reply[512];
	ssize_t n;

	/* The run dir's full path is too long for sun_path. */
	snprintf(a.sun_path, sizeof(a.sun_path), "/proc/self/fd/%d/%s", dfd, SLIRP_SOCK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return kerror_sys(e, errno, "connecting to slirp4netns");
	_cleanup_free_ char *req = xasprintf(
		"{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"%s\",\"host_addr\":\"%s\","
		"\"host_port\":%u,\"guest_port\":%u}}",
		pt->udp ? "udp" : "tcp", *pt->host_ip ? pt->host_ip : "0.0.0.0", pt->host_port,
		pt->ctr_port);
	if (fs_write_all(fd, req, strlen(req)) < 0)
		return kerror_sys(e, errno, "writing to slirp4netns");
	shutdown(fd, SHUT_WR);
	n = read(fd, reply, sizeof(reply) - 1);
	if (n <= 0)
		return kerror_set(e, EIO, "publishing port %u: no answer from slirp4netns",
				  pt->host_port);
	reply[n] = '\0';
	if (strstr(reply, "\"error\""))
		return kerror_set(e, EIO, "publishing port %u with slirp4netns: %s", pt->host_port,
				  reply);
	return 0;
}

static int begin_slirp(pid_t pid, bool api, struct net_user_pending *n, struct kerror *e)
{
	int exitp[2], readyp[2];
	char pidstr[16], exitstr[32], readystr[32];
	_cleanup_free_ char *sock = xasprintf("%s/" SLIRP_SOCK, n->logdir);
	char apiarg[] = "--api-socket=" SLIRP_SOCK;

	if (pipe2(exitp, O_CLOEXEC) < 0)
		return kerror_sys(e, errno, "creating a pipe");
	if (pipe2(readyp, O_CLOEXEC) < 0) {
		close(exitp[0]);
		close(exitp[1]);
		return kerror_sys(e, errno, "creating a pipe");
	}
	unlink(sock);
	snprintf(pidstr, sizeof(pidstr), "%d", (int)pid);
	snprintf(exitstr, sizeof(exitstr), "--exit-fd=%d", NET_FD);
	snprintf(readystr, sizeof(readystr), "--ready-fd=%d", readyp[1]);
	char *argv[10];
	size_t i = 0;
	argv[i++] = "slirp4netns";
	argv[i++] = "--configure";
	argv[i++] = "--mtu=65520";
	argv[i++] = "--disable-host-loopback";
	argv[i++] = exitstr;
	argv[i++] = readystr;
	if (api)
		argv[i++] = apiarg;
	argv[i++] = pidstr;
	argv[i++] = "tap0";
	argv[i] = NULL;
	n->tool = spawn_tool(argv[0], argv, n->log, exitp[0], readyp[1], TOOL_DAEMON);
	close(exitp[0]);
	close(readyp[1]);
	if (n->tool < 0) {
		close(exitp[1]);
		close(readyp[0]);
		return kerror_sys(e, errno, "starting slirp4netns");
	}
	n->exit_w = exitp[1];
	n->ready_r = readyp[0];
	return 0;
}

static int finish_slirp(const struct run_plan *p, struct net_user_pending *n, int *keep_fd,
			struct kerror *e)
{
	char b;
	int r = wait_tool(n->tool, "slirp4netns", n->log, e);
	if (r == 0 && read(n->ready_r, &b, 1) != 1) {
		_cleanup_free_ char *why = log_tail(n->log);
		r = kerror_set(e, EIO, "slirp4netns failed: %s", why);
	}
	/* UDP ports through slirp4netns' API, TCP ones by our forwarder
	 * (portfwd.c), which then holds slirp4netns' --exit-fd for us. */
	for (size_t i = 0; r == 0 && p->ports && p->ports[i]; i++) {
		struct run_port pt;
		if (run_port_split(p->ports[i], &pt) == 0 && pt.udp)
			r = slirp_hostfwd(n->logdir, &pt, e);
	}
	if (r == 0 && run_ports_have(p->ports, false)) {
		int fwd;
		r = portfwd_start(p->ports, n->ctr, n->exit_w, &fwd, e);
		if (r == 0) {
			close(n->exit_w);
			n->exit_w = fwd;
		}
	}
	if (r == 0) {
		*keep_fd = n->exit_w;
		n->exit_w = -1;
	}
	return r;
}

static void pending_release(struct net_user_pending *n)
{
	if (n->exit_w >= 0)
		portfwd_stop(n->exit_w);
	if (n->ready_r >= 0)
		close(n->ready_r);
	pasta_ready_release(&n->ready);
	free(n->logdir);
	free(n->log);
	memset(n, 0, sizeof(*n));
	n->exit_w = n->ready_r = -1;
	pasta_ready_init(&n->ready);
}

static int begin_ctr_pasta(const struct run_plan *p, pid_t pid, struct net_user_pending *n,
			   struct kerror *e)
{
	_cleanup_free_ char *nspath = xasprintf("/proc/%d/ns/net", (int)pid);
	_cleanup_close_ int nsfd = open(nspath, O_RDONLY | O_CLOEXEC);
	int r;
	if (nsfd < 0)
		return kerror_sys(e, errno, "opening \"%s\"", nspath);
	/* TCP ports are our forwarder's (portfwd.c), UDP ones pasta's. */
	r = run_ports_have(p->ports, false) ? portfwd_start(p->ports, pid, -1, &n->exit_w, e) : 0;
	if (r == 0)
		r = pasta_ready_open(&n->ready, pid, nsfd, run_ports_have(p->ports, true),
				     n->logdir, e);
	if (r == 0)
		r = begin_pasta(p->ports, false, nsfd, n->logdir, n->log, true, &n->tool, e);
	return r;
}

static int finish_ctr_pasta(struct net_user_pending *n, int *keep_fd, pid_t *keep_pid,
			    struct kerror *e)
{
	int r = pasta_ready_wait(&n->ready, n->tool, e);
	if (r == 1) {
		/* in the foreground, any exit is a failure */
		r = wait_tool(n->tool, "pasta", n->log, e);
		if (r == 0) {
			_cleanup_free_ char *why = log_tail(n->log);
			r = kerror_set(e, EIO, "pasta exited: %s", why);
		}
		return r;
	}
	if (r < 0) {
		net_user_end(-1, n->tool);
	} else {
		*keep_pid = n->tool;
		*keep_fd = n->exit_w; /* the forwarder's, if any */
		n->exit_w = -1;
	}
	return r;
}

int net_user_begin(const struct run_plan *p, pid_t pid, const char *logdir,
		   struct net_user_pending *n, struct kerror *e)
{
	int r;

	memset(n, 0, sizeof(*n));
	n->exit_w = n->ready_r = -1;
	pasta_ready_init(&n->ready);
	n->pasta = !strcmp(p->network, "pasta");
	n->ctr = pid;
	if ((r = check_tun(p->network, e)) < 0)
		return r;
	if ((r = fs_mkdir_p(logdir, 0700, e)) < 0)
		return r;
	n->logdir = xstrdup(logdir);
	n->log = xasprintf("%s/network.log", logdir);
	unlink(n->log);
	r = n->pasta ? begin_ctr_pasta(p, pid, n, e) : begin_slirp(pid, run_ports_have(p->ports, true), n, e);
	if (r < 0)
		pending_release(n);
	return r;
}

int net_user_finish(const struct run_plan *p, struct net_user_pending *n, int *keep_fd,
		    pid_t *keep_pid, struct kerror *e)
{
	int r;

	*keep_fd = -1;
	*keep_pid = 0;
	r = n->pasta ? finish_ctr_pasta(n, keep_fd, keep_pid, e) : finish_slirp(p, n, keep_fd, e);
	pending_release(n);
	return r;
}

int net_user_start(const struct run_plan *p, pid_t pid, const char *logdir, int *keep_fd,
		   pid_t *keep_pid, struct kerror *e)
{
	struct net_user_pending n;
	int r;

	*keep_fd = -1;
	*keep_pid = 0;
	r = net_user_begin(p, pid, logdir, &n, e);
	return r < 0 ? r : net_user_finish(p, &n, keep_fd, keep_pid, e);
}

void net_user_end(int keep_fd, pid_t keep_pid)
{
	if (keep_fd >= 0)
		portfwd_stop(keep_fd);
	if (keep_pid > 0) {
		/* Its exit takes a while (the tap device's removal waits for
		 * the kernel's grace periods): reaped now only if done. */
		kill(keep_pid, SIGKILL);
		waitpid(keep_pid, NULL, WNOHANG);
	}
}

int net_user_pasta_ns(int nsfd, const char *dir, struct kerror *e)
{
	_cleanup_free_ char *log = xasprintf("%s/network.log", dir);
	int r = check_tun("pasta", e);
	if (r == 0)
		r = start_pasta(NULL, nsfd, dir, log, e);
	return r;
}

void net_user_pasta_stop(const char *dir)
{
	_cleanup_free_ char *pidfile = xasprintf("%s/" PASTA_PID_FILE, dir);
	_cleanup_free_ char *text = NULL, *cmd = NULL, *cmdpath = NULL;
	struct kerror e = { 0 };
	size_t len;
	long pid;
	char *end;

	if (fs_read_file(pidfile, 64, &text, &len, &e) < 0) {
		kerror_release(&e);
		return;
	}
	pid = strtol(text, &end, 10);
	if (pid > 1 && (!*end || *end == '\n')) {
		/* Only a pasta of ours: the pid may have been reused. */
		cmdpath = xasprintf("/proc/%ld/cmdline", pid);
		if (fs_read_file(cmdpath, 4096, &cmd, &len, &e) == 0 && !strcmp(cmd, "pasta") &&
		    memmem(cmd, len, pidfile, strlen(pidfile)))
			kill((pid_t)pid, SIGKILL);
		kerror_release(&e);
	}
	unlink(pidfile);
}

void net_user_stop(struct store *s, const char *id)
{
	_cleanup_free_ char *dir = store_container_rundir(s, id);
	net_user_pasta_stop(dir);
}

bool run_network_user_mode(const char *network)
{
	return network && (!strcmp(network, "pasta") || !strcmp(network, "slirp4netns"));
}

const char *run_network_default(void)
{
	/* Rootless: pasta, else slirp4netns (Podman 5's order); root: the
	 * bridge network "kiln" (net.c). */
	if (!run_rootless())
		return "bridge";
	static const char *const dirs[] = { "/usr/bin", "/usr/local/bin", "/bin", "/usr/sbin" };
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		_cleanup_free_ char *pp = xasprintf("%s/pasta", dirs[i]);
		if (access(pp, X_OK) == 0)
			return "pasta";
	}
	return "slirp4netns";
}
