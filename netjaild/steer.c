/*
 * steer.c - the workload listeners changed (a daemon registered or
 * unregistered one, or its control connection went): the table is
 * rebuilt with the new ports and replaced in one batch, as on a reload,
 * so a workload's traffic moves from one listener to the next (or to the
 * "workload unregistered" drop) with no moment in between.  Its own file
 * so the control-socket tests can stand in for it.
 */
#include <stdio.h>

#include "log.h"
#include "netjaild.h"

void
nj_wl_steer(struct nj_state *st)
{
	char err[256];
	int rc;

	/* no workloads: the registrations were all refused */
	if (st->cfg == NULL || st->cfg->nworkloads == 0 || st->rs == NULL)
		return;
	if ((rc = nj_apply(st, st->cfg, err, sizeof(err))) < 0)
		eg_log(EG_LOG_ERR, "wl_steer_failed", "error=\"%s\" "
		    "effect=\"the previous steering stays; listeners that "
		    "went are guarded by the listener mark\"", err);
	else
		eg_log(EG_LOG_INFO, "wl_steered", "generation=%u "
		    "registrations=%zu", st->generation, st->wlregs.n);
}
