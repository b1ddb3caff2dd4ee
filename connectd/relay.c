/*
 * relay.c - move bytes both ways between the client and the tunnel.
 *
 * Backpressure: when the side we write to has more than CD_WQ_HIGH bytes
 * queued we stop reading the other side, and start again below CD_WQ_LOW,
 * so a slow reader never makes connectd buffer without bound.
 * Half-close: an EOF from one side becomes a shutdown of the other's
 * write direction; the relay ends when both directions have ended (or on
 * an error, or when nothing moved for idle_ms).  The client's EOF toward
 * a chain of hops is held back (fin_hold_ms > 0) until the upstream has
 * been quiet that long, when nothing has come back since the client last
 * sent (see relay_answer_pending): tinyproxy and squid end the whole tunnel at
 * the first EOF from either side, so passing a request's half-close on at
 * once would cut the answer off.  A server that waits for the EOF gets
 * it once it has had its say; straight to the target (exit = direct) the
 * EOF goes on at once.
 *
 * Two ways to move the bytes:
 *
 * buffered  libuv reads into one shared buffer and writes straight on
 *           (uv_try_write); only what the socket does not take at once
 *           is copied into a write request.  Every tunnel starts here, and
 *           tunnels with TLS on our side (us_ntls() > 0) stay here.
 * spliced   (relay_splice.c) a plain tunnel that has moved 64 KiB, with
 *           nothing queued and neither side ended, switches to splice(2):
 *           socket -> pipe -> socket, never through user space.  Both
 *           sockets are dup()ed, their libuv handles closed, and the dups
 *           driven by uv_poll_t.  A direction holds a pipe only while it
 *           has bytes in flight; drained pipes go back to a small pool.
 *           Short tunnels never pay for the switch, idle ones hold no pipe.
 * The first splice that fails with EINVAL or ENOSYS turns the switch off
 * for the life of the process (that tunnel ends with the error).
 *
 * Judged: with a judge (judge.c), the client's bytes pass through it
 * until it has seen enough (a ClientHello's SNI, a first line that is
 * not HTTP) or for good (plain HTTP, every request's Host).  Held bytes
 * wait at most judge_ms; the upstream's bytes never wait.  A judged
 * tunnel is never spliced.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cd.h"
#include "judge.h"
#include "log.h"
#include "relay.h"

struct cwreq {
	uv_write_t req;
	struct cd_relay *r;
	char data[];
};

static char relay_rbuf[CD_READ_BUF];	/* see us_rbuf in ustream.c */

/*
 * Nothing has come back since the client last sent: its EOF ends a
 * request that still waits for its answer (nc -N, a script's half-close),
 * so it is held.  Once the upstream has answered, an EOF is the client
 * being done and goes on at once: holding it kept every closed tunnel's
 * slot for half_close_delay (faults-connlimit: no slot came free in 10 s).
 */
bool
relay_answer_pending(const struct cd_relay *r)
{
	return r->bytes_down == r->down_at_up;
}

static void judge_bytes(struct cd_relay *r, const char *p, size_t n);
static int judge_end(struct cd_relay *r, bool eof);
static void on_judge_timer(uv_timer_t *t);

size_t
relay_cli_queued(struct cd_relay *r)
{
	/* Only a buffered relay has a client handle to ask. */
	if (r->cli == NULL)
		return 0;
	return uv_stream_get_write_queue_size((uv_stream_t *)r->cli);
}

static void cli_on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b);

static void
cli_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	*b = uv_buf_init(relay_rbuf, sizeof(relay_rbuf));
}

static void
cli_read_start(struct cd_relay *r)
{
	if (r->cli_reading || r->cli_eof || r->done || r->spliced)
		return;
	if (uv_read_start((uv_stream_t *)r->cli, cli_alloc, cli_on_read) == 0)
		r->cli_reading = true;
}

void
relay_cli_read_stop(struct cd_relay *r)
{
	if (r->cli_reading)
		uv_read_stop((uv_stream_t *)r->cli);
	r->cli_reading = false;
}

static void
maybe_finish(struct cd_relay *r)
{
	if (r->cli_eof && r->up_eof && relay_cli_queued(r) == 0 && us_queued(r->up) == 0)
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
	/* Spliced: libuv may still owe us the callback of a write it had
	 * finished before the switch (the bytes went out); the client
	 * handle is closed by now and the relay no longer looks at it. */
	if (status == UV_ECANCELED || r->done || r->spliced)
		return;
	if (status < 0) {
		relay_end(r, uv_strerror(status));
		return;
	}
	if (relay_cli_queued(r) < CD_WQ_LOW && !r->up_eof)
		us_read_start(r->up);
	if (r->up_eof)
		maybe_finish(r);
	else
		relay_maybe_splice(r);
}

static int
cli_fd(struct cd_relay *r)
{
	uv_os_fd_t fd;

	if (r->cli == NULL || uv_fileno((uv_handle_t *)r->cli, &fd) != 0)
		return -1;
	return fd;
}

/*
 * Shut the client's write side (the upstream ended).  With nothing
 * queued, straight away: uv_shutdown would wait for the next turn of the
 * loop and re-arm the socket for writing, two epoll_ctl calls more per
 * tunnel.  A failed shutdown (the client reset) is left to the read side
 * to report, as uv_shutdown's callback leaves it.
 */
static int
cli_shutdown(struct cd_relay *r)
{
	int fd;

	r->cli_shut = true;
	if (relay_cli_queued(r) == 0 && (fd = cli_fd(r)) >= 0) {
		(void)shutdown(fd, SHUT_WR);
		return 0;
	}
	r->sreq.data = r;
	return uv_shutdown(&r->sreq, (uv_stream_t *)r->cli, on_cli_shutdown);
}

/*
 * A short answer and the upstream's end of stream often arrive together
 * (a server that answers and closes).  When the FIN already waits behind
 * the bytes just read, send them with MSG_MORE and shut the client's side
 * at once: the FIN rides on the data segment, and the client, seeing
 * both, acknowledges them with its own FIN - two segments fewer per
 * tunnel (a FIN of its own and the data's ACK), each of which loopback
 * makes the sender's CPU receive too.  The peek costs one recv per short
 * read, so only a plain tunnel's first CD_FIN_PEEK_MAX bytes down pay it:
 * past that a tunnel is bulk (it splices) or long-lived.  Returns how
 * many bytes went out this way: n, and the FIN with them; fewer, and the
 * rest goes the usual way, whose next write pushes these too; 0, not
 * such a read (a send error is left to the usual way to meet again).
 */
#define CD_FIN_PEEK_MAX	(64 * 1024)
static size_t
up_send_with_fin(struct cd_relay *r, const char *p, size_t n)
{
	char c;
	ssize_t k;
	int ufd, fd;

	if (n >= CD_READ_BUF || r->bytes_down > CD_FIN_PEEK_MAX ||
	    r->cli_shut || us_ntls(r->up) != 0 ||
	    (ufd = us_fileno(r->up)) < 0 || (fd = cli_fd(r)) < 0 ||
	    recv(ufd, &c, 1, MSG_PEEK | MSG_DONTWAIT) != 0)
		return 0;
	k = send(fd, p, n, MSG_MORE | MSG_NOSIGNAL | MSG_DONTWAIT);
	if (k <= 0)
		return 0;
	if ((size_t)k == n) {
		r->cli_shut = true;
		(void)shutdown(fd, SHUT_WR);
	}
	return (size_t)k;
}

/* tunnel -> client */
static void
up_on_read(struct ustream *us, const char *p, size_t n, void *arg)
{
	struct cd_relay *r = arg;
	struct cwreq *w;
	uv_buf_t b;
	int k;

	if (r->done || r->spliced || n == 0)
		return;
	r->bytes_down += n;
	r->m->bytes_down += n;
	r->last = r->up_last = eg_now_ms();
	if (relay_cli_queued(r) == 0) {
		size_t sent = up_send_with_fin(r, p, n);

		if (sent == n)
			return;
		p += sent;
		n -= sent;
		b = uv_buf_init((char *)p, (unsigned)n);
		k = uv_try_write((uv_stream_t *)r->cli, &b, 1);
		if (k == (int)n) {
			relay_maybe_splice(r);
			return;
		}
		if (k > 0) {
			p += k;
			n -= (size_t)k;
		} else if (k != UV_EAGAIN && k != UV_ENOSYS) {
			relay_end(r, uv_strerror(k));
			return;
		}
	}
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
	if (relay_cli_queued(r) > CD_WQ_HIGH)
		us_read_stop(r->up);
}

static void
up_on_eof(struct ustream *us, void *arg)
{
	struct cd_relay *r = arg;

	if (r->spliced)
		return;
	r->up_eof = true;
	relay_fin_release(r);
	if (r->done)
		return;
	if (!r->cli_shut && cli_shutdown(r) != 0) {
		relay_end(r, NULL);
		return;
	}
	maybe_finish(r);
}

static void
up_on_error(struct ustream *us, const char *why, void *arg)
{
	struct cd_relay *r = arg;

	if (!r->spliced)
		relay_end(r, why);
}

static void
up_on_drain(struct ustream *us, void *arg)
{
	struct cd_relay *r = arg;

	if (r->spliced)
		return;
	if (!r->cli_eof)
		cli_read_start(r);
	if (r->cli_eof)
		maybe_finish(r);
	else
		relay_maybe_splice(r);
}

static const struct ustream_cbs relay_cbs = {
	.on_read = up_on_read,
	.on_eof = up_on_eof,
	.on_error = up_on_error,
	.on_drain = up_on_drain,
};

/* ---- the judge */

static void
emit_up(void *arg, const char *p, size_t n)
{
	struct cd_relay *r = arg;

	if (r->done || n == 0)
		return;
	if (us_write(r->up, p, n) != 0)
		return;	/* the stream reported its error */
	r->bytes_up += (uint64_t)n;
	r->m->bytes_up += (uint64_t)n;
	r->down_at_up = r->bytes_down;
}

static void
emit_none(void *arg, const char *p, size_t n)
{
}

static void
judge_drop(struct cd_relay *r)
{
	uv_timer_stop(&r->jtimer);
	if (r->judge != NULL) {
		judge_free(r->judge);
		free(r->judge);
		r->judge = NULL;
	}
}

/* The judge cut the tunnel (or, in report mode, would have). */
static void
judge_cut(struct cd_relay *r)
{
	char why[CD_ERR_MAX];

	r->cbs->tunnel_cut(r->arg, r->judge->why, r->judge->detail,
	    r->observe);
	snprintf(why, sizeof(why), "tunnel check: %s", r->judge->why);
	judge_drop(r);
	if (!r->observe)
		relay_end(r, why);
}

static void
judge_bytes(struct cd_relay *r, const char *p, size_t n)
{
	int rc;

	if (r->observe) {
		emit_up(r, p, n);
		rc = judge_feed(r->judge, p, n, emit_none, NULL);
	} else
		rc = judge_feed(r->judge, p, n, emit_up, r);
	if (rc == JUDGE_CUT) {
		judge_cut(r);
		return;
	}
	if (judge_passing(r->judge))
		judge_drop(r);	/* nothing more to judge: no buffer kept */
	else if (judge_held(r->judge) == 0)
		uv_timer_stop(&r->jtimer);
	else if (!uv_is_active((uv_handle_t *)&r->jtimer))
		uv_timer_start(&r->jtimer, on_judge_timer, r->judge_ms, 0);
}

/* The client ended, or held bytes waited too long: judge them as they
 * stand.  Returns -1 when the tunnel was cut. */
static int
judge_end(struct cd_relay *r, bool eof)
{
	int rc;

	rc = judge_flush(r->judge, r->observe ? emit_none : emit_up,
	    r->observe ? NULL : r);
	if (rc == JUDGE_CUT) {
		judge_cut(r);
		return r->observe ? 0 : -1;
	}
	if (eof || judge_passing(r->judge))
		judge_drop(r);
	return 0;
}

static void
on_judge_timer(uv_timer_t *t)
{
	struct cd_relay *r = t->data;

	if (!r->done && r->judge != NULL)
		(void)judge_end(r, false);
}

/* client -> tunnel */
static void
cli_on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct cd_relay *r = ((uv_tcp_t *)s)->data;

	if (r->done || r->spliced || n == 0)
		return;
	if (n < 0) {
		relay_cli_read_stop(r);
		if (n != UV_EOF) {
			relay_end(r, uv_strerror((int)n));
			return;
		}
		if (r->judge != NULL && judge_end(r, true) != 0)
			return;
		r->cli_eof = true;
		if (r->fin_hold_ms > 0 && !r->up_eof && relay_answer_pending(r))
			relay_fin_hold(r);
		else if (!r->up_eof || us_ntls(r->up) != 0 ||
		    us_queued(r->up) != 0)
			us_shutdown(r->up);
		/* else both ended and nothing is queued: maybe_finish ends
		 * the tunnel now, and the close sends the FIN a shutdown
		 * would have. */
		maybe_finish(r);
		return;
	}
	cd_relay_cli_bytes(r, b->base, (size_t)n);
}

void
cd_relay_cli_bytes(struct cd_relay *r, const char *p, size_t n)
{
	if (r->done || r->spliced || n == 0)
		return;
	r->last = eg_now_ms();
	if (r->judge != NULL) {
		judge_bytes(r, p, n);
		if (r->done)
			return;
	} else {
		if (us_write(r->up, p, n) != 0)
			return;	/* the stream reported its error */
		r->bytes_up += (uint64_t)n;
		r->m->bytes_up += (uint64_t)n;
		r->down_at_up = r->bytes_down;
	}
	if (us_queued(r->up) > CD_WQ_HIGH)
		relay_cli_read_stop(r);
	else
		relay_maybe_splice(r);
}

/* Pass the held EOF on now: the upstream has been quiet long enough, or
 * has ended itself. */
void
relay_fin_release(struct cd_relay *r)
{
	if (!r->fin_held || r->done)
		return;
	r->fin_held = false;
	uv_timer_stop(&r->hold);
	if (!r->spliced) {
		us_shutdown(r->up);
		maybe_finish(r);
		return;
	}
	relay_splice_fin(r);
}

static void
on_hold(uv_timer_t *t)
{
	struct cd_relay *r = t->data;
	uint64_t now = eg_now_ms(), quiet = now - r->up_last;

	if (r->done)
		return;
	if (quiet < r->fin_hold_ms) {
		uv_timer_start(&r->hold, on_hold, r->fin_hold_ms - quiet, 0);
		return;
	}
	relay_fin_release(r);
}

void
relay_fin_hold(struct cd_relay *r)
{
	uint64_t now = eg_now_ms();

	r->fin_held = true;
	/* Quiet is counted from the EOF: an answer may still be on its way. */
	if (r->up_last < now)
		r->up_last = now;
	uv_timer_start(&r->hold, on_hold, r->fin_hold_ms, 0);
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

void
relay_end(struct cd_relay *r, const char *err)
{
	int s;

	if (r->done)
		return;
	r->done = true;
	if (r->spliced) {
		for (s = 0; s < r->nopen; s++)
			uv_poll_stop(&r->poll[s]);
	} else {
		relay_cli_read_stop(r);
		us_read_stop(r->up);
	}
	uv_timer_stop(&r->idle);
	uv_timer_stop(&r->hold);
	uv_timer_stop(&r->jtimer);
	r->cbs->done(r->arg, err);
}

struct cd_relay *
cd_relay_start(uv_loop_t *loop, uv_tcp_t *cli, struct ustream *up,
    const struct cd_relay_opts *o, const struct cd_relay_cbs *cbs, void *arg)
{
	struct cd_relay *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->loop = loop;
	r->m = o->m;
	r->cbs = cbs;
	r->arg = arg;
	r->cli = cli;
	r->up = up;
	r->fd[0] = r->fd[1] = -1;
	r->dir[0].pipe[0] = r->dir[0].pipe[1] = -1;
	r->dir[1].pipe[0] = r->dir[1].pipe[1] = -1;
	r->idle_ms = o->idle_ms ? o->idle_ms : 300000;
	r->fin_hold_ms = o->fin_hold_ms;
	r->judge = o->judge;
	r->observe = o->observe;
	r->judge_ms = o->judge_ms ? o->judge_ms : 5000;
	r->last = r->up_last = eg_now_ms();
	cli->data = r;
	uv_timer_init(loop, &r->idle);
	r->idle.data = r;
	uv_timer_start(&r->idle, on_idle, r->idle_ms, 0);
	uv_timer_init(loop, &r->hold);
	r->hold.data = r;
	uv_timer_init(loop, &r->jtimer);
	r->jtimer.data = r;
	/* The intake may hand over bytes the judge holds already. */
	if (r->judge != NULL && judge_held(r->judge) > 0)
		uv_timer_start(&r->jtimer, on_judge_timer, r->judge_ms, 0);
	us_set_cbs(up, &relay_cbs, r);
	us_read_start(up);
	if (o->cli_reading) {
		/*
		 * The intake kept the client reading through the dial: take
		 * the callbacks over (public fields, read afresh for every
		 * read).  uv_read_stop then uv_read_start would make libuv
		 * re-add the socket to epoll, an ADD that fails with EEXIST
		 * and then a MOD, on every tunnel.
		 */
		cli->alloc_cb = cli_alloc;
		cli->read_cb = cli_on_read;
		r->cli_reading = true;
	} else
		cli_read_start(r);
	return r;
}

void
cd_relay_stats(const struct cd_relay *r, uint64_t *up, uint64_t *down)
{
	*up = r ? r->bytes_up : 0;
	*down = r ? r->bytes_down : 0;
}

bool
cd_relay_spliced(const struct cd_relay *r)
{
	return r != NULL && r->spliced;
}

static void
on_relay_handle_close(uv_handle_t *h)
{
	struct cd_relay *r = h->data;

	if (--r->nopen > 0)
		return;
	judge_drop(r);
	relay_splice_free(r);
	free(r);
}

/* The connection closes the two streams (or already did, when spliced);
 * this closes the relay's own handles and frees it. */
void
cd_relay_close(struct cd_relay *r)
{
	int s, npoll;

	if (r == NULL)
		return;
	r->done = true;
	npoll = r->spliced ? r->nopen : 0;
	r->nopen = npoll + 3;
	for (s = 0; s < npoll; s++)
		uv_close((uv_handle_t *)&r->poll[s], on_relay_handle_close);
	uv_close((uv_handle_t *)&r->idle, on_relay_handle_close);
	uv_close((uv_handle_t *)&r->hold, on_relay_handle_close);
	uv_close((uv_handle_t *)&r->jtimer, on_relay_handle_close);
}
