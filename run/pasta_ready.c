/* When a container's pasta is ready, without waiting for all of its
 * start-up.
 *
 * pasta configures the namespace (link, addresses, default routes) about a
 * third of the way into its start-up; the rest (socket pools, port
 * listeners, its sandbox) ends with its pid file.  Without published ports
 * the container needs only the configuration: it may run once the
 * namespace has a default route for each family the host has one for (pasta
 * copies the host's), which a route netlink socket in the namespace wakes
 * us for.  Packets sent before pasta reads its tap wait in the device's
 * queue.  With ports (bound late), or when no family is expected, readiness
 * is the pid file, which pasta (in the foreground) writes once it is
 * completely up; so also if the routes never come.  The pid file is looked
 * at every few milliseconds (an inotify watch would cost more: closing one
 * waits for the kernel's SRCU grace period, 1-20 ms here).  pasta's exit
 * before that is its failure. */
#include <errno.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "run/run_private.h"

/* RTF_REJECT: the unreachable ::/0 every namespace has on lo.  (RTF_UP
 * and RTF_GATEWAY are not asked for: a default route may be a device's.) */
#define ROUTE_REJECT 0x0200

static bool v4_default(const char *line)
{
	char dev[64];
	unsigned long dst, mask;
	unsigned flags;
	return sscanf(line, "%63s %lx %*x %x %*d %*d %*d %lx", dev, &dst, &flags, &mask) == 4 &&
	       dst == 0 && mask == 0 && !(flags & ROUTE_REJECT);
}

static bool v6_default(const char *line)
{
	char dst[33];
	unsigned dlen, flags;
	return sscanf(line, "%32s %x %*s %*x %*s %*x %*x %*x %x", dst, &dlen, &flags) == 3 &&
	       dlen == 0 && strspn(dst, "0") == 32 && !(flags & ROUTE_REJECT);
}

static unsigned scan(const char *text, bool (*is_default)(const char *), unsigned bit)
{
	for (const char *l = text; l && *l;) {
		if (is_default(l))
			return bit;
		l = strchr(l, '\n');
		l = l ? l + 1 : NULL;
	}
	return 0;
}

unsigned run_default_route_families(const char *route, const char *ipv6_route)
{
	return scan(route, v4_default, RUN_ROUTE_V4) | scan(ipv6_route, v6_default, RUN_ROUTE_V6);
}

/* The families with a default route in the namespace of /proc/<pid>
 * (0: ours, through /proc/self). */
static unsigned default_routes(pid_t pid)
{
	_cleanup_free_ char *r4 = NULL, *r6 = NULL;
	_cleanup_free_ char *p4 = pid ? xasprintf("/proc/%d/net/route", (int)pid)
				      : xstrdup("/proc/self/net/route");
	_cleanup_free_ char *p6 = pid ? xasprintf("/proc/%d/net/ipv6_route", (int)pid)
				      : xstrdup("/proc/self/net/ipv6_route");
	size_t len;
	/* A file that cannot be read (no IPv6 in the kernel) has no route. */
	if (fs_read_file(p4, 1 << 20, &r4, &len, NULL) < 0)
		r4 = NULL;
	if (fs_read_file(p6, 1 << 20, &r6, &len, NULL) < 0)
		r6 = NULL;
	return run_default_route_families(r4, r6);
}

struct nl_make {
	int nsfd, fd, err;
};

/* A socket stays in the namespace it was made in: a short-lived thread
 * enters the container's (a rootless kiln could not come back to the
 * host's, which belongs to the initial user namespace). */
static void *nl_thread(void *arg)
{
	struct nl_make *m = arg;
	if (setns(m->nsfd, CLONE_NEWNET) < 0) {
		m->err = errno;
		return NULL;
	}
	m->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
	if (m->fd < 0)
		m->err = errno;
	return NULL;
}

static int route_watch(int nsfd, int *fd, struct kerror *e)
{
	struct nl_make m = { .nsfd = nsfd, .fd = -1 };
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
				  .nl_groups = RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE };
	pthread_t t;
	int r = pthread_create(&t, NULL, nl_thread, &m);
	if (r != 0)
		return kerror_sys(e, r, "starting a thread");
	pthread_join(t, NULL);
	if (m.fd < 0)
		return kerror_sys(e, m.err, "opening a netlink socket in the container's network");
	if (bind(m.fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = kerror_sys(e, errno, "binding a netlink socket");
		close(m.fd);
		return r;
	}
	*fd = m.fd;
	return 0;
}

void pasta_ready_init(struct pasta_ready *w)
{
	memset(w, 0, sizeof(*w));
	w->nl = -1;
}

int pasta_ready_open(struct pasta_ready *w, pid_t ctr, int nsfd, bool ports, const char *dir,
		     struct kerror *e)
{
	pasta_ready_init(w);
	w->ctr = ctr;
	w->want = ports ? 0 : default_routes(0);
	w->pidfile = xasprintf("%s/" PASTA_PID_FILE, dir);
	unlink(w->pidfile);
	if (w->want) {
		int r = route_watch(nsfd, &w->nl, e);
		if (r < 0) {
			pasta_ready_release(w);
			return r;
		}
	}
	return 0;
}

/* pasta writes "PID\n" into the file it opened at its start. */
static bool pidfile_written(const char *path)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	if (fs_read_file(path, 64, &text, &len, NULL) < 0)
		return false;
	return len > 1 && text[len - 1] == '\n';
}

static void drain(int fd)
{
	char buf[8192];
	ssize_t n;
	if (fd < 0)
		return;
	/* ENOBUFS (events lost) is fine: the state is read from /proc. */
	do
		n = read(fd, buf, sizeof(buf));
	while (n > 0 || (n < 0 && (errno == ENOBUFS || errno == EINTR)));
}

int pasta_ready_wait(struct pasta_ready *w, pid_t tool, struct kerror *e)
{
	_cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, tool, 0);
	struct pollfd fds[2] = { { pidfd, POLLIN, 0 }, { w->nl, POLLIN, 0 } };
	/* The pid file's pace: a fallback when routes are awaited. */
	int tick = w->want ? 10 : 1;
	if (pidfd < 0)
		return kerror_sys(e, errno, "watching pasta (pid %d)", (int)tool);
	for (;;) {
		if (w->want && (default_routes(w->ctr) & w->want) == w->want)
			return 0;
		if (pidfile_written(w->pidfile))
			return 0;
		if (poll(fds, 2, tick) < 0 && errno != EINTR)
			return kerror_sys(e, errno, "waiting for pasta");
		if (fds[0].revents)
			return 1;

		drain(w->nl);
	}
}

void pasta_ready_release(struct pasta_ready *w)
{
	if (w->nl >= 0)
		close(w->nl);

	free(w->pidfile);
	pasta_ready_init(w);
}
