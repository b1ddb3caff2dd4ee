/*
 * relay_splice.c - the relay's spliced way (see relay.c for when):
 * socket -> pipe -> socket with splice(2), never through user space.
 *
 * The switch dup()s both sockets, has the connection close their libuv
 * handles, and drives the dups with uv_poll_t.  A direction holds a pipe
 * only while it has bytes in flight; drained pipes go back to a small
 * pool.  The first splice that fails with EINVAL or ENOSYS turns the
 * switch off for the life of the process (that tunnel ends with the
 * error).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cd.h"
#include "log.h"
#include "relay.h"

#define CD_SPLICE_AFTER	(64 * 1024)	/* bytes before a tunnel switches */
#define CD_SPLICE_CHUNK	(1024 * 1024)	/* most one splice call asks for */
#define CD_PIPE_POOL	64		/* empty pipes kept for reuse */
#define CD_PIPE_SIZE	(256 * 1024)	/* asked for; the default is 64k */
#define CD_PUMP_ROUNDS	8		/* per wake-up, then others run */

static bool splice_off;
static int pipe_pool[CD_PIPE_POOL][2];
static size_t npipe_pool;
static size_t npipe_out;		/* held by spliced directions */
static uint64_t nofile;			/* RLIMIT_NOFILE, read once */

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

/*
 * One splice without blocking, EINTR retried: the bytes moved (0 from a
 * socket: it ended), or -1 when nothing moves now (EAGAIN) or the relay
 * ended on the error.
 */
static ssize_t
splice_step(struct cd_relay *r, int in, int out, size_t len)
{
	ssize_t n;

	do
		n = splice(in, NULL, out, NULL, len,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno != EAGAIN)
		splice_failed(r, errno);
	return n;
}

/* Move what can move in one direction without blocking. */
static void
pump(struct cd_relay *r, struct sdir *d)
{
	ssize_t n;
	int i;

	for (i = 0; i < CD_PUMP_ROUNDS && !r->done; i++) {
		if (d->inpipe > 0) {
			n = splice_step(r, d->pipe[0], r->fd[d->to],
			    d->inpipe);
			if (n < 0)
				break;
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
		n = splice_step(r, r->fd[d->from], d->pipe[1],
		    CD_SPLICE_CHUNK);
		if (n == 0) {
			d->eof = true;
			continue;
		}
		if (n < 0)
			break;
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
	    !r->dir[1].eof && (r->fin_held || relay_answer_pending(r))) {
		if (!r->fin_held)
			relay_fin_hold(r);
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
		relay_fin_release(r);
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

/* Pass the held EOF on now (relay_fin_release decided when). */
void
relay_splice_fin(struct cd_relay *r)
{
	r->dir[0].shut = true;
	if (shutdown(r->fd[1], SHUT_WR) != 0 && errno != ENOTCONN) {
		splice_failed(r, errno);
		return;
	}
	if (dir_done(&r->dir[0]) && dir_done(&r->dir[1]))
		relay_end(r, NULL);
}

void
relay_splice_free(struct cd_relay *r)
{
	int s;

	for (s = 0; s < 2; s++) {
		if (r->fd[s] >= 0)
			close(r->fd[s]);
		if (r->spliced)
			pipe_put(&r->dir[s]);
	}
}

/*
 * Switch a plain tunnel to splice once it has shown it is more than a
 * short exchange, at a moment nothing is queued in user space: from then
 * on the kernel moves the bytes.
 */
void
relay_maybe_splice(struct cd_relay *r)
{
	int cfd = -1, ufd = -1, fd, s;
	uv_os_fd_t ofd;

	if (splice_off || r->spliced || r->done || r->judge != NULL ||
	    r->cli_eof || r->up_eof ||
	    r->cli_shut || r->bytes_up + r->bytes_down < CD_SPLICE_AFTER ||
	    us_ntls(r->up) != 0 || relay_cli_queued(r) != 0 || us_queued(r->up) != 0)
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
		relay_cli_read_stop(r);
		us_read_stop(r->up);
		r->cbs->release(r->arg);
		relay_end(r, "poll failed");
		return;
	}
	relay_cli_read_stop(r);
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
