/*
 * sbuf.h - a growing text buffer for the pages connectd renders
 * (/metrics, /health, the peers' families).  Pure: no libuv, no libegress.
 */
#ifndef CD_SBUF_H
#define CD_SBUF_H

#include <stdbool.h>
#include <stddef.h>

struct sbuf {
	char *p;		/* NUL-terminated once anything was added */
	size_t len, cap;
	bool oom;		/* an allocation failed: the text is lost */
};

#define SBUF_INIT	{ NULL, 0, 0, false }

void sb_printf(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The text (never NULL unless out of memory; "" when nothing was added)
 * and its length; the caller frees it.  NULL after a failed allocation
 * (the buffer is freed). */
char *sb_take(struct sbuf *b, size_t *len);

#endif
