/*
 * logbuf.c - the bounded, never-blocking line buffer behind connectd's
 * access log and dohd's decision log (see logbuf.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "logbuf.h"

int
eg_logbuf_init(struct eg_logbuf *lb, const char *daemon,
    const char *drop_event, size_t cap)
{
	struct stat st;
	int fd;

	memset(lb, 0, sizeof(*lb));
	if ((lb->buf = malloc(cap)) == NULL)
		return -1;
	lb->cap = cap;
	lb->daemon = daemon;
	lb->drop_event = drop_event;
	lb->fd = STDERR_FILENO;
	if (fstat(STDERR_FILENO, &st) == 0) {
		if (S_ISSOCK(st.st_mode))
			lb->socket = true;
		else if (S_ISFIFO(st.st_mode) && (fd = open("/proc/self/fd/2",
		    O_WRONLY | O_NONBLOCK | O_CLOEXEC)) >= 0)
			lb->fd = fd;	/* else blocking writes, as eg_log */
	}
	return 0;
}

/* The time as eg_log writes it; the seconds part formatted once a second. */
static const char *
stamp(struct eg_logbuf *lb, long *ms)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	*ms = ts.tv_nsec / 1000000;
	if (ts.tv_sec != lb->stamp_sec || lb->stamp[0] == '\0') {
		lb->stamp_sec = ts.tv_sec;
		if (gmtime_r(&ts.tv_sec, &tm) == NULL ||
		    strftime(lb->stamp, sizeof(lb->stamp), "%Y-%m-%dT%H:%M:%S",
		    &tm) == 0)
			snprintf(lb->stamp, sizeof(lb->stamp),
			    "1970-01-01T00:00:00");
	}
	return lb->stamp;
}

/* s at line[*n], if it fits with room left for more; else false. */
static bool
put(char *line, size_t cap, size_t *n, const char *s, size_t len)
{
	if (cap - *n <= len)
		return false;
	memcpy(line + *n, s, len);
	*n += len;
	return true;
}

/*
 * "ts=STAMP.MMMZ level=L daemon=D event=E " into line: its length, or -1
 * when it does not fit.  By hand: snprintf was a third of the cost of an
 * access log line, and every connection writes one.
 */
static int
head(char *line, size_t cap, const char *ts, long ms, const char *lvl,
    const char *daemon, const char *event)
{
	char m[6] = { '.', '0', '0', '0', 'Z', ' ' };
	size_t n = 0;

	if (ms < 0 || ms > 999)
		ms = 0;
	m[1] = (char)('0' + ms / 100);
	m[2] = (char)('0' + ms / 10 % 10);
	m[3] = (char)('0' + ms % 10);
	if (!put(line, cap, &n, "ts=", 3) ||
	    !put(line, cap, &n, ts, strlen(ts)) ||
	    !put(line, cap, &n, m, sizeof(m)) ||
	    !put(line, cap, &n, "level=", 6) ||
	    !put(line, cap, &n, lvl, strlen(lvl)) ||
	    !put(line, cap, &n, " daemon=", 8) ||
	    !put(line, cap, &n, daemon, strlen(daemon)) ||
	    !put(line, cap, &n, " event=", 7) ||
	    !put(line, cap, &n, event, strlen(event)) ||
	    !put(line, cap, &n, " ", 1))
		return -1;
	line[n] = '\0';
	return (int)n;
}

/* Append one line (without its newline) if it fits whole. */
static bool
append(struct eg_logbuf *lb, const char *line, size_t len)
{
	if (lb->cap - lb->n < len + 1)
		return false;
	memcpy(lb->buf + lb->n, line, len);
	lb->n += len;
	lb->buf[lb->n++] = '\n';
	return true;
}

static void
note_drops(struct eg_logbuf *lb)
{
	char line[256];
	long ms;
	const char *ts;
	int a;

	if (lb->pending_drops == 0)
		return;
	ts = stamp(lb, &ms);
	a = snprintf(line, sizeof(line), "ts=%s.%03ldZ level=warn daemon=%s "
	    "event=%s dropped=%llu note=\"the log did not keep up\"", ts, ms,
	    lb->daemon, lb->drop_event,
	    (unsigned long long)lb->pending_drops);
	if (a > 0 && (size_t)a < sizeof(line) && append(lb, line, (size_t)a))
		lb->pending_drops = 0;
}

bool
eg_logbuf_vline(struct eg_logbuf *lb, enum eg_log_level lvl,
    const char *event, const char *fmt, va_list ap)
{
	static const char *const names[] = { "debug", "info", "warn", "err" };
	char line[EG_LOGBUF_LINE];
	const char *ts;
	long ms;
	int a, b;

	if (lvl > EG_LOG_ERR)
		lvl = EG_LOG_ERR;
	note_drops(lb);
	ts = stamp(lb, &ms);
	if ((a = head(line, sizeof(line), ts, ms, names[lvl], lb->daemon,
	    event)) < 0)
		return false;
	b = vsnprintf(line + a, sizeof(line) - (size_t)a, fmt, ap);
	if (b < 0)
		return false;
	if ((size_t)b >= sizeof(line) - (size_t)a)
		b = (int)(sizeof(line) - (size_t)a - 1);	/* cut it */
	if (append(lb, line, (size_t)a + (size_t)b))
		return true;
	/* Full: write what the reader takes now, then try once more. */
	eg_logbuf_flush(lb);
	if (append(lb, line, (size_t)a + (size_t)b))
		return true;
	lb->pending_drops++;
	return false;
}

void
eg_logbuf_flush(struct eg_logbuf *lb)
{
	size_t off = 0;

	while (off < lb->n) {
		ssize_t w;

		if (lb->socket)
			w = send(lb->fd, lb->buf + off, lb->n - off,
			    MSG_DONTWAIT | MSG_NOSIGNAL);
		else
			w = write(lb->fd, lb->buf + off, lb->n - off);
		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;	/* the reader is slow: the rest waits */
		off = lb->n;	/* broken: drop, as eg_log does */
	}
	if (off > 0 && off < lb->n)
		memmove(lb->buf, lb->buf + off, lb->n - off);
	lb->n -= off;
	/* Emptied with drops untold: say so now, not only with the next line. */
	if (lb->n == 0 && lb->pending_drops > 0) {
		note_drops(lb);
		if (lb->n > 0)
			eg_logbuf_flush(lb);
	}
}
