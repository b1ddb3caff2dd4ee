/*
 * rules_build.h - the builder's shared vocabulary, for rules.c (the table,
 * the listener guard, the owner gates), rules_bridge.c (jailed bridges)
 * and rules_local.c (jailed local users); not for the rest of netjaild.
 */
#ifndef NJ_RULES_BUILD_H
#define NJ_RULES_BUILD_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "rules.h"

#define NJ_MAX_PROXY	16	/* proxy_listen entries given rules */

/* A listener as a NAT/TPROXY target for one family. */
struct nj_target {
	bool present;
	int family;		/* NFPROTO_IPV4 / NFPROTO_IPV6 */
	bool has_addr;		/* false: redirect / tproxy to the port only */
	bool loopback;
	uint8_t addr[16];
	uint16_t port;
};

/* One build: the config as the builders need it, and the table so far. */
struct nj_build {
	struct nj_ruleset *rs;
	const struct eg_config *cfg;
	bool v6;			/* [jail] ipv6 = jail */
	uint32_t mark;			/* [jail] fwmark */
	uint32_t dbit;			/* rules_direct_bit(mark) */
	struct nj_target dns4, dns6;	/* dohd */
	struct nj_target tp4, tp6;	/* connectd's transparent listener */
	struct nj_target px[NJ_MAX_PROXY];	/* connectd's explicit proxy */
	size_t npx;
	uint16_t pports[NJ_MAX_PROXY];	/* their ports, each once */
	size_t npports;
	const struct nj_wlregs *wl;	/* workload listeners; NULL: none */
	uint32_t wlfield;		/* ct mark field of the workload id */
	unsigned wlshift;		/* its lowest bit */
	/*
	 * Out of memory: set once a rule could not be added.  The builders
	 * go on writing into spill and rules_build() fails at the end, so
	 * no builder checks every rule it adds.
	 */
	bool nomem;
	struct nj_rule spill;
};

/* A new rule at the end of chain (never NULL; see nomem). */
struct nj_rule *rb_rule(struct nj_build *b, int chain);
/* An empty match for rb_drop(), in chain. */
struct nj_rule *rb_match(struct nj_rule *m, int chain);
/*
 * A counted drop (reject: a counted reject) of what match matches: a
 * rate-limited log rule, then the same match with counter and verdict.
 */
void rb_drop(struct nj_build *b, const struct nj_rule *match,
    const char *tag, bool reject);
/* The same, comment "TAG WORKLOAD" (status sums a workload's drops). */
void rb_drop_wl(struct nj_build *b, const struct nj_rule *match,
    const char *tag, const char *wl, bool reject);

enum rb_direct {
	RB_DIRECT_ACCEPT,	/* direct endpoints pass */
	RB_DIRECT_FLOWS,	/* ...and established direct flows */
	RB_DIRECT_FLOWS_MARK,	/* ...and the accepts mark the flow direct */
};
/* Direct endpoints of `who` in whoset pass (see rules.c). */
void rb_direct(struct nj_build *b, int chain, enum nj_term_kind who,
    int whoset, enum rb_direct mode);
/* Port 53 of `who` in whoset to dohd (see rules.c). */
void rb_dns_to_dohd(struct nj_build *b, int chain, enum nj_term_kind who,
    int whoset, bool from_bridge);

/* Terms: each appends one term (or the few a match needs) to r. */
void rt_kind(struct nj_rule *r, enum nj_term_kind k);
void rt_val(struct nj_rule *r, enum nj_term_kind k, uint32_t v);
void rt_val2(struct nj_rule *r, enum nj_term_kind k, uint32_t v,
    uint32_t v2);
void rt_set(struct nj_rule *r, enum nj_term_kind k, int set);
void rt_str(struct nj_rule *r, enum nj_term_kind k, const char *s);
void rt_nfproto(struct nj_rule *r, int family);
void rt_l4(struct nj_rule *r, int proto);
void rt_port(struct nj_rule *r, enum nj_term_kind k, int proto,
    uint16_t port);
void rt_daddr(struct nj_rule *r, int family, const uint8_t *addr);
void rt_addrport(struct nj_rule *r, int family, int set);
void rt_nat(struct nj_rule *r, enum nj_term_kind k, int family,
    const struct nj_target *tg);
/*
 * A listener as destination: its address and port, or, for a wildcard
 * listener, that port on any local address of the family (the listener
 * then holds the port on all of them).
 */
void rt_listener(struct nj_rule *r, int family, const struct nj_target *t,
    int proto);
/* A listener as the source of its answers: its address (or family), port. */
void rt_listener_src(struct nj_rule *r, const struct nj_target *t,
    int proto);

/* input: the host answers a bridge at listener t (rules_bridge.c). */
void rb_listener_in(struct nj_build *b, int family, const struct nj_target *t,
    int proto);

void rules_build_bridge(struct nj_build *b);	/* rules_bridge.c */
/*
 * rules_wl.c: each workload's bridge traffic to its own listeners, ahead
 * of the defaults in pre_nat (DNS first, TCP after the direct accepts),
 * those listeners in input, and in the listener guard.  Nothing without
 * workloads.  rules_wl_check: -1 with err for what cannot be steered yet.
 */
int rules_wl_check(const struct nj_build *b, char *err, size_t errlen);
void rules_wl_nat_dns(struct nj_build *b);
void rules_wl_nat_tcp(struct nj_build *b);
void rules_wl_input(struct nj_build *b);
void rules_wl_guard(struct nj_build *b);
void rules_build_local(struct nj_build *b);	/* rules_local.c */
/*
 * rules_wl_local.c: each uid: workload's TCP detour by the id in the ct
 * mark field (out_route, then pre_mangle's TPROXY), its DNS and explicit
 * proxy by uid (out_nat, out_filter), the listener guard on lo.
 * rules_wl_field: the field (WL_ID_BITS free of fwmark and the direct
 * bit), 0 when there is none.  rules_wl_local_check: -1 with err when
 * match m of w cannot be steered.
 */
uint32_t rules_wl_field(uint32_t fwmark, uint32_t dbit, unsigned *shift);
struct eg_workload;
struct eg_wl_match;
int rules_wl_local_check(const struct nj_build *b,
    const struct eg_workload *w, const struct eg_wl_match *m, char *err,
    size_t errlen);
void rules_wl_local_route(struct nj_build *b);
void rules_wl_local_tproxy(struct nj_build *b);
void rules_wl_local_nat(struct nj_build *b);
void rules_wl_local_filter(struct nj_build *b);
void rules_wl_local_guard(struct nj_build *b);
/*
 * rules_wl_direct.c: each workload's own literal direct endpoints in
 * chain, for its sources of kind who (NJ_IIF_SET bridges, NJ_SKUID_SET
 * local users), ctbit ORed into the ct mark (0: none).  _check: -1 with
 * err (file:line) for a name in a workload's direct.
 */
void rules_wl_direct(struct nj_build *b, int chain, enum nj_term_kind who,
    uint32_t ctbit);
int rules_wl_direct_check(const struct nj_build *b, char *err,
    size_t errlen);
/* rules_sets.c: the sets and their configured elements; -1 with err */
int rules_sets_fill(struct nj_ruleset *rs, const struct eg_config *cfg,
    char *err, size_t errlen);

#endif
