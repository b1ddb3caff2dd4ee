/*
 * admit.c - what a peer may teach netjaild.  dohd and connectd resolve
 * names for us and push the addresses; a peer that was taken over could
 * push anything and open the jail with it.  So an element is taken only
 * for a port of a name the config hands that peer (direct names for dohd,
 * hop names for connectd), in a family the jail carries, at an address a
 * name can resolve to, and no more live ones than NJ_LEARNED_PER_NAME per
 * such name.  Names do not travel in a set update, so within those ports
 * the address is the peer's word: docs/THREAT-MODEL.md names that residue.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "admit.h"
#include "log.h"
#include "sets.h"

/* The named entries of the config for this set, and whether port is one. */
static size_t
named_ports(const struct eg_config *cfg, enum eg_set which, uint16_t port,
    bool *match)
{
	size_t i, n = 0;

	*match = false;
	if (which == EG_SET_DIRECT) {
		for (i = 0; i < cfg->jail.ndirect; i++) {
			const struct eg_endpoint *ep = &cfg->jail.direct[i].ep;

			if (!ep->is_name)
				continue;
			n++;
			*match = *match || ep->port == port;
		}
	} else if (which == EG_SET_HOPS) {
		for (i = 0; i < cfg->chain.nhops; i++) {
			if (cfg->chain.hops[i].host_is_ip)
				continue;
			n++;
			*match = *match || cfg->chain.hops[i].port == port;
		}
	}
	return n;
}

/*
 * The ports of the named entries, as a bitmap per kind, built once per
 * config generation: with 10,000 direct endpoints a scan per element cost
 * 47 us an update, the bitmap 0.1 us.  st->cfg changes only together with
 * st->generation (nj_apply, nj_reload), and both are the key.
 */
static struct {
	const struct eg_config *cfg;
	uint32_t generation;
	bool valid;
	size_t names[2];
	uint8_t ports[2][65536 / 8];
} pc;

static int
kind_of(enum eg_set which)
{
	return which == EG_SET_HOPS ? 1 : 0;
}

static void
ports_build(const struct nj_state *st)
{
	static const enum eg_set which[2] = { EG_SET_DIRECT, EG_SET_HOPS };
	const struct eg_config *cfg = st->cfg;
	size_t i;
	int k;

	memset(&pc, 0, sizeof(pc));
	for (k = 0; k < 2; k++) {
		bool m;

		pc.names[k] = named_ports(cfg, which[k], 0, &m);
	}
	for (i = 0; i < cfg->jail.ndirect; i++)
		if (cfg->jail.direct[i].ep.is_name) {
			uint16_t p = cfg->jail.direct[i].ep.port;

			pc.ports[0][p / 8] |= (uint8_t)(1 << (p % 8));
		}
	for (i = 0; i < cfg->chain.nhops; i++)
		if (!cfg->chain.hops[i].host_is_ip) {
			uint16_t p = cfg->chain.hops[i].port;

			pc.ports[1][p / 8] |= (uint8_t)(1 << (p % 8));
		}
	pc.cfg = cfg;
	pc.generation = st->generation;
	pc.valid = true;
}

static bool
port_named(const struct nj_state *st, enum eg_set which, uint16_t port,
    size_t *names)
{
	int k = kind_of(which);

	if (!pc.valid || pc.cfg != st->cfg || pc.generation != st->generation)
		ports_build(st);
	*names = pc.names[k];
	return (pc.ports[k][port / 8] & (1 << (port % 8))) != 0;
}

/* No name resolves to "anything": unspecified, multicast, broadcast. */
static bool
wildcard_addr(const struct eg_set_elem *e)
{
	static const uint8_t zero[16];

	if (e->family == AF_INET)
		return memcmp(e->addr, zero, 4) == 0 || e->addr[0] >= 224;
	return memcmp(e->addr, zero, 16) == 0 || e->addr[0] == 0xff;
}

/* Keyed as nj_learned_note() keys them. */
static bool
learned_has(const struct nj_set *s, const struct eg_set_elem *el)
{
	struct nj_elem e;
	size_t j;

	rules_elem_addr(&e, el->family, el->addr, -1, el->port);
	for (j = 0; j < s->nelems; j++)
		if (s->elems[j].port == e.port &&
		    memcmp(s->elems[j].lo, e.lo, sizeof(e.lo)) == 0)
			return true;
	return false;
}

/* Learned elements held for both families, expired ones included. */
static size_t
learned_held(const struct nj_state *st, enum eg_set which)
{
	size_t n = 0;
	int f, set;

	for (f = 0; f < 2; f++)
		if ((set = sets_target(which, f == 0 ? AF_INET : AF_INET6)) >= 0)
			n += st->learned[set].nelems;
	return n;
}

/* Live learned elements of both families of the update's set. */
static size_t
learned_live(const struct nj_state *st, enum eg_set which, uint64_t now)
{
	size_t n = 0, j;
	int f, set;

	for (f = 0; f < 2; f++) {
		if ((set = sets_target(which, f == 0 ? AF_INET : AF_INET6)) < 0)
			continue;
		for (j = 0; j < st->learned[set].nelems; j++)
			if (st->learned_until[set][j] > now)
				n++;
	}
	return n;
}

int
nj_admit_update(const struct nj_state *st, enum eg_role role,
    enum eg_set which, enum eg_set_op op, const struct eg_set_elem *el,
    size_t n, char *why, size_t len)
{
	size_t i, names = 0, live, fresh = 0;

	if (!eg_ipc_set_allowed(role, which)) {
		snprintf(why, len, "this role may not change that set");
		return -EPERM;
	}
	/* taking an address away never opens anything */
	if (op == EG_SET_DEL)
		return 0;
	for (i = 0; i < n; i++) {
		const struct eg_set_elem *e = &el[i];

		if (e->family != AF_INET && e->family != AF_INET6) {
			snprintf(why, len, "element %zu: family %u", i,
			    e->family);
			return -EPERM;
		}
		if (e->family == AF_INET6 && st->cfg->jail.ipv6 ==
		    EG_IPV6_DROP) {
			snprintf(why, len, "element %zu: IPv6 with ipv6 = "
			    "drop", i);
			return -EPERM;
		}
		if (wildcard_addr(e)) {
			snprintf(why, len, "element %zu: unspecified, "
			    "multicast or broadcast address", i);
			return -EPERM;
		}
		if (!port_named(st, which, e->port, &names)) {
			snprintf(why, len, "element %zu: port %u is no "
			    "configured %s name's", i, e->port,
			    which == EG_SET_HOPS ? "hop" : "direct");
			return -EPERM;
		}
	}
	/* what is held, expired ones included, is an upper bound on live */
	if (learned_held(st, which) + n <= names * NJ_LEARNED_PER_NAME)
		return 0;
	live = learned_live(st, which, eg_now_ms());
	if (live + n <= names * NJ_LEARNED_PER_NAME)
		return 0;
	/* near the bound: count only what is not there already */
	for (i = 0; i < n; i++) {
		int set = sets_target(which, el[i].family);

		if (set < 0 || !learned_has(&st->learned[set], &el[i]))
			fresh++;
	}
	if (live + fresh > names * NJ_LEARNED_PER_NAME) {
		snprintf(why, len, "%zu learned addresses with %zu new ones "
		    "would pass the bound of %d per name (%zu names)", live,
		    fresh, NJ_LEARNED_PER_NAME, names);
		return -ENOSPC;
	}
	return 0;
}

/*
 * Before a new table goes in: forget learned elements the new config no
 * longer admits (a direct name or named hop removed, its port changed,
 * ipv6 = drop), so a reload closes at once what it took away instead of
 * when the element would have expired.  If the new table then fails to
 * install, the old one keeps them in the kernel until they expire; only
 * the copy carried into later tables is gone.
 */
void
nj_admit_prune(struct nj_state *st, const struct eg_config *cfg)
{
	static const enum eg_set which[] = { EG_SET_DIRECT, EG_SET_HOPS };
	size_t w, j, k;
	bool match;
	int f, set;

	for (w = 0; w < sizeof(which) / sizeof(which[0]); w++) {
		for (f = 0; f < 2; f++) {
			struct nj_set *s;

			if ((set = sets_target(which[w], f == 0 ? AF_INET :
			    AF_INET6)) < 0)
				continue;
			s = &st->learned[set];
			for (j = k = 0; j < s->nelems; j++) {
				(void)named_ports(cfg, which[w],
				    s->elems[j].port, &match);
				if (!match || (f == 1 &&
				    cfg->jail.ipv6 == EG_IPV6_DROP))
					continue;
				s->elems[k] = s->elems[j];
				st->learned_until[set][k] =
				    st->learned_until[set][j];
				k++;
			}
			s->nelems = k;
		}
	}
}
