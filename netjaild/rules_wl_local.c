/*
 * rules_wl_local.c - per-workload steering of jailed local users (issue
 * 15, docs/WORKLOADS.md): a uid: workload's TCP, DNS and explicit proxy
 * connections go to the listeners its daemons registered (wlreg.h), never
 * to [policy]'s.
 *
 * The detour of a jailed user's TCP (rules_local.c) loops it through lo,
 * where pre_mangle TPROXYs it; there the packet has no socket, so its
 * owner is unknown.  What survives the loop is the flow's conntrack
 * entry: out_route writes the workload's id into a field of the ct mark
 * (nj_build.wlfield, next to the fwmark and direct bits) together with
 * the fwmark bits, and pre_mangle TPROXYs by that field:
 *
 *   out_route:  meta skuid 1001 tcp dport != 53 fib daddr type != local
 *               meta mark set 0x1 ct mark set ct mark & 0xffffe007 | 0x5
 *   pre_mangle: iifname "lo" meta mark 0x1 ct mark & 0x1ffc == 0x4
 *               meta l4proto tcp tproxy ip to 127.0.0.1:40001 accept
 *               iifname "lo" meta mark 0x1 ct mark & 0x1ffc == 0x4
 *               counter drop comment "workload unregistered ci"
 *
 * and in the output hook, where the owner is known, by uid: out_nat DNATs
 * port 53 and the explicit proxy's address:port to the workload's DNS
 * and proxy listeners; out_filter accepts exactly those for its uids and
 * drops the rest of their local traffic before [policy]'s listeners are
 * accepted.  A kind or family with no registration is a counted drop
 * ("workload unregistered NAME"), never [policy]'s listener.  The verdict
 * by the device a packet leaves by (post_filter, post_local) holds for
 * these uids as for every jailed uid: they are all in jailed_uids.
 *
 * The ports are literals, as for bridges: a registration change rebuilds
 * the table in one batch (nj_wl_steer).  A map on the ct mark field
 * (`tproxy to 127.0.0.1 : ct mark & F map { ... }`) would save the
 * rebuild, but nft 1.0.6 lists such a rule without its map, so the
 * --print text and the installed table could no longer be compared; the
 * rebuild costs one table replacement per registration, measured in
 * WORKLOADS.md.
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
#define WL_ID_BITS	11	/* ids 1..2047: every workload the loader takes */

/*
 * The ct mark field of the workload id: WL_ID_BITS contiguous bits, the
 * lowest run that the fwmark and the direct bit leave free.  0 when the
 * fwmark leaves no such run.
 */
uint32_t
rules_wl_field(uint32_t fwmark, uint32_t dbit, unsigned *shift)
{
	uint32_t f;
	unsigned p;

	for (p = 0; p + WL_ID_BITS <= 32; p++) {
		f = ((1u << WL_ID_BITS) - 1) << p;
		if ((f & (fwmark | dbit)) == 0) {
			*shift = p;
			return f;
		}
	}
	*shift = 0;
	return 0;
}

/* Does workload w have a match on local sockets (uid:)? */
static bool
wl_local(const struct eg_workload *w)
{
	size_t j;

	for (j = 0; j < w->nmatches; j++)
		if (w->matches[j].kind == EG_WL_UID)
			return true;
	return false;
}

/*
 * The id of workload i in the ct mark field: 1 + its rank among the
 * workloads with local matches (0 is [policy]).  A reload that adds one
 * renumbers those after it; an established flow keeps its socket (TPROXY
 * finds it by its address pair first), new flows take the new id.
 */
static uint32_t
wl_id(const struct nj_build *b, size_t i)
{
	uint32_t id = 1;
	size_t k;

	for (k = 0; k < i; k++)
		if (wl_local(&b->cfg->workloads[k]))
			id++;
	return id << b->wlshift;
}

static int
nfproto_of(int af)
{
	return af == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6;
}

static const int fams[2] = { AF_INET, AF_INET6 };

/* Workload w's listener of kind and family on loopback, if registered. */
static bool
wl_lo_target(const struct nj_build *b, const char *name, uint8_t kind,
    int af, struct nj_target *tg)
{
	const struct nj_wlreg *reg;

	if (b->wl == NULL ||
	    (reg = nj_wlreg_find(b->wl, name, kind, (uint8_t)af)) == NULL)
		return false;
	memset(tg, 0, sizeof(*tg));
	tg->present = tg->has_addr = tg->loopback = true;
	tg->family = nfproto_of(af);
	tg->port = reg->port;
	if (af == AF_INET) {
		tg->addr[0] = 127;
		tg->addr[3] = 1;
	} else
		tg->addr[15] = 1;
	return true;
}

int
rules_wl_local_check(const struct nj_build *b, const struct eg_workload *w,
    const struct eg_wl_match *m, char *err, size_t errlen)
{
	char buf[EG_WL_MATCH_MAX + 1];
	size_t i;

	if (b->wlfield == 0) {
		snprintf(err, errlen, "%s:%d: workload %s: match = %s: "
		    "[jail] fwmark 0x%x leaves no %d free bits in the ct mark "
		    "for the workload id", m->at.file ? m->at.file : "config",
		    m->at.line, w->name, eg_wl_match_str(m, buf, sizeof(buf)),
		    b->mark, WL_ID_BITS);
		return -1;
	}
	/* the loader checks it too: a uid: match never jails by itself */
	for (i = 0; m->has_uid && i < b->cfg->jail.nusers; i++)
		if (b->cfg->jail.users[i].uid == m->uid)
			return 0;
	snprintf(err, errlen, "%s:%d: workload %s: match = %s is no [jail] "
	    "user", m->at.file ? m->at.file : "config", m->at.line, w->name,
	    eg_wl_match_str(m, buf, sizeof(buf)));
	return -1;
}

/*
 * out_route, before the mark of every jailed uid: a workload's uid writes
 * its id into the ct mark field with the fwmark bits (the field cleared
 * first, so a renumbered id never mixes with an old one).
 */
void
rules_wl_local_route(struct nj_build *b)
{
	const struct eg_config *cfg = b->cfg;
	const struct eg_wl_match *m;
	struct nj_rule *r;
	size_t i, j;

	for (i = 0; i < cfg->nworkloads; i++)
		for (j = 0; j < cfg->workloads[i].nmatches; j++) {
			m = &cfg->workloads[i].matches[j];
			if (m->kind != EG_WL_UID)
				continue;
			r = rb_rule(b, NJ_CH_OUT_ROUTE);
			rt_val(r, NJ_SKUID, (uint32_t)m->uid);
			rt_port(r, NJ_DPORT_NE, IPPROTO_TCP, 53);
			rt_kind(r, NJ_FIB_NOT_LOCAL);
			rt_val(r, NJ_MARK_SET, b->mark);
			rt_val2(r, NJ_CTMARK_SETF, b->wlfield | b->mark,
			    b->mark | wl_id(b, i));
			rt_kind(r, NJ_ACCEPT);
		}
}

/*
 * pre_mangle, before [policy]'s TPROXY: each workload's detoured TCP to
 * its transparent listener by the id in the flow's ct mark, then a
 * counted drop of the rest of its flows (a family not registered, or a
 * TPROXY that found no listener and fell through).
 */
void
rules_wl_local_tproxy(struct nj_build *b)
{
	const struct eg_config *cfg = b->cfg;
	struct nj_target tg;
	struct nj_rule *r, m;
	size_t i, f;

	for (i = 0; i < cfg->nworkloads; i++) {
		if (!wl_local(&cfg->workloads[i]))
			continue;
		for (f = 0; f < (b->v6 ? 2u : 1u); f++) {
			if (!wl_lo_target(b, cfg->workloads[i].name,
			    EG_WLL_TRANSPARENT, fams[f], &tg))
				continue;
			r = rb_rule(b, NJ_CH_PRE_MANGLE);
			rt_str(r, NJ_IIF_NAME, "lo");
			rt_val(r, NJ_MARK, b->mark);
			rt_val2(r, NJ_CTMARK_EQ, b->wlfield, wl_id(b, i));
			rt_l4(r, IPPROTO_TCP);
			rt_nat(r, NJ_TPROXY, tg.family, &tg);
			rt_kind(r, NJ_ACCEPT);
		}
		rb_match(&m, NJ_CH_PRE_MANGLE);
		rt_str(&m, NJ_IIF_NAME, "lo");
		rt_val(&m, NJ_MARK, b->mark);
		rt_val2(&m, NJ_CTMARK_EQ, b->wlfield, wl_id(b, i));
		rb_drop_wl(b, &m, TAG_UNREG, cfg->workloads[i].name, false);
	}
}

/*
 * One out_nat rule for uid m: the packet (proto, port 53 or the proxy
 * listener px) to workload w's listener of kind in family af, or without
 * a registration a counted drop.
 */
static void
wl_nat(struct nj_build *b, const struct eg_workload *w,
    const struct eg_wl_match *m, int af, uint8_t kind, int proto,
    const struct nj_target *px)
{
	struct nj_target tg;
	struct nj_rule *r, mm;
	bool reg;

	reg = wl_lo_target(b, w->name, kind, af, &tg);
	r = reg ? rb_rule(b, NJ_CH_OUT_NAT) : rb_match(&mm, NJ_CH_OUT_NAT);
	rt_val(r, NJ_SKUID, (uint32_t)m->uid);
	if (px != NULL)
		rt_listener(r, px->family, px, IPPROTO_TCP);
	else {
		if (af == AF_INET6 || !reg)
			rt_nfproto(r, nfproto_of(af));
		rt_port(r, NJ_DPORT, proto, 53);
	}
	if (reg)
		rt_nat(r, NJ_DNAT, tg.family, &tg);
	else
		rb_drop_wl(b, r, TAG_UNREG, w->name, false);
}

/* out_nat, before [policy]'s DNS: DNS and the explicit proxy, per uid. */
void
rules_wl_local_nat(struct nj_build *b)
{
	const struct eg_config *cfg = b->cfg;
	const struct eg_workload *w;
	const struct eg_wl_match *m;
	size_t i, j, f, p;

	for (i = 0; i < cfg->nworkloads; i++) {
		w = &cfg->workloads[i];
		for (j = 0; j < w->nmatches; j++) {
			m = &w->matches[j];
			if (m->kind != EG_WL_UID)
				continue;
			for (f = 0; f < (b->v6 ? 2u : 1u); f++) {
				wl_nat(b, w, m, fams[f], EG_WLL_DNS_UDP,
				    IPPROTO_UDP, NULL);
				wl_nat(b, w, m, fams[f], EG_WLL_DNS_TCP,
				    IPPROTO_TCP, NULL);
			}
			for (p = 0; p < b->npx; p++) {
				int af = b->px[p].family == NFPROTO_IPV4 ?
				    AF_INET : AF_INET6;

				if (af == AF_INET6 && !b->v6)
					continue;
				wl_nat(b, w, m, af, EG_WLL_PROXY, IPPROTO_TCP,
				    &b->px[p]);
			}
		}
	}
}

/*
 * out_filter, after the detour's and the direct endpoints' accepts and
 * before [policy]'s listeners: a workload's uid reaches its own DNS and
 * proxy listeners (where out_nat sent it), nothing else on the host; a
 * counted drop, so it never reaches [policy]'s dohd or proxy by their
 * own ports.
 */
void
rules_wl_local_filter(struct nj_build *b)
{
	static const struct { uint8_t kind; int proto; } k[3] = {
		{ EG_WLL_DNS_UDP, IPPROTO_UDP },
		{ EG_WLL_DNS_TCP, IPPROTO_TCP },
		{ EG_WLL_PROXY, IPPROTO_TCP },
	};
	const struct eg_config *cfg = b->cfg;
	const struct eg_workload *w;
	const struct eg_wl_match *m;
	struct nj_target tg;
	struct nj_rule *r, mm;
	size_t i, j, f, n;

	for (i = 0; i < cfg->nworkloads; i++) {
		w = &cfg->workloads[i];
		for (j = 0; j < w->nmatches; j++) {
			m = &w->matches[j];
			if (m->kind != EG_WL_UID)
				continue;
			for (n = 0; n < 3; n++)
				for (f = 0; f < (b->v6 ? 2u : 1u); f++) {
					if (!wl_lo_target(b, w->name,
					    k[n].kind, fams[f], &tg))
						continue;
					r = rb_rule(b, NJ_CH_OUT_FILTER);
					rt_val(r, NJ_SKUID, (uint32_t)m->uid);
					rt_listener(r, tg.family, &tg,
					    k[n].proto);
					rt_kind(r, NJ_ACCEPT);
				}
			rb_match(&mm, NJ_CH_OUT_FILTER);
			rt_val(&mm, NJ_SKUID, (uint32_t)m->uid);
			rb_drop(b, &mm, "local", false);
		}
	}
}

/*
 * The listener guard on lo for the workloads' DNS and proxy listeners,
 * as guard_local does for [policy]'s: a squatter on one of their ports
 * gets no UDP query and completes no handshake.  The TPROXYed
 * transparent listeners are covered by the flow's fwmark bits already.
 */
void
rules_wl_local_guard(struct nj_build *b)
{
	static const uint8_t kinds[3] = { EG_WLL_DNS_UDP, EG_WLL_DNS_TCP,
	    EG_WLL_PROXY };
	const struct eg_config *cfg = b->cfg;
	struct nj_target tg;
	struct nj_rule *r;
	size_t i, k, f;

	for (i = 0; i < cfg->nworkloads; i++) {
		if (!wl_local(&cfg->workloads[i]))
			continue;
		for (k = 0; k < 3; k++)
			for (f = 0; f < (b->v6 ? 2u : 1u); f++) {
				if (!wl_lo_target(b, cfg->workloads[i].name,
				    kinds[k], fams[f], &tg))
					continue;
				if (kinds[k] == EG_WLL_DNS_UDP) {
					r = rb_rule(b, NJ_CH_INPUT);
					rt_str(r, NJ_IIF_NAME, "lo");
					rt_kind(r, NJ_CT_ORIGINAL);
					rt_listener(r, tg.family, &tg,
					    IPPROTO_UDP);
					rt_str(r, NJ_JUMP, nj_chains[
					    NJ_CH_IN_LISTENER].name);
					continue;
				}
				r = rb_rule(b, NJ_CH_OUT_LISTENER);
				rt_str(r, NJ_OIF_NAME, "lo");
				rt_listener_src(r, &tg, IPPROTO_TCP);
				rt_kind(r, NJ_SYNACK);
				rt_str(r, NJ_JUMP, nj_chains[
				    NJ_CH_LISTENER_SYNACK].name);
			}
	}
}
