/*
 * probe.c - per-hop probes and readiness.
 *
 * Every probe_interval one walk builds the chain stage by stage, exactly
 * as a connection would: hop 1 alone, then hop 1 -> hop 2, ..., then the
 * whole chain -> canary.  Each stage's result is kept per hop (ok, its
 * latency, last success, last error, age), so a failure names the hop
 * that broke; hops past a failed one count as failed ("not reached").
 *
 * Readiness, as the prototype's supervisor had it:
 *   require_all_hops_healthy   every hop's (and the canary's) last probe
 *                              passed and is younger than
 *                              max_hop_status_age
 *   block_start_until_hops_healthy
 *                              refuse connections (503) until a
 *                              full-chain probe passed once (listen.c),
 *                              and READY=1 waits for that probe too: a
 *                              unit ordered after connectd starts only
 *                              once connections can pass
 * and /ready also wants the listeners up and netjaild and dohd answering
 * STATUS_REQ with ready=1; no answer within the timeout is "not ready".
 *
 * A failed walk is retried sooner than probe_interval: after 0.5 s, then
 * 1, 2, 4 ... s up to probe_interval, until one passes.  So a chain that
 * was not reachable at start (dohd not up yet, a hop restarting) is seen
 * healthy within about a second of coming back, not a whole interval on.
 */
#include <stdio.h>
#include <string.h>

#include "cd.h"
#include "log.h"
#include "notify.h"

#define STATUS_EVERY_MS		2000
#define STATUS_TIMEOUT_MS	1000
#define STATUS_FRESH_MS		(3 * STATUS_EVERY_MS)
#define PROBE_RETRY_MIN_MS	500

static const uint64_t hist_le_ms[12] = { 5, 10, 25, 50, 100, 250, 500, 1000,
    2500, 5000, 10000, UINT64_MAX };

struct probe {
	struct cd *cd;
	struct cd_gen *gen;
	size_t nstages;		/* hops + canary */
	bool has_canary;
	int failed_at;		/* 0 none */
};

static struct probe cur;
static struct eg_ratelimit probe_rl = EG_RATELIMIT_INIT(60000, 6);

static size_t
probe_hops(const struct cd_gen *g)
{
	if (g->cfg->chain.exit == EG_EXIT_DIRECT)
		return 0;
	return g->cfg->chain.nhops > CD_MAX_HOPS ? CD_MAX_HOPS :
	    g->cfg->chain.nhops;
}

static void
record(struct cd *cd, size_t idx, bool ok, uint64_t ms, const char *why)
{
	struct cd_hopstat *h = &cd->hop[idx];
	uint64_t now = eg_now_ms();
	size_t b;

	h->tried = true;
	h->ok = ok;
	h->last_ms = now;
	h->latency_ms = ms;
	if (ok) {
		h->last_ok_ms = now;
		h->err[0] = '\0';
		for (b = 0; b < 12; b++)
			if (ms <= hist_le_ms[b])
				h->hist[b]++;
		h->hist_sum_ms += ms;
		h->hist_count++;
	} else
		snprintf(h->err, sizeof(h->err), "%s", why ? why : "failed");
}

static void
on_stage(int stage, int ok, uint64_t ms, const char *why, void *arg)
{
	struct probe *p = arg;
	size_t idx = (size_t)stage - 1;

	/* A walk that started before a reload describes the old chain. */
	if (idx >= p->nstages || p->gen != p->cd->gen)
		return;
	record(p->cd, idx, ok != 0, ms, why);
	if (!ok && p->failed_at == 0)
		p->failed_at = stage;
}

static void on_probe_timer(uv_timer_t *t);

void
cd_notify_ready(struct cd *cd)
{
	if (cd->ready_sent)
		return;
	if (cd->gen->cfg->chain.block_start_until_hops_healthy &&
	    !cd->chain_ever_ok) {
		eg_log(EG_LOG_INFO, "start", "ready=0 note=\"READY=1 waits for "
		    "the first full-chain probe (block_start_until_hops_healthy)\"");
		return;
	}
	cd->ready_sent = true;
	eg_notify_ready();
}

/* The first full-chain probe passed (or there is nothing to probe). */
static void
chain_ok(struct cd *cd)
{
	if (!cd->chain_ever_ok)
		eg_log(EG_LOG_INFO, "probe", "ok=1 first=1");
	cd->chain_ever_ok = true;
	cd_notify_ready(cd);
}

/* After a failed walk: the next one sooner than probe_interval. */
static void
probe_retry(struct cd *cd)
{
	uint64_t iv = cd->gen->cfg->chain.probe_interval_ms;

	if (iv == 0)
		iv = 10000;
	if (cd->probe_retry_ms == 0)
		cd->probe_retry_ms = PROBE_RETRY_MIN_MS;
	else if (cd->probe_retry_ms < iv)
		cd->probe_retry_ms *= 2;	/* stops at the interval */
	if (cd->probe_retry_ms >= iv || cd->draining)
		return;		/* the interval's own timer is as soon */
	uv_timer_stop(&cd->probe_timer);
	uv_timer_start(&cd->probe_timer, on_probe_timer, cd->probe_retry_ms, 0);
}

static void
on_probe_done(const struct cd_dial_result *r, void *arg)
{
	struct probe *p = arg;
	struct cd *cd = p->cd;
	char why[CD_ERR_MAX + 40];
	size_t i;

	if (p->gen != cd->gen) {
		/* reloaded meanwhile: the result is about the old chain */
	} else if (r->status != 0) {
		/* Stages after the failing one were never reached. */
		for (i = p->failed_at > 0 ? (size_t)p->failed_at : 0;
		    i < p->nstages; i++) {
			snprintf(why, sizeof(why), "not reached: %s", r->why);
			record(cd, i, false, 0, why);
		}
		eg_log_rl(&probe_rl, EG_LOG_WARN, "probe", "ok=0 failed_stage=%d error=\"%s\"",
		    p->failed_at, r->why);
		probe_retry(cd);
	} else if (p->has_canary || p->nstages > 0) {
		cd->probe_retry_ms = 0;
		chain_ok(cd);
	}
	if (r->us != NULL)
		us_close(r->us);
	cd_gen_unref(p->gen);
	p->gen = NULL;
	cd->probe_running = false;
}

static void
probe_run(struct cd *cd)
{
	const struct eg_config *cfg = cd->gen->cfg;
	char host[EG_NAME_MAX + 3];
	uint16_t port;
	size_t nh;

	if (cd->probe_running || cd->draining)
		return;
	memset(&cur, 0, sizeof(cur));
	cur.cd = cd;
	cur.gen = cd_gen_ref(cd->gen);
	nh = probe_hops(cur.gen);
	cur.has_canary = cfg->chain.has_canary;
	cur.nstages = nh + (cur.has_canary ? 1 : 0);
	cd->nhopstat = cur.nstages;
	if (cur.nstages == 0) {
		/* exit = direct and no canary: nothing to probe. */
		cd_gen_unref(cur.gen);
		chain_ok(cd);
		return;
	}
	if (cur.has_canary) {
		if (cfg->chain.canary.is_name)
			snprintf(host, sizeof(host), "%s", cfg->chain.canary.name);
		else
			eg_ip_str(&cfg->chain.canary.cidr.ip, host, sizeof(host));
		port = cfg->chain.canary.port;
	} else {
		snprintf(host, sizeof(host), "probe.invalid");
		port = 443;
	}
	cd->probe_running = true;
	if (cd_dial_start(cd, cur.gen, cur.gen->pol, NULL, host, port, false,
	    cur.has_canary ? 0 : (int)nh, on_probe_done, on_stage, &cur) ==
	    NULL) {
		cd->probe_running = false;
		cd_gen_unref(cur.gen);
	}
}

static void
on_probe_timer(uv_timer_t *t)
{
	struct cd *cd = t->data;
	uint64_t iv = cd->gen->cfg->chain.probe_interval_ms;

	probe_run(cd);
	uv_timer_start(&cd->probe_timer, on_probe_timer, iv ? iv : 10000, 0);
}

void
cd_probe_start(struct cd *cd)
{
	uv_timer_init(cd->loop, &cd->probe_timer);
	cd->probe_timer.data = cd;
	uv_timer_start(&cd->probe_timer, on_probe_timer, 0, 0);
}

void
cd_probe_now(struct cd *cd)
{
	uv_timer_stop(&cd->probe_timer);
	uv_timer_start(&cd->probe_timer, on_probe_timer, 0, 0);
}

void
cd_probe_stop(struct cd *cd)
{
	uv_timer_stop(&cd->probe_timer);
	uv_timer_stop(&cd->status_timer);
}

bool
cd_hops_healthy(struct cd *cd, char *why, size_t whylen)
{
	const struct eg_config *cfg = cd->gen->cfg;
	uint64_t now = eg_now_ms(), maxage = cfg->chain.max_hop_status_age_ms;
	size_t i;

	if (!cfg->chain.require_all_hops_healthy)
		return true;
	for (i = 0; i < cd->nhopstat; i++) {
		const struct cd_hopstat *h = &cd->hop[i];

		if (!h->tried) {
			snprintf(why, whylen, "hop %zu: not probed yet", i + 1);
			return false;
		}
		if (!h->ok) {
			snprintf(why, whylen, "hop %zu: %s", i + 1, h->err);
			return false;
		}
		if (maxage > 0 && now - h->last_ms > maxage) {
			snprintf(why, whylen, "hop %zu: status older than %llums",
			    i + 1, (unsigned long long)maxage);
			return false;
		}
	}
	if (cd->nhopstat == 0 && !cd->chain_ever_ok) {
		snprintf(why, whylen, "not probed yet");
		return false;
	}
	return true;
}

bool
cd_ready(struct cd *cd, char *why, size_t whylen)
{
	uint64_t now = eg_now_ms();

	if (!cd->listeners_up || cd->draining) {
		snprintf(why, whylen, cd->draining ? "draining" :
		    "listeners not up");
		return false;
	}
	/* on its own a daemon it does not use is no reason to wait */
	if (cd->netjaild != NULL && (!cd->netjaild_ready ||
	    now - cd->netjaild_at > STATUS_FRESH_MS)) {
		snprintf(why, whylen, "netjaild not ready: %s",
		    cd->netjaild_err[0] ? cd->netjaild_err : "no answer");
		return false;
	}
	if (!cd_wl_ready(cd, why, whylen))
		return false;
	if (cd->dohd != NULL && (!cd->dohd_ready ||
	    now - cd->dohd_at > STATUS_FRESH_MS)) {
		snprintf(why, whylen, "dohd not ready: %s",
		    cd->dohd_err[0] ? cd->dohd_err : "no answer");
		return false;
	}
	return cd_hops_healthy(cd, why, whylen);
}

/* ---- STATUS_REQ polls of the peers */

/*
 * One answer (or its absence).  up: it came, well formed; stats: the
 * numeric lines of its text, for /metrics, with the generation from the
 * binary header (an answer that did not come leaves no numbers behind).
 */
struct peer_poll {
	bool *ready, *up;
	uint64_t *at;
	char *err;
	size_t errlen;
	struct ps_stats *stats;
	char *ifaces;		/* netjaild's jailed_ifaces, or NULL */
	size_t ifaceslen;
};

/*
 * The value of "key=" in a peer's text, into out: only the characters of
 * link names and reasons (the IPC decoder admits printable ASCII only;
 * quotes and backslashes are left out all the same).
 */
static void
text_value(const char *text, size_t len, const char *key, char *out,
    size_t outlen)
{
	size_t kl = strlen(key), i, o = 0;
	const char *p = text, *end = text + len;

	out[0] = '\0';
	if (text == NULL)
		return;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (n > kl && memcmp(p, key, kl) == 0 && p[kl] == '=') {
			for (i = kl + 1; i < n && o + 1 < outlen; i++)
				if (p[i] >= ' ' && p[i] <= '~' && p[i] != '"' &&
				    p[i] != '\\')
					out[o++] = p[i];
			out[o] = '\0';
			return;
		}
		p += n + 1;
	}
}

static void
status_reply(int status, const struct eg_ipc_msg *msg,
    const struct peer_poll *p)
{
	const struct eg_msg_status *st;
	const char *text;

	*p->ready = false;
	*p->up = false;
	ps_clear(p->stats);
	if (p->ifaces != NULL)
		p->ifaces[0] = '\0';
	if (status != 0) {
		snprintf(p->err, p->errlen, "%s", strerror(-status));
		return;
	}
	if (msg->hdr.type != EG_MSG_STATUS_REP ||
	    (st = eg_ipc_status(msg, &text)) == NULL) {
		snprintf(p->err, p->errlen, "bad status answer");
		return;
	}
	*p->up = true;
	*p->ready = st->ready != 0;
	*p->at = eg_now_ms();
	ps_parse(p->stats, text, st->textlen);
	ps_set_u64(p->stats, "generation", st->generation);
	if (p->ifaces != NULL)
		text_value(text, st->textlen, "jailed_ifaces", p->ifaces,
		    p->ifaceslen);
	if (*p->ready) {
		p->err[0] = '\0';
		return;
	}
	/* its own reason ("interface br-x not set up: ...") when it gave one */
	text_value(text, st->textlen, "reason", p->err, p->errlen);
	if (p->err[0] == '\0')
		snprintf(p->err, p->errlen, "reports not ready");
}

static struct peer_poll
dohd_poll(struct cd *cd)
{
	struct peer_poll p = { &cd->dohd_ready, &cd->dohd_up, &cd->dohd_at,
	    cd->dohd_err, sizeof(cd->dohd_err), &cd->dohd_stats, NULL, 0 };

	return p;
}

static struct peer_poll
netjaild_poll(struct cd *cd)
{
	struct peer_poll p = { &cd->netjaild_ready, &cd->netjaild_up,
	    &cd->netjaild_at, cd->netjaild_err, sizeof(cd->netjaild_err),
	    &cd->netjaild_stats, cd->netjaild_ifaces,
	    sizeof(cd->netjaild_ifaces) };

	return p;
}

static void
on_dohd_status(int status, const struct eg_ipc_msg *msg, void *arg)
{
	struct peer_poll p = dohd_poll(arg);

	status_reply(status, msg, &p);
}

static void
on_netjaild_status(int status, const struct eg_ipc_msg *msg, void *arg)
{
	struct peer_poll p = netjaild_poll(arg);

	status_reply(status, msg, &p);
}

static void
not_connected(const struct peer_poll *p)
{
	*p->ready = false;
	*p->up = false;
	ps_clear(p->stats);
	if (p->ifaces != NULL)
		p->ifaces[0] = '\0';
	snprintf(p->err, p->errlen, "not connected");
}

static void
on_status_timer(uv_timer_t *t)
{
	struct cd *cd = t->data;
	struct peer_poll p;

	if (cd->dohd != NULL && eg_ctl_request(cd->dohd, EG_MSG_STATUS_REQ,
	    NULL, 0, STATUS_TIMEOUT_MS, on_dohd_status, cd) != 0) {
		p = dohd_poll(cd);
		not_connected(&p);
	}
	if (cd->netjaild != NULL && eg_ctl_request(cd->netjaild,
	    EG_MSG_STATUS_REQ, NULL, 0, STATUS_TIMEOUT_MS, on_netjaild_status,
	    cd) != 0) {
		p = netjaild_poll(cd);
		not_connected(&p);
	}
	/* a registration that failed for want of an answer, again */
	cd_wl_tick(cd);
	uv_timer_start(&cd->status_timer, on_status_timer, STATUS_EVERY_MS, 0);
}

void
cd_status_poll_start(struct cd *cd)
{
	uv_timer_init(cd->loop, &cd->status_timer);
	cd->status_timer.data = cd;
	uv_timer_start(&cd->status_timer, on_status_timer, 0, 0);
}
