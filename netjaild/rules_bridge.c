/*
 * rules_bridge.c - where a packet from a jailed bridge goes: ND, DNS to
 * dohd, TCP to connectd, direct endpoints out, the host only at the
 * jail's own listeners, a forged source or anything else a counted drop;
 * inbound only replies and published ports.
 */
#include <netinet/in.h>
#include <linux/netfilter.h>

#include "rules.h"
#include "rules_build.h"

/* IPv6 neighbour discovery: router solicit, neighbour solicit, advert. */
static const uint8_t nd_types[] = { 133, 135, 136 };

static void
nd_accepts(struct nj_build *b, int chain)
{
	struct nj_rule *r;
	size_t i;

	for (i = 0; i < sizeof(nd_types); i++) {
		r = rb_rule(b, chain);
		rt_set(r, NJ_IIF_SET, NJ_SET_IFACES);
		rt_val(r, NJ_ICMPV6_TYPE, nd_types[i]);
		rt_kind(r, NJ_ACCEPT);
	}
}

/*
 * The explicit proxy, which a workload addresses itself (no NAT): its own
 * address and port, or, for a wildcard listener, that port on any local
 * address of its family.
 */
static void
proxy_accepts(struct nj_build *b, int chain)
{
	struct nj_rule *r;
	size_t i;

	for (i = 0; i < b->npx; i++) {
		if (b->px[i].family == NFPROTO_IPV6 && !b->v6)
			continue;
		r = rb_rule(b, chain);
		rt_set(r, NJ_IIF_SET, NJ_SET_IFACES);
		rt_listener(r, b->px[i].family, &b->px[i], IPPROTO_TCP);
		rt_kind(r, NJ_ACCEPT);
	}
}

/* pre_mangle: only ND, direct endpoints, TCP and DNS get past. */
static void
bridge_pre_mangle(struct nj_build *b)
{
	struct nj_rule *r, m;

	nd_accepts(b, NJ_CH_PRE_MANGLE);
	if (!b->v6) {
		rb_match(&m, NJ_CH_PRE_MANGLE);
		rt_set(&m, NJ_IIF_SET, NJ_SET_IFACES);
		rt_nfproto(&m, NFPROTO_IPV6);
		rb_drop(b, &m, "bridge ipv6", false);
	}
	/*
	 * A source that does not route back through the bridge it came from
	 * is forged: the answers (dohd's, connectd's SYN-ACK, the kernel's
	 * RST or ICMP error, each echoing what the workload chose) would go
	 * to that outside address, data leaving by reflection.  Neighbour
	 * discovery (DAD from ::, link-local) is accepted above.
	 */
	rb_match(&m, NJ_CH_PRE_MANGLE);
	rt_set(&m, NJ_IIF_SET, NJ_SET_IFACES);
	rt_kind(&m, NJ_FIB_SADDR_MISSING);
	rb_drop(b, &m, "bridge spoofed source", false);
	rb_direct(b, NJ_CH_PRE_MANGLE, NJ_IIF_SET, NJ_SET_IFACES,
	    RB_DIRECT_ACCEPT);
	r = rb_rule(b, NJ_CH_PRE_MANGLE);
	rt_set(r, NJ_IIF_SET, NJ_SET_IFACES);
	rt_l4(r, IPPROTO_TCP);
	rt_kind(r, NJ_ACCEPT);
	r = rb_rule(b, NJ_CH_PRE_MANGLE);
	rt_set(r, NJ_IIF_SET, NJ_SET_IFACES);
	rt_port(r, NJ_DPORT, IPPROTO_UDP, 53);
	rt_kind(r, NJ_ACCEPT);
	rb_match(&m, NJ_CH_PRE_MANGLE);
	rt_set(&m, NJ_IIF_SET, NJ_SET_IFACES);
	rb_drop(b, &m, "bridge not tcp or dns", false);
}

/*
 * pre_nat: DNS first, so port 53 of a direct endpoint is still dohd's;
 * direct endpoints and the explicit proxy untouched; every other TCP to
 * connectd's transparent listener (IPv6: no route_localnet, so a loopback
 * address is no target and the port is redirected to).
 */
static void
bridge_pre_nat(struct nj_build *b)
{
	const struct nj_target *tp4 = &b->tp4, *tp6 = &b->tp6;
	struct nj_rule *r;

	rules_wl_nat_dns(b);
	rb_dns_to_dohd(b, NJ_CH_PRE_NAT, NJ_IIF_SET, NJ_SET_IFACES, true);
	rb_direct(b, NJ_CH_PRE_NAT, NJ_IIF_SET, NJ_SET_IFACES,
	    RB_DIRECT_ACCEPT);
	/* before the proxy: a workload's TCP never meets [policy]'s proxy */
	rules_wl_nat_tcp(b);
	proxy_accepts(b, NJ_CH_PRE_NAT);
	if (!tp4->present)
		return;
	r = rb_rule(b, NJ_CH_PRE_NAT);
	rt_set(r, NJ_IIF_SET, NJ_SET_IFACES);
	if (tp4->has_addr) {
		rt_l4(r, IPPROTO_TCP);
		rt_nat(r, NJ_DNAT, NFPROTO_IPV4, tp4);
	} else {
		rt_nfproto(r, NFPROTO_IPV4);
		rt_l4(r, IPPROTO_TCP);
		rt_nat(r, NJ_REDIRECT, 0, tp4);
	}
	if (!b->v6)
		return;
	r = rb_rule(b, NJ_CH_PRE_NAT);
	rt_set(r, NJ_IIF_SET, NJ_SET_IFACES);
	rt_nfproto(r, NFPROTO_IPV6);
	rt_l4(r, IPPROTO_TCP);
	if (tp6->has_addr && !tp6->loopback)
		rt_nat(r, NJ_DNAT, NFPROTO_IPV6, tp6);
	else
		rt_nat(r, NJ_REDIRECT, 0, tp6);
}

/*
 * Where the host answers a jailed bridge: exactly the listener the jail's
 * own NAT rule sent the packet to.  A DNAT to an address is matched by that
 * address and port; a redirect (no address, a wildcard listener, or IPv6
 * loopback, which a bridge cannot reach) lands on the address the packet
 * came to, so it is matched by the port and by conntrack's record that a
 * NAT rule chose the destination: a workload that aims at that port on any
 * host address itself gets no DNAT status and is not let in.
 */
void
rb_listener_in(struct nj_build *b, int family, const struct nj_target *t,
    int proto)
{
	struct nj_rule *r = rb_rule(b, NJ_CH_INPUT);

	rt_set(r, NJ_IIF_SET, NJ_SET_IFACES);
	if (t->has_addr && !(family == NFPROTO_IPV6 && t->loopback))
		rt_daddr(r, family, t->addr);
	else {
		rt_nfproto(r, family);
		rt_kind(r, NJ_CT_DNAT);
	}
	rt_port(r, NJ_DPORT, proto, t->port);
	rt_kind(r, NJ_ACCEPT);
}

/*
 * input: the listener address:port pairs the NAT rules chose, the
 * explicit proxy's own pairs, direct endpoints that are host addresses (a
 * database on the host), nothing else: a port number alone would open
 * every host service bound to it on any address.
 */
static void
bridge_input(struct nj_build *b)
{
	static const int protos[2] = { IPPROTO_UDP, IPPROTO_TCP };
	struct nj_rule *r, m;
	int p;

	r = rb_rule(b, NJ_CH_INPUT);
	rt_set(r, NJ_IIF_SET, NJ_SET_IFACES);
	rt_kind(r, NJ_CT_ESTREL);
	rt_kind(r, NJ_ACCEPT);
	nd_accepts(b, NJ_CH_INPUT);
	for (p = 0; p < 2 && b->dns4.present; p++) {
		rb_listener_in(b, NFPROTO_IPV4, &b->dns4, protos[p]);
		if (b->v6)
			rb_listener_in(b, NFPROTO_IPV6, &b->dns6, protos[p]);
	}
	if (b->tp4.present) {
		rb_listener_in(b, NFPROTO_IPV4, &b->tp4, IPPROTO_TCP);
		if (b->v6)
			rb_listener_in(b, NFPROTO_IPV6, &b->tp6, IPPROTO_TCP);
	}
	rules_wl_input(b);
	proxy_accepts(b, NJ_CH_INPUT);
	rb_direct(b, NJ_CH_INPUT, NJ_IIF_SET, NJ_SET_IFACES,
	    RB_DIRECT_ACCEPT);
	rb_match(&m, NJ_CH_INPUT);
	rt_set(&m, NJ_IIF_SET, NJ_SET_IFACES);
	rb_drop(b, &m, "bridge host", false);
}

/*
 * inbound = published: a connection the host DNATs to a jailed bridge (a
 * published port, docker run -p) is forwarded in (!replies: after the
 * "bridge forward" drop, so nothing a jailed source starts can match), and
 * the workload's answers on it go back out (replies: before that drop,
 * only in the reply direction of a DNATed flow, which a jailed source
 * cannot open).  Routed inbound without a DNAT stays dropped.
 */
static void
forward_published(struct nj_build *b, bool replies)
{
	struct nj_rule *r;

	if (b->cfg->jail.inbound != EG_INBOUND_PUBLISHED)
		return;
	r = rb_rule(b, NJ_CH_FORWARD);
	rt_set(r, replies ? NJ_IIF_SET : NJ_OIF_SET, NJ_SET_IFACES);
	if (replies)
		rt_kind(r, NJ_CT_REPLY);
	rt_kind(r, NJ_CT_DNAT);
	rt_kind(r, NJ_ACCEPT);
}

/* forward: out only direct endpoints; in only replies, published ports. */
static void
bridge_forward(struct nj_build *b)
{
	struct nj_rule *r, m;

	rb_direct(b, NJ_CH_FORWARD, NJ_IIF_SET, NJ_SET_IFACES,
	    RB_DIRECT_FLOWS_MARK);
	r = rb_rule(b, NJ_CH_FORWARD);
	rt_set(r, NJ_OIF_SET, NJ_SET_IFACES);
	rt_kind(r, NJ_CT_ESTREL);
	rt_kind(r, NJ_ACCEPT);
	forward_published(b, true);
	rb_match(&m, NJ_CH_FORWARD);
	rt_set(&m, NJ_IIF_SET, NJ_SET_IFACES);
	rb_drop(b, &m, "bridge forward", false);
	forward_published(b, false);
	rb_match(&m, NJ_CH_FORWARD);
	rt_set(&m, NJ_OIF_SET, NJ_SET_IFACES);
	rb_drop(b, &m, "bridge inbound", false);
}

void
rules_build_bridge(struct nj_build *b)
{
	bridge_pre_mangle(b);
	bridge_pre_nat(b);
	bridge_input(b);
	bridge_forward(b);
}
