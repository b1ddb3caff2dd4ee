/* dlog.h - decision lines, batched per loop turn, never blocking. */
#ifndef DOHD_DLOG_H
#define DOHD_DLOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "log.h"

/* Before the privilege drop and the sandbox (it may open /proc/self/fd/2). */
void dlog_init(uv_loop_t *loop);
bool dlog_active(void);
/* One line as eg_log would write it, sent at the end of the loop turn. */
void dlog_vline(enum eg_log_level lvl, const char *event, const char *fmt,
    va_list ap) __attribute__((format(printf, 3, 0)));
/* Write what is buffered, as far as the reader takes it now. */
void dlog_flush(void);
uint64_t dlog_dropped(void);

#endif
