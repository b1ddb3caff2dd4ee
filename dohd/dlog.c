/*
 * dlog.c - decision lines (one per query, at line rate) written in
 * batches without ever blocking the loop: libegress's eg_logbuf, flushed
 * at the end of every loop turn (a check handle), so a batch of queries
 * costs one write, not one each.  Other events still go through eg_log,
 * and straight away: against a stalled pipe, such a line can land in the
 * middle of a decision line that was only partly written.
 */
#include "dlog.h"
#include "logbuf.h"

#define DLOG_MAX	(256 * 1024)

static struct {
	bool on;
	uv_check_t check;
	uint64_t dropped_total;
	struct eg_logbuf lb;
} dl;

static void
on_turn(uv_check_t *h)
{
	dlog_flush();
}

void
dlog_init(uv_loop_t *loop)
{
	if (eg_logbuf_init(&dl.lb, "dohd", "log", DLOG_MAX) != 0)
		return;		/* decision lines then go through eg_log */
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

void
dlog_vline(enum eg_log_level lvl, const char *event, const char *fmt,
    va_list ap)
{
	if (!eg_logbuf_vline(&dl.lb, lvl, event, fmt, ap))
		dl.dropped_total++;
}

void
dlog_flush(void)
{
	if (dl.on)
		eg_logbuf_flush(&dl.lb);
}
