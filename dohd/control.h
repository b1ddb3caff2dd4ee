/*
 * control.h - dohd's control socket (STATUS, RESOLVE, RELOAD, EXPLAIN)
 * and the reload that SIGHUP shares with it.
 */
#ifndef DOHD_CONTROL_H
#define DOHD_CONTROL_H

#include <uv.h>

#include "ctl.h"
#include "daemon.h"

#include "dohd.h"

struct dupstream;
struct dfeed;
struct dlisten;

struct dohd_app {
	uv_loop_t *loop;
	struct eg_daemon dm;
	struct eg_config *boot_cfg;	/* upstreams, listeners, feed: restart */
	struct eg_config *cfg;		/* the current one (policy, data) */
	struct dohd core;
	struct dupstream *ups;
	struct dfeed *feed;
	struct dlisten *listen;
	struct eg_ctl_server *ctl;
	struct eg_cidr *extra_deny;
	size_t nextra;
	uint32_t generation;
	bool ready;
};

int dctl_start(struct dohd_app *a, char *err, size_t errlen);
/* Load the config again and swap policy, local data and cache; text
 * says what happened.  Returns 0 or -1 (the old state stays). */
int dohd_reload(struct dohd_app *a, char *text, size_t len);
/* Is name a configured hop or canary host (connectd's infrastructure)? */
bool dohd_is_infra_name(const struct eg_config *cfg, const char *name);

#endif
