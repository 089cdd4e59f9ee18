/* rtnetlink requests over libmnl: the few kiln's bridge networking needs
 * (bridges, veth pairs, addresses, a default route).  Each request waits
 * for its acknowledgement, so an error comes back with the request that
 * caused it. */
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "run/net_private.h"

int nl_open(struct nl *nl, int netns_fd, struct kerror *e)
{
	_cleanup_close_ int own = -1;
	int err = 0;

	memset(nl, 0, sizeof(*nl));
	if (netns_fd >= 0) {
		own = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		if (own < 0)
			return kerror_sys(e, errno, "opening our network namespace");
		if (setns(netns_fd, CLONE_NEWNET) < 0)
			return kerror_sys(e, errno, "entering the container's network namespace");
	}
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sock)
		err = errno;
	if (netns_fd >= 0 && setns(own, CLONE_NEWNET) < 0)
		err = err ? err : errno; /* cannot happen for root: we came from there */
	if (err) {
		nl_close(nl);
		return kerror_sys(e, err, "opening a netlink socket");
	}
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = errno;
		nl_close(nl);
		return kerror_sys(e, err, "binding a netlink socket");
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (unsigned)time(NULL);
	return 0;
}

void nl_close(struct nl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	nl->sock = NULL;
}

/* Sends the request and reads until its ack; cb (may be NULL) sees data
 * messages.  Returns 0 or -errno from the kernel. */
static int nl_talk(struct nl *nl, struct nlmsghdr *h, mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned seq = ++nl->seq;
	ssize_t n;
	int r;

	h->nlmsg_seq = seq;
	h->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(nl->sock, h, h->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		r = mnl_cb_run(buf, (size_t)n, seq, nl->portid, cb, data);
		if (r <= MNL_CB_STOP)
			return r < 0 ? -errno : 0;
	}
}

static struct nlmsghdr *link_msg(char *buf, uint16_t type, uint16_t flags, struct ifinfomsg **ifi)
{
	struct nlmsghdr *h = mnl_nlmsg_put_header(buf);
	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_REQUEST | flags;
	*ifi = mnl_nlmsg_put_extra_header(h, sizeof(**ifi));
	(*ifi)->ifi_family = AF_UNSPEC;
	return h;
}

static int index_cb(const struct nlmsghdr *h, void *data)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(h);
	*(int *)data = ifi->ifi_index;
	return MNL_CB_OK;
}

int nl_link_index(struct nl *nl, const char *name)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct ifinfomsg *ifi;
	struct nlmsghdr *h = link_msg(buf, RTM_GETLINK, 0, &ifi);
	int index = 0, r;
	mnl_attr_put_strz(h, IFLA_IFNAME, name);
	r = nl_talk(nl, h, index_cb, &index);
	if (r < 0)
		return r == -ENODEV || r == -ENOENT ? -ENODEV : r;
	return index > 0 ? index : -ENODEV;
}

int nl_bridge_add(struct nl *nl, const char *name, struct kerror *e)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct ifinfomsg *ifi;
	struct nlmsghdr *h = link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi);
	struct nlattr *info;
	int r;
	mnl_attr_put_strz(h, IFLA_IFNAME, name);
	info = mnl_attr_nest_start(h, IFLA_LINKINFO);
	mnl_attr_put_strz(h, IFLA_INFO_KIND, "bridge");
	mnl_attr_nest_end(h, info);
	r = nl_talk(nl, h, NULL, NULL);
	if (r < 0 && r != -EEXIST)
		return kerror_sys(e, -r, "creating the bridge %s", name);
	return 0;
}

int nl_link_up(struct nl *nl, int index, struct kerror *e)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct ifinfomsg *ifi;
	struct nlmsghdr *h = link_msg(buf, RTM_NEWLINK, 0, &ifi);
	int r;
	ifi->ifi_index = index;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	r = nl_talk(nl, h, NULL, NULL);
	if (r < 0)
		return kerror_sys(e, -r, "setting interface %d up", index);
	return 0;
}

int nl_addr_add(struct nl *nl, int index, uint32_t ip, int prefix, struct kerror *e)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *h = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa;
	uint32_t be = htonl(ip);
	uint32_t bcast = htonl(ip | (prefix >= 32 ? 0 : (0xffffffffu >> prefix)));
	int r;
	h->nlmsg_type = RTM_NEWADDR;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
	ifa = mnl_nlmsg_put_extra_header(h, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (unsigned char)prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (unsigned)index;
	mnl_attr_put_u32(h, IFA_LOCAL, be);
	mnl_attr_put_u32(h, IFA_ADDRESS, be);
	mnl_attr_put_u32(h, IFA_BROADCAST, bcast);
	r = nl_talk(nl, h, NULL, NULL);
	if (r < 0 && r != -EEXIST) {
		char s[16];
		return kerror_sys(e, -r, "adding address %s/%d", net_ip_str(ip, s), prefix);
	}
	return 0;
}

int nl_veth_add(struct nl *nl, const char *host, int master, const char *peer, uint32_t ip,
		int peer_netns_fd, struct kerror *e)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct ifinfomsg *ifi, *pifi;
	struct nlmsghdr *h = link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi);
	struct nlattr *info, *data, *p;
	/* The container's MAC follows from its address (02:6b = locally
	 * administered, 'k'), as Docker's 02:42:…: a neighbour entry the host
	 * keeps for an address stays right when the address is reused. */
	unsigned char mac[6] = { 0x02, 0x6b, (unsigned char)(ip >> 24), (unsigned char)(ip >> 16),
				 (unsigned char)(ip >> 8), (unsigned char)ip };
	int r;
	/* Up from the start: one request fewer. */
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	mnl_attr_put_strz(h, IFLA_IFNAME, host);
	mnl_attr_put_u32(h, IFLA_MASTER, (uint32_t)master);
	info = mnl_attr_nest_start(h, IFLA_LINKINFO);
	mnl_attr_put_strz(h, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(h, IFLA_INFO_DATA);
	p = mnl_attr_nest_start(h, VETH_INFO_PEER);
	pifi = mnl_nlmsg_put_extra_header(h, sizeof(*pifi));
	pifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(h, IFLA_IFNAME, peer);
	mnl_attr_put(h, IFLA_ADDRESS, sizeof(mac), mac);
	mnl_attr_put_u32(h, IFLA_NET_NS_FD, (uint32_t)peer_netns_fd);
	mnl_attr_nest_end(h, p);
	mnl_attr_nest_end(h, data);
	mnl_attr_nest_end(h, info);
	r = nl_talk(nl, h, NULL, NULL);
	if (r < 0) {
		kerror_sys(e, -r, "creating the veth pair %s", host);
		return r;
	}
	return 0;
}

int nl_port_hairpin(struct nl *nl, const char *port, struct kerror *e)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct ifinfomsg *ifi;
	struct nlmsghdr *h = link_msg(buf, RTM_NEWLINK, 0, &ifi);
	struct nlattr *info, *data;
	int r;
	mnl_attr_put_strz(h, IFLA_IFNAME, port);
	info = mnl_attr_nest_start(h, IFLA_LINKINFO);
	data = mnl_attr_nest_start(h, IFLA_INFO_SLAVE_DATA);
	mnl_attr_put_u8(h, IFLA_BRPORT_MODE, 1);
	mnl_attr_nest_end(h, data);
	mnl_attr_nest_end(h, info);
	r = nl_talk(nl, h, NULL, NULL);
	if (r < 0)
		return kerror_sys(e, -r, "setting hairpin mode on %s", port);
	return 0;
}

int nl_route_default(struct nl *nl, int index, uint32_t gw, struct kerror *e)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *h = mnl_nlmsg_put_header(buf);
	struct rtmsg *rt;
	int r;
	h->nlmsg_type = RTM_NEWROUTE;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
	rt = mnl_nlmsg_put_extra_header(h, sizeof(*rt));
	rt->rtm_family = AF_INET;
	rt->rtm_dst_len = 0;
	rt->rtm_table = RT_TABLE_MAIN;
	rt->rtm_protocol = RTPROT_BOOT;
	rt->rtm_scope = RT_SCOPE_UNIVERSE;
	rt->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(h, RTA_GATEWAY, htonl(gw));
	mnl_attr_put_u32(h, RTA_OIF, (uint32_t)index);
	r = nl_talk(nl, h, NULL, NULL);
	if (r < 0 && r != -EEXIST)
		return kerror_sys(e, -r, "adding the default route");
	return 0;
}

int nl_link_del(struct nl *nl, const char *name)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct ifinfomsg *ifi;
	struct nlmsghdr *h = link_msg(buf, RTM_DELLINK, 0, &ifi);
	int r;
	mnl_attr_put_strz(h, IFLA_IFNAME, name);
	r = nl_talk(nl, h, NULL, NULL);
	return r == -ENODEV || r == -ENOENT ? 0 : r;
}

bool net_parse_ip(const char *s, uint32_t *addr)
{
	struct in_addr a;
	if (!s || inet_pton(AF_INET, s, &a) != 1)
		return false;
	*addr = ntohl(a.s_addr);
	return true;
}

bool net_parse_cidr(const char *s, uint32_t *addr, int *prefix)
{
	char ip[32];
	const char *slash = s ? strchr(s, '/') : NULL;
	char *end;
	long p;
	if (!slash || (size_t)(slash - s) >= sizeof(ip))
		return false;
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = '\0';
	p = strtol(slash + 1, &end, 10);
	if (!slash[1] || *end || p < 0 || p > 32 || !net_parse_ip(ip, addr))
		return false;
	*prefix = (int)p;
	return true;
}

const char *net_ip_str(uint32_t ip, char buf[16])
{
	struct in_addr a = { htonl(ip) };
	inet_ntop(AF_INET, &a, buf, 16);
	return buf;
}
