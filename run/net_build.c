/* The bridge side of a build's private network (build_net.c): the build's
 * one network namespace joins the default network "kiln" with a veth pair,
 * an address, and a default route through the gateway, whose NAT (the
 * table's masquerade rule for the network's subnet) gives it the host's
 * outbound access.
 *
 * The address is claimed host-wide (net_claim.c) but not recorded in the
 * store: a build is not a container, nothing shows it, and a killed build
 * leaves nothing to clean up (its claim is stale once its process is gone;
 * its pair goes with its namespace).  It is taken from the top of the
 * subnet down, away from the containers, which take the lowest free one;
 * the claims settle any meeting. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "run/net_private.h"

/* An address of [first, last] (from the top) no attachment of this store
 * holds and no live process claims. */
static int claim_top(struct store *s, const struct network_info *n, uint32_t first,
		     uint32_t last, uint32_t gw, const char *owner, uint32_t *out,
		     struct kerror *e)
{
	struct net_attach *held = NULL;
	size_t nheld = 0;
	int r = store_net_attach_list(s, NULL, n->name, &held, &nheld, e);
	if (r < 0)
		return r;
	r = -ENOSPC;
	for (uint32_t ip = last; ip >= first && ip > 0; ip--) {
		bool taken = ip == gw;
		for (size_t i = 0; i < nheld && !taken; i++)
			taken = held[i].ip == ip;
		if (!taken && net_claim(n->bridge, ip, owner, getpid()) == 0) {
			*out = ip;
			r = 0;
			break;
		}
	}
	if (r < 0)
		kerror_set(e, ENOSPC, "IPAM error: failed to find free IP in network %s", n->name);
	net_attach_list_free(held, nheld);
	return r;
}

/* eth0 inside: its address, up, the default route. */
static int configure_inside(int nsfd, uint32_t ip, int prefix, uint32_t gw, struct kerror *e)
{
	struct nl ctr = { 0 };
	int idx, r = nl_open(&ctr, nsfd, e);
	if (r < 0)
		return r;
	idx = nl_link_index(&ctr, "eth0");
	r = idx < 0 ? kerror_sys(e, -idx, "finding eth0 in the build's namespace") : 0;
	if (r == 0)
		r = nl_addr_add(&ctr, idx, ip, prefix, e);
	if (r == 0)
		r = nl_link_up(&ctr, idx, e);
	if (r == 0)
		r = nl_route_default(&ctr, idx, gw, e);
	nl_close(&ctr);
	return r;
}

int net_build_attach(struct store *s, int nsfd, struct net_build_link *l, struct kerror *e)
{
	_cleanup_network_info_ struct network_info *n = NULL;
	struct nl host = { 0 };
	uint32_t sub, gw, ip = 0;
	bool checked = false;
	int prefix, br, r;
	char veth[16];

	memset(l, 0, sizeof(*l));
	r = run_net_default_network(s, &n, e);
	if (r < 0)
		return r;
	if (!net_parse_cidr(n->subnet, &sub, &prefix) || !net_parse_ip(n->gateway, &gw) ||
	    prefix < 1 || prefix > 30)
		return kerror_set(e, EINVAL, "network %s: invalid subnet", n->name);
	snprintf(l->owner, sizeof(l->owner), "build-%d", (int)getpid());
	r = nl_open(&host, -1, e);
	if (r == 0)
		r = net_ready(s, &host, n, &br, &checked, e);
	if (r == 0)
		r = claim_top(s, n, sub + 1, (sub | (0xffffffffu >> prefix)) - 1, gw, l->owner, &ip,
			      e);
	if (r < 0) {
		nl_close(&host);
		return kerror_wrap(e, "setting up network %s", n->name);
	}
	snprintf(l->bridge, sizeof(l->bridge), "%s", n->bridge);
	l->ip = ip;
	l->gw = gw;
	/* Named after our pid: unique among live builds; a pair of a dead
	 * one with the same pid may wait for its namespace's clean-up. */
	snprintf(veth, sizeof(veth), "kb%x", (unsigned)getpid());
	r = nl_veth_add(&host, veth, br, "eth0", ip, nsfd, e);
	if (r == -EEXIST && nl_link_del(&host, veth) == 0) {
		kerror_release(e);
		r = nl_veth_add(&host, veth, br, "eth0", ip, nsfd, e);
	}
	nl_close(&host);
	if (r == 0)
		r = configure_inside(nsfd, ip, prefix, gw, e);
	if (r < 0) {
		net_build_detach(l);
		return kerror_wrap(e, "setting up network %s", n->name);
	}
	return 0;
}

void net_build_detach(const struct net_build_link *l)
{
	if (l->ip)
		net_unclaim(l->bridge, l->ip, l->owner);
}
