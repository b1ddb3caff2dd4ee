/*
 * wlreg.h - the workload listeners connectd and dohd registered with
 * netjaild (docs/WORKLOADS.md): which port each workload's transparent,
 * proxy and DNS traffic is steered to, per address family.
 *
 * A registration names a configured workload, one of the kinds the
 * registering daemon may serve (eg_ipc_wl_kind_allowed) and a port.
 * There is one per workload, kind and family: registering again replaces
 * it.  It belongs to the control connection that made it and goes when
 * that connection drops, when its daemon unregisters it, or when a reload
 * takes its workload out of the config.  Without a registration the
 * workload's traffic of that kind is steered nowhere, and dropped.
 */
#ifndef NJ_WLREG_H
#define NJ_WLREG_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "ipc.h"
#include "workload.h"

struct nj_wlreg {
	char name[EG_WL_NAME_MAX + 1];
	uint8_t kind;			/* enum eg_wl_listener */
	uint8_t family;			/* AF_INET or AF_INET6 */
	uint16_t port;
	const void *owner;		/* the control connection */
};

struct nj_wlregs {
	struct nj_wlreg *v;
	size_t n, cap;
};

/*
 * Apply one WL_LISTEN from a peer of this role on connection owner.
 * Returns 1 when the registrations changed, 0 when they already were so
 * (the same registration again, an unregister of nothing), or -errno with
 * err saying why: EPERM (a kind the role does not serve), ENOENT (no such
 * workload in cfg), EADDRINUSE (another workload's listener of the same
 * protocol and family has that port: two workloads on one socket would
 * share one policy), ENOMEM.
 */
int nj_wlreg_apply(struct nj_wlregs *r, const struct eg_config *cfg,
    enum eg_role role, const void *owner, const struct eg_msg_wl_listen *m,
    const char *name, char *err, size_t errlen);
/* Forget what owner registered; returns how many went. */
size_t nj_wlreg_drop_owner(struct nj_wlregs *r, const void *owner);
/* Forget the workloads cfg no longer has; returns how many went. */
size_t nj_wlreg_prune(struct nj_wlregs *r, const struct eg_config *cfg);
/* The registration of workload name's listener of kind and family. */
const struct nj_wlreg *nj_wlreg_find(const struct nj_wlregs *r,
    const char *name, uint8_t kind, uint8_t family);
void nj_wlreg_free(struct nj_wlregs *r);

#endif
