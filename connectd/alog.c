/*
 * alog.c - the access log (one line per connection) and the other lines
 * a client can cause at line rate (report), never blocking the event loop.
 *
 * Lines go into one bounded buffer (CD_ALOG_MAX); a 100 ms timer, a
 * buffer past CD_ALOG_SOON, a reload and the exit write it to stderr in
 * as few writes as it takes.  stderr is written without blocking: a
 * socket (journald) with MSG_DONTWAIT, a pipe through a descriptor of its
 * own opened O_NONBLOCK at start-up (the shared one stays as it was); a
 * regular file or a terminal with plain write(2), which the kernel's page
 * cache absorbs.  When the reader stalls and the buffer is full, new lines
 * are dropped and counted (connectd_access_log_dropped_total), and the
 * next write says how many with an "event=access-log dropped=N" line.
 * Other log lines still go straight to stderr through eg_log.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cd.h"
#include "log.h"

#define CD_ALOG_MAX	(256 * 1024)
#define CD_ALOG_SOON	(32 * 1024)
#define CD_ALOG_LINE	4096
#define CD_ALOG_TICK_MS	100

enum alog_kind { ALOG_WRITE, ALOG_SOCKET };

static struct {
	char buf[CD_ALOG_MAX];
	size_t n;
	int fd;
	enum alog_kind kind;
	enum eg_log_level min;	/* [jail] log_level */
	bool timer_live;
	uv_timer_t timer;
	uint64_t pending_drops;	/* not yet reported in the log */
	time_t stamp_sec;
	char stamp[32];
} alog = { .fd = -1 };

static void on_alog_tick(uv_timer_t *t);
static void stamp_now(void);

/* Before the sandbox: a pipe gets a non-blocking descriptor of its own. */
void
cd_alog_init(struct cd *cd, const struct eg_config *cfg)
{
	enum eg_log_level lvl = EG_LOG_INFO;
	struct stat st;
	int fd;

	if (cfg->jail.log_level != NULL &&
	    !eg_log_level_parse(cfg->jail.log_level, &lvl))
		lvl = EG_LOG_INFO;
	alog.min = lvl;
	alog.fd = STDERR_FILENO;
	alog.kind = ALOG_WRITE;
	if (fstat(STDERR_FILENO, &st) == 0) {
		if (S_ISSOCK(st.st_mode))
			alog.kind = ALOG_SOCKET;
		else if (S_ISFIFO(st.st_mode) && (fd = open("/proc/self/fd/2",
		    O_WRONLY | O_NONBLOCK | O_CLOEXEC)) >= 0)
			alog.fd = fd;
	}
	uv_timer_init(cd->loop, &alog.timer);
	alog.timer.data = cd;
	uv_unref((uv_handle_t *)&alog.timer);
}

static void
alog_note_drops(struct cd *cd)
{
	int k;

	if (alog.pending_drops == 0)
		return;
	stamp_now();
	k = snprintf(alog.buf + alog.n, CD_ALOG_MAX - alog.n,
	    "ts=%s level=warn daemon=connectd event=access-log dropped=%llu "
	    "note=\"the log did not keep up\"\n", alog.stamp,
	    (unsigned long long)alog.pending_drops);
	if (k > 0 && (size_t)k < CD_ALOG_MAX - alog.n) {
		alog.n += (size_t)k;
		alog.pending_drops = 0;
	}
}

/* Write what the reader takes now; keep the rest. */
void
cd_alog_flush(struct cd *cd)
{
	size_t off = 0;
	ssize_t k;

	while (off < alog.n) {
		if (alog.kind == ALOG_SOCKET)
			k = send(alog.fd, alog.buf + off, alog.n - off,
			    MSG_DONTWAIT | MSG_NOSIGNAL);
		else
			k = write(alog.fd, alog.buf + off, alog.n - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		off += (size_t)k;
	}
	if (off > 0) {
		memmove(alog.buf, alog.buf + off, alog.n - off);
		alog.n -= off;
	}
	if (alog.n == 0 && alog.pending_drops > 0) {
		alog_note_drops(cd);
		if (alog.n > 0)
			cd_alog_flush(cd);
	}
	if (alog.n == 0 && alog.timer_live) {
		uv_timer_stop(&alog.timer);
		alog.timer_live = false;
	}
}

static void
on_alog_tick(uv_timer_t *t)
{
	cd_alog_flush(t->data);
}

static void
stamp_now(void)
{
	struct timespec ts;
	struct tm tm;
	char sec[24];

	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != alog.stamp_sec || alog.stamp[0] == '\0') {
		alog.stamp_sec = ts.tv_sec;
		if (gmtime_r(&ts.tv_sec, &tm) == NULL ||
		    strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
			snprintf(sec, sizeof(sec), "1970-01-01T00:00:00");
		memcpy(alog.stamp, sec, sizeof(sec));
	}
	/* the same shape as eg_log's: seconds, then milliseconds */
	snprintf(alog.stamp + 19, sizeof(alog.stamp) - 19, ".%03uZ",
	    (unsigned)(ts.tv_nsec / 1000000) % 1000);
}

void
cd_alog(struct cd *cd, enum eg_log_level lvl, const char *event,
    const char *fmt, ...)
{
	static const char *const names[] = { "debug", "info", "warn", "err" };
	char line[CD_ALOG_LINE];
	va_list ap;
	size_t off;
	int k;

	if (alog.fd < 0 || lvl < alog.min || lvl > EG_LOG_ERR)
		return;
	stamp_now();
	k = snprintf(line, sizeof(line), "ts=%s level=%s daemon=connectd "
	    "event=%s ", alog.stamp, names[lvl], event);
	if (k < 0)
		return;
	off = (size_t)k;
	va_start(ap, fmt);
	k = vsnprintf(line + off, sizeof(line) - off - 1, fmt, ap);
	va_end(ap);
	if (k < 0)
		return;
	off += (size_t)k < sizeof(line) - off - 1 ? (size_t)k :
	    sizeof(line) - off - 2;
	line[off++] = '\n';
	if (off > CD_ALOG_MAX - alog.n) {
		cd_alog_flush(cd);
		if (off > CD_ALOG_MAX - alog.n) {
			cd->m.log_dropped++;
			alog.pending_drops++;
			return;
		}
	}
	memcpy(alog.buf + alog.n, line, off);
	alog.n += off;
	cd->m.log_lines++;
	if (alog.n >= CD_ALOG_SOON)
		cd_alog_flush(cd);
	if (alog.n > 0 && !alog.timer_live) {
		uv_timer_start(&alog.timer, on_alog_tick, CD_ALOG_TICK_MS,
		    CD_ALOG_TICK_MS);
		alog.timer_live = true;
	}
}
