/*
 * own.h - the host's own addresses for dohd's policy.
 */
#ifndef DOHD_OWN_H
#define DOHD_OWN_H

#include <stddef.h>
#include <uv.h>

#include "addr.h"
#include "config.h"

#define DOHD_OWN_REFRESH_MS	5000

struct dohd_app;

/* The listener addresses of cfg and every address of the host, sorted,
 * into a new array.  0, or -errno when the kernel cannot be asked. */
int downaddrs_read(const struct eg_config *cfg, struct eg_cidr **out,
    size_t *n);
/* Read again; when the set changed, put it into a->extra_deny and the
 * live policy and empty the cache.  1 changed, 0 same, -errno failed. */
int downaddrs_refresh(struct dohd_app *a);
/* Refresh every DOHD_OWN_REFRESH_MS on a's loop. */
void downaddrs_start(struct dohd_app *a, uv_timer_t *t);

#endif
