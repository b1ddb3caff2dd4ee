/*
 * relay.c - move bytes both ways between the client and the tunnel.
 *
 * Backpressure: when the side we write to has more than CD_WQ_HIGH bytes
 * queued we stop reading the other side, and start again below CD_WQ_LOW,
 * so a slow reader never makes connectd buffer without bound.
 * Half-close: an EOF from one side becomes a shutdown of the other's
 * write direction; the relay ends when both directions have ended (or on
 * an error, or when nothing moved for idle_ms).
 *
 * splice(2) would fit here for tunnels without TLS (us_ntls() == 0): both
 * ends are plain sockets, and the read/write pair of each direction can
 * become a pipe pair.  The per-direction state below is what such a path
 * would keep; it is left for the benchmarks to justify.
 */
#include <stdlib.h>
#include <string.h>

#include "cd.h"
#include "log.h"

struct cd_relay {
	struct cd *cd;
	struct cd_conn *conn;
	uv_tcp_t *cli;
	struct ustream *up;
	uv_timer_t idle;
	uv_shutdown_t sreq;
	uint64_t idle_ms, last;
	uint64_t bytes_up, bytes_down;
	bool cli_eof, up_eof;		/* read side ended */
	bool cli_shut;			/* we shut the client's write side */
	bool cli_reading;
	bool done;
	char rbuf[CD_READ_BUF];
};

struct cwreq {
	uv_write_t req;
	struct cd_relay *r;
	char data[];
};

static void relay_end(struct cd_relay *r, const char *err);

static size_t
cli_queued(struct cd_relay *r)
{
	return uv_stream_get_write_queue_size((uv_stream_t *)r->cli);
}

static void cli_on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b);

static void
cli_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct cd_relay *r = ((uv_tcp_t *)h)->data;

	*b = uv_buf_init(r->rbuf, sizeof(r->rbuf));
}

static void
cli_read_start(struct cd_relay *r)
{
	if (r->cli_reading || r->cli_eof || r->done)
		return;
	if (uv_read_start((uv_stream_t *)r->cli, cli_alloc, cli_on_read) == 0)
		r->cli_reading = true;
}

static void
cli_read_stop(struct cd_relay *r)
{
	if (r->cli_reading)
		uv_read_stop((uv_stream_t *)r->cli);
	r->cli_reading = false;
}

static void
maybe_finish(struct cd_relay *r)
{
	if (r->cli_eof && r->up_eof && cli_queued(r) == 0 && us_queued(r->up) == 0)
		relay_end(r, NULL);
}

static void
on_cli_shutdown(uv_shutdown_t *req, int status)
{
	struct cd_relay *r = req->data;

	if (status == UV_ECANCELED || r->done)
		return;
	maybe_finish(r);
}

static void
on_cli_write(uv_write_t *req, int status)
{
	struct cwreq *w = (struct cwreq *)req;
	struct cd_relay *r = w->r;

	free(w);
	if (status == UV_ECANCELED || r->done)
		return;
	if (status < 0) {
		relay_end(r, uv_strerror(status));
		return;
	}
	if (cli_queued(r) < CD_WQ_LOW && !r->up_eof)
		us_read_start(r->up);
	if (r->up_eof)
		maybe_finish(r);
}

/* tunnel -> client */
static void
up_on_read(struct ustream *us, const char *p, size_t n, void *arg)
{
	struct cd_relay *r = arg;
	struct cwreq *w;
	uv_buf_t b;

	if (r->done || n == 0)
		return;
	if ((w = malloc(sizeof(*w) + n)) == NULL) {
		relay_end(r, "out of memory");
		return;
	}
	memcpy(w->data, p, n);
	w->r = r;
	b = uv_buf_init(w->data, (unsigned)n);
	if (uv_write(&w->req, (uv_stream_t *)r->cli, &b, 1, on_cli_write)) {
		free(w);
		relay_end(r, "client write failed");
		return;
	}
	r->bytes_down += n;
	r->cd->m.bytes_down += n;
	r->last = eg_now_ms();
	if (cli_queued(r) > CD_WQ_HIGH)
		us_read_stop(r->up);
}

static void
up_on_eof(struct ustream *us, void *arg)
{
	struct cd_relay *r = arg;

	r->up_eof = true;
	if (!r->cli_shut) {
		r->cli_shut = true;
		r->sreq.data = r;
		if (uv_shutdown(&r->sreq, (uv_stream_t *)r->cli,
		    on_cli_shutdown) != 0) {
			relay_end(r, NULL);
			return;
		}
	}
	maybe_finish(r);
}

static void
up_on_error(struct ustream *us, const char *why, void *arg)
{
	relay_end(arg, why);
}

static void
up_on_drain(struct ustream *us, void *arg)
{
	struct cd_relay *r = arg;

	if (!r->cli_eof)
		cli_read_start(r);
	if (r->cli_eof)
		maybe_finish(r);
}

static const struct ustream_cbs relay_cbs = {
	.on_read = up_on_read,
	.on_eof = up_on_eof,
	.on_error = up_on_error,
	.on_drain = up_on_drain,
};

/* client -> tunnel */
static void
cli_on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct cd_relay *r = ((uv_tcp_t *)s)->data;

	if (r->done || n == 0)
		return;
	if (n < 0) {
		cli_read_stop(r);
		if (n != UV_EOF) {
			relay_end(r, uv_strerror((int)n));
			return;
		}
		r->cli_eof = true;
		us_shutdown(r->up);
		maybe_finish(r);
		return;
	}
	if (us_write(r->up, b->base, (size_t)n) != 0)
		return;	/* the stream reported its error */
	r->bytes_up += (uint64_t)n;
	r->cd->m.bytes_up += (uint64_t)n;
	r->last = eg_now_ms();
	if (us_queued(r->up) > CD_WQ_HIGH)
		cli_read_stop(r);
}

static void
on_idle(uv_timer_t *t)
{
	struct cd_relay *r = t->data;
	uint64_t now = eg_now_ms();

	if (now - r->last >= r->idle_ms) {
		relay_end(r, "idle timeout");
		return;
	}
	uv_timer_start(&r->idle, on_idle, r->idle_ms - (now - r->last), 0);
}

static void
relay_end(struct cd_relay *r, const char *err)
{
	if (r->done)
		return;
	r->done = true;
	cli_read_stop(r);
	us_read_stop(r->up);
	uv_timer_stop(&r->idle);
	cd_conn_relay_done(r->conn, err);
}

struct cd_relay *
cd_relay_start(struct cd *cd, uv_tcp_t *cli, struct ustream *up,
    uint64_t idle_ms, struct cd_conn *c)
{
	struct cd_relay *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->cd = cd;
	r->conn = c;
	r->cli = cli;
	r->up = up;
	r->idle_ms = idle_ms ? idle_ms : 300000;
	r->last = eg_now_ms();
	cli->data = r;
	uv_timer_init(cd->loop, &r->idle);
	r->idle.data = r;
	uv_timer_start(&r->idle, on_idle, r->idle_ms, 0);
	us_set_cbs(up, &relay_cbs, r);
	us_read_start(up);
	cli_read_start(r);
	return r;
}

void
cd_relay_stats(const struct cd_relay *r, uint64_t *up, uint64_t *down)
{
	*up = r ? r->bytes_up : 0;
	*down = r ? r->bytes_down : 0;
}

static void
on_idle_close(uv_handle_t *h)
{
	free(h->data);
}

/* The connection closes the two streams; this frees the relay. */
void
cd_relay_close(struct cd_relay *r)
{
	if (r == NULL)
		return;
	r->done = true;
	uv_close((uv_handle_t *)&r->idle, on_idle_close);
}
