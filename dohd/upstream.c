/*
 * upstream.c - choosing among DoH upstreams.
 *
 * Score: the latency EWMA times (1 + consecutive failures); an upstream
 * with DUP_DOWN_AFTER failures in a row is "down" for a backoff that
 * doubles up to 30 s and is tried only after every upstream that is up.
 * A query goes to the best upstream; when it has not answered after the
 * hedge delay (twice the best EWMA, at least 50 ms, at most half the query
 * timeout) the next best gets the same query, and the first usable answer
 * wins.  A failure or an unusable answer moves on to the next upstream
 * at once.  The query timeout bounds the whole thing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#include "doh.h"
#include "upstream.h"

struct dup {
	struct dupstream *s;
	size_t idx;
	const struct eg_upstream *cfg;
	struct doh_target t;
	size_t next_addr;
	struct doh_conn *conn;
	double ewma_ms;
	unsigned fails;
	uint64_t down_until;
	uint64_t queries, answers, errors, bad, conns, conn_fail;
	char last_error[96];
};

struct dupstream {
	uv_loop_t *loop;
	const struct eg_config *cfg;
	SSL_CTX *ctx;
	struct dup u[DUP_MAX];
	size_t n;
	struct dq_up *live;	/* queries in flight, for dupstream_free */
};

struct dq_up {
	struct dq_up *next, *prev;
	struct dupstream *s;
	uint8_t *wire;
	size_t len;
	dohd_up_cb cb;
	void *arg;
	uv_timer_t timeout, hedge;
	int handles;
	unsigned outstanding;
	uint32_t tried;		/* bit per upstream */
	bool done;
};

struct dup_try {
	struct dq_up *q;
	struct dup *u;
	uint64_t start;
};

static void try_next(struct dq_up *q);

/* Queries keep dialling a dead upstream: a sample of the failures. */
static struct eg_ratelimit conn_fail_rl = EG_RATELIMIT_INIT(10000, 10);

static void
on_conn_event(void *arg, struct doh_conn *c, enum doh_event ev,
    const char *why)
{
	struct dup *u = arg;

	if (ev == DOH_EV_READY)
		return;
	if (ev == DOH_EV_FAILED) {
		u->conn_fail++;
		snprintf(u->last_error, sizeof(u->last_error), "%s", why);
		eg_log_rl(&conn_fail_rl, EG_LOG_WARN, "upstream",
		    "url=%s addr_index=%zu event=conn_failed error=\"%s\"",
		    u->cfg->url, u->next_addr, why);
	}
	if (u->conn == c)
		u->conn = NULL;	/* dead or draining: the next query dials */
}

static struct doh_conn *
get_conn(struct dup *u)
{
	if (u->conn != NULL && doh_conn_usable(u->conn))
		return u->conn;
	if (u->conn != NULL)
		doh_conn_drain(u->conn);
	u->t.addr = u->cfg->bootstrap[u->next_addr % u->cfg->nbootstrap];
	u->next_addr++;
	u->conn = doh_conn_new(u->s->loop, &u->t, on_conn_event, u);
	u->conns++;
	return u->conn;
}

struct dupstream *
dupstream_new(uv_loop_t *loop, const struct eg_config *cfg, char *err,
    size_t errlen)
{
	struct dupstream *s;
	uint8_t pin[32];
	bool has_pin = false;

	if (cfg->dohd.nupstreams == 0 || cfg->dohd.nupstreams > DUP_MAX) {
		snprintf(err, errlen, "dohd: between 1 and %d upstreams",
		    DUP_MAX);
		return NULL;
	}
	if (cfg->dohd.spki_pin != NULL) {
		if (!doh_pin_parse(cfg->dohd.spki_pin, pin)) {
			snprintf(err, errlen, "spki_pin: not a base64 SHA-256");
			return NULL;
		}
		has_pin = true;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->loop = loop;
	s->cfg = cfg;
	s->ctx = doh_ssl_ctx(cfg->dohd.ca_file != NULL ? cfg->dohd.ca_file :
	    EG_DEFAULT_CA_FILE, err, errlen);
	if (s->ctx == NULL) {
		free(s);
		return NULL;
	}
	s->n = cfg->dohd.nupstreams;
	for (size_t i = 0; i < s->n; i++) {
		struct dup *u = &s->u[i];
		const struct eg_upstream *c = &cfg->dohd.upstreams[i];

		u->s = s;
		u->idx = i;
		u->cfg = c;
		u->ewma_ms = DUP_EWMA_INIT_MS;
		if (c->nbootstrap == 0 || strlen(c->host) >= sizeof(u->t.host) ||
		    strlen(c->path != NULL ? c->path : "/dns-query") >=
		    sizeof(u->t.path)) {
			snprintf(err, errlen, "upstream %s: bad", c->url);
			dupstream_free(s);
			return NULL;
		}
		snprintf(u->t.host, sizeof(u->t.host), "%s", c->host);
		snprintf(u->t.path, sizeof(u->t.path), "%s",
		    c->path != NULL ? c->path : "/dns-query");
		u->t.port = c->port != 0 ? c->port : 443;
		u->t.ctx = s->ctx;
		u->t.has_pin = has_pin;
		memcpy(u->t.pin, pin, sizeof(pin));
		u->t.connect_timeout_ms = cfg->dohd.query_timeout_ms;
		u->t.ping_interval_ms = cfg->dohd.ping_interval_ms;
		u->t.max_age_ms = cfg->dohd.max_connection_age_ms;
	}
	return s;
}

static void
q_handle_closed(uv_handle_t *h)
{
	struct dq_up *q = h->data;

	if (--q->handles == 0) {
		free(q->wire);
		free(q);
	}
}

/* Release q once it is done and no attempt is outstanding. */
static void
q_maybe_free(struct dq_up *q)
{
	if (!q->done || q->outstanding > 0 || q->handles < 2 ||
	    uv_is_closing((uv_handle_t *)&q->timeout))
		return;
	if (q->prev != NULL)
		q->prev->next = q->next;
	else
		q->s->live = q->next;
	if (q->next != NULL)
		q->next->prev = q->prev;
	uv_close((uv_handle_t *)&q->timeout, q_handle_closed);
	uv_close((uv_handle_t *)&q->hedge, q_handle_closed);
}

static void
q_finish(struct dq_up *q, int err)
{
	if (q->done)
		return;
	q->done = true;
	uv_timer_stop(&q->timeout);
	uv_timer_stop(&q->hedge);
	q->cb(q->arg, err, NULL, 0);
}

void
dupstream_sample(struct dupstream *s, size_t i, int err, double ms,
    uint64_t now)
{
	struct dup *u = &s->u[i];

	if (err == 0) {
		u->answers++;
		u->fails = 0;
		u->down_until = 0;
		u->ewma_ms = u->ewma_ms * (1 - DUP_EWMA_ALPHA) +
		    ms * DUP_EWMA_ALPHA;
		return;
	}
	u->errors++;
	u->fails++;
	/* A failure also counts as a slow answer, so the EWMA moves. */
	u->ewma_ms = u->ewma_ms * (1 - DUP_EWMA_ALPHA) +
	    (ms > u->ewma_ms * 2 ? ms : u->ewma_ms * 2) * DUP_EWMA_ALPHA;
	if (u->ewma_ms > 60000)
		u->ewma_ms = 60000;
	if (u->fails >= DUP_DOWN_AFTER) {
		unsigned sh = u->fails - DUP_DOWN_AFTER;
		uint64_t back = 1000ULL << (sh > 5 ? 5 : sh);

		u->down_until = now + (back > 30000 ? 30000 : back);
	}
}

size_t
dupstream_order(const struct dupstream *s, uint64_t now, size_t *idx,
    size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n && n < max; i++)
		idx[n++] = i;
	/* insertion sort: a handful of upstreams */
	for (size_t i = 1; i < n; i++) {
		size_t k = idx[i], j = i;

		while (j > 0) {
			const struct dup *a = &s->u[idx[j - 1]], *b = &s->u[k];
			bool adown = a->down_until > now,
			    bdown = b->down_until > now;
			double as = a->ewma_ms * (1 + a->fails),
			    bs = b->ewma_ms * (1 + b->fails);

			if (adown == bdown ? as <= bs :
			    !adown)
				break;
			idx[j] = idx[j - 1];
			j--;
		}
		idx[j] = k;
	}
	return n;
}

uint64_t
dupstream_hedge_delay(const struct dupstream *s, uint64_t now)
{
	size_t idx[DUP_MAX];
	uint64_t d, cap = s->cfg->dohd.query_timeout_ms / 2;

	if (dupstream_order(s, now, idx, DUP_MAX) == 0)
		return cap;
	d = (uint64_t)(2 * s->u[idx[0]].ewma_ms);
	if (d < DUP_HEDGE_MIN_MS)
		d = DUP_HEDGE_MIN_MS;
	return d > cap ? cap : d;
}

static void
on_answer(void *arg, int err, const uint8_t *body, size_t len)
{
	struct dup_try *t = arg;
	struct dq_up *q = t->q;
	struct dup *u = t->u;
	uint64_t now = uv_now(q->s->loop);
	double ms = (double)(now - t->start);

	free(t);
	q->outstanding--;
	if (err == 0 && !q->done) {
		if (q->cb(q->arg, 0, body, len) == 0) {
			dupstream_sample(q->s, u->idx, 0, ms, now);
			q->done = true;
			uv_timer_stop(&q->timeout);
			uv_timer_stop(&q->hedge);
			q_maybe_free(q);
			return;
		}
		u->bad++;
		snprintf(u->last_error, sizeof(u->last_error),
		    "unusable answer");
		err = -EBADMSG;
	} else if (err == 0) {
		/* late but fine */
		dupstream_sample(q->s, u->idx, 0, ms, now);
	}
	if (err != 0) {
		dupstream_sample(q->s, u->idx, err, ms, now);
		if (err != -EBADMSG)
			snprintf(u->last_error, sizeof(u->last_error),
			    "%s", strerror(-err));
	}
	if (!q->done) {
		try_next(q);
		if (!q->done && q->outstanding == 0)
			q_finish(q, -EHOSTUNREACH);
	}
	q_maybe_free(q);
}

/* Start an attempt on the best upstream not tried yet; false if none. */
static bool
try_one(struct dq_up *q)
{
	struct dupstream *s = q->s;
	size_t idx[DUP_MAX], n;
	uint64_t now = uv_now(s->loop);

	n = dupstream_order(s, now, idx, DUP_MAX);
	for (size_t i = 0; i < n; i++) {
		struct dup *u = &s->u[idx[i]];
		struct doh_conn *c;
		struct dup_try *t;

		if (q->tried & (1u << idx[i]))
			continue;
		q->tried |= 1u << idx[i];
		u->queries++;
		if ((c = get_conn(u)) == NULL) {
			dupstream_sample(s, u->idx, -ENOMEM, 0, now);
			continue;
		}
		if ((t = malloc(sizeof(*t))) == NULL)
			return false;
		t->q = q;
		t->u = u;
		t->start = now;
		q->outstanding++;
		if (doh_conn_submit(c, q->wire, q->len, on_answer, t) < 0) {
			q->outstanding--;
			free(t);
			dupstream_sample(s, u->idx, -EIO, 0, now);
			continue;
		}
		return true;
	}
	return false;
}

static void
try_next(struct dq_up *q)
{
	(void)try_one(q);
}

static void
on_timeout(uv_timer_t *h)
{
	struct dq_up *q = h->data;

	q_finish(q, -ETIMEDOUT);
	q_maybe_free(q);
}

static void
on_hedge(uv_timer_t *h)
{
	struct dq_up *q = h->data;

	if (!q->done)
		(void)try_one(q);
}

static int
dupstream_resolve(void *ctx, const uint8_t *wire, size_t len, dohd_up_cb cb,
    void *arg)
{
	struct dupstream *s = ctx;
	struct dq_up *q;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return -1;
	if ((q->wire = malloc(len)) == NULL) {
		free(q);
		return -1;
	}
	memcpy(q->wire, wire, len);
	q->len = len;
	q->s = s;
	q->cb = cb;
	q->arg = arg;
	uv_timer_init(s->loop, &q->timeout);
	uv_timer_init(s->loop, &q->hedge);
	q->timeout.data = q->hedge.data = q;
	q->handles = 2;
	q->next = s->live;
	if (s->live != NULL)
		s->live->prev = q;
	s->live = q;
	/* Count as outstanding while starting, so a connection that fails
	 * synchronously cannot finish q inside resolve. */
	q->outstanding++;
	if (!try_one(q)) {
		q->outstanding--;
		q->done = true;	/* cb never runs: the caller is told -1 */
		q_maybe_free(q);
		return -1;
	}
	q->outstanding--;
	if (!q->done && q->outstanding == 0) {
		/* Every attempt already failed inside try_one. */
		q->done = true;
		q_maybe_free(q);
		return -1;
	}
	if (q->done) {
		q_maybe_free(q);
		return 0;
	}
	uv_timer_start(&q->timeout, on_timeout, s->cfg->dohd.query_timeout_ms,
	    0);
	if (s->n > 1)
		uv_timer_start(&q->hedge, on_hedge,
		    dupstream_hedge_delay(s, uv_now(s->loop)), 0);
	return 0;
}

void
dupstream_resolver(struct dupstream *s, struct dohd_resolver *r)
{
	r->resolve = dupstream_resolve;
	r->ctx = s;
}

void
dupstream_free(struct dupstream *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++)
		if (s->u[i].conn != NULL) {
			doh_conn_close(s->u[i].conn, "shutdown");
			s->u[i].conn = NULL;
		}
	while (s->live != NULL) {
		struct dq_up *q = s->live;

		q_finish(q, -ECANCELED);
		q->outstanding = 0;
		q_maybe_free(q);
		if (s->live == q)
			break;	/* not closable yet: leave it */
	}
	SSL_CTX_free(s->ctx);
	free(s);
}

size_t
dupstream_stats_text(const struct dupstream *s, char *buf, size_t len)
{
	uint64_t now = uv_now(s->loop);
	size_t off = 0;

	for (size_t i = 0; i < s->n && off < len; i++) {
		const struct dup *u = &s->u[i];
		int n;

		n = snprintf(buf + off, len - off,
		    "upstream.%zu.url=%s\nupstream.%zu.up=%d\n"
		    "upstream.%zu.latency_ms=%.1f\nupstream.%zu.queries=%llu\n"
		    "upstream.%zu.answers=%llu\nupstream.%zu.errors=%llu\n"
		    "upstream.%zu.bad_answers=%llu\n"
		    "upstream.%zu.connections=%llu\n"
		    "upstream.%zu.connect_failures=%llu\n"
		    "upstream.%zu.streams=%u\nupstream.%zu.last_error=%s\n",
		    i, u->cfg->url, i, u->down_until <= now, i, u->ewma_ms,
		    i, (unsigned long long)u->queries,
		    i, (unsigned long long)u->answers,
		    i, (unsigned long long)u->errors,
		    i, (unsigned long long)u->bad,
		    i, (unsigned long long)u->conns,
		    i, (unsigned long long)u->conn_fail,
		    i, u->conn != NULL ? doh_conn_streams(u->conn) : 0,
		    i, u->last_error[0] != '\0' ? u->last_error : "-");
		if (n < 0)
			break;
		off += (size_t)n;
	}
	return off >= len ? len - 1 : off;
}
