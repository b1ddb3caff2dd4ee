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
 * sent (see answer_pending): tinyproxy and squid end the whole tunnel at
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
 * spliced   a plain tunnel that has moved CD_SPLICE_AFTER bytes, with
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
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cd.h"
#include "judge.h"
#include "log.h"

#define CD_SPLICE_AFTER	(64 * 1024)	/* bytes before a tunnel switches */
#define CD_SPLICE_CHUNK	(1024 * 1024)	/* most one splice call asks for */
#define CD_PIPE_POOL	64		/* empty pipes kept for reuse */
#define CD_PIPE_SIZE	(256 * 1024)	/* asked for; the default is 64k */
#define CD_PUMP_ROUNDS	8		/* per wake-up, then others run */

struct sdir {				/* one direction when spliced */
	int from, to;			/* 0 client, 1 upstream */
	int pipe[2];			/* -1 while nothing is in flight */
	size_t inpipe;
	bool eof;			/* the source ended */
	bool shut;			/* and the destination was shut */
};

struct cd_relay {
	uv_loop_t *loop;
	struct cd_metrics *m;		/* the daemon's counters */
	const struct cd_relay_cbs *cbs;	/* the connection's part */
	void *arg;
	uv_tcp_t *cli;
	struct ustream *up;
	uv_timer_t idle;
	uv_timer_t hold;		/* the client's EOF, held back */
	uv_timer_t jtimer;		/* bytes held by the judge */
	struct judge *judge;		/* NULL: nothing (more) to judge */
	bool observe;			/* report mode: judge, never cut */
	uint64_t judge_ms;
	uv_shutdown_t sreq;
	uint64_t idle_ms, last;
	uint64_t fin_hold_ms;		/* 0: pass the client's EOF at once */
	uint64_t up_last;		/* the upstream's last bytes */
	uint64_t down_at_up;		/* bytes_down when the client last sent */
	bool fin_held;			/* the client's EOF waits on hold */
	uint64_t bytes_up, bytes_down;
	bool cli_eof, up_eof;		/* read side ended */
	bool cli_shut;			/* we shut the client's write side */
	bool cli_reading;
	bool done;
	/* spliced */
	bool spliced;
	int nopen;			/* handles still to close */
	int fd[2];			/* our dups: client, upstream */
	int pev[2];			/* events polled on each */
	uv_poll_t poll[2];
	struct sdir dir[2];		/* 0 client->up, 1 up->client */
};

struct cwreq {
	uv_write_t req;
	struct cd_relay *r;
	char data[];
};

static char relay_rbuf[CD_READ_BUF];	/* see us_rbuf in ustream.c */
static bool splice_off;
static int pipe_pool[CD_PIPE_POOL][2];
static size_t npipe_pool;
static size_t npipe_out;		/* held by spliced directions */
static uint64_t nofile;			/* RLIMIT_NOFILE, read once */

static void relay_end(struct cd_relay *r, const char *err);
static void maybe_splice(struct cd_relay *r);
static void fin_hold(struct cd_relay *r);

/*
 * Nothing has come back since the client last sent: its EOF ends a
 * request that still waits for its answer (nc -N, a script's half-close),
 * so it is held.  Once the upstream has answered, an EOF is the client
 * being done and goes on at once: holding it kept every closed tunnel's
 * slot for half_close_delay (faults-connlimit: no slot came free in 10 s).
 */
static bool
answer_pending(const struct cd_relay *r)
{
	return r->bytes_down == r->down_at_up;
}
static void fin_release(struct cd_relay *r);
static void judge_bytes(struct cd_relay *r, const char *p, size_t n);
static int judge_end(struct cd_relay *r, bool eof);
static void on_judge_timer(uv_timer_t *t);

static size_t
cli_queued(struct cd_relay *r)
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
	/* Spliced: libuv may still owe us the callback of a write it had
	 * finished before the switch (the bytes went out); the client
	 * handle is closed by now and the relay no longer looks at it. */
	if (status == UV_ECANCELED || r->done || r->spliced)
		return;
	if (status < 0) {
		relay_end(r, uv_strerror(status));
		return;
	}
	if (cli_queued(r) < CD_WQ_LOW && !r->up_eof)
		us_read_start(r->up);
	if (r->up_eof)
		maybe_finish(r);
	else
		maybe_splice(r);
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
	if (cli_queued(r) == 0) {
		b = uv_buf_init((char *)p, (unsigned)n);
		k = uv_try_write((uv_stream_t *)r->cli, &b, 1);
		if (k == (int)n) {
			maybe_splice(r);
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
	if (cli_queued(r) > CD_WQ_HIGH)
		us_read_stop(r->up);
}

static void
up_on_eof(struct ustream *us, void *arg)
{
	struct cd_relay *r = arg;

	if (r->spliced)
		return;
	r->up_eof = true;
	fin_release(r);
	if (r->done)
		return;
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
		maybe_splice(r);
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
		cli_read_stop(r);
		if (n != UV_EOF) {
			relay_end(r, uv_strerror((int)n));
			return;
		}
		if (r->judge != NULL && judge_end(r, true) != 0)
			return;
		r->cli_eof = true;
		if (r->fin_hold_ms > 0 && !r->up_eof && answer_pending(r))
			fin_hold(r);
		else
			us_shutdown(r->up);
		maybe_finish(r);
		return;
	}
	r->last = eg_now_ms();
	if (r->judge != NULL) {
		judge_bytes(r, b->base, (size_t)n);
		if (r->done)
			return;
	} else {
		if (us_write(r->up, b->base, (size_t)n) != 0)
			return;	/* the stream reported its error */
		r->bytes_up += (uint64_t)n;
		r->m->bytes_up += (uint64_t)n;
		r->down_at_up = r->bytes_down;
	}
	if (us_queued(r->up) > CD_WQ_HIGH)
		cli_read_stop(r);
	else
		maybe_splice(r);
}

/* ---- spliced */

static int
pipe_get(struct sdir *d)
{
	if (npipe_pool > 0) {
		npipe_pool--;
		d->pipe[0] = pipe_pool[npipe_pool][0];
		d->pipe[1] = pipe_pool[npipe_pool][1];
		npipe_out++;
		return 0;
	}
	if (pipe2(d->pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
		d->pipe[0] = d->pipe[1] = -1;
		return -1;
	}
	npipe_out++;
	/* Fewer, larger splices; the default size is fine when refused. */
	(void)fcntl(d->pipe[1], F_SETPIPE_SZ, CD_PIPE_SIZE);
	return 0;
}

/* An empty pipe goes back to the pool; one with bytes in it is closed. */
static void
pipe_put(struct sdir *d)
{
	if (d->pipe[0] < 0)
		return;
	npipe_out--;
	if (d->inpipe == 0 && npipe_pool < CD_PIPE_POOL) {
		pipe_pool[npipe_pool][0] = d->pipe[0];
		pipe_pool[npipe_pool][1] = d->pipe[1];
		npipe_pool++;
	} else {
		close(d->pipe[0]);
		close(d->pipe[1]);
	}
	d->pipe[0] = d->pipe[1] = -1;
	d->inpipe = 0;
}

static bool
dir_done(const struct sdir *d)
{
	return d->eof && d->shut && d->inpipe == 0;
}

static void
splice_failed(struct cd_relay *r, int e)
{
	char why[CD_ERR_MAX];

	if (e == EINVAL || e == ENOSYS) {
		if (!splice_off)
			eg_log(EG_LOG_WARN, "relay", "error=\"splice: %s\" "
			    "note=\"plain tunnels stay buffered from now on\"",
			    strerror(e));
		splice_off = true;
	}
	snprintf(why, sizeof(why), "splice: %s", strerror(e));
	relay_end(r, why);
}

/* Move what can move in one direction without blocking. */
static void
pump(struct cd_relay *r, struct sdir *d)
{
	ssize_t n;
	int i;

	for (i = 0; i < CD_PUMP_ROUNDS && !r->done; i++) {
		if (d->inpipe > 0) {
			n = splice(d->pipe[0], NULL, r->fd[d->to], NULL,
			    d->inpipe, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno != EAGAIN)
					splice_failed(r, errno);
				break;
			}
			d->inpipe -= (size_t)n;
			r->last = eg_now_ms();
			if (d->inpipe > 0)
				continue;
		}
		if (d->eof)
			break;
		if (d->pipe[0] < 0 && pipe_get(d) != 0) {
			relay_end(r, "no pipe for splice");
			return;
		}
		n = splice(r->fd[d->from], NULL, d->pipe[1], NULL,
		    CD_SPLICE_CHUNK, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n == 0) {
			d->eof = true;
			continue;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				splice_failed(r, errno);
			break;
		}
		d->inpipe += (size_t)n;
		if (d->from == 0) {
			r->bytes_up += (uint64_t)n;
			r->m->bytes_up += (uint64_t)n;
			r->down_at_up = r->bytes_down;
		} else {
			r->bytes_down += (uint64_t)n;
			r->m->bytes_down += (uint64_t)n;
			r->up_last = eg_now_ms();
		}
		r->last = eg_now_ms();
	}
	if (r->done || d->inpipe > 0)
		return;
	pipe_put(d);
	/* Drained after the source ended: pass the half-close on.  Here and
	 * not in the loop, which may run out of rounds right at the EOF.
	 * The client's EOF may have to wait (see the top of the file). */
	if (d->eof && !d->shut && d->from == 0 && r->fin_hold_ms > 0 &&
	    !r->dir[1].eof && (r->fin_held || answer_pending(r))) {
		if (!r->fin_held)
			fin_hold(r);
		return;
	}
	if (d->eof && !d->shut) {
		d->shut = true;
		if (shutdown(r->fd[d->to], SHUT_WR) != 0 && errno != ENOTCONN) {
			splice_failed(r, errno);
			return;
		}
	}
	/* The upstream ended: nothing is left to wait for. */
	if (d->eof && d->from == 1 && r->fin_held)
		fin_release(r);
}

/* Poll each socket for what its two directions wait on. */
static void on_poll(uv_poll_t *p, int status, int events);

static void
repoll(struct cd_relay *r)
{
	int s, ev;

	for (s = 0; s < 2 && !r->done; s++) {
		ev = 0;
		if (!r->dir[s].eof && r->dir[s].inpipe == 0)
			ev |= UV_READABLE;
		if (r->dir[1 - s].inpipe > 0)
			ev |= UV_WRITABLE;
		if (ev == r->pev[s])
			continue;
		r->pev[s] = ev;
		if (ev == 0)
			uv_poll_stop(&r->poll[s]);
		else if (uv_poll_start(&r->poll[s], ev, on_poll) != 0)
			relay_end(r, "poll failed");
	}
}

static void
on_poll(uv_poll_t *p, int status, int events)
{
	struct cd_relay *r = p->data;
	int s = p == &r->poll[0] ? 0 : 1;

	if (r->done)
		return;
	if (status < 0) {
		/* libuv says EBADF for POLLERR: the socket knows better */
		int e = 0;
		socklen_t el = sizeof(e);
		char why[CD_ERR_MAX];

		if (getsockopt(r->fd[s], SOL_SOCKET, SO_ERROR, &e, &el) == 0 &&
		    e != 0) {
			snprintf(why, sizeof(why), "%s: %s", s == 0 ? "client" :
			    "upstream", strerror(e));
			relay_end(r, why);
		} else
			relay_end(r, uv_strerror(status));
		return;
	}
	if (events & UV_WRITABLE)
		pump(r, &r->dir[1 - s]);
	if (!r->done && (events & ~UV_WRITABLE))
		pump(r, &r->dir[s]);
	if (r->done)
		return;
	if (dir_done(&r->dir[0]) && dir_done(&r->dir[1])) {
		relay_end(r, NULL);
		return;
	}
	repoll(r);
}

/* Pass the held EOF on now: the upstream has been quiet long enough, or
 * has ended itself. */
static void
fin_release(struct cd_relay *r)
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
	r->dir[0].shut = true;
	if (shutdown(r->fd[1], SHUT_WR) != 0 && errno != ENOTCONN) {
		splice_failed(r, errno);
		return;
	}
	if (dir_done(&r->dir[0]) && dir_done(&r->dir[1]))
		relay_end(r, NULL);
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
	fin_release(r);
}

static void
fin_hold(struct cd_relay *r)
{
	uint64_t now = eg_now_ms();

	r->fin_held = true;
	/* Quiet is counted from the EOF: an answer may still be on its way. */
	if (r->up_last < now)
		r->up_last = now;
	uv_timer_start(&r->hold, on_hold, r->fin_hold_ms, 0);
}

/*
 * Switch a plain tunnel to splice once it has shown it is more than a
 * short exchange, at a moment nothing is queued in user space: from then
 * on the kernel moves the bytes.
 */
static void
maybe_splice(struct cd_relay *r)
{
	int cfd = -1, ufd = -1, fd, s;
	uv_os_fd_t ofd;

	if (splice_off || r->spliced || r->done || r->judge != NULL ||
	    r->cli_eof || r->up_eof ||
	    r->cli_shut || r->bytes_up + r->bytes_down < CD_SPLICE_AFTER ||
	    us_ntls(r->up) != 0 || cli_queued(r) != 0 || us_queued(r->up) != 0)
		return;
	/* Pipes cost descriptors: switch only while every connection's two
	 * sockets, every pipe held or pooled, this tunnel's two and a margin
	 * fit under the limit; a buffered tunnel needs no more. */
	if (nofile == 0) {
		struct rlimit rl;

		nofile = getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
		    rl.rlim_cur != RLIM_INFINITY ? rl.rlim_cur : 1024;
	}
	if (2 * r->m->active + 2 * (npipe_out + npipe_pool) + 4 + 256 >
	    nofile)
		return;
	if (uv_fileno((uv_handle_t *)r->cli, &ofd) != 0 ||
	    (fd = us_fileno(r->up)) < 0)
		return;
	if ((cfd = fcntl(ofd, F_DUPFD_CLOEXEC, 0)) < 0 ||
	    (ufd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0)
		goto fail;
	if (uv_poll_init(r->loop, &r->poll[0], cfd) != 0)
		goto fail;
	if (uv_poll_init(r->loop, &r->poll[1], ufd) != 0) {
		/* The first poll is live: close it like any other handle. */
		r->fd[0] = cfd;
		r->fd[1] = ufd;
		r->spliced = true;
		r->nopen = 1;
		r->poll[0].data = r;
		cli_read_stop(r);
		us_read_stop(r->up);
		r->cbs->release(r->arg);
		relay_end(r, "poll failed");
		return;
	}
	cli_read_stop(r);
	us_read_stop(r->up);
	r->spliced = true;
	r->nopen = 2;
	r->fd[0] = cfd;
	r->fd[1] = ufd;
	for (s = 0; s < 2; s++) {
		r->poll[s].data = r;
		r->pev[s] = 0;
		r->dir[s].from = s;
		r->dir[s].to = 1 - s;
	}
	/* The connection closes its client handle and the ustream now; the
	 * sockets stay open through our dups. */
	r->cbs->release(r->arg);
	r->cli = NULL;
	r->up = NULL;
	r->m->spliced++;
	repoll(r);
	return;
fail:
	if (cfd >= 0)
		close(cfd);
	if (ufd >= 0)
		close(ufd);
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
	int s;

	if (r->done)
		return;
	r->done = true;
	if (r->spliced) {
		for (s = 0; s < r->nopen; s++)
			uv_poll_stop(&r->poll[s]);
	} else {
		cli_read_stop(r);
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
	int s;

	if (--r->nopen > 0)
		return;
	judge_drop(r);
	for (s = 0; s < 2; s++) {
		if (r->fd[s] >= 0)
			close(r->fd[s]);
		if (r->spliced)
			pipe_put(&r->dir[s]);
	}
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
