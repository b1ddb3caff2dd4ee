/*
 * log.c - structured key=value lines on stderr.
 *
 * One line is formatted whole into a stack buffer and written with one
 * write(2), so lines from several processes sharing a journal stream never
 * interleave, and a slow or closed stderr never blocks the caller for more
 * than one failed write.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINE_MAX	4096
#define LOG_NAME_MAX	32

static char log_daemon[LOG_NAME_MAX] = "egressjail";
static enum eg_log_level log_min = EG_LOG_INFO;
/* stderr is journald's stream: each line starts with its priority. */
static bool log_journal;

static const char *const level_names[] = {
	[EG_LOG_DEBUG] = "debug",
	[EG_LOG_INFO] = "info",
	[EG_LOG_WARN] = "warn",
	[EG_LOG_ERR] = "err",
};

/*
 * journald reads a "<N>" syslog priority at the start of each line of a
 * stream it owns (SyslogLevelPrefix=, on by default) and files the line at
 * that priority, so "journalctl -p err" finds the errors; without it every
 * line is "info".  Only when stderr is that stream, which systemd says in
 * JOURNAL_STREAM ("DEV:INODE" of the socket it connected to stdout and
 * stderr): a terminal, a file or a pipe gets the bare line.
 */
static bool
stderr_is_journal(void)
{
	unsigned long long dev, ino;
	const char *e = getenv("JOURNAL_STREAM");
	struct stat st;
	char end;

	if (e == NULL || sscanf(e, "%llu:%llu%c", &dev, &ino, &end) != 2 ||
	    fstat(STDERR_FILENO, &st) == -1)
		return false;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
eg_log_init(const char *daemon, enum eg_log_level min)
{
	if (daemon != NULL)
		snprintf(log_daemon, sizeof(log_daemon), "%s", daemon);
	eg_log_set_level(min);
	log_journal = stderr_is_journal();
}

void
eg_log_set_level(enum eg_log_level min)
{
	if (min > EG_LOG_ERR)
		min = EG_LOG_ERR;
	log_min = min;
}

bool
eg_log_level_parse(const char *s, enum eg_log_level *out)
{
	static const struct {
		const char *name;
		enum eg_log_level lvl;
	} names[] = {
		{ "debug", EG_LOG_DEBUG },
		{ "info", EG_LOG_INFO },
		{ "warn", EG_LOG_WARN },
		{ "warning", EG_LOG_WARN },
		{ "err", EG_LOG_ERR },
		{ "error", EG_LOG_ERR },
	};
	size_t i;

	if (s == NULL)
		return false;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(s, names[i].name) == 0) {
			*out = names[i].lvl;
			return true;
		}
	}
	return false;
}

uint64_t
eg_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Append to a bounded line; a result that does not fit is cut, not lost. */
static void
line_add(char *line, size_t *off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
line_vadd(char *line, size_t *off, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void
line_vadd(char *line, size_t *off, const char *fmt, va_list ap)
{
	size_t room = LOG_LINE_MAX - 1 - *off;	/* keep one byte for '\n' */
	int n;

	if (room == 0)
		return;
	n = vsnprintf(line + *off, room, fmt, ap);
	if (n < 0)
		return;
	*off += (size_t)n < room ? (size_t)n : room - 1;
}

static void
line_add(char *line, size_t *off, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	line_vadd(line, off, fmt, ap);
	va_end(ap);
}

static void
log_line(enum eg_log_level lvl, const char *event, uint64_t suppressed,
    const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static void
log_line(enum eg_log_level lvl, const char *event, uint64_t suppressed,
    const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX], stamp[32];
	struct timespec ts;
	struct tm tm;
	size_t off = 0, mark;
	int saved = errno;

	if (lvl > EG_LOG_ERR)
		lvl = EG_LOG_ERR;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (gmtime_r(&ts.tv_sec, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		snprintf(stamp, sizeof(stamp), "1970-01-01T00:00:00");
	/* syslog priorities of debug, info, warn, err */
	if (log_journal)
		line_add(line, &off, "<%c>", "7643"[lvl]);
	line_add(line, &off, "ts=%s.%03ldZ level=%s daemon=%s event=%s",
	    stamp, ts.tv_nsec / 1000000, level_names[lvl], log_daemon,
	    event != NULL ? event : "-");
	if (fmt != NULL && fmt[0] != '\0') {
		mark = off;
		line_add(line, &off, " ");
		line_vadd(line, &off, fmt, ap);
		if (off == mark + 1)	/* no trailing blank for empty pairs */
			off = mark;
	}
	if (suppressed > 0)
		line_add(line, &off, " suppressed=%llu",
		    (unsigned long long)suppressed);
	line[off++] = '\n';
	/* A failed or short write is dropped: logging must never stall. */
	if (write(STDERR_FILENO, line, off) < 0)
		(void)0;
	errno = saved;
}

/* Restated here so the compiler checks the forwarding below. */
void eg_vlog(enum eg_log_level lvl, const char *event, const char *fmt,
    va_list ap) __attribute__((format(printf, 3, 0)));

void
eg_vlog(enum eg_log_level lvl, const char *event, const char *fmt, va_list ap)
{
	if (lvl < log_min)
		return;
	log_line(lvl, event, 0, fmt, ap);
}

void
eg_log(enum eg_log_level lvl, const char *event, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	eg_vlog(lvl, event, fmt, ap);
	va_end(ap);
}

void
eg_fatal(int status, const char *event, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(EG_LOG_ERR, event, 0, fmt, ap);
	va_end(ap);
	exit(status);
}

bool
eg_ratelimit_pass(struct eg_ratelimit *rl, uint64_t now_ms,
    uint64_t *suppressed)
{
	/* A clock that went backwards also starts a new window. */
	if (now_ms < rl->window_start ||
	    now_ms - rl->window_start >= rl->interval_ms) {
		rl->window_start = now_ms;
		rl->count = 0;
	}
	if (rl->count >= rl->burst) {
		if (rl->suppressed < UINT64_MAX)
			rl->suppressed++;
		return false;
	}
	rl->count++;
	if (suppressed != NULL)
		*suppressed = rl->suppressed;
	rl->suppressed = 0;
	return true;
}

void
eg_log_rl(struct eg_ratelimit *rl, enum eg_log_level lvl, const char *event,
    const char *fmt, ...)
{
	uint64_t suppressed = 0;
	va_list ap;

	if (lvl < log_min)
		return;
	if (!eg_ratelimit_pass(rl, eg_now_ms(), &suppressed))
		return;
	va_start(ap, fmt);
	log_line(lvl, event, suppressed, fmt, ap);
	va_end(ap);
}

/*
 * Always quoted, so a value can never be mistaken for another key=value
 * pair, and an empty or NULL value still shows as "".
 */
const char *
eg_log_quote(const char *s, size_t len, size_t max, char *buf, size_t buflen)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0, cut;
	unsigned char c;

	if (buf == NULL || buflen == 0)
		return "";
	if (buflen < 6) {		/* no room for even `"..."` */
		buf[0] = '\0';
		return buf;
	}
	if (s == NULL)
		len = 0;
	cut = len > max ? max : len;
	buf[o++] = '"';
	for (i = 0; i < cut; i++) {
		c = (unsigned char)s[i];
		/* Keep room for a 4-byte escape and the `..."` + NUL tail. */
		if (o + 4 + 5 > buflen) {
			cut = i;
			len = cut + 1;	/* force the "..." marker */
			break;
		}
		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c >= 0x20 && c < 0x7f) {
			buf[o++] = (char)c;
		} else {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 0xf];
		}
	}
	if (len > cut) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}
