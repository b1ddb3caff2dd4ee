/*
 * bench_policy.c - policy build time and lookup cost against rule count.
 *
 * Builds a policy of N generated rules (a third each exact, "*." and
 * "**."), then times lookups of names that hit and names that miss, half
 * each.  Names have the same shape and length whatever N is, so the
 * ratio between a large and a small rule set shows what the rule count
 * alone costs.  Not a test: it prints numbers, it asserts only that the
 * hits and misses came out as generated.
 *
 * Wall time on a shared machine is noisy and grows with the working set
 * (cache misses); where perf events are open to us the user-space
 * instructions per lookup are printed too, which show the work itself.
 */
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "policy.h"

#define NAMES	65536		/* pool of query names, cycled */

struct run {
	double	build_ms;
	double	ns_lookup;
	double	insn_lookup;	/* < 0: no counter */
	size_t	allowed;
};

/* A user-space instruction counter for this thread, or -1. */
static int
insn_open(void)
{
	struct perf_event_attr a;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = PERF_TYPE_HARDWARE;
	a.config = PERF_COUNT_HW_INSTRUCTIONS;
	a.disabled = 1;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	return (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
}

static double
insn_read(int fd)
{
	uint64_t v;

	if (fd < 0 || read(fd, &v, sizeof(v)) != sizeof(v))
		return -1;
	return (double)v;
}

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* xorshift: reproducible names without libc rand() state */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void
rule_text(size_t i, char *buf, size_t len)
{
	static const char *const pre[] = { "", "*.", "**." };

	snprintf(buf, len, "%sr%07zu.bench-%zu.example:443,8443", pre[i % 3],
	    i, i % 97);
}

/* Half hit (a name rule k admits), half miss (one label too few/many). */
static void
query_name(size_t k, bool hit, char *buf, size_t len)
{
	static const char *const h[] = { "", "www.", "a.b." };
	static const char *const m[] = { "www.", "a.b.", "" };
	size_t kind = k % 3;

	snprintf(buf, len, "%sr%07zu.bench-%zu.example", hit ? h[kind] :
	    m[kind], k, k % 97);
}

static bool
run_one(size_t nrules, size_t nlookups, struct run *out)
{
	struct eg_config cfg;
	struct eg_rule_src *src = NULL;
	struct eg_policy *p = NULL;
	char (*names)[80] = NULL, err[EG_ERR_MAX];
	bool *hits = NULL, ok = false;
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	double t0, insn;
	size_t i, allowed = 0, want = 0;
	int fd = -1;

	memset(&cfg, 0, sizeof(cfg));
	if ((src = calloc(nrules, sizeof(*src))) == NULL ||
	    (names = calloc(NAMES, sizeof(*names))) == NULL ||
	    (hits = calloc(NAMES, sizeof(*hits))) == NULL)
		goto out;
	for (i = 0; i < nrules; i++) {
		char text[96];

		rule_text(i, text, sizeof(text));
		if ((src[i].text = strdup(text)) == NULL)
			goto out;
		src[i].at.file = "bench.allow";
		src[i].at.line = (int)i + 1;
	}
	cfg.policy.rules = src;
	cfg.policy.nrules = nrules;

	t0 = now_ns();
	if ((p = eg_policy_new(&cfg, NULL, 0, err)) == NULL) {
		fprintf(stderr, "bench_policy: %s\n", err);
		goto out;
	}
	out->build_ms = (now_ns() - t0) / 1e6;

	for (i = 0; i < NAMES; i++) {
		hits[i] = rnd(&seed) & 1;
		query_name((size_t)(rnd(&seed) % nrules), hits[i], names[i],
		    sizeof(names[i]));
	}
	if ((fd = insn_open()) >= 0) {
		ioctl(fd, PERF_EVENT_IOC_RESET, 0);
		ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
	}
	t0 = now_ns();
	for (i = 0; i < nlookups; i++) {
		struct eg_decision d;

		d = eg_policy_check_host(p, names[i % NAMES], 443);
		allowed += d.verdict == EG_ALLOW;
	}
	out->ns_lookup = (now_ns() - t0) / (double)nlookups;
	insn = insn_read(fd);
	out->insn_lookup = insn < 0 ? -1 : insn / (double)nlookups;
	out->allowed = allowed;
	for (i = 0; i < nlookups; i++)
		want += hits[i % NAMES];
	if (allowed != want) {
		fprintf(stderr, "bench_policy: %zu allowed, generated %zu "
		    "hits\n", allowed, want);
		goto out;
	}
	ok = true;
out:
	if (fd >= 0)
		close(fd);
	eg_policy_free(p);
	for (i = 0; src != NULL && i < nrules; i++)
		free(src[i].text);
	free(src);
	free(names);
	free(hits);
	return ok;
}

static void
report(size_t nrules, const struct run *r, const struct run *base,
    size_t nbase)
{
	printf("rules=%zu build_ms=%.2f ns_per_lookup=%.1f", nrules,
	    r->build_ms, r->ns_lookup);
	if (r->insn_lookup > 0)
		printf(" insn_per_lookup=%.0f", r->insn_lookup);
	printf(" allowed=%zu ns_ratio_to_%zu=%.2f\n", r->allowed, nbase,
	    r->ns_lookup / base->ns_lookup);
}

int
main(int argc, char *argv[])
{
	static const size_t series[] = { 1000, 10000 };
	size_t big = 100000, small = 100, nlookups = 1000000, i;
	struct run rb, rs, rm;

	if (argc > 1)
		big = strtoul(argv[1], NULL, 10);
	if (argc > 2)
		nlookups = strtoul(argv[2], NULL, 10);
	if (big == 0 || nlookups == 0) {
		fprintf(stderr, "usage: bench_policy [NRULES [NLOOKUPS]]\n");
		return 2;
	}
	/* warm up allocator and caches so the first run is not penalised */
	if (!run_one(small, nlookups / 10 + 1, &rs) ||
	    !run_one(big, nlookups, &rb) ||
	    !run_one(small, nlookups, &rs))
		return 1;
	printf("lookups=%zu per rule count, half hits, names of one shape\n",
	    nlookups);
	report(big, &rb, &rs, small);
	report(small, &rs, &rs, small);
	printf("lookup_ratio=%.2f (rules %zu vs %zu)\n",
	    rb.ns_lookup / rs.ns_lookup, big, small);
	if (rb.insn_lookup > 0 && rs.insn_lookup > 0)
		printf("insn_ratio=%.2f (rules %zu vs %zu)\n",
		    rb.insn_lookup / rs.insn_lookup, big, small);
	/*
	 * In between: the work per lookup is the same at every size; what
	 * grows is only the working set that has to come from memory.
	 */
	for (i = 0; i < sizeof(series) / sizeof(series[0]); i++) {
		if (series[i] >= big || !run_one(series[i], nlookups, &rm))
			continue;
		report(series[i], &rm, &rs, small);
	}
	return 0;
}
