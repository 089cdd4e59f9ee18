/* The published TCP ports of a container on pasta or slirp4netns,
 * forwarded by a process of ours that moves the bytes with splice(2): it
 * listens on the host, joins the container's user and network namespaces,
 * and connects each client to 127.0.0.1:PORT in there.
 *
 * pasta splices only a client on the host's loopback; one that comes to
 * the host's own address (another address of this host, or a client
 * elsewhere) goes through pasta's tap, whose TCP, in the pasta of Debian
 * 12 (2023-03), stalls in retransmission timeouts at its 65520-byte MTU:
 * 0.5 Gbit/s against 13 through the loopback (bench/net-rootless.sh).  As
 * with Podman's rootlessport (its rootless default), the container sees
 * the connection come from 127.0.0.1.  slirp4netns' own forwarding copies
 * through its user-mode TCP (5.8 Gbit/s against Podman's 13).  UDP ports
 * stay the tools'.
 *
 * The forwarder is the monitor's child, killed with it (parent-death
 * signal), and exits when the monitor shuts down its end of a socket pair
 * kept for the container's life; the monitor then waits for it to exit
 * (portfwd_stop: a restarted container's forwarder finds the ports free,
 * and no zombie is left). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run/run_private.h"

#define PIPE_SIZE (1 << 20)

/* One direction of a connection: from -> pipe -> to. */
struct flow {
	int pipe[2];
	size_t queued; /* bytes in the pipe */
	bool eof;      /* from is at its end */
	bool shut;     /* to got our FIN */
};

/* What an epoll event names: each starts with its kind. */
enum kind { K_EXIT, K_LISTENER, K_END };

struct conn;
struct end {
	enum kind kind;
	struct conn *c;
	int fd;
};

struct conn {
	struct end client, ctr;
	struct flow up, down; /* client -> container, container -> client */
	bool dead;
	struct conn *next_dead;
};

struct listener {
	enum kind kind;
	int fd;
	unsigned ctr_port;
};

static int listen_on(const struct run_port *pt, struct kerror *e)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int fam, one = 1, zero = 0;
	const char *ip = pt->host_ip;

	if (!*ip || inet_pton(AF_INET6, ip, &a6->sin6_addr) == 1) {
		fam = AF_INET6; /* all addresses: both families on one socket */
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)pt->host_port);
		len = sizeof(*a6);
	} else if (inet_pton(AF_INET, ip, &a4->sin_addr) == 1) {
		fam = AF_INET;
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)pt->host_port);
		len = sizeof(*a4);
	} else {
		return kerror_set(e, EINVAL, "publishing port %u: invalid address %s",
				  pt->host_port, pt->host_ip);
	}
	int fd = socket(fam, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 && fam == AF_INET6 && !*ip && errno == EAFNOSUPPORT) {
		/* a host without IPv6 */
		memset(&ss, 0, sizeof(ss));
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)pt->host_port);
		len = sizeof(*a4);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	}
	if (fd < 0)
		return kerror_sys(e, errno, "publishing port %u", pt->host_port);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6 && !*ip)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 128) < 0) {
		int err = errno;
		close(fd);
		return kerror_sys(e, err, "publishing port %u", pt->host_port);
	}
	return fd;
}

/* Moves what it can in one direction; -1 when the connection failed. */
static int pump(struct flow *f, int from, int to)
{
	for (;;) {
		bool moved = false;
		if (!f->eof && f->queued < PIPE_SIZE) {
			ssize_t n = splice(from, NULL, f->pipe[1], NULL, PIPE_SIZE,
					   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0) {
				f->queued += (size_t)n;
				moved = true;
			} else if (n == 0) {
				f->eof = true;
			} else if (errno != EAGAIN && errno != EINTR) {
				return -1;
			}
		}
		if (f->queued) {
			ssize_t n = splice(f->pipe[0], NULL, to, NULL, f->queued,
					   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0) {
				f->queued -= (size_t)n;
				moved = true;
			} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
				return -1;
			}
		}
		if (f->eof && !f->queued && !f->shut) {
			shutdown(to, SHUT_WR);
			f->shut = true;
		}
		if (!moved)
			return 0;
	}
}

static void conn_close(struct conn *c, struct conn **dead)
{
	if (c->dead)
		return;
	c->dead = true;
	close(c->client.fd);
	close(c->ctr.fd);
	for (int i = 0; i < 2; i++) {
		close(c->up.pipe[i]);
		close(c->down.pipe[i]);
	}
	c->next_dead = *dead;
	*dead = c;
}

static void conn_run(struct conn *c, struct conn **dead)
{
	if (c->dead)
		return;
	if (pump(&c->up, c->client.fd, c->ctr.fd) < 0 ||
	    pump(&c->down, c->ctr.fd, c->client.fd) < 0 || (c->up.shut && c->down.shut))
		conn_close(c, dead);
}

static int flow_init(struct flow *f)
{
	if (pipe2(f->pipe, O_NONBLOCK | O_CLOEXEC) < 0)
		return -1;
	fcntl(f->pipe[1], F_SETPIPE_SZ, PIPE_SIZE); /* the default 64 KiB else */
	return 0;
}

static void conn_accept(int ep, const struct listener *l)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)l->ctr_port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int cfd;
	while ((cfd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		struct conn *c = calloc(1, sizeof(*c));
		int sfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (!c || sfd < 0 || flow_init(&c->up) < 0) {
			free(c);
			close(cfd);
			if (sfd >= 0)
				close(sfd);
			continue;
		}
		if (flow_init(&c->down) < 0) {
			close(c->up.pipe[0]);
			close(c->up.pipe[1]);
			free(c);
			close(cfd);
			close(sfd);
			continue;
		}
		c->client = (struct end){ K_END, c, cfd };
		c->ctr = (struct end){ K_END, c, sfd };
		/* Writes wait for the connection (EAGAIN until it is up); a
		 * refusal shows as the first splice's error. */
		if (connect(sfd, (struct sockaddr *)&to, sizeof(to)) < 0 && errno != EINPROGRESS) {
			struct conn *dead = NULL;
			conn_close(c, &dead);
			free(c);
			continue;
		}
		struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET };
		ev.data.ptr = &c->client;
		epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &ev);
		ev.data.ptr = &c->ctr;
		epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	}
}

/* The forwarder's life. */
_Noreturn static void forward(struct listener *ls, size_t n, int exit_r)
{
	static enum kind exit_kind = K_EXIT;
	struct epoll_event evs[64];
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		_exit(1);
	for (size_t i = 0; i < n; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &ls[i] };
		epoll_ctl(ep, EPOLL_CTL_ADD, ls[i].fd, &ev);
	}
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &exit_kind };
	epoll_ctl(ep, EPOLL_CTL_ADD, exit_r, &ev);
	for (;;) {
		struct conn *dead = NULL;
		int k = epoll_wait(ep, evs, 64, -1);
		if (k < 0 && errno != EINTR)
			_exit(1);
		for (int i = 0; i < k; i++) {
			enum kind *what = evs[i].data.ptr;
			if (*what == K_EXIT) {
				/* The ports free before the monitor, waiting
				 * in net_user_end, sees our end close. */
				for (size_t j = 0; j < n; j++)
					close(ls[j].fd);
				_exit(0);
			}
			else if (*what == K_LISTENER)
				conn_accept(ep, (struct listener *)what);
			else
				conn_run(((struct end *)what)->c, &dead);
		}
		/* Freed after the batch: a later event may name the same one. */
		while (dead) {
			struct conn *next = dead->next_dead;
			free(dead);
			dead = next;
		}
	}
}

/* Joins the namespace of ctr's kind (user, net) unless it is already ours
 * (kiln as root with --network pasta has no user namespace of its own). */
static int join(pid_t ctr, const char *kind, int type)
{
	char path[64];
	struct stat a, b;
	snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)ctr, kind);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/self/ns/%s", kind);
	int r = 0;
	if (fstat(fd, &a) < 0 || stat(path, &b) < 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev)
		r = setns(fd, type);
	close(fd);
	return r;
}

/* Moves the descriptors fds[0..m) to 3, 4, … and closes every other from 3
 * on: first each above all of them, in order, so that none is overwritten
 * before it is moved. */
static void only_fds(int *fds, size_t m)
{
	int hi = 2;
	for (size_t i = 0; i < m; i++)
		hi = fds[i] > hi ? fds[i] : hi;
	for (size_t i = 0; i < m; i++) {
		fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, hi + 1);
		if (fds[i] < 0)
			_exit(1);
		hi = fds[i];
	}
	for (size_t i = 0; i < m; i++)
		if (dup3(fds[i], 3 + (int)i, O_CLOEXEC) < 0)
			_exit(1);
	close_range(3 + (unsigned)m, ~0U, 0);
}

/* The forked child. */
_Noreturn static void forwarder(pid_t ctr, pid_t parent, int sock, struct listener *ls, size_t n,
		      int hold)
{
	setsid();
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != parent)
		_exit(1);
	prctl(PR_SET_NAME, "kiln-portfwd", 0, 0, 0);
	sigset_t none;
	sigemptyset(&none);
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	sigprocmask(SIG_SETMASK, &none, NULL);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
		_exit(1);
	/* The user namespace gives the rights to enter the network one. */
	if (join(ctr, "user", CLONE_NEWUSER) < 0 || join(ctr, "net", CLONE_NEWNET) < 0)
		_exit(1);
	/* Only ours, at 3 (sock), 4… (the listeners), then hold: a copy of
	 * the monitor's (the container's output pipes) would keep them open. */
	int *fds = xcalloc(n + 2, sizeof(*fds));
	size_t m = 0;
	fds[m++] = sock;
	for (size_t i = 0; i < n; i++)
		fds[m++] = ls[i].fd;
	if (hold >= 0)
		fds[m++] = hold;
	only_fds(fds, m);
	for (size_t i = 0; i < n; i++)
		ls[i].fd = 4 + (int)i;
	forward(ls, n, 3);
}

int portfwd_start(char *const *ports, pid_t ctr, int hold, int *exit_w, struct kerror *e)
{
	struct listener *ls = NULL;
	size_t n = 0;
	int p[2] = { -1, -1 }, r = 0;

	*exit_w = -1;
	for (size_t i = 0; ports && ports[i] && r == 0; i++) {
		struct run_port pt;
		if (run_port_split(ports[i], &pt) < 0 || pt.udp)
			continue;
		int fd = listen_on(&pt, e);
		if (fd < 0) {
			r = fd;
			break;
		}
		ls = xrealloc(ls, (n + 1) * sizeof(*ls));
		ls[n++] = (struct listener){ K_LISTENER, fd, pt.ctr_port };
	}
	if (r == 0 && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) < 0)
		r = kerror_sys(e, errno, "creating a socket pair");
	pid_t parent = getpid(), pid = r == 0 ? fork() : -1;
	if (r == 0 && pid < 0)
		r = kerror_sys(e, errno, "starting the port forwarder");
	if (pid == 0)
		forwarder(ctr, parent, p[0], ls, n, hold);
	/* Our end will read the forwarder's pid first (portfwd_stop). */
	if (r == 0 && write(p[0], &pid, sizeof(pid)) != sizeof(pid))
		r = kerror_sys(e, errno, "starting the port forwarder");
	if (p[0] >= 0)
		close(p[0]);
	for (size_t i = 0; i < n; i++)
		close(ls[i].fd);
	free(ls);
	if (r < 0) {
		if (p[1] >= 0)
			portfwd_stop(p[1]);
		return r;
	}
	*exit_w = p[1];
	return 0;
}

void portfwd_stop(int keep)
{
	pid_t pid = 0;
	ssize_t n;
	char b;
	/* slirp4netns' pipe is only closed. */
	if (shutdown(keep, SHUT_WR) == 0) {
		while ((n = read(keep, &pid, sizeof(pid))) < 0 && errno == EINTR)
			;
		while ((n = read(keep, &b, 1)) < 0 && errno == EINTR)
			;
		if (pid > 0)
			waitpid(pid, NULL, 0);
	}
	close(keep);
}
