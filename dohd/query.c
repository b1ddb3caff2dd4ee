/*
 * query.c - the decision for one query and the answer it gets.
 *
 * Order: parse (malformed: FORMERR or drop), rate limit, class and type
 * (ANY/AXFR/IXFR/MAILA/MAILB: REFUSED), name limits (REFUSED, before any
 * lookup), allowlist (deny rcode; a type the rule does not allow:
 * REFUSED), local data (hosts and zone file: still only allowed names; a
 * single label is tried under each search domain whose qualified name is
 * allowed), cache, upstream.  Names of [jail] direct endpoints get
 * their addresses into netjaild's direct set before the answer leaves; if
 * netjaild does not acknowledge in time the client gets SERVFAIL.
 * mode = ask: a denial a rule could change is held while connectd's broker
 * asks (ask.c), then allowed or denied as asked; neither is cached with
 * its decision, so the next query asks again (the grant is connectd's).
 *
 * Every query ends in dquery_finish(), which writes the one log line.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "learn_table.h"
#include "log.h"

#include "dask.h"
#include "cache.h"
#include "dlog.h"
#include "dohd.h"
#include "workload.h"

#define DQ_STALE_TTL	30	/* RFC 8767 4: TTL of a stale answer */

enum dquery_how {
	DQ_H_NONE, DQ_H_LOCAL, DQ_H_CACHE, DQ_H_STALE, DQ_H_UPSTREAM,
};

struct dquery {
	struct dohd *d;
	struct dns_query q;
	struct dquery_src src;
	dquery_reply_fn fn;
	void *arg;
	uint64_t start_ms;
	struct eg_decision dec;
	const char *decision;	/* for the log line */
	const char *why;	/* extra reason, NULL: the engine's */
	enum dquery_how how;
	bool infra;		/* connectd's lookup: no allowlist */
	bool direct;		/* a [jail] direct name: feed netjaild */
	bool heap;
	bool nocache;
	struct dpolicy p;	/* its workload's engine (dquery_repolicy) */
	bool asked;		/* mode = ask decided it: no cached decision */
	char where[DCACHE_WHERE_MAX];	/* the rule's file:line (a reload
					 * frees rules) */
	uint64_t epoch;		/* the cache's when the policy was asked */
	uint64_t hash;		/* dcache_hash() of the question */
	uint8_t *pending;	/* answer held back until netjaild acks */
	size_t pending_len;
};

static const char *const how_str[] = {
	"none", "local", "hit", "stale", "miss",
};

static enum dquery_qtype_slot
qtype_slot(uint16_t t)
{
	switch (t) {
	case DNS_T_A:		return DQ_T_A;
	case DNS_T_AAAA:	return DQ_T_AAAA;
	case DNS_T_CNAME:	return DQ_T_CNAME;
	case DNS_T_HTTPS:	return DQ_T_HTTPS;
	case DNS_T_TXT:		return DQ_T_TXT;
	case DNS_T_ANY:		return DQ_T_ANY;
	default:		return DQ_T_OTHER;
	}
}

/* The daemon batches decision lines (dlog.c); tests and fuzzers do not. */
static void
dquery_emit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
dquery_emit(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (dlog_active())
		dlog_vline(EG_LOG_INFO, "decision", fmt, ap);
	else
		eg_vlog(EG_LOG_INFO, "decision", fmt, ap);
	va_end(ap);
}

static void
dquery_log(struct dquery *x, int rcode, size_t len)
{
	struct dohd *d = x->d;
	char src[64], nb[EG_NAME_MAX * 4 + 8], tb[16];

	/* At warn and above the line is never written: do not build it. */
	if (x->decision == NULL || !d->log_info)
		return;
	if (x->q.qname_len > 0)
		eg_log_quote(x->q.name, x->q.name_len, EG_NAME_MAX, nb,
		    sizeof(nb));
	else
		snprintf(nb, sizeof(nb), "-");
	dquery_emit("src=%s workload=%s proto=%s name=%s qtype=%s decision=%s "
	    "reason=%s rule=%s rcode=%s answer=%s bytes=%zu dur_ms=%llu%s",
	    x->src.ip.family == 0 ? "connectd" :
	    eg_ip_str(&x->src.ip, src, sizeof(src)),
	    dquery_wl_name(&x->src.wl),
	    x->src.ip.family == 0 ? "ctl" : x->src.tcp ? "tcp" : "udp", nb,
	    dns_type_str(x->q.qtype, tb, sizeof(tb)), x->decision,
	    x->why != NULL ? x->why : eg_reason_str(x->dec.reason),
	    x->where[0] != '\0' ? x->where : "-",
	    dns_rcode_str(rcode), how_str[x->how], len,
	    (unsigned long long)(d->now_ms() - x->start_ms),
	    x->direct ? " direct=yes" : "");
}

static void
dquery_free(struct dquery *x)
{
	if (x->heap) {
		x->d->inflight--;
		free(x->pending);
		free(x);
	}
}

/* Send bytes (or nothing) to the client and end the query. */
static void
dquery_finish(struct dquery *x, const uint8_t *wire, size_t len)
{
	int rcode = len >= DNS_HDR_LEN ? DNS_RCODE(dns_get16(wire + 2)) : -1;

	if (len >= DNS_HDR_LEN && (dns_get16(wire + 2) & DNS_F_TC))
		x->d->st.truncated++;
	if (rcode == DNS_R_SERVFAIL)
		x->d->st.servfail++;
	dquery_log(x, rcode < 0 ? DNS_R_NOERROR : rcode, len);
	dwlstat_count(x->d, &x->src.wl, x->decision);
	x->fn(x->arg, &x->src, len > 0 ? wire : NULL, len);
	dquery_free(x);
}

static void
dquery_error(struct dquery *x, int rcode)
{
	size_t n;

	n = dns_error(x->d->out, sizeof(x->d->out), &x->q, rcode, false);
	dquery_finish(x, x->d->out, n);
}

static size_t
dquery_limit(const struct dquery *x)
{
	return x->src.tcp || x->infra ? DNS_MAX_MSG : dns_udp_limit(&x->q);
}

/* ---- firewall feed ---- */

static void
feed_done(void *arg, int status)
{
	struct dquery *x = arg;

	if (status != 0) {
		x->d->st.feed_fail++;
		x->why = "feed_failed";
		eg_log(EG_LOG_WARN, "feed", "name=%s workload=%s status=%d "
		    "answer=withheld", x->q.name, dquery_wl_name(&x->src.wl),
		    status);
		dquery_error(x, DNS_R_SERVFAIL);
		return;
	}
	x->d->st.feed_ok++;
	memcpy(x->d->out, x->pending, x->pending_len);
	dquery_finish(x, x->d->out, x->pending_len);
}

/*
 * The answer in d->out is for a direct name: hold it, tell netjaild about
 * its addresses with a lifetime no shorter than any TTL in it, and release
 * it only on the acknowledgement.
 */
static void
dquery_feed(struct dquery *x, size_t len)
{
	struct dohd *d = x->d;
	struct eg_ip addrs[EG_SET_MAX_ELEMS];
	struct eg_set_elem el[EG_SET_MAX_ELEMS];
	const struct eg_config *cfg = d->cfg;
	uint32_t maxttl;
	size_t nel = 0;
	int na;

	na = dns_answer_addrs(d->out, len, addrs, EG_SET_MAX_ELEMS, &maxttl);
	if (na < 0)
		goto fail;
	if (na == 0) {
		dquery_finish(x, d->out, len);	/* nothing to open */
		return;
	}
	for (int i = 0; i < na; i++) {
		for (size_t k = 0; k < cfg->jail.ndirect; k++) {
			const struct eg_endpoint *ep = &cfg->jail.direct[k].ep;

			if (!ep->is_name || strcmp(ep->name, x->q.name) != 0)
				continue;
			if (nel == EG_SET_MAX_ELEMS)
				goto fail;	/* never open half of it */
			memset(&el[nel], 0, sizeof(el[nel]));
			el[nel].family = addrs[i].family;
			el[nel].port = ep->port;
			/* 0 would mean "forever"; add a second for the
			 * rounding of TTLs to whole seconds. */
			el[nel].timeout_ms = (maxttl + 1) * 1000;
			memcpy(el[nel].addr, addrs[i].addr, 16);
			nel++;
		}
	}
	if (nel == 0 || d->feeder.feed == NULL)
		goto fail;
	if (!x->heap) {
		struct dquery *h = malloc(sizeof(*h));

		if (h == NULL)
			goto fail;
		*h = *x;
		h->heap = true;
		d->inflight++;
		x = h;
	}
	if ((x->pending = malloc(len)) == NULL)
		goto fail;
	memcpy(x->pending, d->out, len);
	x->pending_len = len;
	if (d->feeder.feed(d->feeder.ctx, el, nel, feed_done, x) < 0)
		goto fail;
	return;
 fail:
	d->st.feed_fail++;
	x->why = "feed_failed";
	dquery_error(x, DNS_R_SERVFAIL);
}

/* Serve a stored body (cache entry, local data, fresh upstream answer). */
static void
dquery_serve(struct dquery *x, const uint8_t *body, size_t len,
    const uint16_t *offs, size_t nttl, uint32_t age, uint32_t floor)
{
	struct dohd *d = x->d;
	size_t n;

	n = dns_answer(d->out, sizeof(d->out), &x->q, body, len, offs, nttl,
	    age, floor, dquery_limit(x));
	if (n == 0) {
		x->why = "answer_build";
		dquery_error(x, DNS_R_SERVFAIL);
		return;
	}
	if (x->direct && !(dns_get16(d->out + 2) & DNS_F_TC) &&
	    DNS_RCODE(dns_get16(d->out + 2)) == DNS_R_NOERROR) {
		dquery_feed(x, n);
		return;
	}
	dquery_finish(x, d->out, n);
}

/* ---- upstream ---- */

static bool
dquery_serve_stale(struct dquery *x)
{
	struct dohd *d = x->d;
	const struct dcache_ent *e;
	uint32_t age;
	bool stale;

	if (x->nocache)
		return false;
	e = dcache_get(d->cache, x->q.lname, x->q.qname_len, x->q.qtype,
	    DCACHE_WL(x->q.qclass, x->p.idx), d->now_ms(), true, &age, &stale);
	if (e == NULL)
		return false;
	d->st.stale++;
	x->how = DQ_H_STALE;
	dquery_serve(x, e->wire, e->len, e->ttl_off, e->nttl, age,
	    DQ_STALE_TTL);
	return true;
}

static int
dquery_upstream_done(void *arg, int err, const uint8_t *wire, size_t len)
{
	struct dquery *x = arg;
	struct dohd *d = x->d;
	struct dfilter f;

	/* A reload may have renumbered or removed its workload meanwhile. */
	if (!dcore_policy(d, &x->src.wl, &x->p)) {
		x->why = "workload_gone";
		dquery_error(x, DNS_R_REFUSED);
		return 0;
	}
	/* only an allowed query gets here: asked, the decider allowed it */
	x->p.granted = x->asked;
	if (err != 0 || wire == NULL) {
		d->st.upstream_fail++;
		if (dquery_serve_stale(x))
			return 0;
		x->why = "upstream_failed";
		dquery_error(x, DNS_R_SERVFAIL);
		return 0;
	}
	if (dfilter_run(d, &x->p, &x->q, x->infra || x->direct, wire, len,
	    &f) < 0) {
		d->st.upstream_bad++;
		return -1;
	}
	d->st.upstream_ok++;
	d->st.stripped_addrs += f.stripped;
	if (f.cut) {
		char nb[EG_NAME_MAX * 4 + 8];

		d->st.cname_cut++;
		x->decision = "deny";
		x->why = "cname_denied";
		eg_log(EG_LOG_INFO, "cname", "name=%s target=%s decision=deny "
		    "workload=%s", x->q.name, eg_log_quote(f.cut_name,
		    strlen(f.cut_name), EG_NAME_MAX, nb, sizeof(nb)), x->p.wl);
	}
	if (f.cacheable && !x->nocache) {
		struct dcache_dec dec;

		memset(&dec, 0, sizeof(dec));
		dec.reason = (int)x->dec.reason;
		dec.reported = x->dec.reported;
		dec.direct = x->direct;
		memcpy(dec.where, x->where, sizeof(dec.where));
		(void)dcache_put(d->cache, x->epoch, x->q.lname,
		    x->q.qname_len, x->q.qtype, DCACHE_WL(x->q.qclass,
		    x->p.idx), f.wire, f.len,
		    f.w.ttl_off, f.w.nttl, f.ttl, f.negative,
		    x->asked ? NULL : &dec, d->now_ms());
	}
	dquery_serve(x, f.wire, f.len, f.w.ttl_off, f.w.nttl, 0, 0);
	dfilter_clear(&f);
	return 0;
}

static void
dquery_upstream(struct dquery *x)
{
	struct dohd *d = x->d;
	uint8_t wire[DNS_NAME_WIRE + 64 + DNS_PAD_BLOCK];
	struct dquery *h;
	size_t n;

	x->how = DQ_H_UPSTREAM;
	if (d->inflight >= d->max_inflight) {
		x->why = "overload";
		dquery_error(x, DNS_R_SERVFAIL);
		return;
	}
	n = dns_doh_query(wire, sizeof(wire), x->q.lname, x->q.qname_len,
	    x->q.qtype, x->q.qclass);
	if (n == 0 || d->res.resolve == NULL || (h = malloc(sizeof(*h))) ==
	    NULL) {
		x->why = "internal";
		dquery_error(x, DNS_R_SERVFAIL);
		return;
	}
	*h = *x;
	h->heap = true;
	d->inflight++;
	if (d->res.resolve(d->res.ctx, wire, n, dquery_upstream_done, h) < 0) {
		d->st.upstream_fail++;
		if (dquery_serve_stale(h))
			return;
		h->why = "no_upstream";
		dquery_error(h, DNS_R_SERVFAIL);
	}
}

/* ---- the decision ---- */

static bool
is_direct_name(const struct dquery *x, const char *name)
{
	return eg_policy_is_direct_name(x->p.pol, name, 0);
}

/*
 * Local data for an allowed name (exact), and for a single-label name under
 * each search domain whose qualified name the allowlist allows.
 */
static bool
dquery_local(struct dquery *x, bool exact)
{
	struct dohd *d = x->d;
	const struct eg_config *cfg = d->cfg;
	uint8_t *body = NULL, qual[DNS_NAME_WIRE];
	struct dns_walk w;
	size_t len = 0;
	int r;

	if (d->local == NULL)
		return false;
	r = 0;
	if (exact)
		r = dlocal_answer(d->local, x->q.lname, x->q.qname_len,
		    x->q.lname, x->q.qname_len, x->q.qtype, cfg->dohd.max_ttl,
		    &body, &len);
	for (size_t i = 0; r == 0 && x->q.labels == 1 && i < cfg->dohd.nsearch;
	    i++) {
		char full[EG_NAME_MAX + 2];
		size_t ql;
		struct eg_decision dec;

		if (snprintf(full, sizeof(full), "%s.%s", x->q.name,
		    cfg->dohd.search[i]) >= (int)sizeof(full) - 1)
			continue;
		/* Only a qualified name the allowlist would answer. */
		dec = eg_policy_check_dns(x->p.pol, full, x->q.qtype);
		if (dec.verdict != EG_ALLOW || dec.reported)
			continue;
		if (!dns_name_wire(full, qual, &ql))
			continue;
		r = dlocal_answer(d->local, qual, ql, x->q.lname,
		    x->q.qname_len, x->q.qtype, cfg->dohd.max_ttl, &body, &len);
	}
	if (r <= 0) {
		free(body);
		return false;
	}
	if (dns_walk(body, len, &w) < 0 || w.ttl_overflow) {
		free(body);
		x->why = "local_answer";
		dquery_error(x, DNS_R_SERVFAIL);
		return true;
	}
	d->st.local++;
	if (!exact)
		x->dec.reason = EG_R_RULE;
	x->decision = "local";
	x->why = "local_data";
	x->how = DQ_H_LOCAL;
	x->direct = false;	/* operator data: nothing to open */
	dquery_serve(x, body, len, w.ttl_off, w.nttl, 0, 0);
	free(body);
	return true;
}

static void
dquery_count_allowed(struct dquery *x)
{
	if (x->dec.reported) {
		x->d->st.reported++;
		/* learn mode records it (event=learn); "learn" here keeps
		 * egressctl learn --log from counting the query twice */
		x->decision = x->p.learn &&
		    eg_learn_note(x->p.wl, eg_reason_str(x->dec.reason),
		    x->q.name, 0, x->q.qtype) ? "learn" : "report";
	} else {
		x->d->st.allowed++;
		x->decision = "allow";
	}
}

/*
 * A fresh cache entry that carries its decision: the same policy (the
 * epoch proves it) allowed this name and type, and local data did not
 * answer it, so the answer is served without asking either again.
 */
static void
dquery_cached(struct dquery *x, const struct dcache_ent *e, uint32_t age)
{
	struct dohd *d = x->d;

	x->dec.verdict = EG_ALLOW;
	x->dec.reason = (enum eg_reason)e->dec->reason;
	x->dec.reported = e->dec->reported;
	if (d->log_info)
		memcpy(x->where, e->dec->where, sizeof(x->where));
	dquery_count_allowed(x);
	x->direct = e->dec->direct;
	d->st.cache_hits++;
	x->how = DQ_H_CACHE;
	dquery_serve(x, e->wire, e->len, e->ttl_off, e->nttl, age, 0);
}

/*
 * The same policy (epoch) denied this name and type before, and local
 * data did not answer it then: the same answer, without asking again.
 */
static bool
dquery_denied_before(struct dquery *x)
{
	struct dohd *d = x->d;
	const struct dcache_deny *m;

	if (x->q.qclass != DNS_C_IN || (m = dcache_deny_get(d->cache,
	    x->hash, x->q.lname, x->q.qname_len, DCACHE_WL(x->q.qtype,
	    x->p.idx))) == NULL)
		return false;
	x->dec.verdict = EG_DENY;
	x->dec.reason = (enum eg_reason)m->reason;
	if (d->log_info)
		memcpy(x->where, m->where, sizeof(x->where));
	d->st.denied++;
	x->decision = "deny";
	dquery_error(x, m->rcode);
	return true;
}

/* Meta and zone-transfer types: dohd answers none of them. */
static bool
refused_qtype(uint16_t t)
{
	switch (t) {
	case DNS_T_ANY:
	case DNS_T_AXFR:
	case DNS_T_IXFR:
	case DNS_T_MAILA:
	case DNS_T_MAILB:
	case DNS_T_OPT:
		return true;
	default:
		return false;
	}
}

/* Class, type and name, before any lookup: true when x was refused. */
static bool
dquery_refused(struct dquery *x)
{
	const char *why;

	if (x->q.qclass != DNS_C_IN)
		why = "class";
	else if (refused_qtype(x->q.qtype))
		why = "qtype";
	else if (!x->q.name_ok || x->q.labels == 0)
		why = "bad_name";
	else if (!dfilter_name_within_limits(x->d->cfg, x->q.name,
	    x->q.labels))
		why = "name_limit";
	else
		return false;
	x->d->st.refused++;
	x->decision = "refused";
	x->why = why;
	dquery_error(x, DNS_R_REFUSED);
	return true;
}

/*
 * The allowlist denied x.  A single label may still name an allowed local
 * name under a search domain; otherwise the deny rcode, remembered for
 * this policy (epoch).
 */
static void
dquery_deny(struct dquery *x)
{
	struct dohd *d = x->d;
	int rcode = x->dec.reason == EG_R_QTYPE ? DNS_R_REFUSED :
	    dohd_deny_rcode(d);

	if (x->q.labels == 1 && dquery_local(x, false))
		return;
	if (!x->asked)
		dcache_deny_put(d->cache, x->epoch, x->hash, x->q.lname,
		    x->q.qname_len, DCACHE_WL(x->q.qtype, x->p.idx), rcode,
		    (int)x->dec.reason, x->where);
	d->st.denied++;
	x->decision = "deny";
	dquery_error(x, rcode);
}

/* The broker answered a held query (its copy h): on as allowed, or deny. */
static void
dquery_asked(void *arg, bool allow, const char *reason)
{
	struct dquery x = *(struct dquery *)arg;
	struct dohd *d = x.d;
	const struct dcache_ent *e;
	uint32_t age;
	bool stale;

	free(arg);
	x.why = reason;
	/* A reload may have renumbered or removed its workload meanwhile. */
	if (!dcore_policy(d, &x.src.wl, &x.p)) {
		x.why = "workload_gone";
		dquery_error(&x, DNS_R_REFUSED);
		return;
	}
	if (!allow) {
		dquery_deny(&x);
		return;
	}
	x.dec.verdict = EG_ALLOW;
	d->st.allowed++;
	x.decision = "allow";
	x.direct = (x.q.qtype == DNS_T_A || x.q.qtype == DNS_T_AAAA) &&
	    is_direct_name(&x, x.q.name);
	if (dquery_local(&x, true))
		return;
	e = dcache_get_hashed(d->cache, x.hash, x.q.lname, x.q.qname_len,
	    x.q.qtype, DCACHE_WL(x.q.qclass, x.p.idx), d->now_ms(), false,
	    &age, &stale);
	if (e != NULL) {
		d->st.cache_hits++;
		x.how = DQ_H_CACHE;
		dquery_serve(&x, e->wire, e->len, e->ttl_off, e->nttl, age, 0);
		return;
	}
	d->st.cache_misses++;
	dquery_upstream(&x);
}

/*
 * mode = ask: hold a copy of x while the broker asks; a query that cannot
 * be held (table full, no broker) is denied now.
 */
static bool
dquery_ask(struct dquery *x)
{
	struct dohd *d = x->d;
	struct dquery *h;
	const char *why = "out-of-memory";

	if (d->ask == NULL || x->q.qclass != DNS_C_IN ||
	    !dask_wanted(eg_policy_mode(x->p.pol), (int)x->dec.reason,
	    x->q.qtype))
		return false;
	x->asked = true;
	if ((h = malloc(sizeof(*h))) != NULL) {
		*h = *x;
		if (dask_hold(d->ask, d->cfg, dquery_wl_name(&x->src.wl),
		    x->q.name, x->q.qtype, &x->src.ip, dquery_asked, h,
		    &why) == 0)
			return true;
		free(h);
	}
	x->why = why;
	dquery_deny(x);
	return true;
}

/*
 * A client's query: the cache (an entry that carries its decision, or a
 * deny remembered), else the allowlist, then local data.  True when x got
 * its answer; otherwise it is allowed and *e is its fresh cache entry (or
 * NULL) from before: dquery_local() leaves the cache alone.
 */
static bool
dquery_decide(struct dquery *x, const struct dcache_ent **e, uint32_t *age)
{
	struct dohd *d = x->d;
	bool stale;

	x->hash = dcache_hash(d->cache, x->q.lname, x->q.qname_len,
	    x->q.qtype, DCACHE_WL(x->q.qclass, x->p.idx));
	*e = dcache_get_hashed(d->cache, x->hash, x->q.lname, x->q.qname_len,
	    x->q.qtype, DCACHE_WL(x->q.qclass, x->p.idx), x->start_ms, false,
	    age, &stale);
	if (*e != NULL && (*e)->dec != NULL) {
		dquery_cached(x, *e, *age);
		return true;
	}
	if (*e == NULL && dquery_denied_before(x))
		return true;
	x->dec = eg_policy_check_dns(x->p.pol, x->q.name, x->q.qtype);
	if (x->dec.rule != NULL && d->log_info)
		eg_rule_where(x->dec.rule, x->where, sizeof(x->where));
	x->dec.rule = NULL;
	x->dec.cidr = NULL;
	if (x->dec.verdict != EG_ALLOW) {
		if (!dquery_ask(x))
			dquery_deny(x);
		return true;
	}
	dquery_count_allowed(x);
	x->direct = x->dec.direct || ((x->q.qtype == DNS_T_A ||
	    x->q.qtype == DNS_T_AAAA) && is_direct_name(x, x->q.name));
	return dquery_local(x, true);
}

static void
dquery_run(struct dquery *x)
{
	struct dohd *d = x->d;
	const struct dcache_ent *e = NULL;
	uint32_t age = 0;

	x->epoch = dcache_epoch(d->cache);
	/* The listener's workload left the config (a TCP connection
	 * outlives its listener): nothing of it is answered. */
	if (!dcore_policy(d, &x->src.wl, &x->p)) {
		d->st.refused++;
		x->decision = "refused";
		x->why = "workload_gone";
		dquery_error(x, DNS_R_REFUSED);
		return;
	}
	if (dquery_refused(x))
		return;
	if (x->infra) {
		/* connectd's hop or canary name: no allowlist, no cache */
		x->decision = "infra";
		x->why = "hop_name";
		x->nocache = true;
		dquery_upstream(x);
		return;
	}
	if (dquery_decide(x, &e, &age))
		return;
	if (e != NULL) {
		d->st.cache_hits++;
		x->how = DQ_H_CACHE;
		dquery_serve(x, e->wire, e->len, e->ttl_off, e->nttl, age, 0);
		return;
	}
	d->st.cache_misses++;
	dquery_upstream(x);
}

void
dquery_handle(struct dohd *d, const uint8_t *pkt, size_t n,
    const struct dquery_src *src, dquery_reply_fn fn, void *arg)
{
	static struct eg_ratelimit rl = EG_RATELIMIT_INIT(10000, 10);
	struct dquery x;
	char sb[64];
	enum dns_parse r;

	memset(&x, 0, sizeof(x));
	x.d = d;
	x.src = *src;
	x.fn = fn;
	x.arg = arg;
	x.start_ms = d->now_ms();
	x.dec.reason = EG_R_NO_RULE;
	d->st.queries++;

	r = dns_query_parse(pkt, n, &x.q);
	if (r == DNS_PARSE_OK)
		d->st.by_qtype[qtype_slot(x.q.qtype)]++;
	if (d->rate != NULL && !drate_pass(d->rate, &src->ip, x.start_ms)) {
		d->st.ratelimited++;
		eg_log_rl(&rl, EG_LOG_WARN, "ratelimit", "src=%s proto=%s",
		    eg_ip_str(&src->ip, sb, sizeof(sb)),
		    src->tcp ? "tcp" : "udp");
		/* UDP: silence, so a spoofed source cannot use us to
		 * reflect; TCP has a real peer that deserves an answer. */
		if (src->tcp && r != DNS_PARSE_DROP)
			dquery_error(&x, DNS_R_REFUSED);
		else
			dquery_finish(&x, NULL, 0);
		return;
	}
	switch (r) {
	case DNS_PARSE_OK:
		break;
	case DNS_PARSE_DROP:
		d->st.dropped++;
		dquery_finish(&x, NULL, 0);
		return;
	case DNS_PARSE_FORMERR:
		d->st.formerr++;
		x.decision = "formerr";
		x.why = "malformed";
		dquery_error(&x, DNS_R_FORMERR);
		return;
	case DNS_PARSE_NOTIMP:
		d->st.notimp++;
		x.decision = "notimp";
		x.why = "opcode";
		dquery_error(&x, DNS_R_NOTIMP);
		return;
	case DNS_PARSE_BADVERS:
		d->st.formerr++;
		x.decision = "badvers";
		x.why = "edns_version";
		dquery_error(&x, DNS_R_BADVERS);
		return;
	}
	dquery_run(&x);
}

void
dquery_resolve(struct dohd *d, const char *name, uint16_t qtype, bool infra,
    const char *wlname, dquery_reply_fn fn, void *arg)
{
	struct dquery x;
	uint8_t wire[DNS_NAME_WIRE];
	size_t wl;

	memset(&x, 0, sizeof(x));
	x.d = d;
	x.fn = fn;
	x.arg = arg;
	x.infra = infra;
	/* found by name (an index of no generation): dcore_policy */
	if (wlname != NULL && strlen(wlname) < sizeof(x.src.wl.name))
		memcpy(x.src.wl.name, wlname, strlen(wlname) + 1);
	x.src.wl.gen = d->wlgen - 1;
	x.src.tcp = true;	/* no size limit: it is not UDP */
	x.start_ms = d->now_ms();
	x.q.flags = DNS_F_RD;
	x.q.qtype = qtype;
	x.q.qclass = DNS_C_IN;
	x.dec.reason = EG_R_RULE;
	if (!dns_name_wire(name, wire, &wl)) {
		fn(arg, &x.src, NULL, 0);
		return;
	}
	memcpy(x.q.qname, wire, wl);
	memcpy(x.q.lname, wire, wl);
	for (size_t i = 0; i < wl; i++)
		x.q.lname[i] = (uint8_t)(x.q.lname[i] | ((x.q.lname[i] >= 'A' &&
		    x.q.lname[i] <= 'Z') ? 0x20 : 0));
	x.q.qname_len = wl;
	x.q.name_ok = dns_name_text(x.q.lname, wl, x.q.name, sizeof(x.q.name),
	    &x.q.labels);
	x.q.name_len = strlen(x.q.name);
	d->st.queries++;
	dquery_run(&x);
}
