/*
 * logbuf.h - log lines a peer can cause at line rate (connectd's access
 * log, dohd's decisions), kept in one bounded buffer and written to
 * stderr without ever blocking.
 *
 * Lines have eg_log's shape.  stderr is written without blocking: a socket
 * (journald) with MSG_DONTWAIT, a pipe through a descriptor of its own
 * opened O_NONBLOCK at start-up (the shared one keeps its flags), a file or
 * a terminal with write(2), which the page cache absorbs.  What a stalled
 * reader leaves waits for the next flush; when the buffer is full, lines
 * are dropped and counted, and the next line that fits says how many
 * ("event=<drop_event> dropped=N").  When to flush is the caller's choice
 * (a timer, the end of a loop turn).
 */
#ifndef EG_LOGBUF_H
#define EG_LOGBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "log.h"

#define EG_LOGBUF_LINE	4096	/* longer lines are cut */

struct eg_logbuf {
	const char *daemon;
	const char *drop_event;
	int fd;
	bool socket;
	char *buf;
	size_t n, cap;
	uint64_t pending_drops;		/* not yet told in the log */
	time_t stamp_sec;
	char stamp[32];
};

/* Before the privilege drop and the sandbox (it may open /proc/self/fd/2).
 * Returns 0, or -1 when the buffer cannot be had. */
int eg_logbuf_init(struct eg_logbuf *lb, const char *daemon,
    const char *drop_event, size_t cap);
/* Queue one line; false when it was dropped (the buffer stayed full even
 * after a write of what it held). */
bool eg_logbuf_vline(struct eg_logbuf *lb, enum eg_log_level lvl,
    const char *event, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
/* Write what the reader takes now; keep the rest. */
void eg_logbuf_flush(struct eg_logbuf *lb);
static inline size_t
eg_logbuf_pending(const struct eg_logbuf *lb)
{
	return lb->n;
}

#endif
