/*
 * netjaild.h - the daemon's state, shared by netjaild.c (start-up),
 * apply.c (the table in the kernel), control.c (the control socket) and
 * status.c.
 */
#ifndef NJ_NETJAILD_H
#define NJ_NETJAILD_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "ctl.h"
#include "install.h"
#include "links.h"
#include "nl.h"
#include "rules.h"
#include "wlreg.h"

/* Longest life of a learned element, per role. */
#define NJ_HOPS_CAP_MS		(24ULL * 3600 * 1000)
#define NJ_DNS_GRACE_MS		(60ULL * 1000)

/* A WL_LISTEN answered once the table that carries it is in (steer.c). */
struct nj_steer_ack {
	struct eg_ctl_conn *conn;
	uint32_t id;
};

struct nj_state {
	const char *config_path;
	struct eg_config *cfg;
	struct nj_ruleset *rs;
	struct nj_nl nl;
	struct nj_nl route_watch;	/* rtnetlink rule/route notifications */
	uint32_t generation;
	bool ready;
	/* elements learned over IPC, re-added when the table is replaced */
	struct nj_set learned[NJ_SET__MAX];
	uint64_t *learned_until[NJ_SET__MAX];	/* monotonic ms */
	uv_loop_t *loop;
	struct eg_ctl_server *srv;
	struct nj_links links;	/* jailed links present, set up or not */
	/* workload listeners connectd and dohd registered (wlreg.h) */
	struct nj_wlregs wlregs;
	/* registration changes waiting for one table replacement */
	uv_timer_t steer_timer;
	bool steer_init, steer_armed;
	struct nj_steer_ack *steer_acks;
	size_t nsteer_acks, steer_cap;
	/* policy routing: what netjaild had to repair, and whether a rule
	 * it cannot get in front of takes the marked packets */
	unsigned route_repairs;
	char route_last[192];
	bool route_displaced;
	/* repairs in the current minute: a fight with another daemon over
	 * the rule must not become a busy loop */
	uint64_t route_window_ms;
	unsigned route_window_n;
};

/*
 * Build the table from st->cfg, replace it in one batch (with the learned
 * elements still alive), read it back and verify policy routing.  On
 * failure the previous table, if any, is still in place.
 */
int nj_apply(struct nj_state *st, const struct eg_config *cfg, char *err,
    size_t errlen);
/* Load the config again and nj_apply it; logs the outcome.  On failure
 * (-errno, err says why) the old config and table stay. */
int nj_reload(struct nj_state *st, char *err, size_t errlen);
/*
 * Open flows that began as direct to an endpoint the config no longer
 * has are cut (a reload, or a start with a changed config).
 */
void nj_cut_stale_directs(struct nj_state *st);

/* control.c: the control socket's handler, one dispatcher per peer. */
void netjaild_dispatch(struct eg_ctl_conn *c, enum eg_role role,
    const struct eg_ipc_msg *msg, void *arg);
/*
 * steer.c: the registrations changed; rebuild and replace the table so
 * the workloads' traffic goes to the listeners now registered (0, or
 * -errno when the kernel refused it: the previous table stays).
 */
int nj_wl_steer(struct nj_state *st);
/*
 * A WL_LISTEN from c (id) was applied (changed: the registrations are
 * different now): answer it once the table that steers by it is in.
 * The changes of a few ms share one replacement.  c NULL: no answer
 * (a connection that went).  _init/_stop: the batching timer on
 * st->loop; without _init every change is steered at once.
 */
void nj_wl_steer_init(struct nj_state *st);
void nj_wl_steer_stop(struct nj_state *st);
void nj_wl_steer_later(struct nj_state *st, struct eg_ctl_conn *c,
    uint32_t id, bool changed);
/* c is gone: no answer is owed to it. */
void nj_wl_steer_forget(struct nj_state *st, const struct eg_ctl_conn *c);
/* control.c: the answer to WL_LISTEN id on c (0 or an errno). */
void nj_wl_ack(struct eg_ctl_conn *c, uint32_t id, int code);
/* A control peer hung up or was dropped: its registrations go. */
void netjaild_ctl_dropped(struct eg_ctl_conn *c, enum eg_role role,
    void *arg);
/* "key=value\n" lines for STATUS_REP and egressctl. */
size_t nj_status_text(struct nj_state *st, char *buf, size_t len);

/*
 * Check policy routing and repair it (a rule or route deleted, a rule put
 * in front of ours); log what was done.  The watchdog and rtnetlink
 * notifications call it.
 */
void nj_routing_check(struct nj_state *st);

/* Remember an element a peer added (or forget one it deleted). */
void nj_learned_note(struct nj_state *st, int set, const struct nj_elem *e,
    bool add);

#endif
