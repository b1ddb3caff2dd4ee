/*
 * policy.c - the allowlist engine: rule parser, name tables, deny lists.
 *
 * Decisions, in the order they are taken:
 *
 *  host (TCP target)  IP literal -> direct endpoint, else host address,
 *                     else deny list, else "IP literal" (never a name);
 *                     name -> direct name:port, else rules.
 *  dns (question)     never-types, then direct names (A/AAAA), then rules.
 *  addr (answer/dial) host addresses, then the deny list minus permit_cidr.
 *
 * Rules live in one hash table keyed by the name (exact) or the suffix
 * after "*." / "**.", with a chain per match kind under each key.  A
 * lookup hashes the name and each of its suffixes once: its cost follows
 * the length of the queried name, never the number of rules.  Matches are
 * tried from the most specific kind to the least (exact, one label, any
 * depth; among any-depth suffixes the longest first), so the rule a
 * decision reports is the most specific one that admits the request.
 *
 * Several rules may name the same pattern (the same line in two allow
 * files, or "a.com:80" and "a.com:443"): they form a chain in config
 * order, their ports and qtypes are in effect unioned, and a decision
 * reports the first rule of the chain that admits the request, so the log
 * points at the line that let it through.  Only such duplicates are ever
 * walked one by one, and the operator writes those, not the workload.
 *
 * Report mode turns policy denials into ALLOW with reported=true.  Three
 * denials stay hard even there: the host's own addresses (report mode must
 * never open the host's own services or the jail's listeners to the
 * workload), names that are not names (malformed input is never forwarded)
 * and the DNS types that are never answered (ANY/AXFR/IXFR and friends).
 */
#include <sys/random.h>
#include <sys/socket.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "policy.h"
#include "errfmt.h"

#define RULE_TEXT_MAX	1024	/* bounds every scan of a rule */
#define RULE_QTYPES_MAX	32
#define QUOTE_MAX	48	/* bytes of input quoted in a message */
#define QUOTE_BUF	(QUOTE_MAX * 4 + 8)
#define HOST_MAX	300	/* longer than any name or literal spelling */

#define QT_A		1
#define QT_CNAME	5
#define QT_OPT		41
#define QT_AAAA		28
#define QT_HTTPS	65

/*
 * One key (a name or a wildcard's suffix) and a chain of items per match
 * kind, so that "*.a.com" and "**.a.com" share one probe for "a.com".
 */
struct ntab_slot {
	uint64_t	 h;
	const char	*key;		/* NULL: empty slot */
	uint32_t	 head[3];	/* 1-based item indices; 0: none */
	uint16_t	 len;
};

/* Open addressing, linear probing, load <= 1/2, sized once. */
struct ntab {
	struct ntab_slot *slot;
	size_t		  mask;
	size_t		  n[3];		/* items per kind */
	uint32_t	 *tail;		/* while building: 3 per slot */
};

struct eg_policy {
	enum eg_policy_mode mode;
	uint64_t	 seed;

	struct eg_rule	*rules;
	size_t		 nrules;
	uint32_t	*next;		/* chain of rules with one pattern */
	struct ntab	 tab;		/* kinds indexed by enum eg_match */

	struct eg_endpoint *direct;
	size_t		 ndirect;
	uint32_t	*dnext;		/* chain of direct names with one name */
	struct ntab	 dnames;

	struct eg_cidr	*deny;		/* built-in list, both families */
	size_t		 ndeny;
	struct eg_cidr	*permit;
	size_t		 npermit;
	struct eg_cidr	*extra;		/* host addresses: never permitted */
	size_t		 nextra;

	char		**files;	/* rule origins, owned here */
	size_t		 nfiles;
};

static const char *const builtin_deny[] = {
	"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8",
	"169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24", "192.168.0.0/16",
	"198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4",
	"::/128", "::1/128", "fc00::/7", "fe80::/10", "ff00::/8", "100::/64",
	/* RFC 8215 local-use NAT64: never global, whatever it embeds */
	"64:ff9b:1::/48",
};

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


/* Printable, bounded, quoted copy of hostile input for a message. */
static const char *
quote(const char *s, size_t len, char *buf)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	buf[o++] = '"';
	for (i = 0; i < len && i < QUOTE_MAX; i++) {
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
static bool
qtype_never(uint16_t t)
{
	return t == 0 || t == QT_OPT || (t >= 128 && t <= 255);
}

static bool
qtype_default(uint16_t t)
{
	return t == QT_A || t == QT_AAAA || t == QT_CNAME || t == QT_HTTPS;
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
		eg_seterr(err, "port %s: port 0 is not a port", quote(s, n, q));
		return false;
	}
	if ((v = parse_num(s, n, 65535)) == 0) {
		eg_seterr(err, "port %s: not a number in 1-65535", quote(s, n, q));
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
		eg_seterr(err, "port range %s is reversed", quote(s, n, q));
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

		if (last != NULL && (unsigned)pr[i].lo <= (unsigned)last->hi + 1) {
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
			    quote(s, n, q), EG_RULE_MAX_PORTRANGES);
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
	char buf[HOST_MAX + 1];

	if (n > HOST_MAX)
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
	    "endpoint or permit_cidr", quote(s, n, q));
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
		    quote(p, n, q));
		return false;
	}
	if (slen == 0) {
		eg_seterr(err, "%s: a wildcard needs a domain after it",
		    quote(p, n, q));
		return false;
	}
	if (memchr(sfx, '*', slen) != NULL) {
		eg_seterr(err, "%s: '*' is allowed only as the whole first label "
		    "(\"*.\" or \"**.\")", quote(p, n, q));
		return false;
	}
	for (i = 0; i < n; i++) {
		if ((unsigned char)p[i] >= 0x80) {
			eg_seterr(err, "%s: non-ASCII name: write IDNs as "
			    "punycode (xn--...)", quote(p, n, q));
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
		eg_seterr(err, "%s: name longer than %d bytes", quote(p, n, q),
		    EG_NAME_MAX);
		return false;
	}
	if (ip_literal_n(sfx, slen))
		return literal_error(p, n, err);
	memcpy(buf, sfx, slen);
	buf[slen] = '\0';
	if (!eg_name_normalise(buf, r->suffix, nerr)) {
		eg_seterr(err, "%s: %s", quote(p, n, q), nerr);
		return false;
	}
	if (eg_is_ip_literal(r->suffix))
		return literal_error(p, n, err);
	/* the wildcard needs room for "x." in front of the suffix */
	if (r->match != EG_MATCH_EXACT &&
	    strlen(r->suffix) > EG_NAME_MAX - 2) {
		eg_seterr(err, "%s: no name below this suffix fits in %d bytes",
		    quote(p, n, q), EG_NAME_MAX);
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
		eg_seterr(err, "%s: more than one ':' in a rule", quote(tok, n, q));
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
		eg_seterr(err, "qtype %s: unknown DNS type", quote(s, n, q));
		return false;
	}
	if (qtype_never(v)) {
		eg_seterr(err, "qtype %s: never answered", quote(s, n, q));
		return false;
	}
	if (*count == RULE_QTYPES_MAX) {
		eg_seterr(err, "qtype list: more than %d types", RULE_QTYPES_MAX);
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
	/* "*" already admits every type qtype_never() leaves */
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
		eg_seterr(err, "unexpected %s after the rule", quote(s, n, q));
		return false;
	}
	if (*seen) {
		eg_seterr(err, "%s: qtype= given twice", quote(s, n, q));
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
		    quote(text, len, q), RULE_TEXT_MAX);
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

const char *
eg_reason_str(enum eg_reason r)
{
	switch (r) {
	case EG_R_RULE:		return "rule";
	case EG_R_DIRECT:	return "direct";
	case EG_R_NO_RULE:	return "no_rule";
	case EG_R_PORT:		return "port";
	case EG_R_IP_LITERAL:	return "ip_literal";
	case EG_R_DENY_CIDR:	return "deny_cidr";
	case EG_R_HOST_ADDR:	return "host_addr";
	case EG_R_BAD_NAME:	return "bad_name";
	case EG_R_QTYPE:	return "qtype";
	case EG_R_EMPTY:	return "empty";
	}
	return "unknown";
}

/* ---- name tables ---- */

static uint64_t
mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/*
 * Seeded so that nobody can prepare names that collide in a given
 * daemon's tables; not a MAC, only a spread.
 */
static uint64_t
name_hash(uint64_t seed, const char *s, size_t len)
{
	uint64_t h = seed ^ ((uint64_t)len * 0x9e3779b97f4a7c15ULL), w;

	/* one multiply per word; mix64 at the end does the avalanche */
	while (len >= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0x9fb21c651e98df25ULL;
		h ^= h >> 29;
		s += 8;
		len -= 8;
	}
	if (len > 0) {
		w = 0;
		memcpy(&w, s, len);
		h = (h ^ w) * 0x9fb21c651e98df25ULL;
	}
	return mix64(h);
}

static bool
ntab_init(struct ntab *t, size_t n)
{
	size_t cap = 8;

	while (cap < n * 2)
		cap <<= 1;
	if ((t->slot = calloc(cap, sizeof(*t->slot))) == NULL ||
	    (t->tail = calloc(cap * 3, sizeof(*t->tail))) == NULL)
		return false;
	t->mask = cap - 1;
	return true;
}

/* The build is over: tails only served appending. */
static void
ntab_done(struct ntab *t)
{
	free(t->tail);
	t->tail = NULL;
}

static struct ntab_slot *
ntab_find(const struct ntab *t, uint64_t h, const char *key, size_t len)
{
	size_t i = (size_t)h & t->mask;
	struct ntab_slot *s;

	for (;;) {
		s = &t->slot[i];
		if (s->key == NULL)
			return s;
		if (s->h == h && s->len == len && memcmp(s->key, key, len) == 0)
			return s;
		i = (i + 1) & t->mask;
	}
}

/* Append item idx (0-based) of a kind under key; next[] chains them. */
static void
ntab_add(struct ntab *t, uint64_t seed, const char *key, int kind,
    uint32_t idx, uint32_t *next)
{
	size_t len = strlen(key);
	uint64_t h = name_hash(seed, key, len);
	struct ntab_slot *s = ntab_find(t, h, key, len);
	uint32_t *tail = &t->tail[(size_t)(s - t->slot) * 3 + (size_t)kind];

	if (s->key == NULL) {
		s->h = h;
		s->key = key;
		s->len = (uint16_t)len;
	}
	if (s->head[kind] == 0)
		s->head[kind] = idx + 1;
	else
		next[*tail - 1] = idx + 1;
	*tail = idx + 1;
	t->n[kind]++;
}

/* The slot of key, or NULL when absent. */
static const struct ntab_slot *
ntab_get(const struct ntab *t, uint64_t seed, const char *key, size_t len)
{
	const struct ntab_slot *s;

	if (len > EG_NAME_MAX)
		return NULL;
	s = ntab_find(t, name_hash(seed, key, len), key, len);
	return s->key != NULL ? s : NULL;
}

/* ---- building ---- */

static uint64_t
policy_seed(void)
{
	uint64_t seed;
	struct timespec ts;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == sizeof(seed))
		return seed;
	/* early boot: the spread still works, only less unpredictably */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return mix64((uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^
	    (uint64_t)(uintptr_t)&seed);
}

/* Copy a rule origin's file name once, so a policy outlives its config. */
static const char *
intern_file(struct eg_policy *p, const char *file)
{
	char **nf;
	size_t i;

	if (file == NULL)
		return NULL;
	for (i = p->nfiles; i > 0; i--)
		if (strcmp(p->files[i - 1], file) == 0)
			return p->files[i - 1];
	if ((nf = reallocarray(p->files, p->nfiles + 1, sizeof(*nf))) == NULL)
		return NULL;
	p->files = nf;
	if ((nf[p->nfiles] = strdup(file)) == NULL)
		return NULL;
	return nf[p->nfiles++];
}

static bool
compile_rule(struct eg_policy *p, const struct eg_rule_src *src,
    struct eg_rule *r, const char **lastsrc, const char **lastfile,
    char *err)
{
	char rerr[EG_ERR_MAX];
	const char *file = src->at.file;

	if (!eg_rule_parse(src->text, r, rerr)) {
		eg_seterr(err, "%s:%d: allow: %s", file ? file : "-",
		    src->at.line, rerr);
		return false;
	}
	/* rules of one file come together: skip the search for most */
	if (file != NULL && file != *lastsrc) {
		*lastsrc = file;
		if ((*lastfile = intern_file(p, file)) == NULL) {
			eg_seterr(err, "%s: out of memory", file);
			return false;
		}
	}
	r->at.file = file != NULL ? *lastfile : NULL;
	r->at.line = src->at.line;
	return true;
}

static bool
compile_rules(struct eg_policy *p, const struct eg_config *cfg, char *err)
{
	const char *lastsrc = NULL, *lastfile = NULL;
	size_t i, n = cfg->policy.nrules;

	if (n > 0 && cfg->policy.rules == NULL) {
		eg_seterr(err, "policy: %zu rules but no rule list", n);
		return false;
	}
	if (n >= UINT32_MAX / 4) {
		eg_seterr(err, "policy: %zu rules is too many", n);
		return false;
	}
	if ((p->rules = calloc(n ? n : 1, sizeof(*p->rules))) == NULL ||
	    (p->next = calloc(n ? n : 1, sizeof(*p->next))) == NULL) {
		eg_seterr(err, "policy: out of memory for %zu rules", n);
		return false;
	}
	for (i = 0; i < n; i++) {
		if (!compile_rule(p, &cfg->policy.rules[i], &p->rules[i],
		    &lastsrc, &lastfile, err))
			return false;
		p->nrules++;
	}
	if (!ntab_init(&p->tab, n)) {
		eg_seterr(err, "policy: out of memory for %zu rules", n);
		return false;
	}
	for (i = 0; i < n; i++)
		ntab_add(&p->tab, p->seed, p->rules[i].suffix,
		    (int)p->rules[i].match, (uint32_t)i, p->next);
	ntab_done(&p->tab);
	return true;
}

static bool
cidr_valid(const struct eg_cidr *c)
{
	return (c->ip.family == AF_INET && c->plen <= 32) ||
	    (c->ip.family == AF_INET6 && c->plen <= 128);
}

static bool
compile_direct_one(const struct eg_direct *d,
    struct eg_endpoint *ep, char *err)
{
	char nerr[EG_ERR_MAX], q[QUOTE_BUF];
	const char *file = d->at.file ? d->at.file : "-";

	*ep = d->ep;
	if (ep->port == 0) {
		eg_seterr(err, "%s:%d: direct: endpoint without a port", file,
		    d->at.line);
		return false;
	}
	if (ep->is_name) {
		if (!eg_name_normalise(d->ep.name, ep->name, nerr) ||
		    eg_is_ip_literal(ep->name)) {
			eg_seterr(err, "%s:%d: direct: %s: not a name", file,
			    d->at.line, quote(d->ep.name,
			    strnlen(d->ep.name, sizeof(d->ep.name)), q));
			return false;
		}
		return true;
	}
	if (!cidr_valid(&ep->cidr)) {
		eg_seterr(err, "%s:%d: direct: bad address", file, d->at.line);
		return false;
	}
	return true;
}

static bool
compile_direct(struct eg_policy *p, const struct eg_config *cfg, char *err)
{
	size_t i, n = cfg->jail.ndirect, nnames = 0;

	if (n > 0 && cfg->jail.direct == NULL) {
		eg_seterr(err, "policy: %zu direct endpoints but no list", n);
		return false;
	}
	if (n >= UINT32_MAX / 4 ||
	    (p->direct = calloc(n ? n : 1, sizeof(*p->direct))) == NULL ||
	    (p->dnext = calloc(n ? n : 1, sizeof(*p->dnext))) == NULL) {
		eg_seterr(err, "policy: out of memory for %zu direct endpoints", n);
		return false;
	}
	for (i = 0; i < n; i++) {
		if (!compile_direct_one(&cfg->jail.direct[i],
		    &p->direct[i], err))
			return false;
		p->ndirect++;
		nnames += p->direct[i].is_name;
	}
	if (!ntab_init(&p->dnames, nnames)) {
		eg_seterr(err, "policy: out of memory");
		return false;
	}
	for (i = 0; i < n; i++)
		if (p->direct[i].is_name)
			ntab_add(&p->dnames, p->seed, p->direct[i].name,
			    0, (uint32_t)i, p->dnext);
	ntab_done(&p->dnames);
	return true;
}

static bool
copy_cidrs(struct eg_cidr **dst, size_t *ndst, const struct eg_cidr *src,
    size_t n, const char *what, char *err)
{
	size_t i;

	if (n > 0 && src == NULL) {
		eg_seterr(err, "policy: %zu %s but no list", n, what);
		return false;
	}
	if ((*dst = calloc(n ? n : 1, sizeof(**dst))) == NULL) {
		eg_seterr(err, "policy: out of memory for %s", what);
		return false;
	}
	for (i = 0; i < n; i++) {
		if (!cidr_valid(&src[i])) {
			eg_seterr(err, "policy: %s #%zu: bad address family or "
			    "prefix length", what, i + 1);
			return false;
		}
		(*dst)[i] = src[i];
	}
	*ndst = n;
	return true;
}

static bool
compile_cidrs(struct eg_policy *p, const struct eg_config *cfg,
    const struct eg_cidr *extra, size_t nextra, char *err)
{
	size_t i, n = sizeof(builtin_deny) / sizeof(builtin_deny[0]);
	char cerr[EG_ERR_MAX];

	if ((p->deny = calloc(n, sizeof(*p->deny))) == NULL) {
		eg_seterr(err, "policy: out of memory");
		return false;
	}
	for (i = 0; i < n; i++) {
		if (!eg_cidr_parse(builtin_deny[i], &p->deny[i], cerr)) {
			eg_seterr(err, "policy: built-in deny %s: %s",
			    builtin_deny[i], cerr);
			return false;
		}
		p->ndeny++;
	}
	return copy_cidrs(&p->permit, &p->npermit, cfg->policy.permit,
	    cfg->policy.npermit, "permit_cidr", err) &&
	    copy_cidrs(&p->extra, &p->nextra, extra, nextra, "host addresses",
	    err);
}

bool
eg_policy_set_host_addrs(struct eg_policy *p, const struct eg_cidr *extra,
    size_t nextra, char *err)
{
	struct eg_cidr *n = NULL;
	size_t nn = 0;

	if (!copy_cidrs(&n, &nn, extra, nextra, "host addresses", err)) {
		free(n);
		return false;
	}
	free(p->extra);
	p->extra = n;
	p->nextra = nn;
	return true;
}

struct eg_policy *
eg_policy_new(const struct eg_config *cfg, const struct eg_cidr *extra_deny,
    size_t nextra, char *err)
{
	struct eg_policy *p;

	if (cfg == NULL) {
		eg_seterr(err, "policy: no configuration");
		return NULL;
	}
	if (cfg->policy.mode != EG_MODE_ENFORCE &&
	    cfg->policy.mode != EG_MODE_REPORT) {
		eg_seterr(err, "policy: unknown mode %d", (int)cfg->policy.mode);
		return NULL;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		eg_seterr(err, "policy: out of memory");
		return NULL;
	}
	p->mode = cfg->policy.mode;
	p->seed = policy_seed();
	if (!compile_rules(p, cfg, err) || !compile_direct(p, cfg, err) ||
	    !compile_cidrs(p, cfg, extra_deny, nextra, err))
		goto fail;
	return p;
fail:
	eg_policy_free(p);
	return NULL;
}

void
eg_policy_free(struct eg_policy *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nrules; i++)
		eg_rule_clear(&p->rules[i]);
	free(p->rules);
	free(p->next);
	free(p->tab.slot);
	free(p->tab.tail);
	free(p->direct);
	free(p->dnext);
	free(p->dnames.slot);
	free(p->dnames.tail);
	free(p->deny);
	free(p->permit);
	free(p->extra);
	for (i = 0; i < p->nfiles; i++)
		free(p->files[i]);
	free(p->files);
	free(p);
}

size_t
eg_policy_nrules(const struct eg_policy *p)
{
	return p != NULL ? p->nrules : 0;
}

/* ---- addresses ---- */

static const struct eg_cidr *
cidr_list_match(const struct eg_cidr *list, size_t n, const struct eg_ip *ip)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (list[i].ip.family == ip->family &&
		    eg_cidr_contains(&list[i], ip))
			return &list[i];
	return NULL;
}

/*
 * IPv6 forms that reach an IPv4 address: v4-mapped, IPv4-compatible
 * (deprecated, still routed by some stacks), NAT64 well-known prefix and
 * 6to4.  A gateway translating them lands on the embedded address.
 */
static bool
embedded_v4(const struct eg_ip *ip, struct eg_ip *v4)
{
	static const uint8_t zero[12], mapped[12] = { [10] = 0xff, [11] = 0xff },
	    nat64[12] = { 0x00, 0x64, 0xff, 0x9b };
	const uint8_t *a = ip->addr;
	int off = -1;

	if (ip->family != AF_INET6)
		return false;
	if (memcmp(a, mapped, 12) == 0 || memcmp(a, zero, 12) == 0 ||
	    memcmp(a, nat64, 12) == 0)
		off = 12;
	else if (a[0] == 0x20 && a[1] == 0x02)
		off = 2;
	if (off < 0)
		return false;
	memset(v4, 0, sizeof(*v4));
	v4->family = AF_INET;
	memcpy(v4->addr, a + off, 4);
	return true;
}

/* The host's own addresses, directly or embedded. */
static const struct eg_cidr *
extra_match(const struct eg_policy *p, const struct eg_ip *ip)
{
	const struct eg_cidr *c;
	struct eg_ip v4;

	if ((c = cidr_list_match(p->extra, p->nextra, ip)) != NULL)
		return c;
	if (embedded_v4(ip, &v4))
		return cidr_list_match(p->extra, p->nextra, &v4);
	return NULL;
}

/* The built-in deny entry ip falls in, after permit_cidr; NULL if none. */
static const struct eg_cidr *
deny_match(const struct eg_policy *p, const struct eg_ip *ip)
{
	const struct eg_cidr *c;
	struct eg_ip v4;

	if (cidr_list_match(p->permit, p->npermit, ip) != NULL)
		return NULL;
	if ((c = cidr_list_match(p->deny, p->ndeny, ip)) != NULL)
		return c;
	if (!embedded_v4(ip, &v4) ||
	    cidr_list_match(p->permit, p->npermit, &v4) != NULL)
		return NULL;
	return cidr_list_match(p->deny, p->ndeny, &v4);
}

/*
 * A direct endpoint given as one address wins over every deny list (the
 * operator named that address and port); one given as a CIDR never covers
 * a host address, so a wide range cannot open the host by accident.
 */
static bool
direct_addr(const struct eg_policy *p, const struct eg_ip *ip, uint16_t port)
{
	const struct eg_endpoint *ep;
	size_t i;
	uint8_t full;

	for (i = 0; i < p->ndirect; i++) {
		ep = &p->direct[i];
		if (ep->is_name || ep->port != port ||
		    ep->cidr.ip.family != ip->family ||
		    !eg_cidr_contains(&ep->cidr, ip))
			continue;
		full = ip->family == AF_INET ? 32 : 128;
		if (ep->cidr.plen == full || extra_match(p, ip) == NULL)
			return true;
	}
	return false;
}

/* ---- decisions ---- */

static struct eg_decision
allow(enum eg_reason reason, const struct eg_rule *rule, bool direct)
{
	struct eg_decision d;

	memset(&d, 0, sizeof(d));
	d.verdict = EG_ALLOW;
	d.reason = reason;
	d.rule = rule;
	d.direct = direct;
	return d;
}

/* hard: stays denied in report mode (see the comment at the top) */
static struct eg_decision
deny(const struct eg_policy *p, enum eg_reason reason,
    const struct eg_rule *rule, const struct eg_cidr *cidr, bool hard)
{
	struct eg_decision d;

	memset(&d, 0, sizeof(d));
	d.verdict = EG_DENY;
	d.reason = reason;
	d.rule = rule;
	d.cidr = cidr;
	if (p != NULL && p->mode == EG_MODE_REPORT && !hard) {
		d.verdict = EG_ALLOW;
		d.reported = true;
	}
	return d;
}

static struct eg_decision
check_literal(const struct eg_policy *p, const struct eg_ip *ip,
    uint16_t port)
{
	const struct eg_cidr *c;

	if (port != 0 && direct_addr(p, ip, port))
		return allow(EG_R_DIRECT, NULL, true);
	if ((c = extra_match(p, ip)) != NULL)
		return deny(p, EG_R_HOST_ADDR, NULL, c, true);
	if ((c = deny_match(p, ip)) != NULL)
		return deny(p, EG_R_DENY_CIDR, NULL, c, false);
	return deny(p, EG_R_IP_LITERAL, NULL, NULL, false);
}

enum literal { LIT_NONE, LIT_OK, LIT_UNREADABLE };

/*
 * Is s an IP literal in any spelling, and which address?  eg_ip_parse()
 * takes numeric scopes only, but "fe80::1%eth0" is an address all the
 * same: it is judged without its scope rather than as a (bad) name.  A
 * literal that still does not read is never a name either.
 */
static enum literal
literal(const char *s, struct eg_ip *ip)
{
	char buf[HOST_MAX + 1], *pct, *br;
	size_t n;

	if ((n = strnlen(s, HOST_MAX + 1)) > HOST_MAX || !eg_is_ip_literal(s))
		return LIT_NONE;
	if (eg_ip_parse(s, ip, true))
		return LIT_OK;
	memcpy(buf, s, n + 1);
	if ((pct = strchr(buf, '%')) == NULL)
		return LIT_UNREADABLE;
	if ((br = strchr(pct, ']')) != NULL)
		memmove(pct, br, strlen(br) + 1);
	else
		*pct = '\0';
	return eg_ip_parse(buf, ip, true) ? LIT_OK : LIT_UNREADABLE;
}

/*
 * A normalised name is lower case without its dot; only IPv4 spellings
 * survive normalising, so ask again only when the letters allow one
 * ("0X7F.1" reads as "0x7f.1").  Most names fail on their first letter.
 */
static enum literal
literal_norm(const char *name, struct eg_ip *ip)
{
	if (name[strspn(name, "0123456789abcdefx.")] != '\0')
		return LIT_NONE;
	return literal(name, ip);
}

typedef bool admit_fn(const struct eg_rule *, uint16_t);

struct match {
	const struct eg_rule *allow;	/* most specific rule admitting */
	const struct eg_rule *named;	/* most specific rule naming it */
};

static bool
admit_port(const struct eg_rule *r, uint16_t port)
{
	uint8_t i;

	for (i = 0; i < r->nports; i++)
		if (port >= r->ports[i].lo && port <= r->ports[i].hi)
			return true;
	return false;
}

static bool
admit_qtype(const struct eg_rule *r, uint16_t qtype)
{
	if (qtype_never(qtype))
		return false;
	if (qtype_default(qtype) || r->qtype_any)
		return true;
	return r->nqtypes > 0 && bsearch(&qtype, r->qtypes, r->nqtypes,
	    sizeof(*r->qtypes), u16_cmp) != NULL;
}

/* Returns true when a rule of the chain admits the request. */
static bool
match_chain(const struct eg_policy *p, uint32_t i, admit_fn *admit,
    uint16_t arg, struct match *m)
{
	const struct eg_rule *r;

	for (; i != 0; i = p->next[i - 1]) {
		r = &p->rules[i - 1];
		if (m->named == NULL)
			m->named = r;
		if (admit(r, arg)) {
			m->allow = r;
			return true;
		}
	}
	return false;
}

static bool
match_slot(const struct eg_policy *p, const struct ntab_slot *s,
    enum eg_match kind, admit_fn *admit, uint16_t arg, struct match *m)
{
	return s != NULL && match_chain(p, s->head[kind], admit, arg, m);
}

/*
 * Most specific first: the name itself (exact), then its parent (one
 * label, then any depth), then every shorter suffix (any depth).
 */
static void
match_name(const struct eg_policy *p, const char *name, size_t len,
    admit_fn *admit, uint16_t arg, struct match *m)
{
	const struct ntab *t = &p->tab;
	const struct ntab_slot *s;
	const char *sfx, *dot;
	size_t slen;

	memset(m, 0, sizeof(*m));
	if (t->n[EG_MATCH_EXACT] > 0 && match_slot(p, ntab_get(t, p->seed,
	    name, len), EG_MATCH_EXACT, admit, arg, m))
		return;
	if (t->n[EG_MATCH_ONE_LABEL] == 0 && t->n[EG_MATCH_ANY_DEPTH] == 0)
		return;
	if ((dot = memchr(name, '.', len)) == NULL)
		return;
	sfx = dot + 1;
	slen = len - (size_t)(sfx - name);
	s = ntab_get(t, p->seed, sfx, slen);
	if (match_slot(p, s, EG_MATCH_ONE_LABEL, admit, arg, m) ||
	    match_slot(p, s, EG_MATCH_ANY_DEPTH, admit, arg, m))
		return;
	if (t->n[EG_MATCH_ANY_DEPTH] == 0)
		return;
	while ((dot = memchr(sfx, '.', slen)) != NULL) {
		slen -= (size_t)(dot + 1 - sfx);
		sfx = dot + 1;
		if (match_slot(p, ntab_get(t, p->seed, sfx, slen),
		    EG_MATCH_ANY_DEPTH, admit, arg, m))
			return;
	}
}

/* name must be normalised; port 0: any port. */
static bool
direct_name(const struct eg_policy *p, const char *name, uint16_t port)
{
	const struct ntab_slot *s;
	uint32_t i;

	if (p->dnames.n[0] == 0 ||
	    (s = ntab_get(&p->dnames, p->seed, name, strlen(name))) == NULL)
		return false;
	for (i = s->head[0]; i != 0; i = p->dnext[i - 1])
		if (port == 0 || p->direct[i - 1].port == port)
			return true;
	return false;
}

struct eg_decision
eg_policy_check_host(const struct eg_policy *p, const char *host,
    uint16_t port)
{
	char name[EG_NAME_MAX + 1];
	enum literal lit;
	struct eg_ip ip;
	struct match m;

	if (p == NULL || host == NULL)
		return deny(p, EG_R_BAD_NAME, NULL, NULL, true);
	/* no TCP connection goes to port 0; nothing to report either */
	if (port == 0)
		return deny(p, EG_R_PORT, NULL, NULL, true);
	if ((lit = literal(host, &ip)) == LIT_NONE) {
		if (!eg_name_normalise(host, name, NULL))
			return deny(p, EG_R_BAD_NAME, NULL, NULL, true);
		lit = literal_norm(name, &ip);
	}
	if (lit == LIT_OK)
		return check_literal(p, &ip, port);
	if (lit == LIT_UNREADABLE)
		return deny(p, EG_R_IP_LITERAL, NULL, NULL, true);
	if (direct_name(p, name, port))
		return allow(EG_R_DIRECT, NULL, true);
	if (p->nrules == 0)
		return deny(p, EG_R_EMPTY, NULL, NULL, false);
	match_name(p, name, strlen(name), admit_port, port, &m);
	if (m.allow != NULL)
		return allow(EG_R_RULE, m.allow, false);
	if (m.named != NULL)
		return deny(p, EG_R_PORT, m.named, NULL, false);
	return deny(p, EG_R_NO_RULE, NULL, NULL, false);
}

struct eg_decision
eg_policy_check_hostn(const struct eg_policy *p, const char *host,
    size_t len, uint16_t port)
{
	char buf[HOST_MAX + 1];

	/* an embedded NUL would let "a.com\0evil" pass as "a.com" */
	if (host == NULL || len == 0 || len > HOST_MAX ||
	    memchr(host, '\0', len) != NULL)
		return deny(p, EG_R_BAD_NAME, NULL, NULL, true);
	memcpy(buf, host, len);
	buf[len] = '\0';
	return eg_policy_check_host(p, buf, port);
}

struct eg_decision
eg_policy_check_dns(const struct eg_policy *p, const char *name,
    uint16_t qtype)
{
	char norm[EG_NAME_MAX + 1];
	struct eg_ip ip;
	struct match m;

	if (p == NULL || name == NULL)
		return deny(p, EG_R_BAD_NAME, NULL, NULL, true);
	if (qtype_never(qtype))
		return deny(p, EG_R_QTYPE, NULL, NULL, true);
	if (literal(name, &ip) != LIT_NONE)
		return deny(p, EG_R_IP_LITERAL, NULL, NULL, false);
	if (!eg_name_normalise(name, norm, NULL))
		return deny(p, EG_R_BAD_NAME, NULL, NULL, true);
	if (literal_norm(norm, &ip) != LIT_NONE)
		return deny(p, EG_R_IP_LITERAL, NULL, NULL, false);
	if ((qtype == QT_A || qtype == QT_AAAA) && direct_name(p, norm, 0))
		return allow(EG_R_DIRECT, NULL, true);
	if (p->nrules == 0)
		return deny(p, EG_R_EMPTY, NULL, NULL, false);
	match_name(p, norm, strlen(norm), admit_qtype, qtype, &m);
	if (m.allow != NULL)
		return allow(EG_R_RULE, m.allow, false);
	if (m.named != NULL)
		return deny(p, EG_R_QTYPE, m.named, NULL, false);
	return deny(p, EG_R_NO_RULE, NULL, NULL, false);
}

struct eg_decision
eg_policy_check_addr(const struct eg_policy *p, const struct eg_ip *ip)
{
	const struct eg_cidr *c;

	if (p == NULL || ip == NULL ||
	    (ip->family != AF_INET && ip->family != AF_INET6))
		return deny(p, EG_R_BAD_NAME, NULL, NULL, true);
	if ((c = extra_match(p, ip)) != NULL)
		return deny(p, EG_R_HOST_ADDR, NULL, c, true);
	if ((c = deny_match(p, ip)) != NULL)
		return deny(p, EG_R_DENY_CIDR, NULL, c, false);
	return allow(EG_R_RULE, NULL, false);
}

bool
eg_policy_is_direct_name(const struct eg_policy *p, const char *name,
    uint16_t port)
{
	char norm[EG_NAME_MAX + 1];

	if (p == NULL || name == NULL || !eg_name_normalise(name, norm, NULL))
		return false;
	return direct_name(p, norm, port);
}
