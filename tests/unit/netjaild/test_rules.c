/*
 * test_rules.c - the ruleset builder: golden nft text for several
 * configurations, and the invariants the jail rests on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <linux/netfilter.h>

#include <libnftnl/expr.h>
#include <libnftnl/rule.h>

#include "cfgs.h"
#include "rules.h"
#include "rules_term.h"
#include "wlreg.h"
#include "workload.h"
#include "status_wl.h"
#include "rules_build.h"
#include "install.h"

#include "test_list.h"

static char *
print_cfg(const char *name, struct nj_ruleset **out)
{
	struct eg_config *cfg = nj_test_config(name);
	struct nj_ruleset *rs;
	char err[256], *buf = NULL;
	size_t len = 0;
	FILE *f;

	assert_non_null(cfg);
	rs = rules_build_with(cfg, nj_test_wlregs(name), err, sizeof(err));
	if (rs == NULL)
		fail_msg("%s: %s", name, err);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	rules_print(rs, f);
	fclose(f);
	nj_test_config_free(cfg);
	if (out)
		*out = rs;
	else
		rules_free(rs);
	return buf;
}

static void
test_rules_match_golden(void **state)
{
	const char *name = *state, *dir = getenv("NJ_GOLDEN");
	char path[512], *got, *want;
	FILE *f;
	long n;

	assert_non_null(dir);
	got = print_cfg(name, NULL);
	snprintf(path, sizeof(path), "%s/%s.nft", dir, name);
	if (getenv("NJ_UPDATE_GOLDEN")) {
		f = fopen(path, "w");
		assert_non_null(f);
		fputs(got, f);
		fclose(f);
	}
	f = fopen(path, "r");
	if (f == NULL)
		fail_msg("missing golden file %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	want = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(want, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	if (strcmp(got, want) != 0) {
		fprintf(stderr, "---- got %s\n%s", name, got);
		fail_msg("%s differs from %s (NJ_UPDATE_GOLDEN=1 rewrites)",
		    name, path);
	}
	free(got);
	free(want);
}

static bool
has_kind(const struct nj_rule *r, enum nj_term_kind k)
{
	int i;

	for (i = 0; i < r->n; i++)
		if (r->t[i].kind == k)
			return true;
	return false;
}

/*
 * The one accept of a jailed source without a set lookup: an established
 * (never related: a helper's expectation inherits the master's ct mark)
 * flow in the original direction that carries the direct flows' ct mark
 * bit, which only the direct accepts set.
 */
static bool
direct_established(const struct nj_ruleset *rs, const struct nj_rule *r)
{
	uint32_t bit = rules_direct_bit(rs->mark);
	int i;

	if (bit == 0 || !has_kind(r, NJ_CT_ORIGINAL) ||
	    !has_kind(r, NJ_CT_EST) || has_kind(r, NJ_CT_ESTREL))
		return false;
	for (i = 0; i < r->n; i++)
		if (r->t[i].kind == NJ_CTMARK_HAS && r->t[i].val == bit)
			return true;
	return false;
}

/* Every tproxy rule is followed, in its chain, by a drop of the same match. */
static void
test_rules_tproxy_then_drop(void **state)
{
	const char *names[] = { "local", "both", "ipv6drop", "directs" };
	size_t i, j, k;

	(void)state;
	for (i = 0; i < 4; i++) {
		struct nj_ruleset *rs;
		bool seen = false;

		free(print_cfg(names[i], &rs));
		for (j = 0; j < rs->nrules; j++) {
			if (!has_kind(&rs->rules[j], NJ_TPROXY))
				continue;
			seen = true;
			for (k = j + 1; k < rs->nrules; k++)
				if (rs->rules[k].chain == rs->rules[j].chain &&
				    has_kind(&rs->rules[k], NJ_DROP))
					break;
			assert_true(k < rs->nrules);
		}
		assert_true(seen);
		rules_free(rs);
	}
}

/* Every drop and reject is counted, carries a comment and has a logger. */
static void
test_rules_drops_counted(void **state)
{
	const char *const *n;
	size_t j;

	(void)state;
	for (n = nj_test_config_names; *n; n++) {
		struct nj_ruleset *rs;

		free(print_cfg(*n, &rs));
		for (j = 0; j < rs->nrules; j++) {
			const struct nj_rule *r = &rs->rules[j];

			if (!has_kind(r, NJ_DROP) && !has_kind(r, NJ_REJECT))
				continue;
			assert_true(has_kind(r, NJ_COUNTER));
			assert_true(r->comment[0] != '\0');
			assert_true(j > 0 && has_kind(&rs->rules[j - 1],
			    NJ_LOG) && has_kind(&rs->rules[j - 1], NJ_LIMIT));
		}
		rules_free(rs);
	}
}

/* ipv6 = drop: no IPv6 NAT or TPROXY at all, and the IPv6 drops exist. */
static void
test_rules_ipv6_drop(void **state)
{
	struct nj_ruleset *rs;
	char *text;
	size_t j;
	int k;

	(void)state;
	text = print_cfg("ipv6drop", &rs);
	for (j = 0; j < rs->nrules; j++)
		for (k = 0; k < rs->rules[j].n; k++) {
			const struct nj_term *t = &rs->rules[j].t[k];

			assert_false((t->kind == NJ_TPROXY ||
			    t->kind == NJ_DNAT) && t->family == 10);
			assert_false(t->kind == NJ_REDIRECT);
		}
	assert_non_null(strstr(text, "comment \"bridge ipv6\""));
	assert_non_null(strstr(text, "comment \"local ipv6\""));
	/* neighbour discovery still passes before the drop */
	assert_true(strstr(text, "nd-neighbor-solicit accept") <
	    strstr(text, "comment \"bridge ipv6\""));
	free(text);
	rules_free(rs);
}

/* CIDR directs become interval elements; names are left to dohd. */
static void
test_rules_directs(void **state)
{
	struct nj_ruleset *rs;
	char *text;

	(void)state;
	text = print_cfg("directs", &rs);
	assert_int_equal(rs->sets[NJ_SET_DIRECT4].nelems, 2);
	assert_int_equal(rs->sets[NJ_SET_DIRECT6].nelems, 2);
	assert_non_null(strstr(text, "10.0.1.0/24 . 5432"));
	assert_non_null(strstr(text, "2001:db8::/32 . 443"));
	assert_null(strstr(text, "6379"));
	assert_true(rs->sets[NJ_SET_DIRECT4].interval);
	free(text);
	rules_free(rs);
}

/*
 * Learned direct addresses have hash sets of their own (timeout, no
 * interval: refreshing one must not rebuild an interval set), empty in the
 * config, and every rule that accepts @direct4/6 is followed by the same
 * rule on @direct4/6_learned.
 */
static int
direct_term(const struct nj_rule *r)
{
	int k;

	for (k = 0; k < r->n; k++)
		if (r->t[k].kind == NJ_ADDRPORT_SET)
			return k;
	return -1;
}

static void
test_rules_learned_directs(void **state)
{
	const char *const *n;
	size_t j, nconf, nlearned;
	int k, set;

	(void)state;
	for (n = nj_test_config_names; *n; n++) {
		struct nj_ruleset *rs;

		free(print_cfg(*n, &rs));
		for (set = NJ_SET_DIRECT4_LEARNED; set <= NJ_SET_DIRECT6_LEARNED;
		    set++) {
			assert_true(rs->sets[set].timeout);
			assert_false(rs->sets[set].interval);
			assert_int_equal(rs->sets[set].nelems, 0);
			assert_int_equal(rules_set_configured(set),
			    set - NJ_SET_DIRECT4_LEARNED + NJ_SET_DIRECT4);
		}
		assert_int_equal(rules_set_configured(NJ_SET_HOPS4),
		    NJ_SET_HOPS4);
		nconf = nlearned = 0;
		for (j = 0; j < rs->nrules; j++) {
			const struct nj_rule *r = &rs->rules[j], *nx;
			struct nj_rule want;

			if ((k = direct_term(r)) < 0)
				continue;
			set = r->t[k].set;
			if (set == NJ_SET_DIRECT4_LEARNED ||
			    set == NJ_SET_DIRECT6_LEARNED)
				nlearned++;
			if (set != NJ_SET_DIRECT4 && set != NJ_SET_DIRECT6)
				continue;
			nconf++;
			assert_true(j + 1 < rs->nrules);
			nx = &rs->rules[j + 1];
			want = *r;
			want.t[k].set = set + NJ_SET_DIRECT4_LEARNED -
			    NJ_SET_DIRECT4;
			assert_int_equal(nx->chain, r->chain);
			assert_int_equal(nx->n, r->n);
			assert_memory_equal(nx->t, want.t, sizeof(want.t[0]) *
			    (size_t)r->n);
			assert_true(has_kind(nx, NJ_ACCEPT));
		}
		assert_true(nconf > 0);
		assert_int_equal(nconf, nlearned);
		rules_free(rs);
	}
}

/*
 * A long list of directs with repeats: each endpoint once, in the order it
 * was first written (the builder de-duplicates in O(n log n)).
 */
static void
test_rules_directs_repeated(void **state)
{
	struct eg_config *cfg = nj_test_config("directs");
	struct eg_direct *d, *old;
	struct nj_ruleset *rs;
	const struct nj_set *s4;
	char err[256];
	size_t i, n = 20000;

	(void)state;
	assert_non_null(cfg);
	d = calloc(n, sizeof(*d));
	assert_non_null(d);
	for (i = 0; i < n; i++) {
		/* 10.1.x.y:5432 for k = 0..9999, each twice, second copies
		 * in reverse order, with a /24 that repeats too */
		size_t k = i < n / 2 ? i : n - 1 - i;

		d[i].ep.cidr.ip.family = AF_INET;
		d[i].ep.cidr.ip.addr[0] = 10;
		d[i].ep.cidr.ip.addr[1] = 1;
		d[i].ep.cidr.ip.addr[2] = (uint8_t)(k >> 8);
		d[i].ep.cidr.ip.addr[3] = (uint8_t)k;
		d[i].ep.cidr.plen = 32;
		d[i].ep.port = 5432;
	}
	old = cfg->jail.direct;
	cfg->jail.direct = d;
	cfg->jail.ndirect = n;
	rs = rules_build(cfg, err, sizeof(err));
	if (rs == NULL)
		fail_msg("%s", err);
	s4 = &rs->sets[NJ_SET_DIRECT4];
	assert_int_equal(s4->nelems, n / 2);
	for (i = 0; i < n / 2; i++) {
		assert_int_equal(s4->elems[i].lo[2], (uint8_t)(i >> 8));
		assert_int_equal(s4->elems[i].lo[3], (uint8_t)i);
		assert_int_equal(s4->elems[i].port, 5432);
	}
	assert_int_equal(rs->sets[NJ_SET_DIRECT6].nelems, 0);
	rules_free(rs);
	cfg->jail.direct = old;
	free(d);
	nj_test_config_free(cfg);
}

static void
test_rules_nohops(void **state)
{
	struct nj_ruleset *rs;

	(void)state;
	free(print_cfg("nohops", &rs));
	assert_int_equal(rs->sets[NJ_SET_HOPS4].nelems, 0);
	/* the gate stays: hops learned later are still owner-gated */
	assert_true(rs->chain_used[NJ_CH_OUT_FILTER]);
	assert_false(rs->chain_used[NJ_CH_OUT_ROUTE]);
	rules_free(rs);
}

/*
 * dohd on [::1] as well: a local user's IPv6 DNS is DNATed there, but a
 * bridge's cannot be (IPv6 has no route_localnet) and is redirected to the
 * port on the address it came to.
 */
static void
test_rules_dns_ipv6_loopback(void **state)
{
	static char *listen[] = { "127.0.0.1:15353", "[::1]:15353" };
	struct eg_config *cfg = nj_test_config("both");
	struct nj_ruleset *rs;
	char err[256], *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_non_null(cfg);
	cfg->dohd.listen = listen;
	cfg->dohd.nlisten = 2;
	rs = rules_build(cfg, err, sizeof(err));
	if (rs == NULL)
		fail_msg("%s", err);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	rules_print(rs, f);
	fclose(f);
	assert_non_null(strstr(buf, "iifname @jailed_ifaces meta nfproto ipv6 "
	    "udp dport 53 redirect to :15353\n"));
	assert_non_null(strstr(buf, "iifname @jailed_ifaces meta nfproto ipv6 "
	    "tcp dport 53 redirect to :15353\n"));
	assert_null(strstr(buf, "iifname @jailed_ifaces meta nfproto ipv6 "
	    "udp dport 53 dnat"));
	assert_non_null(strstr(buf, "meta skuid @jailed_uids meta nfproto ipv6 "
	    "udp dport 53 dnat ip6 to [::1]:15353\n"));
	assert_non_null(strstr(buf, "meta skuid @jailed_uids meta nfproto ipv6 "
	    "tcp dport 53 dnat ip6 to [::1]:15353\n"));
	/* IPv4 DNS to 127.0.0.1 from both */
	assert_non_null(strstr(buf, "iifname @jailed_ifaces udp dport 53 dnat "
	    "ip to 127.0.0.1:15353\n"));
	assert_non_null(strstr(buf, "meta skuid @jailed_uids udp dport 53 dnat "
	    "ip to 127.0.0.1:15353\n"));
	free(buf);
	rules_free(rs);
	nj_test_config_free(cfg);
}

/* The forward chain's rule of that comment (its drop), or -1. */
static long
forward_drop(const struct nj_ruleset *rs, const char *comment)
{
	size_t j;

	for (j = 0; j < rs->nrules; j++)
		if (rs->rules[j].chain == NJ_CH_FORWARD &&
		    strcmp(rs->rules[j].comment, comment) == 0)
			return (long)j;
	return -1;
}

/*
 * inbound = published: the only accepts in the forward chain for a jailed
 * source are direct endpoints and the reply direction of a DNATed flow
 * (all before "bridge forward"); the DNATed inbound accept comes after
 * that drop, so no packet a jailed source sends can reach it.  inbound =
 * drop: no ct status dnat anywhere.
 */
static void
test_rules_published_inbound(void **state)
{
	const char *const *n;
	size_t j;

	(void)state;
	for (n = nj_test_config_names; *n; n++) {
		struct nj_ruleset *rs;
		long fwd, inb, in_at = -1, reply_at = -1;
		bool drop = strcmp(*n, "inbounddrop") == 0;

		free(print_cfg(*n, &rs));
		fwd = forward_drop(rs, "bridge forward");
		inb = forward_drop(rs, "bridge inbound");
		if (fwd < 0) {	/* no bridge: no forward rules */
			rules_free(rs);
			continue;
		}
		assert_true(fwd < inb);
		for (j = 0; j < rs->nrules; j++) {
			const struct nj_rule *r = &rs->rules[j];

			if (r->chain != NJ_CH_FORWARD ||
			    !has_kind(r, NJ_ACCEPT))
				continue;
			if (has_kind(r, NJ_CT_DNAT)) {
				assert_false(drop);
				if (has_kind(r, NJ_CT_REPLY)) {
					assert_true(has_kind(r, NJ_IIF_SET));
					reply_at = (long)j;
				} else {
					assert_true(has_kind(r, NJ_OIF_SET));
					assert_false(has_kind(r, NJ_IIF_SET));
					in_at = (long)j;
				}
			} else if (has_kind(r, NJ_IIF_SET))
				/* [jail] direct, a workload's own, a flow */
				assert_true(has_kind(r, NJ_ADDRPORT_SET) ||
				    (has_kind(r, NJ_DADDR_NET) &&
				    has_kind(r, NJ_DPORT)) ||
				    direct_established(rs, r));
		}
		if (drop) {
			assert_int_equal(in_at, -1);
			assert_int_equal(reply_at, -1);
		} else {
			assert_true(reply_at >= 0 && reply_at < fwd);
			assert_true(in_at > fwd && in_at < inb);
		}
		rules_free(rs);
	}
}

/* Does chain hold a jump to `to` with all these terms (and port)? */
static bool
guard_jump(const struct nj_ruleset *rs, int chain, const char *to,
    const enum nj_term_kind *want, size_t nwant, enum nj_term_kind pk,
    uint16_t port, int proto)
{
	size_t j, k;

	for (j = 0; j < rs->nrules; j++) {
		const struct nj_rule *r = &rs->rules[j];
		bool ok = r->chain == chain && has_kind(r, NJ_JUMP) &&
		    strcmp(r->t[r->n - 1].str, to) == 0;
		int i;

		for (k = 0; ok && k < nwant; k++)
			ok = has_kind(r, want[k]);
		if (ok && port != 0) {
			ok = false;
			for (i = 0; i < r->n; i++)
				if (r->t[i].kind == pk && r->t[i].val == port &&
				    r->t[i].proto == proto)
					ok = true;
		}
		if (ok)
			return true;
	}
	return false;
}

/* The first rule of chain c, checked to be "MATCH val return" + a drop. */
static void
guard_chain(const struct nj_ruleset *rs, int c, enum nj_term_kind match,
    uint32_t val, enum nj_term_kind verdict)
{
	const struct nj_rule *g = NULL;
	size_t j;

	for (j = 0; j < rs->nrules && g == NULL; j++)
		if (rs->rules[j].chain == c)
			g = &rs->rules[j];
	assert_non_null(g);
	assert_int_equal(g->n, 2);
	assert_int_equal(g->t[0].kind, match);
	assert_int_equal(g->t[0].val, val);
	assert_int_equal(g->t[1].kind, NJ_RETURN);
	assert_true(g[2].chain == c && has_kind(&g[2], verdict) &&
	    has_kind(&g[2], NJ_COUNTER));
}

/*
 * Door 6, listener squatting: jailed traffic reaches only a listener with
 * the listener mark.  TCP: every SYN-ACK from a listener port to a jailed
 * bridge, from a listener's own address on lo, and of a local user's
 * TPROXYed flow (ct mark) meets listener_synack, which returns for the
 * mark (meta mark: a SYN-ACK carries its listener's) and drops the rest.
 * No TCP check on input (a TIME_WAIT socket hides the listener's mark
 * there).  UDP: every original-direction packet to dohd's port meets
 * in_listener (socket mark) before any accept of input.
 */
static void
test_rules_listener_guard(void **state)
{
	static const enum nj_term_kind br_syn[] = { NJ_OIF_SET, NJ_SYNACK };
	static const enum nj_term_kind br_udp[] = { NJ_IIF_SET,
	    NJ_CT_ORIGINAL };
	static const enum nj_term_kind lo_tp[] = { NJ_OIF_NAME, NJ_CT_REPLY,
	    NJ_CTMARK_HAS, NJ_SYNACK };
	static const enum nj_term_kind lo_syn[] = { NJ_OIF_NAME, NJ_SADDR,
	    NJ_SYNACK };
	const char *const *n;
	size_t j;

	(void)state;
	for (n = nj_test_config_names; *n; n++) {
		struct eg_config *cfg = nj_test_config(*n);
		struct nj_ruleset *rs;
		char *text = print_cfg(*n, &rs);
		bool bridge = cfg->jail.ninterfaces > 0;
		bool local = cfg->jail.nusers > 0;
		bool accepted = false;

		guard_chain(rs, NJ_CH_IN_LISTENER, NJ_SOCKET_MARK,
		    cfg->jail.listener_mark, NJ_REJECT);
		guard_chain(rs, NJ_CH_LISTENER_SYNACK, NJ_MARK,
		    cfg->jail.listener_mark, NJ_DROP);
		for (j = 0; j < rs->nrules; j++) {
			const struct nj_rule *r = &rs->rules[j];

			if (r->chain == NJ_CH_OUT_LISTENER) {
				/* only SYN-ACKs, only jumps */
				assert_true(has_kind(r, NJ_SYNACK));
				assert_true(has_kind(r, NJ_JUMP));
				/* lo: by address/port or the TPROXY ct mark */
				if (has_kind(r, NJ_OIF_NAME))
					assert_true(has_kind(r, NJ_SPORT) ||
					    has_kind(r, NJ_CTMARK_HAS));
			}
			if (r->chain != NJ_CH_INPUT)
				continue;
			if (has_kind(r, NJ_ACCEPT))
				accepted = true;
			if (!has_kind(r, NJ_JUMP) ||
			    strcmp(r->t[r->n - 1].str, "in_listener") != 0)
				continue;
			/* before every accept; UDP per packet, never "new" */
			assert_false(accepted);
			assert_true(has_kind(r, NJ_CT_ORIGINAL));
			assert_false(has_kind(r, NJ_CT_NEW));
			if (has_kind(r, NJ_IIF_NAME))
				assert_true(has_kind(r, NJ_DADDR) ||
				    has_kind(r, NJ_FIB_LOCAL));
		}
		/* no TCP socket check on input */
		assert_null(strstr(text, "tcp dport 15001 jump in_listener"));
		if (bridge) {
			assert_true(guard_jump(rs, NJ_CH_OUT_LISTENER,
			    "listener_synack", br_syn, 2, NJ_SPORT, 15001,
			    IPPROTO_TCP));
			assert_true(guard_jump(rs, NJ_CH_OUT_LISTENER,
			    "listener_synack", br_syn, 2, NJ_SPORT, 15353,
			    IPPROTO_TCP));
			assert_true(guard_jump(rs, NJ_CH_OUT_LISTENER,
			    "listener_synack", br_syn, 2, NJ_SPORT, 3128,
			    IPPROTO_TCP));
			assert_true(guard_jump(rs, NJ_CH_INPUT, "in_listener",
			    br_udp, 2, NJ_DPORT, 15353, IPPROTO_UDP));
		}
		assert_int_equal(guard_jump(rs, NJ_CH_OUT_LISTENER,
		    "listener_synack", lo_tp, 4, NJ_SPORT, 0, 0), local);
		if (local) {
			assert_true(guard_jump(rs, NJ_CH_OUT_LISTENER,
			    "listener_synack", lo_syn, 3, NJ_SPORT, 15353,
			    IPPROTO_TCP));
			assert_non_null(strstr(text, "iifname \"lo\" ct "
			    "direction original ip daddr 127.0.0.1 udp dport "
			    "15353 jump in_listener\n"));
			assert_non_null(strstr(text, "oifname \"lo\" ip saddr "
			    "127.0.0.1 tcp sport 15353 tcp flags & (syn | ack) "
			    "== syn | ack jump listener_synack\n"));
		} else {
			assert_null(strstr(text, "iifname \"lo\""
			    " ct direction original"));
			assert_null(strstr(text, "oifname \"lo\""));
		}
		free(text);
		rules_free(rs);
		nj_test_config_free(cfg);
	}
}

/* The mark comes from [jail] listener_mark. */
static void
test_rules_listener_mark_configured(void **state)
{
	struct eg_config *cfg = nj_test_config("both");
	struct nj_ruleset *rs;
	char err[256], *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	cfg->jail.listener_mark = 0xbeef00;
	rs = rules_build(cfg, err, sizeof(err));
	if (rs == NULL)
		fail_msg("%s", err);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	rules_print(rs, f);
	fclose(f);
	assert_non_null(strstr(buf, "socket mark 0x00beef00 return\n"));
	assert_non_null(strstr(buf, "meta mark 0x00beef00 return\n"));
	assert_null(strstr(buf, "0x00001000"));
	free(buf);
	rules_free(rs);
	nj_test_config_free(cfg);
}

/*
 * Direct flows outlive their set element: every direct accept in the
 * chains that decide (forward, out_filter) sets the bit, and each of
 * forward, out_route and out_filter passes established flows carrying it
 * after its direct accepts and before anything that diverts or drops.
 */
static bool
is_direct(const struct nj_rule *r)
{
	int i;

	for (i = 0; i < r->n; i++)
		if (r->t[i].kind == NJ_ADDRPORT_SET &&
		    rules_set_configured(r->t[i].set) >= NJ_SET_DIRECT4 &&
		    rules_set_configured(r->t[i].set) <= NJ_SET_DIRECT6)
			return true;
	return false;
}

static void
test_rules_direct_flows(void **state)
{
	static const int chains[] = { NJ_CH_FORWARD, NJ_CH_OUT_ROUTE,
	    NJ_CH_OUT_FILTER };
	struct nj_ruleset *rs;
	size_t j, k;

	(void)state;
	assert_int_equal(rules_direct_bit(0x1), 0x2);
	assert_int_equal(rules_direct_bit(0x3), 0x4);
	assert_int_equal(rules_direct_bit(0x100), 0x200);
	assert_int_equal(rules_direct_bit(0x2), 0x4);
	assert_int_equal(rules_direct_bit(0x80000000u), 0x1);
	assert_int_equal(rules_direct_bit(0xffffffffu), 0);
	free(print_cfg("both", &rs));
	for (k = 0; k < sizeof(chains) / sizeof(chains[0]); k++) {
		long last_direct = -1, est = -1, first_other = -1;
		int c = chains[k];

		for (j = 0; j < rs->nrules; j++) {
			const struct nj_rule *r = &rs->rules[j];

			if (r->chain != c)
				continue;
			if (is_direct(r)) {
				last_direct = (long)j;
				/* set where the verdict is final */
				assert_true(has_kind(r, NJ_CTMARK_OR) ==
				    (c != NJ_CH_OUT_ROUTE));
				if (c != NJ_CH_OUT_ROUTE)
					assert_int_equal(r->t[r->n - 2].val, 0x2);
			} else if (direct_established(rs, r)) {
				assert_int_equal(est, -1);	/* one */
				assert_true(has_kind(r, c == NJ_CH_FORWARD ?
				    NJ_IIF_SET : NJ_SKUID_SET));
				est = (long)j;
			} else if (last_direct >= 0 && first_other < 0 &&
			    (has_kind(r, NJ_DROP) || has_kind(r, NJ_LOG) ||
			    has_kind(r, NJ_MARK_SET)))
				first_other = (long)j;
		}
		assert_true(last_direct >= 0);
		assert_true(est > last_direct);
		assert_true(first_other < 0 || est < first_other);
	}
	/* the prerouting chains see only new flows or accept all TCP */
	for (j = 0; j < rs->nrules; j++)
		if (rs->rules[j].chain == NJ_CH_PRE_MANGLE ||
		    rs->rules[j].chain == NJ_CH_PRE_NAT)
			assert_false(direct_established(rs, &rs->rules[j]) ||
			    has_kind(&rs->rules[j], NJ_CTMARK_OR));
	rules_free(rs);
}

/*
 * A local user's verdict does not depend on routing (issue 18, doors 1
 * and 2): the output hook sees the device of the first route lookup, so
 * the postrouting chain judges the device a packet really leaves by.
 * There, with a jailed user: (a) nothing is accepted but direct
 * endpoints (and established flows that began as one), in post_local,
 * (b) a jailed uid's packet on any device but lo jumps there and ends in
 * a drop, (c) with the TPROXY detour, a packet carrying the mark that is
 * not on lo is dropped first, whoever sent it.  Without a jailed user
 * neither chain is there.
 */
static bool
has_str(const struct nj_rule *r, enum nj_term_kind k, const char *s)
{
	int i;

	for (i = 0; i < r->n; i++)
		if (r->t[i].kind == k && strcmp(r->t[i].str, s) == 0)
			return true;
	return false;
}

static void
test_rules_local_verdict_postrouting(void **state)
{
	const char *const *n;
	size_t j, nrules;

	(void)state;
	assert_int_equal(nj_chains[NJ_CH_POST_FILTER].hook,
	    NF_INET_POST_ROUTING);
	assert_int_equal(nj_chains[NJ_CH_POST_LOCAL].hook, -1);
	for (n = nj_test_config_names; *n; n++) {
		struct eg_config *cfg = nj_test_config(*n);
		const struct nj_rule *last = NULL, *markdrop = NULL;
		const struct nj_rule *jump = NULL;
		struct nj_ruleset *rs;
		bool users = cfg->jail.nusers > 0;
		bool tproxy = cfg->connectd.transparent_listen != NULL;

		nj_test_config_free(cfg);
		free(print_cfg(*n, &rs));
		assert_true(rs->chain_used[NJ_CH_POST_FILTER] == users);
		assert_true(rs->chain_used[NJ_CH_POST_LOCAL] == users);
		for (j = 0, nrules = 0; j < rs->nrules; j++) {
			const struct nj_rule *r = &rs->rules[j];

			if (r->chain == NJ_CH_POST_FILTER) {
				nrules++;
				/* nothing accepted in the base chain */
				assert_false(has_kind(r, NJ_ACCEPT));
				if (has_kind(r, NJ_JUMP))
					jump = r;
				if (has_kind(r, NJ_DROP)) {
					/* first, whoever sent it */
					markdrop = r;
					assert_true(has_kind(r, NJ_MARK));
					assert_true(has_str(r, NJ_OIF_NAME_NE,
					    "lo"));
					assert_false(has_kind(r, NJ_SKUID_SET));
					assert_int_equal(nrules, 2);
				}
				continue;
			}
			if (r->chain != NJ_CH_POST_LOCAL)
				continue;
			last = r;
			/* a direct endpoint, or a flow that began as one */
			if (has_kind(r, NJ_ACCEPT) && has_kind(r, NJ_SKUID)) {
				/* a workload's own direct endpoint */
				assert_true(has_kind(r, NJ_DADDR_NET) &&
				    has_kind(r, NJ_DPORT));
			} else if (has_kind(r, NJ_ACCEPT)) {
				assert_true(has_kind(r, NJ_SKUID_SET));
				assert_true(direct_term(r) >= 0 ||
				    direct_established(rs, r));
			}
		}
		if (!users) {
			rules_free(rs);
			continue;
		}
		/* every jailed user's packet off lo goes to post_local ... */
		assert_non_null(jump);
		assert_true(has_kind(jump, NJ_SKUID_SET));
		assert_true(has_str(jump, NJ_OIF_NAME_NE, "lo"));
		assert_true(has_str(jump, NJ_JUMP, "post_local"));
		/* ... whose last word is a drop */
		assert_non_null(last);
		assert_true(has_kind(last, NJ_DROP));
		assert_string_equal(last->comment, "local leaves");
		assert_true((markdrop != NULL) == tproxy);
		rules_free(rs);
	}
}

/*
 * Door 3 (issue 18): the input chain lets a jailed bridge reach the host
 * only at an address:port pair, or at a port a NAT rule sent it to; never
 * by a port number alone on every host address.  Direct endpoints on host
 * addresses pass (issue 14 point 4).
 */
static void
test_rules_bridge_input_pairs(void **state)
{
	const char *names[] = { "bridge", "both", "directs", "example" };
	size_t i, j, direct;

	(void)state;
	for (i = 0; i < 4; i++) {
		struct nj_ruleset *rs;
		char *text = print_cfg(names[i], &rs);

		direct = 0;
		for (j = 0; j < rs->nrules; j++) {
			const struct nj_rule *r = &rs->rules[j];

			if (r->chain != NJ_CH_INPUT || !has_kind(r, NJ_ACCEPT))
				continue;
			if (has_kind(r, NJ_ADDRPORT_SET))
				direct++;
			if (!has_kind(r, NJ_DPORT))
				continue;
			assert_true(has_kind(r, NJ_DADDR) ||
			    has_kind(r, NJ_CT_DNAT));
		}
		assert_int_equal(direct, 4);
		/* the proxy port of another host address is DNATed */
		assert_null(strstr(text, "iifname @jailed_ifaces fib daddr type "
		    "local tcp dport"));
		free(text);
		rules_free(rs);
	}
}

/* A wildcard proxy listener owns its port on every address of its family. */
static void
test_rules_bridge_input_wildcard_proxy(void **state)
{
	static char *px[] = { "0.0.0.0:3128", "[::]:8080" };
	static char *dns[] = { "[::]:5353" };
	struct eg_config *cfg = nj_test_config("bridge");
	struct nj_ruleset *rs;
	char err[256], *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_non_null(cfg);
	cfg->connectd.proxy_listen = px;
	cfg->connectd.nproxy_listen = 2;
	cfg->dohd.listen = dns;
	cfg->dohd.nlisten = 1;
	rs = rules_build(cfg, err, sizeof(err));
	if (rs == NULL)
		fail_msg("%s", err);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	rules_print(rs, f);
	fclose(f);
	assert_non_null(strstr(buf, "iifname @jailed_ifaces meta nfproto ipv4 "
	    "fib daddr type local tcp dport 3128 accept\n"));
	assert_non_null(strstr(buf, "iifname @jailed_ifaces meta nfproto ipv6 "
	    "fib daddr type local tcp dport 8080 accept\n"));
	assert_null(strstr(buf, "meta nfproto ipv6 fib daddr type local tcp "
	    "dport 3128"));
	/* a wildcard dohd is reached by redirect: the NAT status decides */
	assert_non_null(strstr(buf, "iifname @jailed_ifaces meta nfproto ipv4 "
	    "ct status dnat udp dport 5353 accept\n"));
	assert_non_null(strstr(buf, "iifname @jailed_ifaces meta nfproto ipv6 "
	    "ct status dnat udp dport 5353 accept\n"));
	free(buf);
	rules_free(rs);
	nj_test_config_free(cfg);
}

/*
 * Door 4: a forged source is dropped and counted before anything from a
 * bridge is accepted, after neighbour discovery (DAD comes from ::).
 */
static void
test_rules_bridge_spoofed_source(void **state)
{
	const char *const *n;
	size_t j, drop, first_accept, nd;

	(void)state;
	for (n = nj_test_config_names; *n; n++) {
		struct nj_ruleset *rs;

		free(print_cfg(*n, &rs));
		drop = first_accept = nd = SIZE_MAX;
		for (j = 0; j < rs->nrules; j++) {
			const struct nj_rule *r = &rs->rules[j];

			if (r->chain != NJ_CH_PRE_MANGLE ||
			    r->t[0].kind != NJ_IIF_SET)
				continue;
			if (has_kind(r, NJ_ICMPV6_TYPE))
				nd = j;
			else if (has_kind(r, NJ_ACCEPT) &&
			    first_accept == SIZE_MAX)
				first_accept = j;
			if (has_kind(r, NJ_FIB_SADDR_MISSING) &&
			    has_kind(r, NJ_DROP)) {
				assert_string_equal(r->comment,
				    "bridge spoofed source");
				drop = j;
			}
		}
		if (rs->sets[NJ_SET_IFACES].nelems == 0) {
			assert_true(drop == SIZE_MAX);
		} else {
			assert_true(drop != SIZE_MAX);
			assert_true(nd < drop);
			assert_true(drop < first_accept);
		}
		rules_free(rs);
	}
}

static int
count_expr(struct nftnl_expr *e, void *arg)
{
	(void)e;
	(*(int *)arg)++;
	return 0;
}

/*
 * Every term kind has its entry in rules_term.c: a text of its own (two
 * kinds printing the same words would be a table slip) and at least one
 * expression.  A kind without an entry aborts the test.
 */
static void
test_rules_every_term_kind(void **state)
{
	char *text[NJ_TERM__MAX];
	struct nj_term t;
	int k, j, nexpr;

	(void)state;
	for (k = 0; k < NJ_TERM__MAX; k++) {
		struct nftnl_rule *r = nftnl_rule_alloc();
		size_t len = 0;
		FILE *f;

		memset(&t, 0, sizeof(t));
		t.kind = (enum nj_term_kind)k;
		t.family = NFPROTO_IPV4;
		t.proto = IPPROTO_TCP;
		t.set = NJ_SET_IFACES;
		t.val = 7;
		snprintf(t.str, sizeof(t.str), "lo");
		text[k] = NULL;
		f = open_memstream(&text[k], &len);
		assert_non_null(f);
		rules_term_print(&t, f);
		fclose(f);
		assert_true(len > 0);
		for (j = 0; j < k; j++)
			if (strcmp(text[j], text[k]) == 0)
				fail_msg("kinds %d and %d both print \"%s\"", j, k,
				    text[k]);
		assert_non_null(r);
		rules_term_emit(r, &t);
		nexpr = 0;
		nftnl_expr_foreach(r, count_expr, &nexpr);
		if (nexpr == 0)
			fail_msg("kind %d (%s) emits no expression", k, text[k]);
		nftnl_rule_free(r);
	}
	for (k = 0; k < NJ_TERM__MAX; k++)
		free(text[k]);
}

/* A config rules_build cannot use: NULL, and err names the key and value. */
static void
build_fails(struct eg_config *cfg, const char *want)
{
	struct nj_ruleset *rs;
	char err[256];

	err[0] = '\0';
	rs = rules_build(cfg, err, sizeof(err));
	if (rs != NULL)
		fail_msg("built a ruleset, wanted \"%s\"", want);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("error \"%s\", wanted \"%s...\"", err, want);
}

static void
test_rules_build_errors(void **state)
{
	static char *longif[] = { "br-ej", "a-name-too-long-for-linux" };
	static char *bad[] = { "no-such-address" };
	struct eg_config *cfg;

	(void)state;
	cfg = nj_test_config("both");
	cfg->jail.interfaces = longif;
	cfg->jail.ninterfaces = 2;
	build_fails(cfg, "interface \"a-name-too-long-for-linux\": name too "
	    "long");
	nj_test_config_free(cfg);
	cfg = nj_test_config("both");
	cfg->dohd.listen = bad;
	build_fails(cfg, "[dohd] listen \"no-such-address\": ");
	nj_test_config_free(cfg);
	cfg = nj_test_config("both");
	cfg->connectd.transparent_listen = bad[0];
	build_fails(cfg, "[connectd] transparent_listen \"no-such-address\": ");
	nj_test_config_free(cfg);
	cfg = nj_test_config("both");
	cfg->connectd.proxy_listen = bad;
	cfg->connectd.nproxy_listen = 1;
	build_fails(cfg, "[connectd] proxy_listen \"no-such-address\": ");
	nj_test_config_free(cfg);
}

static size_t
count_of(const char *hay, const char *needle)
{
	size_t n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

/* The text of cfg's ruleset with these registrations. */
static char *
print_with(const struct eg_config *cfg, const struct nj_wlregs *regs)
{
	struct nj_ruleset *rs;
	char err[256], *buf = NULL;
	size_t len = 0;
	FILE *f;

	rs = rules_build_with(cfg, regs, err, sizeof(err));
	if (rs == NULL)
		fail_msg("%s", err);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	rules_print(rs, f);
	fclose(f);
	rules_free(rs);
	return buf;
}

/*
 * Workloads with nothing registered: every kind of every workload's
 * bridge traffic is a counted drop before the defaults, none is steered
 * anywhere; one registration steers that kind only.  A match that
 * cannot be steered yet (uid:) refuses the build, naming its line.
 */
static void
test_rules_workloads_fail_closed(void **state)
{
	struct eg_config *cfg = nj_test_config("workloads");
	struct nj_wlreg reg = { "db", EG_WLL_TRANSPARENT, AF_INET, 41000,
	    NULL };
	struct nj_wlregs regs = { &reg, 1, 1 };
	char err[256], *buf;

	(void)state;
	buf = print_with(cfg, NULL);
	/* ci: 2 families x 3 kinds; web: 2 prefixes x 3; db: 2 x 3 */
	assert_int_equal(count_of(buf, "counter drop comment \"workload "
	    "unregistered "), 18);
	assert_int_equal(count_of(buf, "counter drop comment \"workload "
	    "unregistered db\""), 6);
	assert_null(strstr(buf, "127.0.0.1:4"));
	assert_null(strstr(buf, "redirect to :4"));
	/* before any default steering in pre_nat */
	assert_true(strstr(buf, "comment \"workload unregistered ") <
	    strstr(buf, "dnat ip to 127.0.0.1:15353"));
	free(buf);
	buf = print_with(cfg, &regs);
	assert_int_equal(count_of(buf, "counter drop comment \"workload "
	    "unregistered "), 17);
	assert_int_equal(count_of(buf, "counter drop comment \"workload "
	    "unregistered db\""), 5);
	assert_int_equal(count_of(buf, "iifname \"br-ej\" meta l4proto tcp "
	    "dnat ip to 127.0.0.1:41000"), 1);
	assert_int_equal(count_of(buf, "ip daddr 127.0.0.1 tcp dport 41000 "
	    "accept"), 1);
	assert_int_equal(count_of(buf, "tcp sport 41000 tcp flags"), 1);
	free(buf);
	/* db by a uid that is no [jail] user: never steered, no table */
	assert_true(eg_wl_match_parse("uid:root", &cfg->workloads[2].matches[0],
	    err));
	cfg->workloads[2].matches[0].at.file = "workloads.conf";
	cfg->workloads[2].matches[0].at.line = 31;
	err[0] = '\0';
	assert_null(rules_build_with(cfg, &regs, err, sizeof(err)));
	assert_string_equal(err, "workloads.conf:31: workload db: match = "
	    "uid:root is no [jail] user");
	/* by cgroup: not steered yet, so no table */
	assert_true(eg_wl_match_parse("cgroup:/system.slice/ci.service",
	    &cfg->workloads[2].matches[0], err));
	cfg->workloads[2].matches[0].at.file = "workloads.conf";
	cfg->workloads[2].matches[0].at.line = 32;
	err[0] = '\0';
	assert_null(rules_build_with(cfg, &regs, err, sizeof(err)));
	assert_non_null(strstr(err, "workloads.conf:32: workload db: match = "
	    "cgroup:/system.slice/ci.service "));
	nj_test_config_free(cfg);
}

static const char *
after(const char *buf, const char *a, const char *b)
{
	const char *pa = strstr(buf, a), *pb = strstr(buf, b);

	if (pa == NULL || pb == NULL)
		fail_msg("missing: %s", pa == NULL ? a : b);
	return pa < pb ? pb : NULL;
}

/*
 * uid: workloads: each uid's detoured TCP carries its workload's id in
 * the ct mark field and is TPROXYed to its own listener ahead of
 * [policy]'s, or dropped (bare, nothing registered; a family not
 * registered); its DNS and explicit proxy are DNATed by uid, and in
 * out_filter it reaches those ports only, never [policy]'s listeners.
 * The default user 1004 is steered as before.
 */
static void
test_rules_workloads_uid(void **state)
{
	struct eg_config *cfg = nj_test_config("wlocal");
	char err[256], *buf;
	unsigned sh;

	(void)state;
	buf = print_with(cfg, nj_test_wlregs("wlocal"));
	assert_non_null(after(buf, "meta skuid 1003 tcp dport != 53 fib daddr "
	    "type != local meta mark set 0x00000001 ct mark set ct mark & "
	    "0xffffe00f | 0x0000000d accept", "meta skuid @jailed_uids tcp "
	    "dport != 53 fib daddr type != local meta mark set 0x00000001"));
	assert_non_null(after(buf, "ct mark & 0x00001ffc == 0x00000004 meta "
	    "l4proto tcp tproxy ip6 to [::1]:41001 accept", "counter drop "
	    "comment \"workload unregistered agent\""));
	assert_non_null(after(buf, "counter drop comment \"workload "
	    "unregistered bare\"", "meta mark 0x00000001 meta l4proto tcp "
	    "tproxy ip to 127.0.0.1:15001 accept"));
	/* ci: IPv4 only, bare: nothing */
	assert_int_equal(count_of(buf, "== 0x00000008 meta l4proto tcp "
	    "tproxy"), 1);
	assert_int_equal(count_of(buf, "== 0x0000000c meta l4proto tcp"), 0);
	assert_int_equal(count_of(buf, "meta skuid 1002 meta nfproto ipv6 udp "
	    "dport 53 dnat ip6 to [::1]:41054"), 1);
	assert_int_equal(count_of(buf, "meta skuid 1001 ip daddr 127.0.0.1 "
	    "tcp dport 3128 dnat ip to 127.0.0.1:41080"), 1);
	/* DNS 2 protocols x 2 families, the 2 proxies, the detour */
	assert_int_equal(count_of(buf, "counter drop comment \"workload "
	    "unregistered bare\""), 7);
	/* out_filter: own ports, then the drop, before [policy]'s dohd */
	assert_non_null(after(buf, "meta skuid 1002 ip daddr 127.0.0.1 tcp "
	    "dport 41081 accept", "meta skuid 1002 counter drop comment "
	    "\"local\""));
	assert_non_null(after(buf, "meta skuid 1003 counter drop comment "
	    "\"local\"", "meta skuid @jailed_uids ip daddr 127.0.0.1 udp "
	    "dport 15353 accept"));
	/* the door-1/2 verdict holds for them: they are jailed uids */
	assert_int_equal(count_of(buf, "meta skuid @jailed_uids oifname != "
	    "\"lo\" jump post_local"), 1);
	free(buf);
	/* the field: 11 bits the fwmark and the direct bit leave free */
	assert_int_equal(rules_wl_field(0x1, 0x2, &sh), 0x1ffc);
	assert_int_equal(sh, 2);
	assert_int_equal(rules_wl_field(0xff00, 0x1, &sh), 0x7ff0000);
	assert_int_equal(rules_wl_field(0x0f0f0f0f, 0x10, &sh), 0);
	cfg->jail.fwmark = 0x0f0f0f0f;
	err[0] = '\0';
	assert_null(rules_build_with(cfg, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "workload agent: match = uid:u1001: [jail] "
	    "fwmark 0xf0f0f0f leaves no 11 free bits"));
	cfg->jail.fwmark = 0x1;
	/* a uid that is no [jail] user is never steered */
	cfg->jail.nusers = 2;
	assert_null(rules_build_with(cfg, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "workload bare: match = uid:u1003 is no "
	    "[jail] user"));
	cfg->jail.nusers = 4;
	nj_test_config_free(cfg);
}

/*
 * A workload's own direct endpoints hold for its own sources only, in
 * every chain where [jail] direct's are accepted; a flow's first accept
 * marks it direct; a name in a workload's direct is refused.
 */
static void
test_rules_workloads_direct(void **state)
{
	struct eg_config *cfg = nj_test_config("wlocal");
	char err[256], *buf;

	(void)state;
	buf = print_with(cfg, nj_test_wlregs("wlocal"));
	/* out_route, out_filter (marked), post_local */
	assert_int_equal(count_of(buf, "meta skuid 1001 ip6 daddr fd78::/64 "
	    "tcp dport 5432 accept"), 2);
	assert_int_equal(count_of(buf, "meta skuid 1001 ip6 daddr fd78::/64 "
	    "tcp dport 5432 ct mark set ct mark | 0x00000002 accept"), 1);
	/* nobody else's, and before the workload's detour */
	assert_null(strstr(buf, "meta skuid 1002 ip6 daddr fd78::/64"));
	assert_null(strstr(buf, "@jailed_uids ip6 daddr fd78::/64"));
	assert_non_null(after(buf, "meta skuid 1001 ip6 daddr fd78::/64 tcp "
	    "dport 5432 accept", "meta skuid 1001 tcp dport != 53 fib daddr "
	    "type != local"));
	assert_int_equal(count_of(buf, "meta skuid 1002 ip6 daddr "
	    "2001:db8:9::5 tcp dport 443"), 3);
	free(buf);
	nj_test_config_free(cfg);
	/* bridges: pre_mangle, pre_nat, input, forward; a cidr: source
	 * only for endpoints of its own family */
	cfg = nj_test_config("workloads");
	buf = print_with(cfg, nj_test_wlregs("workloads"));
	assert_int_equal(count_of(buf, "iifname \"br-ci*\" ip daddr 10.0.9.5 "
	    "tcp dport 6379 "), 4);
	assert_int_equal(count_of(buf, "ip saddr 172.17.0.0/24 ip daddr "
	    "10.0.9.6 tcp dport 80 "), 4);
	assert_null(strstr(buf, "ip6 saddr 2001:db8:17::5 ip daddr"));
	assert_non_null(after(buf, "iifname \"br-ci*\" ip daddr 10.0.9.5 tcp "
	    "dport 6379 accept", "iifname \"br-ci*\" meta l4proto tcp dnat "
	    "ip to 127.0.0.1:40001"));
	free(buf);
	/* a name: its addresses would reach every workload's set */
	cfg->workloads[0].direct[0].ep.is_name = true;
	snprintf(cfg->workloads[0].direct[0].ep.name,
	    sizeof(cfg->workloads[0].direct[0].ep.name), "db.internal");
	err[0] = '\0';
	assert_null(rules_build_with(cfg, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "workloads.conf:41: workload ci: direct "
	    "= db.internal:6379: a name is not taken"));
	nj_test_config_free(cfg);
}

/*
 * STATUS: one line per workload with its matches, its registrations
 * (none: reg=none) and its drops summed from the rules that carry its
 * name; the generic drop_* keys sum a tag over every workload.
 */
static void
test_rules_status_workloads(void **state)
{
	struct eg_config *cfg = nj_test_config("workloads");
	struct nj_counter c[4] = {
		{ "pre_nat", "workload unregistered db", 3, 300 },
		{ "pre_nat", "workload unregistered db", 4, 400 },
		{ "pre_nat", "workload unregistered dbx", 50, 500 },
		{ "pre_nat", "workload conflict web", 2, 200 },
	};
	struct nj_readback rb;
	char buf[1024], small[200];

	(void)state;
	memset(&rb, 0, sizeof(rb));
	rb.counters = c;
	rb.ncounters = 4;
	nj_status_workloads(cfg, nj_test_wlregs("workloads"), &rb, buf,
	    sizeof(buf));
	assert_string_equal(buf, "workloads=3\n"
	    "workload=ci match=iface:br-ci* reg=transparent/ipv4/40001,"
	    "transparent/ipv6/40001,dns_udp/ipv4/40053,dns_tcp/ipv4/40053 "
	    "drop_unregistered_packets=0 drop_conflict_packets=0\n"
	    "workload=web match=cidr:172.17.0.0/24 match=cidr:2001:db8:17::5/128 "
	    "reg=transparent/ipv4/40002 drop_unregistered_packets=0 "
	    "drop_conflict_packets=2\n"
	    "workload=db match=iface:br-ej reg=none "
	    "drop_unregistered_packets=7 drop_conflict_packets=0\n");
	assert_string_equal(nj_status_counter_key("workload unregistered db"),
	    "workload unregistered");
	assert_string_equal(nj_status_counter_key("workload unregisteredx"),
	    "workload unregisteredx");
	assert_string_equal(nj_status_counter_key("local"), "local");
	/* what does not fit is said, never a line cut short */
	nj_status_workloads(cfg, NULL, NULL, small, sizeof(small));
	assert_non_null(strstr(small, "workloads_truncated="));
	assert_null(strstr(small, "drop_conflict_packets=0\nworkload="
	    "web"));
	assert_int_equal(nj_status_workloads(cfg, NULL, NULL, small, 0), 0);
	cfg->nworkloads = 0;
	assert_int_equal(nj_status_workloads(cfg, NULL, NULL, buf,
	    sizeof(buf)), 0);
	cfg->nworkloads = 3;
	nj_test_config_free(cfg);
}

int
main(void)
{
	static const struct CMUnitTest listed[] = TEST_LIST(RULES_TESTS);
	struct CMUnitTest t[40];
	size_t n = 0, i;

	for (i = 0; nj_test_config_names[i]; i++) {
		t[n].name = nj_test_config_names[i];
		t[n].test_func = test_rules_match_golden;
		t[n].setup_func = NULL;
		t[n].teardown_func = NULL;
		t[n].initial_state = (void *)(uintptr_t)nj_test_config_names[i];
		n++;
	}
	for (i = 0; i < sizeof(listed) / sizeof(listed[0]); i++)
		t[n++] = listed[i];
	return _cmocka_run_group_tests("netjaild_rules", t, n, NULL, NULL);
}
