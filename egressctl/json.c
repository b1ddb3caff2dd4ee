/*
 * json.c - the smallest JSON writer that is safe with hostile input.
 *
 * Everything a daemon or a config file says is untrusted: quotes,
 * backslashes, control characters and every byte outside printable ASCII
 * are escaped, the last as \u00XX of the byte, so invalid UTF-8 can never
 * make the document invalid (a byte of a multi-byte sequence reads back
 * as the Latin-1 character of the same value).
 */
#include <stdio.h>
#include <string.h>

#include "egressctl.h"

void
json_escape(FILE *out, const char *s, size_t n)
{
	size_t i;

	putc('"', out);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '"':
			fputs("\\\"", out);
			break;
		case '\\':
			fputs("\\\\", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\r':
			fputs("\\r", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		case '\b':
			fputs("\\b", out);
			break;
		case '\f':
			fputs("\\f", out);
			break;
		default:
			if (c < 0x20 || c >= 0x7f)
				fprintf(out, "\\u%04x", c);
			else
				putc(c, out);
		}
	}
	putc('"', out);
}

void
json_init(struct json *j, FILE *out)
{
	memset(j, 0, sizeof(*j));
	j->out = out;
	j->first[0] = true;
}

/* Comma and key before a value; deeper than the limit is a bug. */
static void
member(struct json *j, const char *key)
{
	if (!j->first[j->depth])
		putc(',', j->out);
	j->first[j->depth] = false;
	if (key != NULL) {
		json_escape(j->out, key, strlen(key));
		putc(':', j->out);
	}
}

static void
open_(struct json *j, const char *key, int ch)
{
	member(j, key);
	putc(ch, j->out);
	if (j->depth < JSON_MAX_DEPTH)
		j->depth++;
	j->first[j->depth] = true;
}

static void
close_(struct json *j, int ch)
{
	putc(ch, j->out);
	if (j->depth > 0)
		j->depth--;
}

void
json_obj_begin(struct json *j, const char *key)
{
	open_(j, key, '{');
}

void
json_obj_end(struct json *j)
{
	close_(j, '}');
}

void
json_arr_begin(struct json *j, const char *key)
{
	open_(j, key, '[');
}

void
json_arr_end(struct json *j)
{
	close_(j, ']');
}

void
json_strn(struct json *j, const char *key, const char *val, size_t n)
{
	member(j, key);
	if (val == NULL)
		fputs("null", j->out);
	else
		json_escape(j->out, val, n);
}

void
json_str(struct json *j, const char *key, const char *val)
{
	json_strn(j, key, val, val != NULL ? strlen(val) : 0);
}

void
json_int(struct json *j, const char *key, long long val)
{
	member(j, key);
	fprintf(j->out, "%lld", val);
}

void
json_bool(struct json *j, const char *key, bool val)
{
	member(j, key);
	fputs(val ? "true" : "false", j->out);
}

void
json_null(struct json *j, const char *key)
{
	member(j, key);
	fputs("null", j->out);
}

void
json_finish(struct json *j)
{
	putc('\n', j->out);
}

void
json_kv_lines(struct json *j, const char *text)
{
	const char *p = text, *nl, *eq;
	char key[128];
	size_t klen;

	while (*p != '\0') {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		eq = memchr(p, '=', (size_t)(nl - p));
		if (nl > p && eq != NULL && eq > p) {
			klen = (size_t)(eq - p);
			if (klen >= sizeof(key))
				klen = sizeof(key) - 1;
			memcpy(key, p, klen);
			key[klen] = '\0';
			json_strn(j, key, eq + 1, (size_t)(nl - eq - 1));
		} else if (nl > p) {
			/* a line that is not key=value is kept, not lost */
			json_strn(j, "", p, (size_t)(nl - p));
		}
		p = *nl == '\0' ? nl : nl + 1;
	}
}
