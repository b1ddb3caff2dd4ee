/*
 * cache.c - answers in libegress's keyed hash table (a hostile client picks
 * the names, so it must not pick the buckets) and an LRU list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"

#define MAX_BUCKETS	(1u << 24)

struct dcache {
	size_t max;
	uint32_t stale_s;
	struct eg_htab tab;
	struct dcache_ent *head, *tail;
	uint64_t epoch;
	struct dcache_stats st;
	struct dcache_deny *deny;	/* DCACHE_DENY_SLOTS */
};

static uint64_t
key_hash(const struct dcache *c, const uint8_t *name, size_t len,
    uint16_t qtype, uint32_t qclass)
{
	return eg_htab_hash(&c->tab, (uint64_t)qtype << 32 | qclass, name,
	    len);
}

struct dcache *
dcache_new(size_t max_entries, uint32_t stale_s)
{
	struct dcache *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->max = max_entries;
	c->stale_s = stale_s;
	if (!eg_htab_init(&c->tab, max_entries, MAX_BUCKETS) ||
	    (c->deny = calloc(DCACHE_DENY_SLOTS, sizeof(*c->deny))) == NULL) {
		eg_htab_free(&c->tab);
		free(c);
		return NULL;
	}
	return c;
}

static void
lru_unlink(struct dcache *c, struct dcache_ent *e)
{
	if (e->lprev != NULL)
		e->lprev->lnext = e->lnext;
	else
		c->head = e->lnext;
	if (e->lnext != NULL)
		e->lnext->lprev = e->lprev;
	else
		c->tail = e->lprev;
	e->lprev = e->lnext = NULL;
}

static void
lru_push(struct dcache *c, struct dcache_ent *e)
{
	e->lprev = NULL;
	e->lnext = c->head;
	if (c->head != NULL)
		c->head->lprev = e;
	c->head = e;
	if (c->tail == NULL)
		c->tail = e;
}

static void
ent_remove(struct dcache *c, struct dcache_ent *e)
{
	eg_htab_remove(&c->tab, &e->node);
	lru_unlink(c, e);
	free(e);
}

uint64_t
dcache_epoch(const struct dcache *c)
{
	return c->epoch;
}

void
dcache_flush(struct dcache *c)
{
	c->epoch++;
	while (c->head != NULL)
		ent_remove(c, c->head);
}

void
dcache_free(struct dcache *c)
{
	if (c == NULL)
		return;
	dcache_flush(c);
	eg_htab_free(&c->tab);
	free(c->deny);
	free(c);
}

static struct dcache_ent *
find(struct dcache *c, uint64_t h, const uint8_t *name, size_t len,
    uint16_t qtype, uint32_t qclass)
{
	struct eg_hnode *n;
	struct dcache_ent *e;

	for (n = eg_htab_first(&c->tab, h); n != NULL; n = eg_htab_next(n)) {
		e = (struct dcache_ent *)n;
		if (e->qtype == qtype && e->qclass == qclass &&
		    e->namelen == len && memcmp(e->name, name, len) == 0)
			return e;
	}
	return NULL;
}

bool
dcache_put(struct dcache *c, uint64_t epoch, const uint8_t *name,
    size_t namelen, uint16_t qtype, uint32_t qclass, const uint8_t *wire,
    size_t len, const uint16_t *ttl_off, size_t nttl, uint32_t ttl,
    bool negative, const struct dcache_dec *dec, uint64_t now_ms)
{
	struct dcache_ent *e, *old;
	struct dcache_dec *ed = NULL;
	size_t sz;
	uint64_t h;

	if (c->max == 0 || ttl == 0 || namelen == 0 || namelen > 255 ||
	    len == 0 || len > UINT16_MAX || nttl > UINT16_MAX ||
	    epoch != c->epoch)
		return false;
	h = key_hash(c, name, namelen, qtype, qclass);
	if ((old = find(c, h, name, namelen, qtype, qclass)) != NULL)
		ent_remove(c, old);
	while (c->tab.n >= c->max && c->tail != NULL) {
		ent_remove(c, c->tail);
		c->st.evictions++;
	}
	/* entry, decision, TTL offsets, wire: one allocation, each part
	 * aligned for what it holds. */
	sz = sizeof(*e) + (dec != NULL ? sizeof(*ed) : 0);
	e = malloc(sz + nttl * sizeof(uint16_t) + len);
	if (e == NULL)
		return false;
	memset(e, 0, sizeof(*e));
	if (dec != NULL) {
		ed = (struct dcache_dec *)(void *)(e + 1);
		*ed = *dec;
		ed->where[sizeof(ed->where) - 1] = '\0';
		e->dec = ed;
	}
	e->ttl_off = (uint16_t *)(void *)((uint8_t *)e + sz);
	e->wire = (uint8_t *)(e->ttl_off + nttl);
	if (nttl > 0)
		memcpy(e->ttl_off, ttl_off, nttl * sizeof(uint16_t));
	memcpy(e->wire, wire, len);
	e->len = (uint16_t)len;
	e->nttl = (uint16_t)nttl;
	e->node.hash = h;
	e->stored_ms = now_ms;
	e->ttl = ttl;
	e->qtype = qtype;
	e->qclass = qclass;
	e->negative = negative;
	e->namelen = (uint8_t)namelen;
	memcpy(e->name, name, namelen);
	eg_htab_insert(&c->tab, &e->node);
	lru_push(c, e);
	c->st.inserts++;
	return true;
}

uint64_t
dcache_hash(const struct dcache *c, const uint8_t *name, size_t namelen,
    uint16_t qtype, uint32_t qclass)
{
	return key_hash(c, name, namelen, qtype, qclass);
}

const struct dcache_ent *
dcache_get(struct dcache *c, const uint8_t *name, size_t namelen,
    uint16_t qtype, uint32_t qclass, uint64_t now_ms, bool allow_stale,
    uint32_t *age, bool *stale)
{
	return dcache_get_hashed(c, key_hash(c, name, namelen, qtype, qclass),
	    name, namelen, qtype, qclass, now_ms, allow_stale, age, stale);
}

const struct dcache_ent *
dcache_get_hashed(struct dcache *c, uint64_t h, const uint8_t *name,
    size_t namelen, uint16_t qtype, uint32_t qclass, uint64_t now_ms,
    bool allow_stale, uint32_t *age, bool *stale)
{
	struct dcache_ent *e;
	uint64_t a;

	*stale = false;
	*age = 0;
	if (c->max == 0 || namelen == 0 || namelen > 255)
		goto miss;
	e = find(c, h, name, namelen, qtype, qclass);
	if (e == NULL)
		goto miss;
	a = now_ms > e->stored_ms ? (now_ms - e->stored_ms) / 1000 : 0;
	if (a >= e->ttl) {
		if (a >= (uint64_t)e->ttl + c->stale_s) {
			ent_remove(c, e);
			c->st.expired++;
			goto miss;
		}
		if (!allow_stale)
			goto miss;
		*stale = true;
		c->st.stale_hits++;
	} else
		c->st.hits++;
	*age = a > UINT32_MAX ? UINT32_MAX : (uint32_t)a;
	lru_unlink(c, e);
	lru_push(c, e);
	return e;
 miss:
	c->st.misses++;
	return NULL;
}

void
dcache_stats(const struct dcache *c, struct dcache_stats *st)
{
	*st = c->st;
	st->entries = c->tab.n;
}

/* Flushing needs nothing here: a slot of an earlier epoch never matches. */
const struct dcache_deny *
dcache_deny_get(const struct dcache *c, uint64_t h, const uint8_t *name,
    size_t namelen, uint32_t qtype)
{
	const struct dcache_deny *m;

	if (namelen == 0 || namelen > 255)
		return NULL;
	m = &c->deny[h & (DCACHE_DENY_SLOTS - 1)];
	if (m->epoch != c->epoch + 1 || m->hash != h || m->qtype != qtype ||
	    m->namelen != namelen || memcmp(m->name, name, namelen) != 0)
		return NULL;
	return m;
}

void
dcache_deny_put(struct dcache *c, uint64_t epoch, uint64_t h,
    const uint8_t *name, size_t namelen, uint32_t qtype, int rcode,
    int reason, const char *where)
{
	struct dcache_deny *m;

	if (epoch != c->epoch || namelen == 0 || namelen > 255)
		return;
	m = &c->deny[h & (DCACHE_DENY_SLOTS - 1)];
	m->hash = h;
	m->epoch = epoch + 1;
	m->qtype = qtype;
	m->namelen = (uint8_t)namelen;
	m->rcode = (uint8_t)rcode;
	m->reason = reason;
	snprintf(m->where, sizeof(m->where), "%s", where);
	memcpy(m->name, name, namelen);
}
