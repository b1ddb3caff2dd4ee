/*
 * value.c - the config values that are not addresses: DNS names,
 * durations, sizes and booleans.  Every parser is bounded (a name by
 * EG_NAME_MAX, a number by its unit's ceiling) and words its errors with
 * eg_seterrq, so the bad input is quoted the same way as an address's.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "errfmt.h"

#define DURATION_MAX_MS (366ULL * 24 * 3600 * 1000)
#define SIZE_MAX_BYTES (1ULL << 50)

static bool
name_char_ok(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '_';
}

/*
 * LDH plus '_' (SRV-style and some real service names use it).  A label
 * may not start or end with '-': such names are not valid host names and
 * a leading '-' invites option injection into tools that log or resolve.
 */
bool
eg_name_normalise(const char *in, char *out, char *err)
{
	char buf[EG_NAME_MAX + 1];
	size_t i, n, lab = 0;

	if (in == NULL || (n = strlen(in)) == 0) {
		eg_seterr(err, "empty name");
		return false;
	}
	if (in[n - 1] == '.')
		n--;
	if (n == 0) {
		eg_seterrq(err, in, "empty name");
		return false;
	}
	if (n > EG_NAME_MAX) {
		eg_seterrq(err, in, "name longer than %d bytes", EG_NAME_MAX);
		return false;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == '.') {
			if (lab == 0) {
				eg_seterrq(err, in, "empty label");
				return false;
			}
			if (buf[i - 1] == '-') {
				eg_seterrq(err, in, "label ends with '-'");
				return false;
			}
			lab = 0;
			buf[i] = '.';
			continue;
		}
		if (!name_char_ok(c)) {
			eg_seterrq(err, in, "invalid character in name "
			    "(letters, digits, '-', '_' only)");
			return false;
		}
		if (lab == 0 && c == '-') {
			eg_seterrq(err, in, "label starts with '-'");
			return false;
		}
		if (++lab > EG_LABEL_MAX) {
			eg_seterrq(err, in, "label longer than %d bytes",
			    EG_LABEL_MAX);
			return false;
		}
		buf[i] = (char)tolower(c);
	}
	if (lab == 0) {
		eg_seterrq(err, in, "empty label");
		return false;
	}
	if (buf[n - 1] == '-') {
		eg_seterrq(err, in, "label ends with '-'");
		return false;
	}
	memcpy(out, buf, n);
	out[n] = '\0';
	return true;
}

/* Leading decimal digits into *v; false on none or on overflow. */
static bool
digits(const char **sp, uint64_t *v)
{
	const char *s = *sp;
	uint64_t x = 0;

	if (!isdigit((unsigned char)*s))
		return false;
	for (; isdigit((unsigned char)*s); s++) {
		unsigned d = (unsigned)(*s - '0');

		if (x > (UINT64_MAX - d) / 10)
			return false;
		x = x * 10 + d;
	}
	*sp = s;
	*v = x;
	return true;
}

bool
eg_duration_parse(const char *s, uint64_t *ms, char *err)
{
	const char *p = s;
	uint64_t v, mul;

	if (s == NULL || !digits(&p, &v)) {
		eg_seterrq(err, s ? s : "", "duration must be a number with "
		    "ms, s, m or h");
		return false;
	}
	if (strcmp(p, "ms") == 0)
		mul = 1;
	else if (*p == '\0' || strcmp(p, "s") == 0)
		mul = 1000;
	else if (strcmp(p, "m") == 0)
		mul = 60 * 1000;
	else if (strcmp(p, "h") == 0)
		mul = 3600 * 1000;
	else {
		eg_seterrq(err, s, "unknown duration unit (ms, s, m, h)");
		return false;
	}
	if (v > DURATION_MAX_MS / mul) {
		eg_seterrq(err, s, "duration longer than 366 days");
		return false;
	}
	*ms = v * mul;
	return true;
}

bool
eg_size_parse(const char *s, uint64_t *bytes, char *err)
{
	const char *p = s;
	uint64_t v, mul;

	if (s == NULL || !digits(&p, &v)) {
		eg_seterrq(err, s ? s : "", "size must be a number with k, M "
		    "or G");
		return false;
	}
	if (*p == '\0')
		mul = 1;
	else if (strcmp(p, "k") == 0 || strcmp(p, "K") == 0)
		mul = 1ULL << 10;
	else if (strcmp(p, "M") == 0)
		mul = 1ULL << 20;
	else if (strcmp(p, "G") == 0)
		mul = 1ULL << 30;
	else {
		eg_seterrq(err, s, "unknown size unit (k, M, G)");
		return false;
	}
	if (v > SIZE_MAX_BYTES / mul) {
		eg_seterrq(err, s, "size too large");
		return false;
	}
	*bytes = v * mul;
	return true;
}

bool
eg_bool_parse(const char *s, bool *out)
{
	static const char *yes[] = { "yes", "true", "on", "1" };
	static const char *no[] = { "no", "false", "off", "0" };
	size_t i;

	if (s == NULL)
		return false;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}
