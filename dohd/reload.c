/*
 * reload.c - dohd's reload, for SIGHUP and egressctl alike: the config
 * loaded again, then policy, local data and cache swapped at once, or
 * nothing changed.  Upstreams, listeners and the feed change on restart.
 */
#include <stdio.h>

#include "daemon.h"
#include "log.h"
#include "notify.h"
#include "policy.h"

#include "app.h"
#include "cache.h"
#include "own.h"
#include "wl.h"

int
dohd_reload(struct dohd_app *a, char *text, size_t len)
{
	struct eg_config_errors errs = { 0 };
	struct eg_config *cfg;
	struct eg_wlpol *wlpol;
	struct dlocal *local;
	char err[EG_ERR_MAX], why[EG_ERR_MAX + 32];

	eg_notify_reloading();
	cfg = eg_config_load(a->dm.config_path, eg_config_flags_for("dohd"),
	    &errs);
	if (cfg == NULL) {
		snprintf(why, sizeof(why), "%s",
		    errs.n > 0 ? errs.msgs[0] : "config");
		eg_config_errors_free(&errs);
		goto fail;
	}
	eg_config_errors_free(&errs);
	/* the host's addresses as they are now (the old set if unreadable) */
	(void)downaddrs_refresh(a);
	if ((wlpol = eg_wlpol_new(cfg, a->extra_deny, a->nextra, err)) ==
	    NULL) {
		snprintf(why, sizeof(why), "policy: %s", err);
		eg_config_free(cfg);
		goto fail;
	}
	local = NULL;
	if ((cfg->dohd.hosts_file != NULL || cfg->dohd.zone_file != NULL) &&
	    (local = dlocal_load(cfg->dohd.hosts_file, cfg->dohd.zone_file,
	    err, sizeof(err))) == NULL) {
		snprintf(why, sizeof(why), "local data: %s", err);
		eg_wlpol_free(wlpol);
		eg_config_free(cfg);
		goto fail;
	}
	/* Nothing cached under the old policy may be served under the new. */
	dcache_flush(a->core.cache);
	eg_wlpol_free(a->core.wlpol);
	dlocal_free(a->core.local);
	a->core.wlpol = wlpol;
	a->core.local = local;
	a->core.cfg = cfg;
	if (a->cfg != a->boot_cfg)
		eg_config_free(a->cfg);
	a->cfg = cfg;
	a->core.wlgen++;
	(void)dwlstat_sync(&a->core);
	dwl_reload(a, cfg);
	a->generation++;
	snprintf(text, len, "reloaded: %zu rules, %zu workloads, %zu local "
	    "records; upstreams and [dohd] listen change on restart",
	    eg_policy_nrules(eg_wlpol_get(wlpol, 0)), cfg->nworkloads,
	    dlocal_count(local));
	eg_log(EG_LOG_INFO, "reload", "result=ok generation=%u rules=%zu "
	    "workloads=%zu", a->generation,
	    eg_policy_nrules(eg_wlpol_get(wlpol, 0)), cfg->nworkloads);
	eg_notify_ready();
	return 0;
 fail:
	snprintf(text, len, "reload failed: %s", why);
	eg_daemon_reload_failed(why, a->generation);
	eg_notify_ready();
	return -1;
}
