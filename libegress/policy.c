/*
 * policy.c - the allowlist engine: name tables, deny lists, decisions.
 * The rule grammar is rule.c's; the hash table is htab.c's.
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
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errfmt.h"
#include "htab.h"
#include "policy.h"

/*
 * One key (a name or a wildcard's suffix) and a chain of items per match
 * kind, so that "*.a.com" and "**.a.com" share one probe for "a.com".
 */
struct nkey {
	struct eg_hnode	 node;		/* first: the table's node is the key */
	const char	*key;
	uint16_t	 len;
	uint32_t	 head[3];	/* 1-based item indices; 0: none */
	uint32_t	 tail[3];
};

/* The keys in a keyed hash table, both sized once for every item. */
struct ntab {
	struct eg_htab	 h;
	struct nkey	*keys;		/* at most one per item */
	size_t		 nkeys;
	size_t		 n[3];		/* items per kind */
};

struct eg_policy {
	enum eg_policy_mode mode;

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

static bool
ntab_init(struct ntab *t, size_t n)
{
	memset(t, 0, sizeof(*t));
	return eg_htab_init(&t->h, n, SIZE_MAX) &&
	    (t->keys = calloc(n ? n : 1, sizeof(*t->keys))) != NULL;
}

static void
ntab_free(struct ntab *t)
{
	eg_htab_free(&t->h);
	free(t->keys);
}

static struct nkey *
ntab_find(const struct ntab *t, uint64_t h, const char *key, size_t len)
{
	struct eg_hnode *n;
	struct nkey *k;

	for (n = eg_htab_first(&t->h, h); n != NULL; n = eg_htab_next(n)) {
		k = (struct nkey *)n;
		if (k->len == len && memcmp(k->key, key, len) == 0)
			return k;
	}
	return NULL;
}

/* Append item idx (0-based) of a kind under key; next[] chains them. */
static void
ntab_add(struct ntab *t, const char *key, int kind, uint32_t idx,
    uint32_t *next)
{
	size_t len = strlen(key);
	uint64_t h = eg_htab_hash(&t->h, 0, key, len);
	struct nkey *k = ntab_find(t, h, key, len);

	if (k == NULL) {
		k = &t->keys[t->nkeys++];
		k->node.hash = h;
		k->key = key;
		k->len = (uint16_t)len;
		eg_htab_insert(&t->h, &k->node);
	}
	if (k->head[kind] == 0)
		k->head[kind] = idx + 1;
	else
		next[k->tail[kind] - 1] = idx + 1;
	k->tail[kind] = idx + 1;
	t->n[kind]++;
}

/* The key's entry, or NULL when absent. */
static const struct nkey *
ntab_get(const struct ntab *t, const char *key, size_t len)
{
	if (len > EG_NAME_MAX)
		return NULL;
	return ntab_find(t, eg_htab_hash(&t->h, 0, key, len), key, len);
}

/* ---- building ---- */

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
compile_rules(struct eg_policy *p, const struct eg_policy_conf *pc,
    char *err)
{
	const char *lastsrc = NULL, *lastfile = NULL;
	size_t i, n = pc->nrules;

	if (n > 0 && pc->rules == NULL) {
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
		if (!compile_rule(p, &pc->rules[i], &p->rules[i],
		    &lastsrc, &lastfile, err))
			return false;
		p->nrules++;
	}
	if (!ntab_init(&p->tab, n)) {
		eg_seterr(err, "policy: out of memory for %zu rules", n);
		return false;
	}
	for (i = 0; i < n; i++)
		ntab_add(&p->tab, p->rules[i].suffix, (int)p->rules[i].match,
		    (uint32_t)i, p->next);
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
	char nerr[EG_ERR_MAX], q[EG_RULE_QUOTE_BUF];
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
			    d->at.line, eg_rule_quote(d->ep.name,
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

/* [jail] direct (jd) and a workload's own direct lines (wd), in order. */
static bool
compile_direct(struct eg_policy *p, const struct eg_direct *jd, size_t njd,
    const struct eg_direct *wd, size_t nwd, char *err)
{
	size_t i, n, nnames = 0;

	if ((njd > 0 && jd == NULL) || (nwd > 0 && wd == NULL)) {
		eg_seterr(err, "policy: %zu direct endpoints but no list",
		    njd + nwd);
		return false;
	}
	n = njd + nwd;
	if (njd >= UINT32_MAX / 4 || nwd >= UINT32_MAX / 4 ||
	    n >= UINT32_MAX / 4 ||
	    (p->direct = calloc(n ? n : 1, sizeof(*p->direct))) == NULL ||
	    (p->dnext = calloc(n ? n : 1, sizeof(*p->dnext))) == NULL) {
		eg_seterr(err, "policy: out of memory for %zu direct endpoints",
		    n);
		return false;
	}
	for (i = 0; i < n; i++) {
		if (!compile_direct_one(i < njd ? &jd[i] : &wd[i - njd],
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
			ntab_add(&p->dnames, p->direct[i].name, 0,
			    (uint32_t)i, p->dnext);
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
compile_cidrs(struct eg_policy *p, const struct eg_policy_conf *pc,
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
	return copy_cidrs(&p->permit, &p->npermit, pc->permit,
	    pc->npermit, "permit_cidr", err) &&
	    copy_cidrs(&p->extra, &p->nextra, extra, nextra, "host addresses",
	    err);
}

bool
eg_policy_host_addrs_copy(const struct eg_cidr *extra, size_t nextra,
    struct eg_cidr **out, char *err)
{
	size_t nn = 0;

	*out = NULL;
	if (!copy_cidrs(out, &nn, extra, nextra, "host addresses", err)) {
		free(*out);
		*out = NULL;
		return false;
	}
	return true;
}

void
eg_policy_host_addrs_take(struct eg_policy *p, struct eg_cidr *v, size_t n)
{
	free(p->extra);
	p->extra = v;
	p->nextra = n;
}

bool
eg_policy_set_host_addrs(struct eg_policy *p, const struct eg_cidr *extra,
    size_t nextra, char *err)
{
	struct eg_cidr *n;

	if (!eg_policy_host_addrs_copy(extra, nextra, &n, err))
		return false;
	eg_policy_host_addrs_take(p, n, nextra);
	return true;
}

struct eg_policy *
eg_policy_new(const struct eg_config *cfg, const struct eg_cidr *extra_deny,
    size_t nextra, char *err)
{
	if (cfg == NULL) {
		eg_seterr(err, "policy: no configuration");
		return NULL;
	}
	return eg_policy_new_conf(&cfg->policy, cfg->policy.mode,
	    cfg->jail.direct, cfg->jail.ndirect, NULL, 0, extra_deny, nextra,
	    err);
}

struct eg_policy *
eg_policy_new_conf(const struct eg_policy_conf *pc, enum eg_policy_mode mode,
    const struct eg_direct *jail_direct, size_t njail,
    const struct eg_direct *own_direct, size_t nown,
    const struct eg_cidr *extra_deny, size_t nextra, char *err)
{
	struct eg_policy *p;

	if (pc == NULL) {
		eg_seterr(err, "policy: no configuration");
		return NULL;
	}
	if (mode != EG_MODE_ENFORCE && mode != EG_MODE_REPORT &&
	    mode != EG_MODE_ASK && mode != EG_MODE_LEARN) {
		eg_seterr(err, "policy: unknown mode %d", (int)mode);
		return NULL;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		eg_seterr(err, "policy: out of memory");
		return NULL;
	}
	p->mode = mode;
	if (!compile_rules(p, pc, err) ||
	    !compile_direct(p, jail_direct, njail, own_direct, nown, err) ||
	    !compile_cidrs(p, pc, extra_deny, nextra, err))
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
	ntab_free(&p->tab);
	free(p->direct);
	free(p->dnext);
	ntab_free(&p->dnames);
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

enum eg_policy_mode
eg_policy_mode(const struct eg_policy *p)
{
	return p != NULL ? p->mode : EG_MODE_ENFORCE;
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
	static const uint8_t zero[12], mapped[12] = { [10] = 0xff,
	    [11] = 0xff },
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
	/* learn is report mode here; the daemons record what it lets by */
	if (p != NULL && eg_mode_reports(p->mode) && !hard) {
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
	char buf[EG_HOST_MAX + 1], *pct, *br;
	size_t n;

	if ((n = strnlen(s, EG_HOST_MAX + 1)) > EG_HOST_MAX ||
	    !eg_is_ip_literal(s))
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
match_slot(const struct eg_policy *p, const struct nkey *s,
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
	const struct nkey *s;
	const char *sfx, *dot;
	size_t slen;

	memset(m, 0, sizeof(*m));
	if (t->n[EG_MATCH_EXACT] > 0 && match_slot(p, ntab_get(t, name,
	    len), EG_MATCH_EXACT, admit, arg, m))
		return;
	if (t->n[EG_MATCH_ONE_LABEL] == 0 && t->n[EG_MATCH_ANY_DEPTH] == 0)
		return;
	if ((dot = memchr(name, '.', len)) == NULL)
		return;
	sfx = dot + 1;
	slen = len - (size_t)(sfx - name);
	s = ntab_get(t, sfx, slen);
	if (match_slot(p, s, EG_MATCH_ONE_LABEL, admit, arg, m) ||
	    match_slot(p, s, EG_MATCH_ANY_DEPTH, admit, arg, m))
		return;
	if (t->n[EG_MATCH_ANY_DEPTH] == 0)
		return;
	while ((dot = memchr(sfx, '.', slen)) != NULL) {
		slen -= (size_t)(dot + 1 - sfx);
		sfx = dot + 1;
		if (match_slot(p, ntab_get(t, sfx, slen),
		    EG_MATCH_ANY_DEPTH, admit, arg, m))
			return;
	}
}

/* name must be normalised; port 0: any port. */
static bool
direct_name(const struct eg_policy *p, const char *name, uint16_t port)
{
	const struct nkey *s;
	uint32_t i;

	if (p->dnames.n[0] == 0 ||
	    (s = ntab_get(&p->dnames, name, strlen(name))) == NULL)
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
	match_name(p, name, strlen(name), eg_rule_admits_port, port, &m);
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
	char buf[EG_HOST_MAX + 1];

	/* an embedded NUL would let "a.com\0evil" pass as "a.com" */
	if (host == NULL || len == 0 || len > EG_HOST_MAX ||
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
	if (eg_qtype_never(qtype))
		return deny(p, EG_R_QTYPE, NULL, NULL, true);
	if (literal(name, &ip) != LIT_NONE)
		return deny(p, EG_R_IP_LITERAL, NULL, NULL, false);
	if (!eg_name_normalise(name, norm, NULL))
		return deny(p, EG_R_BAD_NAME, NULL, NULL, true);
	if (literal_norm(norm, &ip) != LIT_NONE)
		return deny(p, EG_R_IP_LITERAL, NULL, NULL, false);
	if ((qtype == EG_QT_A || qtype == EG_QT_AAAA) &&
	    direct_name(p, norm, 0))
		return allow(EG_R_DIRECT, NULL, true);
	if (p->nrules == 0)
		return deny(p, EG_R_EMPTY, NULL, NULL, false);
	match_name(p, norm, strlen(norm), eg_rule_admits_qtype, qtype, &m);
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
