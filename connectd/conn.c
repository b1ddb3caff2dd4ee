/*
 * conn.c - the life of one connection, from accept to the access log:
 * read the head, decide, dial, refuse or hand over to the relay, log.
 * (listen.c owns the listening sockets and calls cd_conn_accept.)
 *
 * explicit     an HTTP proxy: "CONNECT host:port" or an absolute-form
 *              plain request, which becomes "CONNECT host:80" plus the
 *              request rewritten to origin form.
 * transparent  redirected or TPROXYed TCP: the original destination port
 *              comes from SO_ORIGINAL_DST (NAT) or getsockname (TPROXY),
 *              the name from the TLS ClientHello's SNI or the HTTP Host.
 *
 * Either way the head is read within cd.max_head_bytes and
 * cd.head_timeout_ms, the name (never an address) goes to the policy and
 * into the CONNECT, and anything short of an explicit allow is refused.
 * One access-log line is written when the connection closes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cd.h"
#include "http.h"
#include "judge.h"
#include "learn_table.h"
#include "log.h"
#include "sni.h"

enum cst { C_HEAD, C_DIAL, C_RELAY, C_REFUSE, C_CLOSING };

struct cd_conn {
	struct cd *cd;
	struct cd_gen *gen;
	struct cd_wl *wl;		/* its listener's workload */
	const struct eg_policy *pol;	/* that workload's engine in gen */
	enum eg_policy_mode pmode;	/* and its mode */
	struct cd_conn *next, *prev;
	uv_tcp_t cli;
	uv_timer_t timer;
	enum cd_mode mode;
	enum cst st;
	char *buf;
	size_t n, cap;
	char src[80];
	char odst[80];
	uint16_t oport;
	char host[HTTP_HOST_MAX + 1];
	uint16_t port;
	const char *kind;		/* connect, http, tls, http-t */
	struct cd_verdict v;
	bool decided;
	char *pre;			/* to send into the tunnel first */
	size_t npre;
	struct judge *judge;		/* judges the client's bytes after
					 * the head; the relay takes it */
	struct cd_dial *dial;
	struct cd_ask_wait *ask;	/* held while a decider answers */
	struct cd_relay *relay;
	struct ustream *up;
	char path[256];
	char err[CD_ERR_MAX];
	int status;
	char reason[CD_ERR_MAX + 16];	/* why it was refused */
	enum cd_dec dec;
	uint64_t start;
	int open_handles;
	uv_shutdown_t sreq;
	bool ech;
	bool cli_closed;		/* the relay took the socket over */
	bool reading;			/* the client stream reads (ours) */
	size_t fed;			/* c->buf up to here went to the
					 * decision; the rest came during
					 * the dial */
};

static void conn_close(struct cd_conn *c);

static void
cli_read_stop(struct cd_conn *c)
{
	if (c->reading)
		uv_read_stop((uv_stream_t *)&c->cli);
	c->reading = false;
}

static void
on_handle_closed(uv_handle_t *h)
{
	struct cd_conn *c = h->data;
	struct cd *cd = c->cd;
	uint64_t up = 0, down = 0;
	char qh[4 * 64 + 8], qe[4 * 200 + 8], qp[4 * 256 + 8], qr[4 * 128 + 8];
	char qs[4 * 200 + 8];

	if (--c->open_handles > 0)
		return;
	cd_relay_stats(c->relay, &up, &down);
	if (c->relay != NULL && cd->m.tunnels > 0)
		cd->m.tunnels--;
	cd_relay_close(c->relay);
	cd->m.conns[c->mode][c->dec]++;
	c->wl->conns[c->dec]++;
	if (cd->m.active > 0)
		cd->m.active--;
	if (c->gen->cfg->connectd.access_log)
		cd_alog(cd, EG_LOG_INFO, "access", "src=%s mode=%s kind=%s dst=%s host=%s port=%u rule=%s "
		    "workload=%s decision=%s status=%d reason=%s hops=%s "
		    "up=%llu down=%llu ms=%llu%s error=%s",
		    c->src, cd_mode_str(c->mode), c->kind ? c->kind : "-",
		    c->odst[0] ? c->odst : "-",
		    eg_log_quote(c->host, strlen(c->host), 64, qh, sizeof(qh)),
		    c->port, eg_log_quote(c->v.rule, strlen(c->v.rule), 128, qr,
		    sizeof(qr)), c->wl->name,
		    c->dec == CD_DEC_ALLOW ? "allow" :
		    c->dec == CD_DEC_REPORT ? "report" :
		    c->dec == CD_DEC_DENY ? "deny" : "error",
		    c->status,
		    eg_log_quote(c->reason[0] ? c->reason : "-",
		    strlen(c->reason[0] ? c->reason : "-"), 200, qs, sizeof(qs)),
		    eg_log_quote(c->path[0] ? c->path : "-",
		    strlen(c->path[0] ? c->path : "-"), 256, qp, sizeof(qp)),
		    (unsigned long long)up, (unsigned long long)down,
		    (unsigned long long)(eg_now_ms() - c->start),
		    c->ech ? " ech=outer-sni" : "",
		    eg_log_quote(c->err[0] ? c->err : "-",
		    strlen(c->err[0] ? c->err : "-"), 200, qe, sizeof(qe)));
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		cd->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	cd_gen_unref(c->gen);
	cd_wl_unref(c->wl);
	free(c->buf);
	free(c->pre);
	if (c->judge != NULL) {
		judge_free(c->judge);
		free(c->judge);
	}
	free(c);
}

/* Close the tunnel and the client socket (each once). */
static void
close_streams(struct cd_conn *c)
{
	if (c->up != NULL) {
		us_close(c->up);
		c->up = NULL;
	}
	if (!c->cli_closed) {
		c->cli_closed = true;
		c->cli.data = c;
		uv_close((uv_handle_t *)&c->cli, on_handle_closed);
	}
}

static void
conn_close(struct cd_conn *c)
{
	if (c->st == C_CLOSING)
		return;
	c->st = C_CLOSING;
	if (c->dial != NULL) {
		cd_dial_cancel(c->dial);
		c->dial = NULL;
	}
	if (c->ask != NULL) {
		cd_ask_cancel(c->ask);
		c->ask = NULL;
	}
	c->timer.data = c;
	uv_close((uv_handle_t *)&c->timer, on_handle_closed);
	close_streams(c);
}

/* ---- the relay's callbacks (relay.c knows the connection only by
 * these) */

/* The relay took both sockets over (dups): close the client handle and
 * the ustream now. */
static void
relay_release(void *arg)
{
	close_streams(arg);
}

static void
relay_done(void *arg, const char *err)
{
	struct cd_conn *c = arg;

	if (err != NULL && c->err[0] == '\0')
		snprintf(c->err, sizeof(c->err), "%s", err);
	conn_close(c);
}

/* The tunnel judge cut the tunnel (observe: report mode, it would have):
 * log it with what was seen, count it, mark the connection denied. */
static void
tunnel_cut(void *arg, const char *why, const char *seen, bool observe)
{
	struct cd_conn *c = arg;
	char qs[4 * 256 + 8], qh[4 * 64 + 8];

	c->cd->m.tunnel_cuts += observe ? 0 : 1;
	cd_alog(c->cd, EG_LOG_WARN, "tunnel-cut", "src=%s mode=%s kind=%s "
	    "workload=%s host=%s port=%u reason=%s seen=%s%s", c->src,
	    cd_mode_str(c->mode), c->kind ? c->kind : "-", c->wl->name,
	    eg_log_quote(c->host, strlen(c->host), 64, qh, sizeof(qh)),
	    c->port, why, eg_log_quote(seen, strlen(seen), 256, qs,
	    sizeof(qs)), observe ? " note=\"would be cut in enforce mode\"" :
	    "");
	if (observe)
		return;
	c->dec = CD_DEC_DENY;
	snprintf(c->reason, sizeof(c->reason), "tunnel: %s", why);
}

static const struct cd_relay_cbs relay_cbs = {
	.done = relay_done,
	.release = relay_release,
	.tunnel_cut = tunnel_cut,
};

static void
on_refusal_sent(uv_shutdown_t *req, int status)
{
	conn_close(req->data);
}

static void
on_refuse_timeout(uv_timer_t *t)
{
	conn_close(t->data);
}

struct rwreq {
	uv_write_t req;
	char data[];
};

static void
on_plain_write(uv_write_t *req, int status)
{
	free(req);
}

static int
cli_write(struct cd_conn *c, const void *p, size_t n)
{
	struct rwreq *w;
	uv_buf_t b;
	int k;

	if (n == 0)
		return 0;
	/* The 200 and refusals fit an empty socket buffer: no copy, no
	 * request, no callback. */
	if (uv_stream_get_write_queue_size((uv_stream_t *)&c->cli) == 0) {
		b = uv_buf_init((char *)p, (unsigned)n);
		k = uv_try_write((uv_stream_t *)&c->cli, &b, 1);
		if (k == (int)n)
			return 0;
		if (k > 0) {
			p = (const char *)p + k;
			n -= (size_t)k;
		} else if (k != UV_EAGAIN && k != UV_ENOSYS)
			return -1;
	}
	if ((w = malloc(sizeof(*w) + n)) == NULL)
		return -1;
	memcpy(w->data, p, n);
	b = uv_buf_init(w->data, (unsigned)n);
	if (uv_write(&w->req, (uv_stream_t *)&c->cli, &b, 1,
	    on_plain_write) != 0) {
		free(w);
		return -1;
	}
	return 0;
}

/*
 * Refuse: explicit clients and plain HTTP get a response naming the
 * reason; a TLS client just sees the connection close.
 */
static void
refuse(struct cd_conn *c, int status, enum cd_dec dec, const char *reason,
    const char *err)
{
	char resp[1024], body[400];
	int n;

	if (c->st == C_CLOSING || c->st == C_REFUSE)
		return;
	cli_read_stop(c);
	uv_timer_stop(&c->timer);
	c->status = status;
	c->dec = dec;
	snprintf(c->reason, sizeof(c->reason), "%s", reason ? reason : "-");
	if (err != NULL && c->err[0] == '\0')
		snprintf(c->err, sizeof(c->err), "%s", err);
	/*
	 * An HTTP refusal only makes sense to a client that spoke HTTP: a TLS
	 * client, or a transparent one not yet heard from (busy, draining,
	 * not ready, silent until the deadline), gets a plain close instead
	 * of bytes it would take for a broken handshake.
	 */
	if ((c->kind != NULL && strcmp(c->kind, "tls") == 0) ||
	    (c->kind == NULL && c->mode == CD_MODE_TRANSPARENT)) {
		conn_close(c);
		return;
	}
	snprintf(body, sizeof(body), "egressjail: %d %s: %s\n", status,
	    http_status_text(status), reason ? reason : "-");
	n = http_build_refusal(resp, sizeof(resp), status, reason, body);
	c->st = C_REFUSE;
	c->sreq.data = c;
	/* The timer bounds a client that never reads its refusal. */
	uv_timer_start(&c->timer, on_refuse_timeout, 5000, 0);
	if (n < 0 || cli_write(c, resp, (size_t)n) != 0 ||
	    uv_shutdown(&c->sreq, (uv_stream_t *)&c->cli,
	    on_refusal_sent) != 0)
		conn_close(c);
}

/* ---- after the chain answered */

/* Through hops, the client's EOF waits for the answer (relay.c). */
static uint64_t
fin_hold_ms(const struct cd_conn *c)
{
	const struct eg_config *cfg = c->gen->cfg;

	if (c->v.direct || cfg->chain.exit == EG_EXIT_DIRECT ||
	    cfg->chain.nhops == 0)
		return 0;
	return cfg->chain.half_close_delay_ms;
}

static void
on_dial(const struct cd_dial_result *r, void *arg)
{
	struct cd_conn *c = arg;
	struct cd *cd = c->cd;
	static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
	char reason[CD_ERR_MAX + 16];
	struct cd_relay_opts o;

	c->dial = NULL;
	snprintf(c->path, sizeof(c->path), "%s", r->path);
	if (r->status != 0) {
		if (r->hop > 0 && (size_t)r->hop <= CD_MAX_HOPS)
			cd->hop[r->hop - 1].chain_errors++;
		snprintf(reason, sizeof(reason), "chain: %s", r->why);
		refuse(c, r->status, r->status == 403 ? CD_DEC_DENY :
		    CD_DEC_ERROR, reason, r->why);
		return;
	}
	c->up = r->us;
	c->st = C_RELAY;
	c->status = 200;
	if (c->mode == CD_MODE_EXPLICIT && strcmp(c->kind, "connect") == 0 &&
	    cli_write(c, ok, sizeof(ok) - 1) != 0) {
		conn_close(c);
		return;
	}
	if (r->nextra > 0 && cli_write(c, r->extra, r->nextra) != 0) {
		conn_close(c);
		return;
	}
	uv_timer_stop(&c->timer);
	if (c->npre > 0 && us_write(c->up, c->pre, c->npre) != 0) {
		conn_close(c);
		return;
	}
	free(c->pre);
	c->pre = NULL;
	c->npre = 0;
	memset(&o, 0, sizeof(o));
	o.idle_ms = c->gen->cfg->connectd.idle_timeout_ms;
	o.fin_hold_ms = fin_hold_ms(c);
	o.judge = c->judge;
	o.judge_ms = c->gen->cfg->connectd.head_timeout_ms;
	o.observe = eg_mode_reports(c->pmode);
	o.m = &cd->m;
	o.cli_reading = c->reading;
	c->relay = cd_relay_start(cd->loop, &c->cli, c->up, &o, &relay_cbs, c);
	if (c->relay == NULL) {
		snprintf(c->err, sizeof(c->err), "out of memory");
		conn_close(c);
		return;
	}
	c->judge = NULL;	/* the relay's now */
	c->reading = false;	/* and so are the client's reads */
	cd->m.tunnels++;
	/* What the client sent during the dial goes the relay's way, after
	 * pre. */
	if (c->n > c->fed)
		cd_relay_cli_bytes(c->relay, c->buf + c->fed, c->n - c->fed);
	/* Nothing of the head is needed any more: an idle tunnel keeps no
	 * buffer. */
	free(c->buf);
	c->buf = NULL;
	c->n = c->cap = c->fed = 0;
}

static int judge_start(struct cd_conn *c, const struct http_req *r,
    const char *rest, size_t nrest);

/*
 * The target is known: decide, then dial or refuse.  The bytes from
 * c->buf + rest on (SIZE_MAX: none, the TLS intake sent them all) came
 * behind the head and go through the tunnel check first; r is the plain
 * request the intake judged, NULL for CONNECT.
 */
static void conn_dial(struct cd_conn *c);

/* mode = ask: the decider answered (ask.c) */
static void
on_asked(void *arg, bool allow, const char *reason)
{
	struct cd_conn *c = arg;

	c->ask = NULL;
	if (!allow) {
		refuse(c, 403, CD_DEC_DENY, reason, NULL);
		return;
	}
	c->v.allow = true;
	c->v.status = 0;
	c->v.reason = reason;
	/* the access line says how (ask-once, ask-for, ask-granted, ...) */
	snprintf(c->reason, sizeof(c->reason), "%s", reason);
	conn_dial(c);
}

static void
conn_go(struct cd_conn *c, const struct http_req *r, size_t rest)
{
	const char *now = NULL;
	bool ask;

	cd_decide(c->pol, c->mode, c->host, c->port, &c->v);
	c->decided = true;
	/* the workload's mode: ask.c keys questions and grants by it */
	ask = cd_ask_wanted(c->pmode, &c->v);
	if (!c->v.allow && !ask) {
		refuse(c, c->v.status, CD_DEC_DENY, c->v.reason, NULL);
		return;
	}
	if (rest != SIZE_MAX && judge_start(c, r, c->buf + rest,
	    c->n - rest) != 0)
		return;
	if (ask) {
		/* Held: no head deadline, no reading; ask_timeout bounds it
		 * and max_connections still counts it. */
		cli_read_stop(c);
		uv_timer_stop(&c->timer);
		c->ask = cd_ask(c->gen->cfg, c->wl->name, c->host, c->port,
		    &c->cli, on_asked, c, &now);
		if (c->ask == NULL)
			on_asked(c, now == NULL, now == NULL ? "ask-granted" :
			    now);
		return;
	}
	conn_dial(c);
}

/* Allowed: dial the chain (or the target directly). */
static void
conn_dial(struct cd_conn *c)
{
	/* learn mode records what a rule could admit; the rest is reported */
	if (c->v.reported && !(c->pmode == EG_MODE_LEARN &&
	    eg_learn_note(c->wl->name, c->v.reason, c->host, c->port, 0))) {
		cd_alog(c->cd, EG_LOG_WARN, "report", "src=%s workload=%s "
		    "host=%s port=%u reason=%s note=\"would be denied in "
		    "enforce mode\"", c->src, c->wl->name, c->host, c->port,
		    c->v.reason);
	}
	c->dec = c->v.reported ? CD_DEC_REPORT : CD_DEC_ALLOW;
	c->st = C_DIAL;
	/*
	 * The client stays read through the dial, so that the relay can
	 * take the reads over without a stop and a start (two epoll_ctl
	 * calls each: see cd_relay_start).  What it sends meanwhile lands
	 * behind c->fed and stops the reading (on_head_read); a full
	 * buffer stops it now.
	 */
	c->fed = c->n;
	if (c->n >= c->cap)
		cli_read_stop(c);
	/* The head deadline stops here; each chain stage has its own. */
	uv_timer_stop(&c->timer);
	c->dial = cd_dial_start(c->cd, c->gen, c->pol, c->wl->name, c->host,
	    c->port, c->v.direct, 0, on_dial, NULL, c);
	if (c->dial == NULL)
		refuse(c, 502, CD_DEC_ERROR, "chain: out of memory", NULL);
}

static int
set_pre(struct cd_conn *c, const char *a, size_t na, const char *b, size_t nb)
{
	free(c->pre);
	if ((c->pre = malloc(na + nb + 1)) == NULL)
		return -1;
	memcpy(c->pre, a, na);
	memcpy(c->pre + na, b, nb);
	c->npre = na + nb;
	return 0;
}

/* ---- the tunnel check (judge.c): after the head, what the client
 * sends must keep to the host it named */

static void
pre_append(void *arg, const char *p, size_t n)
{
	struct cd_conn *c = arg;
	char *np;

	if (n == 0 || c->pre == NULL)
		return;
	/* The head buffer bounds what can come this way. */
	if ((np = realloc(c->pre, c->npre + n + 1)) == NULL) {
		free(c->pre);
		c->pre = NULL;
		return;
	}
	c->pre = np;
	memcpy(c->pre + c->npre, p, n);
	c->npre += n;
}

static void
pre_ignore(void *arg, const char *p, size_t n)
{
}

/*
 * Start judging the client's bytes behind the head (r: a plain request
 * the intake judged itself, NULL for CONNECT), and judge those that came
 * with it: the fit ones are appended to pre.  c->pre must be set.
 * Returns -1 when the tunnel is cut (refused here) or out of memory.
 */
static int
judge_start(struct cd_conn *c, const struct http_req *r, const char *rest,
    size_t nrest)
{
	struct eg_ip ip;
	bool observe = eg_mode_reports(c->pmode);
	int rc = JUDGE_OK;

	if (!c->gen->cfg->connectd.tunnel_check) {
		pre_append(c, rest, nrest);
		goto out;
	}
	if ((c->judge = malloc(sizeof(*c->judge))) == NULL ||
	    judge_init(c->judge, c->host, c->port,
	    eg_ip_parse(c->host, &ip, true), c->cap) != 0) {
		free(c->judge);
		c->judge = NULL;
		refuse(c, 503, CD_DEC_ERROR, "out-of-memory", NULL);
		return -1;
	}
	if (r != NULL)
		rc = judge_after_request(c->judge, r);
	if (rc == JUDGE_OK && observe) {
		pre_append(c, rest, nrest);
		rc = judge_feed(c->judge, rest, nrest, pre_ignore, NULL);
	} else if (rc == JUDGE_OK)
		rc = judge_feed(c->judge, rest, nrest, pre_append, c);
	if (rc == JUDGE_CUT) {
		char reason[64];

		tunnel_cut(c, c->judge->why, c->judge->detail, observe);
		snprintf(reason, sizeof(reason), "tunnel-%s", c->judge->why);
		judge_free(c->judge);
		free(c->judge);
		c->judge = NULL;
		if (!observe) {
			refuse(c, 403, CD_DEC_DENY, reason, NULL);
			return -1;
		}
	} else if (c->judge != NULL && judge_passing(c->judge)) {
		judge_free(c->judge);
		free(c->judge);
		c->judge = NULL;
	}
out:
	if (c->pre == NULL) {
		refuse(c, 503, CD_DEC_ERROR, "out-of-memory", NULL);
		return -1;
	}
	return 0;
}

/* Build the origin-form request for a plain HTTP request; what followed
 * its head goes through the tunnel check. */
static int
plain_request(struct cd_conn *c, struct http_req *r)
{
	size_t cap = r->head_len + 512;
	char *out;
	int n;

	if ((out = malloc(cap)) == NULL)
		return -1;
	n = http_rewrite_origin(r, out, cap);
	if (n < 0 || set_pre(c, out, (size_t)n, "", 0) != 0) {
		free(out);
		return -1;
	}
	free(out);
	return 0;
}

/*
 * One counting rule for a head connectd will not forward because of
 * what the client sent (malformed or ambiguous to http.c, the wrong
 * request form, too large to rewrite): deny, in both intakes.  The
 * policy cannot vouch for such a request and nothing failed on
 * connectd's side; a ClientHello without SNI and a malformed request
 * later in a tunnel (judge.c, "tunnel: bad-request") were always deny.
 * error stays for what failed on connectd's side or in time: memory,
 * the chain, the head deadline, busy, draining.  (The explicit intake
 * used to count these error, the transparent one deny.)
 */
static void
bad_head(struct cd_conn *c, int status, const char *reason, const char *err)
{
	refuse(c, status, CD_DEC_DENY, reason, err);
}

/*
 * The HTTP request head, for both intakes: explicit takes CONNECT and
 * absolute form, transparent origin form (the name from Host, the port
 * where the client was going).
 */
static void
http_head(struct cd_conn *c)
{
	struct http_req *r;
	bool transparent = c->mode == CD_MODE_TRANSPARENT;
	int rc;

	if ((r = malloc(sizeof(*r))) == NULL) {
		refuse(c, 503, CD_DEC_ERROR, "out-of-memory", NULL);
		return;
	}
	rc = http_parse_request(c->buf, c->n, c->cap, CD_MAX_FIELDS, r);
	if (rc == HTTP_NEED_MORE)
		goto out;
	if (rc == HTTP_ERROR) {
		bad_head(c, r->status, "bad-request", r->why);
		goto out;
	}
	if (transparent && r->form != HTTP_FORM_ORIGIN) {
		bad_head(c, 400, "bad-request",
		    "transparent request not in origin form");
		goto out;
	}
	snprintf(c->host, sizeof(c->host), "%s", r->host);
	/* The port is where the client was going, not what Host says. */
	if (transparent)
		r->port = c->oport;
	c->port = r->port;
	if (r->form == HTTP_FORM_AUTHORITY) {
		c->kind = "connect";
		/* A client may send its first bytes right behind the head. */
		if (set_pre(c, "", 0, "", 0) != 0)
			refuse(c, 503, CD_DEC_ERROR, "out-of-memory", NULL);
		else
			conn_go(c, NULL, r->head_len);
		goto out;
	}
	if (!transparent)
		c->kind = "http";
	if (!transparent && r->form == HTTP_FORM_ORIGIN)
		bad_head(c, 400, "not-a-proxy-request",
		    "origin-form request to the proxy");
	else if (plain_request(c, r) != 0)
		bad_head(c, 400, "bad-request", "request too large to rewrite");
	else
		conn_go(c, r, r->head_len);
out:
	free(r);
}

static void
transparent_head(struct cd_conn *c)
{
	struct sni_info si;
	enum sni_status st;

	st = sni_parse((const uint8_t *)c->buf, c->n, c->cap, &si);
	switch (st) {
	case SNI_NEED_MORE:
		if (c->n > 0 && (unsigned char)c->buf[0] == 22)
			c->kind = "tls";
		if (c->n >= c->cap)
			refuse(c, 403, CD_DEC_DENY, "hello-too-large", NULL);
		return;
	case SNI_FOUND:
		c->kind = "tls";
		c->ech = si.ech;
		snprintf(c->host, sizeof(c->host), "%s", si.host);
		c->port = c->oport;
		if (set_pre(c, c->buf, c->n, "", 0) != 0) {
			refuse(c, 503, CD_DEC_ERROR, "out-of-memory", NULL);
			return;
		}
		conn_go(c, NULL, SIZE_MAX);
		return;
	case SNI_NONE:
		c->kind = "tls";
		refuse(c, 403, CD_DEC_DENY, "no-sni", "ClientHello without SNI");
		return;
	case SNI_ERROR:
		c->kind = "tls";
		refuse(c, 403, CD_DEC_DENY, "bad-hello", si.why);
		return;
	case SNI_NOT_TLS:
		break;
	}
	c->kind = "http-t";
	http_head(c);
}

static void
on_head_timeout(uv_timer_t *t)
{
	struct cd_conn *c = t->data;

	if (c->mode == CD_MODE_TRANSPARENT && c->n > 0 &&
	    (unsigned char)c->buf[0] == 22)
		c->kind = "tls";
	refuse(c, 408, CD_DEC_ERROR, "head-timeout",
	    "no complete request head in time");
}

static void
head_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct cd_conn *c = h->data;

	*b = uv_buf_init(c->buf + c->n, (unsigned)(c->cap - c->n));
}

static void
on_head_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct cd_conn *c = s->data;

	if (c->st == C_DIAL && n != 0) {
		/* Bytes during the dial wait behind c->fed for the relay; an
		 * EOF is read again by the relay; an error ends it here. */
		if (n > 0)
			c->n += (size_t)n;
		cli_read_stop(c);
		if (n < 0 && n != UV_EOF) {
			snprintf(c->err, sizeof(c->err), "client: %s",
			    uv_strerror((int)n));
			conn_close(c);
		}
		return;
	}
	if (c->st != C_HEAD || n == 0)
		return;
	if (n < 0) {
		snprintf(c->err, sizeof(c->err), "client: %s before a "
		    "complete head", n == UV_EOF ? "EOF" : uv_strerror((int)n));
		c->dec = CD_DEC_ERROR;
		conn_close(c);
		return;
	}
	c->n += (size_t)n;
	if (c->mode == CD_MODE_EXPLICIT)
		http_head(c);
	else
		transparent_head(c);
	/* Not reached in practice (both parsers refuse a full buffer
	 * first); kept so a full buffer can never wait for more. */
	if (c->st == C_HEAD && c->n >= c->cap)
		bad_head(c, 431, "head-too-large", NULL);
}

/*
 * An explicit client sends its head right after connecting, and by the
 * time it is accepted the head is nearly always in the socket (strace of
 * the connection-rate bench: 2 of 1,128 found nothing): read it now
 * rather than on the loop's next turn, one epoll_wait round less per
 * connection.  Reading the fd behind libuv's back is what uv_try_write
 * does for writes; libuv's own read finds whatever follows.
 * (TCP_DEFER_ACCEPT would make it certain, but it keeps a silent client
 * in the kernel, unseen by max_connections and head_timeout.)
 */
static void
head_read_now(struct cd_conn *c)
{
	uv_os_fd_t fd;
	uv_buf_t b;
	ssize_t n;

	if (!c->reading || c->st != C_HEAD || c->n >= c->cap ||
	    uv_fileno((uv_handle_t *)&c->cli, &fd) != 0)
		return;
	b = uv_buf_init(c->buf + c->n, (unsigned)(c->cap - c->n));
	n = recv(fd, b.base, b.len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	on_head_read((uv_stream_t *)&c->cli, n < 0 ? -errno : n == 0 ?
	    UV_EOF : n, &b);
}

static void
fmt_addr(const struct sockaddr_storage *ss, char *buf, size_t len,
    uint16_t *portp)
{
	struct eg_ip ip;
	char ab[64];
	uint16_t port = 0;

	if (!eg_ip_from_sockaddr((const struct sockaddr *)ss, &ip, &port)) {
		snprintf(buf, len, "-");
		return;
	}
	eg_ip_str(&ip, ab, sizeof(ab));
	snprintf(buf, len, ip.family == AF_INET6 ? "[%s]:%u" : "%s:%u", ab,
	    port);
	if (portp)
		*portp = port;
}

static bool
same_sockaddr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	struct eg_ip ia, ib;
	uint16_t pa, pb;

	if (!eg_ip_from_sockaddr((const struct sockaddr *)a, &ia, &pa) ||
	    !eg_ip_from_sockaddr((const struct sockaddr *)b, &ib, &pb))
		return false;
	return pa == pb && eg_ip_equal(&ia, &ib);
}

/* Where the client meant to go: NAT first, then TPROXY's local address. */
static bool
original_dst(struct cd_conn *c, const struct cd_listener *l)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	uv_os_fd_t fd;
	int got = -1;

	if (uv_fileno((uv_handle_t *)&c->cli, &fd) != 0)
		return false;
	memset(&ss, 0, sizeof(ss));
	if (l->addr.ss_family == AF_INET6)
		got = getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &ss, &sl);
	if (got != 0) {
		sl = sizeof(ss);
		got = getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &ss, &sl);
	}
	if (got != 0) {
		sl = sizeof(ss);
		if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
			return false;
	}
	/* Our own listener address means nobody redirected this: a client
	 * talking to the transparent port directly has no destination. */
	if (same_sockaddr(&ss, &l->addr))
		return false;
	fmt_addr(&ss, c->odst, sizeof(c->odst), &c->oport);
	return c->oport != 0;
}

/* A connection is waiting on l: take it and start reading its head. */
void
cd_conn_accept(struct cd_listener *l)
{
	struct cd *cd = l->cd;
	struct cd_conn *c;
	struct sockaddr_storage ss;
	int sl = sizeof(ss);
	struct eg_ip src;
	bool has_src = false;
	const char *why;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return;
	c->cd = cd;
	c->gen = cd_gen_ref(cd->gen);
	c->wl = cd_wl_ref(l->wl);
	c->mode = l->mode;
	c->start = eg_now_ms();
	c->st = C_HEAD;
	c->dec = CD_DEC_ERROR;
	snprintf(c->v.rule, sizeof(c->v.rule), "-");
	uv_tcp_init(cd->loop, &c->cli);
	uv_timer_init(cd->loop, &c->timer);
	c->cli.data = c;
	c->timer.data = c;
	c->open_handles = 2;
	c->next = cd->conns;
	if (cd->conns != NULL)
		cd->conns->prev = c;
	cd->conns = c;
	cd->m.active++;
	if (uv_accept((uv_stream_t *)&l->h, (uv_stream_t *)&c->cli) != 0) {
		conn_close(c);
		return;
	}
	if (!l->nodelay)
		uv_tcp_nodelay(&c->cli, 1);
	if (uv_tcp_getpeername(&c->cli, (struct sockaddr *)&ss, &sl) == 0) {
		fmt_addr(&ss, c->src, sizeof(c->src), NULL);
		has_src = eg_ip_from_sockaddr((struct sockaddr *)&ss, &src,
		    NULL);
	} else
		snprintf(c->src, sizeof(c->src), "-");
	c->cap = c->gen->cfg->connectd.max_head_bytes;
	if (c->cap < 1024)
		c->cap = 1024;
	if (c->cap > 1024 * 1024)
		c->cap = 1024 * 1024;
	if ((c->buf = malloc(c->cap)) == NULL) {
		conn_close(c);
		return;
	}
	/* the listener names the workload; its address may not say another */
	c->pol = cd_wl_policy(c->wl, c->gen, has_src ? &src : NULL, &why,
	    c->err, sizeof(c->err));
	if (c->pol == NULL) {
		refuse(c, 403, CD_DEC_DENY, why, NULL);
		return;
	}
	c->pmode = eg_policy_mode(c->pol);
	if (c->mode == CD_MODE_TRANSPARENT && !original_dst(c, l)) {
		snprintf(c->err, sizeof(c->err), "no original destination");
		c->dec = CD_DEC_DENY;
		conn_close(c);
		return;
	}
	if (cd->draining) {
		refuse(c, 503, CD_DEC_ERROR, "draining", NULL);
		return;
	}
	if (cd->m.active > c->gen->cfg->connectd.max_connections) {
		cd->m.refused_busy++;
		refuse(c, 503, CD_DEC_ERROR, "too-many-connections", NULL);
		return;
	}
	if (c->gen->cfg->chain.block_start_until_hops_healthy &&
	    !cd->chain_ever_ok) {
		refuse(c, 503, CD_DEC_ERROR, "not-ready",
		    "no full-chain probe has passed yet");
		return;
	}
	uv_timer_start(&c->timer, on_head_timeout,
	    c->gen->cfg->connectd.head_timeout_ms ?
	    c->gen->cfg->connectd.head_timeout_ms : 5000, 0);
	if (uv_read_start((uv_stream_t *)&c->cli, head_alloc,
	    on_head_read) == 0)
		c->reading = true;
	if (l->read_now)
		head_read_now(c);
}

void
cd_conns_close_all(struct cd *cd)
{
	struct cd_conn *c, *next;

	for (c = cd->conns; c != NULL; c = next) {
		next = c->next;
		if (c->err[0] == '\0')
			snprintf(c->err, sizeof(c->err), "shutting down");
		conn_close(c);
	}
}

size_t
cd_conns_count(struct cd *cd)
{
	struct cd_conn *c;
	size_t n = 0;

	for (c = cd->conns; c != NULL; c = c->next)
		n++;
	return n;
}
