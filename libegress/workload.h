/*
 * workload.h - which workload a jailed source belongs to.
 *
 * A [workload NAME] section of the config has one or more `match =` lines;
 * each is one of
 *
 *   iface:IFNAME    traffic entering from a jailed bridge ("docker0"), or
 *                   every bridge a pattern names ("br-*", as in [jail])
 *   cidr:PREFIX     sources on a jailed bridge in PREFIX (one container's
 *                   address, "172.17.0.5/32")
 *   uid:USER        sockets of a jailed local user
 *   cgroup:PATH     sockets of processes in a cgroup v2 subtree, PATH from
 *                   the cgroup root ("/system.slice/ci-runner.service")
 *
 * Jailed traffic no workload matches belongs to the default workload,
 * [policy].  A source may belong to one workload only: two matches of
 * different workloads that can both hold for one source are an error
 * (eg_wl_overlap, at load), and a source that matches two workloads at
 * run time anyway (a uid: and a cgroup: of two workloads, which the config
 * alone cannot rule out) is a conflict, which the daemons refuse.
 *
 * How the daemons learn the workload of a connection is in
 * docs/WORKLOADS.md.
 */
#ifndef EG_WORKLOAD_H
#define EG_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "addr.h"
#include "config.h"

#define EG_WL_NAME_MAX		32	/* [workload NAME]: log lines, labels */
#define EG_WL_IFNAME_MAX	15	/* IFNAMSIZ - 1 */
#define EG_WL_USER_MAX		32
#define EG_WL_CGROUP_MAX	255	/* bytes of a cgroup: path */
#define EG_WL_CGROUP_DEPTH	32	/* components of a cgroup: path */
#define EG_WL_MATCH_MAX		(8 + EG_WL_CGROUP_MAX)	/* a whole value */
#define EG_WL_DEFAULT		"default"	/* the name [policy] goes by */

enum eg_wl_kind { EG_WL_IFACE, EG_WL_CIDR, EG_WL_UID, EG_WL_CGROUP };

struct eg_wl_match {
	enum eg_wl_kind kind;
	/*
	 * iface: the name or pattern; uid: the user name; cgroup: the path,
	 * normalised (one leading '/', no trailing '/'); cidr: unused.
	 */
	char text[EG_WL_CGROUP_MAX + 1];
	struct eg_cidr cidr;		/* cidr: */
	bool has_uid;			/* uid: resolved (the loader looks it up) */
	uid_t uid;
	uint8_t depth;			/* cgroup: components, nft's "level" */
	size_t wl;			/* index of its workload */
	const char *wl_name;		/* its workload's name, owned elsewhere */
	struct eg_origin at;
};

/*
 * A jailed source as a daemon or `egressctl explain --from` knows it:
 * a packet from a bridge (its name and/or source address), or a local
 * socket (uid and/or cgroup path).  Unknown parts are NULL / false; an
 * IPv4-mapped address must be given as IPv4.
 */
struct eg_wl_source {
	bool bridge;			/* from a bridge, not a local socket */
	const char *ifname;		/* the bridge it entered by */
	bool has_addr;
	struct eg_ip addr;		/* its source address */
	bool has_uid;
	uid_t uid;			/* local socket's owner */
	/*
	 * Its owner's name, when only that is known (egressctl explain
	 * --from uid:USER with a config loaded without user lookups):
	 * matches a uid: match of that name.  The daemons leave it NULL.
	 */
	const char *user;
	const char *cgroup;		/* local socket's cgroup v2 path */
};

enum eg_wl_found {
	EG_WL_NONE,			/* no workload: the default, [policy] */
	EG_WL_FOUND,			/* *hit is its match */
	EG_WL_CONFLICT,			/* *hit and *other, two workloads */
};

/*
 * Parse one `match =` value into out (wl, wl_name and at are left for the
 * caller).  false with a reason in err (EG_ERR_MAX) that quotes at most
 * the bad part.  A uid: match is not looked up here: has_uid stays false.
 */
bool eg_wl_match_parse(const char *v, struct eg_wl_match *out, char *err);

/* "KIND:VALUE" of m into buf, as it would be written in the config. */
const char *eg_wl_match_str(const struct eg_wl_match *m, char *buf,
    size_t len);

/*
 * Is NAME a valid workload name: 1-32 bytes of [a-z0-9_-], starting with
 * a letter or digit, not "default"?  It is printed in log lines, metric
 * labels and status output unquoted.
 */
bool eg_wl_name_valid(const char *name, char *err);

/*
 * Can one source satisfy both a and b?  iface names/patterns that share a
 * name, CIDRs that share an address, the same user (by uid once resolved,
 * else by name), a cgroup that is the other or one of its ancestors.
 * Matches of different kinds never overlap here: a bridge source is never
 * a local socket, and whether a uid has processes in a cgroup, or which
 * bridge a CIDR's sources sit on, the config cannot tell (see
 * EG_WL_CONFLICT).
 */
bool eg_wl_overlap(const struct eg_wl_match *a, const struct eg_wl_match *b);

/*
 * The first pair, after *i and *j (start with both 0), of matches of
 * different workloads that overlap.  Returns false when there is none.
 * Call again with the returned i, j to get the next pair.  O(n^2): the
 * loader bounds n.
 */
bool eg_wl_next_overlap(const struct eg_wl_match *m, size_t n, size_t *i,
    size_t *j);

/*
 * The workload of src among n matches.  EG_WL_FOUND: *hit is the first
 * match that holds.  EG_WL_CONFLICT: *hit and *other hold and belong to
 * different workloads; the source must be refused.
 */
enum eg_wl_found eg_wl_lookup(const struct eg_wl_match *m, size_t n,
    const struct eg_wl_source *src, const struct eg_wl_match **hit,
    const struct eg_wl_match **other);

/* Does m hold for src? */
bool eg_wl_match_source(const struct eg_wl_match *m,
    const struct eg_wl_source *src);

#endif
