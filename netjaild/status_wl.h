/*
 * status_wl.h - the workloads in netjaild's STATUS text (status_wl.c).
 */
#ifndef NJ_STATUS_WL_H
#define NJ_STATUS_WL_H

#include <stddef.h>

#include "config.h"
#include "install.h"
#include "wlreg.h"

/*
 * "workloads=N" and one "workload=NAME match=... reg=... drop_..." line
 * per workload into buf; nothing without workloads.  rb may be NULL (no
 * counters read).  Returns the length written.
 */
size_t nj_status_workloads(const struct eg_config *cfg,
    const struct nj_wlregs *wl, const struct nj_readback *rb, char *buf,
    size_t len);
/* The key a drop rule's comment is counted under: a workload's drop
 * ("workload unregistered ci") under its tag, any other as it is. */
const char *nj_status_counter_key(const char *comment);

#endif
