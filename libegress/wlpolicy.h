/*
 * wlpolicy.h - one policy engine per workload (issue 15,
 * docs/WORKLOADS.md).
 *
 * Index 0 is [policy], the workload named "default" (EG_WL_DEFAULT);
 * index i >= 1 is cfg->workloads[i - 1].  A workload's engine is built
 * from its own section only: its rules and permit_cidr (none of
 * [policy]'s), its mode (its own, else [policy]'s), the [jail] direct
 * endpoints plus its own direct lines.  The deny lists and the host's
 * own addresses are the same for every workload.
 *
 * The set owns copies of everything it reports (names, matches), so it
 * outlives the config it was built from, like an eg_policy.  It is
 * immutable once built except for eg_wlpol_set_host_addrs, which changes
 * every engine or none.
 */
#ifndef EG_WLPOLICY_H
#define EG_WLPOLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"
#include "config.h"
#include "policy.h"
#include "workload.h"

struct eg_wlpol;

/* NULL with err set (naming the workload) when any engine fails. */
struct eg_wlpol *eg_wlpol_new(const struct eg_config *cfg,
    const struct eg_cidr *extra_deny, size_t nextra, char *err);
void eg_wlpol_free(struct eg_wlpol *w);
/* 1 + the number of [workload] sections. */
size_t eg_wlpol_count(const struct eg_wlpol *w);
/* "default" for 0; NULL when i is out of range. */
const char *eg_wlpol_name(const struct eg_wlpol *w, size_t i);
/* NULL when i is out of range. */
const struct eg_policy *eg_wlpol_get(const struct eg_wlpol *w, size_t i);
/* The index of NAME ("default" is 0), or -1. */
long eg_wlpol_find(const struct eg_wlpol *w, const char *name);
/*
 * Replace the host's own addresses in every engine: all or none (false
 * with err set leaves w as it was).
 */
bool eg_wlpol_set_host_addrs(struct eg_wlpol *w, const struct eg_cidr *extra,
    size_t nextra, char *err);

/*
 * Which workload does src belong to (eg_wl_lookup over every match)?
 * EG_WL_NONE: *idx is 0 (default).  EG_WL_FOUND: *idx is the workload's
 * index.  EG_WL_CONFLICT: *idx and *other are the two workloads, and the
 * source must be refused (never given either policy, nor the default).
 * hit (may be NULL) gets the match that held.
 */
enum eg_wl_found eg_wlpol_lookup(const struct eg_wlpol *w,
    const struct eg_wl_source *src, size_t *idx, size_t *other,
    const struct eg_wl_match **hit);
/* The matches of workload i (none for 0). */
const struct eg_wl_match *eg_wlpol_matches(const struct eg_wlpol *w, size_t i,
    size_t *n);

#endif
