/*
 * rule.c - the allow rule grammar (see rule.h): one rule's text into a
 * struct eg_rule, and what a rule admits.  Every scan is bounded by
 * RULE_TEXT_MAX, and every error quotes the part it refers to.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "errfmt.h"
#include "rule.h"

#define RULE_TEXT_MAX	1024	/* bounds every scan of a rule */
#define RULE_QTYPES_MAX	32
#define QUOTE_MAX	EG_RULE_QUOTE_MAX	/* bytes quoted in a message */
#define QUOTE_BUF	EG_RULE_QUOTE_BUF

#define QT_CNAME	5
#define QT_OPT		41
#define QT_HTTPS	65

static const struct {
	const char	*name;
	uint16_t	 type;
} qtype_names[] = {
	{ "A", 1 }, { "NS", 2 }, { "CNAME", 5 }, { "SOA", 6 },
	{ "NULL", 10 }, { "PTR", 12 }, { "HINFO", 13 }, { "MX", 15 },
	{ "TXT", 16 }, { "RP", 17 }, { "AFSDB", 18 }, { "AAAA", 28 },
	{ "LOC", 29 }, { "SRV", 33 }, { "NAPTR", 35 }, { "KX", 36 },
	{ "CERT", 37 }, { "DNAME", 39 }, { "DS", 43 }, { "SSHFP", 44 },
	{ "IPSECKEY", 45 }, { "RRSIG", 46 }, { "NSEC", 47 },
	{ "DNSKEY", 48 }, { "DHCID", 49 }, { "NSEC3", 50 },
	{ "NSEC3PARAM", 51 }, { "TLSA", 52 }, { "SMIMEA", 53 },
	{ "HIP", 55 }, { "CDS", 59 }, { "CDNSKEY", 60 },
	{ "OPENPGPKEY", 61 }, { "CSYNC", 62 }, { "ZONEMD", 63 },
	{ "SVCB", 64 }, { "HTTPS", 65 }, { "SPF", 99 }, { "EUI48", 108 },
	{ "EUI64", 109 }, { "URI", 256 }, { "CAA", 257 },
	/* never answered; named so the error says so instead of "unknown" */
	{ "OPT", 41 }, { "TKEY", 249 }, { "TSIG", 250 }, { "IXFR", 251 },
	{ "AXFR", 252 }, { "MAILB", 253 }, { "MAILA", 254 }, { "ANY", 255 },
};

/*
 * Printable, bounded, quoted copy of hostile input for a message.  No rule
 * holds an '@': what stands before one is taken for a password (a proxy URL
 * pasted into the allowlist) and shown as "***".
 */
const char *
eg_rule_quote(const char *s, size_t len, char *buf)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0, o = 0;
	const char *at;

	buf[o++] = '"';
	for (at = s + len; at > s && at[-1] != '@'; at--)
		;
	if (at > s) {
		memcpy(buf + o, "***", 3);
		o += 3;
		i = (size_t)(at - s) - 1;
	}
	for (; i < len && i < QUOTE_MAX; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 0xf];
		} else
			buf[o++] = (char)c;
	}
	if (i < len) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

static bool
is_ws(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Meta and pseudo types (RFC 6895: 128-255 holds ANY, AXFR, IXFR, MAILA,
 * MAILB, TKEY, TSIG), OPT and type 0 are never a question a workload needs
 * answered, and ANY/AXFR are the classic tunnelling and dumping tools.
 */
bool
eg_qtype_never(uint16_t t)
{
	return t == 0 || t == QT_OPT || (t >= 128 && t <= 255);
}

bool
eg_qtype_default(uint16_t t)
{
	return t == EG_QT_A || t == EG_QT_AAAA || t == QT_CNAME ||
	    t == QT_HTTPS;
}

const char *
eg_qtype_name(uint16_t t, char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(qtype_names) / sizeof(qtype_names[0]); i++)
		if (qtype_names[i].type == t)
			return qtype_names[i].name;
	snprintf(buf, len, "TYPE%u", t);
	return buf;
}

/* 1..5 decimal digits, value 1..max; 0 on failure. */
static unsigned long
parse_num(const char *s, size_t n, unsigned long max)
{
	unsigned long v = 0;
	size_t i;

	if (n == 0 || n > 5)
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	return v <= max ? v : 0;
}

static bool
parse_port(const char *s, size_t n, uint16_t *out, char *err)
{
	char q[QUOTE_BUF];
	unsigned long v;

	if (n == 1 && s[0] == '0') {
		eg_seterr(err, "port %s: port 0 is not a port",
		    eg_rule_quote(s, n, q));
		return false;
	}
	if ((v = parse_num(s, n, 65535)) == 0) {
		eg_seterr(err, "port %s: not a number in 1-65535",
		    eg_rule_quote(s, n, q));
		return false;
	}
	*out = (uint16_t)v;
	return true;
}

static bool
parse_portrange(const char *s, size_t n, struct eg_portrange *pr, char *err)
{
	char q[QUOTE_BUF];
	const char *dash;

	if (n == 0) {
		eg_seterr(err, "empty item in the port list");
		return false;
	}
	if (n == 1 && s[0] == '*') {
		pr->lo = 0;
		pr->hi = 65535;
		return true;
	}
	if ((dash = memchr(s, '-', n)) == NULL) {
		if (!parse_port(s, n, &pr->lo, err))
			return false;
		pr->hi = pr->lo;
		return true;
	}
	if (!parse_port(s, (size_t)(dash - s), &pr->lo, err) ||
	    !parse_port(dash + 1, n - (size_t)(dash - s) - 1, &pr->hi, err))
		return false;
	if (pr->lo > pr->hi) {
		eg_seterr(err, "port range %s is reversed", eg_rule_quote(s, n,
		    q));
		return false;
	}
	return true;
}

static int
portrange_cmp(const void *a, const void *b)
{
	const struct eg_portrange *x = a, *y = b;

	return (int)x->lo - (int)y->lo;
}

/* Sort and merge overlapping or adjacent ranges into r->ports. */
static void
ports_store(struct eg_rule *r, struct eg_portrange *pr, size_t n)
{
	size_t i;

	qsort(pr, n, sizeof(*pr), portrange_cmp);
	r->nports = 0;
	for (i = 0; i < n; i++) {
		struct eg_portrange *last = r->nports ?
		    &r->ports[r->nports - 1] : NULL;

		if (last != NULL &&
		    (unsigned)pr[i].lo <= (unsigned)last->hi + 1) {
			if (pr[i].hi > last->hi)
				last->hi = pr[i].hi;
			continue;
		}
		r->ports[r->nports++] = pr[i];
	}
}

static bool
parse_ports(const char *s, size_t n, struct eg_rule *r, char *err)
{
	struct eg_portrange pr[EG_RULE_MAX_PORTRANGES];
	char q[QUOTE_BUF];
	const char *p = s, *end = s + n, *comma;
	size_t count = 0;

	if (n == 0) {
		eg_seterr(err, "empty port list after ':'");
		return false;
	}
	for (;;) {
		if (count == EG_RULE_MAX_PORTRANGES) {
			eg_seterr(err, "port list %s: more than %d ranges",
			    eg_rule_quote(s, n, q), EG_RULE_MAX_PORTRANGES);
			return false;
		}
		comma = memchr(p, ',', (size_t)(end - p));
		if (comma == NULL)
			comma = end;
		if (!parse_portrange(p, (size_t)(comma - p), &pr[count], err))
			return false;
		count++;
		if (comma == end)
			break;
		p = comma + 1;
	}
	ports_store(r, pr, count);
	return true;
}

static bool
ip_literal_n(const char *s, size_t n)
{
	char buf[EG_HOST_MAX + 1];

	if (n > EG_HOST_MAX)
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return eg_is_ip_literal(buf);
}

static bool
literal_error(const char *s, size_t n, char *err)
{
	char q[QUOTE_BUF];

	eg_seterr(err, "%s is an IP address, not a name: use a [jail] direct "
	    "endpoint or permit_cidr", eg_rule_quote(s, n, q));
	return false;
}

static bool
check_pattern_chars(const char *p, size_t n, const char *sfx, size_t slen,
    char *err)
{
	char q[QUOTE_BUF];
	size_t i;

	if ((n == 1 && p[0] == '*') || (n == 2 && p[0] == '*' && p[1] == '*')) {
		eg_seterr(err, "%s: a bare wildcard would allow every name",
		    eg_rule_quote(p, n, q));
		return false;
	}
	if (slen == 0) {
		eg_seterr(err, "%s: a wildcard needs a domain after it",
		    eg_rule_quote(p, n, q));
		return false;
	}
	if (memchr(sfx, '*', slen) != NULL) {
		eg_seterr(err,
		    "%s: '*' is allowed only as the whole first label "
		    "(\"*.\" or \"**.\")", eg_rule_quote(p, n, q));
		return false;
	}
	for (i = 0; i < n; i++) {
		if ((unsigned char)p[i] >= 0x80) {
			eg_seterr(err, "%s: non-ASCII name: write IDNs as "
			    "punycode (xn--...)", eg_rule_quote(p, n, q));
			return false;
		}
	}
	return true;
}

static bool
parse_pattern(const char *p, size_t n, struct eg_rule *r, char *err)
{
	char buf[EG_NAME_MAX + 2], nerr[EG_ERR_MAX], q[QUOTE_BUF];
	const char *sfx = p;
	size_t slen;

	r->match = EG_MATCH_EXACT;
	if (n >= 3 && memcmp(p, "**.", 3) == 0) {
		r->match = EG_MATCH_ANY_DEPTH;
		sfx += 3;
	} else if (n >= 2 && memcmp(p, "*.", 2) == 0) {
		r->match = EG_MATCH_ONE_LABEL;
		sfx += 2;
	}
	slen = n - (size_t)(sfx - p);
	if (n == 0) {
		eg_seterr(err, "empty name pattern");
		return false;
	}
	if (!check_pattern_chars(p, n, sfx, slen, err))
		return false;
	/* one trailing dot is allowed, so 254 bytes may still be a name */
	if (slen > EG_NAME_MAX + 1) {
		eg_seterr(err, "%s: name longer than %d bytes", eg_rule_quote(p,
		    n, q),
		    EG_NAME_MAX);
		return false;
	}
	if (ip_literal_n(sfx, slen))
		return literal_error(p, n, err);
	memcpy(buf, sfx, slen);
	buf[slen] = '\0';
	if (!eg_name_normalise(buf, r->suffix, nerr)) {
		eg_seterr(err, "%s: %s", eg_rule_quote(p, n, q), nerr);
		return false;
	}
	if (eg_is_ip_literal(r->suffix))
		return literal_error(p, n, err);
	/* the wildcard needs room for "x." in front of the suffix */
	if (r->match != EG_MATCH_EXACT &&
	    strlen(r->suffix) > EG_NAME_MAX - 2) {
		eg_seterr(err, "%s: no name below this suffix fits in %d bytes",
		    eg_rule_quote(p, n, q), EG_NAME_MAX);
		return false;
	}
	return true;
}

static bool
parse_target(const char *tok, size_t n, struct eg_rule *r, char *err)
{
	char q[QUOTE_BUF];
	const char *colon;
	size_t hlen;

	if (n > 0 && tok[0] == '[')
		return literal_error(tok, n, err);
	colon = memchr(tok, ':', n);
	if (colon != NULL &&
	    memchr(colon + 1, ':', n - (size_t)(colon - tok) - 1) != NULL) {
		/* only an IPv6 address has two colons; a name has none */
		if (ip_literal_n(tok, n))
			return literal_error(tok, n, err);
		eg_seterr(err, "%s: more than one ':' in a rule",
		    eg_rule_quote(tok, n, q));
		return false;
	}
	hlen = colon != NULL ? (size_t)(colon - tok) : n;
	if (!parse_pattern(tok, hlen, r, err))
		return false;
	if (colon == NULL) {
		r->ports[0].lo = r->ports[0].hi = 443;
		r->nports = 1;
		return true;
	}
	return parse_ports(colon + 1, n - hlen - 1, r, err);
}

static bool
qtype_lookup(const char *s, size_t n, uint16_t *out)
{
	size_t i;

	for (i = 0; i < sizeof(qtype_names) / sizeof(qtype_names[0]); i++) {
		if (strlen(qtype_names[i].name) == n &&
		    strncasecmp(qtype_names[i].name, s, n) == 0) {
			*out = qtype_names[i].type;
			return true;
		}
	}
	/* RFC 3597 generic form */
	if (n > 4 && strncasecmp(s, "TYPE", 4) == 0) {
		unsigned long v = parse_num(s + 4, n - 4, 65535);

		if (v != 0) {
			*out = (uint16_t)v;
			return true;
		}
	}
	return false;
}

static int
u16_cmp(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* Sorted, without duplicates, into r->qtypes. */
static bool
qtypes_store(struct eg_rule *r, uint16_t *t, size_t n, char *err)
{
	size_t i, o = 0;

	if (n == 0)
		return true;
	qsort(t, n, sizeof(*t), u16_cmp);
	for (i = 0; i < n; i++)
		if (o == 0 || t[o - 1] != t[i])
			t[o++] = t[i];
	if ((r->qtypes = calloc(o, sizeof(*r->qtypes))) == NULL) {
		eg_seterr(err, "qtype list: out of memory");
		return false;
	}
	memcpy(r->qtypes, t, o * sizeof(*t));
	r->nqtypes = (uint8_t)o;
	return true;
}

static bool
parse_qtype_item(const char *s, size_t n, struct eg_rule *r, uint16_t *t,
    size_t *count, char *err)
{
	char q[QUOTE_BUF];
	uint16_t v;

	if (n == 0) {
		eg_seterr(err, "empty item in the qtype list");
		return false;
	}
	if (n == 1 && s[0] == '*') {
		r->qtype_any = true;
		return true;
	}
	if (!qtype_lookup(s, n, &v)) {
		eg_seterr(err, "qtype %s: unknown DNS type", eg_rule_quote(s, n,
		    q));
		return false;
	}
	if (eg_qtype_never(v)) {
		eg_seterr(err, "qtype %s: never answered", eg_rule_quote(s, n,
		    q));
		return false;
	}
	if (*count == RULE_QTYPES_MAX) {
		eg_seterr(err, "qtype list: more than %d types",
		    RULE_QTYPES_MAX);
		return false;
	}
	t[(*count)++] = v;
	return true;
}

static bool
parse_qtypes(const char *s, size_t n, struct eg_rule *r, char *err)
{
	uint16_t t[RULE_QTYPES_MAX];
	const char *p = s, *end = s + n, *comma;
	size_t count = 0;

	if (n == 0) {
		eg_seterr(err, "empty qtype list after \"qtype=\"");
		return false;
	}
	for (;;) {
		comma = memchr(p, ',', (size_t)(end - p));
		if (comma == NULL)
			comma = end;
		if (!parse_qtype_item(p, (size_t)(comma - p), r, t, &count,
		    err))
			return false;
		if (comma == end)
			break;
		p = comma + 1;
	}
	/* "*" already admits every type eg_qtype_never() leaves */
	if (r->qtype_any)
		return true;
	return qtypes_store(r, t, count, err);
}

static bool
parse_option(const char *s, size_t n, struct eg_rule *r, bool *seen,
    char *err)
{
	char q[QUOTE_BUF];

	if (n < 6 || strncasecmp(s, "qtype=", 6) != 0) {
		eg_seterr(err, "unexpected %s after the rule", eg_rule_quote(s,
		    n, q));
		return false;
	}
	if (*seen) {
		eg_seterr(err, "%s: qtype= given twice", eg_rule_quote(s, n,
		    q));
		return false;
	}
	*seen = true;
	return parse_qtypes(s + 6, n - 6, r, err);
}

bool
eg_rule_parse(const char *text, struct eg_rule *out, char *err)
{
	struct eg_rule r;
	char q[QUOTE_BUF];
	const char *s, *e, *t;
	size_t len;
	bool ok = false, seen = false;

	memset(&r, 0, sizeof(r));
	if (text == NULL || out == NULL) {
		eg_seterr(err, "no rule");
		goto out;
	}
	if ((len = strnlen(text, RULE_TEXT_MAX + 1)) > RULE_TEXT_MAX) {
		eg_seterr(err, "rule %s: longer than %d bytes",
		    eg_rule_quote(text, len, q), RULE_TEXT_MAX);
		goto out;
	}
	s = text;
	e = text + len;
	while (s < e && is_ws(*s))
		s++;
	while (e > s && is_ws(e[-1]))
		e--;
	if (s == e) {
		eg_seterr(err, "empty rule");
		goto out;
	}
	for (t = s; t < e && !is_ws(*t); t++)
		;
	if (!parse_target(s, (size_t)(t - s), &r, err))
		goto out;
	while (t < e) {
		for (s = t; s < e && is_ws(*s); s++)
			;
		for (t = s; t < e && !is_ws(*t); t++)
			;
		if (!parse_option(s, (size_t)(t - s), &r, &seen, err))
			goto out;
	}
	*out = r;
	ok = true;
out:
	if (!ok)
		eg_rule_clear(&r);
	return ok;
}

void
eg_rule_clear(struct eg_rule *r)
{
	if (r == NULL)
		return;
	free(r->qtypes);
	memset(r, 0, sizeof(*r));
}

const char *
eg_rule_where(const struct eg_rule *r, char *buf, size_t len)
{
	if (buf == NULL || len == 0)
		return "-";
	if (r == NULL || r->at.file == NULL)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%s:%d", r->at.file, r->at.line);
	return buf;
}

bool
eg_rule_admits_port(const struct eg_rule *r, uint16_t port)
{
	uint8_t i;

	for (i = 0; i < r->nports; i++)
		if (port >= r->ports[i].lo && port <= r->ports[i].hi)
			return true;
	return false;
}

bool
eg_rule_admits_qtype(const struct eg_rule *r, uint16_t qtype)
{
	if (eg_qtype_never(qtype))
		return false;
	if (eg_qtype_default(qtype) || r->qtype_any)
		return true;
	return r->nqtypes > 0 && bsearch(&qtype, r->qtypes, r->nqtypes,
	    sizeof(*r->qtypes), u16_cmp) != NULL;
}
