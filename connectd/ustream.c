/*
 * ustream.c - the upstream side of a tunnel: one TCP connection with zero
 * or more TLS layers on top, each layer speaking through the one below it.
 *
 * Every TLS layer is an SSL object over a pair of memory BIOs, so TLS to
 * the first hop and TLS to an https:// hop inside a CONNECT tunnel are the
 * same code: bytes read from TCP go into layer 0's read BIO, what layer i
 * decrypts goes into layer i+1's read BIO, and what the innermost layer
 * decrypts is the tunnel's plaintext.  Writing runs the other way.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "addr.h"
#include "cd.h"

struct tls_layer {
	SSL *ssl;
	BIO *rbio, *wbio;	/* network side of this layer */
	bool up;		/* handshake done */
};

struct ustream {
	uv_tcp_t tcp;
	uv_connect_t creq;
	uv_shutdown_t sreq;
	struct tls_layer *tls;	/* CD_MAX_TLS layers, only once TLS starts */
	int ntls;
	struct ustream_cbs cbs;
	void *arg;
	us_done_cb done;	/* pending connect or handshake */
	void *done_arg;
	bool reading, want_read, eof, closing, failed, shut;
};

/* libuv calls the read callback right after the alloc callback and every
 * reader consumes (copies or decrypts) the bytes before it returns, so one
 * buffer serves every stream: no idle tunnel holds a read buffer. */
static char us_rbuf[CD_READ_BUF];

struct wreq {
	uv_write_t req;
	struct ustream *us;
	char data[];
};

static void us_flush(struct ustream *us);
static void us_pump_in(struct ustream *us);

struct ustream *
us_new(uv_loop_t *loop)
{
	struct ustream *us;

	if ((us = calloc(1, sizeof(*us))) == NULL)
		return NULL;
	if (uv_tcp_init(loop, &us->tcp) != 0) {
		free(us);
		return NULL;
	}
	us->tcp.data = us;
	return us;
}

void
us_set_cbs(struct ustream *us, const struct ustream_cbs *cbs, void *arg)
{
	us->cbs = *cbs;
	us->arg = arg;
}

int
us_ntls(const struct ustream *us)
{
	return us->ntls;
}

int
us_fileno(const struct ustream *us)
{
	uv_os_fd_t fd;

	if (uv_fileno((const uv_handle_t *)&us->tcp, &fd) != 0)
		return -1;
	return fd;
}

size_t
us_queued(const struct ustream *us)
{
	return uv_stream_get_write_queue_size((const uv_stream_t *)&us->tcp);
}

static void
fail(struct ustream *us, const char *why)
{
	us_done_cb cb = us->done;

	if (us->failed || us->closing)
		return;
	us->failed = true;
	if (cb != NULL) {
		us->done = NULL;
		cb(us, -1, why, us->done_arg);
	} else if (us->cbs.on_error != NULL)
		us->cbs.on_error(us, why, us->arg);
}

static void
on_write(uv_write_t *req, int status)
{
	struct wreq *w = (struct wreq *)req;
	struct ustream *us = w->us;

	free(w);
	if (us->closing)
		return;
	if (status < 0) {
		fail(us, uv_strerror(status));
		return;
	}
	if (us_queued(us) < CD_WQ_LOW && us->cbs.on_drain != NULL)
		us->cbs.on_drain(us, us->arg);
}

static int
tcp_write(struct ustream *us, const void *p, size_t n)
{
	struct wreq *w;
	uv_buf_t b;
	int rc;

	if (n == 0)
		return 0;
	/* Most writes fit the socket buffer at once: no copy, no request. */
	if (us_queued(us) == 0) {
		b = uv_buf_init((char *)p, (unsigned)n);
		rc = uv_try_write((uv_stream_t *)&us->tcp, &b, 1);
		if (rc > 0) {
			p = (const char *)p + rc;
			n -= (size_t)rc;
			if (n == 0)
				return 0;
		} else if (rc != UV_EAGAIN && rc != UV_ENOSYS) {
			fail(us, uv_strerror(rc));
			return -1;
		}
	}
	if ((w = malloc(sizeof(*w) + n)) == NULL) {
		fail(us, "out of memory");
		return -1;
	}
	memcpy(w->data, p, n);
	w->us = us;
	b = uv_buf_init(w->data, (unsigned)n);
	if ((rc = uv_write(&w->req, (uv_stream_t *)&us->tcp, &b, 1,
	    on_write)) != 0) {
		free(w);
		fail(us, uv_strerror(rc));
		return -1;
	}
	return 0;
}

/* Move what each layer wants to send down to the layer below, innermost
 * first, and finally onto TCP. */
static void
us_flush(struct ustream *us)
{
	char buf[16384];
	int i, n;

	for (i = us->ntls - 1; i >= 0; i--) {
		while ((n = BIO_read(us->tls[i].wbio, buf, sizeof(buf))) > 0) {
			if (i == 0) {
				if (tcp_write(us, buf, (size_t)n) < 0)
					return;
			} else if (SSL_write(us->tls[i - 1].ssl, buf, n) != n) {
				fail(us, "TLS write to outer layer failed");
				return;
			}
		}
	}
}

static const char *
ssl_err(SSL *ssl, int rc, char *buf, size_t len)
{
	unsigned long e = ERR_get_error();
	long vr = SSL_get_verify_result(ssl);

	if (vr != X509_V_OK) {
		snprintf(buf, len, "TLS: certificate: %s",
		    X509_verify_cert_error_string(vr));
	} else if (e != 0) {
		snprintf(buf, len, "TLS: %s", ERR_reason_error_string(e) ?
		    ERR_reason_error_string(e) : "error");
	} else
		snprintf(buf, len, "TLS: error %d", SSL_get_error(ssl, rc));
	ERR_clear_error();
	return buf;
}

/* Feed decrypted bytes from layer i-1 (or TCP for i == 0) upward. */
static void
us_pump_in(struct ustream *us)
{
	char buf[16384], eb[CD_ERR_MAX];
	struct tls_layer *t;
	int i, n, e;

	for (i = 0; i < us->ntls; i++) {
		t = &us->tls[i];
		if (!t->up) {
			n = SSL_do_handshake(t->ssl);
			if (n == 1) {
				t->up = true;
				if (i == us->ntls - 1 && us->done != NULL) {
					us_done_cb cb = us->done;

					us->done = NULL;
					us_flush(us);
					cb(us, 0, NULL, us->done_arg);
					if (us->closing || us->failed)
						return;
				}
			} else {
				e = SSL_get_error(t->ssl, n);
				if (e != SSL_ERROR_WANT_READ &&
				    e != SSL_ERROR_WANT_WRITE) {
					fail(us, ssl_err(t->ssl, n, eb,
					    sizeof(eb)));
					return;
				}
				break;	/* nothing above can move yet */
			}
		}
		for (;;) {
			n = SSL_read(t->ssl, buf, sizeof(buf));
			if (n > 0) {
				if (i + 1 < us->ntls)
					BIO_write(us->tls[i + 1].rbio, buf, n);
				else if (us->cbs.on_read != NULL)
					us->cbs.on_read(us, buf, (size_t)n,
					    us->arg);
				if (us->closing || us->failed)
					return;
				continue;
			}
			e = SSL_get_error(t->ssl, n);
			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
				break;
			if (e == SSL_ERROR_ZERO_RETURN) {
				/* close_notify: the tunnel above this layer
				 * has ended. */
				if (!us->eof) {
					us->eof = true;
					us_flush(us);
					if (us->cbs.on_eof != NULL)
						us->cbs.on_eof(us, us->arg);
				}
				return;
			}
			fail(us, ssl_err(t->ssl, n, eb, sizeof(eb)));
			return;
		}
	}
	us_flush(us);
}

static void
on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	*b = uv_buf_init(us_rbuf, sizeof(us_rbuf));
}

static void
on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct ustream *us = s->data;

	if (n == 0 || us->closing)
		return;
	if (n < 0) {
		uv_read_stop(s);
		us->reading = false;
		if (n == UV_EOF) {
			if (us->done != NULL) {
				fail(us, "connection closed by peer");
				return;
			}
			if (!us->eof) {
				us->eof = true;
				if (us->cbs.on_eof != NULL)
					us->cbs.on_eof(us, us->arg);
			}
		} else
			fail(us, uv_strerror((int)n));
		return;
	}
	if (us->ntls == 0) {
		if (us->cbs.on_read != NULL)
			us->cbs.on_read(us, b->base, (size_t)n, us->arg);
		return;
	}
	BIO_write(us->tls[0].rbio, b->base, (int)n);
	us_pump_in(us);
}

void
us_read_start(struct ustream *us)
{
	us->want_read = true;
	if (us->reading || us->eof || us->closing || us->failed)
		return;
	if (uv_read_start((uv_stream_t *)&us->tcp, on_alloc, on_read) == 0)
		us->reading = true;
}

void
us_read_stop(struct ustream *us)
{
	us->want_read = false;
	if (us->reading) {
		uv_read_stop((uv_stream_t *)&us->tcp);
		us->reading = false;
	}
}

static void
on_connect(uv_connect_t *req, int status)
{
	struct ustream *us = req->data;
	us_done_cb cb = us->done;

	if (us->closing || cb == NULL)
		return;
	us->done = NULL;
	if (status < 0) {
		us->failed = true;
		cb(us, -1, uv_strerror(status), us->done_arg);
		return;
	}
	cb(us, 0, NULL, us->done_arg);
}

int
us_connect(struct ustream *us, const struct sockaddr *sa, us_done_cb cb,
    void *arg)
{
	int rc;

	us->done = cb;
	us->done_arg = arg;
	us->creq.data = us;
	if ((rc = uv_tcp_connect(&us->creq, &us->tcp, sa, on_connect)) != 0) {
		us->done = NULL;
		return rc;
	}
	uv_tcp_nodelay(&us->tcp, 1);
	/*
	 * Every dial reads as soon as it is connected (chain.c's on_tcp).
	 * Asking now makes one epoll registration serve the connect and the
	 * reads (an ADD, and a MOD once connected); asked in the callback,
	 * libuv re-adds the socket it had stopped watching, an ADD that fails
	 * with EEXIST and then a MOD.  libuv finishes the connect (and runs
	 * the callback) before it reads anything.
	 */
	us_read_start(us);
	return 0;
}

int
us_start_tls(struct ustream *us, SSL_CTX *ctx, const char *host,
    us_done_cb cb, void *arg)
{
	struct tls_layer *t;
	struct eg_ip ip;
	X509_VERIFY_PARAM *vp;
	char eb[CD_ERR_MAX];
	int n, e;

	if (us->ntls >= CD_MAX_TLS)
		return -1;
	if (us->tls == NULL &&
	    (us->tls = calloc(CD_MAX_TLS, sizeof(*us->tls))) == NULL)
		return -1;
	t = &us->tls[us->ntls];
	memset(t, 0, sizeof(*t));
	if ((t->ssl = SSL_new(ctx)) == NULL)
		return -1;
	t->rbio = BIO_new(BIO_s_mem());
	t->wbio = BIO_new(BIO_s_mem());
	if (t->rbio == NULL || t->wbio == NULL) {
		BIO_free(t->rbio);
		BIO_free(t->wbio);
		SSL_free(t->ssl);
		return -1;
	}
	BIO_set_mem_eof_return(t->rbio, -1);
	BIO_set_mem_eof_return(t->wbio, -1);
	SSL_set_bio(t->ssl, t->rbio, t->wbio);
	SSL_set_connect_state(t->ssl);
	vp = SSL_get0_param(t->ssl);
	if (eg_ip_parse(host, &ip, true)) {
		/* A literal hop is checked against the certificate's IP
		 * SANs; no SNI is sent for it (RFC 6066). */
		if (X509_VERIFY_PARAM_set1_ip_asc(vp, host) != 1)
			goto bad;
	} else {
		X509_VERIFY_PARAM_set_hostflags(vp,
		    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if (X509_VERIFY_PARAM_set1_host(vp, host, 0) != 1 ||
		    SSL_set_tlsext_host_name(t->ssl, host) != 1)
			goto bad;
	}
	SSL_set_verify(t->ssl, SSL_VERIFY_PEER, NULL);
	us->ntls++;
	us->done = cb;
	us->done_arg = arg;
	n = SSL_do_handshake(t->ssl);
	e = SSL_get_error(t->ssl, n);
	if (n != 1 && e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
		us->done = NULL;
		fail(us, ssl_err(t->ssl, n, eb, sizeof(eb)));
		return -1;
	}
	us_flush(us);
	us_read_start(us);
	return 0;
bad:
	SSL_free(t->ssl);
	t->ssl = NULL;
	return -1;
}

int
us_write(struct ustream *us, const void *p, size_t n)
{
	const char *s = p;
	int k;

	if (us->closing || us->failed)
		return -1;
	if (us->ntls == 0)
		return tcp_write(us, p, n);
	while (n > 0) {
		k = (int)(n > 16384 ? 16384 : n);
		if (SSL_write(us->tls[us->ntls - 1].ssl, s, k) != k) {
			fail(us, "TLS write failed");
			return -1;
		}
		s += k;
		n -= (size_t)k;
	}
	us_flush(us);
	return 0;
}

static void
on_shutdown(uv_shutdown_t *req, int status)
{
}

int
us_shutdown(struct ustream *us)
{
	int i, fd;

	if (us->shut || us->closing || us->failed)
		return 0;
	us->shut = true;
	if (us->ntls > 0) {
		/* close_notify from the innermost layer only: it ends the
		 * tunnel the data flows in; the outer layers carry it. */
		i = us->ntls - 1;
		SSL_shutdown(us->tls[i].ssl);
		us_flush(us);
		return 0;
	}
	/* Nothing queued: shut now, not on the loop's next turn after two
	 * epoll_ctl calls (relay.c's cli_shutdown says the same). */
	if (us_queued(us) == 0 && (fd = us_fileno(us)) >= 0) {
		(void)shutdown(fd, SHUT_WR);
		return 0;
	}
	return uv_shutdown(&us->sreq, (uv_stream_t *)&us->tcp, on_shutdown);
}

static void
on_close(uv_handle_t *h)
{
	struct ustream *us = h->data;
	int i;

	for (i = 0; i < us->ntls; i++)
		SSL_free(us->tls[i].ssl);	/* frees its BIOs */
	free(us->tls);
	free(us);
}

void
us_close(struct ustream *us)
{
	if (us == NULL || us->closing)
		return;
	us->closing = true;
	us->done = NULL;
	uv_close((uv_handle_t *)&us->tcp, on_close);
}
