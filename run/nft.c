/* The nftables table kiln owns ("ip kiln"): masquerading of its networks'
 * traffic to the outside and the DNAT of published ports.  Everything that
 * changes per network or per container is an element of a set or map, so
 * the rules are written once (when the table is missing) and a container's
 * start or removal adds or deletes elements, never rules.
 *
 * Published ports reach the container from other hosts (prerouting) and
 * from this one (output), also on 127.0.0.1: a packet from 127.0.0.1 may
 * leave through the bridge because route_localnet is set on it, and is
 * masqueraded to the bridge's address so that the reply comes back.  This
 * is Docker's --userland-proxy=false: no forwarder process per port (none
 * to start, to leak or to slow the traffic down).
 *
 * A container that reaches a published port through one of the host's
 * addresses (hairpin) is DNATed in prerouting like any other client; the
 * "hairpin" chain masquerades it to its bridge's address, as Podman does,
 * or the reply of a container on the same bridge (or the container itself)
 * would skip the host's conntrack and come from the wrong address.  That
 * chain marks the table's current version: an older table gets it added
 * (net.c). */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "run/net_private.h"

/* Asks for one object of the table: the table itself (chain NULL) or one
 * of its chains. */
static bool nft_object_exists(uint16_t type, const char *chain)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	struct nlmsghdr *h;
	struct nfgenmsg *g;
	unsigned seq = (unsigned)time(NULL), portid;
	bool exists = false;
	ssize_t n;

	if (!nl)
		return false;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto out;
	portid = mnl_socket_get_portid(nl);
	h = mnl_nlmsg_put_header(buf);
	h->nlmsg_type = (uint16_t)((NFNL_SUBSYS_NFTABLES << 8) | type);
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	h->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(h, sizeof(*g));
	g->nfgen_family = NFPROTO_IPV4;
	g->version = NFNETLINK_V0;
	g->res_id = 0;
	if (chain) {
		mnl_attr_put_strz(h, NFTA_CHAIN_TABLE, "kiln");
		mnl_attr_put_strz(h, NFTA_CHAIN_NAME, chain);
	} else {
		mnl_attr_put_strz(h, NFTA_TABLE_NAME, "kiln");
	}
	if (mnl_socket_sendto(nl, h, h->nlmsg_len) < 0)
		goto out;
	/* The object comes back as a message (then an ack), or an error. */
	while ((n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		int r = mnl_cb_run(buf, (size_t)n, seq, portid, NULL, NULL);
		if (r == MNL_CB_ERROR)
			break;
		exists = true;
		if (r == MNL_CB_STOP)
			break;
	}
out:
	mnl_socket_close(nl);
	return exists;
}

bool nft_table_exists(void)
{
	return nft_object_exists(NFT_MSG_GETTABLE, NULL);
}

bool nft_table_current(void)
{
	return nft_object_exists(NFT_MSG_GETCHAIN, "hairpin");
}
