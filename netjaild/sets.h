/*
 * sets.h - element updates pushed by dohd and connectd, applied in one
 * batch per message and acknowledged only after the kernel took them.
 */
#ifndef NJ_SETS_H
#define NJ_SETS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ipc.h"
#include "nl.h"
#include "rules.h"

/*
 * The set (enum nj_setid) a peer's element of `which` and `family` goes to,
 * or -1: EG_SET_DIRECT to direct4/6_learned, hops and doh to hops4/6 and
 * doh4/6.
 */
static inline int
sets_target(enum eg_set which, int family)
{
	int base;

	switch (which) {
	case EG_SET_DIRECT: base = NJ_SET_DIRECT4_LEARNED; break;
	case EG_SET_HOPS: base = NJ_SET_HOPS4; break;
	case EG_SET_DOH: base = NJ_SET_DOH4; break;
	default: return -1;
	}
	if (family == AF_INET)
		return base;
	if (family == AF_INET6)
		return base + 1;
	return -1;
}

/*
 * Apply one SET_UPDATE to the sets_target() sets.  Elements the config
 * already holds are left alone (for hops and doh a learned copy would
 * expire the configured one; a direct is looked up in direct4/6, the
 * configured interval sets).  timeout 0 becomes
 * cap_ms; a timeout above cap_ms is refused (ERANGE), so a peer can never
 * make an element outlive what its role allows.  Returns 0 or -errno with
 * err set; on failure the kernel sets are unchanged.
 */
int sets_update(struct nj_nl *nl, const struct nj_ruleset *rs,
    enum eg_set which, enum eg_set_op op, const struct eg_set_elem *elems,
    size_t n, uint64_t cap_ms, char *err, size_t errlen);

#endif
