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
 * to start, to leak or to slow the traffic down). */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "run/net_private.h"

bool nft_table_exists(void)
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
	h->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	h->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(h, sizeof(*g));
	g->nfgen_family = NFPROTO_IPV4;
	g->version = NFNETLINK_V0;
	g->res_id = 0;
	mnl_attr_put_strz(h, NFTA_TABLE_NAME, "kiln");
	if (mnl_socket_sendto(nl, h, h->nlmsg_len) < 0)
		goto out;
	/* The table comes back as a message (then an ack), or an error. */
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
