/*
 * nj_tool - test helper: print or install the ruleset of a named test
 * config in the current network namespace (run it only in a throwaway
 * namespace), or time an install with many direct endpoints.
 *
 *   nj_tool print NAME | install NAME | readback NAME | remove
 *   nj_tool nldump NAME: the payload of every netlink message the install
 *   batch carries (table, sets, elements, chains, rules), as hex, one a
 *   line; tests/unit/netjaild/nl_compare.sh diffs two builds with it.
 *   nj_tool wlbench NAME N: build and replace a table with N uid: workloads
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netlink.h>

#include "cfgs.h"
#include "ct.h"
#include "install.h"
#include "nl.h"
#include "route.h"
#include "rules.h"
#include "sets.h"
#include "wlreg.h"
#include "workload.h"

#include <time.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static char nlbuf[1 << 20];

static struct nlmsghdr *
nl_hdr(uint16_t type)
{
	memset(nlbuf, 0, sizeof(nlbuf));
	return nftnl_nlmsg_build_hdr(nlbuf, type, NFPROTO_INET, 0, 0);
}

static void
nl_hex(const char *what, const struct nlmsghdr *nlh)
{
	const uint8_t *p = (const uint8_t *)nlh;
	uint32_t i;

	printf("%s ", what);
	for (i = 0; i < nlh->nlmsg_len; i++)
		printf("%02x", p[i]);
	putchar('\n');
}

/* The messages install_table() sends, without a netlink socket. */
static int
nldump(const struct nj_ruleset *rs)
{
	struct nftnl_table *t;
	struct nftnl_chain *ch;
	struct nftnl_set *ns;
	struct nftnl_rule *nr;
	struct nlmsghdr *nlh;
	size_t i, j, n;
	int c;

	if ((t = rules_nl_table()) == NULL)
		return -1;
	nlh = nl_hdr(NFT_MSG_NEWTABLE);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nl_hex("table", nlh);
	nftnl_table_free(t);
	for (i = 0; i < NJ_SET__MAX; i++) {
		const struct nj_set *s = &rs->sets[i];

		if ((ns = rules_nl_set(s, (uint32_t)i + 1, false)) == NULL)
			return -1;
		nlh = nl_hdr(NFT_MSG_NEWSET);
		nftnl_set_nlmsg_build_payload(nlh, ns);
		nl_hex(s->name, nlh);
		nftnl_set_free(ns);
		for (j = 0; j < s->nelems; j += n) {
			n = s->nelems - j < 400 ? s->nelems - j : 400;
			if ((ns = rules_nl_set(s, (uint32_t)i + 1, false)) ==
			    NULL || rules_nl_set_elems(ns, s, s->elems + j, n)
			    == -1)
				return -1;
			nlh = nl_hdr(NFT_MSG_NEWSETELEM);
			nftnl_set_elems_nlmsg_build_payload(nlh, ns);
			nl_hex("elems", nlh);
			nftnl_set_free(ns);
		}
	}
	for (c = 0; c < NJ_CH__MAX; c++) {
		if (!rs->chain_used[c])
			continue;
		if ((ch = rules_nl_chain(&rs->chains[c])) == NULL)
			return -1;
		nlh = nl_hdr(NFT_MSG_NEWCHAIN);
		nftnl_chain_nlmsg_build_payload(nlh, ch);
		nl_hex(rs->chains[c].name, nlh);
		nftnl_chain_free(ch);
	}
	for (i = 0; i < rs->nrules; i++) {
		if ((nr = rules_nl_rule(rs, &rs->rules[i])) == NULL)
			return -1;
		nlh = nl_hdr(NFT_MSG_NEWRULE);
		nftnl_rule_nlmsg_build_payload(nlh, nr);
		nl_hex("rule", nlh);
		nftnl_rule_free(nr);
	}
	return 0;
}

/*
 * wlbench NAME N: N uid: workloads (jailed uids 20000..), each with all
 * four kinds in both families registered: how long netjaild takes to
 * build the table and to replace it in one batch, which it does on every
 * registration change (steer.c).
 */
static int
wlbench(struct nj_nl *nl, int n, char *err, size_t errlen)
{
	struct eg_config *cfg = nj_test_config("wlocal");
	struct nj_wlregs regs = { NULL, 0, 0 };
	struct nj_ruleset *rs;
	char v[32], *name;
	double t0, tb, ti;
	int i, k, f, rc;

	if (cfg == NULL || n < 1 || n > 1000)
		return 1;
	for (i = 0; i < (int)cfg->nworkloads; i++)
		free(cfg->workloads[i].matches);
	cfg->jail.users = realloc(cfg->jail.users, (size_t)n *
	    sizeof(*cfg->jail.users));
	cfg->workloads = realloc(cfg->workloads, (size_t)n *
	    sizeof(*cfg->workloads));
	regs.v = calloc((size_t)n * 8, sizeof(*regs.v));
	if (cfg->jail.users == NULL || cfg->workloads == NULL || !regs.v)
		return 1;
	for (i = 0; i < n; i++) {
		struct eg_workload *w = &cfg->workloads[i];
		struct eg_wl_match *m;

		memset(&cfg->jail.users[i], 0, sizeof(cfg->jail.users[i]));
		cfg->jail.users[i].uid = (uid_t)(20000 + i);
		memset(w, 0, sizeof(*w));
		if (asprintf(&name, "w%d", i) < 0 ||
		    (m = calloc(1, sizeof(*m))) == NULL)
			return 1;
		w->name = name;
		w->matches = m;
		w->nmatches = 1;
		snprintf(v, sizeof(v), "uid:u%d", 20000 + i);
		if (!eg_wl_match_parse(v, m, err))
			return 1;
		m->has_uid = true;
		m->uid = (uid_t)(20000 + i);
		m->wl = (size_t)i;
		m->wl_name = name;
		for (k = EG_WLL_TRANSPARENT; k < EG_WLL__MAX; k++)
			for (f = 0; f < 2; f++) {
				struct nj_wlreg *r = &regs.v[regs.n++];

				snprintf(r->name, sizeof(r->name), "%s", name);
				r->kind = (uint8_t)k;
				r->family = f ? AF_INET6 : AF_INET;
				r->port = (uint16_t)(30000 + i * 4 + k);
			}
	}
	cfg->jail.nusers = (size_t)n;
	cfg->nworkloads = (size_t)n;
	t0 = now_ms();
	if ((rs = rules_build_with(cfg, &regs, err, errlen)) == NULL)
		return 1;
	tb = now_ms() - t0;
	/* the first install creates the table, the second replaces it */
	rc = install_table(nl, rs, err, errlen) < 0;
	t0 = now_ms();
	rc = rc || install_table(nl, rs, err, errlen) < 0;
	ti = now_ms() - t0;
	if (!rc)
		printf("%d uid workloads: %zu rules, build %.1f ms, replace "
		    "%.1f ms\n", n, rs->nrules, tb, ti);
	rules_free(rs);
	return rc;
}

int
main(int argc, char **argv)
{
	struct eg_config *cfg = NULL;
	struct nj_ruleset *rs = NULL;
	struct nj_readback rb;
	struct nj_nl nl;
	char err[512];
	int rc = 1;

	if (argc < 2)
		goto usage;
	if (strcmp(argv[1], "remove") != 0 && strcmp(argv[1], "routes") != 0 &&
	    strcmp(argv[1], "unroute") != 0) {
		if (argc < 3 || (cfg = nj_test_config(argv[2])) == NULL)
			goto usage;
		if ((rs = rules_build_with(cfg, nj_test_wlregs(argv[2]), err,
		    sizeof(err))) == NULL) {
			fprintf(stderr, "build: %s\n", err);
			goto out;
		}
	}
	if (strcmp(argv[1], "print") == 0) {
		rules_print(rs, stdout);
		rc = 0;
		goto out;
	}
	if (strcmp(argv[1], "nldump") == 0) {
		rc = nldump(rs) == -1;
		goto out;
	}
	if (nl_open(&nl, NETLINK_NETFILTER, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		goto out;
	}
	if (strcmp(argv[1], "remove") == 0)
		rc = install_remove(&nl, err, sizeof(err)) < 0;
	else if (strcmp(argv[1], "install") == 0)
		rc = install_table(&nl, rs, err, sizeof(err)) < 0;
	else if (strcmp(argv[1], "extra") == 0) {
		/* a reload carrying learned elements, one now configured */
		struct nj_set extra[NJ_SET__MAX];
		struct nj_elem e;
		uint8_t a[4] = { 10, 78, 0, 20 }, b[4] = { 10, 9, 9, 9 };
		int i;

		memset(extra, 0, sizeof(extra));
		for (i = 0; i < NJ_SET__MAX; i++) {
			extra[i] = rs->sets[i];
			extra[i].elems = NULL;
			extra[i].nelems = extra[i].cap = 0;
		}
		rules_elem_addr(&e, AF_INET, a, 32, 5432);
		e.timeout_ms = 60000;
		rules_set_add(&extra[NJ_SET_DIRECT4_LEARNED], &e);
		rules_elem_addr(&e, AF_INET, b, 32, 80);
		e.timeout_ms = 60000;
		rules_set_add(&extra[NJ_SET_DIRECT4_LEARNED], &e);
		rc = install_table_with(&nl, rs, extra, err, sizeof(err)) < 0;
		free(extra[NJ_SET_DIRECT4_LEARNED].elems);
	} else if (strcmp(argv[1], "overlap") == 0) {
		/* an element the kernel refuses: the batch must change nothing */
		struct nj_elem e;

		/* a timeout in a set without flags timeout: EINVAL */
		memset(&e, 0, sizeof(e));
		e.uid = 4242;
		e.timeout_ms = 1000;
		rules_set_add(&rs->sets[NJ_SET_UIDS], &e);
		rc = install_table(&nl, rs, err, sizeof(err)) == 0;
		if (rc == 0)
			printf("refused: %s\n", err);
		else
			snprintf(err, sizeof(err), "kernel took an overlap");
	} else if (strcmp(argv[1], "bench") == 0) {
		/* argv[3] direct endpoints 10.N.N.N:5432, one transaction */
		int n = argc > 3 ? atoi(argv[3]) : 10000, i;
		double t0;

		for (i = 0; i < n; i++) {
			struct nj_elem e;
			uint8_t a[4] = { 10, (uint8_t)(i >> 16), (uint8_t)(i >> 8),
			    (uint8_t)i };

			rules_elem_addr(&e, AF_INET, a, 32, 5432);
			rules_set_add(&rs->sets[NJ_SET_DIRECT4], &e);
		}
		t0 = now_ms();
		rc = install_table(&nl, rs, err, sizeof(err)) < 0;
		if (!rc)
			printf("install %d direct endpoints: %.1f ms\n", n,
			    now_ms() - t0);
		t0 = now_ms();
		if (!rc && !(rc = install_readback(&nl, rs, &rb) < 0 ||
		    !rb.whole))
			printf("read-back %zu elements: %.1f ms\n",
			    rb.set_elems[NJ_SET_DIRECT4], now_ms() - t0);
		install_readback_free(&rb);
	} else if (strcmp(argv[1], "wlbench") == 0) {
		rc = wlbench(&nl, argc > 3 ? atoi(argv[3]) : 100, err,
		    sizeof(err));
	} else if (strcmp(argv[1], "set") == 0) {
		/* set add|del ADDR PORT TIMEOUT_MS: one update to direct */
		struct eg_set_elem el;

		memset(&el, 0, sizeof(el));
		if (argc < 7)
			goto usage;
		el.family = strchr(argv[4], ':') ? AF_INET6 : AF_INET;
		inet_pton(el.family, argv[4], el.addr);
		el.port = (uint16_t)atoi(argv[5]);
		el.timeout_ms = (uint32_t)atoi(argv[6]);
		rc = sets_update(&nl, rs, EG_SET_DIRECT, strcmp(argv[3], "add") ?
		    EG_SET_DEL : EG_SET_ADD, &el, 1, 3600 * 1000, err,
		    sizeof(err)) < 0;
	} else if (strcmp(argv[1], "ctflush") == 0) {
		int k = ct_flush_ifaces(cfg->jail.interfaces,
		    cfg->jail.ninterfaces, err, sizeof(err));

		rc = k < 0;
		if (!rc)
			printf("flushed %d\n", k);
	} else if (strcmp(argv[1], "routes") == 0) {
		rc = route_install(1, 100, err, sizeof(err)) < 0 ||
		    route_verify(1, 100, err, sizeof(err)) != 1;
		if (!rc)
			printf("routes ok\n");
	} else if (strcmp(argv[1], "unroute") == 0) {
		rc = route_remove(1, 100, err, sizeof(err)) < 0 ||
		    route_verify(1, 100, err, sizeof(err)) != 0;
	} else if (strcmp(argv[1], "readback") == 0) {
		if (install_readback(&nl, rs, &rb) < 0 || !rb.whole) {
			snprintf(err, sizeof(err), "not whole: %s", rb.why);
			rc = 1;
		} else {
			printf("whole chains=%zu rules=%zu sets=%zu "
			    "counters=%zu\n", rb.nchains, rb.nrules, rb.nsets,
			    rb.ncounters);
			rc = 0;
		}
		install_readback_free(&rb);
	}
	if (rc)
		fprintf(stderr, "%s: %s\n", argv[1], err);
	nl_close(&nl);
out:
	rules_free(rs);
	nj_test_config_free(cfg);
	return rc;
usage:
	fprintf(stderr, "usage: nj_tool print|nldump|install|readback NAME | bench NAME [N] |\n"
	    "  set NAME add|del ADDR PORT MS | routes | unroute | remove\n");
	return 2;
}
