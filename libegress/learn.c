/*
 * learn.c - learn-mode records into the smallest allowlist that admits
 * them (see learn.h for the rules it follows).
 *
 * Names are kept sorted by their labels reversed ("com.example.cdn.a"):
 * every name under a suffix is then one contiguous run, the suffix's own
 * key being a prefix of theirs, so each candidate suffix costs a binary
 * search and a scan of the names below it.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "errfmt.h"
#include "learn.h"


/* One distinct name and everything seen of it. */
struct nm {
	char key[EG_NAME_MAX + 1];	/* labels reversed */
	size_t idx;			/* into res->names */
	unsigned nlabels;
	uint16_t *ports, *qt;
	size_t nports, nqt;
	uint64_t count;
	int64_t first, last;
	bool taken;			/* a wildcard rule covers it */
};

/* -- records as text ----------------------------------------------------- */

/* Decimal digits only, no sign, at most max; false otherwise. */
static bool
parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		if (!isdigit((unsigned char)s[i]) || i >= 19)
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

int
eg_learn_parse_line(const char *line, struct eg_learn_entry *out, char *err)
{
	static const char *const what[7] = { "workload", "name", "port",
	    "qtype", "count", "first", "last" };
	char buf[EG_LEARN_LINE_MAX + 1], *f[8], *p, *save = NULL;
	struct eg_learn_entry e;
	uint64_t v[5];
	size_t n = strnlen(line, EG_LEARN_LINE_MAX + 1), nf = 0, i;

	if (n > EG_LEARN_LINE_MAX) {
		eg_seterr(err, "longer than %d bytes", EG_LEARN_LINE_MAX);
		return -1;
	}
	memcpy(buf, line, n + 1);
	if ((p = strchr(buf, '#')) != NULL)
		*p = '\0';
	if ((p = strchr(buf, '\n')) != NULL)
		*p = '\0';
	for (p = strtok_r(buf, " \t\r", &save); p != NULL;
	    p = strtok_r(NULL, " \t\r", &save)) {
		if (nf == 7) {
			eg_seterr(err, "more than 7 fields (WORKLOAD NAME PORT "
			    "QTYPE COUNT FIRST LAST)");
			return -1;
		}
		f[nf++] = p;
	}
	if (nf == 0)
		return 0;
	if (nf != 7) {
		eg_seterr(err, "%zu fields, want 7 (WORKLOAD NAME PORT QTYPE "
		    "COUNT FIRST LAST)", nf);
		return -1;
	}
	memset(&e, 0, sizeof(e));
	if (strcmp(f[0], EG_WL_DEFAULT) != 0 && !eg_wl_name_valid(f[0], err))
		return -1;
	memcpy(e.workload, f[0], strlen(f[0]) + 1);
	if (eg_is_ip_literal(f[1])) {
		eg_seterr(err, "an IP literal is never a name");
		return -1;
	}
	if (!eg_name_normalise(f[1], e.name, err))
		return -1;
	for (i = 2; i < 7; i++) {
		uint64_t max = i < 4 ? 65535 : i == 4 ? UINT64_MAX / 2 :
		    (uint64_t)INT64_MAX;

		if (!parse_u64(f[i], max, &v[i - 2])) {
			eg_seterr(err, "%s: not a number up to %" PRIu64,
			    what[i], max);
			return -1;
		}
	}
	e.port = (uint16_t)v[0];
	e.qtype = (uint16_t)v[1];
	e.count = v[2];
	e.first = (int64_t)v[3];
	e.last = (int64_t)v[4];
	if ((e.port == 0) == (e.qtype == 0)) {
		eg_seterr(err, "a record is a connection (port, qtype 0) or "
		    "a query (qtype, port 0)");
		return -1;
	}
	if (e.count == 0 || e.first > e.last) {
		eg_seterr(err, "count must be at least 1 and first <= last");
		return -1;
	}
	*out = e;
	return 1;
}

/* -- the reducer --------------------------------------------------------- */

/* "a.cdn.example.com" -> "com.example.cdn.a"; returns the label count. */
static unsigned
reverse_labels(const char *name, char *key)
{
	size_t n = strlen(name), o = 0, end = n, i;
	unsigned labels = 0;

	for (i = n; ; i--) {
		if (i == 0 || name[i - 1] == '.') {
			if (o > 0)
				key[o++] = '.';
			memcpy(key + o, name + i, end - i);
			o += end - i;
			labels++;
			end = i - 1;
			if (i == 0)
				break;
		}
	}
	key[o] = '\0';
	return labels;
}

static int
nm_cmp(const void *a, const void *b)
{
	return strcmp(((const struct nm *)a)->key, ((const struct nm *)b)->key);
}

static int
u16_cmp(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* Sort and drop repeats; returns the new count. */
static size_t
u16_uniq(uint16_t *v, size_t n)
{
	size_t i, o = 0;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), u16_cmp);
	for (i = 1; i < n; i++)
		if (v[i] != v[o])
			v[++o] = v[i];
	return o + 1;
}

static bool
push16(uint16_t **v, size_t *n, uint16_t x)
{
	uint16_t *nv;

	/* grow at powers of two */
	if ((*n & (*n - 1)) == 0) {
		if ((nv = reallocarray(*v, *n ? *n * 2 : 1, sizeof(**v))) ==
		    NULL)
			return false;
		*v = nv;
	}
	(*v)[(*n)++] = x;
	return true;
}

/* Fold record e into name m. */
static bool
nm_add(struct nm *m, const struct eg_learn_entry *e,
    struct eg_learn_result *res)
{
	if (e->port != 0 && !push16(&m->ports, &m->nports, e->port))
		return false;
	if (e->qtype != 0 && eg_qtype_never(e->qtype))
		res->never++;
	else if (e->qtype != 0 && !eg_qtype_default(e->qtype) &&
	    !push16(&m->qt, &m->nqt, e->qtype))
		return false;
	if (m->count == 0 || e->first < m->first)
		m->first = e->first;
	if (m->count == 0 || e->last > m->last)
		m->last = e->last;
	m->count = m->count + e->count < m->count ? UINT64_MAX :
	    m->count + e->count;
	return true;
}

static int
ent_cmp(const void *a, const void *b)
{
	const struct eg_learn_entry *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

/* The distinct names of e, sorted by key, each with its records folded. */
static struct nm *
collect(const struct eg_learn_entry *e, size_t n, struct eg_learn_result *res,
    size_t *nnm, char *err)
{
	const struct eg_learn_entry **by = NULL;
	struct nm *m = NULL;
	size_t i, k = 0;

	if (n > 0 && ((by = calloc(n, sizeof(*by))) == NULL ||
	    (m = calloc(n, sizeof(*m))) == NULL))
		goto nomem;
	for (i = 0; i < n; i++)
		by[i] = &e[i];
	qsort(by, n, sizeof(*by), ent_cmp);
	for (i = 0; i < n; i++) {
		char name[EG_NAME_MAX + 1];

		/* records come from files too: never trust their names */
		if (eg_is_ip_literal(by[i]->name) ||
		    !eg_name_normalise(by[i]->name, name, NULL) ||
		    strcmp(name, by[i]->name) != 0 ||
		    (by[i]->port == 0) == (by[i]->qtype == 0) ||
		    by[i]->count == 0 || by[i]->first > by[i]->last) {
			res->skipped++;
			continue;
		}
		if (k == 0 || strcmp(res->names[m[k - 1].idx], name) != 0) {
			if (k == EG_LEARN_MAX_NAMES) {
				eg_seterr(err, "more than %d distinct names",
				    EG_LEARN_MAX_NAMES);
				goto fail;
			}
			memcpy(res->names[k], name, strlen(name) + 1);
			m[k].idx = k;
			m[k].nlabels = reverse_labels(name, m[k].key);
			k++;
		}
		if (!nm_add(&m[k - 1], by[i], res))
			goto nomem;
		res->nrecords++;
		if (res->nrecords == 1 || by[i]->first < res->first)
			res->first = by[i]->first;
		if (by[i]->last > res->last)
			res->last = by[i]->last;
	}
	for (i = 0; i < k; i++) {
		m[i].nports = u16_uniq(m[i].ports, m[i].nports);
		m[i].nqt = u16_uniq(m[i].qt, m[i].nqt);
	}
	if (k > 0)
		qsort(m, k, sizeof(*m), nm_cmp);
	free(by);
	res->nnames = k;
	*nnm = k;
	return m;
nomem:
	eg_seterr(err, "out of memory");
fail:
	for (i = 0; m != NULL && i < k; i++) {
		free(m[i].ports);
		free(m[i].qt);
	}
	free(m);
	free(by);
	return NULL;
}

/* First name whose key is >= key (binary search). */
static size_t
lower_bound(const struct nm *m, size_t n, const char *key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(m[mid].key, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Is m's key below the suffix key sk (of length sl)? */
static bool
below(const struct nm *m, const char *sk, size_t sl)
{
	return strncmp(m->key, sk, sl) == 0 && m->key[sl] == '.';
}

/* Ranges of ports, merged; returns the count written to out. */
static size_t
port_ranges(const uint16_t *p, size_t n, struct eg_portrange *out)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (o > 0 && out[o - 1].hi != 65535 &&
		    p[i] == out[o - 1].hi + 1) {
			out[o - 1].hi = p[i];
			continue;
		}
		out[o].lo = out[o].hi = p[i];
		o++;
	}
	return o;
}

/* A rule standing for the names m[i] with take[i] (all when take NULL). */
static int
make_rule(struct eg_learn_result *res, enum eg_match match,
    const char *suffix, size_t slen, struct nm *m, size_t from, size_t to,
    unsigned want_labels)
{
	struct eg_learn_rule *r, *nr;
	uint16_t *ports = NULL, *qt = NULL;
	size_t np = 0, nq = 0, i, j;

	if ((nr = reallocarray(res->rules, res->nrules + 1, sizeof(*nr))) ==
	    NULL)
		return -1;
	res->rules = nr;
	r = &res->rules[res->nrules];
	memset(r, 0, sizeof(*r));
	r->match = match;
	memcpy(r->suffix, suffix, slen);
	r->suffix[slen] = '\0';
	for (i = from; i < to; i++) {
		if (match != EG_MATCH_EXACT && (m[i].taken ||
		    (want_labels != 0 && m[i].nlabels != want_labels)))
			continue;
		for (j = 0; j < m[i].nports; j++)
			if (!push16(&ports, &np, m[i].ports[j]))
				goto nomem;
		for (j = 0; j < m[i].nqt; j++)
			if (!push16(&qt, &nq, m[i].qt[j]))
				goto nomem;
		if (r->nnames < 3)
			r->examples[r->nnames] = res->names[m[i].idx];
		if (r->nnames == 0 || m[i].first < r->first)
			r->first = m[i].first;
		if (m[i].last > r->last)
			r->last = m[i].last;
		r->count = r->count + m[i].count < r->count ? UINT64_MAX :
		    r->count + m[i].count;
		r->nnames++;
		if (match != EG_MATCH_EXACT)
			m[i].taken = true;
	}
	np = u16_uniq(ports, np);
	r->nqtypes = u16_uniq(qt, nq);
	r->qtypes = qt;
	if (np > 0 && (r->ports = calloc(np, sizeof(*r->ports))) == NULL)
		goto nomem;
	r->nports = port_ranges(ports, np, r->ports);
	free(ports);
	res->nrules++;
	return 0;
nomem:
	free(ports);
	free(qt);
	free(r->ports);
	return -1;
}

/*
 * Suffixes under which names belong to different owners, so no wildcard
 * may sit there.  There is no public suffix list here: every two-label
 * suffix under a two-letter country TLD is taken for one ("co.uk",
 * "com.au"; "example.de" too, which costs only exact rules), and a few
 * shared-hosting domains are named.  egressctl learn prints every
 * wildcard with its evidence for review.
 */
static bool
public_suffix(const char *s, size_t len)
{
	static const char *const shared[] = { "github.io", "gitlab.io",
	    "herokuapp.com", "netlify.app", "vercel.app", "pages.dev",
	    "workers.dev", "azurewebsites.net", "cloudfront.net",
	    "appspot.com", "blogspot.com", "firebaseapp.com", "web.app",
	    "amazonaws.com", "s3.amazonaws.com", "ngrok.io", "ngrok-free.app",
	    "duckdns.org", "no-ip.org", "dyndns.org" };
	const char *dot = memchr(s, '.', len);
	size_t i;

	if (dot != NULL && memchr(dot + 1, '.', len - (size_t)(dot + 1 - s)) ==
	    NULL && len - (size_t)(dot + 1 - s) == 2)
		return true;
	for (i = 0; i < sizeof(shared) / sizeof(shared[0]); i++)
		if (strlen(shared[i]) == len && strncmp(shared[i], s, len) == 0)
			return true;
	return false;
}

/*
 * One candidate suffix, key sk of sl bytes and sn labels: "**." when many
 * names sit two or more labels below it under as many different labels,
 * else "*." when many sit one label below it.  Names a more specific
 * wildcard took already do not count.
 */
static int
try_suffix(struct eg_learn_result *res, struct nm *m, size_t n,
    const char *sk, size_t sl, unsigned sn, const char *suffix,
    unsigned min)
{
	char dot[EG_NAME_MAX + 2];
	size_t from, to, kids = 0, deep = 0, anc = 0, last_len = 0;
	const char *last_anc = NULL;

	/* "*.2.3.4": the rule parser takes "2.3.4" for an address */
	memcpy(dot, suffix, sl);
	dot[sl] = '\0';
	if (public_suffix(suffix, sl) || eg_is_ip_literal(dot))
		return 0;
	/* the names below come right after "KEY." (not after KEY itself,
	 * nor after "KEY-x", which sorts before it) */
	memcpy(dot, sk, sl);
	memcpy(dot + sl, ".", 2);
	from = lower_bound(m, n, dot);
	for (to = from; to < n && below(&m[to], sk, sl); to++) {
		const char *a = m[to].key + sl + 1;
		size_t alen = strcspn(a, ".");

		if (m[to].taken)
			continue;
		if (m[to].nlabels == sn + 1) {
			kids++;
			continue;
		}
		deep++;
		if (last_anc == NULL || alen != last_len ||
		    strncmp(a, last_anc, alen) != 0)
			anc++;
		last_anc = a;
		last_len = alen;
	}
	if (deep >= min && anc >= min)
		return make_rule(res, EG_MATCH_ANY_DEPTH, suffix, sl, m, from,
		    to, 0);
	if (kids >= min)
		return make_rule(res, EG_MATCH_ONE_LABEL, suffix, sl, m, from,
		    to, sn + 1);
	return 0;
}

struct cand {
	size_t nm;		/* a name under it */
	size_t len;		/* bytes of its key (and of its name) */
	unsigned labels;
};

static const struct nm *cand_base;

/* Most labels first (most specific), then by key, so equal ones meet. */
static int
cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c;

	if (x->labels != y->labels)
		return x->labels > y->labels ? -1 : 1;
	if ((c = strncmp(cand_base[x->nm].key, cand_base[y->nm].key, n)) != 0)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

static int
wildcards(struct eg_learn_result *res, struct nm *m, size_t n, unsigned min)
{
	struct cand *c = NULL, *nc;
	size_t nc_n = 0, cap = 0, i, j;
	int rc = -1;

	/* every proper suffix of two labels or more of every name */
	for (i = 0; i < n; i++) {
		unsigned lab = 0;

		for (j = 0; m[i].key[j] != '\0'; j++) {
			if (m[i].key[j] != '.' || ++lab < 2)
				continue;
			if (nc_n == cap) {
				cap = cap ? cap * 2 : 64;
				if ((nc = reallocarray(c, cap, sizeof(*c))) ==
				    NULL)
					goto out;
				c = nc;
			}
			c[nc_n++] = (struct cand){ i, j, lab };
		}
	}
	cand_base = m;
	if (nc_n > 0)
		qsort(c, nc_n, sizeof(*c), cand_cmp);
	for (i = 0; i < nc_n; i++) {
		char sk[EG_NAME_MAX + 1];
		const char *name = res->names[m[c[i].nm].idx];

		if (i > 0 && cand_cmp(&c[i - 1], &c[i]) == 0)
			continue;
		memcpy(sk, m[c[i].nm].key, c[i].len);
		sk[c[i].len] = '\0';
		/* a key and its name have the same length: the suffix is
		 * the name's tail */
		if (try_suffix(res, m, n, sk, c[i].len, c[i].labels,
		    name + strlen(name) - c[i].len, min) == -1)
			goto out;
	}
	rc = 0;
out:
	free(c);
	return rc;
}

static int
rule_cmp(const void *a, const void *b)
{
	const struct eg_learn_rule *x = a, *y = b;
	char kx[EG_NAME_MAX + 1], ky[EG_NAME_MAX + 1];
	int c;

	reverse_labels(x->suffix, kx);
	reverse_labels(y->suffix, ky);
	if ((c = strcmp(kx, ky)) != 0)
		return c;
	return (int)x->match - (int)y->match;
}

int
eg_learn_reduce(const struct eg_learn_entry *e, size_t n,
    unsigned min_siblings, struct eg_learn_result *res, char *err)
{
	struct nm *m = NULL;
	size_t nnm = 0, i;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	if (min_siblings == 0)
		min_siblings = EG_LEARN_MIN_SIBLINGS;
	if (n > 0 && (res->names = calloc(n < EG_LEARN_MAX_NAMES ? n :
	    EG_LEARN_MAX_NAMES, sizeof(*res->names))) == NULL) {
		eg_seterr(err, "out of memory");
		return -1;
	}
	if (n > 0 && (m = collect(e, n, res, &nnm, err)) == NULL)
		goto out;
	if (wildcards(res, m, nnm, min_siblings) == -1)
		goto nomem;
	for (i = 0; i < nnm; i++) {
		const char *name = res->names[m[i].idx];

		if (!m[i].taken && make_rule(res, EG_MATCH_EXACT, name,
		    strlen(name), m, i, i + 1, 0) == -1)
			goto nomem;
	}
	if (res->nrules > 0)
		qsort(res->rules, res->nrules, sizeof(*res->rules), rule_cmp);
	rc = 0;
	goto out;
nomem:
	eg_seterr(err, "out of memory");
out:
	for (i = 0; i < nnm; i++) {
		free(m[i].ports);
		free(m[i].qt);
	}
	free(m);
	if (rc == -1)
		eg_learn_result_free(res);
	return rc;
}

void
eg_learn_result_free(struct eg_learn_result *res)
{
	size_t i;

	for (i = 0; i < res->nrules; i++) {
		free(res->rules[i].ports);
		free(res->rules[i].qtypes);
	}
	free(res->rules);
	free(res->names);
	memset(res, 0, sizeof(*res));
}

/* -- output -------------------------------------------------------------- */

#define LEARN_QTYPES_PER_LINE	32	/* the rule parser's limit */

static size_t
chunks(size_t n, size_t per)
{
	return (n + per - 1) / per;
}

/* Append to buf at *o, never past len; *o counts what did not fit too. */
static void
app(char *buf, size_t len, size_t *o, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
app(char *buf, size_t len, size_t *o, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(buf + (*o < len ? *o : len), *o < len ? len - *o : 0,
	    fmt, ap);
	va_end(ap);
	if (r > 0)
		*o += (size_t)r;
}

/*
 * Rules of one pattern add up (policy.c), so ports past the parser's 16
 * ranges and types past its 32 go on further lines of the same pattern;
 * a line that has run out of its own ports repeats the first ones.
 */
int
eg_learn_rule_line(const struct eg_learn_rule *r, size_t part, char *buf,
    size_t len)
{
	static const char *const pfx[] = { "", "*.", "**." };
	size_t np = chunks(r->nports, EG_RULE_MAX_PORTRANGES);
	size_t nq = chunks(r->nqtypes, LEARN_QTYPES_PER_LINE);
	size_t i, o = 0, from, to;
	char tb[16];

	if (part >= (np > nq ? np : nq) && !(part == 0 && np + nq == 0))
		return 0;
	if (len == 0)
		return -1;
	app(buf, len, &o, "%s%s:", pfx[r->match], r->suffix);
	if (r->nports == 0)
		app(buf, len, &o, "443");
	from = (part < np ? part : 0) * EG_RULE_MAX_PORTRANGES;
	to = from + EG_RULE_MAX_PORTRANGES;
	for (i = from; i < r->nports && i < to; i++) {
		const struct eg_portrange *p = &r->ports[i];

		app(buf, len, &o, "%s%u", i > from ? "," : "", p->lo);
		if (p->hi != p->lo)
			app(buf, len, &o, "-%u", p->hi);
	}
	from = part * LEARN_QTYPES_PER_LINE;
	to = from + LEARN_QTYPES_PER_LINE;
	for (i = from; part < nq && i < r->nqtypes && i < to; i++)
		app(buf, len, &o, "%s%s", i == from ? " qtype=" : ",",
		    eg_qtype_name(r->qtypes[i], tb, sizeof(tb)));
	return o < len ? 1 : -1;
}

static const char *
utc(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%" PRId64, t);
	return buf;
}

static void
print_comment(FILE *out, const struct eg_learn_rule *r)
{
	size_t i;

	switch (r->match) {
	case EG_MATCH_EXACT:
		if (r->nports == 0)
			fprintf(out, "# %s: asked in DNS only, no connection "
			    "seen; 443 is the default port\n", r->suffix);
		return;
	case EG_MATCH_ONE_LABEL:
		fprintf(out, "# *.%s: %zu sibling names seen (", r->suffix,
		    r->nnames);
		break;
	case EG_MATCH_ANY_DEPTH:
		fprintf(out, "# **.%s: %zu names seen at two or more labels "
		    "below it, under as many different labels (", r->suffix,
		    r->nnames);
		break;
	}
	for (i = 0; i < r->nnames && i < 3; i++)
		fprintf(out, "%s%s", i ? ", " : "", r->examples[i]);
	fprintf(out, "%s)%s\n", r->nnames > 3 ? ", ..." : "",
	    r->match == EG_MATCH_ANY_DEPTH ? "; any depth lets labels carry "
	    "data: review it" : "");
}

int
eg_learn_print(FILE *out, const struct eg_learn_result *res,
    const char *what)
{
	char a[40], b[40], line[EG_NAME_MAX + 8 + EG_RULE_MAX_PORTRANGES * 12 +
	    256 * 11];
	size_t i, part;
	int r;

	fprintf(out, "# egressctl learn: %s\n", what);
	fprintf(out, "# %zu records of %zu names", res->nrecords, res->nnames);
	if (res->nrecords > 0)
		fprintf(out, ", %s to %s", utc(res->first, a, sizeof(a)),
		    utc(res->last, b, sizeof(b)));
	fprintf(out, "; %zu rules\n", res->nrules);
	if (res->skipped > 0)
		fprintf(out, "# %zu records left out: not a name\n",
		    res->skipped);
	if (res->never > 0)
		fprintf(out, "# %zu queries left out: their types (ANY, AXFR, "
		    "...) are never answered\n", res->never);
	for (i = 0; i < res->nrules; i++) {
		print_comment(out, &res->rules[i]);
		for (part = 0; (r = eg_learn_rule_line(&res->rules[i], part,
		    line, sizeof(line))) == 1; part++)
			fprintf(out, "%s\n", line);
		if (r == -1)
			return -1;	/* cannot happen: line fits any rule */
	}
	return ferror(out) ? -1 : 0;
}
