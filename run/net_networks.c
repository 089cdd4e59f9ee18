/* Networks as objects: the default one ("kiln" on the bridge kiln0), the
 * user-defined ones (kiln network create), their bridges and their place in
 * kiln's nftables table. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "run/net_private.h"

#define DEFAULT_SUBNET "10.91.0.0/24"
/* User-defined networks get the next free /24 of 10.91.1.0 … 10.91.255.0:
 * Podman's CNI and netavark defaults are 10.88.0.0/16 and 10.89.x.0/24, so
 * kiln and Podman can share a host. */
#define POOL_BASE 0x0a5b0100u /* 10.91.1.0 */
#define POOL_COUNT 255

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void random_hex(char out[DIGEST_HEX_LEN + 1])
{
	unsigned char b[32] = { 0 };
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		memcpy(b, &ts, sizeof(ts));
	}
	for (size_t i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* [network] default_subnet of kiln's containers.conf (run_containers_conf_load),
 * read only when the default network is first created. */
static char *default_subnet(void)
{
	_cleanup_json_ json_t *j = NULL;
	const char *v;
	uint32_t a;
	int p;
	if (run_containers_conf_load(&j, NULL) < 0 || !j)
		return xstrdup(DEFAULT_SUBNET);
	v = json_str(json_object_get(j, "network"), "default_subnet");
	if (!v || !net_parse_cidr(v, &a, &p) || p > 30 || p < 8) {
		if (v)
			log_warn("containers.conf: ignoring default_subnet \"%s\" (an IPv4 /8 to "
				 "/30 is needed)", v);
		return xstrdup(DEFAULT_SUBNET);
	}
	return xstrdup(v);
}

int run_net_lock(int *fd, struct kerror *e)
{
	int f = open(RUN_NET_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (f < 0)
		return kerror_sys(e, errno, "opening \"%s\"", RUN_NET_LOCK);
	while (flock(f, LOCK_EX) < 0)
		if (errno != EINTR) {
			int err = errno;
			close(f);
			return kerror_sys(e, err, "locking \"%s\"", RUN_NET_LOCK);
		}
	*fd = f;
	return 0;
}

/* Fills gateway = first address of the subnet + 1 when absent. */
static int fill_net(struct network_info *n, struct kerror *e)
{
	uint32_t a, gw, mask;
	int p;
	char buf[16];
	if (!net_parse_cidr(n->subnet, &a, &p) || p > 30)
		return kerror_set(e, EINVAL, "invalid subnet \"%s\"", n->subnet);
	mask = p ? 0xffffffffu << (32 - p) : 0;
	if (a & ~mask)
		return kerror_set(e, EINVAL, "invalid subnet \"%s\": host bits are set",
				  n->subnet);
	if (n->gateway) {
		if (!net_parse_ip(n->gateway, &gw) || (gw & mask) != a || gw == a ||
		    gw == (a | ~mask))
			return kerror_set(e, EINVAL, "gateway %s is not in subnet %s", n->gateway,
					  n->subnet);
	} else {
		n->gateway = xstrdup(net_ip_str(a + 1, buf));
	}
	return 0;
}

int run_net_default_network(struct store *s, struct network_info **out, struct kerror *e)
{
	struct network_info n = { 0 };
	char id[DIGEST_HEX_LEN + 1];
	int r = store_network_get(s, RUN_NET_DEFAULT, out, NULL);
	if (r == 0)
		return 0;
	random_hex(id);
	n.name = RUN_NET_DEFAULT;
	n.id = id;
	n.driver = "bridge";
	n.bridge = RUN_NET_DEFAULT_BRIDGE;
	n.subnet = default_subnet();
	n.dns = false; /* as Podman's and Docker's default networks */
	n.created = now_ns();
	r = fill_net(&n, e);
	if (r == 0)
		r = store_network_create(s, &n, e);
	/* Root: the bridge and the table know the network from now on (a
	 * rootless store only lists it). */
	if (r == 0 && !run_rootless())
		r = run_net_announce(s, &n, e);
	free(n.subnet);
	free(n.gateway);
	if (r < 0 && r != -EEXIST)
		return r;
	return store_network_get(s, RUN_NET_DEFAULT, out, e);
}

static bool overlaps(uint32_t a, int ap, uint32_t b, int bp)
{
	int p = ap < bp ? ap : bp;
	uint32_t mask = p ? 0xffffffffu << (32 - p) : 0;
	return (a & mask) == (b & mask);
}

/* Whether the subnet collides with a network of the store or a route of
 * the host (other stores' bridges, Podman's, the uplink). */
static bool subnet_taken(struct network_info **l, size_t n, uint32_t a, int p)
{
	_cleanup_free_ char *routes = NULL;
	size_t len;
	for (size_t i = 0; i < n; i++) {
		uint32_t b;
		int bp;
		if (net_parse_cidr(l[i]->subnet, &b, &bp) && overlaps(a, p, b, bp))
			return true;
	}
	/* /proc/net/route: Iface Destination Gateway Flags … Mask, hex in
	 * network byte order as the machine stores it (little-endian here). */
	if (fs_read_file("/proc/net/route", 1024 * 1024, &routes, &len, NULL) < 0)
		return false;
	for (char *line = strchr(routes, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
		char ifn[32];
		unsigned dst, gw, flags, mask;
		if (sscanf(line + 1, "%31s %x %x %x %*s %*s %*s %x", ifn, &dst, &gw, &flags,
			   &mask) != 5)
			continue;
		dst = __builtin_bswap32(dst);
		mask = __builtin_bswap32(mask);
		if (mask == 0)
			continue; /* the default route */
		if (overlaps(a, p, dst, __builtin_popcount(mask)))
			return true;
	}
	return false;
}

static bool bridge_name_used(struct nl *nl, struct network_info **l, size_t n, const char *b)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(l[i]->bridge, b))
			return true;
	return nl_link_index(nl, b) > 0;
}

int run_network_create(struct store *s, struct network_info *req, struct kerror *e)
{
	struct network_info **l = NULL;
	size_t n = 0;
	char id[DIGEST_HEX_LEN + 1], buf[32];
	_cleanup_close_ int lock = -1;
	struct nl nl = { 0 };
	int r;

	if (!req->name || !*req->name || strlen(req->name) > 128 || strchr(req->name, '/') ||
	    strchr(req->name, ' '))
		return kerror_set(e, EINVAL, "invalid network name \"%s\"",
				  req->name ? req->name : "");
	if (req->driver && strcmp(req->driver, "bridge"))
		return kerror_set(e, EINVAL, "unsupported driver %s: only \"bridge\" is",
				  req->driver);
	{
		/* Its subnet must not be given to another network. */
		_cleanup_network_info_ struct network_info *d = NULL;
		r = run_net_default_network(s, &d, e);
		if (r < 0)
			return r;
	}
	/* One creator at a time host-wide: bridge names and subnets are the
	 * host's, whichever store records them. */
	r = run_net_lock(&lock, e);
	if (r == 0)
		r = nl_open(&nl, -1, e);
	if (r == 0)
		r = store_network_list(s, &l, &n, e);
	if (r < 0)
		goto out;
	if (req->subnet) {
		uint32_t a;
		int p;
		r = fill_net(req, e);
		if (r < 0)
			goto out;
		net_parse_cidr(req->subnet, &a, &p);
		for (size_t i = 0; i < n; i++) {
			uint32_t b;
			int bp;
			if (net_parse_cidr(l[i]->subnet, &b, &bp) && overlaps(a, p, b, bp)) {
				r = kerror_set(e, EEXIST, "subnet %s is already used by network "
							  "%s", req->subnet, l[i]->name);
				goto out;
			}
		}
	} else {
		uint32_t a = 0;
		for (unsigned i = 0; i < POOL_COUNT; i++)
			if (!subnet_taken(l, n, POOL_BASE + (i << 8), 24)) {
				a = POOL_BASE + (i << 8);
				break;
			}
		if (!a) {
			r = kerror_set(e, ENOSPC, "could not find a free subnet for network %s",
				       req->name);
			goto out;
		}
		req->subnet = xasprintf("%s/24", net_ip_str(a, buf));
		free(req->gateway);
		req->gateway = NULL;
		r = fill_net(req, e);
		if (r < 0)
			goto out;
	}
	for (unsigned i = 1; i < 10000; i++) {
		snprintf(buf, sizeof(buf), "kiln%u", i);
		if (!bridge_name_used(&nl, l, n, buf))
			break;
	}
	free(req->bridge);
	req->bridge = xstrdup(buf);
	if (!req->driver)
		req->driver = xstrdup("bridge");
	random_hex(id);
	free(req->id);
	req->id = xstrdup(id);
	req->created = now_ns();
	if (!req->labels)
		req->labels = json_object();
	r = store_network_create(s, req, e);
	if (r == 0)
		/* Created now, as Docker does, so that another store cannot
		 * pick the same name. */
		r = run_net_announce_locked(s, &nl, req, e);
out:
	nl_close(&nl);
	network_list_free(l, n);
	return r;
}

int run_network_remove(struct store *s, const struct network_info *n, bool force,
		       struct kerror *e)
{
	struct net_attach *a = NULL;
	size_t na = 0;
	_cleanup_free_ char *script = NULL;
	struct nl nl = { 0 };
	int r;

	if (!strcmp(n->name, RUN_NET_DEFAULT))
		return kerror_set(e, EPERM, "%s network cannot be removed", n->name);
	r = store_net_attach_list(s, NULL, n->name, &a, &na, e);
	if (r < 0)
		return r;
	if (na && !force) {
		r = kerror_set(e, EBUSY, "%s network is being used by container %.12s", n->name,
			       a[0].ctr_id);
		net_attach_list_free(a, na);
		return r;
	}
	for (size_t i = 0; i < na; i++)
		run_net_teardown(s, a[i].ctr_id);
	net_attach_list_free(a, na);
	r = store_network_remove(s, n->name, e);
	if (r < 0)
		return r;
	if (nl_open(&nl, -1, NULL) == 0) {
		nl_link_del(&nl, n->bridge);
		nl_close(&nl);
	}
	if (nft_table_exists()) {
		script = xasprintf("delete element ip kiln bridges { \"%s\" }\n", n->bridge);
		nft_run(script, NULL, NULL);
		free(script);
		if (n->internal)
			script = xasprintf("delete element ip kiln internal { \"%s\" }\n",
					   n->bridge);
		else
			script = xasprintf("delete element ip kiln nets { %s }\n", n->subnet);
		nft_run(script, NULL, NULL);
	}
	return 0;
}
