/*
 * health.c - /live, /ready, /health and /metrics on health_listen.
 *
 * A deliberately small HTTP/1.x server: one GET per connection, head
 * bounded to 4 KiB and 5 s, answer and close.  It is for probes and
 * Prometheus on the host, never reachable from the jail (netjaild closes
 * host services).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cd.h"
#include "http.h"
#include "log.h"
#include "sbuf.h"

#define HHEAD_MAX 4096

struct hconn {
	struct cd *cd;
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_shutdown_t sreq;
	int open;
	size_t n;
	bool answered;
	char buf[HHEAD_MAX];
};

/* JSON string body: our own texts, but they may quote hop errors. */
static void
sb_json(struct sbuf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			sb_printf(b, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			sb_printf(b, "\\u%04x", c);
		else
			sb_printf(b, "%c", c);
	}
}

static const char *const dec_name[CD_DEC__MAX] = { "allow", "deny",
    "report", "error" };
static const char *const hist_le[12] = { "0.005", "0.01", "0.025", "0.05",
    "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf" };

static void
hop_label(struct cd *cd, size_t i, char *buf, size_t len)
{
	if (i + 1 == cd->nhopstat && cd->gen->cfg->chain.has_canary)
		snprintf(buf, len, "canary");
	else
		snprintf(buf, len, "%zu", i + 1);
}

/* A peer's poll state and, when it answered, its status text's numbers. */
static void
peer_metrics(struct sbuf *b, const char *peer, bool up, bool ready,
    const struct ps_stats *st)
{
	char *text;
	size_t n;

	sb_printf(b, "# HELP egressjail_%s_up 1 when %s answered the last "
	    "status poll of connectd.\n# TYPE egressjail_%s_up gauge\n"
	    "egressjail_%s_up %d\n", peer, peer, peer, peer, up ? 1 : 0);
	sb_printf(b, "# HELP egressjail_%s_ready 1 when the last status "
	    "answer of %s said ready.\n# TYPE egressjail_%s_ready gauge\n"
	    "egressjail_%s_ready %d\n", peer, peer, peer, peer,
	    up && ready ? 1 : 0);
	if (!up)
		return;
	if ((text = ps_render(st, peer, &n)) == NULL) {
		b->oom = true;
		return;
	}
	sb_printf(b, "%s", text);
	free(text);
}

/* connectd's own unlabelled counters and gauges, in /metrics order. */
static const struct scalar {
	const char *name, *type, *help;
	size_t off;		/* of the uint64_t in struct cd_metrics */
} scalars[] = {
	{ "connectd_active_connections", "gauge",
	    "Open client connections.", offsetof(struct cd_metrics, active) },
	{ "connectd_active_tunnels", "gauge", "Established tunnels.",
	    offsetof(struct cd_metrics, tunnels) },
	{ "connectd_refused_busy_total", "counter",
	    "Connections refused at max_connections.",
	    offsetof(struct cd_metrics, refused_busy) },
	{ "connectd_relay_spliced_total", "counter",
	    "Tunnels switched to splice(2).",
	    offsetof(struct cd_metrics, spliced) },
	{ "connectd_tunnel_cuts_total", "counter", "Tunnels cut by the "
	    "tunnel check (a ClientHello or HTTP request naming another host).",
	    offsetof(struct cd_metrics, tunnel_cuts) },
	{ "connectd_access_log_lines_total", "counter",
	    "Access-log lines written.",
	    offsetof(struct cd_metrics, log_lines) },
	{ "connectd_access_log_dropped_total", "counter", "Access-log lines "
	    "dropped because the log did not take them.",
	    offsetof(struct cd_metrics, log_dropped) },
};

static void
family(struct sbuf *b, const char *name, const char *type, const char *help)
{
	sb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Per hop (and the canary): probe result, probe latency, chain errors. */
static void
hop_metrics(struct sbuf *b, struct cd *cd)
{
	char hl[16];
	size_t i, k;

	family(b, "connectd_hop_up", "gauge", "Last probe of the hop passed.");
	for (i = 0; i < cd->nhopstat; i++) {
		hop_label(cd, i, hl, sizeof(hl));
		sb_printf(b, "connectd_hop_up{hop=\"%s\"} %d\n", hl,
		    cd->hop[i].ok ? 1 : 0);
	}
	family(b, "connectd_hop_probe_seconds", "histogram",
	    "Probe stage latency per hop.");
	for (i = 0; i < cd->nhopstat; i++) {
		hop_label(cd, i, hl, sizeof(hl));
		for (k = 0; k < 12; k++)
			sb_printf(b, "connectd_hop_probe_seconds_bucket{hop=\"%s\","
			    "le=\"%s\"} %llu\n", hl, hist_le[k],
			    (unsigned long long)cd->hop[i].hist[k]);
		sb_printf(b, "connectd_hop_probe_seconds_sum{hop=\"%s\"} "
		    "%.3f\nconnectd_hop_probe_seconds_count{hop=\"%s\"} %llu\n",
		    hl, (double)cd->hop[i].hist_sum_ms / 1000.0, hl,
		    (unsigned long long)cd->hop[i].hist_count);
	}
	family(b, "connectd_chain_errors_total", "counter",
	    "Connections that failed at a hop.");
	for (i = 0; i < cd->nhopstat; i++) {
		hop_label(cd, i, hl, sizeof(hl));
		sb_printf(b, "connectd_chain_errors_total{hop=\"%s\"} %llu\n",
		    hl, (unsigned long long)cd->hop[i].chain_errors);
	}
	sb_printf(b, "connectd_chain_errors_total{hop=\"target\"} %llu\n",
	    (unsigned long long)cd->m.target_errors);
}

char *
cd_render_metrics(struct cd *cd, size_t *len)
{
	struct sbuf b = SBUF_INIT;
	const struct scalar *sc;
	char why[256];
	size_t i, m, k;

	family(&b, "connectd_connections_total", "counter",
	    "Connections by intake mode and decision.");
	for (m = 0; m < 2; m++)
		for (k = 0; k < CD_DEC__MAX; k++)
			sb_printf(&b, "connectd_connections_total{mode=\"%s\","
			    "decision=\"%s\"} %llu\n", cd_mode_str((enum cd_mode)m),
			    dec_name[k], (unsigned long long)cd->m.conns[m][k]);
	family(&b, "connectd_bytes_total", "counter", "Tunnel payload bytes.");
	sb_printf(&b, "connectd_bytes_total{direction=\"up\"} %llu\n"
	    "connectd_bytes_total{direction=\"down\"} %llu\n",
	    (unsigned long long)cd->m.bytes_up,
	    (unsigned long long)cd->m.bytes_down);
	for (i = 0; i < sizeof(scalars) / sizeof(scalars[0]); i++) {
		sc = &scalars[i];
		family(&b, sc->name, sc->type, sc->help);
		sb_printf(&b, "%s %llu\n", sc->name, (unsigned long long)
		    *(const uint64_t *)((const char *)&cd->m + sc->off));
	}
	hop_metrics(&b, cd);
	cd_wl_metrics(cd, &b);
	family(&b, "connectd_ready", "gauge", "1 when /ready answers 200.");
	sb_printf(&b, "connectd_ready %d\n", cd_ready(cd, why, sizeof(why)) ?
	    1 : 0);
	peer_metrics(&b, "netjaild", cd->netjaild_up, cd->netjaild_ready,
	    &cd->netjaild_stats);
	peer_metrics(&b, "dohd", cd->dohd_up, cd->dohd_ready, &cd->dohd_stats);
	return sb_take(&b, len);
}

char *
cd_render_health(struct cd *cd, size_t *len)
{
	struct sbuf b = SBUF_INIT;
	char why[256] = "", hl[16];
	uint64_t now = eg_now_ms();
	bool ready;
	size_t i;

	ready = cd_ready(cd, why, sizeof(why));
	sb_printf(&b, "{\"daemon\":\"connectd\",\"ready\":%s,\"reason\":\"",
	    ready ? "true" : "false");
	sb_json(&b, ready ? "" : why);
	sb_printf(&b, "\",\"uptime_ms\":%llu,\"generation\":%u,"
	    "\"listeners_up\":%s,\"draining\":%s,\"active\":%llu,",
	    (unsigned long long)(now - cd->started_ms), cd->gen->id,
	    cd->listeners_up ? "true" : "false",
	    cd->draining ? "true" : "false", (unsigned long long)cd->m.active);
	cd_wl_describe(cd, &b, CD_WLF_JSON);
	sb_printf(&b, "\"netjaild\":{\"ready\":%s,\"age_ms\":%lld,\"error\":\"",
	    cd->netjaild_ready ? "true" : "false",
	    cd->netjaild_at ? (long long)(now - cd->netjaild_at) : -1LL);
	sb_json(&b, cd->netjaild_err);
	sb_printf(&b, "\",\"jailed_ifaces\":\"");
	sb_json(&b, cd->netjaild_ifaces);
	sb_printf(&b, "\"},\"dohd\":{\"ready\":%s,\"age_ms\":%lld,\"error\":\"",
	    cd->dohd_ready ? "true" : "false",
	    cd->dohd_at ? (long long)(now - cd->dohd_at) : -1LL);
	sb_json(&b, cd->dohd_err);
	sb_printf(&b, "\"},\"chain_ever_ok\":%s,\"hops\":[",
	    cd->chain_ever_ok ? "true" : "false");
	for (i = 0; i < cd->nhopstat; i++) {
		const struct cd_hopstat *h = &cd->hop[i];

		hop_label(cd, i, hl, sizeof(hl));
		sb_printf(&b, "%s{\"hop\":\"%s\",\"url\":\"", i ? "," : "", hl);
		if (strcmp(hl, "canary") != 0 && i < cd->gen->cfg->chain.nhops)
			sb_json(&b, cd->gen->cfg->chain.hops[i].url_redacted);
		sb_printf(&b, "\",\"probed\":%s,\"ok\":%s,\"latency_ms\":%llu,"
		    "\"age_ms\":%lld,\"last_success_age_ms\":%lld,"
		    "\"chain_errors\":%llu,\"error\":\"",
		    h->tried ? "true" : "false", h->ok ? "true" : "false",
		    (unsigned long long)h->latency_ms,
		    h->tried ? (long long)(now - h->last_ms) : -1LL,
		    h->last_ok_ms ? (long long)(now - h->last_ok_ms) : -1LL,
		    (unsigned long long)h->chain_errors);
		sb_json(&b, h->err);
		sb_printf(&b, "\"}");
	}
	sb_printf(&b, "]}\n");
	return sb_take(&b, len);
}

static void
on_hclosed(uv_handle_t *h)
{
	struct hconn *c = h->data;

	if (--c->open == 0)
		free(c);
}

static void
hclose(struct hconn *c)
{
	if (uv_is_closing((uv_handle_t *)&c->tcp))
		return;
	uv_close((uv_handle_t *)&c->timer, on_hclosed);
	uv_close((uv_handle_t *)&c->tcp, on_hclosed);
}

static void
on_hshutdown(uv_shutdown_t *req, int status)
{
	struct hconn *c = req->data;

	if (status == UV_ECANCELED)
		return;
	hclose(c);
}

static void
on_hwrite(uv_write_t *req, int status)
{
	free(req);
}

static void
answer(struct hconn *c, int status, const char *ctype, const char *body,
    size_t blen)
{
	uv_write_t *w;
	char *msg;
	int hl;
	uv_buf_t b;

	c->answered = true;
	uv_read_stop((uv_stream_t *)&c->tcp);
	if ((w = malloc(sizeof(*w) + 256 + blen)) == NULL) {
		hclose(c);
		return;
	}
	msg = (char *)(w + 1);
	hl = snprintf(msg, 256, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nCache-Control: no-store\r\n"
	    "Connection: close\r\n\r\n", status, status == 200 ? "OK" :
	    status == 404 ? "Not Found" : status == 503 ?
	    "Service Unavailable" : status == 405 ? "Method Not Allowed" :
	    "Bad Request", ctype, blen);
	memcpy(msg + hl, body, blen);
	b = uv_buf_init(msg, (unsigned)(hl + (int)blen));
	if (uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, on_hwrite) != 0) {
		free(w);
		hclose(c);
		return;
	}
	c->sreq.data = c;
	if (uv_shutdown(&c->sreq, (uv_stream_t *)&c->tcp, on_hshutdown) != 0)
		hclose(c);
}

static void
route(struct hconn *c, const struct http_probe *p)
{
	struct cd *cd = c->cd;
	char path[64], why[256] = "";
	char *out;
	size_t len = 0;

	if (p->pathlen >= sizeof(path)) {
		answer(c, 404, "text/plain", "not found\n", 10);
		return;
	}
	memcpy(path, p->path, p->pathlen);
	path[p->pathlen] = '\0';
	if (strcmp(path, "/live") == 0) {
		answer(c, 200, "text/plain", "ok\n", 3);
	} else if (strcmp(path, "/ready") == 0) {
		struct sbuf rb = SBUF_INIT;
		bool ok = cd_ready(cd, why, sizeof(why));

		if (ok)
			/* and which jailed bridges netjaild has set up */
			sb_printf(&rb, "ready\n%s%s%s",
			    cd->netjaild_ifaces[0] ? "jailed interfaces: " : "",
			    cd->netjaild_ifaces, cd->netjaild_ifaces[0] ?
			    "\n" : "");
		else
			sb_printf(&rb, "not ready: %s\n", why);
		/* each workload and whether netjaild steers it here */
		cd_wl_describe(cd, &rb, CD_WLF_READY);
		if ((out = sb_take(&rb, &len)) == NULL) {
			answer(c, 503, "text/plain", "oom\n", 4);
			return;
		}
		answer(c, ok ? 200 : 503, "text/plain", out, len);
		free(out);
	} else if (strcmp(path, "/health") == 0) {
		if ((out = cd_render_health(cd, &len)) == NULL) {
			answer(c, 503, "text/plain", "oom\n", 4);
			return;
		}
		answer(c, 200, "application/json", out, len);
		free(out);
	} else if (strcmp(path, "/metrics") == 0) {
		if ((out = cd_render_metrics(cd, &len)) == NULL) {
			answer(c, 503, "text/plain", "oom\n", 4);
			return;
		}
		answer(c, 200, "text/plain; version=0.0.4", out, len);
		free(out);
	} else
		answer(c, 404, "text/plain", "not found\n", 10);
}

static void
h_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct hconn *c = h->data;

	*b = uv_buf_init(c->buf + c->n, (unsigned)(sizeof(c->buf) - c->n));
}

static void
h_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct hconn *c = s->data;
	struct http_probe p;

	if (c->answered || n == 0)
		return;
	if (n < 0) {
		hclose(c);
		return;
	}
	c->n += (size_t)n;
	switch (http_parse_probe(c->buf, c->n, sizeof(c->buf), &p)) {
	case HTTP_NEED_MORE:
		return;
	case HTTP_OK:
		route(c, &p);
		return;
	}
	if (p.status == 405)
		answer(c, 405, "text/plain", "GET only\n", 9);
	else
		answer(c, 400, "text/plain", "bad request\n", 12);
}

static void
h_timeout(uv_timer_t *t)
{
	hclose(t->data);
}

static void
h_accept(uv_stream_t *s, int status)
{
	struct cd *cd = s->data;
	struct hconn *c;

	if (status < 0 || (c = calloc(1, sizeof(*c))) == NULL)
		return;
	c->cd = cd;
	uv_tcp_init(cd->loop, &c->tcp);
	uv_timer_init(cd->loop, &c->timer);
	c->tcp.data = c;
	c->timer.data = c;
	c->open = 2;
	if (uv_accept(s, (uv_stream_t *)&c->tcp) != 0) {
		hclose(c);
		return;
	}
	uv_timer_start(&c->timer, h_timeout, 5000, 0);
	uv_read_start((uv_stream_t *)&c->tcp, h_alloc, h_read);
}

int
cd_health_start(struct cd *cd, int fd, char *err, size_t errlen)
{
	int rc;

	uv_tcp_init(cd->loop, &cd->health);
	cd->health.data = cd;
	if ((rc = uv_tcp_open(&cd->health, fd)) != 0 ||
	    (rc = uv_listen((uv_stream_t *)&cd->health, 128, h_accept)) != 0) {
		snprintf(err, errlen, "health listener: %s", uv_strerror(rc));
		return -1;
	}
	return 0;
}
