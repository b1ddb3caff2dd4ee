/*
 * log.h - one structured line per event on stderr (journald adds time).
 *
 *   ts=2026-11-23T09:00:00.123Z level=info daemon=connectd event=decision src=10.77.0.2 ...
 *
 * Values are written with eg_log's printf format; values that may contain
 * spaces or come from the network must go through eg_log_quote(), which
 * bounds, escapes and quotes them.  Writing never blocks the event loop for
 * long: stderr is line-buffered and a failed write is dropped, not retried.
 */
#ifndef EG_LOG_H
#define EG_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum eg_log_level { EG_LOG_DEBUG, EG_LOG_INFO, EG_LOG_WARN, EG_LOG_ERR };

void eg_log_init(const char *daemon, enum eg_log_level min);
bool eg_log_level_parse(const char *s, enum eg_log_level *out);
void eg_log_set_level(enum eg_log_level min);

/* fmt holds the key=value pairs after "event=NAME". */
void eg_log(enum eg_log_level lvl, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void eg_vlog(enum eg_log_level lvl, const char *event, const char *fmt,
    va_list ap);

/* Log at ERR and exit(status).  For broken invariants and fatal start-up. */
void eg_fatal(int status, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

/*
 * Rate-limited logging for events a hostile peer can trigger at line rate:
 * at most `burst` lines per `interval_ms`; when lines were suppressed, the
 * next line that passes carries suppressed=N.
 */
struct eg_ratelimit {
	uint64_t interval_ms;
	uint32_t burst;
	uint64_t window_start;
	uint32_t count;
	uint64_t suppressed;
};
#define EG_RATELIMIT_INIT(ms, n) { (ms), (n), 0, 0, 0 }
bool eg_ratelimit_pass(struct eg_ratelimit *rl, uint64_t now_ms,
    uint64_t *suppressed);
void eg_log_rl(struct eg_ratelimit *rl, enum eg_log_level lvl,
    const char *event, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * Quote a value for a log line: printable ASCII kept, '"' and '\' escaped,
 * anything else as \xNN, cut at max input bytes with "..." appended.
 * Returns buf.  buflen of 4 * max + 8 is always enough.
 */
const char *eg_log_quote(const char *s, size_t len, size_t max, char *buf,
    size_t buflen);

uint64_t eg_now_ms(void);	/* CLOCK_MONOTONIC */

#endif
