/*
 * dlog.c - decision lines (one per query, at line rate) written in
 * batches without ever blocking the loop.
 *
 * Lines are formatted as eg_log formats them into one bounded buffer,
 * which goes to stderr at the end of every loop turn (a check handle): a
 * batch of queries costs one write, not one each.  stderr is written
 * without blocking: a socket (journald) with MSG_DONTWAIT, a pipe through
 * a descriptor of its own opened O_NONBLOCK at start-up (the shared one
 * keeps its flags), a file or a terminal with write(2).  What a stalled
 * reader leaves is kept for the next turn; when the buffer is full, lines
 * are dropped and counted, and the next line written says how many
 * ("event=log dropped=N").  Other events still go through eg_log, and
 * straight away: against a stalled pipe, such a line can land in the
 * middle of a decision line that was only partly written.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dlog.h"

#define DLOG_MAX	(256 * 1024)
#define DLOG_LINE	4096

enum dlog_kind { DLOG_WRITE, DLOG_SOCKET };

static struct {
	bool on;
	int fd;
	enum dlog_kind kind;
	uv_check_t check;
	size_t n;
	uint64_t dropped;	/* not yet told */
	uint64_t dropped_total;
	time_t stamp_sec;
	char stamp[32];
	char buf[DLOG_MAX];
} dl = { .fd = -1 };

static void
on_turn(uv_check_t *h)
{
	dlog_flush();
}

void
dlog_init(uv_loop_t *loop)
{
	struct stat st;
	int fd;

	dl.fd = STDERR_FILENO;
	dl.kind = DLOG_WRITE;
	if (fstat(STDERR_FILENO, &st) == 0) {
		if (S_ISSOCK(st.st_mode))
			dl.kind = DLOG_SOCKET;
		else if (S_ISFIFO(st.st_mode) && (fd = open("/proc/self/fd/2",
		    O_WRONLY | O_NONBLOCK | O_CLOEXEC)) >= 0)
			dl.fd = fd;	/* else blocking writes, as eg_log */
	}
	uv_check_init(loop, &dl.check);
	uv_check_start(&dl.check, on_turn);
	uv_unref((uv_handle_t *)&dl.check);
	dl.on = true;
}

bool
dlog_active(void)
{
	return dl.on;
}

uint64_t
dlog_dropped(void)
{
	return dl.dropped_total;
}

static const char *
stamp(long *ms)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	*ms = ts.tv_nsec / 1000000;
	if (ts.tv_sec != dl.stamp_sec || dl.stamp[0] == '\0') {
		dl.stamp_sec = ts.tv_sec;
		if (gmtime_r(&ts.tv_sec, &tm) == NULL ||
		    strftime(dl.stamp, sizeof(dl.stamp), "%Y-%m-%dT%H:%M:%S",
		    &tm) == 0)
			snprintf(dl.stamp, sizeof(dl.stamp),
			    "1970-01-01T00:00:00");
	}
	return dl.stamp;
}

/* Append one line (without its newline) if it fits whole. */
static bool
append(const char *line, size_t len)
{
	if (DLOG_MAX - dl.n < len + 1)
		return false;
	memcpy(dl.buf + dl.n, line, len);
	dl.n += len;
	dl.buf[dl.n++] = '\n';
	return true;
}

void
dlog_vline(enum eg_log_level lvl, const char *event, const char *fmt,
    va_list ap)
{
	static const char *const names[] = { "debug", "info", "warn", "err" };
	char line[DLOG_LINE];
	const char *ts;
	long ms;
	int a, b;

	if (lvl > EG_LOG_ERR)
		lvl = EG_LOG_ERR;
	ts = stamp(&ms);
	if (dl.dropped > 0) {
		a = snprintf(line, sizeof(line), "ts=%s.%03ldZ level=warn "
		    "daemon=dohd event=log dropped=%llu", ts, ms,
		    (unsigned long long)dl.dropped);
		if (a > 0 && (size_t)a < sizeof(line) &&
		    append(line, (size_t)a))
			dl.dropped = 0;
	}
	a = snprintf(line, sizeof(line), "ts=%s.%03ldZ level=%s daemon=dohd "
	    "event=%s ", ts, ms, names[lvl], event);
	if (a <= 0 || (size_t)a >= sizeof(line))
		return;
	b = vsnprintf(line + a, sizeof(line) - (size_t)a, fmt, ap);
	if (b < 0)
		return;
	if ((size_t)b >= sizeof(line) - (size_t)a)
		b = (int)(sizeof(line) - (size_t)a - 1);	/* cut it */
	if (!append(line, (size_t)a + (size_t)b)) {
		dl.dropped++;
		dl.dropped_total++;
	}
}

void
dlog_flush(void)
{
	size_t off = 0;

	while (off < dl.n) {
		ssize_t w;

		if (dl.kind == DLOG_SOCKET)
			w = send(dl.fd, dl.buf + off, dl.n - off,
			    MSG_DONTWAIT | MSG_NOSIGNAL);
		else
			w = write(dl.fd, dl.buf + off, dl.n - off);
		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;	/* the reader is slow: the rest waits */
		off = dl.n;	/* broken: drop, as eg_log does */
	}
	if (off > 0 && off < dl.n)
		memmove(dl.buf, dl.buf + off, dl.n - off);
	dl.n -= off;
}
