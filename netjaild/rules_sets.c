/*
 * rules_sets.c - the table's sets and their elements: the keys and flags
 * of each set, the configured elements (jailed interfaces and users, hop,
 * DoH and direct addresses), and the element operations set updates use
 * (add once, does a configured element cover this one).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "rules.h"
#include "rules_build.h"


int
rules_set_family(int set)
{
	switch (set) {
	case NJ_SET_HOPS4: case NJ_SET_DOH4: case NJ_SET_DIRECT4:
	case NJ_SET_DIRECT4_LEARNED:
		return AF_INET;
	case NJ_SET_HOPS6: case NJ_SET_DOH6: case NJ_SET_DIRECT6:
	case NJ_SET_DIRECT6_LEARNED:
		return AF_INET6;
	}
	return 0;
}

int
rules_set_configured(int set)
{
	switch (set) {
	case NJ_SET_DIRECT4_LEARNED: return NJ_SET_DIRECT4;
	case NJ_SET_DIRECT6_LEARNED: return NJ_SET_DIRECT6;
	}
	return set;
}

static int
set_append(struct nj_set *s, const struct nj_elem *e)
{
	if (s->nelems == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 8;
		struct nj_elem *n = reallocarray(s->elems, ncap, sizeof(*n));
		if (n == NULL)
			return -1;
		s->elems = n;
		s->cap = ncap;
	}
	s->elems[s->nelems++] = *e;
	return 0;
}

int
rules_set_add(struct nj_set *s, const struct nj_elem *e)
{
	size_t i;

	for (i = 0; i < s->nelems; i++)
		if (memcmp(&s->elems[i], e, sizeof(*e)) == 0)
			return 0;	/* the config may repeat itself */
	return set_append(s, e);
}

/*
 * Drop repeated elements from a set filled by set_append(), keeping the
 * first of each in its place: O(n log n), where rules_set_add() one by one
 * would be quadratic (10,000 direct endpoints took ~100-400 ms that way).
 */
static int
dedup_cmp(const void *a, const void *b)
{
	const struct nj_elem *x = *(const struct nj_elem *const *)a;
	const struct nj_elem *y = *(const struct nj_elem *const *)b;
	int c = memcmp(x, y, sizeof(*x));

	if (c != 0)
		return c;
	return x < y ? -1 : x > y;	/* same array: keeps the first first */
}

static int
set_dedup(struct nj_set *s)
{
	const struct nj_elem **p;
	size_t i, n;
	bool *dup;

	if (s->nelems < 2)
		return 0;
	p = calloc(s->nelems, sizeof(*p));
	dup = calloc(s->nelems, sizeof(*dup));
	if (p == NULL || dup == NULL) {
		free(p);
		free(dup);
		return -1;
	}
	for (i = 0; i < s->nelems; i++)
		p[i] = &s->elems[i];
	qsort(p, s->nelems, sizeof(*p), dedup_cmp);
	for (i = 1; i < s->nelems; i++)
		if (memcmp(p[i - 1], p[i], sizeof(*p[i])) == 0)
			dup[p[i] - s->elems] = true;	/* a later copy */
	for (i = n = 0; i < s->nelems; i++)
		if (!dup[i])
			s->elems[n++] = s->elems[i];
	s->nelems = n;
	free(p);
	free(dup);
	return 0;
}

int
rules_set_covers(const struct nj_set *s, const struct nj_elem *e)
{
	size_t i, alen = s->key == NJ_KEY_V4PORT ? 4 : 16;

	if (s->key != NJ_KEY_V4PORT && s->key != NJ_KEY_V6PORT)
		return 0;
	for (i = 0; i < s->nelems; i++) {
		const struct nj_elem *c = &s->elems[i];

		if (c->port == e->port && memcmp(c->lo, e->lo, alen) <= 0 &&
		    memcmp(e->hi, c->hi, alen) <= 0)
			return 1;
	}
	return 0;
}

void
rules_elem_addr(struct nj_elem *e, int family, const uint8_t *addr, int plen,
    uint16_t port)
{
	int alen = family == AF_INET ? 4 : 16, i;

	memset(e, 0, sizeof(*e));
	memcpy(e->lo, addr, alen);
	memcpy(e->hi, addr, alen);
	if (plen < 0 || plen > alen * 8)
		plen = alen * 8;
	for (i = 0; i < alen * 8; i++) {
		if (i < plen)
			continue;
		e->lo[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
		e->hi[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	}
	e->plen = (uint8_t)plen;
	e->port = port;
}

static int
add_addr_elem(struct nj_ruleset *rs, int set4, const struct eg_ip *ip,
    int plen, uint16_t port, uint64_t timeout_ms, bool bulk)
{
	struct nj_elem e;
	int set = ip->family == AF_INET ? set4 : set4 + 1;

	rules_elem_addr(&e, ip->family, ip->addr, plen, port);
	e.timeout_ms = timeout_ms;
	return bulk ? set_append(&rs->sets[set], &e) :
	    rules_set_add(&rs->sets[set], &e);
}

/*
 * A jailed interface as a set element: the name, and the range of names
 * it stands for in an interval set.  "br-*" is every name that starts with
 * "br-": from "br-" padded with zero bytes to "br-" padded with 0xff, as
 * nft writes a wildcard.  An exact name is the range of itself.
 */
static void
ifname_elem(struct nj_elem *e, const char *name)
{
	size_t n = strlen(name);

	memset(e, 0, sizeof(*e));
	strncpy(e->ifname, name, IFNAMSIZ - 1);
	if (eg_ifname_is_pattern(name)) {
		memcpy(e->lo, name, n - 1);
		memcpy(e->hi, name, n - 1);
		memset(e->hi + n - 1, 0xff, IFNAMSIZ - (n - 1));
	} else {
		memcpy(e->lo, name, n);
		memcpy(e->hi, name, n);
	}
}

static int
ifname_cmp(const void *a, const void *b)
{
	return memcmp(((const struct nj_elem *)a)->lo,
	    ((const struct nj_elem *)b)->lo, IFNAMSIZ);
}


/* Each set's key and flags. */
static void
sets_init(struct nj_ruleset *rs)
{
	size_t i;

	for (i = 0; i < NJ_SET__MAX; i++) {
		struct nj_set *s = &rs->sets[i];

		s->name = nj_set_names[i];
		switch (i) {
		case NJ_SET_IFACES:
			s->key = NJ_KEY_IFNAME;
			break;
		case NJ_SET_UIDS:
			s->key = NJ_KEY_UID;
			break;
		default:
			s->key = rules_set_family((int)i) == AF_INET ?
			    NJ_KEY_V4PORT : NJ_KEY_V6PORT;
			/* every address set takes learned, expiring elements */
			s->timeout = true;
			/*
			 * Configured direct endpoints may be CIDRs; learned
			 * ones are single addresses in a hash set of their
			 * own (direct4/6_learned), cheap to refresh.
			 */
			s->interval = i == NJ_SET_DIRECT4 ||
			    i == NJ_SET_DIRECT6;
		}
	}
}

static int
fill_ifaces(struct nj_ruleset *rs, const struct eg_config *cfg, char *err,
    size_t errlen)
{
	struct nj_set *s = &rs->sets[NJ_SET_IFACES];
	struct nj_elem e;
	size_t i;

	for (i = 0; i < cfg->jail.ninterfaces; i++) {
		if (strlen(cfg->jail.interfaces[i]) >= IFNAMSIZ) {
			snprintf(err, errlen, "interface \"%.32s\": name too "
			    "long", cfg->jail.interfaces[i]);
			return -1;
		}
		ifname_elem(&e, cfg->jail.interfaces[i]);
		if (rules_set_add(s, &e) == -1)
			goto nomem;
		if (eg_ifname_is_pattern(cfg->jail.interfaces[i]))
			s->interval = true;
	}
	/* the kernel's interval tree takes them in order, as nft sends them */
	if (s->interval)
		qsort(s->elems, s->nelems, sizeof(e), ifname_cmp);
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* Users, literal hop addresses, DoH bootstrap addresses, direct CIDRs. */
static int
fill_others(struct nj_ruleset *rs, const struct eg_config *cfg)
{
	struct nj_elem e;
	size_t i, j;

	for (i = 0; i < cfg->jail.nusers; i++) {
		memset(&e, 0, sizeof(e));
		e.uid = cfg->jail.users[i].uid;
		if (rules_set_add(&rs->sets[NJ_SET_UIDS], &e) == -1)
			return -1;
	}
	for (i = 0; i < cfg->chain.nhops; i++) {
		const struct eg_hop *h = &cfg->chain.hops[i];

		if (h->host_is_ip && add_addr_elem(rs, NJ_SET_HOPS4, &h->ip,
		    -1, h->port, 0, false) == -1)
			return -1;
	}
	for (i = 0; i < cfg->dohd.nupstreams; i++) {
		const struct eg_upstream *u = &cfg->dohd.upstreams[i];

		for (j = 0; j < u->nbootstrap; j++)
			if (add_addr_elem(rs, NJ_SET_DOH4, &u->bootstrap[j],
			    -1, u->port ? u->port : 443, 0, false) == -1)
				return -1;
	}
	for (i = 0; i < cfg->jail.ndirect; i++) {
		const struct eg_endpoint *ep = &cfg->jail.direct[i].ep;

		if (ep->is_name)
			continue;	/* learned from dohd */
		if (add_addr_elem(rs, NJ_SET_DIRECT4, &ep->cidr.ip,
		    ep->cidr.plen, ep->port, 0, true) == -1)
			return -1;
	}
	if (set_dedup(&rs->sets[NJ_SET_DIRECT4]) == -1 ||
	    set_dedup(&rs->sets[NJ_SET_DIRECT6]) == -1)
		return -1;
	return 0;
}

int
rules_sets_fill(struct nj_ruleset *rs, const struct eg_config *cfg,
    char *err, size_t errlen)
{
	sets_init(rs);
	if (fill_ifaces(rs, cfg, err, errlen) == -1)
		return -1;
	if (fill_others(rs, cfg) == -1) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}
