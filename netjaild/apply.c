/*
 * apply.c - putting the jail in the kernel and keeping it there: the
 * table built from a config with the learned elements still alive
 * (nj_apply, at start-up, on reload and after someone flushed it), the
 * reload, policy routing checked and repaired, and flows to direct
 * endpoints a new config dropped cut.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "admit.h"
#include "ct.h"
#include "daemon.h"
#include "log.h"
#include "netjaild.h"
#include "ports.h"
#include "route.h"

static void
learned_sync_meta(struct nj_state *st)
{
	int i;

	for (i = 0; i < NJ_SET__MAX; i++) {
		st->learned[i].name = st->rs->sets[i].name;
		st->learned[i].key = st->rs->sets[i].key;
		st->learned[i].timeout = st->rs->sets[i].timeout;
		st->learned[i].interval = st->rs->sets[i].interval;
	}
}

/* Drop expired entries and set each remaining timeout to what is left. */
static void
learned_age(struct nj_state *st)
{
	uint64_t now = eg_now_ms();
	size_t i, j, k;

	for (i = 0; i < NJ_SET__MAX; i++) {
		struct nj_set *s = &st->learned[i];

		for (j = k = 0; j < s->nelems; j++) {
			/* a second of slack: never re-add what is about to go */
			if (st->learned_until[i][j] <= now + 1000)
				continue;
			s->elems[k] = s->elems[j];
			s->elems[k].timeout_ms = st->learned_until[i][j] - now;
			st->learned_until[i][k] = st->learned_until[i][j];
			k++;
		}
		s->nelems = k;
	}
}

void
nj_learned_note(struct nj_state *st, int set, const struct nj_elem *e,
    bool add)
{
	struct nj_set *s = &st->learned[set];
	size_t j, alen = 16;
	uint64_t *u;

	for (j = 0; j < s->nelems; j++)
		if (s->elems[j].port == e->port &&
		    memcmp(s->elems[j].lo, e->lo, alen) == 0)
			break;
	if (!add) {
		if (j < s->nelems) {
			s->elems[j] = s->elems[s->nelems - 1];
			st->learned_until[set][j] =
			    st->learned_until[set][s->nelems - 1];
			s->nelems--;
		}
		return;
	}
	if (j == s->nelems) {
		if (rules_set_add(s, e) == -1)
			return;	/* only costs a refresh after a reload */
		u = reallocarray(st->learned_until[set], s->cap, sizeof(*u));
		if (u == NULL) {
			s->nelems--;
			return;
		}
		st->learned_until[set] = u;
	}
	s->elems[j] = *e;
	st->learned_until[set][j] = eg_now_ms() + e->timeout_ms;
}

int
nj_apply(struct nj_state *st, const struct eg_config *cfg, char *err,
    size_t errlen)
{
	struct nj_ruleset *rs;
	struct nj_readback rb;
	struct nj_route_report rep;
	int rc;

	if ((rs = rules_build_with(cfg, &st->wlregs, err, errlen)) == NULL)
		return -EINVAL;
	if (st->rs == NULL) {
		st->rs = rs;
		learned_sync_meta(st);
		st->rs = NULL;
	}
	learned_age(st);
	nj_admit_prune(st, cfg);
	if ((rc = install_table_with(&st->nl, rs, st->learned, err,
	    errlen)) < 0) {
		rules_free(rs);
		return rc;
	}
	if ((rc = install_readback(&st->nl, rs, &rb)) < 0 || !rb.whole) {
		snprintf(err, errlen, "read-back: %s", rc < 0 ?
		    strerror(-rc) : rb.why);
		install_readback_free(&rb);
		rules_free(rs);
		return rc < 0 ? rc : -EPROTO;
	}
	install_readback_free(&rb);
	if ((rc = route_install(cfg->jail.fwmark, cfg->jail.route_table, err,
	    errlen)) < 0) {
		rules_free(rs);
		return rc;
	}
	if ((rc = route_verify(cfg->jail.fwmark, cfg->jail.route_table, err,
	    errlen)) != 1) {
		rules_free(rs);
		return rc < 0 ? rc : -EPROTO;
	}
	/* a rule already in front of ours (wg-quick's, a lookup main) */
	if (route_check(cfg->jail.fwmark, cfg->jail.route_table, true, &rep,
	    err, errlen) < 0) {
		rules_free(rs);
		return -EIO;
	}
	if (rep.changes > 0)
		eg_log(EG_LOG_INFO, "routing_placed", "what=\"%s\"", rep.what);
	if (rep.displaced)
		eg_log(EG_LOG_ERR, "routing_displaced", "family=ipv%d pref=%u "
		    "table=%u effect=\"jailed users' TCP fails (closed) until "
		    "that rule goes\"", rep.dfamily == AF_INET ? 4 : 6,
		    rep.dpref, rep.dtable);
	st->route_displaced = rep.displaced;
	/* layer 2: no frame between two ports of a jailed bridge */
	if ((rc = ports_apply(cfg, PORTS_ISOLATE, NULL, err, errlen)) < 0) {
		rules_free(rs);
		return rc;
	}
	rules_free(st->rs);
	st->rs = rs;
	learned_sync_meta(st);
	st->generation++;
	return 0;
}

static int
reload(struct nj_state *st, char *err, size_t errlen)
{
	struct eg_config_errors errs = { 0 };
	struct eg_config *cfg;
	int rc;

	cfg = eg_config_load(st->config_path, 0, &errs);
	if (cfg == NULL) {
		snprintf(err, errlen, "%s", errs.n ? errs.msgs[0] :
		    "config does not load");
		eg_config_errors_free(&errs);
		return -EINVAL;
	}
	eg_config_errors_free(&errs);
	if (cfg->jail.fwmark != st->cfg->jail.fwmark ||
	    cfg->jail.route_table != st->cfg->jail.route_table) {
		/* the old rule would keep diverting: take it out first */
		char e2[256];

		route_remove(st->cfg->jail.fwmark, st->cfg->jail.route_table,
		    e2, sizeof(e2));
	}
	if ((rc = nj_apply(st, cfg, err, errlen)) < 0) {
		eg_config_free(cfg);
		return rc;
	}
	eg_config_free(st->cfg);
	st->cfg = cfg;
	/* a workload the config dropped has no listeners to steer to */
	nj_wlreg_prune(&st->wlregs, cfg);
	/* links the new entries match are set up, others let go */
	links_resync(&st->links);
	nj_cut_stale_directs(st);
	return 0;
}

/* Logged here, the same for SIGHUP and egressctl; the old generation
 * keeps running when it fails. */
int
nj_reload(struct nj_state *st, char *err, size_t errlen)
{
	int rc;

	if ((rc = reload(st, err, errlen)) < 0)
		eg_daemon_reload_failed(err, st->generation);
	else
		eg_log(EG_LOG_INFO, "reload", "result=ok generation=%u",
		    st->generation);
	return rc;
}

#define NJ_ROUTE_WINDOW_MS	60000
#define NJ_ROUTE_WINDOW_MAX	30

void
nj_routing_check(struct nj_state *st)
{
	struct nj_route_report rep;
	uint64_t now = eg_now_ms();
	bool repair;
	char err[256];

	if (now - st->route_window_ms > NJ_ROUTE_WINDOW_MS) {
		st->route_window_ms = now;
		st->route_window_n = 0;
	}
	/* the jail stays shut meanwhile: postrouting drops what misses */
	repair = st->route_window_n < NJ_ROUTE_WINDOW_MAX;
	if (route_check(st->cfg->jail.fwmark, st->cfg->jail.route_table,
	    repair, &rep, err, sizeof(err)) < 0) {
		eg_log(EG_LOG_ERR, "routing_check_failed", "error=\"%s\"", err);
		return;
	}
	if (!repair && (rep.missing || rep.displaced) &&
	    st->route_window_n++ == NJ_ROUTE_WINDOW_MAX)
		eg_log(EG_LOG_ERR, "routing_repair_paused", "repairs=%u "
		    "within_ms=%u reason=\"something keeps removing or "
		    "outranking the rule\"", NJ_ROUTE_WINDOW_MAX,
		    NJ_ROUTE_WINDOW_MS);
	if (rep.changes > 0) {
		st->route_window_n++;
		st->route_repairs += rep.changes;
		snprintf(st->route_last, sizeof(st->route_last), "%s",
		    rep.what);
		eg_log(EG_LOG_WARN, "routing_repaired", "what=\"%s\" "
		    "repairs=%u", rep.what, st->route_repairs);
	}
	if (rep.displaced && !st->route_displaced)
		eg_log(EG_LOG_ERR, "routing_displaced", "family=ipv%d pref=%u "
		    "table=%u effect=\"jailed users' TCP fails (closed) until "
		    "that rule goes\"", rep.dfamily == AF_INET ? 4 : 6,
		    rep.dpref, rep.dtable);
	else if (!rep.displaced && st->route_displaced)
		eg_log(EG_LOG_INFO, "routing_whole", "repairs=%u",
		    st->route_repairs);
	st->route_displaced = rep.displaced;
}

/*
 * Is dst:port still a direct endpoint: a configured address or CIDR, or a
 * port of a configured direct name (its learned addresses come and go
 * with their TTL, and a flow outlives them: RULESET.md)?
 */
static bool
direct_still(int family, const uint8_t *dst, uint16_t port, void *arg)
{
	const struct nj_state *st = arg;
	const struct eg_config *cfg = st->cfg;
	struct nj_elem e;
	struct eg_ip ip;
	size_t i, j;

	for (i = 0; i < cfg->jail.ndirect; i++)
		if (cfg->jail.direct[i].ep.is_name &&
		    cfg->jail.direct[i].ep.port == port)
			return true;
	/*
	 * A workload's own (literals only): the flow's source is not known
	 * here, so one to any workload's endpoint is kept.
	 */
	memset(&ip, 0, sizeof(ip));
	ip.family = family;
	memcpy(ip.addr, dst, family == AF_INET ? 4 : 16);
	for (i = 0; i < cfg->nworkloads; i++)
		for (j = 0; j < cfg->workloads[i].ndirect; j++) {
			const struct eg_endpoint *ep =
			    &cfg->workloads[i].direct[j].ep;

			if (!ep->is_name && ep->port == port &&
			    eg_cidr_contains(&ep->cidr, &ip))
				return true;
		}
	rules_elem_addr(&e, family, dst, -1, port);
	return rules_set_covers(&st->rs->sets[family == AF_INET ?
	    NJ_SET_DIRECT4 : NJ_SET_DIRECT6], &e) != 0;
}

void
nj_cut_stale_directs(struct nj_state *st)
{
	char err[256];
	int n;

	n = ct_flush_direct(rules_direct_bit(st->cfg->jail.fwmark),
	    direct_still, st, err, sizeof(err));
	if (n < 0)
		eg_log(EG_LOG_WARN, "direct_flows_cut_failed", "error=\"%s\"",
		    err);
	else if (n > 0)
		eg_log(EG_LOG_INFO, "direct_flows_cut", "entries=%d "
		    "why=\"no longer a direct endpoint\"", n);
}
