/*
 * alog.c - the access log (one line per connection) and the other lines
 * a client can cause at line rate (report), never blocking the event loop:
 * libegress's eg_logbuf (bounded, non-blocking, drops counted in
 * connectd_access_log_dropped_total and told in the log as
 * "event=access-log dropped=N"), written by a 100 ms timer, when more than
 * CD_ALOG_SOON is waiting, at a reload and at the exit.  Other log lines
 * still go straight to stderr through eg_log.
 */
#include <stdarg.h>

#include "cd.h"
#include "daemon.h"
#include "log.h"
#include "logbuf.h"

#define CD_ALOG_MAX	(256 * 1024)
#define CD_ALOG_SOON	(32 * 1024)
#define CD_ALOG_TICK_MS	100

static struct {
	bool on;
	enum eg_log_level min;	/* [jail] log_level */
	bool timer_live;
	uv_timer_t timer;
	struct eg_logbuf lb;
} alog;

static void
on_alog_tick(uv_timer_t *t)
{
	cd_alog_flush(t->data);
}

/* Before the sandbox: a pipe gets a non-blocking descriptor of its own. */
void
cd_alog_init(struct cd *cd, const struct eg_config *cfg)
{
	enum eg_log_level lvl = EG_LOG_INFO;

	if (cfg->jail.log_level != NULL &&
	    !eg_log_level_parse(cfg->jail.log_level, &lvl))
		lvl = EG_LOG_INFO;
	alog.min = lvl;
	if (eg_logbuf_init(&alog.lb, "connectd", "access-log",
	    CD_ALOG_MAX) != 0)
		eg_fatal(EG_EXIT_RUNTIME, "access_log", "error=\"out of "
		    "memory for the log buffer\"");
	uv_timer_init(cd->loop, &alog.timer);
	alog.timer.data = cd;
	uv_unref((uv_handle_t *)&alog.timer);
	alog.on = true;
}

void
cd_alog_flush(struct cd *cd)
{
	(void)cd;
	if (!alog.on)
		return;
	eg_logbuf_flush(&alog.lb);
	if (eg_logbuf_pending(&alog.lb) == 0 && alog.timer_live) {
		uv_timer_stop(&alog.timer);
		alog.timer_live = false;
	}
}

void
cd_alog(struct cd *cd, enum eg_log_level lvl, const char *event,
    const char *fmt, ...)
{
	va_list ap;
	bool ok;

	if (!alog.on || lvl < alog.min || lvl > EG_LOG_ERR)
		return;
	va_start(ap, fmt);
	ok = eg_logbuf_vline(&alog.lb, lvl, event, fmt, ap);
	va_end(ap);
	if (!ok) {
		cd->m.log_dropped++;
		return;
	}
	cd->m.log_lines++;
	if (eg_logbuf_pending(&alog.lb) >= CD_ALOG_SOON)
		cd_alog_flush(cd);
	if (eg_logbuf_pending(&alog.lb) > 0 && !alog.timer_live) {
		uv_timer_start(&alog.timer, on_alog_tick, CD_ALOG_TICK_MS,
		    CD_ALOG_TICK_MS);
		alog.timer_live = true;
	}
}
