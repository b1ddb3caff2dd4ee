/*
 * rules_wl.c - per-workload steering for jailed bridges (issue 15,
 * docs/WORKLOADS.md): the listener a connection arrives on names its
 * workload, so each workload's DNS and TCP go to the listeners its
 * daemons registered (wlreg.h) instead of the default ones.
 *
 * In pre_nat, ahead of the defaults:
 *   - a cidr: source on an iface: bridge of another workload matches
 *     both: a counted drop ("workload conflict"), never either policy;
 *   - port 53 over UDP and TCP to the workload's dns_udp/dns_tcp
 *     listeners (before the default DNS rules);
 *   - TCP to its transparent listener (after the direct accepts, before
 *     the explicit proxy accepts, so a workload's TCP never reaches
 *     [policy]'s proxy).
 * A kind with no registration is a counted drop ("workload
 * unregistered"): the default listeners would apply [policy].  The
 * listeners are then accepted in input and guarded against squatting
 * like the default ones.
 *
 * The ports are literals: a registration change rebuilds the table and
 * replaces it in one batch (nj_wl_steer), as a reload does.  uid:
 * matches are steered in the local users' chains (rules_wl_local.c);
 * cgroup: matches are not yet: rules_wl_check refuses them, so such a
 * workload is never silently left on [policy].
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <linux/netfilter.h>

#include "rules.h"
#include "rules_build.h"
#include "wlreg.h"
#include "workload.h"

#define TAG_UNREG	"workload unregistered"
#define TAG_CONFLICT	"workload conflict"

int
rules_wl_check(const struct nj_build *b, char *err, size_t errlen)
{
	const struct eg_config *cfg = b->cfg;
	const struct eg_wl_match *m;
	char buf[EG_WL_MATCH_MAX + 1];
	size_t i, j;

	for (i = 0; i < cfg->nworkloads; i++)
		for (j = 0; j < cfg->workloads[i].nmatches; j++) {
			m = &cfg->workloads[i].matches[j];
			if (m->kind == EG_WL_IFACE || m->kind == EG_WL_CIDR)
				continue;
			if (m->kind == EG_WL_UID) {
				if (rules_wl_local_check(b, &cfg->workloads[i],
				    m, err, errlen) == -1)
					return -1;
				continue;
			}
			/*
			 * cgroup: (docs/WORKLOADS.md): a unit's cgroup gets
			 * a new id each time it starts, and until the new id
			 * were in the table its jailed users' traffic would
			 * meet [policy]'s listeners.  Refused, never weaker.
			 */
			snprintf(err, errlen, "%s:%d: workload %s: match = %s "
			    "is not steered by netjaild (a restarted unit's "
			    "cgroup would get [policy]'s rules until its new "
			    "id is in the ruleset); use uid:, iface: or cidr:",
			    m->at.file ? m->at.file : "config",
			    m->at.line, cfg->workloads[i].name,
			    eg_wl_match_str(m, buf, sizeof(buf)));
			return -1;
		}
	return 0;
}

static int
nfproto_of(int af)
{
	return af == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6;
}

/* Can bridge match m hold for a packet of family af? */
static bool
wl_applies(const struct nj_build *b, const struct eg_wl_match *m, int af)
{
	if (af == AF_INET6 && !b->v6)
		return false;	/* pre_mangle dropped it already */
	if (m->kind == EG_WL_IFACE)
		return true;
	return m->kind == EG_WL_CIDR && m->cidr.ip.family == af;
}

/* ip/ip6 saddr in cidr: match m's prefix */
static void
wl_saddr(struct nj_rule *r, const struct eg_wl_match *m)
{
	struct nj_term *t;

	rt_kind(r, NJ_SADDR_NET);
	t = &r->t[r->n - 1];
	t->family = nfproto_of(m->cidr.ip.family);
	t->val = m->cidr.plen;
	memcpy(t->addr, m->cidr.ip.addr, 16);
}

/* The source side of bridge match m (wl_applies said it can hold). */
static void
wl_src(struct nj_rule *r, const struct eg_wl_match *m)
{
	if (m->kind == EG_WL_IFACE) {
		rt_str(r, NJ_IIF_NAME, m->text);
		return;
	}
	rt_set(r, NJ_IIF_SET, NJ_SET_IFACES);
	wl_saddr(r, m);
}

/* The registered listener of a workload as a NAT target, if any. */
static bool
wl_target(const struct nj_build *b, const char *name, uint8_t kind, int af,
    struct nj_target *tg)
{
	const struct nj_wlreg *reg;

	if (b->wl == NULL ||
	    (reg = nj_wlreg_find(b->wl, name, kind, (uint8_t)af)) == NULL)
		return false;
	memset(tg, 0, sizeof(*tg));
	tg->present = true;
	tg->family = nfproto_of(af);
	tg->port = reg->port;
	/* IPv6 has no route_localnet: redirect, as for the defaults */
	if (af == AF_INET) {
		tg->has_addr = tg->loopback = true;
		tg->addr[0] = 127;
		tg->addr[3] = 1;
	}
	return true;
}

/*
 * One steering rule: the source, the family where the rest does not
 * imply it (an iface: match: an IPv4 DNAT needs none, as the default
 * rules), the port or protocol, then the DNAT or redirect, or without a
 * registration a counted drop.
 */
static void
wl_steer(struct nj_build *b, const struct eg_workload *w,
    const struct eg_wl_match *m, int af, uint8_t kind, int proto,
    uint16_t dport)
{
	struct nj_target tg;
	struct nj_rule *r, mm;
	bool reg;

	if (!wl_applies(b, m, af))
		return;
	reg = wl_target(b, w->name, kind, af, &tg);
	r = reg ? rb_rule(b, NJ_CH_PRE_NAT) : rb_match(&mm, NJ_CH_PRE_NAT);
	wl_src(r, m);
	if (m->kind == EG_WL_IFACE && (af == AF_INET6 || !reg))
		rt_nfproto(r, nfproto_of(af));
	if (dport != 0)
		rt_port(r, NJ_DPORT, proto, dport);
	else
		rt_l4(r, proto);
	if (!reg)
		rb_drop_wl(b, r, TAG_UNREG, w->name, false);
	else if (tg.has_addr)
		rt_nat(r, NJ_DNAT, tg.family, &tg);
	else
		rt_nat(r, NJ_REDIRECT, 0, &tg);
}

static const int fams[2] = { AF_INET, AF_INET6 };

/*
 * A cidr: source on a bridge another workload's iface: names belongs to
 * both: dropped before anything steers it.
 */
static void
wl_conflicts(struct nj_build *b)
{
	const struct eg_config *cfg = b->cfg;
	const struct eg_wl_match *c, *f;
	struct nj_rule mm;
	size_t i, j, k, l;

	for (i = 0; i < cfg->nworkloads; i++)
	for (j = 0; j < cfg->workloads[i].nmatches; j++) {
		c = &cfg->workloads[i].matches[j];
		if (c->kind != EG_WL_CIDR || !wl_applies(b, c, c->cidr.ip.family))
			continue;
		for (k = 0; k < cfg->nworkloads; k++)
		for (l = 0; k != i && l < cfg->workloads[k].nmatches; l++) {
			f = &cfg->workloads[k].matches[l];
			if (f->kind != EG_WL_IFACE)
				continue;
			rb_match(&mm, NJ_CH_PRE_NAT);
			rt_str(&mm, NJ_IIF_NAME, f->text);
			wl_saddr(&mm, c);
			rb_drop_wl(b, &mm, TAG_CONFLICT,
			    cfg->workloads[i].name, false);
		}
	}
}

void
rules_wl_nat_dns(struct nj_build *b)
{
	const struct eg_config *cfg = b->cfg;
	const struct eg_workload *w;
	size_t i, j, f;

	if (cfg->nworkloads == 0)
		return;
	wl_conflicts(b);
	for (i = 0; i < cfg->nworkloads; i++) {
		w = &cfg->workloads[i];
		for (j = 0; j < w->nmatches; j++)
			for (f = 0; f < 2; f++) {
				wl_steer(b, w, &w->matches[j], fams[f],
				    EG_WLL_DNS_UDP, IPPROTO_UDP, 53);
				wl_steer(b, w, &w->matches[j], fams[f],
				    EG_WLL_DNS_TCP, IPPROTO_TCP, 53);
			}
	}
}

void
rules_wl_nat_tcp(struct nj_build *b)
{
	const struct eg_config *cfg = b->cfg;
	const struct eg_workload *w;
	size_t i, j, f;

	for (i = 0; i < cfg->nworkloads; i++) {
		w = &cfg->workloads[i];
		for (j = 0; j < w->nmatches; j++)
			for (f = 0; f < 2; f++)
				wl_steer(b, w, &w->matches[j], fams[f],
				    EG_WLL_TRANSPARENT, IPPROTO_TCP, 0);
	}
}

/* Each registered listener of a workload that has a bridge match. */
struct wl_listener {
	int af;
	uint8_t kind;
	int proto;
	struct nj_target tg;
};

static size_t
wl_listeners(const struct nj_build *b, const struct eg_workload *w,
    struct wl_listener out[6])
{
	static const struct { uint8_t kind; int proto; } k[3] = {
		{ EG_WLL_DNS_UDP, IPPROTO_UDP },
		{ EG_WLL_DNS_TCP, IPPROTO_TCP },
		{ EG_WLL_TRANSPARENT, IPPROTO_TCP },
	};
	size_t n = 0, i, f, j;
	bool any;

	/* by kind, then family: one port's two families side by side */
	for (i = 0; i < 3; i++) {
		for (f = 0; f < 2; f++) {
			for (j = 0, any = false; j < w->nmatches; j++)
				any = any || wl_applies(b, &w->matches[j],
				    fams[f]);
			if (!any || !wl_target(b, w->name, k[i].kind, fams[f],
			    &out[n].tg))
				continue;
			out[n].af = fams[f];
			out[n].kind = k[i].kind;
			out[n].proto = k[i].proto;
			n++;
		}
	}
	return n;
}

void
rules_wl_input(struct nj_build *b)
{
	const struct eg_config *cfg = b->cfg;
	struct wl_listener l[6];
	size_t i, j, n;

	for (i = 0; i < cfg->nworkloads; i++) {
		n = wl_listeners(b, &cfg->workloads[i], l);
		for (j = 0; j < n; j++)
			rb_listener_in(b, l[j].tg.family, &l[j].tg,
			    l[j].proto);
	}
}

/* As guard_bridge does for the default listeners (rules.c). */
void
rules_wl_guard(struct nj_build *b)
{
	const struct eg_config *cfg = b->cfg;
	struct wl_listener l[6];
	struct nj_rule *r;
	size_t i, j, n;

	for (i = 0; i < cfg->nworkloads; i++) {
		n = wl_listeners(b, &cfg->workloads[i], l);
		for (j = 0; j < n; j++) {
			/* both families on one port: one guard rule */
			if (j > 0 && l[j].tg.port == l[j - 1].tg.port &&
			    l[j].proto == l[j - 1].proto)
				continue;
			if (l[j].proto == IPPROTO_TCP) {
				r = rb_rule(b, NJ_CH_OUT_LISTENER);
				rt_set(r, NJ_OIF_SET, NJ_SET_IFACES);
				rt_port(r, NJ_SPORT, IPPROTO_TCP,
				    l[j].tg.port);
				rt_kind(r, NJ_SYNACK);
				rt_str(r, NJ_JUMP, nj_chains[
				    NJ_CH_LISTENER_SYNACK].name);
				continue;
			}
			r = rb_rule(b, NJ_CH_INPUT);
			rt_set(r, NJ_IIF_SET, NJ_SET_IFACES);
			rt_kind(r, NJ_CT_ORIGINAL);
			rt_port(r, NJ_DPORT, IPPROTO_UDP, l[j].tg.port);
			rt_str(r, NJ_JUMP, nj_chains[NJ_CH_IN_LISTENER].name);
		}
	}
}
