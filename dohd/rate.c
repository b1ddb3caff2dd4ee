/*
 * rate.c - per-client token buckets in a fixed table.  A flood from many
 * spoofed sources only shares buckets (and is limited the harder for it);
 * it never grows memory.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "dohd.h"

struct drate_slot {
	uint8_t addr[16];
	uint8_t family;
	uint32_t tokens_milli;	/* thousandths of a query */
	uint64_t last_ms;
};

struct drate {
	uint32_t per_sec;
	size_t nslots;
	uint64_t key;
	struct drate_slot *s;
};

struct drate *
drate_new(uint32_t per_sec, size_t slots)
{
	struct drate *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->per_sec = per_sec;
	r->nslots = slots > 0 ? slots : 1;
	if ((r->s = calloc(r->nslots, sizeof(*r->s))) == NULL) {
		free(r);
		return NULL;
	}
	if (getrandom(&r->key, sizeof(r->key), 0) != sizeof(r->key))
		r->key = (uint64_t)(uintptr_t)r;
	return r;
}

void
drate_free(struct drate *r)
{
	if (r == NULL)
		return;
	free(r->s);
	free(r);
}

bool
drate_pass(struct drate *r, const struct eg_ip *ip, uint64_t now_ms)
{
	struct drate_slot *s;
	uint64_t h = r->key, burst, add;
	size_t alen = ip->family == AF_INET ? 4 : 16;

	if (r->per_sec == 0)
		return true;
	for (size_t i = 0; i < alen; i++)
		h = (h ^ ip->addr[i]) * 0x100000001b3ULL;
	h ^= h >> 29;
	s = &r->s[h % r->nslots];
	burst = (uint64_t)r->per_sec * 1000;	/* one second's worth */
	if (s->family != ip->family || memcmp(s->addr, ip->addr, alen) != 0) {
		s->family = ip->family;
		memcpy(s->addr, ip->addr, alen);
		s->tokens_milli = (uint32_t)(burst > UINT32_MAX ? UINT32_MAX :
		    burst);
		s->last_ms = now_ms;
	}
	if (now_ms > s->last_ms) {
		add = (now_ms - s->last_ms) * r->per_sec;
		add += s->tokens_milli;
		s->tokens_milli = (uint32_t)(add > burst ? burst : add);
		s->last_ms = now_ms;
	}
	if (s->tokens_milli < 1000)
		return false;
	s->tokens_milli -= 1000;
	return true;
}
