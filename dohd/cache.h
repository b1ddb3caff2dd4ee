/*
 * cache.h - answers by (name, type, class), TTL-bounded, LRU-evicted.
 *
 * An entry holds the filtered answer body exactly as dns_answer() wants it
 * plus the offsets of its TTLs, so a hit is served by copying and
 * rewriting bytes: lookups never allocate.  Entries outlive their TTL only
 * as stale candidates (serve-stale when every upstream is down) and are
 * dropped once older than TTL + the stale window.
 *
 * An entry may also carry the policy decision that let its question
 * through (struct dcache_dec), so a hit is answered without asking the
 * policy again.  That is sound only because the cache never outlives a
 * policy: dcache_flush() (every reload) starts a new epoch, and an answer
 * to a question decided in an earlier epoch is refused by dcache_put().
 */
#ifndef DOHD_CACHE_H
#define DOHD_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "htab.h"

struct dcache;

#define DCACHE_WHERE_MAX	128

/*
 * Answers and denials are kept per workload: a workload's filtered answer
 * or its policy's denial is never served to another.  The key's class
 * (and a denial's type) carries the workload's index in the policy
 * generation (the cache is flushed with it) above the DNS value; the
 * default workload, index 0, keys as before.
 */
#define DCACHE_WL(v, wl)	((uint32_t)(v) | (uint32_t)(wl) << 16)

/* The decision for (name, type) at the time the answer was stored. */
struct dcache_dec {
	int reason;			/* enum eg_reason */
	bool reported;			/* report mode let it through */
	bool direct;			/* feed netjaild before answering */
	char where[DCACHE_WHERE_MAX];	/* the rule's file:line, "" */
};

struct dcache_ent {
	struct eg_hnode node;		/* first: the table's node is the entry */
	struct dcache_ent *lprev, *lnext;	/* LRU list, head = newest */
	uint64_t stored_ms;
	uint32_t ttl;			/* seconds the answer stays fresh */
	uint16_t qtype;
	uint32_t qclass;		/* DCACHE_WL(class, workload) */
	uint16_t len;			/* bytes of wire */
	uint16_t nttl;
	bool negative;
	uint8_t namelen;
	uint8_t name[255];		/* lower-case wire form */
	uint16_t *ttl_off;		/* into the same allocation */
	uint8_t *wire;
	const struct dcache_dec *dec;	/* NULL: ask the policy */
};

struct dcache_stats {
	uint64_t hits, misses, stale_hits, inserts, evictions, expired;
	size_t entries;
};

/* stale_s: how long past its TTL an entry is kept for serve-stale. */
struct dcache *dcache_new(size_t max_entries, uint32_t stale_s);
void dcache_free(struct dcache *c);
void dcache_flush(struct dcache *c);

/* The current epoch: a query notes it before it asks the policy. */
uint64_t dcache_epoch(const struct dcache *c);

/*
 * Store (or replace) an answer; false when it cannot (0 TTL, no room) or
 * when epoch is not the current one (the policy changed meanwhile).  dec
 * (may be NULL) is copied into the entry.
 */
bool dcache_put(struct dcache *c, uint64_t epoch, const uint8_t *name,
    size_t namelen, uint16_t qtype, uint32_t qclass, const uint8_t *wire,
    size_t len, const uint16_t *ttl_off, size_t nttl, uint32_t ttl,
    bool negative, const struct dcache_dec *dec, uint64_t now_ms);

/*
 * A fresh entry, or with allow_stale one that expired less than stale_s
 * seconds ago (*stale set).  *age is whole seconds since it was stored.
 */
const struct dcache_ent *dcache_get(struct dcache *c, const uint8_t *name,
    size_t namelen, uint16_t qtype, uint32_t qclass, uint64_t now_ms,
    bool allow_stale, uint32_t *age, bool *stale);

/* The keyed hash of a key, computed once per query for the lookups below
 * (the query path asks both the cache and the denials). */
uint64_t dcache_hash(const struct dcache *c, const uint8_t *name,
    size_t namelen, uint16_t qtype, uint32_t qclass);
/* dcache_get() with h = dcache_hash() of the same key. */
const struct dcache_ent *dcache_get_hashed(struct dcache *c, uint64_t h,
    const uint8_t *name, size_t namelen, uint16_t qtype, uint32_t qclass,
    uint64_t now_ms, bool allow_stale, uint32_t *age, bool *stale);

void dcache_stats(const struct dcache *c, struct dcache_stats *st);

/*
 * Denials, remembered for the epoch: (name, type) the policy refused and
 * the rcode it got.  A fixed table, one slot per hash (keyed, like the
 * cache): a flood of names only overwrites slots, it never grows memory
 * nor pushes an answer out of the cache.
 */
#define DCACHE_DENY_SLOTS	1024

struct dcache_deny {
	uint64_t hash;
	uint64_t epoch;			/* epoch + 1: 0 is an empty slot */
	uint32_t qtype;			/* DCACHE_WL(type, workload) */
	uint8_t namelen;
	uint8_t rcode;
	int reason;			/* enum eg_reason */
	char where[DCACHE_WHERE_MAX];
	uint8_t name[255];
};

/* h is dcache_hash() of (name, qtype, the question's class). */
const struct dcache_deny *dcache_deny_get(const struct dcache *c,
    uint64_t h, const uint8_t *name, size_t namelen, uint32_t qtype);
/* Remember a denial decided in epoch (ignored when that is past). */
void dcache_deny_put(struct dcache *c, uint64_t epoch, uint64_t h,
    const uint8_t *name, size_t namelen, uint32_t qtype, int rcode,
    int reason, const char *where);

#endif
