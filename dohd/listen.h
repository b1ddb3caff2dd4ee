/* listen.h - UDP and TCP port-53 listeners feeding dquery_handle(). */
#ifndef DOHD_LISTEN_H
#define DOHD_LISTEN_H

#include <uv.h>

#include "dohd.h"

struct dlisten;

/*
 * Open the listeners: sockets systemd passed ("dns-udp", "dns-tcp") or else
 * every [dohd] listen address, bound now (before the privilege drop).
 */
struct dlisten *dlisten_open(uv_loop_t *loop, struct dohd *d,
    const struct eg_config *cfg, char *err, size_t errlen);

#endif
