/*
 * htab.c - the keyed hash table shared by the policy and dohd's cache.
 */
#include <sys/random.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "htab.h"

#define MIN_BUCKETS	64

static uint64_t
mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static uint64_t
htab_seed(void)
{
	uint64_t seed;
	struct timespec ts;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == sizeof(seed))
		return seed;
	/* early boot: the spread still works, only less unpredictably */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return mix64((uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^
	    (uint64_t)(uintptr_t)&seed);
}

bool
eg_htab_init(struct eg_htab *t, size_t nitems, size_t max_buckets)
{
	size_t nb = MIN_BUCKETS;

	memset(t, 0, sizeof(*t));
	while (nb < nitems && nb < max_buckets && nb <= SIZE_MAX / 2)
		nb <<= 1;
	if ((t->b = calloc(nb, sizeof(*t->b))) == NULL)
		return false;
	t->mask = nb - 1;
	t->seed = htab_seed();
	return true;
}

void
eg_htab_free(struct eg_htab *t)
{
	free(t->b);
	t->b = NULL;
	t->n = 0;
}

/*
 * Seeded so that nobody can prepare keys that collide in a given table;
 * not a MAC, only a spread.
 */
uint64_t
eg_htab_hash(const struct eg_htab *t, uint64_t tweak, const void *key,
    size_t len)
{
	const unsigned char *s = key;
	uint64_t h = t->seed ^ ((uint64_t)len * 0x9e3779b97f4a7c15ULL), w;

	/* one multiply per word; mix64 at the end does the avalanche */
	h = (h ^ tweak) * 0x9fb21c651e98df25ULL;
	while (len >= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0x9fb21c651e98df25ULL;
		h ^= h >> 29;
		s += 8;
		len -= 8;
	}
	if (len > 0) {
		w = 0;
		memcpy(&w, s, len);
		h = (h ^ w) * 0x9fb21c651e98df25ULL;
	}
	return mix64(h);
}

static struct eg_hnode *
same_hash(struct eg_hnode *n, uint64_t h)
{
	while (n != NULL && n->hash != h)
		n = n->next;
	return n;
}

struct eg_hnode *
eg_htab_first(const struct eg_htab *t, uint64_t h)
{
	return same_hash(t->b[h & t->mask], h);
}

struct eg_hnode *
eg_htab_next(const struct eg_hnode *n)
{
	return same_hash(n->next, n->hash);
}

void
eg_htab_insert(struct eg_htab *t, struct eg_hnode *n)
{
	struct eg_hnode **b = &t->b[n->hash & t->mask];

	n->next = *b;
	*b = n;
	t->n++;
}

void
eg_htab_remove(struct eg_htab *t, struct eg_hnode *n)
{
	struct eg_hnode **pp = &t->b[n->hash & t->mask];

	while (*pp != NULL && *pp != n)
		pp = &(*pp)->next;
	if (*pp == NULL)
		return;
	*pp = n->next;
	n->next = NULL;
	t->n--;
}
