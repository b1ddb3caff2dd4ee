/*
 * sbuf.c - a growing text buffer: measure, grow (doubling), print.
 * After a failed allocation every call does nothing and sb_take answers
 * NULL, so a renderer checks once at the end.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "sbuf.h"

void
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	size_t need, cap;
	char *np;
	int n;

	if (b->oom)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	need = b->len + (size_t)n + 1;
	if (need > b->cap) {
		for (cap = b->cap ? b->cap : 1024; cap < need; cap *= 2)
			;
		if ((np = realloc(b->p, cap)) == NULL) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

char *
sb_take(struct sbuf *b, size_t *len)
{
	char *p;

	if (!b->oom && b->p == NULL && (b->p = calloc(1, 1)) == NULL)
		b->oom = true;
	if (b->oom) {
		free(b->p);
		b->p = NULL;
		return NULL;
	}
	p = b->p;
	*len = b->len;
	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}
