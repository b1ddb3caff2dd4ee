/*
 * learn_log.c - learn records from the daemons' own log lines.
 *
 * Until connectd and dohd keep a learn table of their own, the evidence
 * of what a workload needed is in their log: in report mode every
 * connection the allowlist would have denied (connectd "event=report")
 * and every such query (dohd "event=decision decision=report"), and in
 * enforce mode the denials themselves (connectd "event=access
 * decision=deny", dohd "decision=deny").  Only the allowlist's reasons
 * count (no_rule, port, qtype, empty): an IP literal, an internal
 * address or a malformed name is not something a rule could admit.
 *
 * A name on a CNAME chain the allowlist would refuse shows as dohd
 * "event=cname decision=report" (taken as an A query: any rule for the
 * name admits it on a chain).  In learn mode the daemons log their own
 * records, "event=learn" (learn_table.c), which are taken as they are.
 *
 * The log is rate limited, so lines can be missing; what is there is
 * exact (event=learn lines are never rate limited).  Lines are as journalctl prints them, with or without its
 * prefix: parsing starts at the first " ts=" (or "ts=" at the start).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "errfmt.h"
#include "learn.h"

#define MAX_FIELDS	40
#define VALUE_MAX	512

struct kv {
	char key[24];
	char val[VALUE_MAX];
};

/* Where a value ends: a space, or the end of the line. */
static bool
value_end(char c)
{
	return c == '\0' || c == ' ' || c == '\n' || c == '\r';
}

/* One value: bare up to a space, or quoted as eg_log_quote writes it. */
static const char *
take_value(const char *p, char *out, bool *ok)
{
	size_t o = 0;

	*ok = false;
	if (*p != '"') {
		while (!value_end(*p) && o + 1 < VALUE_MAX)
			out[o++] = *p++;
		out[o] = '\0';
		*ok = value_end(*p);
		return p;
	}
	for (p++; *p != '"'; p++) {
		unsigned v;

		if (*p == '\0' || o + 1 >= VALUE_MAX)
			return p;
		if (*p != '\\') {
			out[o++] = *p;
			continue;
		}
		p++;
		if (*p == '"' || *p == '\\')
			out[o++] = *p;
		else if (*p == 'x' && isxdigit((unsigned char)p[1]) &&
		    isxdigit((unsigned char)p[2]) &&
		    sscanf(p + 1, "%2x", &v) == 1) {
			out[o++] = (char)v;
			p += 2;
		} else
			return p;
	}
	out[o] = '\0';
	p++;
	*ok = value_end(*p);
	return p;
}

/* Split "k=v k=\"v\" ..." from the first ts=; -1 when it does not parse. */
static int
split(const char *line, struct kv *kv, size_t *n)
{
	const char *p = strstr(line, " ts="), *eq;
	size_t klen;
	bool ok;

	if (strncmp(line, "ts=", 3) == 0)
		p = line;
	else if (p == NULL)
		return 0;
	else
		p++;
	*n = 0;
	while (*p != '\0') {
		while (*p == ' ')
			p++;
		if (*p == '\0' || *p == '\n' || *p == '\r')
			break;
		if ((eq = strchr(p, '=')) == NULL ||
		    (klen = (size_t)(eq - p)) == 0 || klen >= sizeof(kv->key) ||
		    memchr(p, ' ', klen) != NULL || *n == MAX_FIELDS)
			return -1;
		memcpy(kv[*n].key, p, klen);
		kv[*n].key[klen] = '\0';
		p = take_value(eq + 1, kv[*n].val, &ok);
		if (!ok)
			return -1;
		(*n)++;
	}
	return 1;
}

static const char *
get(const struct kv *kv, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(kv[i].key, key) == 0)
			return kv[i].val;
	return NULL;
}

/* "2026-12-07T22:00:01.123Z" */
static bool
parse_ts(const char *s, int64_t *out)
{
	struct tm tm;
	char *end;

	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return false;
	if (end[0] == '.' && isdigit((unsigned char)end[1]) &&
	    isdigit((unsigned char)end[2]) && isdigit((unsigned char)end[3]))
		end += 4;
	if (strcmp(end, "Z") != 0)
		return false;
	*out = (int64_t)timegm(&tm);
	return *out >= 0;
}

/* The allowlist's own reasons: the ones a rule could have admitted. */
bool
eg_learn_allowlist_reason(const char *r)
{
	return r != NULL && (strcmp(r, "no_rule") == 0 ||
	    strcmp(r, "port") == 0 || strcmp(r, "qtype") == 0 ||
	    strcmp(r, "empty") == 0);
}

/* A type by its name as dohd logs it ("TXT", "TYPE65"): the rule parser
 * knows every name a rule may use. */
static bool
qtype_value(const char *s, uint16_t *out)
{
	char text[64];
	struct eg_rule r;
	bool ok;

	if (strlen(s) > 16)
		return false;
	snprintf(text, sizeof(text), "q.example qtype=%s", s);
	if (!eg_rule_parse(text, &r, NULL))
		return false;
	ok = r.nqtypes == 1;
	if (ok)
		*out = r.qtypes[0];
	eg_rule_clear(&r);
	return ok;
}

/* A number field of an event=learn line. */
static bool
num(const struct kv *kv, size_t n, const char *key, uint64_t max,
    uint64_t *out)
{
	const char *v = get(kv, n, key);
	char *end;

	if (v == NULL || !isdigit((unsigned char)v[0]) || strlen(v) > 19 ||
	    (v[0] == '0' && v[1] != '\0'))
		return false;
	*out = strtoull(v, &end, 10);
	return *end == '\0' && *out <= max;
}

/*
 * A learn-mode daemon's own record (learn_table.c): its fields are a
 * record line's, so it is checked by the same parser.
 */
static int
learn_event(const struct kv *kv, size_t n, struct eg_learn_entry *out,
    char *err)
{
	static const char *const keys[] = { "port", "qtype", "count",
	    "first", "last" };
	char line[EG_LEARN_LINE_MAX + 1];
	const char *wl = get(kv, n, "workload"), *name = get(kv, n, "name");
	uint64_t v[5];
	size_t i;

	for (i = 0; i < 5; i++) {
		if (!num(kv, n, keys[i], INT64_MAX, &v[i])) {
			eg_seterr(err, "event=learn without a number %s=",
			    keys[i]);
			return -1;
		}
	}
	if (wl == NULL || name == NULL || strlen(wl) > EG_WL_NAME_MAX ||
	    strlen(name) > EG_NAME_MAX) {
		eg_seterr(err, "event=learn without its workload and name");
		return -1;
	}
	snprintf(line, sizeof(line), "%s %s %llu %llu %llu %llu %llu", wl,
	    name, (unsigned long long)v[0], (unsigned long long)v[1],
	    (unsigned long long)v[2], (unsigned long long)v[3],
	    (unsigned long long)v[4]);
	return eg_learn_parse_line(line, out, err) == 1 ? 1 : -1;
}

int
eg_learn_parse_log(const char *line, struct eg_learn_entry *out, char *err)
{
	struct kv kv[MAX_FIELDS];
	struct eg_learn_entry e;
	const char *daemon, *event, *dec, *name, *v, *wl;
	size_t n;
	int rc;

	if (strnlen(line, EG_LEARN_LOG_LINE_MAX + 1) > EG_LEARN_LOG_LINE_MAX) {
		eg_seterr(err, "longer than %d bytes", EG_LEARN_LOG_LINE_MAX);
		return -1;
	}
	if ((rc = split(line, kv, &n)) <= 0) {
		if (rc < 0)
			eg_seterr(err, "not a log line of key=value pairs");
		return rc;
	}
	daemon = get(kv, n, "daemon");
	event = get(kv, n, "event");
	dec = get(kv, n, "decision");
	if (daemon == NULL || event == NULL)
		return 0;
	if (strcmp(event, "learn") == 0)
		return learn_event(kv, n, out, err);
	if (strcmp(daemon, "connectd") == 0 && (strcmp(event, "report") == 0 ||
	    (strcmp(event, "access") == 0 && dec != NULL &&
	    strcmp(dec, "deny") == 0)))
		name = get(kv, n, "host");
	else if (strcmp(daemon, "dohd") == 0 &&
	    strcmp(event, "decision") == 0 && dec != NULL &&
	    (strcmp(dec, "report") == 0 || strcmp(dec, "deny") == 0))
		name = get(kv, n, "name");
	else if (strcmp(daemon, "dohd") == 0 && strcmp(event, "cname") == 0 &&
	    dec != NULL && strcmp(dec, "report") == 0)
		name = get(kv, n, "name");	/* a name on a CNAME chain */
	else
		return 0;
	if (!eg_learn_allowlist_reason(get(kv, n, "reason")))
		return 0;
	memset(&e, 0, sizeof(e));
	wl = get(kv, n, "workload");
	if (wl == NULL)
		wl = EG_WL_DEFAULT;
	if ((strcmp(wl, EG_WL_DEFAULT) != 0 && !eg_wl_name_valid(wl, err)) ||
	    name == NULL || eg_is_ip_literal(name) ||
	    !eg_name_normalise(name, e.name, err)) {
		if (name == NULL)
			eg_seterr(err, "a denial without its name");
		else if (eg_is_ip_literal(name))
			eg_seterr(err, "an IP literal is never a name");
		return -1;
	}
	memcpy(e.workload, wl, strlen(wl) + 1);
	if (daemon[0] == 'c') {
		if ((v = get(kv, n, "port")) == NULL ||
		    !eg_port_parse(v, &e.port) || e.port == 0) {
			eg_seterr(err, "a connection without a port 1-65535");
			return -1;
		}
	} else if (strcmp(event, "cname") == 0) {
		e.qtype = 1;	/* A: any rule for the name admits the chain */
	} else if ((v = get(kv, n, "qtype")) == NULL ||
	    !qtype_value(v, &e.qtype) || e.qtype == 0) {
		eg_seterr(err, "a query without a known qtype");
		return -1;
	}
	if ((v = get(kv, n, "ts")) == NULL || !parse_ts(v, &e.first)) {
		eg_seterr(err, "no ts=YYYY-MM-DDTHH:MM:SS.mmmZ");
		return -1;
	}
	e.last = e.first;
	e.count = 1;
	*out = e;
	return 1;
}
