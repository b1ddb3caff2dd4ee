/*
 * rules_local.c - where a jailed local user's packet goes: TCP marked in
 * out_route, looped through lo by policy routing and handed to connectd by
 * TPROXY; DNS to dohd; direct endpoints out; the rest, and anything that
 * leaves by another device than lo, a counted drop.
 */
#include <netinet/in.h>
#include <linux/netfilter.h>

#include "rules.h"
#include "rules_build.h"

/*
 * pre_mangle: the marked TCP comes back on lo; TPROXY or drop.  out_route:
 * mark it.  A jailed user's diverted flow carries the mark bits in its ct
 * mark too, so the packets of the flow that have no socket owner (ACK/RST
 * of an orphaned or TIME_WAIT socket, the kernel's RST to a SYN-ACK nobody
 * asked for) take the same detour: the owner match alone misses them.
 * That rule is first, so a direct endpoint learned mid-flow cannot pull
 * the rest of a diverted flow out of it.
 */
static void
local_divert(struct nj_build *b)
{
	const struct nj_target *tp[2] = { &b->tp4, &b->tp6 };
	struct nj_rule *r, m;
	int i;

	/* the workloads' flows first, by the id in their ct mark */
	rules_wl_local_tproxy(b);
	for (i = 0; i < (b->v6 ? 2 : 1); i++) {
		r = rb_rule(b, NJ_CH_PRE_MANGLE);
		rt_str(r, NJ_IIF_NAME, "lo");
		rt_val(r, NJ_MARK, b->mark);
		rt_l4(r, IPPROTO_TCP);
		rt_nat(r, NJ_TPROXY, i == 0 ? NFPROTO_IPV4 : NFPROTO_IPV6,
		    tp[i]);
		rt_kind(r, NJ_ACCEPT);
	}
	/* a tproxy that finds no listener falls through */
	rb_match(&m, NJ_CH_PRE_MANGLE);
	rt_str(&m, NJ_IIF_NAME, "lo");
	rt_val(&m, NJ_MARK, b->mark);
	rb_drop(b, &m, "local no listener", false);

	r = rb_rule(b, NJ_CH_OUT_ROUTE);
	rt_kind(r, NJ_CT_ORIGINAL);
	rt_val(r, NJ_CTMARK_HAS, b->mark);
	rt_val(r, NJ_MARK_SET, b->mark);
	rb_direct(b, NJ_CH_OUT_ROUTE, NJ_SKUID_SET, NJ_SET_UIDS,
	    RB_DIRECT_FLOWS);
	rules_wl_local_route(b);
	r = rb_rule(b, NJ_CH_OUT_ROUTE);
	rt_set(r, NJ_SKUID_SET, NJ_SET_UIDS);
	rt_port(r, NJ_DPORT_NE, IPPROTO_TCP, 53);
	rt_kind(r, NJ_FIB_NOT_LOCAL);
	rt_val(r, NJ_MARK_SET, b->mark);
	rt_val(r, NJ_CTMARK_OR, b->mark);
}

/*
 * out_filter, first: a packet of a diverted flow that does not carry the
 * mark (so is not on its way to lo) is dropped, whoever sent it.  Not by
 * oifname: the output hook keeps the device it was entered with, the
 * route chain's reroute does not change it.  Then a socket-less TCP packet
 * that conntrack has no flow for (its entry expired or was flushed) cannot
 * be told from a jailed user's: it is dropped unless it leaves a socket.
 * Packets of any socket return from out_unowned untouched.
 */
static void
local_unmarked(struct nj_build *b)
{
	struct nj_rule *r, m;

	rb_match(&m, NJ_CH_OUT_FILTER);
	rt_kind(&m, NJ_CT_ORIGINAL);
	rt_val(&m, NJ_CTMARK_HAS, b->mark);
	rt_val(&m, NJ_MARK_NE, b->mark);
	rb_drop(b, &m, "local flow unmarked", false);
	r = rb_rule(b, NJ_CH_OUT_FILTER);
	rt_l4(r, IPPROTO_TCP);
	rt_kind(r, NJ_CT_INVALID);
	rt_str(r, NJ_OIF_NAME_NE, "lo");
	rt_str(r, NJ_JUMP, nj_chains[NJ_CH_OUT_UNOWNED].name);
	r = rb_rule(b, NJ_CH_OUT_UNOWNED);
	rt_set(r, NJ_SKUID_NOT_SET, NJ_SET_UIDS);
	rt_kind(r, NJ_RETURN);
	r = rb_rule(b, NJ_CH_OUT_UNOWNED);
	rt_set(r, NJ_SKUID_SET, NJ_SET_UIDS);
	rt_kind(r, NJ_RETURN);
	rb_drop(b, rb_match(&m, NJ_CH_OUT_UNOWNED), "unowned invalid", false);
}

/* out_filter, after the owner gates: what a jailed user may send. */
static void
local_out_filter(struct nj_build *b)
{
	static const int protos[2] = { IPPROTO_UDP, IPPROTO_TCP };
	struct nj_rule *r, m;
	size_t i;
	int p;

	if (b->tp4.present)
		local_unmarked(b);
	if (!b->v6) {
		rb_match(&m, NJ_CH_OUT_FILTER);
		rt_set(&m, NJ_SKUID_SET, NJ_SET_UIDS);
		rt_nfproto(&m, NFPROTO_IPV6);
		rb_drop(b, &m, "local ipv6", false);
	}
	if (b->tp4.present) {
		r = rb_rule(b, NJ_CH_OUT_FILTER);
		rt_set(r, NJ_SKUID_SET, NJ_SET_UIDS);
		rt_val(r, NJ_MARK, b->mark);
		rt_kind(r, NJ_ACCEPT);
	}
	rb_direct(b, NJ_CH_OUT_FILTER, NJ_SKUID_SET, NJ_SET_UIDS,
	    RB_DIRECT_FLOWS_MARK);
	/* a workload's uids reach their own listeners, not [policy]'s */
	rules_wl_local_filter(b);
	for (p = 0; p < 2 && b->dns4.present; p++) {
		r = rb_rule(b, NJ_CH_OUT_FILTER);
		rt_set(r, NJ_SKUID_SET, NJ_SET_UIDS);
		rt_listener(r, NFPROTO_IPV4, &b->dns4, protos[p]);
		rt_kind(r, NJ_ACCEPT);
		if (!b->v6)
			continue;
		r = rb_rule(b, NJ_CH_OUT_FILTER);
		rt_set(r, NJ_SKUID_SET, NJ_SET_UIDS);
		rt_listener(r, NFPROTO_IPV6, &b->dns6, protos[p]);
		rt_kind(r, NJ_ACCEPT);
	}
	for (i = 0; i < b->npx; i++) {
		const struct nj_target *t = &b->px[i];

		if (t->family == NFPROTO_IPV6 && !b->v6)
			continue;
		r = rb_rule(b, NJ_CH_OUT_FILTER);
		rt_set(r, NJ_SKUID_SET, NJ_SET_UIDS);
		rt_listener(r, t->family, t, IPPROTO_TCP);
		rt_kind(r, NJ_ACCEPT);
	}
	rb_match(&m, NJ_CH_OUT_FILTER);
	rt_set(&m, NJ_SKUID_SET, NJ_SET_UIDS);
	rb_drop(b, &m, "local", false);
}

/*
 * post_filter: the verdict that does not depend on routing.  Only the
 * postrouting hook sees the device a packet really leaves by: in the
 * output hook oifname is the device of the first route lookup, before
 * the route chain's reroute and before a socket's SO_BINDTODEVICE or a
 * foreign ip rule took the marked packet elsewhere (measured: a diverted
 * SYN shows the uplink in output and lo in postrouting).  A jailed user's
 * packet leaves by lo (the TPROXY detour, dohd, connectd's explicit
 * proxy, which are all local addresses) or is a direct endpoint; a
 * packet carrying the detour mark that is not on lo missed the detour,
 * whoever sent it (socket-less ACK/RST of a diverted flow included).
 */
static void
local_post(struct nj_build *b)
{
	struct nj_rule *r, m;

	if (b->tp4.present) {
		rb_match(&m, NJ_CH_POST_FILTER);
		rt_str(&m, NJ_OIF_NAME_NE, "lo");
		rt_val(&m, NJ_MARK, b->mark);
		rb_drop(b, &m, "local detour missed", false);
	}
	/*
	 * Every packet of the host passes here: one rule (one uid set
	 * lookup) for those that are not a jailed user's off lo, the rest
	 * in post_local.
	 */
	r = rb_rule(b, NJ_CH_POST_FILTER);
	rt_set(r, NJ_SKUID_SET, NJ_SET_UIDS);
	rt_str(r, NJ_OIF_NAME_NE, "lo");
	rt_str(r, NJ_JUMP, nj_chains[NJ_CH_POST_LOCAL].name);
	/* a direct flow outlives its learned element here too */
	rb_direct(b, NJ_CH_POST_LOCAL, NJ_SKUID_SET, NJ_SET_UIDS,
	    RB_DIRECT_FLOWS);
	rb_drop(b, rb_match(&m, NJ_CH_POST_LOCAL), "local leaves", false);
}

void
rules_build_local(struct nj_build *b)
{
	if (b->tp4.present)
		local_divert(b);
	rules_wl_local_nat(b);
	rb_dns_to_dohd(b, NJ_CH_OUT_NAT, NJ_SKUID_SET, NJ_SET_UIDS, false);
	local_out_filter(b);
	local_post(b);
}
