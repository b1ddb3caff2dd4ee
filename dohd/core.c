/*
 * core.c - the resolver core's life: set up from a config and a policy,
 * torn down, and its counters as STATUS_REP text.  The query path itself
 * is query.c.
 */
#include <stdio.h>
#include <string.h>

#include "log.h"

#include "dask.h"
#include "cache.h"
#include "dlog.h"
#include "dohd.h"

#define DCORE_MAX_INFLIGHT	4096	/* queries waiting for an upstream */

int
dcore_init(struct dohd *d, const struct eg_config *cfg,
    struct eg_wlpol *wlpol, struct dlocal *local, char *err, size_t errlen)
{
	*d = (struct dohd){
		.cfg = cfg, .wlpol = wlpol, .local = local, .now_ms = eg_now_ms,
		.max_inflight = DCORE_MAX_INFLIGHT, .log_info = true,
	};
	d->cache = dcache_new(cfg->dohd.cache_size, cfg->dohd.stale_ttl);
	if (d->cache == NULL) {
		snprintf(err, errlen, "cache: out of memory");
		return -1;
	}
	if (cfg->dohd.rate_limit > 0 &&
	    (d->rate = drate_new(cfg->dohd.rate_limit, 8192)) == NULL) {
		snprintf(err, errlen, "rate limiter: out of memory");
		dcache_free(d->cache);
		return -1;
	}
	return 0;
}

bool
dcore_policy(const struct dohd *d, const struct dquery_wl *t,
    struct dpolicy *p)
{
	long i;

	memset(p, 0, sizeof(*p));
	p->wl = dquery_wl_name(t);
	/* the listener's index, unless a reload renumbered since */
	if (t->name[0] == '\0')
		i = 0;
	else if (t->gen == d->wlgen)
		i = (long)t->idx;
	else if ((i = eg_wlpol_find(d->wlpol, t->name)) <= 0)
		return false;
	if ((p->pol = eg_wlpol_get(d->wlpol, (size_t)i)) == NULL)
		return false;
	p->idx = (unsigned)i;
	p->learn = eg_policy_mode(p->pol) == EG_MODE_LEARN;
	p->granted = false;	/* the query path's to say (ask mode) */
	return true;
}

void
dcore_free(struct dohd *d)
{
	dcache_free(d->cache);
	drate_free(d->rate);
	dwlstat_free(d);
	d->cache = NULL;
	d->rate = NULL;
}

size_t
dcore_stats_text(const struct dohd *d, char *buf, size_t len)
{
	const struct dohd_stats *s = &d->st;
	struct dcache_stats cs;
	uint64_t lookups;
	int n;

	dcache_stats(d->cache, &cs);
	lookups = s->cache_hits + s->cache_misses;
	n = snprintf(buf, len,
	    "queries=%llu\nqtype_a=%llu\nqtype_aaaa=%llu\nqtype_cname=%llu\n"
	    "qtype_https=%llu\nqtype_txt=%llu\nqtype_any=%llu\n"
	    "qtype_other=%llu\nallowed=%llu\ndenied=%llu\nreported=%llu\n"
	    "refused=%llu\nformerr=%llu\nnotimp=%llu\nservfail=%llu\n"
	    "dropped=%llu\nratelimited=%llu\nlocal=%llu\ncache_hits=%llu\n"
	    "cache_misses=%llu\ncache_hit_ratio=%.3f\ncache_entries=%zu\n"
	    "cache_evictions=%llu\nstale_served=%llu\nupstream_ok=%llu\n"
	    "upstream_bad=%llu\nupstream_fail=%llu\nstripped_addrs=%llu\n"
	    "cname_cut=%llu\nfeed_ok=%llu\nfeed_fail=%llu\ntruncated=%llu\n"
	    "inflight=%u\nlog_dropped=%llu\n",
	    (unsigned long long)s->queries,
	    (unsigned long long)s->by_qtype[DQ_T_A],
	    (unsigned long long)s->by_qtype[DQ_T_AAAA],
	    (unsigned long long)s->by_qtype[DQ_T_CNAME],
	    (unsigned long long)s->by_qtype[DQ_T_HTTPS],
	    (unsigned long long)s->by_qtype[DQ_T_TXT],
	    (unsigned long long)s->by_qtype[DQ_T_ANY],
	    (unsigned long long)s->by_qtype[DQ_T_OTHER],
	    (unsigned long long)s->allowed, (unsigned long long)s->denied,
	    (unsigned long long)s->reported, (unsigned long long)s->refused,
	    (unsigned long long)s->formerr, (unsigned long long)s->notimp,
	    (unsigned long long)s->servfail, (unsigned long long)s->dropped,
	    (unsigned long long)s->ratelimited, (unsigned long long)s->local,
	    (unsigned long long)s->cache_hits,
	    (unsigned long long)s->cache_misses,
	    lookups > 0 ? (double)s->cache_hits / (double)lookups : 0.0,
	    cs.entries, (unsigned long long)cs.evictions,
	    (unsigned long long)s->stale, (unsigned long long)s->upstream_ok,
	    (unsigned long long)s->upstream_bad,
	    (unsigned long long)s->upstream_fail,
	    (unsigned long long)s->stripped_addrs,
	    (unsigned long long)s->cname_cut,
	    (unsigned long long)s->feed_ok, (unsigned long long)s->feed_fail,
	    (unsigned long long)s->truncated, d->inflight,
	    (unsigned long long)dlog_dropped());
	if (n < 0)
		return 0;
	if ((size_t)n < len && d->ask != NULL &&
	    d->cfg->policy.mode == EG_MODE_ASK)
		n += dask_stats_text(d->ask, buf + n, len - (size_t)n);
	return (size_t)n >= len ? len - 1 : (size_t)n;
}
