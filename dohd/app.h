/*
 * app.h - the dohd process's state (dohd.c) and its reload (reload.c),
 * which SIGHUP and egressctl share.
 */
#ifndef DOHD_APP_H
#define DOHD_APP_H

#include <uv.h>

#include "ctl.h"
#include "daemon.h"

#include "dohd.h"

struct dask_connectd;
struct dupstream;
struct dfeed;
struct dlisten;
struct dwl;

struct dohd_app {
	uv_loop_t *loop;
	struct eg_daemon dm;
	struct eg_config *boot_cfg;	/* upstreams, listeners, feed: restart */
	struct eg_config *cfg;		/* the current one (policy, data) */
	struct dohd core;
	struct dupstream *ups;
	struct dfeed *feed;
	struct dask_connectd *askc;	/* mode = ask: connectd's broker */
	struct dlisten *listen;
	struct dwl *wl;			/* workloads' listeners */
	struct eg_ctl_server *ctl;
	struct eg_cidr *extra_deny;
	size_t nextra;
	uint32_t generation;
	bool ready;
};

/* Load the config again and swap policy, local data and cache; text
 * says what happened.  Returns 0 or -1 (the old state stays). */
int dohd_reload(struct dohd_app *a, char *text, size_t len);

#endif
