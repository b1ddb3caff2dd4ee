/*
 * wl.c - dohd's per-workload listeners (docs/WORKLOADS.md: the listener a
 * query arrives on names its workload) and their registration with
 * netjaild.
 *
 * At start, while still privileged, a pool of sockets carrying the
 * listener mark is made for the config's workloads plus EG_WLL_SPARE that
 * a reload may add (wllisten.h: no capability is kept), and each
 * workload's UDP and TCP listeners on 127.0.0.1 and ::1 are opened from
 * it.  After the drop they are registered with netjaild over the feed's
 * control connection (wlreg_client.h registers them again after netjaild
 * restarts).  A reload opens and registers a new workload's listeners,
 * unregisters a removed workload's and closes them once netjaild
 * answered, and keeps the others (their queries take the new engines).
 * A workload whose listeners cannot be opened (no marked socket left) is
 * refused: logged, nothing registered, so netjaild drops its DNS.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lmark.h"
#include "log.h"
#include "wllisten.h"
#include "wlreg_client.h"

#include "app.h"
#include "feed.h"
#include "listen.h"
#include "wl.h"

struct dwl_one {
	struct dwl_one *next;
	struct dohd_app *a;
	char name[EG_WL_NAME_MAX + 1];
	struct dl_wl *lst;		/* NULL: refused (why) */
	uint16_t ports[EG_WLL__SLOTS];
	char why[EG_ERR_MAX];
};

struct dwl {
	struct eg_wll_pool *pool;
	struct eg_wlrc *rc;		/* NULL until the drop */
	struct dwl_one *list;
};

static const uint8_t slot_kind[EG_WLL__SLOTS] = {
	[EG_WLL_UDP4] = EG_WLL_DNS_UDP, [EG_WLL_UDP6] = EG_WLL_DNS_UDP,
	[EG_WLL_TCP4] = EG_WLL_DNS_TCP, [EG_WLL_TCP6] = EG_WLL_DNS_TCP,
};

static void
tag_of(const struct dohd_app *a, const char *name, size_t idx,
    struct dquery_wl *t)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->idx = (unsigned)idx;
	t->gen = a->core.wlgen;
}

static void
do_register(struct dwl *w, struct dwl_one *o)
{
	if (w->rc == NULL || o->lst == NULL)
		return;
	for (int s = 0; s < EG_WLL__SLOTS; s++)
		if (o->ports[s] != 0 && eg_wlrc_add(w->rc, o->name,
		    slot_kind[s], (uint8_t)eg_wll_family(s), o->ports[s]) < 0)
			eg_log(EG_LOG_ERR, "wl_listen_refused", "workload=%s "
			    "reason=\"registration table full\"", o->name);
}

/* Open o's listeners (idx: its engine in the current generation). */
static void
open_one(struct dohd_app *a, struct dwl_one *o, size_t idx)
{
	struct dquery_wl t;

	tag_of(a, o->name, idx, &t);
	o->why[0] = '\0';
	o->lst = dlisten_wl_open(a->listen, a->wl->pool, &t, o->ports,
	    o->why, sizeof(o->why));
	if (o->lst == NULL) {
		/* never served unmarked: netjaild drops its DNS */
		eg_log(EG_LOG_ERR, "wl_listen_refused", "workload=%s "
		    "reason=\"%s\"", o->name, o->why);
		return;
	}
	eg_log(EG_LOG_INFO, "wl_listen_open", "workload=%s udp4=%u udp6=%u "
	    "tcp4=%u tcp6=%u", o->name, o->ports[EG_WLL_UDP4],
	    o->ports[EG_WLL_UDP6], o->ports[EG_WLL_TCP4],
	    o->ports[EG_WLL_TCP6]);
	do_register(a->wl, o);
}

static struct dwl_one *
add_one(struct dohd_app *a, const char *name, size_t idx)
{
	struct dwl_one *o;

	if ((o = calloc(1, sizeof(*o))) == NULL) {
		eg_log(EG_LOG_ERR, "wl_listen_refused", "workload=%s "
		    "reason=\"out of memory\"", name);
		return NULL;
	}
	o->a = a;
	snprintf(o->name, sizeof(o->name), "%s", name);
	o->next = a->wl->list;
	a->wl->list = o;
	open_one(a, o, idx);
	return o;
}

int
dwl_init(struct dohd_app *a, const struct eg_config *cfg, char *err,
    size_t errlen)
{
	char why[EG_ERR_MAX] = "";
	uint32_t mark = eg_lmark_required(cfg) ? cfg->jail.listener_mark : 0;

	if ((a->wl = calloc(1, sizeof(*a->wl))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	a->wl->pool = eg_wll_pool_new(mark, cfg->nworkloads + EG_WLL_SPARE,
	    why, sizeof(why));
	if (a->wl->pool == NULL) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	if (why[0] != '\0' && cfg->nworkloads > 0)
		eg_log(EG_LOG_ERR, "wl_listen_pool", "error=\"%s\"", why);
	for (size_t i = 0; i < cfg->nworkloads; i++)
		(void)add_one(a, cfg->workloads[i].name, i + 1);
	return 0;
}

void
dwl_start(struct dohd_app *a, struct eg_ctl_client *cl)
{
	struct dwl *w = a->wl;

	if ((w->rc = eg_wlrc_new(a->loop, cl, "dohd")) == NULL)
		eg_fatal(EG_EXIT_RUNTIME, "start", "what=wl_register "
		    "error=\"out of memory\"");
	for (struct dwl_one *o = w->list; o != NULL; o = o->next)
		do_register(w, o);
}

/* netjaild dropped them: now they may close. */
static void
unregistered(void *arg)
{
	struct dwl_one *o = arg;

	dlisten_wl_close(o->lst);
	eg_log(EG_LOG_INFO, "wl_listen_closed", "workload=%s", o->name);
	free(o);
}

static size_t
cfg_index(const struct eg_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nworkloads; i++)
		if (strcmp(cfg->workloads[i].name, name) == 0)
			return i + 1;
	return 0;
}

void
dwl_reload(struct dohd_app *a, const struct eg_config *cfg)
{
	struct dwl *w = a->wl;
	struct dwl_one **pp, *o;

	/* removed: unregister first, close once netjaild answered */
	for (pp = &w->list; (o = *pp) != NULL; ) {
		if (cfg_index(cfg, o->name) != 0) {
			pp = &o->next;
			continue;
		}
		*pp = o->next;
		if (o->lst == NULL) {
			free(o);
			continue;
		}
		if (w->rc == NULL || eg_wlrc_remove(w->rc, o->name,
		    unregistered, o) < 0)
			unregistered(o);
	}
	/* kept: the new generation's index; refused before: try again */
	for (o = w->list; o != NULL; o = o->next) {
		size_t idx = cfg_index(cfg, o->name);
		struct dquery_wl t;

		if (o->lst == NULL) {
			open_one(a, o, idx);
			continue;
		}
		tag_of(a, o->name, idx, &t);
		dlisten_wl_retag(o->lst, &t);
	}
	/* added */
	for (size_t i = 0; i < cfg->nworkloads; i++) {
		bool have = false;

		for (o = w->list; o != NULL && !have; o = o->next)
			have = strcmp(o->name, cfg->workloads[i].name) == 0;
		if (!have)
			(void)add_one(a, cfg->workloads[i].name, i + 1);
	}
	/* netjaild may know a workload now that it refused before */
	if (w->rc != NULL)
		eg_wlrc_retry(w->rc);
}

size_t
dwl_status_text(const struct dohd_app *a, char *buf, size_t len)
{
	const struct dwl *w = a->wl;
	size_t off = 0;

	if (w == NULL || len == 0)
		return 0;
	buf[0] = '\0';
	for (const struct dwl_one *o = w->list; o != NULL; o = o->next) {
		int n;

		if (o->lst != NULL)
			continue;
		n = snprintf(buf + off, len - off, "wl_refused.%s=%s\n",
		    o->name, o->why);
		if (n < 0 || (size_t)n >= len - off) {
			buf[off] = '\0';
			return off;
		}
		off += (size_t)n;
	}
	if (w->rc != NULL)
		off += eg_wlrc_status_text(w->rc, buf + off, len - off);
	return off;
}
