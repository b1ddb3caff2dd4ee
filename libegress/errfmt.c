/*
 * errfmt.c - how every libegress parser words an error: the bad input
 * quoted (bounded, escaped, any URL password replaced by "***") in front of
 * the reason.  Kept apart from the parsers so a secret is hidden the same
 * way whichever parser saw it.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "errfmt.h"

#define QUOTE_MAX EG_QUOTE_MAX

/*
 * Where the password of a URL-like text lies: from after the first ':' of
 * the userinfo to its last '@'.  The userinfo starts after the first "://"
 * before that '@', or at the start of the text when there is none, so a
 * broken URL ("htps://", no scheme, '@', '/' or a space in the password)
 * hides at least as much as a good one.  The user name stays visible.
 */
static bool
secret_span(const char *s, size_t *off, size_t *len)
{
	const char *at = strrchr(s, '@'), *start, *sch, *colon;

	if (at == NULL)
		return false;
	start = s;
	if ((sch = strstr(s, "://")) != NULL && sch < at)
		start = sch + 3;
	colon = memchr(start, ':', (size_t)(at - start));
	if (colon == NULL)
		return false;
	*off = (size_t)(colon + 1 - s);
	*len = (size_t)(at - colon - 1);
	return true;
}

const char *
eg_redact_userinfo(const char *s, char *buf, size_t len)
{
	size_t off, n;

	if (len == 0)
		return buf;
	if (!secret_span(s, &off, &n)) {
		snprintf(buf, len, "%s", s);
		return buf;
	}
	snprintf(buf, len, "%.*s***%s", (int)off, s, s + off + n);
	return buf;
}

const char *
eg_err_quote(const char *s, char *buf, size_t len)
{
	size_t i = 0, o = 0, q = 0, off = SIZE_MAX, n = 0;

	/* redact before cutting, so no prefix of a password shows */
	secret_span(s, &off, &n);
	while (s[i] != '\0' && q < QUOTE_MAX && o + 5 < len) {
		unsigned char c = (unsigned char)s[i];

		if (i == off) {
			memcpy(buf + o, "***", 3);
			o += 3;
			q += 3;
			i += n;
			off = SIZE_MAX;
			continue;
		}
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
		i++;
		q++;
	}
	if (s[i] != '\0' && o + 4 < len) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

void
eg_seterr(char *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(err, EG_ERR_MAX, fmt, ap);
	va_end(ap);
}

/* Append, truncating: a cut reason beats a lost message. */
static void
cat(char *dst, size_t len, const char *src)
{
	size_t o = strlen(dst);

	while (*src != '\0' && o + 1 < len)
		dst[o++] = *src++;
	dst[o] = '\0';
}

/* Error with the whole input quoted in front: "\"x\": reason". */
void
eg_seterrq(char *err, const char *in, const char *fmt, ...)
{
	char q[QUOTE_MAX * 4 + 8], r[EG_ERR_MAX];
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(r, sizeof(r), fmt, ap);
	va_end(ap);
	err[0] = '\0';
	cat(err, EG_ERR_MAX, "\"");
	cat(err, EG_ERR_MAX, eg_err_quote(in, q, sizeof(q)));
	cat(err, EG_ERR_MAX, "\": ");
	cat(err, EG_ERR_MAX, r);
}
