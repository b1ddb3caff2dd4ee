/*
 * admit.h - the check every SET_UPDATE passes before the kernel sees it.
 */
#ifndef NJ_ADMIT_H
#define NJ_ADMIT_H

#include <stddef.h>

#include "ipc.h"
#include "netjaild.h"

/*
 * Live learned addresses per configured name (direct names for dohd, hop
 * names for connectd).  A name answers with a handful of addresses and
 * each lives for its TTL; 256 leaves room for pools that rotate, and
 * bounds what a runaway or hostile peer can open.
 */
#define NJ_LEARNED_PER_NAME	256

/*
 * May this peer make this update?  0, or -EPERM (a role, family, port or
 * address the config gives it no say over) or -ENOSPC (past the bound),
 * with the reason in why.  The whole update is refused or taken.
 */
int nj_admit_update(const struct nj_state *st, enum eg_role role,
    enum eg_set which, enum eg_set_op op, const struct eg_set_elem *el,
    size_t n, char *why, size_t len);

/* Forget learned elements cfg no longer admits (before a reload's table). */
void nj_admit_prune(struct nj_state *st, const struct eg_config *cfg);

#endif
