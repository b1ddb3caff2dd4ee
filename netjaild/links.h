/*
 * links.h - jailed interfaces that come and go.
 *
 * netjaild listens to rtnetlink link and address events.  A link whose
 * name a [jail] interface entry matches ("docker0", "br-*") is set up the
 * moment it appears, and again when it is deleted and created anew:
 * route_localnet on it (the DNAT to a 127.0.0.1 listener) and a conntrack
 * flush of its subnets' sources.  Until then it is shut, not open: the
 * table matches it by name from its first packet, and a DNAT to 127.0.0.1
 * without route_localnet is dropped as a martian.
 */
#ifndef NJ_LINKS_H
#define NJ_LINKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <net/if.h>
#include <uv.h>

#include "config.h"
#include "nl.h"

#define NJ_LINKS_MAX	4096	/* jailed links tracked at once */

struct nj_link {
	unsigned idx;
	char name[IFNAMSIZ];
	bool ok;		/* set up */
	bool seen;		/* in the current dump */
	int prev_rln;		/* route_localnet we found: 0, 1, -1 unknown */
	char err[160];		/* why it is not set up */
};

struct nj_links {
	struct nj_nl ev;	/* subscribed to link and address events */
	uv_poll_t poll;
	bool polling;
	struct eg_config *const *cfg;	/* the live one (reload swaps it) */
	struct nj_link *v;
	size_t n, cap;
	uint64_t setups, failures, resyncs;
};

/*
 * Subscribe, then set up every present link that matches.  -1 with err
 * when the kernel cannot be asked.  A link whose set-up fails is not
 * fatal (a restart loop would fix nothing and the rules stay): it is
 * shut, netjaild reports not ready with the reason, and links_verify()
 * tries again.
 */
int links_start(struct nj_links *l, struct eg_config *const *cfg,
    uv_loop_t *loop, char *err, size_t errlen);
void links_stop(struct nj_links *l);

/*
 * After a reload (or lost events): look at every link again.  Links that
 * match now are set up, links that no longer match are released (their
 * route_localnet as it was), failed ones are tried again.
 */
void links_resync(struct nj_links *l);

/* Set up again links that failed, or whose route_localnet was reset. */
void links_verify(struct nj_links *l);

/* True when every present matching link is set up; else why not. */
bool links_ready(const struct nj_links *l, char *why, size_t whylen);

/* "key=value\n" lines for the status text. */
size_t links_status(const struct nj_links *l, char *buf, size_t len);

/* The link event handler, exposed for tests: one rtnetlink message. */
int links_msg(const struct nlmsghdr *nlh, void *arg);

#endif
