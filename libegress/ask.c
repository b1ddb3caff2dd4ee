/*
 * ask.c - the ask-mode line protocol (see ask.h): bounded parsers and the
 * formatters whose output they accept.  Pure; connectd's broker and
 * `egressctl ask` do the I/O.
 *
 * A line is split strictly: printable ASCII, fields separated by exactly
 * one space, no leading or trailing space, a fixed number of fields.  Two
 * spellings of one answer would be two things to get wrong, so there is
 * one.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "ask.h"
#include "config.h"
#include "errfmt.h"

#define FIELDS_MAX 8

struct fields {
	char buf[EG_ASK_LINE_MAX];
	char *f[FIELDS_MAX];
	size_t n;
};

static bool
split(const char *line, size_t len, struct fields *fs, char *err)
{
	size_t i;
	char *start;

	if (len == 0) {
		eg_seterr(err, "empty line");
		return false;
	}
	if (len >= EG_ASK_LINE_MAX) {
		eg_seterr(err, "line longer than %d bytes", EG_ASK_LINE_MAX - 1);
		return false;
	}
	memcpy(fs->buf, line, len);
	fs->buf[len] = '\0';
	fs->n = 0;
	start = fs->buf;
	for (i = 0; i <= len; i++) {
		unsigned char c = (unsigned char)fs->buf[i];

		if (c != '\0' && c != ' ') {
			if (c < 0x21 || c > 0x7e) {
				eg_seterr(err, "byte 0x%02x at %zu is not "
				    "printable ASCII", c, i);
				return false;
			}
			continue;
		}
		if (&fs->buf[i] == start) {
			eg_seterr(err, "empty field at byte %zu", i);
			return false;
		}
		if (fs->n == FIELDS_MAX) {
			eg_seterr(err, "more than %d fields", FIELDS_MAX);
			return false;
		}
		fs->buf[i] = '\0';
		fs->f[fs->n++] = start;
		start = &fs->buf[i + 1];
	}
	return true;
}

/* Decimal, no sign, no leading zero, at most max. */
static bool
number(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0') || strlen(s) > 20)
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		if (v > (max - (uint64_t)(s[i] - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return true;
}

static bool
parse_id(const char *s, uint32_t *id, char *err)
{
	uint64_t v;

	if (!number(s, UINT32_MAX, &v) || v == 0) {
		eg_seterr(err, "an id is 1-4294967295 without leading zeros");
		return false;
	}
	*id = (uint32_t)v;
	return true;
}

/* Workload names as in workload.c, plus "default" for [policy]. */
static bool
workload_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > EG_ASK_WL_MAX)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (islower(c) || isdigit(c) ||
		    (i > 0 && (c == '-' || c == '_')))
			continue;
		return false;
	}
	return true;
}

bool
eg_ask_parse_question(const char *line, size_t len,
    struct eg_ask_question *out, char *err)
{
	struct eg_ask_question q;
	struct fields fs;
	char nerr[EG_ERR_MAX];
	uint64_t v;

	if (!split(line, len, &fs, err))
		return false;
	if (fs.n != 7 || strcmp(fs.f[0], "ask") != 0) {
		eg_seterr(err, "a question is \"ask ID WORKLOAD KIND NAME ARG "
		    "SOURCE\"");
		return false;
	}
	memset(&q, 0, sizeof(q));
	if (!parse_id(fs.f[1], &q.id, err))
		return false;
	if (!workload_valid(fs.f[2])) {
		eg_seterr(err, "bad workload name");
		return false;
	}
	memcpy(q.workload, fs.f[2], strlen(fs.f[2]) + 1);
	if (strcmp(fs.f[3], "tcp") == 0)
		q.kind = EG_ASK_TCP;
	else if (strcmp(fs.f[3], "dns") == 0)
		q.kind = EG_ASK_DNS;
	else {
		eg_seterr(err, "kind is tcp or dns");
		return false;
	}
	/* The name must already be in normal form: a decider that sees a
	 * name must see the one the policy will be asked about. */
	if (strlen(fs.f[4]) > EG_NAME_MAX ||
	    !eg_name_normalise(fs.f[4], q.name, nerr) ||
	    strcmp(q.name, fs.f[4]) != 0 || eg_is_ip_literal(q.name)) {
		eg_seterr(err, "bad name");
		return false;
	}
	if (!number(fs.f[5], UINT16_MAX, &v) || v == 0) {
		eg_seterr(err, "%s is 1-65535",
		    q.kind == EG_ASK_TCP ? "a port" : "a qtype");
		return false;
	}
	q.arg = (uint16_t)v;
	if (strchr(fs.f[6], '[') != NULL || strchr(fs.f[6], '%') != NULL ||
	    !eg_ip_parse(fs.f[6], &q.source, true)) {
		eg_seterr(err, "source is an IP address");
		return false;
	}
	*out = q;
	return true;
}

bool
eg_ask_parse_answer(const char *line, size_t len, struct eg_ask_answer *out,
    char *err)
{
	struct eg_ask_answer a;
	struct fields fs;
	char derr[EG_ERR_MAX];

	if (!split(line, len, &fs, err))
		return false;
	memset(&a, 0, sizeof(a));
	if (fs.n < 2 || fs.n > 3) {
		eg_seterr(err, "an answer is \"ID allow once|DURATION|always\" "
		    "or \"ID deny\"");
		return false;
	}
	if (!parse_id(fs.f[0], &a.id, err))
		return false;
	if (fs.n == 2 && strcmp(fs.f[1], "deny") == 0)
		a.verdict = EG_ASK_DENY;
	else if (fs.n == 3 && strcmp(fs.f[1], "allow") == 0) {
		if (strcmp(fs.f[2], "once") == 0)
			a.verdict = EG_ASK_ONCE;
		else if (strcmp(fs.f[2], "always") == 0)
			a.verdict = EG_ASK_ALWAYS;
		else {
			if (!eg_duration_parse(fs.f[2], &a.for_ms, derr) ||
			    a.for_ms < 1000 || a.for_ms > EG_ASK_FOR_MAX_MS) {
				eg_seterr(err, "allow takes once, always or a "
				    "duration of 1s-24h");
				return false;
			}
			a.verdict = EG_ASK_FOR;
		}
	} else {
		eg_seterr(err, "an answer is \"ID allow once|DURATION|always\" "
		    "or \"ID deny\"");
		return false;
	}
	*out = a;
	return true;
}

bool
eg_ask_parse_expired(const char *line, size_t len, uint32_t *id)
{
	struct fields fs;

	if (!split(line, len, &fs, NULL) || fs.n != 2 ||
	    strcmp(fs.f[0], "expired") != 0)
		return false;
	return parse_id(fs.f[1], id, NULL);
}

size_t
eg_ask_format_question(const struct eg_ask_question *q, char *buf)
{
	char src[64], norm[EG_NAME_MAX + 1];
	int n;

	if (q->id == 0 || q->arg == 0 || !workload_valid(q->workload) ||
	    !eg_name_normalise(q->name, norm, NULL) ||
	    strcmp(norm, q->name) != 0 || eg_is_ip_literal(q->name))
		return 0;
	eg_ip_str(&q->source, src, sizeof(src));
	if (strchr(src, '%') != NULL)
		*strchr(src, '%') = '\0';
	n = snprintf(buf, EG_ASK_LINE_MAX, "ask %u %s %s %s %u %s\n", q->id,
	    q->workload, q->kind == EG_ASK_TCP ? "tcp" : "dns", q->name,
	    q->arg, src);
	if (n < 0 || n >= EG_ASK_LINE_MAX)
		return 0;
	return (size_t)n;
}

size_t
eg_ask_format_answer(const struct eg_ask_answer *a, char *buf)
{
	int n;

	switch (a->verdict) {
	case EG_ASK_ONCE:
		n = snprintf(buf, EG_ASK_LINE_MAX, "%u allow once\n", a->id);
		break;
	case EG_ASK_ALWAYS:
		n = snprintf(buf, EG_ASK_LINE_MAX, "%u allow always\n", a->id);
		break;
	case EG_ASK_FOR:
		if (a->for_ms < 1000 || a->for_ms > EG_ASK_FOR_MAX_MS)
			return 0;
		/* Whole seconds: what the parser reads back. */
		if (a->for_ms % 1000 == 0)
			n = snprintf(buf, EG_ASK_LINE_MAX, "%u allow %llus\n",
			    a->id, (unsigned long long)(a->for_ms / 1000));
		else
			n = snprintf(buf, EG_ASK_LINE_MAX, "%u allow %llums\n",
			    a->id, (unsigned long long)a->for_ms);
		break;
	default:
		n = snprintf(buf, EG_ASK_LINE_MAX, "%u deny\n", a->id);
		break;
	}
	if (a->id == 0 || n < 0 || n >= EG_ASK_LINE_MAX)
		return 0;
	return (size_t)n;
}

const char *
eg_ask_verdict_str(enum eg_ask_verdict v)
{
	switch (v) {
	case EG_ASK_ONCE:
		return "allow-once";
	case EG_ASK_FOR:
		return "allow-for";
	case EG_ASK_ALWAYS:
		return "allow-always";
	default:
		return "deny";
	}
}

bool
eg_ask_configured(const struct eg_config *cfg)
{
	size_t i;

	if (cfg->policy.mode == EG_MODE_ASK)
		return true;
	for (i = 0; i < cfg->nworkloads; i++)
		if (cfg->workloads[i].policy.mode == EG_MODE_ASK)
			return true;
	return false;
}
