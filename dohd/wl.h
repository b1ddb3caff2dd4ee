/*
 * wl.h - dohd's per-workload listeners and their registration with
 * netjaild (wl.c).
 */
#ifndef DOHD_WL_H
#define DOHD_WL_H

#include <stddef.h>

#include "ctl.h"

struct dohd_app;

/* Privileged, after dlisten_open: the pool of marked sockets and each
 * workload's listeners.  -1 only when out of memory. */
int dwl_init(struct dohd_app *a, const struct eg_config *cfg, char *err,
    size_t errlen);
/* After the drop: register them over cl, and again after reconnects. */
void dwl_start(struct dohd_app *a, struct eg_ctl_client *cl);
/* A reload to cfg (core.wlgen already the new generation). */
void dwl_reload(struct dohd_app *a, const struct eg_config *cfg);
/* STATUS lines: each registration's state, each refused workload. */
size_t dwl_status_text(const struct dohd_app *a, char *buf, size_t len);

#endif
