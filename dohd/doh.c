/*
 * doh.c - the DoH connection: libuv TCP, OpenSSL over memory BIOs, an
 * nghttp2 client session fed with mem_recv/mem_send.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "log.h"

#include "doh.h"

enum doh_state { DS_CONNECTING, DS_TLS, DS_READY, DS_DRAINING, DS_DEAD };

struct doh_stream {
	struct doh_stream *next, *prev;
	struct doh_conn *c;
	int32_t id;		/* 0 until submitted */
	uint8_t *req;
	size_t reqlen, reqoff;
	uint8_t *resp;
	size_t resplen;
	bool status_ok, ctype_ok, too_big;
	doh_resp_cb cb;
	void *arg;
};

struct doh_conn {
	uv_loop_t *loop;
	uv_tcp_t tcp;
	uv_connect_t creq;
	uv_timer_t timer;
	uv_check_t flush;	/* queued requests go out at the end of the
				 * loop turn, many per TLS record and write */
	int open_handles;
	SSL *ssl;
	BIO *rbio, *wbio;
	nghttp2_session *h2;
	struct doh_target t;
	enum doh_state state;
	struct doh_stream *streams;
	unsigned nstreams;
	uint64_t created_ms, last_rx_ms, ping_sent_ms;
	bool ping_out;
	bool notified_dead;
	int in_cb;		/* inside our owner's callbacks */
	int in_h2;		/* inside nghttp2: the session must live on */
	doh_event_cb ev;
	void *evarg;
};

static void conn_fail(struct doh_conn *c, const char *why);
static void conn_flush(struct doh_conn *c);

/* ---- pure helpers ---- */

SSL_CTX *
doh_ssl_ctx(const char *ca_file, char *err, size_t errlen)
{
	static const unsigned char alpn[] = { 2, 'h', '2' };
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		goto fail;
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION))
		goto fail;
	if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
		snprintf(err, errlen, "ca_file %s: cannot load", ca_file);
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	/* RFC 9113 9.2: TLS 1.2 with h2 needs no compression, no renego. */
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION);
	if (SSL_CTX_set_alpn_protos(ctx, alpn, sizeof(alpn)) != 0)
		goto fail;
	return ctx;
 fail:
	snprintf(err, errlen, "TLS context: %s",
	    ERR_reason_error_string(ERR_get_error()));
	SSL_CTX_free(ctx);
	return NULL;
}

bool
doh_pin_parse(const char *b64, uint8_t pin[32])
{
	uint8_t out[48];
	size_t l = strlen(b64);
	int n;

	if (l != 44 || b64[43] != '=')
		return false;
	n = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)l);
	/* 44 base64 chars decode to 33 bytes with one '=' of padding. */
	if (n != 33)
		return false;
	memcpy(pin, out, 32);
	return true;
}

size_t
doh_request_head(nghttp2_nv *nv, const struct doh_target *t,
    char *authority, size_t alen, char *clen, size_t clen_len, size_t len)
{
#define NV(i, n, v, vl) do {						\
	nv[i].name = (uint8_t *)(n);					\
	nv[i].namelen = sizeof(n) - 1;					\
	nv[i].value = (uint8_t *)(v);					\
	nv[i].valuelen = (vl);						\
	nv[i].flags = NGHTTP2_NV_FLAG_NONE;				\
} while (0)
	bool v6 = strchr(t->host, ':') != NULL;

	if (t->port == 443)
		snprintf(authority, alen, v6 ? "[%s]" : "%s", t->host);
	else
		snprintf(authority, alen, v6 ? "[%s]:%u" : "%s:%u", t->host,
		    t->port);
	snprintf(clen, clen_len, "%zu", len);
	NV(0, ":method", "POST", 4);
	NV(1, ":scheme", "https", 5);
	NV(2, ":authority", authority, strlen(authority));
	NV(3, ":path", t->path, strlen(t->path));
	NV(4, "content-type", "application/dns-message", 23);
	NV(5, "accept", "application/dns-message", 23);
	NV(6, "content-length", clen, strlen(clen));
	return DOH_NV;
#undef NV
}

bool
doh_status_ok(const uint8_t *v, size_t len)
{
	return len == 3 && memcmp(v, "200", 3) == 0;
}

bool
doh_ctype_ok(const uint8_t *v, size_t len)
{
	static const char want[] = "application/dns-message";
	size_t wl = sizeof(want) - 1;

	/* Parameters after ';' are tolerated, nothing else. */
	if (len < wl || strncasecmp((const char *)v, want, wl) != 0)
		return false;
	return len == wl || v[wl] == ';' || v[wl] == ' ';
}

/* ---- streams ---- */

static void
stream_end(struct doh_stream *s, int err)
{
	struct doh_conn *c = s->c;
	doh_resp_cb cb = s->cb;
	void *arg = s->arg;
	uint8_t *resp = s->resp;
	size_t rlen = s->resplen;

	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		c->streams = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	c->nstreams--;
	free(s->req);
	free(s);
	c->in_cb++;
	cb(arg, err, err == 0 ? resp : NULL, err == 0 ? rlen : 0);
	c->in_cb--;
	free(resp);
}

static ssize_t
read_body(nghttp2_session *h2, int32_t id, uint8_t *buf, size_t len,
    uint32_t *flags, nghttp2_data_source *src, void *user)
{
	struct doh_stream *s = src->ptr;
	size_t n = s->reqlen - s->reqoff;

	if (n > len)
		n = len;
	memcpy(buf, s->req + s->reqoff, n);
	s->reqoff += n;
	if (s->reqoff == s->reqlen)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

static int
stream_submit(struct doh_conn *c, struct doh_stream *s)
{
	nghttp2_nv nv[DOH_NV];
	nghttp2_data_provider dp;
	char auth[EG_NAME_MAX + 16], clen[16];
	int32_t id;

	doh_request_head(nv, &c->t, auth, sizeof(auth), clen, sizeof(clen),
	    s->reqlen);
	dp.source.ptr = s;
	dp.read_callback = read_body;
	id = nghttp2_submit_request(c->h2, NULL, nv, DOH_NV, &dp, s);
	if (id < 0)
		return -1;
	s->id = id;
	return 0;
}

/* ---- nghttp2 callbacks ---- */

static int
on_header(nghttp2_session *h2, const nghttp2_frame *f, const uint8_t *name,
    size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
    void *user)
{
	struct doh_stream *s;

	if (((struct doh_conn *)user)->state == DS_DEAD)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	if (f->hd.type != NGHTTP2_HEADERS)
		return 0;
	s = nghttp2_session_get_stream_user_data(h2, f->hd.stream_id);
	if (s == NULL)
		return 0;
	if (namelen == 7 && memcmp(name, ":status", 7) == 0)
		s->status_ok = doh_status_ok(value, valuelen);
	else if (namelen == 12 && memcmp(name, "content-type", 12) == 0)
		s->ctype_ok = doh_ctype_ok(value, valuelen);
	return 0;
}

static int
on_data(nghttp2_session *h2, uint8_t flags, int32_t id, const uint8_t *data,
    size_t len, void *user)
{
	struct doh_stream *s = nghttp2_session_get_stream_user_data(h2, id);
	uint8_t *n;

	if (((struct doh_conn *)user)->state == DS_DEAD)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	if (s == NULL || s->too_big)
		return 0;
	if (s->resplen + len > DOH_MAX_RESPONSE) {
		s->too_big = true;
		nghttp2_submit_rst_stream(h2, NGHTTP2_FLAG_NONE, id,
		    NGHTTP2_CANCEL);
		return 0;
	}
	if ((n = realloc(s->resp, s->resplen + len)) == NULL)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	memcpy(n + s->resplen, data, len);
	s->resp = n;
	s->resplen += len;
	return 0;
}

static int
on_close(nghttp2_session *h2, int32_t id, uint32_t code, void *user)
{
	struct doh_stream *s = nghttp2_session_get_stream_user_data(h2, id);
	int err = 0;

	if (((struct doh_conn *)user)->state == DS_DEAD)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	if (s == NULL)
		return 0;
	if (code != NGHTTP2_NO_ERROR || s->too_big)
		err = -ECONNABORTED;
	else if (!s->status_ok || !s->ctype_ok || s->resplen == 0)
		err = -EPROTO;
	stream_end(s, err);
	return 0;
}

static int
on_frame(nghttp2_session *h2, const nghttp2_frame *f, void *user)
{
	struct doh_conn *c = user;

	if (((struct doh_conn *)user)->state == DS_DEAD)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	if (f->hd.type == NGHTTP2_PING && (f->hd.flags & NGHTTP2_FLAG_ACK))
		c->ping_out = false;
	if (f->hd.type == NGHTTP2_GOAWAY && c->state == DS_READY)
		c->state = DS_DRAINING;
	return 0;
}

/* ---- the connection ---- */

static void
notify(struct doh_conn *c, enum doh_event ev, const char *why)
{
	if (c->ev != NULL) {
		c->in_cb++;
		c->ev(c->evarg, c, ev, why);
		c->in_cb--;
	}
}

static void
on_handle_closed(uv_handle_t *h)
{
	struct doh_conn *c = h->data;

	if (--c->open_handles == 0)
		free(c);
}

static void
conn_release(struct doh_conn *c)
{
	if (c->in_h2 > 0)
		return;		/* h2_leave() finishes the job */
	if (c->h2 != NULL)
		nghttp2_session_del(c->h2);
	c->h2 = NULL;
	if (c->ssl != NULL)
		SSL_free(c->ssl);	/* frees both BIOs */
	c->ssl = NULL;
	if (!uv_is_closing((uv_handle_t *)&c->tcp))
		uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
	if (!uv_is_closing((uv_handle_t *)&c->timer))
		uv_close((uv_handle_t *)&c->timer, on_handle_closed);
	if (!uv_is_closing((uv_handle_t *)&c->flush))
		uv_close((uv_handle_t *)&c->flush, on_handle_closed);
}

static void
conn_fail(struct doh_conn *c, const char *why)
{
	if (c->state == DS_DEAD)
		return;
	c->state = DS_DEAD;
	/* Streams first: their owners may pick another upstream. */
	while (c->streams != NULL)
		stream_end(c->streams, -ECONNRESET);
	if (!c->notified_dead) {
		c->notified_dead = true;
		notify(c, DOH_EV_FAILED, why);
	}
	conn_release(c);
}

void
doh_conn_close(struct doh_conn *c, const char *why)
{
	c->ev = NULL;	/* the owner asked: no events back */
	conn_fail(c, why);
}

static void
on_write(uv_write_t *w, int status)
{
	struct doh_conn *c = w->handle->data;

	free(w->data);
	free(w);
	if (status < 0 && status != UV_ECANCELED)
		conn_fail(c, "write");
}

static void
h2_enter(struct doh_conn *c)
{
	c->in_h2++;
}

/* Returns false when the connection died inside nghttp2. */
static bool
h2_leave(struct doh_conn *c)
{
	if (--c->in_h2 == 0 && c->state == DS_DEAD) {
		conn_release(c);
		return false;
	}
	return c->state != DS_DEAD;
}

/* Move what TLS produced onto the socket. */
static void
conn_flush(struct doh_conn *c)
{
	while (c->state != DS_DEAD && BIO_ctrl_pending(c->wbio) > 0) {
		size_t n = BIO_ctrl_pending(c->wbio);
		uv_write_t *w;
		uv_buf_t b;
		char *buf;
		int r;

		if ((buf = malloc(n)) == NULL || (w = malloc(sizeof(*w))) ==
		    NULL) {
			free(buf);
			conn_fail(c, "memory");
			return;
		}
		r = BIO_read(c->wbio, buf, (int)n);
		if (r <= 0) {
			free(buf);
			free(w);
			return;
		}
		w->data = buf;
		b = uv_buf_init(buf, (unsigned)r);
		if (uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, on_write) < 0) {
			free(buf);
			free(w);
			conn_fail(c, "write");
			return;
		}
	}
}

/* Let nghttp2 produce frames, encrypt them, send them. */
static void
conn_send(struct doh_conn *c)
{
	if (c->h2 == NULL)
		return;
	for (;;) {
		const uint8_t *data;
		ssize_t n;

		h2_enter(c);
		n = nghttp2_session_mem_send(c->h2, &data);
		if (!h2_leave(c))
			return;
		if (n < 0) {
			conn_fail(c, "h2 send");
			return;
		}
		if (n == 0)
			break;
		if (SSL_write(c->ssl, data, (int)n) != (int)n) {
			conn_fail(c, "tls write");
			return;
		}
	}
	conn_flush(c);
	if (c->state == DS_DRAINING && c->nstreams == 0)
		conn_fail(c, "drained");
}

static bool
pin_ok(struct doh_conn *c)
{
	STACK_OF(X509) *chain;

	if (!c->t.has_pin)
		return true;
	chain = SSL_get0_verified_chain(c->ssl);
	for (int i = 0; chain != NULL && i < sk_X509_num(chain); i++) {
		X509 *x = sk_X509_value(chain, i);
		unsigned char *der = NULL, md[SHA256_DIGEST_LENGTH];
		int len = i2d_PUBKEY(X509_get0_pubkey(x), &der);

		if (len <= 0)
			continue;
		SHA256(der, (size_t)len, md);
		OPENSSL_free(der);
		if (memcmp(md, c->t.pin, sizeof(md)) == 0)
			return true;
	}
	return false;
}

static int
h2_start(struct doh_conn *c)
{
	nghttp2_session_callbacks *cbs;
	nghttp2_settings_entry set[] = {
		{ NGHTTP2_SETTINGS_ENABLE_PUSH, 0 },
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100 },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, DOH_MAX_RESPONSE + 1 },
	};
	int r;

	if (nghttp2_session_callbacks_new(&cbs) != 0)
		return -1;
	nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs,
	    on_data);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_close);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame);
	r = nghttp2_session_client_new(&c->h2, cbs, c);
	nghttp2_session_callbacks_del(cbs);
	if (r != 0)
		return -1;
	if (nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, set,
	    sizeof(set) / sizeof(set[0])) != 0)
		return -1;
	return 0;
}

static void
tls_step(struct doh_conn *c)
{
	const unsigned char *proto = NULL;
	unsigned plen = 0;
	struct doh_stream *s;
	char why[160];
	int r;

	r = SSL_do_handshake(c->ssl);
	conn_flush(c);
	if (r != 1) {
		int e = SSL_get_error(c->ssl, r);
		long v;

		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
			return;
		v = SSL_get_verify_result(c->ssl);
		snprintf(why, sizeof(why), "tls: %s",
		    v != X509_V_OK ? X509_verify_cert_error_string(v) :
		    ERR_reason_error_string(ERR_get_error()) != NULL ?
		    ERR_reason_error_string(ERR_peek_last_error()) :
		    "handshake failed");
		ERR_clear_error();
		conn_fail(c, why);
		return;
	}
	SSL_get0_alpn_selected(c->ssl, &proto, &plen);
	if (plen != 2 || memcmp(proto, "h2", 2) != 0) {
		conn_fail(c, "tls: upstream did not select h2");
		return;
	}
	if (!pin_ok(c)) {
		conn_fail(c, "tls: spki pin mismatch");
		return;
	}
	if (h2_start(c) < 0) {
		conn_fail(c, "h2 session");
		return;
	}
	c->state = DS_READY;
	c->last_rx_ms = uv_now(c->loop);
	for (s = c->streams; s != NULL; s = s->next)
		if (s->id == 0 && stream_submit(c, s) < 0) {
			conn_fail(c, "h2 submit");
			return;
		}
	notify(c, DOH_EV_READY, "connected");
	conn_send(c);
}

static void
on_alloc(uv_handle_t *h, size_t sz, uv_buf_t *b)
{
	static char buf[65536];	/* one loop thread; consumed at once */

	b->base = buf;
	b->len = sizeof(buf);
}

static void
on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct doh_conn *c = st->data;
	uint8_t buf[16384];

	if (n == 0)
		return;
	if (n < 0) {
		conn_fail(c, n == UV_EOF ? "closed by upstream" : "read");
		return;
	}
	if (c->state == DS_DEAD)
		return;
	c->last_rx_ms = uv_now(c->loop);
	if (BIO_write(c->rbio, b->base, (int)n) != (int)n) {
		conn_fail(c, "tls buffer");
		return;
	}
	if (c->state == DS_TLS) {
		tls_step(c);
		if (c->state != DS_READY)
			return;
	}
	for (;;) {
		int r = SSL_read(c->ssl, buf, sizeof(buf));
		ssize_t rr;

		if (r <= 0) {
			int e = SSL_get_error(c->ssl, r);

			if (e == SSL_ERROR_WANT_READ)
				break;
			conn_fail(c, e == SSL_ERROR_ZERO_RETURN ?
			    "tls closed" : "tls read");
			return;
		}
		c->ping_out = false;	/* anything heard proves liveness */
		h2_enter(c);
		rr = nghttp2_session_mem_recv(c->h2, buf, (size_t)r);
		if (!h2_leave(c))
			return;
		if (rr < 0) {
			conn_fail(c, "h2 protocol error");
			return;
		}
	}
	conn_send(c);
}

static void
on_connect(uv_connect_t *req, int status)
{
	struct doh_conn *c = req->data;

	if (c->state == DS_DEAD)
		return;
	if (status < 0) {
		char why[128];

		snprintf(why, sizeof(why), "connect: %s", uv_strerror(status));
		conn_fail(c, why);
		return;
	}
	c->state = DS_TLS;
	if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0) {
		conn_fail(c, "read start");
		return;
	}
	tls_step(c);
}

static void
on_timer(uv_timer_t *t)
{
	struct doh_conn *c = t->data;
	uint64_t now = uv_now(c->loop);

	if (c->state == DS_DEAD)
		return;
	if (c->state == DS_CONNECTING || c->state == DS_TLS) {
		if (now - c->created_ms >= c->t.connect_timeout_ms)
			conn_fail(c, "connect timeout");
		return;
	}
	if (c->ping_out) {
		if (now - c->ping_sent_ms >= DOH_PING_TIMEOUT_MS)
			conn_fail(c, "ping timeout");
		return;
	}
	if (c->state == DS_READY && c->t.max_age_ms > 0 &&
	    now - c->created_ms >= c->t.max_age_ms) {
		c->state = DS_DRAINING;
		nghttp2_submit_goaway(c->h2, NGHTTP2_FLAG_NONE,
		    nghttp2_session_get_last_proc_stream_id(c->h2),
		    NGHTTP2_NO_ERROR, NULL, 0);
		notify(c, DOH_EV_CLOSED, "max age");
		conn_send(c);
		return;
	}
	if (now - c->last_rx_ms >= c->t.ping_interval_ms ||
	    (c->nstreams > 0 && now - c->last_rx_ms >= DOH_QUIET_PROBE_MS)) {
		uint8_t opaque[8] = { 0 };

		memcpy(opaque, &now, sizeof(now));
		if (nghttp2_submit_ping(c->h2, NGHTTP2_FLAG_NONE, opaque) != 0) {
			conn_fail(c, "ping");
			return;
		}
		c->ping_out = true;
		c->ping_sent_ms = now;
		conn_send(c);
	}
}

struct doh_conn *
doh_conn_new(uv_loop_t *loop, const struct doh_target *t, doh_event_cb ev,
    void *evarg)
{
	struct doh_conn *c;
	struct sockaddr_storage ss;
	uint64_t tick;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->loop = loop;
	c->t = *t;
	c->ev = ev;
	c->evarg = evarg;
	c->state = DS_CONNECTING;
	c->created_ms = c->last_rx_ms = uv_now(loop);
	uv_tcp_init(loop, &c->tcp);
	uv_timer_init(loop, &c->timer);
	uv_check_init(loop, &c->flush);
	c->tcp.data = c->timer.data = c->creq.data = c->flush.data = c;
	c->open_handles = 3;

	if ((c->ssl = SSL_new(t->ctx)) == NULL ||
	    (c->rbio = BIO_new(BIO_s_mem())) == NULL ||
	    (c->wbio = BIO_new(BIO_s_mem())) == NULL) {
		BIO_free(c->rbio);
		c->rbio = NULL;
		goto fail;
	}
	SSL_set_bio(c->ssl, c->rbio, c->wbio);
	SSL_set_connect_state(c->ssl);
	if (eg_is_ip_literal(t->host)) {
		X509_VERIFY_PARAM *vp = SSL_get0_param(c->ssl);

		if (X509_VERIFY_PARAM_set1_ip_asc(vp, t->host) != 1)
			goto fail;
	} else {
		if (SSL_set_tlsext_host_name(c->ssl, t->host) != 1 ||
		    SSL_set1_host(c->ssl, t->host) != 1)
			goto fail;
		SSL_set_hostflags(c->ssl,
		    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	}
	tick = t->ping_interval_ms < 500 ? t->ping_interval_ms : 500;
	if (tick < 50)
		tick = 50;
	uv_timer_start(&c->timer, on_timer, tick, tick);
	eg_ip_to_sockaddr(&t->addr, t->port, &ss);
	if (uv_tcp_connect(&c->creq, &c->tcp, (struct sockaddr *)&ss,
	    on_connect) < 0)
		goto fail;
	return c;
 fail:
	c->state = DS_DEAD;
	c->notified_dead = true;
	conn_release(c);
	return NULL;
}

bool
doh_conn_usable(const struct doh_conn *c)
{
	return c->state == DS_CONNECTING || c->state == DS_TLS ||
	    c->state == DS_READY;
}

unsigned
doh_conn_streams(const struct doh_conn *c)
{
	return c->nstreams;
}

void
doh_conn_drain(struct doh_conn *c)
{
	if (c->state == DS_READY) {
		c->state = DS_DRAINING;
		conn_send(c);
	} else if (c->state != DS_DRAINING)
		doh_conn_close(c, "drain");
}

static void
on_flush(uv_check_t *h)
{
	struct doh_conn *c = h->data;

	uv_check_stop(h);
	if (c->state != DS_DEAD)
		conn_send(c);
}

int
doh_conn_submit(struct doh_conn *c, const uint8_t *q, size_t len,
    doh_resp_cb cb, void *arg)
{
	struct doh_stream *s;

	if (!doh_conn_usable(c) || len == 0 || len > DOH_MAX_RESPONSE)
		return -1;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -1;
	if ((s->req = malloc(len)) == NULL) {
		free(s);
		return -1;
	}
	memcpy(s->req, q, len);
	s->reqlen = len;
	s->c = c;
	s->cb = cb;
	s->arg = arg;
	if (c->state == DS_READY && stream_submit(c, s) < 0) {
		free(s->req);
		free(s);
		return -1;
	}
	s->next = c->streams;
	if (c->streams != NULL)
		c->streams->prev = s;
	c->streams = s;
	c->nstreams++;
	/* A batch of queries read in this turn shares frames, TLS records
	 * and one write: send once the turn's reads are done. */
	if (c->state == DS_READY && !uv_is_active((uv_handle_t *)&c->flush))
		uv_check_start(&c->flush, on_flush);
	return 0;
}
