/*
 * htab.h - a chained hash table with a keyed hash, for keys a hostile peer
 * picks (query names, SNI, Host headers): without the table's random key
 * nobody can prepare names that all land in one bucket.
 *
 * The table is intrusive: an item embeds a struct eg_hnode and the table
 * allocates only its buckets, sized once (no rehash, so no latency spike
 * and no failure after init).  The caller hashes with eg_htab_hash, sets
 * node->hash, and compares its own keys while walking a hash's nodes:
 *
 *	for (n = eg_htab_first(t, h); n != NULL; n = eg_htab_next(n))
 *		if (same key as n's item) ...
 *
 * Used by the policy's name tables (libegress/policy.c) and dohd's answer
 * cache (dohd/cache.c).
 */
#ifndef EG_HTAB_H
#define EG_HTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct eg_hnode {
	struct eg_hnode	*next;
	uint64_t	 hash;
};

struct eg_htab {
	struct eg_hnode	**b;
	size_t		  mask;
	size_t		  n;		/* nodes in the table */
	uint64_t	  seed;
};

/*
 * Buckets for nitems at one per bucket: a power of two, at least 64, at
 * most max_buckets.  false when out of memory.
 */
bool eg_htab_init(struct eg_htab *t, size_t nitems, size_t max_buckets);
/* Frees the buckets, not the nodes. */
void eg_htab_free(struct eg_htab *t);

/* The keyed hash of len bytes and a tweak (0, or other parts of a key). */
uint64_t eg_htab_hash(const struct eg_htab *t, uint64_t tweak,
    const void *key, size_t len);

/* The first node with hash h, then the next one with the same hash. */
struct eg_hnode *eg_htab_first(const struct eg_htab *t, uint64_t h);
struct eg_hnode *eg_htab_next(const struct eg_hnode *n);

/* n->hash must be set.  Insert does not look for an equal key. */
void eg_htab_insert(struct eg_htab *t, struct eg_hnode *n);
void eg_htab_remove(struct eg_htab *t, struct eg_hnode *n);

#endif
