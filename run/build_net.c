/* The network namespace of a build's RUN steps (see run.h): made once, on
 * the first RUN step that needs it, and joined by every later one.
 *
 * The namespace is made by a short-lived thread: unshare(CLONE_NEWNET)
 * moves only the calling thread, which opens its namespace (the descriptor
 * keeps it alive) and brings lo up there, then ends; the build's own
 * threads never leave the host's namespace, which a rootless kiln could not
 * setns back into (it belongs to the initial user namespace). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run/net_private.h"
#include "run/run_private.h"

int run_build_net_parse(const char *s, enum run_build_net_mode *out, struct kerror *e)
{
	if (!s || !*s || !strcmp(s, "default"))
		*out = RUN_BUILD_NET_DEFAULT;
	else if (!strcmp(s, "private") || !strcmp(s, "bridge"))
		*out = RUN_BUILD_NET_PRIVATE;
	else if (!strcmp(s, "none"))
		*out = RUN_BUILD_NET_NONE;
	else if (!strcmp(s, "host"))
		*out = RUN_BUILD_NET_HOST;
	else
		return kerror_set(e, EINVAL, "--network %s: RUN steps take private (bridge, "
					     "default), none or host",
				  s);
	return 0;
}

enum run_build_net_mode run_build_net_resolve(enum run_build_net_mode m)
{
	if (m != RUN_BUILD_NET_DEFAULT)
		return m;
	/* Rootless, outbound access needs a user-mode network stack;
	 * without one, the user's own network, as before. */
	if (run_rootless() && strcmp(run_network_default(), "pasta") != 0) {
		log_warn("pasta is not installed: RUN steps use the host's network "
			 "(--network none or host to choose)");
		return RUN_BUILD_NET_HOST;
	}
	return RUN_BUILD_NET_PRIVATE;
}

struct ns_make {
	int fd, err;
};

static void *ns_thread(void *arg)
{
	struct ns_make *m = arg;
	if (unshare(CLONE_NEWNET) < 0) {
		m->err = errno;
		return NULL;
	}
	m->fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (m->fd < 0) {
		m->err = errno;
		return NULL;
	}
	run_loopback_up();
	return NULL;
}

static int netns_new(int *fd, struct kerror *e)
{
	struct ns_make m = { .fd = -1 };
	pthread_t t;
	int r = pthread_create(&t, NULL, ns_thread, &m);
	if (r != 0)
		return kerror_sys(e, r, "starting a thread");
	pthread_join(t, NULL);
	if (m.fd < 0)
		return kerror_sys(e, m.err, "creating the build's network namespace");
	*fd = m.fd;
	return 0;
}

int run_build_net_write_etc(const struct run_build_net *n, struct kerror *e)
{
	int r = run_write_small(n->hosts_path, n->hosts, e);
	return r < 0 ? r : run_write_small(n->resolv_path, n->resolv, e);
}

static void etc_texts(struct run_build_net *n, const struct net_build_link *l)
{
	_cleanup_free_ char *host_resolv = NULL, *gwline = NULL;
	char hostname[256] = "", ip[16], gw[16];
	char *extra[2] = { NULL, NULL };
	struct run_etc_opts o = { .hostname = hostname, .extra = extra };
	size_t len;

	/* The step keeps the host's name (its UTS namespace is a copy). */
	if (gethostname(hostname, sizeof(hostname) - 1) < 0)
		snprintf(hostname, sizeof(hostname), "localhost");
	if (l) {
		o.ip = net_ip_str(l->ip, ip);
		gwline = xasprintf("%s\thost.containers.internal host.docker.internal",
				   net_ip_str(l->gw, gw));
		extra[0] = gwline;
	}
	if (fs_read_file("/etc/resolv.conf", 64 * 1024, &host_resolv, &len, NULL) < 0)
		host_resolv = NULL;
	n->resolv = run_etc_resolv(host_resolv, &o);
	n->hosts = run_etc_hosts(NULL, &o);
}

int run_build_net_open(struct store *s, enum run_build_net_mode mode, const char *dir,
		       struct run_build_net **out, struct kerror *e)
{
	struct run_build_net *n = xcalloc(1, sizeof(*n));
	int r;

	n->fd = -1;
	n->owner = getpid();
	/* One directory per namespace: --jobs children share the tmp dir. */
	n->dir = xasprintf("%s/net-%d-%d", dir, (int)n->owner, (int)mode);
	n->hosts_path = xasprintf("%s/hosts", n->dir);
	n->resolv_path = xasprintf("%s/resolv.conf", n->dir);
	r = mkdir(n->dir, 0700) < 0 ? kerror_sys(e, errno, "creating \"%s\"", n->dir) : 0;
	if (r == 0)
		r = netns_new(&n->fd, e);
	if (r == 0 && mode == RUN_BUILD_NET_PRIVATE) {
		if (run_rootless()) {
			r = net_user_pasta_ns(n->fd, n->dir, e);
		} else {
			n->link = xcalloc(1, sizeof(*n->link));
			r = net_build_attach(s, n->fd, n->link, e);
			n->linked = r == 0;
		}
	}
	if (r == 0) {
		etc_texts(n, n->linked ? n->link : NULL);
		r = run_build_net_write_etc(n, e);
	}
	if (r < 0) {
		run_build_net_free(n);
		return r;
	}
	*out = n;
	return 0;
}

void run_build_net_free(struct run_build_net *n)
{
	if (!n)
		return;
	if (n->owner == getpid()) {
		if (n->linked)
			net_build_detach(n->link);
		net_user_pasta_stop(n->dir);
	}
	if (n->fd >= 0)
		close(n->fd);
	free(n->link);
	free(n->dir);
	free(n->hosts_path);
	free(n->resolv_path);
	free(n->hosts);
	free(n->resolv);
	free(n);
}
