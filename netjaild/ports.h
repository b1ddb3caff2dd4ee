/*
 * ports.h - every port of a jailed bridge is isolated: the bridge switches
 * nothing between them (layer 2), only to the host.
 */
#ifndef NJ_PORTS_H
#define NJ_PORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <net/if.h>

#include <uv.h>

#include "config.h"

struct ports_count {
	size_t ports;		/* ports of jailed bridges */
	size_t isolated;	/* of those, isolated now */
	size_t changed;		/* set by this call */
	size_t switched;	/* ports left switching: a direct inside */
};

enum ports_op { PORTS_COUNT, PORTS_ISOLATE, PORTS_RELEASE };

/*
 * Count the ports of every jailed bridge, and set (ISOLATE) or clear
 * (RELEASE, at --uninstall) their isolated flag.  0, or -errno with the
 * port and bridge named in err.
 */
int ports_apply(const struct eg_config *cfg, enum ports_op op,
    struct ports_count *pc, char *err, size_t errlen);

struct mnl_socket;
struct ports_watch {
	struct mnl_socket *sk;
	uv_poll_t poll;
	struct eg_config *const *cfg;	/* the live config, across reloads */
};

/* Isolate again whenever a link changes (RTNLGRP_LINK). */
int ports_watch_start(uv_loop_t *loop, struct ports_watch *w,
    struct eg_config *const *cfg, char *err, size_t errlen);
void ports_watch_stop(struct ports_watch *w);

#endif
