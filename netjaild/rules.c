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
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netfilter.h>

#include "addr.h"
#include "rules.h"

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

/* A listener as a NAT/TPROXY target for one family. */
struct nj_target {
	bool present;
	int family;		/* NFPROTO_IPV4 / NFPROTO_IPV6 */
	bool has_addr;		/* false: redirect / tproxy to the port only */
	bool loopback;
	uint8_t addr[16];
	uint16_t port;
};

int
rules_set_family(int set)
{
	switch (set) {
	case NJ_SET_HOPS4: case NJ_SET_DOH4: case NJ_SET_DIRECT4:
	case NJ_SET_DIRECT4_LEARNED:
		return AF_INET;
	case NJ_SET_HOPS6: case NJ_SET_DOH6: case NJ_SET_DIRECT6:
	case NJ_SET_DIRECT6_LEARNED:
		return AF_INET6;
	}
	return 0;
}

int
rules_set_configured(int set)
{
	switch (set) {
	case NJ_SET_DIRECT4_LEARNED: return NJ_SET_DIRECT4;
	case NJ_SET_DIRECT6_LEARNED: return NJ_SET_DIRECT6;
	}
	return set;
}

static int
set_append(struct nj_set *s, const struct nj_elem *e)
{
	if (s->nelems == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 8;
		struct nj_elem *n = reallocarray(s->elems, ncap, sizeof(*n));
		if (n == NULL)
			return -1;
		s->elems = n;
		s->cap = ncap;
	}
	s->elems[s->nelems++] = *e;
	return 0;
}

int
rules_set_add(struct nj_set *s, const struct nj_elem *e)
{
	size_t i;

	for (i = 0; i < s->nelems; i++)
		if (memcmp(&s->elems[i], e, sizeof(*e)) == 0)
			return 0;	/* the config may repeat itself */
	return set_append(s, e);
}

/*
 * Drop repeated elements from a set filled by set_append(), keeping the
 * first of each in its place: O(n log n), where rules_set_add() one by one
 * would be quadratic (10,000 direct endpoints took ~100-400 ms that way).
 */
static int
dedup_cmp(const void *a, const void *b)
{
	const struct nj_elem *x = *(const struct nj_elem *const *)a;
	const struct nj_elem *y = *(const struct nj_elem *const *)b;
	int c = memcmp(x, y, sizeof(*x));

	if (c != 0)
		return c;
	return x < y ? -1 : x > y;	/* same array: keeps the first first */
}

static int
set_dedup(struct nj_set *s)
{
	const struct nj_elem **p;
	size_t i, n;
	bool *dup;

	if (s->nelems < 2)
		return 0;
	p = calloc(s->nelems, sizeof(*p));
	dup = calloc(s->nelems, sizeof(*dup));
	if (p == NULL || dup == NULL) {
		free(p);
		free(dup);
		return -1;
	}
	for (i = 0; i < s->nelems; i++)
		p[i] = &s->elems[i];
	qsort(p, s->nelems, sizeof(*p), dedup_cmp);
	for (i = 1; i < s->nelems; i++)
		if (memcmp(p[i - 1], p[i], sizeof(*p[i])) == 0)
			dup[p[i] - s->elems] = true;	/* a later copy */
	for (i = n = 0; i < s->nelems; i++)
		if (!dup[i])
			s->elems[n++] = s->elems[i];
	s->nelems = n;
	free(p);
	free(dup);
	return 0;
}

int
rules_set_covers(const struct nj_set *s, const struct nj_elem *e)
{
	size_t i, alen = s->key == NJ_KEY_V4PORT ? 4 : 16;

	if (s->key != NJ_KEY_V4PORT && s->key != NJ_KEY_V6PORT)
		return 0;
	for (i = 0; i < s->nelems; i++) {
		const struct nj_elem *c = &s->elems[i];

		if (c->port == e->port && memcmp(c->lo, e->lo, alen) <= 0 &&
		    memcmp(e->hi, c->hi, alen) <= 0)
			return 1;
	}
	return 0;
}

void
rules_elem_addr(struct nj_elem *e, int family, const uint8_t *addr, int plen,
    uint16_t port)
{
	int alen = family == AF_INET ? 4 : 16, i;

	memset(e, 0, sizeof(*e));
	memcpy(e->lo, addr, alen);
	memcpy(e->hi, addr, alen);
	if (plen < 0 || plen > alen * 8)
		plen = alen * 8;
	for (i = 0; i < alen * 8; i++) {
		if (i < plen)
			continue;
		e->lo[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
		e->hi[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	}
	e->plen = (uint8_t)plen;
	e->port = port;
}

static struct nj_rule *
rule_new(struct nj_ruleset *rs, int chain)
{
	struct nj_rule *r;

	if (rs->nrules == rs->cap) {
		size_t ncap = rs->cap ? rs->cap * 2 : 64;
		struct nj_rule *n = reallocarray(rs->rules, ncap, sizeof(*n));
		if (n == NULL)
			return NULL;
		rs->rules = n;
		rs->cap = ncap;
	}
	r = &rs->rules[rs->nrules++];
	memset(r, 0, sizeof(*r));
	r->chain = chain;
	rs->chain_used[chain] = true;
	return r;
}

static struct nj_term *
term(struct nj_rule *r, enum nj_term_kind k)
{
	struct nj_term *t;

	/* The builder below never writes more terms than this. */
	if (r->n >= NJ_MAX_TERMS)
		abort();
	t = &r->t[r->n++];
	memset(t, 0, sizeof(*t));
	t->kind = k;
	return t;
}

/* Small constructors; each returns the rule so calls can chain. */
static void
m_simple(struct nj_rule *r, enum nj_term_kind k)
{
	term(r, k);
}

static void
m_val(struct nj_rule *r, enum nj_term_kind k, uint32_t v)
{
	term(r, k)->val = v;
}

static void
m_nfproto(struct nj_rule *r, int family)
{
	term(r, NJ_NFPROTO)->family = family;
}

static void
m_l4(struct nj_rule *r, int proto)
{
	term(r, NJ_L4PROTO)->proto = proto;
}

static void
m_dport(struct nj_rule *r, enum nj_term_kind k, int proto, uint16_t port)
{
	struct nj_term *t = term(r, k);

	t->proto = proto;
	t->val = port;
}

static void
m_daddr(struct nj_rule *r, int family, const uint8_t *addr)
{
	struct nj_term *t = term(r, NJ_DADDR);

	t->family = family;
	t->has_addr = true;
	memcpy(t->addr, addr, family == NFPROTO_IPV4 ? 4 : 16);
}

static void
m_addrport(struct nj_rule *r, int family, int set)
{
	struct nj_term *t = term(r, NJ_ADDRPORT_SET);

	t->family = family;
	t->set = set;
}

static void
m_set(struct nj_rule *r, enum nj_term_kind k, int set)
{
	term(r, k)->set = set;
}

static void
m_str(struct nj_rule *r, enum nj_term_kind k, const char *s)
{
	struct nj_term *t = term(r, k);

	snprintf(t->str, sizeof(t->str), "%s", s);
}

static void
m_nat(struct nj_rule *r, enum nj_term_kind k, int family,
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

/*
 * A counted drop: one rule that logs (rate-limited) and goes on, then the
 * same match with counter and verdict.  The limit cannot sit in the drop
 * rule itself: over the rate the rule would stop matching and the packet
 * would fall through to the accept policy.
 */
static int
drop_pair(struct nj_ruleset *rs, const struct nj_rule *match, const char *tag,
    bool reject)
{
	struct nj_rule *r;
	char prefix[48];

	snprintf(prefix, sizeof(prefix), "egressjail drop %s: ", tag);
	if ((r = rule_new(rs, match->chain)) == NULL)
		return -1;
	*r = *match;
	m_val(r, NJ_LIMIT, NJ_LOG_RATE);
	m_str(r, NJ_LOG, prefix);
	if ((r = rule_new(rs, match->chain)) == NULL)
		return -1;
	*r = *match;
	m_simple(r, NJ_COUNTER);
	m_simple(r, reject ? NJ_REJECT : NJ_DROP);
	snprintf(r->comment, sizeof(r->comment), "%s", tag);
	return 0;
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

/* A listener accepted from a jailed source: by address, or any local one. */
static void
m_listener(struct nj_rule *r, int family, const struct nj_target *t,
    int proto)
{
	if (t->has_addr)
		m_daddr(r, family, t->addr);
	else {
		m_nfproto(r, family);
		m_simple(r, NJ_FIB_LOCAL);
	}
	m_dport(r, NJ_DPORT, proto, t->port);
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
	uint32_t b;
	int lo, i;

	if (fwmark == 0)
		return 0;
	lo = __builtin_ctz(fwmark);
	for (i = 1; i < 32; i++) {
		b = 1u << ((lo + i) % 32);
		if (!(fwmark & b))
			return b;
	}
	return 0;
}

/*
 * Direct endpoints pass: one rule for the configured ones (interval set)
 * and one for those learned from dohd (hash set), per family, each behind
 * the same match on who sends (iifname @jailed_ifaces or meta skuid
 * @jailed_uids).  An address in neither set meets the chain's later rules.
 *
 * With dbit, the flow outlives the set element that let it start (a
 * learned one expires with its DNS answer's TTL): the chain where its
 * first packet is finally accepted (mark) sets dbit in its ct mark, and
 * an established flow of `who` with that bit passes in the original
 * direction.  That opens nothing: the first packet of a flow is never
 * "established", so it met the set rules here (and was dropped by the
 * chain's last rules unless they matched); a connection open before the
 * jail does not carry the bit, which only these rules set.  A new
 * connection to the address needs the element again.
 */
static int
direct_accepts(struct nj_ruleset *rs, int chain, enum nj_term_kind who,
    int whoset, bool v6, uint32_t dbit, bool mark)
{
	static const struct { int family, set; } d[] = {
		{ NFPROTO_IPV4, NJ_SET_DIRECT4 },
		{ NFPROTO_IPV4, NJ_SET_DIRECT4_LEARNED },
		{ NFPROTO_IPV6, NJ_SET_DIRECT6 },
		{ NFPROTO_IPV6, NJ_SET_DIRECT6_LEARNED },
	};
	struct nj_rule *r;
	size_t i;

	for (i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		if (d[i].family == NFPROTO_IPV6 && !v6)
			continue;
		if ((r = rule_new(rs, chain)) == NULL)
			return -1;
		m_set(r, who, whoset);
		m_addrport(r, d[i].family, d[i].set);
		if (dbit != 0 && mark)
			m_val(r, NJ_CTMARK_OR, dbit);
		m_simple(r, NJ_ACCEPT);
	}
	if (dbit == 0)
		return 0;
	if ((r = rule_new(rs, chain)) == NULL)
		return -1;
	m_set(r, who, whoset);
	m_simple(r, NJ_CT_ORIGINAL);
	/*
	 * Established only: a related flow (a conntrack helper's
	 * expectation) inherits its master's ct mark, and would start a
	 * connection no direct set admitted.
	 */
	m_simple(r, NJ_CT_EST);
	m_val(r, NJ_CTMARK_HAS, dbit);
	m_simple(r, NJ_ACCEPT);
	return 0;
}

/*
 * Port 53, UDP and TCP, of `who` in `whoset` to dohd: a DNAT to its
 * address, or a redirect to its port on the address the packet came to
 * when dohd listens on a wildcard.  IPv6 has no route_localnet, so from a
 * bridge (from_bridge) an IPv6 loopback address is no target either and
 * the redirect is used; a local user reaches ::1.
 */
static int
dns_to_dohd(struct nj_ruleset *rs, int chain, enum nj_term_kind who,
    int whoset, const struct nj_target *dns4, const struct nj_target *dns6,
    bool v6, bool from_bridge)
{
	static const int protos[2] = { IPPROTO_UDP, IPPROTO_TCP };
	struct nj_rule *r;
	int p;

	for (p = 0; p < 2 && dns4->present; p++) {
		if ((r = rule_new(rs, chain)) == NULL)
			return -1;
		m_set(r, who, whoset);
		if (dns4->has_addr) {
			m_dport(r, NJ_DPORT, protos[p], 53);
			m_nat(r, NJ_DNAT, NFPROTO_IPV4, dns4);
		} else {
			m_nfproto(r, NFPROTO_IPV4);
			m_dport(r, NJ_DPORT, protos[p], 53);
			m_nat(r, NJ_REDIRECT, 0, dns4);
		}
		if (!v6)
			continue;
		if ((r = rule_new(rs, chain)) == NULL)
			return -1;
		m_set(r, who, whoset);
		m_nfproto(r, NFPROTO_IPV6);
		m_dport(r, NJ_DPORT, protos[p], 53);
		if (dns6->has_addr && !(from_bridge && dns6->loopback))
			m_nat(r, NJ_DNAT, NFPROTO_IPV6, dns6);
		else
			m_nat(r, NJ_REDIRECT, 0, dns6);
	}
	return 0;
}

#define NEW(ch) do { if ((r = rule_new(rs, (ch))) == NULL) goto nomem; } while (0)
#define DROP(m, tag, rej) do { if (drop_pair(rs, (m), (tag), (rej)) == -1) goto nomem; } while (0)
#define DIRECT(ch, who, whoset) do { if (direct_accepts(rs, (ch), (who), (whoset), v6, 0, false) == -1) goto nomem; } while (0)
/* ...and established direct flows pass by their ct mark; mark: set it */
#define DIRECT_EST(ch, who, whoset, mark) do { if (direct_accepts(rs, (ch), (who), (whoset), v6, rules_direct_bit(cfg->jail.fwmark), (mark)) == -1) goto nomem; } while (0)

static const uint8_t nd_types[] = { 133, 135, 136 };

/*
 * inbound = published: a connection the host DNATs to a jailed bridge (a
 * published port, docker run -p) is forwarded in (!replies: after the
 * "bridge forward" drop, so nothing a jailed source starts can match), and
 * the workload's answers on it go back out (replies: before that drop,
 * only in the reply direction of a DNATed flow, which a jailed source
 * cannot open).  Routed inbound without a DNAT stays dropped.
 */
static int
forward_published(struct nj_ruleset *rs, const struct eg_config *cfg,
    bool replies)
{
	struct nj_rule *r;

	if (cfg->jail.inbound != EG_INBOUND_PUBLISHED)
		return 0;
	if ((r = rule_new(rs, NJ_CH_FORWARD)) == NULL)
		return -1;
	m_set(r, replies ? NJ_IIF_SET : NJ_OIF_SET, NJ_SET_IFACES);
	if (replies)
		m_simple(r, NJ_CT_REPLY);
	m_simple(r, NJ_CT_DNAT);
	m_simple(r, NJ_ACCEPT);
	return 0;
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

/* A listener as the source of its answers: its address (or family), port. */
static void
m_listener_src(struct nj_rule *r, const struct nj_target *t, int proto)
{
	struct nj_term *a;

	if (t->has_addr) {
		a = term(r, NJ_SADDR);
		a->family = t->family;
		memcpy(a->addr, t->addr, 16);
	} else
		m_nfproto(r, t->family);
	a = term(r, NJ_SPORT);
	a->proto = proto;
	a->val = t->port;
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
 */
static int
build_listener_guard(struct nj_ruleset *rs, const struct eg_config *cfg,
    const struct nj_target *dns4, const struct nj_target *dns6,
    const struct nj_target *tp4, const struct nj_target *tp6,
    const uint16_t *pports, size_t npports, const struct nj_target *px,
    size_t npx)
{
	bool v6 = cfg->jail.ipv6 == EG_IPV6_JAIL;
	const char *udp = nj_chains[NJ_CH_IN_LISTENER].name;
	const char *syn = nj_chains[NJ_CH_LISTENER_SYNACK].name;
	const struct nj_target *dns[2] = { dns4, dns6 };
	uint16_t tports[20], uports[2];
	size_t nt = 0, nu = 0, i;
	struct nj_rule *r, m;

	NEW(NJ_CH_IN_LISTENER);
	m_val(r, NJ_SOCKET_MARK, cfg->jail.listener_mark);
	m_simple(r, NJ_RETURN);
	memset(&m, 0, sizeof(m));
	m.chain = NJ_CH_IN_LISTENER;
	DROP(&m, "listener unmarked", true);
	NEW(NJ_CH_LISTENER_SYNACK);
	m_val(r, NJ_MARK, cfg->jail.listener_mark);
	m_simple(r, NJ_RETURN);
	memset(&m, 0, sizeof(m));
	m.chain = NJ_CH_LISTENER_SYNACK;
	DROP(&m, "listener synack unmarked", false);

	if (cfg->jail.ninterfaces > 0) {
		for (i = 0; i < 2; i++)
			if (dns[i]->present) {
				port_once(tports, &nt, 20, dns[i]->port);
				port_once(uports, &nu, 2, dns[i]->port);
			}
		if (tp4->present) {
			port_once(tports, &nt, 20, tp4->port);
			port_once(tports, &nt, 20, tp6->port);
		}
		for (i = 0; i < npports; i++)
			port_once(tports, &nt, 20, pports[i]);
		for (i = 0; i < nt; i++) {
			NEW(NJ_CH_OUT_LISTENER);
			m_set(r, NJ_OIF_SET, NJ_SET_IFACES);
			m_dport(r, NJ_SPORT, IPPROTO_TCP, tports[i]);
			m_simple(r, NJ_SYNACK);
			m_str(r, NJ_JUMP, syn);
		}
		for (i = 0; i < nu; i++) {
			NEW(NJ_CH_INPUT);
			m_set(r, NJ_IIF_SET, NJ_SET_IFACES);
			m_simple(r, NJ_CT_ORIGINAL);
			m_dport(r, NJ_DPORT, IPPROTO_UDP, uports[i]);
			m_str(r, NJ_JUMP, udp);
		}
	}
	if (cfg->jail.nusers == 0)
		return 0;
	if (tp4->present) {
		NEW(NJ_CH_OUT_LISTENER);
		m_str(r, NJ_OIF_NAME, "lo");
		m_simple(r, NJ_CT_REPLY);
		m_val(r, NJ_CTMARK_HAS, cfg->jail.fwmark);
		m_simple(r, NJ_SYNACK);
		m_str(r, NJ_JUMP, syn);
	}
	for (i = 0; i < 2; i++) {
		if (!dns[i]->present || (dns[i]->family == NFPROTO_IPV6 && !v6))
			continue;
		NEW(NJ_CH_INPUT);
		m_str(r, NJ_IIF_NAME, "lo");
		m_simple(r, NJ_CT_ORIGINAL);
		m_listener(r, dns[i]->family, dns[i], IPPROTO_UDP);
		m_str(r, NJ_JUMP, udp);
		NEW(NJ_CH_OUT_LISTENER);
		m_str(r, NJ_OIF_NAME, "lo");
		m_listener_src(r, dns[i], IPPROTO_TCP);
		m_simple(r, NJ_SYNACK);
		m_str(r, NJ_JUMP, syn);
	}
	for (i = 0; i < npx; i++) {
		if (px[i].family == NFPROTO_IPV6 && !v6)
			continue;
		NEW(NJ_CH_OUT_LISTENER);
		m_str(r, NJ_OIF_NAME, "lo");
		m_listener_src(r, &px[i], IPPROTO_TCP);
		m_simple(r, NJ_SYNACK);
		m_str(r, NJ_JUMP, syn);
	}
	return 0;
nomem:
	return -1;
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
static int
bridge_listener_in(struct nj_ruleset *rs, int family,
    const struct nj_target *t, int proto)
{
	struct nj_rule *r;

	if ((r = rule_new(rs, NJ_CH_INPUT)) == NULL)
		return -1;
	m_set(r, NJ_IIF_SET, NJ_SET_IFACES);
	if (t->has_addr && !(family == NFPROTO_IPV6 && t->loopback))
		m_daddr(r, family, t->addr);
	else {
		m_nfproto(r, family);
		m_simple(r, NJ_CT_DNAT);
	}
	m_dport(r, NJ_DPORT, proto, t->port);
	m_simple(r, NJ_ACCEPT);
	return 0;
}

/*
 * The explicit proxy, which a workload addresses itself (no NAT): its own
 * address and port, or, for a wildcard listener, that port on any local
 * address of its family (connectd then holds the port on all of them).
 */
static void
m_proxy(struct nj_rule *r, const struct nj_target *t)
{
	if (t->has_addr)
		m_daddr(r, t->family, t->addr);
	else {
		m_nfproto(r, t->family);
		m_simple(r, NJ_FIB_LOCAL);
	}
	m_dport(r, NJ_DPORT, IPPROTO_TCP, t->port);
}

static int
build_bridge(struct nj_ruleset *rs, const struct eg_config *cfg,
    const struct nj_target *dns4, const struct nj_target *dns6,
    const struct nj_target *tp4, const struct nj_target *tp6,
    const struct nj_target *px, size_t npx)
{
	bool v6 = cfg->jail.ipv6 == EG_IPV6_JAIL;
	struct nj_rule *r, m;
	const int protos[2] = { IPPROTO_UDP, IPPROTO_TCP };
	size_t i;
	int p;

	/* pre_mangle */
	for (i = 0; i < sizeof(nd_types); i++) {
		NEW(NJ_CH_PRE_MANGLE);
		m_set(r, NJ_IIF_SET, NJ_SET_IFACES);
		m_val(r, NJ_ICMPV6_TYPE, nd_types[i]);
		m_simple(r, NJ_ACCEPT);
	}
	if (!v6) {
		memset(&m, 0, sizeof(m));
		m.chain = NJ_CH_PRE_MANGLE;
		m_set(&m, NJ_IIF_SET, NJ_SET_IFACES);
		m_nfproto(&m, NFPROTO_IPV6);
		DROP(&m, "bridge ipv6", false);
	}
	/*
	 * A source that does not route back through the bridge it came from
	 * is forged: the answers (dohd's, connectd's SYN-ACK, the kernel's
	 * RST or ICMP error, each echoing what the workload chose) would go
	 * to that outside address, data leaving by reflection.  Neighbour
	 * discovery (DAD from ::, link-local) is accepted above.
	 */
	memset(&m, 0, sizeof(m));
	m.chain = NJ_CH_PRE_MANGLE;
	m_set(&m, NJ_IIF_SET, NJ_SET_IFACES);
	m_simple(&m, NJ_FIB_SADDR_MISSING);
	DROP(&m, "bridge spoofed source", false);
	DIRECT(NJ_CH_PRE_MANGLE, NJ_IIF_SET, NJ_SET_IFACES);
	NEW(NJ_CH_PRE_MANGLE);
	m_set(r, NJ_IIF_SET, NJ_SET_IFACES);
	m_l4(r, IPPROTO_TCP);
	m_simple(r, NJ_ACCEPT);
	NEW(NJ_CH_PRE_MANGLE);
	m_set(r, NJ_IIF_SET, NJ_SET_IFACES);
	m_dport(r, NJ_DPORT, IPPROTO_UDP, 53);
	m_simple(r, NJ_ACCEPT);
	memset(&m, 0, sizeof(m));
	m.chain = NJ_CH_PRE_MANGLE;
	m_set(&m, NJ_IIF_SET, NJ_SET_IFACES);
	DROP(&m, "bridge not tcp or dns", false);

	/* pre_nat: DNS first, so port 53 of a direct endpoint is still dohd's */
	if (dns_to_dohd(rs, NJ_CH_PRE_NAT, NJ_IIF_SET, NJ_SET_IFACES, dns4,
	    dns6, v6, true) == -1)
		goto nomem;
	DIRECT(NJ_CH_PRE_NAT, NJ_IIF_SET, NJ_SET_IFACES);
	for (i = 0; i < npx; i++) {
		if (px[i].family == NFPROTO_IPV6 && !v6)
			continue;
		NEW(NJ_CH_PRE_NAT);
		m_set(r, NJ_IIF_SET, NJ_SET_IFACES);
		m_proxy(r, &px[i]);
		m_simple(r, NJ_ACCEPT);
	}
	if (tp4->present) {
		NEW(NJ_CH_PRE_NAT);
		m_set(r, NJ_IIF_SET, NJ_SET_IFACES);
		if (tp4->has_addr) {
			m_l4(r, IPPROTO_TCP);
			m_nat(r, NJ_DNAT, NFPROTO_IPV4, tp4);
		} else {
			m_nfproto(r, NFPROTO_IPV4);
			m_l4(r, IPPROTO_TCP);
			m_nat(r, NJ_REDIRECT, 0, tp4);
		}
		if (v6) {
			NEW(NJ_CH_PRE_NAT);
			m_set(r, NJ_IIF_SET, NJ_SET_IFACES);
			m_nfproto(r, NFPROTO_IPV6);
			m_l4(r, IPPROTO_TCP);
			if (tp6->has_addr && !tp6->loopback)
				m_nat(r, NJ_DNAT, NFPROTO_IPV6, tp6);
			else
				m_nat(r, NJ_REDIRECT, 0, tp6);
		}
	}

	/*
	 * input: the listener address:port pairs the NAT rules above chose,
	 * the explicit proxy's own pairs, direct endpoints that are host
	 * addresses (a database on the host), nothing else: a port number
	 * alone would open every host service bound to it on any address.
	 */
	NEW(NJ_CH_INPUT);
	m_set(r, NJ_IIF_SET, NJ_SET_IFACES);
	m_simple(r, NJ_CT_ESTREL);
	m_simple(r, NJ_ACCEPT);
	for (i = 0; i < sizeof(nd_types); i++) {
		NEW(NJ_CH_INPUT);
		m_set(r, NJ_IIF_SET, NJ_SET_IFACES);
		m_val(r, NJ_ICMPV6_TYPE, nd_types[i]);
		m_simple(r, NJ_ACCEPT);
	}
	for (p = 0; p < 2 && dns4->present; p++) {
		if (bridge_listener_in(rs, NFPROTO_IPV4, dns4, protos[p]) == -1 ||
		    (v6 && bridge_listener_in(rs, NFPROTO_IPV6, dns6,
		    protos[p]) == -1))
			goto nomem;
	}
	if (tp4->present && (bridge_listener_in(rs, NFPROTO_IPV4, tp4,
	    IPPROTO_TCP) == -1 || (v6 && bridge_listener_in(rs, NFPROTO_IPV6,
	    tp6, IPPROTO_TCP) == -1)))
		goto nomem;
	for (i = 0; i < npx; i++) {
		if (px[i].family == NFPROTO_IPV6 && !v6)
			continue;
		NEW(NJ_CH_INPUT);
		m_set(r, NJ_IIF_SET, NJ_SET_IFACES);
		m_proxy(r, &px[i]);
		m_simple(r, NJ_ACCEPT);
	}
	DIRECT(NJ_CH_INPUT, NJ_IIF_SET, NJ_SET_IFACES);
	memset(&m, 0, sizeof(m));
	m.chain = NJ_CH_INPUT;
	m_set(&m, NJ_IIF_SET, NJ_SET_IFACES);
	DROP(&m, "bridge host", false);

	/* forward */
	DIRECT_EST(NJ_CH_FORWARD, NJ_IIF_SET, NJ_SET_IFACES, true);
	NEW(NJ_CH_FORWARD);
	m_set(r, NJ_OIF_SET, NJ_SET_IFACES);
	m_simple(r, NJ_CT_ESTREL);
	m_simple(r, NJ_ACCEPT);
	if (forward_published(rs, cfg, true) == -1)
		goto nomem;
	memset(&m, 0, sizeof(m));
	m.chain = NJ_CH_FORWARD;
	m_set(&m, NJ_IIF_SET, NJ_SET_IFACES);
	DROP(&m, "bridge forward", false);
	if (forward_published(rs, cfg, false) == -1)
		goto nomem;
	memset(&m, 0, sizeof(m));
	m.chain = NJ_CH_FORWARD;
	m_set(&m, NJ_OIF_SET, NJ_SET_IFACES);
	DROP(&m, "bridge inbound", false);
	return 0;
nomem:
	return -1;
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
static int
build_local_post(struct nj_ruleset *rs, const struct eg_config *cfg,
    bool diverted, bool v6)
{
	uint32_t mark = cfg->jail.fwmark;
	struct nj_rule *r, m;

	if (diverted) {
		memset(&m, 0, sizeof(m));
		m.chain = NJ_CH_POST_FILTER;
		m_str(&m, NJ_OIF_NAME_NE, "lo");
		m_val(&m, NJ_MARK, mark);
		DROP(&m, "local detour missed", false);
	}
	/*
	 * Every packet of the host passes here: one rule (one uid set
	 * lookup) for those that are not a jailed user's off lo, the rest
	 * in post_local.
	 */
	NEW(NJ_CH_POST_FILTER);
	m_set(r, NJ_SKUID_SET, NJ_SET_UIDS);
	m_str(r, NJ_OIF_NAME_NE, "lo");
	m_str(r, NJ_JUMP, nj_chains[NJ_CH_POST_LOCAL].name);
	/* a direct flow outlives its learned element here too */
	DIRECT_EST(NJ_CH_POST_LOCAL, NJ_SKUID_SET, NJ_SET_UIDS, false);
	memset(&m, 0, sizeof(m));
	m.chain = NJ_CH_POST_LOCAL;
	DROP(&m, "local leaves", false);
	return 0;
nomem:
	return -1;
}

static int
build_local(struct nj_ruleset *rs, const struct eg_config *cfg,
    const struct nj_target *dns4, const struct nj_target *dns6,
    const struct nj_target *tp4, const struct nj_target *tp6,
    const struct nj_target *px4, size_t npx)
{
	bool v6 = cfg->jail.ipv6 == EG_IPV6_JAIL;
	const int protos[2] = { IPPROTO_UDP, IPPROTO_TCP };
	uint32_t mark = cfg->jail.fwmark;
	struct nj_rule *r, m;
	size_t i;
	int p;

	/* pre_mangle: the marked TCP comes back on lo; TPROXY or drop */
	if (tp4->present) {
		NEW(NJ_CH_PRE_MANGLE);
		m_str(r, NJ_IIF_NAME, "lo");
		m_val(r, NJ_MARK, mark);
		m_l4(r, IPPROTO_TCP);
		m_nat(r, NJ_TPROXY, NFPROTO_IPV4, tp4);
		m_simple(r, NJ_ACCEPT);
		if (v6) {
			NEW(NJ_CH_PRE_MANGLE);
			m_str(r, NJ_IIF_NAME, "lo");
			m_val(r, NJ_MARK, mark);
			m_l4(r, IPPROTO_TCP);
			m_nat(r, NJ_TPROXY, NFPROTO_IPV6, tp6);
			m_simple(r, NJ_ACCEPT);
		}
		/* a tproxy that finds no listener falls through */
		memset(&m, 0, sizeof(m));
		m.chain = NJ_CH_PRE_MANGLE;
		m_str(&m, NJ_IIF_NAME, "lo");
		m_val(&m, NJ_MARK, mark);
		DROP(&m, "local no listener", false);

		/*
		 * out_route.  A jailed user's diverted flow carries the mark
		 * bits in its ct mark too, so the packets of the flow that
		 * have no socket owner (ACK/RST of an orphaned or TIME_WAIT
		 * socket, the kernel's RST to a SYN-ACK nobody asked for)
		 * take the same detour: the owner match alone misses them.
		 * First, so a direct endpoint learned mid-flow cannot pull
		 * the rest of a diverted flow out of it.
		 */
		NEW(NJ_CH_OUT_ROUTE);
		m_simple(r, NJ_CT_ORIGINAL);
		m_val(r, NJ_CTMARK_HAS, mark);
		m_val(r, NJ_MARK_SET, mark);
		DIRECT_EST(NJ_CH_OUT_ROUTE, NJ_SKUID_SET, NJ_SET_UIDS, false);
		NEW(NJ_CH_OUT_ROUTE);
		m_set(r, NJ_SKUID_SET, NJ_SET_UIDS);
		m_dport(r, NJ_DPORT_NE, IPPROTO_TCP, 53);
		m_simple(r, NJ_FIB_NOT_LOCAL);
		m_val(r, NJ_MARK_SET, mark);
		m_val(r, NJ_CTMARK_OR, mark);
	}

	/* out_nat */
	if (dns_to_dohd(rs, NJ_CH_OUT_NAT, NJ_SKUID_SET, NJ_SET_UIDS, dns4,
	    dns6, v6, false) == -1)
		goto nomem;

	/* out_filter, after the owner gates */
	if (tp4->present) {
		/*
		 * Fail closed: a packet of a diverted flow that does not
		 * carry the mark (so is not on its way to lo) is dropped,
		 * whoever sent it.  Not by oifname: the output hook keeps
		 * the device it was entered with, the route chain's reroute
		 * does not change it.
		 */
		memset(&m, 0, sizeof(m));
		m.chain = NJ_CH_OUT_FILTER;
		m_simple(&m, NJ_CT_ORIGINAL);
		m_val(&m, NJ_CTMARK_HAS, mark);
		m_val(&m, NJ_MARK_NE, mark);
		DROP(&m, "local flow unmarked", false);
		/*
		 * A socket-less TCP packet that conntrack has no flow for
		 * (its entry expired or was flushed) cannot be told from a
		 * jailed user's: it is dropped unless it leaves a socket.
		 * Packets of any socket return from out_unowned untouched.
		 */
		NEW(NJ_CH_OUT_FILTER);
		m_l4(r, IPPROTO_TCP);
		m_simple(r, NJ_CT_INVALID);
		m_str(r, NJ_OIF_NAME_NE, "lo");
		m_str(r, NJ_JUMP, nj_chains[NJ_CH_OUT_UNOWNED].name);
		NEW(NJ_CH_OUT_UNOWNED);
		m_set(r, NJ_SKUID_NOT_SET, NJ_SET_UIDS);
		m_simple(r, NJ_RETURN);
		NEW(NJ_CH_OUT_UNOWNED);
		m_set(r, NJ_SKUID_SET, NJ_SET_UIDS);
		m_simple(r, NJ_RETURN);
		memset(&m, 0, sizeof(m));
		m.chain = NJ_CH_OUT_UNOWNED;
		DROP(&m, "unowned invalid", false);
	}
	if (!v6) {
		memset(&m, 0, sizeof(m));
		m.chain = NJ_CH_OUT_FILTER;
		m_set(&m, NJ_SKUID_SET, NJ_SET_UIDS);
		m_nfproto(&m, NFPROTO_IPV6);
		DROP(&m, "local ipv6", false);
	}
	if (tp4->present) {
		NEW(NJ_CH_OUT_FILTER);
		m_set(r, NJ_SKUID_SET, NJ_SET_UIDS);
		m_val(r, NJ_MARK, mark);
		m_simple(r, NJ_ACCEPT);
	}
	DIRECT_EST(NJ_CH_OUT_FILTER, NJ_SKUID_SET, NJ_SET_UIDS, true);
	for (p = 0; p < 2 && dns4->present; p++) {
		NEW(NJ_CH_OUT_FILTER);
		m_set(r, NJ_SKUID_SET, NJ_SET_UIDS);
		m_listener(r, NFPROTO_IPV4, dns4, protos[p]);
		m_simple(r, NJ_ACCEPT);
		if (!v6)
			continue;
		NEW(NJ_CH_OUT_FILTER);
		m_set(r, NJ_SKUID_SET, NJ_SET_UIDS);
		m_listener(r, NFPROTO_IPV6, dns6, protos[p]);
		m_simple(r, NJ_ACCEPT);
	}
	for (i = 0; i < npx; i++) {
		const struct nj_target *t = &px4[i];

		if (t->family == NFPROTO_IPV6 && !v6)
			continue;
		NEW(NJ_CH_OUT_FILTER);
		m_set(r, NJ_SKUID_SET, NJ_SET_UIDS);
		m_listener(r, t->family, t, IPPROTO_TCP);
		m_simple(r, NJ_ACCEPT);
	}
	memset(&m, 0, sizeof(m));
	m.chain = NJ_CH_OUT_FILTER;
	m_set(&m, NJ_SKUID_SET, NJ_SET_UIDS);
	DROP(&m, "local", false);
	return build_local_post(rs, cfg, tp4->present, v6);
nomem:
	return -1;
}

static int
build_gates(struct nj_ruleset *rs, const struct eg_config *cfg)
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
		memset(&m, 0, sizeof(m));
		m.chain = NJ_CH_OUT_FILTER;
		m_addrport(&m, g[i].fam, g[i].set);
		m_val(&m, NJ_SKUID_NE, g[i].dns ? cfg->dohd.user.uid :
		    cfg->connectd.user.uid);
		if (drop_pair(rs, &m, g[i].tag, true) == -1)
			return -1;
	}
	return 0;
}

static int
add_addr_elem(struct nj_ruleset *rs, int set4, const struct eg_ip *ip,
    int plen, uint16_t port, uint64_t timeout_ms, bool bulk)
{
	struct nj_elem e;
	int set = ip->family == AF_INET ? set4 : set4 + 1;

	rules_elem_addr(&e, ip->family, ip->addr, plen, port);
	e.timeout_ms = timeout_ms;
	return bulk ? set_append(&rs->sets[set], &e) :
	    rules_set_add(&rs->sets[set], &e);
}

/*
 * A jailed interface as a set element: the name, and the range of names
 * it stands for in an interval set.  "br-*" is every name that starts with
 * "br-": from "br-" padded with zero bytes to "br-" padded with 0xff, as
 * nft writes a wildcard.  An exact name is the range of itself.
 */
static void
ifname_elem(struct nj_elem *e, const char *name)
{
	size_t n = strlen(name);

	memset(e, 0, sizeof(*e));
	strncpy(e->ifname, name, IFNAMSIZ - 1);
	if (eg_ifname_is_pattern(name)) {
		memcpy(e->lo, name, n - 1);
		memcpy(e->hi, name, n - 1);
		memset(e->hi + n - 1, 0xff, IFNAMSIZ - (n - 1));
	} else {
		memcpy(e->lo, name, n);
		memcpy(e->hi, name, n);
	}
}

static int
ifname_cmp(const void *a, const void *b)
{
	return memcmp(((const struct nj_elem *)a)->lo,
	    ((const struct nj_elem *)b)->lo, IFNAMSIZ);
}

struct nj_ruleset *
rules_build(const struct eg_config *cfg, char *err, size_t errlen)
{
	struct nj_ruleset *rs;
	struct nj_target dns4, dns6, tp4, tp6, px4[16];
	char *tl[1];
	uint16_t pports[16];
	size_t npports = 0, npx = 0, i, j;
	struct nj_elem e;

	if ((rs = calloc(1, sizeof(*rs))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	rs->chains = nj_chains;
	rs->mark = cfg->jail.fwmark;
	rs->route_table = cfg->jail.route_table;
	for (i = 0; i < NJ_SET__MAX; i++) {
		struct nj_set *s = &rs->sets[i];

		s->name = nj_set_names[i];
		switch (i) {
		case NJ_SET_IFACES:
			s->key = NJ_KEY_IFNAME;
			break;
		case NJ_SET_UIDS:
			s->key = NJ_KEY_UID;
			break;
		default:
			s->key = rules_set_family((int)i) == AF_INET ?
			    NJ_KEY_V4PORT : NJ_KEY_V6PORT;
			/* every address set takes learned, expiring elements */
			s->timeout = true;
			/*
			 * Configured direct endpoints may be CIDRs; learned
			 * ones are single addresses in a hash set of their
			 * own (direct4/6_learned), cheap to refresh.
			 */
			s->interval = i == NJ_SET_DIRECT4 ||
			    i == NJ_SET_DIRECT6;
		}
	}

	for (i = 0; i < cfg->jail.ninterfaces; i++) {
		if (strlen(cfg->jail.interfaces[i]) >= IFNAMSIZ) {
			snprintf(err, errlen, "interface \"%.32s\": name too "
			    "long", cfg->jail.interfaces[i]);
			goto fail;
		}
		ifname_elem(&e, cfg->jail.interfaces[i]);
		if (rules_set_add(&rs->sets[NJ_SET_IFACES], &e) == -1)
			goto nomem;
		if (eg_ifname_is_pattern(cfg->jail.interfaces[i]))
			rs->sets[NJ_SET_IFACES].interval = true;
	}
	/* the kernel's interval tree takes them in order, as nft sends them */
	if (rs->sets[NJ_SET_IFACES].interval)
		qsort(rs->sets[NJ_SET_IFACES].elems,
		    rs->sets[NJ_SET_IFACES].nelems, sizeof(e), ifname_cmp);
	for (i = 0; i < cfg->jail.nusers; i++) {
		memset(&e, 0, sizeof(e));
		e.uid = cfg->jail.users[i].uid;
		if (rules_set_add(&rs->sets[NJ_SET_UIDS], &e) == -1)
			goto nomem;
	}
	for (i = 0; i < cfg->chain.nhops; i++) {
		const struct eg_hop *h = &cfg->chain.hops[i];

		if (h->host_is_ip && add_addr_elem(rs, NJ_SET_HOPS4, &h->ip,
		    -1, h->port, 0, false) == -1)
			goto nomem;
	}
	for (i = 0; i < cfg->dohd.nupstreams; i++) {
		const struct eg_upstream *u = &cfg->dohd.upstreams[i];

		for (j = 0; j < u->nbootstrap; j++)
			if (add_addr_elem(rs, NJ_SET_DOH4, &u->bootstrap[j],
			    -1, u->port ? u->port : 443, 0, false) == -1)
				goto nomem;
	}
	for (i = 0; i < cfg->jail.ndirect; i++) {
		const struct eg_endpoint *ep = &cfg->jail.direct[i].ep;

		if (ep->is_name)
			continue;	/* learned from dohd */
		if (add_addr_elem(rs, NJ_SET_DIRECT4, &ep->cidr.ip,
		    ep->cidr.plen, ep->port, 0, true) == -1)
			goto nomem;
	}
	if (set_dedup(&rs->sets[NJ_SET_DIRECT4]) == -1 ||
	    set_dedup(&rs->sets[NJ_SET_DIRECT6]) == -1)
		goto nomem;

	if (targets(cfg->dohd.listen, cfg->dohd.nlisten, &dns4, &dns6,
	    "[dohd] listen", err, errlen) == -1)
		goto fail;
	tl[0] = cfg->connectd.transparent_listen;
	if (targets(tl, tl[0] ? 1 : 0, &tp4, &tp6,
	    "[connectd] transparent_listen", err, errlen) == -1)
		goto fail;
	for (i = 0; i < cfg->connectd.nproxy_listen && i < 16; i++) {
		struct nj_target a, b;

		tl[0] = cfg->connectd.proxy_listen[i];
		if (targets(tl, 1, &a, &b, "[connectd] proxy_listen", err,
		    errlen) == -1)
			goto fail;
		/* keep the entry's own family: the other one is a fallback */
		{
			struct sockaddr_storage ss;
			socklen_t sl;

			px4[i] = eg_sockaddr_parse(tl[0], &ss, &sl, NULL) &&
			    ss.ss_family == AF_INET6 ? b : a;
		}
		for (j = 0; j < npports; j++)
			if (pports[j] == a.port)
				break;
		if (j == npports)
			pports[npports++] = a.port;
		npx++;
	}

	/* first: its input rules come before any accept there */
	if (build_listener_guard(rs, cfg, &dns4, &dns6, &tp4, &tp6, pports,
	    npports, px4, npx) == -1)
		goto nomem;
	if (cfg->jail.ninterfaces > 0 && build_bridge(rs, cfg, &dns4, &dns6,
	    &tp4, &tp6, px4, npx) == -1)
		goto nomem;
	if (build_gates(rs, cfg) == -1)
		goto nomem;
	if (cfg->jail.nusers > 0 && build_local(rs, cfg, &dns4, &dns6, &tp4,
	    &tp6, px4, npx) == -1)
		goto nomem;
	return rs;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
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
