/*
 * rules.c - build the jail's table once, as a description: which sets,
 * which chains, and in them where each packet goes.
 *
 * rules_print.c writes the description as nft text (--print) and
 * rules_nftnl.c as libnftnl objects (the install batch); both write every
 * term through its one entry in rules_term.c, so the two outputs cannot
 * drift apart, and tests/unit/netjaild checks that nft reads the text back
 * to the same listing as the batch.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netfilter.h>

#include "addr.h"
#include "rules.h"
#include "rules_build.h"

#define NJ_PRIO_MANGLE	(-150)
#define NJ_PRIO_DSTNAT	(-100)
#define NJ_PRIO_FILTER	0

const struct nj_chain nj_chains[NJ_CH__MAX] = {
	[NJ_CH_PRE_MANGLE] = { "pre_mangle", "filter", NF_INET_PRE_ROUTING,
	    NJ_PRIO_MANGLE, "bridge: only TCP, DNS, ND and direct endpoints "
	    "enter; local users' marked TCP is handed to connectd by TPROXY" },
	[NJ_CH_PRE_NAT] = { "pre_nat", "nat", NF_INET_PRE_ROUTING,
	    NJ_PRIO_DSTNAT, "bridge: DNS to dohd, other TCP to connectd's "
	    "transparent listener, direct endpoints untouched" },
	[NJ_CH_IN_LISTENER] = { "in_listener", NULL, -1, 0,
	    "jailed DNS over UDP is delivered only to a socket that carries "
	    "the listener mark (dohd's), never to a squatter's" },
	[NJ_CH_LISTENER_SYNACK] = { "listener_synack", NULL, -1, 0,
	    "a jailed TCP handshake is answered only by a listener that "
	    "carries the listener mark (connectd's, dohd's): a squatter's "
	    "SYN-ACK is dropped" },
	[NJ_CH_OUT_LISTENER] = { "out_listener", "filter", NF_INET_LOCAL_OUT,
	    NJ_PRIO_FILTER, "listener squatting: SYN-ACKs from the jail's "
	    "listener ports to jailed sources are checked for the mark" },
	[NJ_CH_INPUT] = { "input", "filter", NF_INET_LOCAL_IN,
	    NJ_PRIO_FILTER, "bridge: the host is reachable only on the "
	    "jail's listener ports" },
	[NJ_CH_FORWARD] = { "forward", "filter", NF_INET_FORWARD,
	    NJ_PRIO_FILTER, "bridge: nothing is routed out but direct "
	    "endpoints, nothing in but replies and published ports" },
	[NJ_CH_OUT_ROUTE] = { "out_route", "route", NF_INET_LOCAL_OUT,
	    NJ_PRIO_MANGLE, "local users: mark TCP (and, by its ct mark, every "
	    "later packet of the flow) so policy routing loops it through lo "
	    "to the TPROXY rule" },
	[NJ_CH_OUT_NAT] = { "out_nat", "nat", NF_INET_LOCAL_OUT,
	    NJ_PRIO_DSTNAT, "local users: DNS to dohd" },
	[NJ_CH_OUT_UNOWNED] = { "out_unowned", NULL, -1, 0,
	    "local users: TCP that conntrack finds invalid leaves the host "
	    "only from a socket" },
	[NJ_CH_OUT_FILTER] = { "out_filter", "filter", NF_INET_LOCAL_OUT,
	    NJ_PRIO_FILTER, "owner-gating of hop and DoH addresses; local "
	    "users: everything not diverted is dropped" },
	[NJ_CH_POST_LOCAL] = { "post_local", NULL, -1, 0,
	    "local users: a jailed user's packet off lo passes only to a "
	    "direct endpoint" },
	[NJ_CH_POST_FILTER] = { "post_filter", "filter", NF_INET_POST_ROUTING,
	    NJ_PRIO_FILTER, "local users: by the device it really leaves by, "
	    "nothing but lo and direct endpoints, whatever routing did" },
};

const char *const nj_set_names[NJ_SET__MAX] = {
	"jailed_ifaces", "jailed_uids", "hops4", "hops6", "doh4", "doh6",
	"direct4", "direct6", "direct4_learned", "direct6_learned",
};
struct nj_rule *
rb_rule(struct nj_build *b, int chain)
{
	struct nj_ruleset *rs = b->rs;
	struct nj_rule *r;

	if (rs->nrules == rs->cap) {
		size_t ncap = rs->cap ? rs->cap * 2 : 64;
		struct nj_rule *n = reallocarray(rs->rules, ncap, sizeof(*n));

		if (n == NULL) {
			b->nomem = true;
			return rb_match(&b->spill, chain);
		}
		rs->rules = n;
		rs->cap = ncap;
	}
	r = &rs->rules[rs->nrules++];
	rs->chain_used[chain] = true;
	return rb_match(r, chain);
}

struct nj_rule *
rb_match(struct nj_rule *m, int chain)
{
	memset(m, 0, sizeof(*m));
	m->chain = chain;
	return m;
}

static struct nj_term *
term(struct nj_rule *r, enum nj_term_kind k)
{
	struct nj_term *t;

	/* The builders never write more terms than this. */
	if (r->n >= NJ_MAX_TERMS)
		abort();
	t = &r->t[r->n++];
	memset(t, 0, sizeof(*t));
	t->kind = k;
	return t;
}

void
rt_kind(struct nj_rule *r, enum nj_term_kind k)
{
	term(r, k);
}

void
rt_val(struct nj_rule *r, enum nj_term_kind k, uint32_t v)
{
	term(r, k)->val = v;
}

void
rt_val2(struct nj_rule *r, enum nj_term_kind k, uint32_t v, uint32_t v2)
{
	struct nj_term *t = term(r, k);

	t->val = v;
	t->val2 = v2;
}

void
rt_set(struct nj_rule *r, enum nj_term_kind k, int set)
{
	term(r, k)->set = set;
}

void
rt_str(struct nj_rule *r, enum nj_term_kind k, const char *s)
{
	struct nj_term *t = term(r, k);

	snprintf(t->str, sizeof(t->str), "%s", s);
}

void
rt_nfproto(struct nj_rule *r, int family)
{
	term(r, NJ_NFPROTO)->family = family;
}

void
rt_l4(struct nj_rule *r, int proto)
{
	term(r, NJ_L4PROTO)->proto = proto;
}

void
rt_port(struct nj_rule *r, enum nj_term_kind k, int proto, uint16_t port)
{
	struct nj_term *t = term(r, k);

	t->proto = proto;
	t->val = port;
}

void
rt_daddr(struct nj_rule *r, int family, const uint8_t *addr)
{
	struct nj_term *t = term(r, NJ_DADDR);

	t->family = family;
	t->has_addr = true;
	memcpy(t->addr, addr, family == NFPROTO_IPV4 ? 4 : 16);
}

void
rt_addrport(struct nj_rule *r, int family, int set)
{
	struct nj_term *t = term(r, NJ_ADDRPORT_SET);

	t->family = family;
	t->set = set;
}

void
rt_nat(struct nj_rule *r, enum nj_term_kind k, int family,
    const struct nj_target *tg)
{
	struct nj_term *t = term(r, k);

	t->family = family;
	t->val = tg->port;
	if (tg->has_addr) {
		t->has_addr = true;
		memcpy(t->addr, tg->addr, 16);
	}
}

void
rt_listener(struct nj_rule *r, int family, const struct nj_target *t,
    int proto)
{
	if (t->has_addr)
		rt_daddr(r, family, t->addr);
	else {
		rt_nfproto(r, family);
		rt_kind(r, NJ_FIB_LOCAL);
	}
	rt_port(r, NJ_DPORT, proto, t->port);
}

void
rt_listener_src(struct nj_rule *r, const struct nj_target *t, int proto)
{
	struct nj_term *a;

	if (t->has_addr) {
		a = term(r, NJ_SADDR);
		a->family = t->family;
		memcpy(a->addr, t->addr, 16);
	} else
		rt_nfproto(r, t->family);
	rt_port(r, NJ_SPORT, proto, t->port);
}

/*
 * The limit cannot sit in the drop rule itself: over the rate the rule
 * would stop matching and the packet would fall through to the accept
 * policy.
 */
void
rb_drop(struct nj_build *b, const struct nj_rule *match, const char *tag,
    bool reject)
{
	rb_drop_wl(b, match, tag, NULL, reject);
}

/*
 * The same, the workload's name after the tag in the comment (status
 * counts each workload's drops by it); the log prefix stays the tag's,
 * which a name of 32 bytes would not fit.
 */
void
rb_drop_wl(struct nj_build *b, const struct nj_rule *match, const char *tag,
    const char *wl, bool reject)
{
	struct nj_rule *r;
	char prefix[48];

	snprintf(prefix, sizeof(prefix), "egressjail drop %s: ", tag);
	r = rb_rule(b, match->chain);
	*r = *match;
	rt_val(r, NJ_LIMIT, NJ_LOG_RATE);
	rt_str(r, NJ_LOG, prefix);
	r = rb_rule(b, match->chain);
	*r = *match;
	rt_kind(r, NJ_COUNTER);
	rt_kind(r, reject ? NJ_REJECT : NJ_DROP);
	if (wl != NULL)
		snprintf(r->comment, sizeof(r->comment), "%s %s", tag, wl);
	else
		snprintf(r->comment, sizeof(r->comment), "%s", tag);
}

/*
 * The ct mark bit of a flow accepted as direct: the lowest bit above the
 * fwmark's lowest one that the fwmark does not use (0x2 for the default
 * 0x1), so it never meets the bits that divert a local user's flow.  0
 * when the fwmark takes all 32 bits: direct flows then end with their
 * set element, as they did before.
 */
uint32_t
rules_direct_bit(uint32_t fwmark)
{
	uint32_t bit;
	int lo, i;

	if (fwmark == 0)
		return 0;
	lo = __builtin_ctz(fwmark);
	for (i = 1; i < 32; i++) {
		bit = 1u << ((lo + i) % 32);
		if (!(fwmark & bit))
			return bit;
	}
	return 0;
}

/*
 * Direct endpoints pass: one rule for the configured ones (interval set)
 * and one for those learned from dohd (hash set), per family, each behind
 * the same match on who sends (iifname @jailed_ifaces or meta skuid
 * @jailed_uids).  An address in neither set meets the chain's later rules.
 *
 * With RB_DIRECT_FLOWS*, the flow outlives the set element that let it
 * start (a learned one expires with its DNS answer's TTL): the chain
 * where its first packet is finally accepted (RB_DIRECT_FLOWS_MARK) sets
 * the direct bit in its ct mark, and an established flow of `who` with
 * that bit passes in the original direction.  That opens nothing: the
 * first packet of a flow is never "established", so it met the set rules
 * here (and was dropped by the chain's last rules unless they matched); a
 * connection open before the jail does not carry the bit, which only
 * these rules set.  A new connection to the address needs the element
 * again.  Without a free bit (dbit 0) only the accepts are written.
 */
void
rb_direct(struct nj_build *b, int chain, enum nj_term_kind who, int whoset,
    enum rb_direct mode)
{
	static const struct { int family, set; } d[] = {
		{ NFPROTO_IPV4, NJ_SET_DIRECT4 },
		{ NFPROTO_IPV4, NJ_SET_DIRECT4_LEARNED },
		{ NFPROTO_IPV6, NJ_SET_DIRECT6 },
		{ NFPROTO_IPV6, NJ_SET_DIRECT6_LEARNED },
	};
	uint32_t dbit = mode == RB_DIRECT_ACCEPT ? 0 : b->dbit;
	struct nj_rule *r;
	size_t i;

	for (i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		if (d[i].family == NFPROTO_IPV6 && !b->v6)
			continue;
		r = rb_rule(b, chain);
		rt_set(r, who, whoset);
		rt_addrport(r, d[i].family, d[i].set);
		if (dbit != 0 && mode == RB_DIRECT_FLOWS_MARK)
			rt_val(r, NJ_CTMARK_OR, dbit);
		rt_kind(r, NJ_ACCEPT);
	}
	/* each workload's own, for its own sources (rules_wl_direct.c) */
	rules_wl_direct(b, chain, who, mode == RB_DIRECT_FLOWS_MARK ? dbit : 0);
	if (dbit == 0)
		return;
	r = rb_rule(b, chain);
	rt_set(r, who, whoset);
	rt_kind(r, NJ_CT_ORIGINAL);
	/*
	 * Established only: a related flow (a conntrack helper's
	 * expectation) inherits its master's ct mark, and would start a
	 * connection no direct set admitted.
	 */
	rt_kind(r, NJ_CT_EST);
	rt_val(r, NJ_CTMARK_HAS, dbit);
	rt_kind(r, NJ_ACCEPT);
}

/*
 * Port 53, UDP and TCP, of `who` in `whoset` to dohd: a DNAT to its
 * address, or a redirect to its port on the address the packet came to
 * when dohd listens on a wildcard.  IPv6 has no route_localnet, so from a
 * bridge (from_bridge) an IPv6 loopback address is no target either and
 * the redirect is used; a local user reaches ::1.
 */
void
rb_dns_to_dohd(struct nj_build *b, int chain, enum nj_term_kind who,
    int whoset, bool from_bridge)
{
	static const int protos[2] = { IPPROTO_UDP, IPPROTO_TCP };
	const struct nj_target *dns4 = &b->dns4, *dns6 = &b->dns6;
	struct nj_rule *r;
	int p;

	for (p = 0; p < 2 && dns4->present; p++) {
		r = rb_rule(b, chain);
		rt_set(r, who, whoset);
		if (dns4->has_addr) {
			rt_port(r, NJ_DPORT, protos[p], 53);
			rt_nat(r, NJ_DNAT, NFPROTO_IPV4, dns4);
		} else {
			rt_nfproto(r, NFPROTO_IPV4);
			rt_port(r, NJ_DPORT, protos[p], 53);
			rt_nat(r, NJ_REDIRECT, 0, dns4);
		}
		if (!b->v6)
			continue;
		r = rb_rule(b, chain);
		rt_set(r, who, whoset);
		rt_nfproto(r, NFPROTO_IPV6);
		rt_port(r, NJ_DPORT, protos[p], 53);
		if (dns6->has_addr && !(from_bridge && dns6->loopback))
			rt_nat(r, NJ_DNAT, NFPROTO_IPV6, dns6);
		else
			rt_nat(r, NJ_REDIRECT, 0, dns6);
	}
}

/* Append port to a small list unless it is there (or 0). */
static void
port_once(uint16_t *ports, size_t *n, size_t cap, uint16_t port)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (ports[i] == port)
			return;
	if (port != 0 && *n < cap)
		ports[(*n)++] = port;
}

/*
 * Listener squatting.  The listener ports are unprivileged: while connectd
 * or dohd is down any local user can bind one and would receive the jail's
 * traffic, original destinations included.  connectd and dohd give their
 * jail-facing listeners SO_MARK = [jail] listener_mark (CAP_NET_ADMIN or
 * CAP_NET_RAW, so no unprivileged user can), and the jail lets only such a
 * socket take jailed traffic:
 *   - TCP: the listener's SYN-ACK carries the listener's mark (measured),
 *     so out_listener drops the SYN-ACK of any other listener to a jailed
 *     source (listener_synack): no handshake, no connection, no byte.  Not
 *     checked on the SYN in input: there nft's socket lookup finds a
 *     TIME_WAIT socket of an earlier connection on the same four-tuple
 *     (no mark to read) before the listener, and refused those (measured:
 *     every new connection once the port range wrapped, at ~4000/s).  The
 *     SYN-ACK check covers bridge TCP after DNAT/redirect, DNS over TCP,
 *     the explicit proxy and a local user's TPROXYed TCP (its flow's ct
 *     mark), on lo only for the listeners' own addresses (lo also carries
 *     the host's own services);
 *   - UDP (DNS): every packet in the original direction meets the
 *     receiving socket's mark in in_listener, since a UDP flow conntrack
 *     knows as established goes on to whichever socket holds the port now
 *     (measured: a squatter received it).  Checked before "ct state
 *     established" accepts; no socket fails too.
 * The two regular chains come first; then the jumps to them.
 */
static void
guard_chains(struct nj_build *b)
{
	uint32_t lmark = b->cfg->jail.listener_mark;
	struct nj_rule *r, m;

	r = rb_rule(b, NJ_CH_IN_LISTENER);
	rt_val(r, NJ_SOCKET_MARK, lmark);
	rt_kind(r, NJ_RETURN);
	rb_drop(b, rb_match(&m, NJ_CH_IN_LISTENER), "listener unmarked",
	    true);
	r = rb_rule(b, NJ_CH_LISTENER_SYNACK);
	rt_val(r, NJ_MARK, lmark);
	rt_kind(r, NJ_RETURN);
	rb_drop(b, rb_match(&m, NJ_CH_LISTENER_SYNACK),
	    "listener synack unmarked", false);
}

/* Bridges: every listener port, TCP and UDP, by the jailed interfaces. */
static void
guard_bridge(struct nj_build *b)
{
	const char *udp = nj_chains[NJ_CH_IN_LISTENER].name;
	const char *syn = nj_chains[NJ_CH_LISTENER_SYNACK].name;
	const struct nj_target *dns[2] = { &b->dns4, &b->dns6 };
	uint16_t tports[20], uports[2];
	size_t nt = 0, nu = 0, i;
	struct nj_rule *r;

	for (i = 0; i < 2; i++)
		if (dns[i]->present) {
			port_once(tports, &nt, 20, dns[i]->port);
			port_once(uports, &nu, 2, dns[i]->port);
		}
	if (b->tp4.present) {
		port_once(tports, &nt, 20, b->tp4.port);
		port_once(tports, &nt, 20, b->tp6.port);
	}
	for (i = 0; i < b->npports; i++)
		port_once(tports, &nt, 20, b->pports[i]);
	for (i = 0; i < nt; i++) {
		r = rb_rule(b, NJ_CH_OUT_LISTENER);
		rt_set(r, NJ_OIF_SET, NJ_SET_IFACES);
		rt_port(r, NJ_SPORT, IPPROTO_TCP, tports[i]);
		rt_kind(r, NJ_SYNACK);
		rt_str(r, NJ_JUMP, syn);
	}
	for (i = 0; i < nu; i++) {
		r = rb_rule(b, NJ_CH_INPUT);
		rt_set(r, NJ_IIF_SET, NJ_SET_IFACES);
		rt_kind(r, NJ_CT_ORIGINAL);
		rt_port(r, NJ_DPORT, IPPROTO_UDP, uports[i]);
		rt_str(r, NJ_JUMP, udp);
	}
	rules_wl_guard(b);
}

/* Local users: on lo, only the listeners' own addresses (and TPROXY). */
static void
guard_local(struct nj_build *b)
{
	const char *udp = nj_chains[NJ_CH_IN_LISTENER].name;
	const char *syn = nj_chains[NJ_CH_LISTENER_SYNACK].name;
	const struct nj_target *dns[2] = { &b->dns4, &b->dns6 };
	struct nj_rule *r;
	size_t i;

	if (b->tp4.present) {
		r = rb_rule(b, NJ_CH_OUT_LISTENER);
		rt_str(r, NJ_OIF_NAME, "lo");
		rt_kind(r, NJ_CT_REPLY);
		rt_val(r, NJ_CTMARK_HAS, b->mark);
		rt_kind(r, NJ_SYNACK);
		rt_str(r, NJ_JUMP, syn);
	}
	for (i = 0; i < 2; i++) {
		if (!dns[i]->present ||
		    (dns[i]->family == NFPROTO_IPV6 && !b->v6))
			continue;
		r = rb_rule(b, NJ_CH_INPUT);
		rt_str(r, NJ_IIF_NAME, "lo");
		rt_kind(r, NJ_CT_ORIGINAL);
		rt_listener(r, dns[i]->family, dns[i], IPPROTO_UDP);
		rt_str(r, NJ_JUMP, udp);
		r = rb_rule(b, NJ_CH_OUT_LISTENER);
		rt_str(r, NJ_OIF_NAME, "lo");
		rt_listener_src(r, dns[i], IPPROTO_TCP);
		rt_kind(r, NJ_SYNACK);
		rt_str(r, NJ_JUMP, syn);
	}
	for (i = 0; i < b->npx; i++) {
		if (b->px[i].family == NFPROTO_IPV6 && !b->v6)
			continue;
		r = rb_rule(b, NJ_CH_OUT_LISTENER);
		rt_str(r, NJ_OIF_NAME, "lo");
		rt_listener_src(r, &b->px[i], IPPROTO_TCP);
		rt_kind(r, NJ_SYNACK);
		rt_str(r, NJ_JUMP, syn);
	}
	rules_wl_local_guard(b);
}

/* Owner gates: only connectd's uid reaches the hops, dohd's the DoH servers. */
static void
build_gates(struct nj_build *b)
{
	static const struct { int set; int fam; bool dns; const char *tag; }
	    g[] = {
		{ NJ_SET_HOPS4, NFPROTO_IPV4, false, "owner hops" },
		{ NJ_SET_HOPS6, NFPROTO_IPV6, false, "owner hops6" },
		{ NJ_SET_DOH4, NFPROTO_IPV4, true, "owner doh" },
		{ NJ_SET_DOH6, NFPROTO_IPV6, true, "owner doh6" },
	};
	struct nj_rule m;
	size_t i;

	for (i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
		rb_match(&m, NJ_CH_OUT_FILTER);
		rt_addrport(&m, g[i].fam, g[i].set);
		rt_val(&m, NJ_SKUID_NE, g[i].dns ? b->cfg->dohd.user.uid :
		    b->cfg->connectd.user.uid);
		rb_drop(b, &m, g[i].tag, true);
	}
}

static bool
ip_is_any(const struct eg_ip *ip)
{
	static const uint8_t zero[16];

	return memcmp(ip->addr, zero, ip->family == AF_INET ? 4 : 16) == 0;
}

static bool
ip_is_loopback(const struct eg_ip *ip)
{
	static const uint8_t v6lo[16] = { [15] = 1 };

	if (ip->family == AF_INET)
		return ip->addr[0] == 127;
	return memcmp(ip->addr, v6lo, 16) == 0;
}

/*
 * Targets for one listener list: per family the first address of that
 * family, or, failing one, the port alone (redirect / tproxy to the
 * interface's address) so the family still goes to a listener or fails
 * closed.
 */
static int
targets(char *const *list, size_t n, struct nj_target *t4,
    struct nj_target *t6, const char *what, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct eg_ip ip;
	uint16_t port, first = 0;
	char why[EG_ERR_MAX];
	struct nj_target *t;
	size_t i;

	memset(t4, 0, sizeof(*t4));
	memset(t6, 0, sizeof(*t6));
	for (i = 0; i < n; i++) {
		why[0] = '\0';
		if (!eg_sockaddr_parse(list[i], &ss, &sl, why) ||
		    !eg_ip_from_sockaddr((struct sockaddr *)&ss, &ip, &port)) {
			snprintf(err, errlen, "%s \"%s\": %s", what, list[i],
			    why);
			return -1;
		}
		if (first == 0)
			first = port;
		t = ip.family == AF_INET ? t4 : t6;
		if (t->present)
			continue;
		t->present = true;
		t->family = ip.family == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6;
		t->port = port;
		t->loopback = ip_is_loopback(&ip);
		if (!ip_is_any(&ip)) {
			t->has_addr = true;
			memcpy(t->addr, ip.addr, 16);
		}
	}
	if (first == 0)
		return 0;
	if (!t4->present) {
		t4->present = true;
		t4->family = NFPROTO_IPV4;
		t4->port = first;
	}
	if (!t6->present) {
		t6->present = true;
		t6->family = NFPROTO_IPV6;
		t6->port = first;
	}
	return 0;
}

/*
 * The listeners the rules send jailed traffic to: dohd's, connectd's
 * transparent one, and each explicit proxy listener in its own family
 * (the other family's target is only the fallback targets() fills in).
 */
static int
build_targets(struct nj_build *b, char *err, size_t errlen)
{
	const struct eg_config *cfg = b->cfg;
	struct sockaddr_storage ss;
	socklen_t sl;
	struct nj_target t4, t6;
	char *tl[1];
	size_t i;

	if (targets(cfg->dohd.listen, cfg->dohd.nlisten, &b->dns4, &b->dns6,
	    "[dohd] listen", err, errlen) == -1)
		return -1;
	tl[0] = cfg->connectd.transparent_listen;
	if (targets(tl, tl[0] ? 1 : 0, &b->tp4, &b->tp6,
	    "[connectd] transparent_listen", err, errlen) == -1)
		return -1;
	for (i = 0; i < cfg->connectd.nproxy_listen && i < NJ_MAX_PROXY;
	    i++) {
		tl[0] = cfg->connectd.proxy_listen[i];
		if (targets(tl, 1, &t4, &t6, "[connectd] proxy_listen", err,
		    errlen) == -1)
			return -1;
		b->px[b->npx++] = eg_sockaddr_parse(tl[0], &ss, &sl, NULL) &&
		    ss.ss_family == AF_INET6 ? t6 : t4;
		port_once(b->pports, &b->npports, NJ_MAX_PROXY, t4.port);
	}
	return 0;
}

struct nj_ruleset *
rules_build(const struct eg_config *cfg, char *err, size_t errlen)
{
	return rules_build_with(cfg, NULL, err, errlen);
}

struct nj_ruleset *
rules_build_with(const struct eg_config *cfg, const struct nj_wlregs *wl,
    char *err, size_t errlen)
{
	struct nj_ruleset *rs;
	struct nj_build *b;

	rs = calloc(1, sizeof(*rs));
	b = calloc(1, sizeof(*b));
	if (rs == NULL || b == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	rs->chains = nj_chains;
	rs->mark = cfg->jail.fwmark;
	rs->route_table = cfg->jail.route_table;
	b->rs = rs;
	b->cfg = cfg;
	b->v6 = cfg->jail.ipv6 == EG_IPV6_JAIL;
	b->mark = cfg->jail.fwmark;
	b->dbit = rules_direct_bit(cfg->jail.fwmark);
	b->wl = wl;
	b->wlfield = rules_wl_field(b->mark, b->dbit, &b->wlshift);
	if (rules_sets_fill(rs, cfg, err, errlen) == -1 ||
	    build_targets(b, err, errlen) == -1 ||
	    rules_wl_check(b, err, errlen) == -1 ||
	    rules_wl_direct_check(b, err, errlen) == -1)
		goto fail;

	/* first: its input rules come before any accept there */
	guard_chains(b);
	if (cfg->jail.ninterfaces > 0)
		guard_bridge(b);
	if (cfg->jail.nusers > 0)
		guard_local(b);
	if (cfg->jail.ninterfaces > 0)
		rules_build_bridge(b);
	build_gates(b);
	if (cfg->jail.nusers > 0)
		rules_build_local(b);
	if (b->nomem) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	free(b);
	return rs;
fail:
	free(b);
	rules_free(rs);
	return NULL;
}

void
rules_free(struct nj_ruleset *rs)
{
	size_t i;

	if (rs == NULL)
		return;
	for (i = 0; i < NJ_SET__MAX; i++)
		free(rs->sets[i].elems);
	free(rs->rules);
	free(rs);
}

size_t
rules_count(const struct nj_ruleset *rs, int chain)
{
	size_t i, n = 0;

	for (i = 0; i < rs->nrules; i++)
		if (rs->rules[i].chain == chain)
			n++;
	return n;
}
