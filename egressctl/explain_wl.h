/*
 * explain_wl.h - the workload `egressctl explain` decides for.
 */
#ifndef EGRESSCTL_EXPLAIN_WL_H
#define EGRESSCTL_EXPLAIN_WL_H

#include "egressctl.h"
#include "wlpolicy.h"
#include "workload.h"

struct ctl_wl {
	size_t idx;			/* in the eg_wlpol; 0: default */
	enum eg_wl_found found;		/* --from: what the lookup said */
	size_t other;			/* EG_WL_CONFLICT: the other one */
	const char *how;		/* "default", "named", "from" */
	char match[EG_WL_MATCH_MAX + 8], at[600];
	char omatch[EG_WL_MATCH_MAX + 8], oat[600];
	/* the source's parts, pointed at by its eg_wl_source */
	char user[EG_WL_USER_MAX + 1];
	char cgroup[EG_WL_CGROUP_MAX + 1];
	char ifname[EG_WL_IFNAME_MAX + 1];
	bool iface_guessed;		/* ifname from the host's prefixes */
};

/*
 * Resolve --workload NAME or --from SOURCE (nfrom values) against w.
 * 0, or -1 with err set (bad usage: exit 2).  A conflict is not an
 * error: out->found says so.
 */
int ctl_wl_select(const struct eg_config *cfg, const struct eg_wlpol *w,
    const char *workload, const char *const *from, size_t nfrom,
    struct ctl_wl *out, char *err);
/* The workload line of explain's text, or its JSON keys. */
void ctl_wl_report(const struct ctl_wl *s, const struct eg_wlpol *w,
    const struct ctl_opts *o, struct json *j);

#endif
