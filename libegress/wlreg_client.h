/*
 * wlreg_client.h - a daemon's workload listener registrations with
 * netjaild (EG_MSG_WL_LISTEN, docs/WORKLOADS.md), kept over reconnects.
 *
 * netjaild keeps a registration only as long as the control connection
 * that made it, so this keeps the daemon's list and sends all of it again
 * after every (re)connection of the client (eg_ctl_client_on_connect,
 * which it takes over).  A registration netjaild refused (its config has
 * no such workload, the port is taken) is logged as event=wl_listen_refused
 * and stays unregistered, so netjaild keeps dropping that workload's
 * traffic of that kind: fail closed.  It is asked again after the next
 * reconnect and on eg_wlrc_retry (a reload).  One that got no answer
 * (timeout, socket full) is asked again every few seconds.
 */
#ifndef EG_WLREG_CLIENT_H
#define EG_WLREG_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "ctl.h"

#define EG_WLRC_MAX		4096	/* registrations one daemon holds */
#define EG_WLRC_TIMEOUT_MS	10000	/* netjaild rebuilds its table */
#define EG_WLRC_RETRY_MS	5000

enum eg_wlrc_state {
	EG_WLRC_PENDING,	/* sent, no answer yet */
	EG_WLRC_REGISTERED,	/* netjaild said yes on this connection */
	EG_WLRC_REFUSED,	/* netjaild said no (err) */
	EG_WLRC_UNREACHABLE,	/* not connected: sent on reconnect */
	EG_WLRC_FAILED,		/* no answer (err): asked again soon */
};

struct eg_wlrc;

/* who: "dohd" or "connectd", for the log lines. */
struct eg_wlrc *eg_wlrc_new(uv_loop_t *loop, struct eg_ctl_client *cl,
    const char *who);
/* After eg_ctl_client_free of its client (which answers what is sent). */
void eg_wlrc_free(struct eg_wlrc *r);

/*
 * Register a listener (kind enum eg_wl_listener, family AF_INET/AF_INET6,
 * port in host order) of workload wl, now and after every reconnect,
 * until removed.  Replaces one of the same workload, kind and family.
 * -1: not a valid registration, or EG_WLRC_MAX reached.
 */
int eg_wlrc_add(struct eg_wlrc *r, const char *wl, uint8_t kind,
    uint8_t family, uint16_t port);

/*
 * Unregister every listener of wl and forget them; done(arg) runs once
 * netjaild answered each (or could not be asked), never from inside this
 * call: then the listeners may close.  Returns how many were registered
 * (0: done still runs).  -1: out of memory (nothing changed).
 */
typedef void (*eg_wlrc_done_cb)(void *arg);
int eg_wlrc_remove(struct eg_wlrc *r, const char *wl, eg_wlrc_done_cb done,
    void *arg);

/* Ask again for every listener not registered (a reload: netjaild's
 * config may have the workload now). */
void eg_wlrc_retry(struct eg_wlrc *r);

/* The state of one registration; -1: there is none. */
int eg_wlrc_state(const struct eg_wlrc *r, const char *wl, uint8_t kind,
    uint8_t family);
const char *eg_wlrc_state_name(int state);

/*
 * One line per registration for a STATUS text:
 * "wl_listener=NAME,KIND,ipvN port=P state=S\n".  Returns bytes written
 * (whole lines only, NUL-terminated).
 */
size_t eg_wlrc_status_text(const struct eg_wlrc *r, char *buf, size_t len);

#endif
