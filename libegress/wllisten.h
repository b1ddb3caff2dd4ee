/*
 * wllisten.h - the sockets of a workload's own listeners in connectd and
 * dohd (docs/WORKLOADS.md: the listener a connection arrives on names its
 * workload): loopback, a port the kernel picks, the listener mark.
 *
 * The mark takes CAP_NET_ADMIN, which a daemon holds only until
 * eg_daemon_drop.  A workload added by a reload needs marked sockets
 * after that, so the daemon marks a bounded pool of unbound sockets while
 * privileged (eg_wll_pool_new) and binds them when a workload needs them:
 * a marked socket binds to 127.0.0.1:0 or [::1]:0 without privilege, and
 * keeps its mark.  No capability is kept for later.  When the pool is
 * empty (or was never marked: started without privilege) the workload's
 * listeners are not opened and the workload is not registered, so
 * netjaild drops its traffic: never served by an unmarked socket, which
 * the jail would refuse anyway.
 */
#ifndef EG_WLLISTEN_H
#define EG_WLLISTEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Workloads a reload may add beyond those at start, per daemon. */
#define EG_WLL_SPARE		16

/* The four sockets of one workload: (UDP or TCP) x (IPv4 or IPv6). */
enum eg_wll_slot { EG_WLL_UDP4, EG_WLL_UDP6, EG_WLL_TCP4, EG_WLL_TCP6,
    EG_WLL__SLOTS };

struct eg_wll_pool;

/*
 * Sockets for n workloads, each marked with mark (0: no mark needed, the
 * pool then makes plain sockets on demand and is never empty).  NULL only
 * when out of memory.  When the sockets cannot be made or marked (not
 * privileged) the pool is empty, err says why, and every eg_wll_open
 * fails with that reason: the caller logs it and refuses the workloads.
 */
struct eg_wll_pool *eg_wll_pool_new(uint32_t mark, size_t n, char *err,
    size_t errlen);
void eg_wll_pool_free(struct eg_wll_pool *p);
/* Sockets left for slot s (SIZE_MAX when no mark is needed). */
size_t eg_wll_pool_left(const struct eg_wll_pool *p, enum eg_wll_slot s);

/*
 * A listener socket for slot s: taken from the pool (mark 0: a new one),
 * bound to 127.0.0.1, or for IPv6 (IPv6 only) to ::1 or with any6 to ::
 * (netjaild redirects a bridge's IPv6 to the bridge's own address: IPv6
 * has no route_localnet), on a port the kernel picks, non-blocking and
 * close-on-exec; TCP is not listening yet (the caller's loop does that).
 * Returns the fd and sets *port, or -1 with err and errno set: ENOSPC
 * when the pool has no socket for s left, EPERM when it was never marked.
 */
int eg_wll_open(struct eg_wll_pool *p, enum eg_wll_slot s, bool any6,
    uint16_t *port, char *err, size_t errlen);

/* AF_INET or AF_INET6, and whether s is a TCP slot. */
int eg_wll_family(enum eg_wll_slot s);
bool eg_wll_tcp(enum eg_wll_slot s);

#endif
