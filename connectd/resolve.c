/*
 * resolve.c - names to addresses for the chain: through dohd (RESOLVE_REQ
 * over its control socket), or, for connectd on its own without a [dohd]
 * section, the host's resolver (sysres.c).
 *
 *   cd_resolve      A, then AAAA when there is no A: the first family
 *                   that answers (dialling a hop or the target)
 *   cd_resolve_all  A and AAAA in parallel, the union; any error fails
 *                   the whole (the resolve check: nothing to vouch for)
 *
 * Each keeps its answers in a small TTL cache of its own (one cache
 * type, two instances: a name's first-family answer must never stand in
 * for the union, nor the other way round).  TTLs are capped at 300 s.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "cd.h"
#include "ipc.h"
#include "sysres.h"

#define RCACHE		64			/* entries per cache */
#define RCACHE_TTL_MAX	300			/* seconds */
#define BOTH_MAX	(2 * EG_RESOLVE_MAX_ADDRS)	/* the union */
/* "WORKLOAD/NAME": dohd answers each workload by its own rules */
#define RKEY_MAX	(EG_IPC_WL_NAME_MAX + 1 + EG_NAME_MAX + 1)

/* The workload a lookup is for: NULL for [policy]'s (and the hops). */
static const char *
wl_of(const char *wl)
{
	return wl == NULL || strcmp(wl, EG_WL_DEFAULT) == 0 ? NULL : wl;
}

static void
rkey(char key[RKEY_MAX], const char *wl, const char *name)
{
	snprintf(key, RKEY_MAX, "%s/%s", wl ? wl : "", name);
}

struct rcache_ent {
	char name[RKEY_MAX];		/* rkey(): the workload's, then name */
	struct eg_ip addrs[BOTH_MAX];
	size_t n;
	uint64_t expires;
};

struct rcache {
	struct rcache_ent e[RCACHE];
};

static struct rcache first_cache;	/* cd_resolve */
static struct rcache both_cache;	/* cd_resolve_all */

/* Answer from the cache when it has a live entry for name. */
static bool
rcache_answer(const struct rcache *c, const char *name, cd_resolve_cb cb,
    void *arg)
{
	uint64_t now = eg_now_ms();
	size_t i;

	for (i = 0; i < RCACHE; i++) {
		if (c->e[i].expires > now && strcmp(c->e[i].name, name) == 0) {
			cb(0, c->e[i].addrs, c->e[i].n, NULL, arg);
			return true;
		}
	}
	return false;
}

/* Keep an answer: in the name's entry, else in the one expiring first. */
static void
rcache_put(struct rcache *c, const char *name, const struct eg_ip *a,
    size_t n, uint32_t ttl)
{
	struct rcache_ent *e = &c->e[0];
	size_t i;

	for (i = 0; i < RCACHE; i++) {
		if (strcmp(c->e[i].name, name) == 0) {
			e = &c->e[i];
			break;
		}
		if (c->e[i].expires < e->expires)
			e = &c->e[i];
	}
	if (n > BOTH_MAX)
		n = BOTH_MAX;
	if (ttl > RCACHE_TTL_MAX)
		ttl = RCACHE_TTL_MAX;
	snprintf(e->name, sizeof(e->name), "%s", name);
	memcpy(e->addrs, a, n * sizeof(*a));
	e->n = n;
	e->expires = eg_now_ms() + (uint64_t)ttl * 1000;
}

/*
 * dohd's answer to one RESOLVE_REQ: the reply, its addresses in *addrs,
 * or NULL with why set (no answer, a malformed one, an rcode).
 */
static const struct eg_msg_resolve_rep *
rep_read(int status, const struct eg_ipc_msg *msg,
    const struct eg_ip **addrs, char *why, size_t whylen)
{
	const struct eg_msg_resolve_rep *rep;

	if (status != 0) {
		snprintf(why, whylen, "dohd: %s", strerror(-status));
		return NULL;
	}
	if (msg->hdr.type != EG_MSG_RESOLVE_REP ||
	    (rep = eg_ipc_resolve_rep(msg, addrs)) == NULL) {
		snprintf(why, whylen, "dohd: bad answer");
		return NULL;
	}
	if (rep->rcode != 0) {
		snprintf(why, whylen, "dohd: rcode %d", rep->rcode);
		return NULL;
	}
	return rep;
}

/* wl NULL: [policy]'s rules (wllen 0), else that workload's */
static int
ask_dohd(struct cd *cd, const char *name, const char *wl, uint16_t qtype,
    uint64_t timeout_ms, eg_ctl_reply_cb cb, void *arg)
{
	struct eg_msg_resolve_req req;
	char tail[EG_NAME_MAX + EG_IPC_WL_NAME_MAX];
	size_t wlen = wl ? strlen(wl) : 0;

	memset(&req, 0, sizeof(req));
	req.qtype = qtype;
	req.namelen = (uint16_t)strlen(name);
	req.wllen = (uint8_t)wlen;
	if (req.namelen > EG_NAME_MAX || wlen > EG_IPC_WL_NAME_MAX)
		return -1;
	memcpy(tail, name, req.namelen);
	memcpy(tail + req.namelen, wl ? wl : "", wlen);
	return eg_ctl_request2(cd->dohd, EG_MSG_RESOLVE_REQ, &req, sizeof(req),
	    tail, req.namelen + wlen, timeout_ms, cb, arg);
}

/* ---- the first family that answers */

struct rq {
	struct cd *cd;
	char name[EG_NAME_MAX + 1];
	char wl[EG_IPC_WL_NAME_MAX + 1];	/* "": [policy]'s */
	uint64_t timeout_ms;
	cd_resolve_cb cb;
	void *arg;
	uint16_t qtype;
};

static void
on_resolve_rep(int status, const struct eg_ipc_msg *msg, void *arg)
{
	struct rq *q = arg;
	const struct eg_msg_resolve_rep *rep;
	const struct eg_ip *addrs = NULL;
	char why[64];

	if ((rep = rep_read(status, msg, &addrs, why, sizeof(why))) == NULL) {
		q->cb(-1, NULL, 0, why, q->arg);
		goto out;
	}
	if (rep->count == 0 && q->qtype == 1) {
		/* No IPv4 address: ask for IPv6 before giving up. */
		q->qtype = 28;
		if (ask_dohd(q->cd, q->name, q->wl[0] ? q->wl : NULL, 28,
		    q->timeout_ms, on_resolve_rep, q) == 0)
			return;
		q->cb(-1, NULL, 0, "dohd: request failed", q->arg);
		goto out;
	}
	if (rep->count > 0) {
		char key[RKEY_MAX];

		rkey(key, q->wl[0] ? q->wl : NULL, q->name);
		rcache_put(&first_cache, key, addrs, rep->count, rep->ttl);
	}
	q->cb(rep->count ? 0 : -1, addrs, rep->count,
	    rep->count ? NULL : "no address", q->arg);
out:
	free(q);
}

void
cd_resolve(struct cd *cd, const char *name, const char *wl,
    uint64_t timeout_ms, cd_resolve_cb cb, void *arg)
{
	struct rq *q;
	char norm[EG_NAME_MAX + 1], err[EG_ERR_MAX], key[RKEY_MAX];

	wl = wl_of(wl);
	if (!eg_name_normalise(name, norm, err)) {
		cb(-1, NULL, 0, "not a valid name", arg);
		return;
	}
	rkey(key, wl, norm);
	if (rcache_answer(&first_cache, key, cb, arg))
		return;
	if (cd->dohd == NULL && cd->sysres != NULL) {
		sysres_resolve(cd->sysres, norm, timeout_ms, cb, arg);
		return;
	}
	if (cd->dohd == NULL || (q = calloc(1, sizeof(*q))) == NULL) {
		cb(-1, NULL, 0, "dohd: not available", arg);
		return;
	}
	q->cd = cd;
	snprintf(q->name, sizeof(q->name), "%s", norm);
	snprintf(q->wl, sizeof(q->wl), "%s", wl ? wl : "");
	q->timeout_ms = timeout_ms;
	q->cb = cb;
	q->arg = arg;
	q->qtype = 1;
	if (ask_dohd(cd, norm, wl, 1, timeout_ms, on_resolve_rep, q) != 0) {
		free(q);
		cb(-1, NULL, 0, "dohd: request failed", arg);
	}
}

/* ---- both families, the union (the resolve check) */

struct rboth {
	char name[RKEY_MAX];		/* the cache key */
	int pending;
	struct eg_ip addrs[BOTH_MAX];
	size_t n;
	uint32_t ttl;
	char why[64];
	cd_resolve_cb cb;
	void *arg;
};

static void
both_done(struct rboth *b)
{
	if (--b->pending > 0)
		return;
	if (b->why[0] != '\0') {
		b->cb(-1, NULL, 0, b->why, b->arg);
		free(b);
		return;
	}
	if (b->n > 0)
		rcache_put(&both_cache, b->name, b->addrs, b->n, b->ttl);
	b->cb(b->n ? 0 : -1, b->addrs, b->n, b->n ? NULL :
	    "no address (dohd strips internal ones)", b->arg);
	free(b);
}

static void
on_both_rep(int status, const struct eg_ipc_msg *msg, void *arg)
{
	struct rboth *b = arg;
	const struct eg_msg_resolve_rep *rep;
	const struct eg_ip *addrs = NULL;
	size_t i;

	if ((rep = rep_read(status, msg, &addrs, b->why,
	    sizeof(b->why))) != NULL) {
		for (i = 0; i < rep->count && b->n < BOTH_MAX; i++)
			b->addrs[b->n++] = addrs[i];
		if (rep->count > 0 && rep->ttl < b->ttl)
			b->ttl = rep->ttl;
	}
	both_done(b);
}

/*
 * Without dohd (connectd on its own) the host's resolver answers, one
 * family, unfiltered.
 */
void
cd_resolve_all(struct cd *cd, const char *name, const char *wl,
    uint64_t timeout_ms, cd_resolve_cb cb, void *arg)
{
	static const uint16_t qtypes[2] = { 1, 28 };
	struct rboth *b;
	char norm[EG_NAME_MAX + 1], err[EG_ERR_MAX], key[RKEY_MAX];
	size_t i;

	wl = wl_of(wl);
	if (cd->dohd == NULL) {
		cd_resolve(cd, name, wl, timeout_ms, cb, arg);
		return;
	}
	if (!eg_name_normalise(name, norm, err)) {
		cb(-1, NULL, 0, "not a valid name", arg);
		return;
	}
	rkey(key, wl, norm);
	if (rcache_answer(&both_cache, key, cb, arg))
		return;
	if ((b = calloc(1, sizeof(*b))) == NULL) {
		cb(-1, NULL, 0, "out of memory", arg);
		return;
	}
	snprintf(b->name, sizeof(b->name), "%s", key);
	b->ttl = UINT32_MAX;
	b->cb = cb;
	b->arg = arg;
	b->pending = 2;
	for (i = 0; i < 2; i++) {
		if (ask_dohd(cd, norm, wl, qtypes[i], timeout_ms, on_both_rep,
		    b) != 0) {
			snprintf(b->why, sizeof(b->why), "dohd: request failed");
			both_done(b);
		}
	}
}
