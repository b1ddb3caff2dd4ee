/*
 * errfmt.h - private to libegress: the pieces every parser's error
 * messages share, so a bad value is quoted the same way everywhere.
 */
#ifndef EG_ERRFMT_H
#define EG_ERRFMT_H

#include <stddef.h>

#define EG_QUOTE_MAX 64			/* bytes of input quoted in a message */
#define EG_QUOTE_BUF (EG_QUOTE_MAX * 4 + 8)

/*
 * Quote at most EG_QUOTE_MAX bytes of s into buf, escaping anything that
 * is not printable ASCII, so a message never carries control bytes.
 */
const char *eg_err_quote(const char *s, char *buf, size_t len);

/* Format into err (EG_ERR_MAX bytes) unless err is NULL. */
void eg_seterr(char *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Format into err as "\"<input quoted>\": <reason>", the shape of every
 * parser's error, unless err is NULL.
 */
void eg_seterrq(char *err, const char *in, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
