/*
 * route.h - policy routing for local users' marked TCP, both families:
 *   ip rule add fwmark MARK lookup TABLE
 *   ip route add local default dev lo table TABLE
 */
#ifndef NJ_ROUTE_H
#define NJ_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int route_install(uint32_t mark, uint32_t table, char *err, size_t errlen);
int route_remove(uint32_t mark, uint32_t table, char *err, size_t errlen);
/* 1 when the rule and the route of both families are there, 0 if not. */
int route_verify(uint32_t mark, uint32_t table, char *err, size_t errlen);

/*
 * One rule of an RTM_NEWRULE/RTM_DELRULE message, as far as the jail
 * cares.  route_rule_parse fails (-1) on a message it cannot trust.
 */
struct nj_rinfo {
	int family;
	uint32_t pref, table, mark, mask;
	uint8_t action;
	bool invert, has_mark, has_iif, iif_lo, has_oif, l3mdev, other;
};

struct nlmsghdr;
int route_rule_parse(const struct nlmsghdr *nlh, struct nj_rinfo *ri);
/* netjaild's own rule: fwmark MARK lookup TABLE and nothing else. */
bool route_rule_ours(const struct nj_rinfo *ri, uint32_t mark,
    uint32_t table);
/*
 * Could the rule take a packet that carries MARK, sent by a local socket
 * not bound to a device, before netjaild's rule sees it?  Errs towards
 * yes: a rule that only can is still moved behind ours.
 */
bool route_rule_takes(const struct nj_rinfo *ri, uint32_t mark);

/*
 * What route_check found and did.  displaced: a rule at pref dpref takes
 * the marked packets first and netjaild's cannot be put in front of it
 * (dpref 0 or 1); the jail then stays shut (postrouting drops what misses
 * the detour) but a jailed user's TCP fails.
 */
struct nj_route_report {
	unsigned changes;		/* rules or routes added or moved */
	char what[192];			/* what was wrong and what was done */
	bool missing;			/* a rule or route is not there */
	bool displaced;
	int dfamily;			/* AF_INET / AF_INET6 */
	uint32_t dpref, dtable;
};

/*
 * Check both families' policy routing; with repair, put back a missing
 * rule or route and move netjaild's rule in front of any rule that takes
 * its packets first (the new one is added before the old is deleted).
 * 0, or -errno with err set.
 */
int route_check(uint32_t mark, uint32_t table, bool repair,
    struct nj_route_report *rep, char *err, size_t errlen);

/*
 * Notifications of rule changes and of route changes in TABLE, so that
 * netjaild repairs within milliseconds, not at its next watchdog tick.
 * route_watch_read drains the socket: 1 when something relevant (or an
 * overflow, which may have hidden it) came, 0 if not, -errno on error.
 */
struct nj_nl;
int route_watch_open(struct nj_nl *nl, char *err, size_t errlen);
int route_watch_read(struct nj_nl *nl, uint32_t table);

#endif
