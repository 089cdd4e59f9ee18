/* Private to run/'s networking (net*.c): netlink over libmnl and the
 * nftables table kiln owns. */
#ifndef KILN_RUN_NET_PRIVATE_H
#define KILN_RUN_NET_PRIVATE_H

#include <stdint.h>

#include "run/run.h"

/* ---- rtnetlink (netlink.c) ------------------------------------------------ */

struct mnl_socket;
struct nl {
	struct mnl_socket *sock;
	unsigned seq, portid;
};
/* A route netlink socket in the network namespace of netns_fd (-1: ours).
 * A socket stays in the namespace it was created in, so the calling thread
 * enters netns_fd only for the socket() call. */
int nl_open(struct nl *nl, int netns_fd, struct kerror *e);
void nl_close(struct nl *nl);
/* The interface's index, or -ENODEV. */
int nl_link_index(struct nl *nl, const char *name);
/* Creates a bridge; an existing one is fine. */
int nl_bridge_add(struct nl *nl, const char *name, struct kerror *e);
int nl_link_up(struct nl *nl, int index, struct kerror *e);
/* Adds ip/prefix (host byte order); an existing address is fine. */
int nl_addr_add(struct nl *nl, int index, uint32_t ip, int prefix, struct kerror *e);
/* A veth pair: host end `host` enslaved to `master` (and up), peer `peer`
 * created straight in the namespace of peer_netns_fd, its MAC derived from
 * ip.  Returns the kernel's -errno (-EEXIST when host exists). */
int nl_veth_add(struct nl *nl, const char *host, int master, const char *peer, uint32_t ip,
		int peer_netns_fd, struct kerror *e);
/* Hairpin mode on the bridge port: a frame may go back out of the port it
 * came in by, as a container's packet to its own published port does once
 * DNATed on the bridge (br_netfilter). */
int nl_port_hairpin(struct nl *nl, const char *port, struct kerror *e);
/* default via gw dev index. */
int nl_route_default(struct nl *nl, int index, uint32_t gw, struct kerror *e);
/* Deletes a link by name; a missing one is fine. */
int nl_link_del(struct nl *nl, const char *name);

/* Creates the network's bridge when missing (address, up, route_localnet,
 * ip_forward); on an existing one, adds the gateway address. */
int run_net_bridge_ensure(struct nl *nl, const struct network_info *n, struct kerror *e);
/* A network row was just created: its bridge, and its subnet and bridge
 * in the nft table's sets (the whole table when missing).  _locked: the
 * caller holds the net lock and passes its netlink socket. */
int run_net_announce(struct store *s, const struct network_info *n, struct kerror *e);
int run_net_announce_locked(struct store *s, struct nl *nl, const struct network_info *n,
			    struct kerror *e);

/* The network's bridge and kiln's nft table, created when missing (under
 * the host-wide lock); *bridge_idx gets the bridge's index.  *table_checked
 * (false on the first call) saves the table check on later calls. */
int net_ready(struct store *s, struct nl *nl, const struct network_info *n, int *bridge_idx,
	      bool *table_checked, struct kerror *e);

/* Host-wide claim of ip on bridge for container id whose init is pid
 * (net_claim.c): 0, or -EADDRINUSE when a live container of another store
 * holds it. */
int net_claim(const char *bridge, uint32_t ip, const char *id, pid_t pid);
void net_unclaim(const char *bridge, uint32_t ip, const char *id);

/* A build's namespace on the default network (net_build.c): a veth pair
 * (eth0 inside) on its bridge, an address claimed host-wide for owner
 * (whose process is this one) but not recorded in the store, the default
 * route via the gateway.  net_build_detach drops the claim; the pair goes
 * with the namespace. */
struct net_build_link {
	char bridge[16];
	uint32_t ip, gw; /* host byte order */
	char owner[32];
};
int net_build_attach(struct store *s, int nsfd, struct net_build_link *out, struct kerror *e);
void net_build_detach(const struct net_build_link *l);

/* ---- nftables (nft.c, nft_shim.c) --------------------------------------- */

/* True when the table "ip kiln" exists (one nfnetlink request, no
 * libnftables). */
bool nft_table_exists(void);
/* True when the table is this version's: it has the chain added last. */
bool nft_table_current(void);
/* Runs an nft script in one transaction (libnftables, loaded on first
 * use).  *out (may be NULL) gets what it printed. */
int nft_run(const char *script, char **out, struct kerror *e);

/* Fills the plan's networks, aliases, ports (random host ports picked) and
 * expose from the flags and the image config (ExposedPorts for -P). */
int run_net_plan(struct store *s, const json_t *cfg, const struct run_flags *f,
		 struct run_plan *p, struct kerror *e);

#endif
