/* Bridge networking of a container: its veth pairs, addresses, default
 * route, published ports, and its /etc/hosts with the names of its peers;
 * set up by the monitor between the clone and the exec, torn down at the
 * exit (or by the next command when the monitor died).
 *
 * Name resolution on user-defined networks is by /etc/hosts: each
 * container's file lists the peers on its networks, and when a container
 * joins or leaves, the running peers' files are rewritten.  No DNS server
 * process to run, keep alive and clean up; the cost is that a name becomes
 * visible by a file write, which every libc (and busybox) reads on each
 * lookup. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run/net_private.h"

#define PEERS_MARK "# kiln network peers\n"
#define HOSTS_MAX (1024 * 1024)

static const char nft_table[] =
	"create table ip kiln\n"
	"table ip kiln {\n"
	"	set nets { type ipv4_addr; flags interval; }\n"
	"	set bridges { type ifname; }\n"
	"	set internal { type ifname; }\n"
	"	map tcp_any { type inet_service : ipv4_addr . inet_service; }\n"
	"	map udp_any { type inet_service : ipv4_addr . inet_service; }\n"
	"	map tcp_ip { type ipv4_addr . inet_service : ipv4_addr . inet_service; }\n"
	"	map udp_ip { type ipv4_addr . inet_service : ipv4_addr . inet_service; }\n"
	"	chain ports {\n"
	"		dnat ip to ip daddr . tcp dport map @tcp_ip\n"
	"		dnat ip to ip daddr . udp dport map @udp_ip\n"
	"		dnat ip to tcp dport map @tcp_any\n"
	"		dnat ip to udp dport map @udp_any\n"
	"	}\n"
	"	chain prerouting {\n"
	"		type nat hook prerouting priority dstnat; policy accept;\n"
	"		fib daddr type local jump ports\n"
	"	}\n"
	"	chain output {\n"
	"		type nat hook output priority -100; policy accept;\n"
	"		fib daddr type local jump ports\n"
	"	}\n"
	"	chain postrouting {\n"
	"		type nat hook postrouting priority srcnat; policy accept;\n"
	"		ip saddr 127.0.0.0/8 oifname @bridges masquerade\n"
	"		ip saddr @nets ip daddr != @nets masquerade\n"
	"	}\n"
	"	chain forward {\n"
	"		type filter hook forward priority filter; policy accept;\n"
	"		iifname @internal oifname != @internal drop\n"
	"		oifname @internal iifname != @internal drop\n"
	"	}\n"
	"}\n";

/* What came after the first version of the table, in the order it came:
 * run on a table made by an older kiln, and after the table above on a new
 * one.  The last chain added is what nft_table_current() looks for. */
static const char nft_upgrade[] =
	"add chain ip kiln hairpin\n"
	"add rule ip kiln hairpin ip saddr @nets masquerade\n"
	"insert rule ip kiln postrouting ct status dnat jump hairpin\n";

static void net_elements(struct buf *b, const struct network_info *n)
{
	buf_printf(b, "add element ip kiln bridges { \"%s\" }\n", n->bridge);
	if (n->internal)
		buf_printf(b, "add element ip kiln internal { \"%s\" }\n", n->bridge);
	else
		buf_printf(b, "add element ip kiln nets { %s }\n", n->subnet);
}

/* The table with every network of the store in its sets, when missing
 * (first use, after a reboot or a flush); an older kiln's table gets the
 * rules it lacks, its sets and maps (other stores' networks and ports)
 * kept.  Called under the net lock. */
static int nft_ensure(struct store *s, const struct network_info *also, struct kerror *e)
{
	struct network_info **l = NULL;
	struct buf b = { 0 };
	size_t n = 0;
	int r;
	if (nft_table_current())
		return 0;
	if (!nft_table_exists()) {
		r = store_network_list(s, &l, &n, e);
		if (r < 0)
			return r;
		buf_append(&b, nft_table, sizeof(nft_table) - 1);
	}
	buf_append(&b, nft_upgrade, sizeof(nft_upgrade) - 1);
	for (size_t i = 0; i < n; i++)
		net_elements(&b, l[i]);
	if (also)
		net_elements(&b, also);
	buf_append(&b, "", 1);
	r = nft_run(b.data, NULL, e);
	if (r == -EEXIST) /* another process won the race */
		r = 0;
	buf_release(&b);
	network_list_free(l, n);
	return r < 0 ? kerror_wrap(e, "setting up the nftables table ip kiln") : 0;
}

static void write_sysctl(const char *path, const char *v)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, v, strlen(v)) < 0)
		log_debug("writing %s: %m", path);
}

int run_net_bridge_ensure(struct nl *nl, const struct network_info *n, struct kerror *e)
{
	uint32_t a, gw;
	int p, idx, r;
	char path[128];

	if (!net_parse_cidr(n->subnet, &a, &p) || !net_parse_ip(n->gateway, &gw))
		return kerror_set(e, EINVAL, "network %s: invalid subnet or gateway", n->name);
	idx = nl_link_index(nl, n->bridge);
	if (idx > 0) /* made by another store, maybe with another subnet */
		return nl_addr_add(nl, idx, gw, p, e);
	r = nl_bridge_add(nl, n->bridge, e);
	if (r < 0)
		return r;
	idx = nl_link_index(nl, n->bridge);
	if (idx < 0)
		return kerror_sys(e, -idx, "finding the bridge %s", n->bridge);
	r = nl_addr_add(nl, idx, gw, p, e);
	if (r == 0)
		r = nl_link_up(nl, idx, e);
	if (r < 0)
		return kerror_wrap(e, "setting up the bridge %s", n->bridge);
	/* Published ports on 127.0.0.1: see nft.c. */
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/route_localnet", n->bridge);
	write_sysctl(path, "1");
	if (!n->internal)
		write_sysctl("/proc/sys/net/ipv4/ip_forward", "1");
	return 0;
}

int run_net_announce_locked(struct store *s, struct nl *nl, const struct network_info *n,
			    struct kerror *e)
{
	struct buf b = { 0 };
	int r = run_net_bridge_ensure(nl, n, e);
	if (r < 0)
		return r;
	if (!nft_table_current())
		return nft_ensure(s, n, e);
	net_elements(&b, n);
	buf_append(&b, "", 1);
	r = nft_run(b.data, NULL, e);
	buf_release(&b);
	return r < 0 ? kerror_wrap(e, "adding network %s to the nftables table", n->name) : 0;
}

int run_net_announce(struct store *s, const struct network_info *n, struct kerror *e)
{
	_cleanup_close_ int lock = -1;
	struct nl nl = { 0 };
	int r = run_net_lock(&lock, e);
	if (r == 0)
		r = nl_open(&nl, -1, e);
	if (r == 0)
		r = run_net_announce_locked(s, &nl, n, e);
	nl_close(&nl);
	return r;
}

/* The bridge and the table, created under the host-wide lock when one is
 * missing; the common case (both there) takes two netlink round trips. */
int net_ready(struct store *s, struct nl *nl, const struct network_info *n,
			 int *bridge_idx, bool *table_checked, struct kerror *e)
{
	_cleanup_close_ int lock = -1;
	int r;
	*bridge_idx = nl_link_index(nl, n->bridge);
	if (*bridge_idx > 0 && (*table_checked || nft_table_current())) {
		*table_checked = true;
		return 0;
	}
	r = run_net_lock(&lock, e);
	if (r == 0)
		r = run_net_bridge_ensure(nl, n, e);
	if (r == 0)
		r = nft_ensure(s, n, e);
	if (r < 0)
		return r;
	*table_checked = true;
	*bridge_idx = nl_link_index(nl, n->bridge);
	if (*bridge_idx < 0)
		return kerror_sys(e, -*bridge_idx, "finding the bridge %s", n->bridge);
	return 0;
}

/* ---- /etc/hosts ----------------------------------------------------------- */

static char *hosts_path(struct store *s, const char *id)
{
	return run_etc_file(s, id, "hosts");
}

/* The running container sees the file through a bind mount, which pins
 * the inode: the file is rewritten in place (one write of a small file),
 * not renamed over. */
static void hosts_write(const char *path, const char *data)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fs_write_all(fd, data, strlen(data)) < 0)
		log_debug("writing %s: %m", path);
}

/* The peers section of a container's hosts file: the other containers on
 * its networks that resolve names. */
static void peers_section(struct store *s, const char *id, struct buf *b)
{
	struct net_attach *mine = NULL;
	size_t nm = 0;
	buf_printf(b, PEERS_MARK);
	if (store_net_attach_list(s, id, NULL, &mine, &nm, NULL) < 0)
		return;
	for (size_t i = 0; i < nm; i++) {
		_cleanup_network_info_ struct network_info *n = NULL;
		struct net_attach *l = NULL;
		size_t nl = 0;
		if (store_network_get(s, mine[i].network, &n, NULL) < 0 || !n->dns)
			continue;
		if (store_net_attach_list(s, NULL, mine[i].network, &l, &nl, NULL) < 0)
			continue;
		for (size_t j = 0; j < nl; j++) {
			char ip[16];
			size_t k;
			json_t *v;
			if (!strcmp(l[j].ctr_id, id))
				continue;
			buf_printf(b, "%s\t", net_ip_str(l[j].ip, ip));
			json_array_foreach(l[j].aliases, k, v)
				if (json_is_string(v))
					buf_printf(b, "%s%s", k ? " " : "", json_string_value(v));
			buf_printf(b, "\n");
		}
		net_attach_list_free(l, nl);
	}
	net_attach_list_free(mine, nm);
}

/* Rewrites the peers section of a container's hosts file. */
static void hosts_refresh(struct store *s, const char *id)
{
	_cleanup_free_ char *path = hosts_path(s, id), *old = NULL;
	struct buf b = { 0 };
	size_t len;
	char *mark;
	if (fs_read_file(path, HOSTS_MAX, &old, &len, NULL) < 0)
		return;
	mark = strstr(old, PEERS_MARK);
	if (mark)
		*mark = '\0';
	buf_printf(&b, "%s", old);
	peers_section(s, id, &b);
	buf_append(&b, "", 1);
	hosts_write(path, b.data);
	buf_release(&b);
}

/* Refreshes every other container attached to a network id is on. */
static void peers_refresh(struct store *s, const char *id, char *const *networks)
{
	for (size_t i = 0; networks && networks[i]; i++) {
		struct net_attach *l = NULL;
		size_t nl = 0;
		if (store_net_attach_list(s, NULL, networks[i], &l, &nl, NULL) < 0)
			continue;
		for (size_t j = 0; j < nl; j++)
			if (strcmp(l[j].ctr_id, id))
				hosts_refresh(s, l[j].ctr_id);
		net_attach_list_free(l, nl);
	}
}

/* The container's own hosts file: etcfiles.c's text with its address and
 * the gateway as host.containers.internal, then the peers. */
static void hosts_own(struct store *s, const char *id, const char *name,
		      const struct run_plan *p, uint32_t ip, const char *gw)
{
	_cleanup_free_ char *path = hosts_path(s, id), *text = NULL, *gwline = NULL;
	char *extra[2] = { NULL, NULL };
	struct buf b = { 0 };
	char ips[16];
	struct run_etc_opts o = { .add_hosts = p->add_hosts, .extra = extra,
				  .hostname = p->hostname, .name = name,
				  .ip = net_ip_str(ip, ips) };
	gwline = xasprintf("%s\thost.containers.internal host.docker.internal", gw);
	extra[0] = gwline;
	text = run_etc_hosts(NULL, &o);
	buf_printf(&b, "%s", text);
	peers_section(s, id, &b);
	buf_append(&b, "", 1);
	hosts_write(path, b.data);
	buf_release(&b);
}

/* ---- set-up and tear-down ------------------------------------------------- */

/* "kv" + 10 hex of the id + the network's index: unique per container and
 * within IFNAMSIZ. */
static void veth_name(const char *id, size_t i, char out[16])
{
	snprintf(out, 16, "kv%.10s%zu", id, i);
}

/* The map element of one mapping: "8080 : IP . 80" keyed by port in
 * tcp_any/udp_any, or "1.2.3.4 . 8080 : IP . 80" in tcp_ip/udp_ip. */
static void port_element(struct buf *b, const char *verb, const struct run_port *pm,
			 const char *ctr_ip)
{
	const char *proto = pm->udp ? "udp" : "tcp";
	bool any = !pm->host_ip[0] || !strcmp(pm->host_ip, "0.0.0.0");
	if (any)
		buf_printf(b, "%s element ip kiln %s_any { %u", verb, proto, pm->host_port);
	else
		buf_printf(b, "%s element ip kiln %s_ip { %s . %u", verb, proto, pm->host_ip,
			   pm->host_port);
	if (ctr_ip)
		buf_printf(b, " : %s . %u", ctr_ip, pm->ctr_port);
	buf_printf(b, " }\n");
}

static int ports_install(struct store *s, const char *id, const char *network, uint32_t ip,
			 char *const *ports, struct kerror *e)
{
	_cleanup_json_ json_t *done = json_array();
	struct buf b = { 0 };
	char ips[16];
	int r;
	net_ip_str(ip, ips);
	for (size_t i = 0; ports && ports[i]; i++) {
		struct run_port pm;
		if (run_port_split(ports[i], &pm) < 0 || strchr(pm.host_ip, ':'))
			continue; /* IPv6: refused when planned */
		port_element(&b, "create", &pm, ips);
		json_array_append_new(done, json_string(ports[i]));
	}
	if (!b.len)
		return 0;
	buf_append(&b, "", 1);
	r = nft_run(b.data, NULL, e);
	buf_release(&b);
	if (r == -EEXIST)
		return kerror_set(e, EADDRINUSE, "a port is already allocated by another "
						 "container: %s", e->msg);
	if (r < 0)
		return kerror_wrap(e, "publishing ports");
	return store_net_attach_set_ports(s, id, network, done, e);
}

static void ports_remove(const json_t *ports)
{
	struct buf b = { 0 };
	size_t i;
	json_t *v;
	json_array_foreach(ports, i, v) {
		struct run_port pm;
		if (json_is_string(v) && run_port_split(json_string_value(v), &pm) == 0)
			port_element(&b, "delete", &pm, NULL);
	}
	if (b.len) {
		_cleanup_kerror_ struct kerror e = { 0 };
		buf_append(&b, "", 1);
		if (nft_run(b.data, NULL, &e) < 0)
			log_debug("removing published ports: %s", e.msg);
	}
	buf_release(&b);
}

static char *ctr_name(struct store *s, const char *id)
{
	_cleanup_container_info_ struct container_info *c = NULL;
	if (store_container_get(s, id, &c, NULL) == 0)
		return xstrdup(c->name);
	return xstrndup(id, 12);
}

/* Records the lowest address free in the store and unclaimed on the host
 * (from the one after the network's to the last before the broadcast
 * address, never the gateway). */
static int allocate(struct store *s, const struct network_info *n, struct net_attach *a,
		    uint32_t sub, int prefix, uint32_t gw, pid_t pid, struct kerror *e)
{
	uint32_t first = sub + 1, last = (sub | (prefix ? 0xffffffffu >> prefix : 0)) - 1;
	for (int tries = 0; tries < 256; tries++) {
		int r = store_net_attach(s, a, first, last, e);
		if (r < 0)
			return r;
		if (a->ip != gw && net_claim(n->bridge, a->ip, a->ctr_id, pid) == 0)
			return 0;
		store_net_detach(s, a->ctr_id, n->name, NULL);
		first = a->ip + 1;
	}
	return kerror_set(e, ENOSPC, "IPAM error: failed to find free IP in network %s", n->name);
}

/* Joins one network (the plan's index-th, eth<index> inside). */
static int attach_one(struct store *s, const char *id, const char *name,
		      const struct run_plan *p, const char *network, size_t index, pid_t pid,
		      int nsfd,
		      struct nl *host, struct nl *ctr, bool *table_checked, struct kerror *e)
{
	_cleanup_network_info_ struct network_info *n = NULL;
	struct net_attach a = { 0 };
	char veth[16], peer[16];
	uint32_t sub, gw;
	int prefix, br, idx = -1, r;

	r = !strcmp(network, RUN_NET_DEFAULT) ? run_net_default_network(s, &n, e)
					       : store_network_get(s, network, &n, e);
	if (r < 0)
		return r;
	if (!net_parse_cidr(n->subnet, &sub, &prefix) || !net_parse_ip(n->gateway, &gw))
		return kerror_set(e, EINVAL, "network %s: invalid subnet", n->name);
	r = net_ready(s, host, n, &br, table_checked, e);
	if (r < 0)
		return kerror_wrap(e, "setting up network %s", n->name);
	veth_name(id, index, veth);
	snprintf(peer, sizeof(peer), "eth%zu", index);
	snprintf(a.ctr_id, sizeof(a.ctr_id), "%s", id);
	a.network = xstrdup(n->name);
	a.ifname = xstrdup(veth);
	a.ctr_ifname = xstrdup(peer);
	a.aliases = json_array();
	json_array_append_new(a.aliases, json_string(name));
	for (size_t k = 0; p->net_aliases && p->net_aliases[k]; k++)
		json_array_append_new(a.aliases, json_string(p->net_aliases[k]));
	json_array_append_new(a.aliases, json_stringn(id, 12));
	/* From the address after the network's (skipping the gateway) to the
	 * last before the broadcast address. */
	r = allocate(s, n, &a, sub, prefix, gw, pid, e);
	if (r == 0) {
		r = nl_veth_add(host, veth, br, peer, a.ip, nsfd, e);
		/* The pair of this container's previous run (a restart) may
		 * still wait for the kernel's clean-up of its namespace. */
		if (r == -EEXIST && nl_link_del(host, veth) == 0) {
			kerror_release(e);
			r = nl_veth_add(host, veth, br, peer, a.ip, nsfd, e);
		}
	}
	if (r == 0)
		r = nl_port_hairpin(host, veth, e);
	if (r == 0 && (idx = nl_link_index(ctr, peer)) < 0)
		r = kerror_sys(e, -idx, "finding %s in the container", peer);
	if (r == 0)
		r = nl_addr_add(ctr, idx, a.ip, prefix, e);
	if (r == 0)
		r = nl_link_up(ctr, idx, e);
	if (r == 0 && index == 0 && !n->internal)
		r = nl_route_default(ctr, idx, gw, e);
	if (r == 0 && index == 0)
		r = ports_install(s, id, n->name, a.ip, p->ports, e);
	if (r == 0 && index == 0)
		hosts_own(s, id, name, p, a.ip, n->gateway);
	net_attach_release(&a);
	if (r < 0)
		return kerror_wrap(e, "setting up network %s", n->name);
	return 0;
}

/* Joins networks[from…] (or only `only`) for pid's namespace. */
static int attach(struct store *s, const char *id, const struct run_plan *p, pid_t pid,
		  const char *only, struct kerror *e)
{
	_cleanup_free_ char *nspath = xasprintf("/proc/%d/ns/net", (int)pid);
	_cleanup_free_ char *name = NULL;
	_cleanup_close_ int nsfd = open(nspath, O_RDONLY | O_CLOEXEC);
	struct nl host = { 0 }, ctr = { 0 };
	bool table_checked = false;
	int r;

	if (nsfd < 0)
		return kerror_sys(e, errno, "opening \"%s\"", nspath);
	name = ctr_name(s, id);
	r = nl_open(&host, -1, e);
	if (r == 0)
		r = nl_open(&ctr, nsfd, e);
	for (size_t i = 0; r == 0 && p->networks[i]; i++)
		if (!only || !strcmp(only, p->networks[i]))
			r = attach_one(s, id, name, p, p->networks[i], i, pid, nsfd, &host, &ctr,
				       &table_checked, e);
	nl_close(&ctr);
	nl_close(&host);
	return r;
}

int run_net_setup(struct store *s, const char *id, const struct run_plan *p, pid_t pid,
		  struct kerror *e)
{
	int r;
	if (!p->networks || !p->networks[0])
		return 0;
	r = attach(s, id, p, pid, NULL, e);
	if (r < 0) {
		run_net_teardown(s, id);
		return r;
	}
	peers_refresh(s, id, p->networks);
	return 0;
}

int run_net_connect(struct store *s, const char *id, const struct run_plan *p, pid_t pid,
		    const char *network, struct kerror *e)
{
	char *one[2] = { (char *)network, NULL };
	int r = attach(s, id, p, pid, network, e);
	if (r < 0) {
		run_net_disconnect(s, id, network);
		return r;
	}
	hosts_refresh(s, id);
	peers_refresh(s, id, one);
	return 0;
}

/* links: delete the host ends now.  Without, the kernel deletes each pair
 * with the container's namespace, in the background (cleanup_net), once
 * its last process is gone: deleting a veth waits for RCU grace periods
 * (10-20 ms here, more under load), which `run --rm` need not wait for. */
static void detach(struct store *s, const char *id, const char *network, bool links)
{
	struct net_attach *a = NULL;
	size_t n = 0;
	struct nl nl = { 0 };
	char **networks = NULL;

	if (store_net_attach_list(s, id, network, &a, &n, NULL) < 0 || n == 0) {
		net_attach_list_free(a, n);
		return;
	}
	if (!links || nl_open(&nl, -1, NULL) < 0)
		nl.sock = NULL;
	for (size_t i = 0; i < n; i++) {
		if (json_array_size(a[i].ports))
			ports_remove(a[i].ports);
		/* Deleting one end removes the pair now; the namespace's own
		 * clean-up would do it too, but later. */
		if (nl.sock)
			nl_link_del(&nl, a[i].ifname);
		{
			_cleanup_network_info_ struct network_info *ni = NULL;
			if (store_network_get(s, a[i].network, &ni, NULL) == 0)
				net_unclaim(ni->bridge, a[i].ip, id);
		}
		strv_push(&networks, xstrdup(a[i].network));
	}
	nl_close(&nl);
	store_net_detach(s, id, network, NULL);
	peers_refresh(s, id, networks);
	strv_free(networks);
	net_attach_list_free(a, n);
}

void run_net_teardown(struct store *s, const char *id)
{
	detach(s, id, NULL, true);
}

void run_net_release(struct store *s, const char *id)
{
	detach(s, id, NULL, false);
}

void run_net_disconnect(struct store *s, const char *id, const char *network)
{
	detach(s, id, network, true);
	hosts_refresh(s, id);
}
