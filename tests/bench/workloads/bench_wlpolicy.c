/*
 * bench_wlpolicy.c - what 100 workloads of 1,000 rules cost the policy
 * engine against one policy of 1,000 rules (issue 15's benchmark, the
 * engine's share of it):
 *
 *   bench_wlpolicy [NWORKLOADS [NRULES [NLOOKUPS]]]
 *
 * single  [policy] alone, NRULES rules: lookups of its names;
 * hot     [policy] plus NWORKLOADS [workload] sections of NRULES rules
 *         each (names of their own), one cidr: match each: every lookup
 *         asks the last workload's engine (one workload's traffic: the
 *         benchmark's case, where one engine is in use);
 * spread  the same set, every lookup asking the next workload's engine
 *         (round robin over all of them, the default too): the working
 *         set is every engine's, the worst case for the caches;
 * source  eg_wlpol_lookup of a bridge source among NWORKLOADS cidr:
 *         matches (the cross-check connectd and dohd make per connection
 *         and query), the last workload's address: the whole scan.
 *
 * Half the names hit, half miss, the same shapes in both cases, and both
 * cases run alternately (single, wl, single, wl) so that a drift of the
 * shared machine hits both.  Prints one line per case:
 *   case=single build_ms=.. ns_per_lookup=..
 *   case=hot|spread build_ms=.. ns_per_lookup=.. ns_per_source=..
 * Not a test: it asserts only that hits and misses came out as generated.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy.h"
#include "wlpolicy.h"
#include "workload.h"

#define NAMES	65536		/* pool of (workload, name) queries, cycled */

struct query {
	size_t	wl;		/* engine index */
	bool	hit;
	char	name[80];
};

/*
 * This thread's CPU time: on a shared machine the wall clock also counts
 * the time others ran, which is no cost of ours (the caches they evict
 * still are, which is why the cases alternate).
 */
static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Rule i of workload w (0: [policy]): a third each exact, "*.", "**.". */
static char *
rule_text(size_t w, size_t i)
{
	static const char *const pre[] = { "", "*.", "**." };
	char buf[96];

	snprintf(buf, sizeof(buf), "%sr%05zu.w%03zu.bench-%zu.example:443",
	    pre[i % 3], i, w, i % 97);
	return strdup(buf);
}

static void
query_name(size_t w, size_t k, bool hit, char *buf, size_t len)
{
	static const char *const h[] = { "", "www.", "a.b." };
	static const char *const m[] = { "www.", "a.b.", "" };

	snprintf(buf, len, "%sr%05zu.w%03zu.bench-%zu.example",
	    hit ? h[k % 3] : m[k % 3], k, w, k % 97);
}

static bool
fill_rules(struct eg_policy_conf *pc, size_t w, size_t nrules)
{
	size_t i;

	if ((pc->rules = calloc(nrules, sizeof(*pc->rules))) == NULL)
		return false;
	for (i = 0; i < nrules; i++) {
		if ((pc->rules[i].text = rule_text(w, i)) == NULL)
			return false;
		pc->rules[i].at.file = "bench.allow";
		pc->rules[i].at.line = (int)i + 1;
		pc->nrules++;
	}
	return true;
}

static void
free_rules(struct eg_policy_conf *pc)
{
	size_t i;

	for (i = 0; i < pc->nrules; i++)
		free(pc->rules[i].text);
	free(pc->rules);
}

/* A config of [policy] and nwl workloads, built by hand (no parsing). */
static struct eg_config *
make_config(size_t nwl, size_t nrules)
{
	struct eg_config *c = calloc(1, sizeof(*c));
	char err[EG_ERR_MAX], m[64], *name;
	size_t w;

	if (c == NULL || !fill_rules(&c->policy, 0, nrules) ||
	    (nwl > 0 && (c->workloads = calloc(nwl, sizeof(*c->workloads))) ==
	    NULL))
		return NULL;
	for (w = 0; w < nwl; w++) {
		struct eg_workload *wl = &c->workloads[w];

		if ((name = calloc(1, 24)) == NULL ||
		    (wl->matches = calloc(1, sizeof(*wl->matches))) == NULL)
			return NULL;
		snprintf(name, 24, "w%03zu", w + 1);
		wl->name = name;
		snprintf(m, sizeof(m), "cidr:10.200.%zu.%zu/32", (w + 1) / 250,
		    (w + 1) % 250 + 1);
		if (!eg_wl_match_parse(m, &wl->matches[0], err)) {
			fprintf(stderr, "bench_wlpolicy: %s: %s\n", m, err);
			return NULL;
		}
		wl->matches[0].wl = w;
		wl->matches[0].wl_name = name;
		wl->nmatches = 1;
		if (!fill_rules(&wl->policy, w + 1, nrules))
			return NULL;
		c->nworkloads++;
	}
	return c;
}

static void
free_config(struct eg_config *c)
{
	size_t w;

	if (c == NULL)
		return;
	free_rules(&c->policy);
	for (w = 0; w < c->nworkloads; w++) {
		free(c->workloads[w].name);
		free(c->workloads[w].matches);
		free_rules(&c->workloads[w].policy);
	}
	free(c->workloads);
	free(c);
}

struct result {
	double	build_ms;
	double	ns_lookup;
	double	ns_source;
};

/* One case: nwl workloads (0: single). */
static bool
run_case(const struct eg_config *c, size_t nrules, size_t nlookups,
    bool spread, struct query *q, struct result *r)
{
	struct eg_wlpol *w;
	struct eg_wl_source src;
	char err[EG_ERR_MAX];
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	size_t i, allowed = 0, want = 0, n, idx, found = 0;
	double t0;

	t0 = now_ns();
	if ((w = eg_wlpol_new(c, NULL, 0, err)) == NULL) {
		fprintf(stderr, "bench_wlpolicy: %s\n", err);
		return false;
	}
	r->build_ms = (now_ns() - t0) / 1e6;
	n = eg_wlpol_count(w);
	for (i = 0; i < NAMES; i++) {
		q[i].wl = spread ? i % n : n - 1;
		q[i].hit = rnd(&seed) & 1;
		query_name(q[i].wl, (size_t)(rnd(&seed) % nrules), q[i].hit,
		    q[i].name, sizeof(q[i].name));
	}
	t0 = now_ns();
	for (i = 0; i < nlookups; i++) {
		const struct query *x = &q[i % NAMES];
		struct eg_decision d;

		d = eg_policy_check_host(eg_wlpol_get(w, x->wl), x->name, 443);
		allowed += d.verdict == EG_ALLOW;
	}
	r->ns_lookup = (now_ns() - t0) / (double)nlookups;
	for (i = 0; i < nlookups; i++)
		want += q[i % NAMES].hit;
	r->ns_source = 0;
	if (c->nworkloads > 0) {
		memset(&src, 0, sizeof(src));
		src.bridge = true;
		src.ifname = "br-bench";
		src.has_addr = true;
		src.addr = c->workloads[c->nworkloads - 1].matches[0].cidr.ip;
		t0 = now_ns();
		for (i = 0; i < nlookups / 10; i++)
			found += eg_wlpol_lookup(w, &src, &idx, NULL, NULL) ==
			    EG_WL_FOUND && idx == n - 1;
		r->ns_source = (now_ns() - t0) / (double)(nlookups / 10);
	}
	eg_wlpol_free(w);
	if (allowed != want || (c->nworkloads > 0 && found != nlookups / 10)) {
		fprintf(stderr, "bench_wlpolicy: %zu allowed, generated %zu "
		    "hits; %zu sources found\n", allowed, want, found);
		return false;
	}
	return true;
}

int
main(int argc, char *argv[])
{
	static const char *const names[] = { "single", "hot", "spread" };
	size_t nwl = 100, nrules = 1000, nlookups = 1000000, round, k;
	struct eg_config *single, *many;
	struct result r[3], t;
	struct query *q;

	if (argc > 1)
		nwl = strtoul(argv[1], NULL, 10);
	if (argc > 2)
		nrules = strtoul(argv[2], NULL, 10);
	if (argc > 3)
		nlookups = strtoul(argv[3], NULL, 10);
	if (nwl == 0 || nwl > 1000 || nrules == 0 || nlookups < 10) {
		fprintf(stderr, "usage: bench_wlpolicy [NWORKLOADS [NRULES "
		    "[NLOOKUPS]]]\n");
		return 2;
	}
	if ((q = calloc(NAMES, sizeof(*q))) == NULL ||
	    (single = make_config(0, nrules)) == NULL ||
	    (many = make_config(nwl, nrules)) == NULL) {
		fprintf(stderr, "bench_wlpolicy: out of memory\n");
		return 1;
	}
	/* warm-up, then two alternating rounds; the better of each kept */
	if (!run_case(single, nrules, nlookups / 10, false, q, &t))
		return 1;
	for (round = 0; round < 2; round++) {
		for (k = 0; k < 3; k++) {
			if (!run_case(k == 0 ? single : many, nrules,
			    nlookups, k == 2, q, &t))
				return 1;
			if (round == 0 || t.ns_lookup < r[k].ns_lookup)
				r[k] = t;
		}
	}
	for (k = 0; k < 3; k++) {
		printf("case=%s workloads=%zu rules=%zu build_ms=%.2f "
		    "ns_per_lookup=%.1f", names[k], k ? nwl : 0, nrules,
		    r[k].build_ms, r[k].ns_lookup);
		if (k > 0)
			printf(" ns_per_source=%.1f", r[k].ns_source);
		putchar('\n');
	}
	printf("lookup_ratio_hot=%.3f lookup_ratio_spread=%.3f (to single)\n",
	    r[1].ns_lookup / r[0].ns_lookup, r[2].ns_lookup / r[0].ns_lookup);
	free_config(single);
	free_config(many);
	free(q);
	return 0;
}
