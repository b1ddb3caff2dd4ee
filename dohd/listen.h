/* listen.h - UDP and TCP port-53 listeners feeding dquery_handle(). */
#ifndef DOHD_LISTEN_H
#define DOHD_LISTEN_H

#include <uv.h>

#include "dohd.h"
#include "wllisten.h"

struct dlisten;

/*
 * Open the listeners: sockets systemd passed ("dns-udp", "dns-tcp") or else
 * every [dohd] listen address, bound now (before the privilege drop).
 */
struct dlisten *dlisten_open(uv_loop_t *loop, struct dohd *d,
    const struct eg_config *cfg, char *err, size_t errlen);

/*
 * A workload's own listeners (docs/WORKLOADS.md): UDP and TCP on
 * 127.0.0.1 and ::1, from the pool of marked sockets; every query that
 * arrives on them carries tag.  ports[] gets each slot's port (0: not
 * opened, ::1 missing).  NULL with err set: nothing is left open.
 */
struct dl_wl;
struct dl_wl *dlisten_wl_open(struct dlisten *l, struct eg_wll_pool *pool,
    const struct dquery_wl *tag, uint16_t ports[EG_WLL__SLOTS], char *err,
    size_t errlen);
/* Queries arriving from now on carry tag (a reload renumbered). */
void dlisten_wl_retag(struct dl_wl *w, const struct dquery_wl *tag);
/* Close them (queries in flight are answered into nothing). */
void dlisten_wl_close(struct dl_wl *w);

#endif
