/*
 * chain.c - build a tunnel through the hops of [chain], one stage at a
 * time.  (Names are resolved by resolve.c.)
 *
 *   stage 1        TCP to hop 1 (literal, or resolved through dohd), TLS
 *                  when it is https://
 *   stage k        CONNECT hop k through hops 1..k-1, then TLS inside the
 *                  tunnel when hop k is https://
 *   stage n+1      CONNECT target:port at the last hop, by name
 *
 * Every stage has its own deadline: chain.connect_timeout_ms for a
 * connection, chain.probe_timeout_ms for a probe (a dial with a stage
 * callback), so a probe can give up on a slow hop sooner.  Any
 * failure ends the dial and names the stage; nothing is ever retried some
 * other way.  With exit = direct (or for a direct endpoint) the target is
 * resolved through dohd, every address is checked with
 * eg_policy_check_addr, and the first allowed one is dialled.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "cd.h"
#include "http.h"
#include "ipc.h"
#include "log.h"

#define RESP_MAX 8192

struct cd_dial {
	struct cd *cd;
	struct cd_gen *gen;
	const struct eg_policy *pol;	/* the workload's, of gen */
	char wl[EG_WL_NAME_MAX + 1];	/* its name: the target's lookups */
	char host[EG_NAME_MAX + 3];
	uint16_t port;
	bool direct;		/* dial host:port itself */
	int upto;		/* probes: stop after this hop */
	int nhops;
	int stage;		/* 1-based, see above */
	cd_dial_cb cb;
	cd_stage_cb stage_cb;
	void *arg;
	struct ustream *us;
	uv_timer_t timer;
	bool timer_live;
	bool cancelled, finished, resolving;
	bool checked;		/* the resolve check passed */
	uint64_t stage_start;
	size_t nresp;
	struct cd_dial_result res;
	/* Last and never zeroed: only resp[0..nresp) is ever read. */
	char resp[RESP_MAX];
};

static void dial_finish(struct cd_dial *d);

static const struct eg_hop *
hop(struct cd_dial *d, int k)
{
	return &d->gen->cfg->chain.hops[k - 1];
}

static void
on_timer_close(uv_handle_t *h)
{
	struct cd_dial *d = h->data;

	cd_gen_unref(d->gen);
	free(d);
}

static void
dial_free(struct cd_dial *d)
{
	if (d->us != NULL)
		us_close(d->us);
	d->us = NULL;
	free(d->res.extra);
	uv_close((uv_handle_t *)&d->timer, on_timer_close);
}

/* Fail the dial at the current stage with status and reason. */
static void
dial_fail(struct cd_dial *d, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
dial_fail(struct cd_dial *d, int status, const char *fmt, ...)
{
	va_list ap;
	char why[CD_ERR_MAX];

	if (d->finished)
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	d->res.status = status;
	d->res.hop = d->stage <= d->nhops ? d->stage : 0;
	snprintf(d->res.why, sizeof(d->res.why), "%s", why);
	if (d->stage_cb != NULL)
		d->stage_cb(d->stage, 0, eg_now_ms() - d->stage_start, why,
		    d->arg);
	dial_finish(d);
}

static void
dial_finish(struct cd_dial *d)
{
	static const struct ustream_cbs none;

	uv_timer_stop(&d->timer);
	d->finished = true;
	if (d->res.status == 0) {
		/* The tunnel outlives the dial: nothing may call back into
		 * it until its new owner sets callbacks. */
		us_set_cbs(d->us, &none, NULL);
		d->res.us = d->us;
		d->us = NULL;
	}
	if (!d->cancelled)
		d->cb(&d->res, d->arg);
	dial_free(d);
}

static const char *
stage_name(struct cd_dial *d, char *buf, size_t len)
{
	if (d->stage <= d->nhops)
		snprintf(buf, len, "hop %d (%s)", d->stage,
		    hop(d, d->stage)->url_redacted);
	else if (d->nhops > 0)
		snprintf(buf, len, "hop %d (%s) to target", d->nhops,
		    hop(d, d->nhops)->url_redacted);
	else
		snprintf(buf, len, "target");
	return buf;
}

static void
on_stage_timeout(uv_timer_t *t)
{
	struct cd_dial *d = t->data;
	char sn[300];

	/*
	 * Past the first hop, a stage that heard nothing at all is ambiguous:
	 * the hop before it may be the silent one (stopped, overloaded) as
	 * well as this one unreachable from it.  Say both, so the reason
	 * does not point an operator only at what may be the healthy hop.
	 */
	if (d->stage >= 2 && d->stage <= d->nhops && d->nresp == 0) {
		char vn[300];
		int s = d->stage;

		d->stage = s - 1;
		stage_name(d, vn, sizeof(vn));
		d->stage = s;
		dial_fail(d, 504, "%s: timed out: no answer from %s to its "
		    "CONNECT", stage_name(d, sn, sizeof(sn)), vn);
		return;
	}
	dial_fail(d, 504, "%s: timed out", stage_name(d, sn, sizeof(sn)));
}

/* A probe (the only dialer that follows stages) has its own deadline. */
static uint64_t
stage_ms(const struct cd_dial *d)
{
	const struct eg_config *cfg = d->gen->cfg;

	if (d->stage_cb != NULL && cfg->chain.probe_timeout_ms > 0)
		return cfg->chain.probe_timeout_ms;
	return cfg->chain.connect_timeout_ms;
}

static void
stage_begin(struct cd_dial *d, int stage)
{
	d->stage = stage;
	d->stage_start = eg_now_ms();
	d->nresp = 0;
	uv_timer_stop(&d->timer);
	uv_timer_start(&d->timer, on_stage_timeout, stage_ms(d), 0);
}

static void stage_done(struct cd_dial *d);
static void send_connect(struct cd_dial *d);

static void
on_tls(struct ustream *us, int status, const char *why, void *arg)
{
	struct cd_dial *d = arg;
	char sn[300];

	if (status != 0) {
		dial_fail(d, 502, "%s: %s", stage_name(d, sn, sizeof(sn)), why);
		return;
	}
	stage_done(d);
}

/* Hop k (1-based) is reached: TLS when it wants it, then the next stage. */
static void
hop_reached(struct cd_dial *d)
{
	const struct eg_hop *h = hop(d, d->stage);
	char sn[300];

	if (h->tls) {
		if (us_start_tls(d->us, d->gen->ssl, h->host, on_tls, d) != 0 &&
		    !d->finished)
			dial_fail(d, 502, "%s: TLS set-up failed",
			    stage_name(d, sn, sizeof(sn)));
		return;
	}
	stage_done(d);
}

static void
stage_done(struct cd_dial *d)
{
	if (d->stage_cb != NULL)
		d->stage_cb(d->stage, 1, eg_now_ms() - d->stage_start, NULL,
		    d->arg);
	if (d->stage > d->nhops || (d->upto > 0 && d->stage >= d->upto)) {
		d->res.status = 0;
		dial_finish(d);
		return;
	}
	stage_begin(d, d->stage + 1);
	send_connect(d);
}

static void
on_resp_read(struct ustream *us, const char *p, size_t n, void *arg)
{
	struct cd_dial *d = arg;
	struct http_resp r;
	char sn[300];
	int rc;

	if (d->finished)
		return;
	if (n > sizeof(d->resp) - d->nresp) {
		/* More than a head fits; parse what we have, the rest can
		 * only be tunnel bytes after a complete head. */
		size_t take = sizeof(d->resp) - d->nresp;

		memcpy(d->resp + d->nresp, p, take);
		d->nresp += take;
		rc = http_parse_response(d->resp, d->nresp, RESP_MAX, &r);
		if (rc != HTTP_OK) {
			dial_fail(d, 502, "%s: oversized CONNECT answer",
			    stage_name(d, sn, sizeof(sn)));
			return;
		}
		p += take;
		n -= take;
	} else {
		memcpy(d->resp + d->nresp, p, n);
		d->nresp += n;
		p += n;
		n = 0;
		rc = http_parse_response(d->resp, d->nresp, RESP_MAX, &r);
	}
	if (rc == HTTP_NEED_MORE)
		return;
	if (rc == HTTP_ERROR) {
		dial_fail(d, 502, "%s: bad CONNECT answer: %s",
		    stage_name(d, sn, sizeof(sn)), r.why);
		return;
	}
	if (r.status < 200 || r.status > 299) {
		/* The hop before the one we asked for refused. */
		if (d->stage > d->nhops)
			d->cd->m.target_errors++;
		dial_fail(d, r.status == 504 ? 504 : 502,
		    "%s: CONNECT answered %d", stage_name(d, sn, sizeof(sn)),
		    r.status);
		return;
	}
	/* Bytes after the head belong to the next layer. */
	if (d->nresp > r.head_len || n > 0) {
		size_t rest = d->nresp - r.head_len;

		if (d->stage <= d->nhops && hop(d, d->stage)->tls) {
			/* A hop that speaks before we start TLS is broken. */
			dial_fail(d, 502, "%s: data before TLS",
			    stage_name(d, sn, sizeof(sn)));
			return;
		}
		free(d->res.extra);
		if ((d->res.extra = malloc(rest + n + 1)) == NULL) {
			dial_fail(d, 502, "out of memory");
			return;
		}
		memcpy(d->res.extra, d->resp + r.head_len, rest);
		memcpy(d->res.extra + rest, p, n);
		d->res.nextra = rest + n;
		if (d->stage <= d->nhops) {
			dial_fail(d, 502, "%s: data after CONNECT answer",
			    stage_name(d, sn, sizeof(sn)));
			return;
		}
	}
	if (d->stage <= d->nhops)
		hop_reached(d);
	else
		stage_done(d);
}

static void
on_us_eof(struct ustream *us, void *arg)
{
	struct cd_dial *d = arg;
	char sn[300];

	dial_fail(d, 502, "%s: connection closed", stage_name(d, sn, sizeof(sn)));
}

static void
on_us_error(struct ustream *us, const char *why, void *arg)
{
	struct cd_dial *d = arg;
	char sn[300];

	dial_fail(d, 502, "%s: %s", stage_name(d, sn, sizeof(sn)), why);
}

static const struct ustream_cbs dial_cbs = {
	.on_read = on_resp_read,
	.on_eof = on_us_eof,
	.on_error = on_us_error,
};

/* CONNECT to the next hop (stage <= nhops) or the target, carrying the
 * credentials of the hop that receives it. */
static void
send_connect(struct cd_dial *d)
{
	const struct eg_hop *via = hop(d, d->stage - 1);
	char req[2048], sn[300];
	const char *host;
	uint16_t port;
	int n;

	if (d->stage <= d->nhops) {
		host = hop(d, d->stage)->host;
		port = hop(d, d->stage)->port;
	} else {
		host = d->host;
		port = d->port;
	}
	n = http_build_connect(req, sizeof(req), host, port, via->user,
	    via->password);
	if (n < 0) {
		dial_fail(d, 502, "%s: cannot build CONNECT",
		    stage_name(d, sn, sizeof(sn)));
		return;
	}
	us_write(d->us, req, (size_t)n);
	explicit_bzero(req, sizeof(req));
}

static void
on_tcp(struct ustream *us, int status, const char *why, void *arg)
{
	struct cd_dial *d = arg;
	char sn[300];

	if (status != 0) {
		dial_fail(d, 502, "%s: connect: %s",
		    stage_name(d, sn, sizeof(sn)), why);
		return;
	}
	us_read_start(d->us);
	if (d->nhops == 0) {
		d->res.status = 0;
		stage_done(d);
		return;
	}
	hop_reached(d);
}

static void
dial_addr(struct cd_dial *d, const struct eg_ip *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	char sn[300];
	int rc;

	eg_ip_to_sockaddr(ip, port, &ss);
	if ((d->us = us_new(d->cd->loop)) == NULL) {
		dial_fail(d, 502, "out of memory");
		return;
	}
	us_set_cbs(d->us, &dial_cbs, d);
	if ((rc = us_connect(d->us, (struct sockaddr *)&ss, on_tcp, d)) != 0)
		dial_fail(d, 502, "%s: connect: %s",
		    stage_name(d, sn, sizeof(sn)), uv_strerror(rc));
}

/*
 * A hop named by name: netjaild lets only connectd's user reach hop
 * addresses, and learns the addresses of named hops from us (EG_SET_HOPS).
 * The address is dialled only once netjaild acknowledged it; without the
 * acknowledgement the kernel would drop the SYN anyway, so a failure here
 * is reported as the hop's, never worked around.
 */
#define PUSHED_MAX	64
#define PUSH_TTL_MS	300000

static struct pushed {
	struct eg_ip ip;
	uint16_t port;
	uint64_t expires;
} pushed[PUSHED_MAX];

struct push {
	struct cd_dial *d;
	struct eg_ip ip;
	uint16_t port;
};

static bool
is_pushed(const struct eg_ip *ip, uint16_t port)
{
	uint64_t now = eg_now_ms();
	size_t i;

	for (i = 0; i < PUSHED_MAX; i++)
		if (pushed[i].expires > now + PUSH_TTL_MS / 10 &&
		    pushed[i].port == port && eg_ip_equal(&pushed[i].ip, ip))
			return true;
	return false;
}

static void
mark_pushed(const struct eg_ip *ip, uint16_t port)
{
	struct pushed *e = &pushed[0];
	size_t i;

	for (i = 0; i < PUSHED_MAX; i++)
		if (pushed[i].expires < e->expires)
			e = &pushed[i];
	e->ip = *ip;
	e->port = port;
	e->expires = eg_now_ms() + PUSH_TTL_MS;
}

/*
 * An answer the dial waited for (dohd, netjaild) came back: false when
 * the dial is over (cancelled meanwhile: freed here, as cd_dial_cancel
 * left it to the answer).
 */
static bool
dial_resume(struct cd_dial *d)
{
	d->resolving = false;
	if (d->cancelled) {
		dial_free(d);
		return false;
	}
	return !d->finished;
}

static void
on_push_ack(int status, const struct eg_ipc_msg *msg, void *arg)
{
	struct push *pu = arg;
	struct cd_dial *d = pu->d;
	const struct eg_msg_result *res = NULL;
	const char *text;
	char sn[300];

	if (!dial_resume(d))
		goto out;
	if (status == 0 && msg->hdr.type == EG_MSG_SET_ACK)
		res = eg_ipc_result(msg, &text);
	if (res == NULL || res->code != 0) {
		dial_fail(d, 502, "%s: netjaild did not take the hop address"
		    " (%s)", stage_name(d, sn, sizeof(sn)), status != 0 ?
		    strerror(-status) : res == NULL ? "bad answer" :
		    strerror(res->code));
		goto out;
	}
	mark_pushed(&pu->ip, pu->port);
	dial_addr(d, &pu->ip, pu->port);
out:
	free(pu);
}

static void
hop_push(struct cd_dial *d, const struct eg_ip *ip, uint16_t port)
{
	struct {
		struct eg_msg_set_update h;
		struct eg_set_elem e;
	} m;
	struct push *pu;
	char sn[300];

	/* on its own (no [jail]) there is no netjaild to gate hops */
	if (is_pushed(ip, port) || !d->gen->cfg->has_jail) {
		dial_addr(d, ip, port);
		return;
	}
	memset(&m, 0, sizeof(m));
	m.h.set = EG_SET_HOPS;
	m.h.op = EG_SET_ADD;
	m.h.count = 1;
	m.e.family = ip->family;
	m.e.port = port;
	m.e.timeout_ms = PUSH_TTL_MS;
	memcpy(m.e.addr, ip->addr, sizeof(m.e.addr));
	if (d->cd->netjaild == NULL || (pu = calloc(1, sizeof(*pu))) == NULL) {
		dial_fail(d, 502, "%s: netjaild not available",
		    stage_name(d, sn, sizeof(sn)));
		return;
	}
	pu->d = d;
	pu->ip = *ip;
	pu->port = port;
	d->resolving = true;
	if (eg_ctl_request(d->cd->netjaild, EG_MSG_SET_UPDATE, &m, sizeof(m),
	    d->gen->cfg->chain.connect_timeout_ms, on_push_ack, pu) != 0) {
		d->resolving = false;
		free(pu);
		dial_fail(d, 502, "%s: netjaild not available",
		    stage_name(d, sn, sizeof(sn)));
	}
}

/* A workload can ask for an allowed name that resolves inside at line
 * rate: the access log has every refusal, this line a sample. */
static struct eg_ratelimit resolve_denied_rl = EG_RATELIMIT_INIT(10000, 20);

static void
on_resolved(int status, const struct eg_ip *addrs, size_t n, const char *why,
    void *arg)
{
	struct cd_dial *d = arg;
	struct eg_decision dec;
	char sn[300], ab[64];
	size_t i;

	if (!dial_resume(d))
		return;
	if (status != 0 || n == 0) {
		dial_fail(d, 502, "%s: resolve: %s",
		    stage_name(d, sn, sizeof(sn)), why ? why : "no address");
		return;
	}
	if (d->nhops == 0) {
		/* We are the last hop: every address must pass the address
		 * policy (no rebinding into the deny list). */
		for (i = 0; i < n; i++) {
			dec = eg_policy_check_addr(d->pol, &addrs[i]);
			if (dec.verdict == EG_ALLOW && !dec.reported)
				break;
			/* A [jail] direct name is the operator's own choice
			 * of an internal service: only the host's own
			 * addresses stay out of reach. */
			if (d->direct && dec.reason != EG_R_HOST_ADDR)
				break;
			eg_log_rl(&resolve_denied_rl, EG_LOG_INFO,
			    "resolve-denied", "host=%s addr=%s reason=%s", d->host,
			    eg_ip_str(&addrs[i], ab, sizeof(ab)),
			    eg_reason_str(dec.reason));
		}
		if (i == n) {
			dial_fail(d, 403, "target: every address denied");
			return;
		}
		dial_addr(d, &addrs[i], d->port);
		return;
	}
	hop_push(d, &addrs[0], hop(d, 1)->port);
}

/*
 * [chain] resolve_check: the last hop resolves the target, and an allowed
 * name may resolve to an internal or metadata address there.  Ask dohd
 * first (both families) and refuse when any answer is denied by the
 * address policy (permit_cidr respected), or when there is no answer to
 * vouch for.  Probes are not checked (the canary is infrastructure), nor
 * direct endpoints and literals (no name to resolve).
 */
static bool
need_check(const struct cd_dial *d)
{
	struct eg_ip ip;

	return d->gen->cfg->chain.resolve_check && !d->checked &&
	    !d->direct && d->stage_cb == NULL && d->upto == 0 &&
	    !eg_ip_parse(d->host, &ip, true);
}

static void dial_begin(struct cd_dial *d);

static void
on_checked(int status, const struct eg_ip *addrs, size_t n, const char *why,
    void *arg)
{
	struct cd_dial *d = arg;
	struct eg_decision dec;
	char ab[64];
	size_t i;

	if (!dial_resume(d))
		return;
	/* A refusal here is about the target, not hop 1. */
	d->stage = d->nhops + 1;
	if (status != 0 || n == 0) {
		dial_fail(d, 502, "target: resolve check: %s",
		    why ? why : "no address");
		return;
	}
	for (i = 0; i < n; i++) {
		dec = eg_policy_check_addr(d->pol, &addrs[i]);
		if (dec.verdict == EG_ALLOW)
			continue;
		eg_ip_str(&addrs[i], ab, sizeof(ab));
		if (dec.reported) {
			eg_log_rl(&resolve_denied_rl, EG_LOG_WARN, "report",
			    "host=%s addr=%s reason=%s note=\"resolve check: "
			    "would be refused in enforce mode\"", d->host, ab,
			    eg_reason_str(dec.reason));
			continue;
		}
		dial_fail(d, 403, "target: resolve check: %s resolves to %s "
		    "(%s)", d->host, ab, eg_reason_str(dec.reason));
		return;
	}
	d->checked = true;
	dial_begin(d);
}

static void
dial_begin(struct cd_dial *d)
{
	const struct eg_hop *h;
	struct eg_ip ip;
	struct eg_decision dec;

	stage_begin(d, 1);
	if (d->nhops == 0) {
		snprintf(d->res.path, sizeof(d->res.path), "direct");
		if (eg_ip_parse(d->host, &ip, true)) {
			/* Only a direct endpoint reaches here with a literal;
			 * the address policy still has the last word. */
			dec = eg_policy_check_addr(d->pol, &ip);
			if (!d->direct && (dec.verdict != EG_ALLOW ||
			    dec.reported)) {
				dial_fail(d, 403, "target: address denied");
				return;
			}
			dial_addr(d, &ip, d->port);
			return;
		}
		d->resolving = true;
		cd_resolve(d->cd, d->host, d->wl, stage_ms(d),
		    on_resolved, d);
		return;
	}
	if (need_check(d)) {
		d->resolving = true;
		cd_resolve_all(d->cd, d->host, d->wl, stage_ms(d), on_checked,
		    d);
		return;
	}
	h = hop(d, 1);
	if (h->host_is_ip) {
		dial_addr(d, &h->ip, h->port);
		return;
	}
	/* a hop is infrastructure: [policy]'s lookup */
	d->resolving = true;
	cd_resolve(d->cd, h->host, NULL, stage_ms(d),
	    on_resolved, d);
}

static void
on_begin(uv_timer_t *t)
{
	dial_begin(t->data);
}

struct cd_dial *
cd_dial_start(struct cd *cd, struct cd_gen *gen, const struct eg_policy *pol,
    const char *wl, const char *host, uint16_t port, bool direct, int upto,
    cd_dial_cb cb, cd_stage_cb stage, void *arg)
{
	struct cd_dial *d;
	size_t off = 0;
	int i;

	/* Every tunnel has one: zeroing the 8 KiB answer buffer was a fifth
	 * of connectd's instructions per short tunnel (callgrind). */
	if ((d = malloc(sizeof(*d))) == NULL)
		return NULL;
	memset(d, 0, offsetof(struct cd_dial, resp));
	d->cd = cd;
	d->gen = cd_gen_ref(gen);
	d->pol = pol;
	snprintf(d->wl, sizeof(d->wl), "%s", wl ? wl : EG_WL_DEFAULT);
	snprintf(d->host, sizeof(d->host), "%s", host);
	/* A bracketed v6 literal dials without its brackets. */
	if (d->host[0] == '[') {
		size_t l = strlen(d->host);

		memmove(d->host, d->host + 1, l);
		if (l >= 2 && d->host[l - 2] == ']')
			d->host[l - 2] = '\0';
	}
	d->port = port;
	d->direct = direct;
	d->upto = upto;
	d->nhops = (direct || gen->cfg->chain.exit == EG_EXIT_DIRECT) ? 0 :
	    (int)gen->cfg->chain.nhops;
	if (d->nhops > CD_MAX_HOPS)
		d->nhops = CD_MAX_HOPS;
	d->cb = cb;
	d->stage_cb = stage;
	d->arg = arg;
	for (i = 1; i <= d->nhops && off < sizeof(d->res.path); i++)
		off += (size_t)snprintf(d->res.path + off,
		    sizeof(d->res.path) - off, "%s%s", i > 1 ? "," : "",
		    hop(d, i)->url_redacted);
	uv_timer_init(cd->loop, &d->timer);
	d->timer.data = d;
	/* Begin on the next loop turn, so the callback never runs before
	 * the caller has the handle (a cached name answers at once). */
	uv_timer_start(&d->timer, on_begin, 0, 0);
	return d;
}

/* The callback will not run; a pending resolution frees the dial when it
 * comes back, anything else is torn down now. */
void
cd_dial_cancel(struct cd_dial *d)
{
	if (d == NULL || d->cancelled)
		return;
	d->cancelled = true;
	if (d->finished)
		return;
	uv_timer_stop(&d->timer);
	if (d->resolving) {
		d->finished = true;
		return;
	}
	d->finished = true;
	dial_free(d);
}
