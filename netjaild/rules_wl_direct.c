/*
 * rules_wl_direct.c - a workload's own direct endpoints (issue 15): its
 * `direct =` lines hold for its own sources only, [jail] direct for all.
 * Wherever [jail] direct endpoints are accepted (rb_direct: pre_mangle,
 * pre_nat, input and forward for bridges; out_route, out_filter and
 * post_local for jailed users), each workload's own follow as literal
 * rules behind that workload's source match:
 *
 *   meta skuid 1001 ip daddr 10.0.9.0/24 tcp dport 5432 ct mark set ct mark | 0x00000002 accept
 *   iifname "br-ci*" ip daddr 10.0.9.5 tcp dport 6379 accept
 *
 * Literal rules, not sets: a workload has a handful of direct lines, and
 * the sets are one per kind for the whole table.  A flow accepted here
 * gets the direct bit where [jail] direct's do, so it outlives a reload
 * like theirs.  Names (`direct = db.internal:5432` in a workload) are
 * refused: dohd's set updates carry no workload, so their addresses
 * would land in the learned sets every jailed source shares
 * (docs/WORKLOADS.md).
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <linux/netfilter.h>

#include "rules.h"
#include "rules_build.h"
#include "workload.h"

int
rules_wl_direct_check(const struct nj_build *b, char *err, size_t errlen)
{
	const struct eg_config *cfg = b->cfg;
	const struct eg_direct *d;
	size_t i, j;

	for (i = 0; i < cfg->nworkloads; i++)
		for (j = 0; j < cfg->workloads[i].ndirect; j++) {
			d = &cfg->workloads[i].direct[j];
			if (!d->ep.is_name)
				continue;
			snprintf(err, errlen, "%s:%d: workload %s: direct = "
			    "%s:%u: a name is not taken in a workload's "
			    "direct (its addresses would open for every "
			    "workload); give its address or CIDR, or put it "
			    "in [jail] direct", d->at.file ? d->at.file :
			    "config", d->at.line, cfg->workloads[i].name,
			    d->ep.name, d->ep.port);
			return -1;
		}
	return 0;
}

/* Can match m be who (bridge: NJ_IIF_SET, local: NJ_SKUID_SET) for af? */
static bool
src_of(const struct nj_build *b, const struct eg_wl_match *m,
    enum nj_term_kind who, int af)
{
	if (af == AF_INET6 && !b->v6)
		return false;
	switch (m->kind) {
	case EG_WL_IFACE:
		return who == NJ_IIF_SET;
	case EG_WL_CIDR:
		return who == NJ_IIF_SET && m->cidr.ip.family == af;
	case EG_WL_UID:
		return who == NJ_SKUID_SET;
	default:
		return false;
	}
}

static void
src(struct nj_rule *r, const struct eg_wl_match *m)
{
	struct nj_term *t;

	switch (m->kind) {
	case EG_WL_IFACE:
		rt_str(r, NJ_IIF_NAME, m->text);
		break;
	case EG_WL_CIDR:
		rt_set(r, NJ_IIF_SET, NJ_SET_IFACES);
		rt_kind(r, NJ_SADDR_NET);
		t = &r->t[r->n - 1];
		t->family = m->cidr.ip.family == AF_INET ? NFPROTO_IPV4 :
		    NFPROTO_IPV6;
		t->val = m->cidr.plen;
		memcpy(t->addr, m->cidr.ip.addr, 16);
		break;
	default:
		rt_val(r, NJ_SKUID, (uint32_t)m->uid);
		break;
	}
}

void
rules_wl_direct(struct nj_build *b, int chain, enum nj_term_kind who,
    uint32_t ctbit)
{
	const struct eg_config *cfg = b->cfg;
	const struct eg_workload *w;
	const struct eg_direct *d;
	struct nj_rule *r;
	struct nj_term *t;
	size_t i, j, k;
	int af;

	for (i = 0; i < cfg->nworkloads; i++) {
		w = &cfg->workloads[i];
		for (j = 0; j < w->nmatches; j++)
			for (k = 0; k < w->ndirect; k++) {
				d = &w->direct[k];
				af = d->ep.cidr.ip.family;
				if (d->ep.is_name ||
				    !src_of(b, &w->matches[j], who, af))
					continue;
				r = rb_rule(b, chain);
				src(r, &w->matches[j]);
				rt_kind(r, NJ_DADDR_NET);
				t = &r->t[r->n - 1];
				t->family = af == AF_INET ? NFPROTO_IPV4 :
				    NFPROTO_IPV6;
				t->val = d->ep.cidr.plen;
				memcpy(t->addr, d->ep.cidr.ip.addr, 16);
				rt_port(r, NJ_DPORT, IPPROTO_TCP, d->ep.port);
				if (ctbit != 0)
					rt_val(r, NJ_CTMARK_OR, ctbit);
				rt_kind(r, NJ_ACCEPT);
			}
	}
}
