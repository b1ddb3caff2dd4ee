/*
 * sets.h - element updates pushed by dohd and connectd, applied in one
 * batch per message and acknowledged only after the kernel took them.
 */
#ifndef NJ_SETS_H
#define NJ_SETS_H

#include <stddef.h>
#include <stdint.h>

#include "ipc.h"
#include "nl.h"
#include "rules.h"

/*
 * Apply one SET_UPDATE.  Elements the config already holds are left alone
 * (a learned copy would expire the configured one).  timeout 0 becomes
 * cap_ms; a timeout above cap_ms is refused (ERANGE), so a peer can never
 * make an element outlive what its role allows.  Returns 0 or -errno with
 * err set; on failure the kernel sets are unchanged.
 */
int sets_update(struct nj_nl *nl, const struct nj_ruleset *rs,
    enum eg_set which, enum eg_set_op op, const struct eg_set_elem *elems,
    size_t n, uint64_t cap_ms, char *err, size_t errlen);

#endif
