/*
 * dohd.h - the resolver core shared by dohd's modules.
 *
 * The query path (query.c) is pure bytes in, bytes out: a query, its
 * source and a reply function go in; the reply function is called exactly
 * once, now or later, with the answer (or NULL: drop).  The upstream and the
 * firewall feed are reached through the two small interfaces below, so the
 * unit tests and the fuzzer plug in fakes and the daemon plugs in the DoH
 * client (upstream.c) and the netjaild client (feed.c).
 */
#ifndef DOHD_DOHD_H
#define DOHD_DOHD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "addr.h"
#include "config.h"
#include "ipc.h"
#include "policy.h"
#include "wlpolicy.h"
#include "workload.h"

#include "dns.h"

struct dask;
struct dcache;
struct dlocal;
struct drate;

/*
 * An upstream answer (err 0) or a failure (-errno, wire NULL).  The callback
 * returns 0 when it took the answer, -1 when the answer was unusable so the
 * resolver should count it against that upstream and try another.
 */
typedef int (*dohd_up_cb)(void *arg, int err, const uint8_t *wire,
    size_t len);

struct dohd_resolver {
	/* Start a lookup of an upstream query; cb runs exactly once per
	 * successful start (never from inside resolve).  -1: not started. */
	int (*resolve)(void *ctx, const uint8_t *q, size_t qlen,
	    dohd_up_cb cb, void *arg);
	void *ctx;
};

/* status 0: netjaild acknowledged; anything else: it did not. */
typedef void (*dohd_feed_cb)(void *arg, int status);

struct dohd_feeder {
	/* Add elements to the direct set; cb exactly once (may be later). */
	int (*feed)(void *ctx, const struct eg_set_elem *e, size_t n,
	    dohd_feed_cb cb, void *arg);
	void *ctx;
};

enum dquery_qtype_slot {
	DQ_T_A, DQ_T_AAAA, DQ_T_CNAME, DQ_T_HTTPS, DQ_T_TXT, DQ_T_ANY,
	DQ_T_OTHER, DQ_T__MAX
};

struct dohd_stats {
	uint64_t queries;
	uint64_t by_qtype[DQ_T__MAX];
	uint64_t allowed, denied, reported, refused, formerr, notimp;
	uint64_t servfail, dropped, ratelimited, local;
	uint64_t cache_hits, cache_misses, stale;
	uint64_t upstream_ok, upstream_bad, upstream_fail;
	uint64_t stripped_addrs, cname_cut, feed_ok, feed_fail;
	uint64_t truncated;
};

struct dohd {
	const struct eg_config *cfg;
	struct eg_wlpol *wlpol;	/* one engine per workload, 0: [policy] */
	struct dcache *cache;
	struct dlocal *local;
	struct drate *rate;
	struct dohd_resolver res;
	struct dohd_feeder feeder;
	struct dask *ask;	/* mode = ask: held queries (ask.c) */
	struct dohd_stats st;
	uint64_t (*now_ms)(void);
	unsigned inflight;
	unsigned max_inflight;
	unsigned wlgen;		/* policy generation: dquery_wl.idx valid */
	struct dwlstat *wlstat;	/* per workload, by index (wlstat.c) */
	size_t nwlstat;
	bool log_info;		/* INFO lines are written: format them */
	uint8_t out[DNS_MAX_MSG];	/* reply buffer: one thread */
};

/*
 * The workload a query arrived for (the listener's): its name ("" for
 * [policy], "default" in logs) and, for the policy generation gen, its
 * index in the per-workload engines.
 */
struct dquery_wl {
	char name[EG_WL_NAME_MAX + 1];
	unsigned idx;
	unsigned gen;
};

/* Where a query came from, and what the listener needs to answer it. */
struct dquery_src {
	struct dquery_wl wl;
	struct eg_ip ip;
	uint16_t port;
	bool tcp;
	struct sockaddr_storage peer;	/* UDP: where the answer goes */
	socklen_t peerlen;
	struct eg_ip local;		/* UDP: the address it was sent to */
	uint32_t ifindex;
	bool has_local;
};

/*
 * Whose rules decide a query: its workload's engine in the current
 * generation (dcore_policy), valid until the loop runs again (a reload
 * frees engines).
 */
struct dpolicy {
	const struct eg_policy *pol;
	const char *wl;		/* "default" or the workload's name */
	unsigned idx;		/* its index: the cache key (DCACHE_WL) */
	bool learn;		/* mode = learn */
	bool granted;		/* mode = ask: the decider allowed the name */
};

/*
 * The engine of the workload t names, as of now.  false when it has none
 * (it left the config in a reload): the query is refused.
 */
bool dcore_policy(const struct dohd *d, const struct dquery_wl *t,
    struct dpolicy *p);

/*
 * wlstat.c: counters per workload.  sync after the engines changed (start,
 * reload; -1: out of memory, the old counters stay); count at the end of
 * every query; text for STATUS.
 */
struct dwlstat;
int dwlstat_sync(struct dohd *d);
void dwlstat_free(struct dohd *d);
void dwlstat_count(struct dohd *d, const struct dquery_wl *t,
    const char *decision);
size_t dwlstat_text(const struct dohd *d, char *buf, size_t len);

/* "default" for [policy]'s listeners, else the workload's name. */
static inline const char *
dquery_wl_name(const struct dquery_wl *t)
{
	return t->name[0] != '\0' ? t->name : EG_WL_DEFAULT;
}

/* wire NULL: send nothing.  src is the listener's own, copied. */
typedef void (*dquery_reply_fn)(void *arg, const struct dquery_src *src,
    const uint8_t *wire, size_t len);

/* core.c: set up the core from a loaded config and policy (owned by the
 * caller), and tear it down. */
int dcore_init(struct dohd *d, const struct eg_config *cfg,
    struct eg_wlpol *wlpol, struct dlocal *local, char *err, size_t errlen);
void dcore_free(struct dohd *d);
/* key=value lines of counters for STATUS_REP. */
size_t dcore_stats_text(const struct dohd *d, char *buf, size_t len);

/* The rcode a denied name gets: [dohd] deny_rcode. */
static inline int
dohd_deny_rcode(const struct dohd *d)
{
	return d->cfg->dohd.deny_rcode == EG_DENY_REFUSED ? DNS_R_REFUSED :
	    DNS_R_NXDOMAIN;
}

/* ------------------------------------------------------------------ */
/* query.c: the decision for one query and the answer it gets. */

/* The query path.  fn runs exactly once, maybe before this returns. */
void dquery_handle(struct dohd *d, const uint8_t *pkt, size_t n,
    const struct dquery_src *src, dquery_reply_fn fn, void *arg);

/*
 * A lookup for connectd over the same path.  infra (a hop or the canary
 * name): the name allowlist and address checks are skipped and nothing is
 * cached; otherwise the allowlist of workload wl ("" or NULL: [policy])
 * applies as to its clients (a workload the config does not have is
 * refused).  fn gets the answer message (or NULL).
 */
void dquery_resolve(struct dohd *d, const char *name, uint16_t qtype,
    bool infra, const char *wl, dquery_reply_fn fn, void *arg);

/* ------------------------------------------------------------------ */
/* filter.c: an upstream answer checked and reduced to what may pass. */

#define DF_MAX_ADDRS 64

struct dfilter {
	uint8_t *wire;		/* the body to cache and serve (malloc) */
	size_t len;
	struct dns_walk w;	/* its TTL offsets */
	int rcode;
	uint32_t ttl;		/* cache lifetime */
	bool negative;
	bool cacheable;
	bool cut;		/* a CNAME led to a name that is not allowed */
	char cut_name[EG_NAME_MAX + 1];
	unsigned stripped;	/* addresses removed */
	unsigned dropped_https;	/* HTTPS/SVCB records removed */
	struct eg_ip addrs[DF_MAX_ADDRS];	/* A/AAAA served */
	size_t naddrs;
};

/*
 * Check an upstream answer to q (the DoH query dohd sent for q's name and
 * type) and build the body dohd may serve.  infra: the name allowlist
 * does not apply (connectd's hops), the address checks neither.
 * Returns 0 with f filled (free with dfilter_clear), or -1: malformed or
 * not an answer to q (the upstream is at fault).
 */
int dfilter_run(const struct dohd *d, const struct dpolicy *p,
    const struct dns_query *q, bool infra, const uint8_t *wire, size_t len,
    struct dfilter *f);
void dfilter_clear(struct dfilter *f);

/* Is name acceptable under the length/label limits of the config? */
bool dfilter_name_within_limits(const struct eg_config *cfg, const char *name,
    unsigned labels);

/* ------------------------------------------------------------------ */
/* local.c: hosts file, zone file. */

struct dlocal *dlocal_load(const char *hosts_file, const char *zone_file,
    char *err, size_t errlen);
void dlocal_free(struct dlocal *l);
size_t dlocal_count(const struct dlocal *l);
/*
 * Answer from local data for the lower-case wire name lname (owner names
 * in the answer are qname), type qtype.  Returns 1 with a malloc'd body in
 * *wire, 0 when the name is not local data, -1 on error.
 */
int dlocal_answer(const struct dlocal *l, const uint8_t *lookup,
    size_t lookup_len, const uint8_t *qname, size_t qname_len,
    uint16_t qtype, uint32_t max_ttl, uint8_t **wire, size_t *len);

/* ------------------------------------------------------------------ */
/* rate.c: per-client token buckets. */

struct drate *drate_new(uint32_t per_sec, size_t slots);
void drate_free(struct drate *r);
bool drate_pass(struct drate *r, const struct eg_ip *ip, uint64_t now_ms);

#endif
