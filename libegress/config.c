/*
 * config.c - load egressjail.conf and its allow files into one struct.
 *
 * The loader never stops at the first mistake: an operator fixing a config
 * wants every error in one run.  Each message has one of these shapes:
 *
 *   FILE:LINE: [SECTION] KEY: "VALUE": REASON     a bad value
 *   FILE:LINE: "TEXT": REASON                     a line that is not INI
 *   FILE: [SECTION] KEY: "VALUE" (default): REASON  a default that fails
 *   FILE: [SECTION] KEY: REASON                   a key that is missing
 *   FILE: REASON                                  the file as a whole
 *
 * Quoted text is cut at 64 bytes and anything outside printable ASCII is
 * written as \xNN, so a message is always one clean line.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "errfmt.h"
#include "policy.h"

#define FILE_MAX	(1024 * 1024)	/* bytes in any one file */
#define LINE_MAX_LEN	4096		/* bytes in one line, without '\n' */
#define QUOTE_MAX	64
#define QUOTE_BUF	(QUOTE_MAX * 4 + 8)
#define ERRORS_MAX	1000		/* then one "too many errors" */

#define MAX_RULES	100000
#define MAX_DIRECT	10000
#define MAX_PERMIT	10000
#define MAX_HOPS	8
#define MAX_UPSTREAMS	16
#define MAX_BOOTSTRAP	16
#define MAX_IFACES	1024
#define MAX_USERS	1024
#define MAX_LISTEN	16
#define MAX_SEARCH	32
#define MAX_ALLOW_FILES	1000
#define USERNAME_MAX	32
#define IFNAME_MAX	15

#define DEF_CONNECT_USER	"egress-connect"
#define DEF_DNS_USER		"egress-dns"
#define DEF_NETJAIL_USER	"egressjail"
#define DEF_GROUP		"egressjail"
#define DEF_PROXY_LISTEN	"127.0.0.1:3128"
#define DEF_DOHD_LISTEN		"127.0.0.1:15353"

/*
 * The public struct plus what only the loader needs to keep: the names of
 * every file read, which origins point into.
 */
struct config_priv {
	struct eg_config pub;
	char **files;
	size_t nfiles;
};

enum sect { S_JAIL, S_CHAIN, S_CONNECTD, S_DOHD, S_NETJAILD, S_POLICY,
	S_COUNT, S_NONE = -1, S_BAD = -2 };

static const char *sect_names[S_COUNT] = {
	"jail", "chain", "connectd", "dohd", "netjaild", "policy",
};

struct loader;
struct keydef;

typedef bool (*key_fn)(struct loader *, const struct keydef *,
    const char *, struct eg_origin, char *);

struct keydef {
	enum sect sect;
	const char *name;
	key_fn fn;
	size_t off;		/* into struct eg_config */
	bool list;
	uint64_t min, max;	/* numbers and durations */
	size_t cap;		/* lists: most entries */
};

struct loader {
	struct config_priv *priv;
	struct eg_config *cfg;
	struct eg_config_errors *errs;
	unsigned flags;
	const char *dir;	/* allow_file globs relative to this; NULL: cwd */
	const char *file;	/* the file being read (owned by priv) */
	enum sect sect;
	const char *sect_name;	/* as written, for unknown sections */
	int sect_line[S_COUNT];
	int *key_line;		/* first line of each key, by keydef index */
	bool *cap_hit;		/* a list cap already reported */
	bool oom;
};

/* -- messages ---------------------------------------------------------- */


static void
add_msg(struct loader *ld, char *msg)
{
	struct eg_config_errors *e = ld->errs;
	char **n;

	if (msg == NULL) {
		ld->oom = true;
		return;
	}
	if (e->n > ERRORS_MAX) {
		free(msg);
		return;
	}
	if (e->n == ERRORS_MAX) {
		free(msg);
		msg = strdup("too many errors; stopped reporting");
		if (msg == NULL) {
			ld->oom = true;
			return;
		}
	}
	n = reallocarray(e->msgs, e->n + 1, sizeof(*n));
	if (n == NULL) {
		free(msg);
		ld->oom = true;
		return;
	}
	e->msgs = n;
	e->msgs[e->n++] = msg;
}

static void errorf(struct loader *ld, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
errorf(struct loader *ld, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	add_msg(ld, msg);
}

/*
 * Reasons from addr.c and the rule parser often start with the value
 * quoted the same way; printing it twice helps nobody.
 */
static const char *
strip_quoted(const char *reason, const char *qv)
{
	size_t n = strlen(qv);

	while (reason[0] == '"' && strncmp(reason + 1, qv, n) == 0 &&
	    strncmp(reason + 1 + n, "\": ", 3) == 0)
		reason += n + 4;
	return reason;
}

/* FILE:LINE: [SECTION] KEY: "VALUE": REASON */
static void
key_error(struct loader *ld, struct eg_origin at, const char *sect,
    const char *key, const char *value, const char *reason)
{
	char q[QUOTE_BUF];

	eg_err_quote(value, q, sizeof(q));
	errorf(ld, "%s:%d: [%s] %s: \"%s\": %s", at.file, at.line, sect, key,
	    q, strip_quoted(reason, q));
}

/* FILE:LINE: "TEXT": REASON */
static void
line_error(struct loader *ld, int line, const char *text, const char *reason)
{
	char q[QUOTE_BUF];

	errorf(ld, "%s:%d: \"%s\": %s", ld->file, line,
	    eg_err_quote(text, q, sizeof(q)), reason);
}

/* -- small helpers ------------------------------------------------------ */

static void *
member(struct loader *ld, const struct keydef *k)
{
	return (char *)ld->cfg + k->off;
}

/*
 * Make room for element n of an array grown only by this function:
 * capacity doubles whenever n reaches a power of two.
 */
static bool
grow(struct loader *ld, void *arrp, size_t n, size_t size)
{
	void **arr = arrp, *p;
	size_t cap;

	if (n != 0 && (n & (n - 1)) != 0)
		return true;
	cap = n == 0 ? 1 : n * 2;
	p = reallocarray(*arr, cap, size);
	if (p == NULL) {
		ld->oom = true;
		return false;
	}
	*arr = p;
	return true;
}

static char *
xstrdup(struct loader *ld, const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		ld->oom = true;
	return p;
}

static bool
is_ws(char c)
{
	return c == ' ' || c == '\t';
}

static bool
valid_username(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > USERNAME_MAX)
		return false;
	if (!islower((unsigned char)s[0]) && s[0] != '_')
		return false;
	for (i = 1; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!islower(c) && !isdigit(c) && c != '_' && c != '-' &&
		    !(c == '$' && i == n - 1))
			return false;
	}
	return true;
}

/* Returns 0 when found, ENOENT when there is no such user, else errno. */
static int
lookup_user(const char *name, uid_t *uid, gid_t *gid)
{
	struct passwd pw, *res = NULL;
	size_t len = 16384;
	char *buf = NULL, *nb;
	int r;

	for (;;) {
		if ((nb = realloc(buf, len)) == NULL) {
			r = ENOMEM;
			goto out;
		}
		buf = nb;
		r = getpwnam_r(name, &pw, buf, len, &res);
		if (r != ERANGE || len >= 1024 * 1024)
			break;
		len *= 2;
	}
	if (r == 0 && res == NULL)
		r = ENOENT;
	if (r == 0) {
		*uid = pw.pw_uid;
		*gid = pw.pw_gid;
	}
out:
	free(buf);
	return r;
}

static int
lookup_group(const char *name)
{
	struct group gr, *res = NULL;
	size_t len = 16384;
	char *buf = NULL, *nb;
	int r;

	for (;;) {
		if ((nb = realloc(buf, len)) == NULL) {
			r = ENOMEM;
			goto out;
		}
		buf = nb;
		r = getgrnam_r(name, &gr, buf, len, &res);
		if (r != ERANGE || len >= 1024 * 1024)
			break;
		len *= 2;
	}
	if (r == 0 && res == NULL)
		r = ENOENT;
out:
	free(buf);
	return r;
}

static const char *
lookup_reason(int r, char *buf, size_t len, const char *what)
{
	if (r == ENOENT)
		snprintf(buf, len, "no such %s", what);
	else
		snprintf(buf, len, "%s lookup failed: %s", what, strerror(r));
	return buf;
}

/* -- value parsers, one per kind of key ---------------------------------- */

static bool
set_bool(struct loader *ld, const struct keydef *k, const char *v,
    struct eg_origin at, char *err)
{
	if (!eg_bool_parse(v, member(ld, k))) {
		snprintf(err, EG_ERR_MAX, "expected yes or no");
		return false;
	}
	return true;
}

static bool
set_duration(struct loader *ld, const struct keydef *k, const char *v,
    struct eg_origin at, char *err)
{
	uint64_t ms;

	if (!eg_duration_parse(v, &ms, err))
		return false;
	if (ms < k->min || ms > k->max) {
		snprintf(err, EG_ERR_MAX, "must be between %llums and %llums",
		    (unsigned long long)k->min, (unsigned long long)k->max);
		return false;
	}
	*(uint64_t *)member(ld, k) = ms;
	return true;
}

static bool
set_size(struct loader *ld, const struct keydef *k, const char *v,
    struct eg_origin at, char *err)
{
	uint64_t b;

	if (!eg_size_parse(v, &b, err))
		return false;
	if (b < k->min || b > k->max) {
		snprintf(err, EG_ERR_MAX, "must be between %llu and %llu "
		    "bytes", (unsigned long long)k->min,
		    (unsigned long long)k->max);
		return false;
	}
	*(uint64_t *)member(ld, k) = b;
	return true;
}

/* Decimal, or hex with 0x (for fwmark); bounded by the key's min/max. */
static bool
set_u32(struct loader *ld, const struct keydef *k, const char *v,
    struct eg_origin at, char *err)
{
	unsigned long long x;
	char *end;
	size_t n = strlen(v);

	if (n == 0 || n > 12 || !isdigit((unsigned char)v[0])) {
		snprintf(err, EG_ERR_MAX, "expected a number");
		return false;
	}
	errno = 0;
	x = strtoull(v, &end, (v[0] == '0' && (v[1] == 'x' || v[1] == 'X'))
	    ? 16 : 10);
	if (errno != 0 || *end != '\0' || end == v) {
		snprintf(err, EG_ERR_MAX, "expected a number");
		return false;
	}
	if (x < k->min || x > k->max) {
		snprintf(err, EG_ERR_MAX, "must be between %llu and %llu",
		    (unsigned long long)k->min, (unsigned long long)k->max);
		return false;
	}
	*(uint32_t *)member(ld, k) = (uint32_t)x;
	return true;
}

static bool
set_route_table(struct loader *ld, const struct keydef *k, const char *v,
    struct eg_origin at, char *err)
{
	uint32_t old = ld->cfg->jail.route_table;

	if (!set_u32(ld, k, v, at, err))
		return false;
	switch (ld->cfg->jail.route_table) {
	case 253: case 254: case 255:
		ld->cfg->jail.route_table = old;
		snprintf(err, EG_ERR_MAX, "tables 253-255 are the kernel's "
		    "default, main and local tables");
		return false;
	}
	return true;
}

static bool
set_abspath(struct loader *ld, const struct keydef *k, const char *v,
    struct eg_origin at, char *err)
{
	char **p = member(ld, k), *s;

	if (v[0] != '/') {
		snprintf(err, EG_ERR_MAX, "must be an absolute path");
		return false;
	}
	if ((s = xstrdup(ld, v)) == NULL)
		return false;
	free(*p);
	*p = s;
	return true;
}

static int
pick(const char *v, const char *const *names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v, names[i]) == 0)
			return (int)i;
	return -1;
}

static bool
set_ipv6(struct loader *ld, const struct keydef *k, const char *v,
    struct eg_origin at, char *err)
{
	static const char *const n[] = { "jail", "drop" };
	int i = pick(v, n, 2);

	if (i < 0) {
		snprintf(err, EG_ERR_MAX, "expected jail or drop");
		return false;
	}
	ld->cfg->jail.ipv6 = i == 0 ? EG_IPV6_JAIL : EG_IPV6_DROP;
	return true;
}

/*
 * inbound: whether a connection that the host DNATs to a jailed bridge
 * (docker run -p) may be forwarded there.  Only the DNAT makes it pass:
 * plain routed inbound is dropped either way.
 */
static bool
set_inbound(struct loader *ld, const struct keydef *k, const char *v,
    struct eg_origin at, char *err)
{
	static const char *const n[] = { "published", "drop" };
	int i = pick(v, n, 2);

	if (i < 0) {
		snprintf(err, EG_ERR_MAX, "expected published or drop");
		return false;
	}
	ld->cfg->jail.inbound = i == 0 ? EG_INBOUND_PUBLISHED :
	    EG_INBOUND_DROP;
	return true;
}

static bool
set_exit(struct loader *ld, const struct keydef *k, const char *v,
    struct eg_origin at, char *err)
{
	static const char *const n[] = { "hop", "direct" };
	int i = pick(v, n, 2);

	if (i < 0) {
		snprintf(err, EG_ERR_MAX, "expected hop or direct");
		return false;
	}
	ld->cfg->chain.exit = i == 0 ? EG_EXIT_HOP : EG_EXIT_DIRECT;
	return true;
}

static bool
set_mode(struct loader *ld, const struct keydef *k, const char *v,
    struct eg_origin at, char *err)
{
	static const char *const n[] = { "enforce", "report" };
	int i = pick(v, n, 2);

	if (i < 0) {
		snprintf(err, EG_ERR_MAX, "expected enforce or report");
		return false;
	}
	ld->cfg->policy.mode = i == 0 ? EG_MODE_ENFORCE : EG_MODE_REPORT;
	return true;
}

static bool
set_rcode(struct loader *ld, const struct keydef *k, const char *v,
    struct eg_origin at, char *err)
{
	static const char *const n[] = { "nxdomain", "refused" };
	int i = pick(v, n, 2);

	if (i < 0) {
		snprintf(err, EG_ERR_MAX, "expected nxdomain or refused");
		return false;
	}
	ld->cfg->dohd.deny_rcode = i == 0 ? EG_DENY_NXDOMAIN :
	    EG_DENY_REFUSED;
	return true;
}

static bool
set_loglevel(struct loader *ld, const struct keydef *k, const char *v,
    struct eg_origin at, char *err)
{
	static const char *const n[] = { "debug", "info", "warn", "err" };
	char *s;

	if (pick(v, n, 4) < 0) {
		snprintf(err, EG_ERR_MAX, "expected debug, info, warn or err");
		return false;
	}
	if ((s = xstrdup(ld, v)) == NULL)
		return false;
	free(ld->cfg->jail.log_level);
	ld->cfg->jail.log_level = s;
	return true;
}

static bool
set_group(struct loader *ld, const struct keydef *k, const char *v,
    struct eg_origin at, char *err)
{
	char *s;

	if (!valid_username(v)) {
		snprintf(err, EG_ERR_MAX, "not a valid group name");
		return false;
	}
	if ((s = xstrdup(ld, v)) == NULL)
		return false;
	free(ld->cfg->jail.group);
	ld->cfg->jail.group = s;
	return true;
}

/* A daemon's own user: looked up at the end, with the defaults. */
static bool
set_daemon_user(struct loader *ld, const struct keydef *k, const char *v,
    struct eg_origin at, char *err)
{
	struct eg_user *u = member(ld, k);
	char *s;

	if (!valid_username(v)) {
		snprintf(err, EG_ERR_MAX, "not a valid user name");
		return false;
	}
	if ((s = xstrdup(ld, v)) == NULL)
		return false;
	free(u->name);
	u->name = s;
	u->at = at;
	return true;
}

static bool
add_jailed_user(struct loader *ld, const struct keydef *k, const char *v,
    struct eg_origin at, char *err)
{
	struct eg_config *c = ld->cfg;
	struct eg_user u;
	size_t i;
	int r;

	memset(&u, 0, sizeof(u));
	if (!valid_username(v)) {
		snprintf(err, EG_ERR_MAX, "not a valid user name");
		return false;
	}
	for (i = 0; i < c->jail.nusers; i++) {
		if (strcmp(c->jail.users[i].name, v) == 0) {
			snprintf(err, EG_ERR_MAX, "user listed twice (first "
			    "at line %d)", c->jail.users[i].at.line);
			return false;
		}
	}
	if (!(ld->flags & EG_CONFIG_NO_USERS)) {
		if ((r = lookup_user(v, &u.uid, &u.gid)) != 0) {
			lookup_reason(r, err, EG_ERR_MAX, "user");
			return false;
		}
		if (u.uid == 0) {
			snprintf(err, EG_ERR_MAX, "refusing to jail root");
			return false;
		}
	}
	if (!grow(ld, &c->jail.users, c->jail.nusers, sizeof(u)))
		return false;
	if ((u.name = xstrdup(ld, v)) == NULL)
		return false;
	u.at = at;
	c->jail.users[c->jail.nusers++] = u;
	return true;
}

bool
eg_ifname_is_pattern(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && s[n - 1] == '*';
}

bool
eg_ifname_match(const char *pat, const char *name)
{
	size_t n = strlen(pat);

	if (eg_ifname_is_pattern(pat))
		return strncmp(pat, name, n - 1) == 0;
	return strcmp(pat, name) == 0;
}

/* Do a and b (names or patterns) match some name in common? */
static bool
ifname_overlap(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);

	if (eg_ifname_is_pattern(a) && eg_ifname_is_pattern(b))
		return strncmp(a, b, (na < nb ? na : nb) - 1) == 0;
	if (eg_ifname_is_pattern(a))
		return eg_ifname_match(a, b);
	if (eg_ifname_is_pattern(b))
		return eg_ifname_match(b, a);
	return strcmp(a, b) == 0;
}

/*
 * Interface names as the kernel takes them, or nft-style patterns: a
 * prefix of at least one character and a final '*' ("br-*", "veth*"), no
 * '*' anywhere else.  A bare "*" and anything matching "lo" are refused:
 * jailing every link or the loopback (which carries the local users'
 * TPROXY detour) cuts the host off.  Entries may not overlap: in the
 * interval set netjaild builds, two ranges over the same name are an
 * error for the kernel, and a repeated name is a typo.
 */
static bool
add_interface(struct loader *ld, const struct keydef *k, const char *v,
    struct eg_origin at, char *err)
{
	struct eg_config *c = ld->cfg;
	size_t i, n = strlen(v);
	char *s;

	if (n == 0 || n > IFNAME_MAX || strcmp(v, ".") == 0 ||
	    strcmp(v, "..") == 0) {
		snprintf(err, EG_ERR_MAX, "interface names are 1-%d bytes",
		    IFNAME_MAX);
		return false;
	}
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)v[i];

		if (ch == '*' && i == n - 1)
			continue;
		if (ch == '*') {
			snprintf(err, EG_ERR_MAX, "a pattern has its '*' at "
			    "the end only (\"br-*\")");
			return false;
		}
		if (!isalnum(ch) && ch != '-' && ch != '_' && ch != '.' &&
		    ch != '@') {
			snprintf(err, EG_ERR_MAX, "invalid character in "
			    "interface name");
			return false;
		}
	}
	if (strcmp(v, "*") == 0 || eg_ifname_match(v, "lo")) {
		snprintf(err, EG_ERR_MAX, "would jail %s; name the bridges "
		    "(\"docker0\", \"br-*\")", strcmp(v, "*") == 0 ?
		    "every interface" : "the loopback");
		return false;
	}
	for (i = 0; i < c->jail.ninterfaces; i++) {
		if (strcmp(c->jail.interfaces[i], v) == 0) {
			snprintf(err, EG_ERR_MAX, "interface listed twice");
			return false;
		}
		if (ifname_overlap(c->jail.interfaces[i], v)) {
			snprintf(err, EG_ERR_MAX, "overlaps \"%s\": list each "
			    "interface once", c->jail.interfaces[i]);
			return false;
		}
	}
	if (!grow(ld, &c->jail.interfaces, c->jail.ninterfaces, sizeof(s)))
		return false;
	if ((s = xstrdup(ld, v)) == NULL)
		return false;
	c->jail.interfaces[c->jail.ninterfaces++] = s;
	return true;
}

static bool
add_direct(struct loader *ld, const struct keydef *k, const char *v,
    struct eg_origin at, char *err)
{
	struct eg_config *c = ld->cfg;
	struct eg_direct d;

	/* duplicates are found once all are read: see check_direct_dups */
	memset(&d, 0, sizeof(d));
	if (!eg_endpoint_parse(v, &d.ep, err))
		return false;
	if (!grow(ld, &c->jail.direct, c->jail.ndirect, sizeof(d)))
		return false;
	d.at = at;
	c->jail.direct[c->jail.ndirect++] = d;
	return true;
}

static bool
set_canary(struct loader *ld, const struct keydef *k, const char *v,
    struct eg_origin at, char *err)
{
	struct eg_endpoint ep;

	if (!eg_endpoint_parse(v, &ep, err))
		return false;
	if (ep.is_cidr) {
		snprintf(err, EG_ERR_MAX, "the canary is a host, not a CIDR");
		return false;
	}
	ld->cfg->chain.canary = ep;
	ld->cfg->chain.has_canary = true;
	return true;
}

static bool
listen_check(const char *v, char *err)
{
	struct sockaddr_storage ss;
	socklen_t len;

	return eg_sockaddr_parse(v, &ss, &len, err);
}

static bool
set_listen1(struct loader *ld, const struct keydef *k, const char *v,
    struct eg_origin at, char *err)
{
	char **p = member(ld, k), *s;

	if (!listen_check(v, err))
		return false;
	if ((s = xstrdup(ld, v)) == NULL)
		return false;
	free(*p);
	*p = s;
	return true;
}

/* A list of strings with a count right after it in the struct. */
struct strlist {
	char **v;
	size_t n;
};

static bool
strlist_add(struct loader *ld, char ***arr, size_t *n, const char *v,
    char *err)
{
	size_t i;
	char *s;

	for (i = 0; i < *n; i++) {
		if (strcmp((*arr)[i], v) == 0) {
			snprintf(err, EG_ERR_MAX, "listed twice");
			return false;
		}
	}
	if (!grow(ld, arr, *n, sizeof(char *)))
		return false;
	if ((s = xstrdup(ld, v)) == NULL)
		return false;
	(*arr)[(*n)++] = s;
	return true;
}

static bool
add_listen(struct loader *ld, const struct keydef *k, const char *v,
    struct eg_origin at, char *err)
{
	struct eg_config *c = ld->cfg;

	if (!listen_check(v, err))
		return false;
	if (k->sect == S_CONNECTD)
		return strlist_add(ld, &c->connectd.proxy_listen,
		    &c->connectd.nproxy_listen, v, err);
	return strlist_add(ld, &c->dohd.listen, &c->dohd.nlisten, v, err);
}

static bool
add_search(struct loader *ld, const struct keydef *k, const char *v,
    struct eg_origin at, char *err)
{
	char name[EG_NAME_MAX + 1];
	struct eg_config *c = ld->cfg;

	if (!eg_name_normalise(v, name, err))
		return false;
	if (eg_is_ip_literal(name)) {
		snprintf(err, EG_ERR_MAX, "a search domain is a name, not an "
		    "address");
		return false;
	}
	return strlist_add(ld, &c->dohd.search, &c->dohd.nsearch, name, err);
}

static bool
set_spki(struct loader *ld, const struct keydef *k, const char *v,
    struct eg_origin at, char *err)
{
	size_t i;
	char *s;

	/* base64 of a SHA-256 digest: 43 characters and one '=' */
	for (i = 0; i < 43; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c == '\0' || (!isalnum(c) && c != '+' && c != '/'))
			break;
	}
	if (i != 43 || strcmp(v + 43, "=") != 0) {
		snprintf(err, EG_ERR_MAX, "expected the base64 SHA-256 of a "
		    "public key (44 characters ending in '=')");
		return false;
	}
	if ((s = xstrdup(ld, v)) == NULL)
		return false;
	free(ld->cfg->dohd.spki_pin);
	ld->cfg->dohd.spki_pin = s;
	return true;
}

static bool
add_permit(struct loader *ld, const struct keydef *k, const char *v,
    struct eg_origin at, char *err)
{
	struct eg_config *c = ld->cfg;
	struct eg_cidr cidr;

	if (!eg_cidr_parse(v, &cidr, err))
		return false;
	if (!grow(ld, &c->policy.permit, c->policy.npermit, sizeof(cidr)) ||
	    !grow(ld, &c->policy.permit_at, c->policy.npermit,
	    sizeof(at)))
		return false;
	c->policy.permit[c->policy.npermit] = cidr;
	c->policy.permit_at[c->policy.npermit] = at;
	c->policy.npermit++;
	return true;
}

static bool
rule_add(struct loader *ld, const char *v, struct eg_origin at, char *err)
{
	struct eg_config *c = ld->cfg;
	struct eg_rule r;
	struct eg_rule_src src;

	if (c->policy.nrules >= MAX_RULES) {
		snprintf(err, EG_ERR_MAX, "more than %d allow rules",
		    MAX_RULES);
		return false;
	}
	if (!eg_rule_parse(v, &r, err))
		return false;
	eg_rule_clear(&r);
	if (!grow(ld, &c->policy.rules, c->policy.nrules, sizeof(src)))
		return false;
	if ((src.text = xstrdup(ld, v)) == NULL)
		return false;
	src.at = at;
	c->policy.rules[c->policy.nrules++] = src;
	return true;
}

static bool
add_allow(struct loader *ld, const struct keydef *k, const char *v,
    struct eg_origin at, char *err)
{
	return rule_add(ld, v, at, err);
}

/* -- URLs ----------------------------------------------------------------- */

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-decode n bytes of userinfo.  Control bytes (and so NUL) are
 * refused even when encoded: they end up in a Proxy-Authorization header.
 */
static char *
pct_decode(const char *s, size_t n, char *err)
{
	char *out, *o;
	size_t i;

	if ((out = malloc(n + 1)) == NULL) {
		snprintf(err, EG_ERR_MAX, "out of memory");
		return NULL;
	}
	for (i = 0, o = out; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= n || (hi = hexval(s[i + 1])) < 0 ||
			    (lo = hexval(s[i + 2])) < 0) {
				snprintf(err, EG_ERR_MAX, "bad percent-encoding "
				    "in user or password");
				goto fail;
			}
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		}
		if (c < 0x20 || c == 0x7f) {
			snprintf(err, EG_ERR_MAX, "control character in user "
			    "or password");
			goto fail;
		}
		*o++ = (char)c;
	}
	*o = '\0';
	return out;
fail:
	free(out);
	return NULL;
}

struct url {
	bool tls;
	const char *auth, *auth_end;	/* userinfo, without '@' */
	const char *hp, *hp_end;	/* host[:port] */
	const char *path;		/* "" or from the first '/' */
	char host[EG_NAME_MAX + 1];
	bool host_is_ip;
	struct eg_ip ip;
	uint16_t port;
};

/* scheme://[userinfo@]host[:port][path], the path left to the caller. */
static bool
url_split(const char *v, struct url *u, char *err)
{
	char hp[EG_NAME_MAX + 16];
	struct eg_endpoint ep;
	const char *p, *at, *c;
	size_t n;

	memset(u, 0, sizeof(*u));
	if (strncasecmp(v, "http://", 7) == 0)
		p = v + 7;
	else if (strncasecmp(v, "https://", 8) == 0) {
		p = v + 8;
		u->tls = true;
	} else {
		snprintf(err, EG_ERR_MAX, "scheme must be http or https");
		return false;
	}
	/*
	 * The userinfo ends at the last '@' of the whole value, wherever it
	 * is: a password with a '/', '?' or '#' in it then stays userinfo,
	 * and the host and path, which error messages quote, never hold a
	 * piece of it.  A DoH path with an '@' must be written %40.
	 */
	at = strrchr(p, '@');
	for (c = at != NULL ? at + 1 : p; *c != '\0' && *c != '/' &&
	    *c != '?' && *c != '#'; c++)
		;
	for (const char *w = p; w < c; w++)
		if (is_ws(*w)) {
			snprintf(err, EG_ERR_MAX, "space in URL");
			return false;
		}
	u->path = c;
	if (at != NULL) {
		if (memchr(p, '@', (size_t)(at - p)) != NULL) {
			snprintf(err, EG_ERR_MAX, "'@' in user or password "
			    "must be written %%40");
			return false;
		}
		if (strcspn(p, "/?#") < (size_t)(at - p)) {
			snprintf(err, EG_ERR_MAX, "'/', '?' or '#' in user or "
			    "password must be written %%2F, %%3F or %%23");
			return false;
		}
		u->auth = p;
		u->auth_end = at;
		p = at + 1;
	}
	u->hp = p;
	u->hp_end = c;
	n = (size_t)(c - p);
	if (n == 0) {
		snprintf(err, EG_ERR_MAX, "missing host");
		return false;
	}
	if (n + 8 > sizeof(hp)) {
		snprintf(err, EG_ERR_MAX, "host too long");
		return false;
	}
	memcpy(hp, p, n);
	hp[n] = '\0';
	u->port = u->tls ? 443 : 3128;
	/* no port: borrow the default so one parser checks the host */
	if (hp[0] == '[' ? strstr(hp, "]:") == NULL : strchr(hp, ':') == NULL)
		snprintf(hp + n, sizeof(hp) - n, ":%u", u->port);
	if (!eg_endpoint_parse(hp, &ep, err))
		return false;
	if (ep.is_cidr) {
		snprintf(err, EG_ERR_MAX, "host must be a name or an address");
		return false;
	}
	u->port = ep.port;
	u->host_is_ip = !ep.is_name;
	if (ep.is_name)
		snprintf(u->host, sizeof(u->host), "%s", ep.name);
	else {
		u->ip = ep.cidr.ip;
		eg_ip_str(&u->ip, u->host, sizeof(u->host));
	}
	return true;
}

static void
hop_clear(struct eg_hop *h)
{
	free(h->user);
	if (h->password != NULL)
		explicit_bzero(h->password, strlen(h->password));
	free(h->password);
	free(h->url_redacted);
	memset(h, 0, sizeof(*h));
}

static bool
hop_auth(struct eg_hop *h, const struct url *u, char *err)
{
	const char *colon;
	size_t n;

	if (u->auth == NULL)
		return true;
	n = (size_t)(u->auth_end - u->auth);
	colon = memchr(u->auth, ':', n);
	if (colon == u->auth || n == 0) {
		snprintf(err, EG_ERR_MAX, "empty user name");
		return false;
	}
	if (colon == NULL)
		colon = u->auth_end;
	if ((h->user = pct_decode(u->auth, (size_t)(colon - u->auth),
	    err)) == NULL)
		return false;
	if (colon < u->auth_end && (h->password = pct_decode(colon + 1,
	    (size_t)(u->auth_end - colon - 1), err)) == NULL)
		return false;
	return true;
}

/* "scheme://user:***@host:port", so logs never carry the secret. */
static bool
hop_redact(struct eg_hop *h, const struct url *u)
{
	const char *colon = NULL;
	int ulen = 0, r;

	if (u->auth != NULL) {
		colon = memchr(u->auth, ':', (size_t)(u->auth_end - u->auth));
		ulen = (int)((colon ? colon : u->auth_end) - u->auth);
	}
	if (h->host_is_ip && h->ip.family == AF_INET6)
		r = asprintf(&h->url_redacted, "%s://%.*s%s%s[%s]:%u",
		    h->tls ? "https" : "http", ulen, u->auth ? u->auth : "",
		    colon ? ":***" : "", u->auth ? "@" : "", h->host, h->port);
	else
		r = asprintf(&h->url_redacted, "%s://%.*s%s%s%s:%u",
		    h->tls ? "https" : "http", ulen, u->auth ? u->auth : "",
		    colon ? ":***" : "", u->auth ? "@" : "", h->host, h->port);
	if (r < 0) {
		h->url_redacted = NULL;
		return false;
	}
	return true;
}

static bool
add_hop(struct loader *ld, const struct keydef *k, const char *v,
    struct eg_origin at, char *err)
{
	struct eg_config *c = ld->cfg;
	struct eg_hop h;
	struct url u;
	size_t i;

	memset(&h, 0, sizeof(h));
	if (!url_split(v, &u, err))
		return false;
	if (strcmp(u.path, "") != 0 && strcmp(u.path, "/") != 0) {
		snprintf(err, EG_ERR_MAX, "a proxy URL takes no path, query "
		    "or fragment");
		return false;
	}
	h.tls = u.tls;
	h.port = u.port;
	h.host_is_ip = u.host_is_ip;
	h.ip = u.ip;
	memcpy(h.host, u.host, sizeof(h.host));
	h.at = at;
	if (!hop_auth(&h, &u, err))
		goto fail;
	for (i = 0; i < c->chain.nhops; i++) {
		if (c->chain.hops[i].port == h.port &&
		    strcmp(c->chain.hops[i].host, h.host) == 0) {
			snprintf(err, EG_ERR_MAX, "the same proxy twice in the "
			    "chain (first at line %d)", c->chain.hops[i].at.line);
			goto fail;
		}
	}
	if (!hop_redact(&h, &u) ||
	    !grow(ld, &c->chain.hops, c->chain.nhops, sizeof(h))) {
		ld->oom = true;
		goto fail;
	}
	c->chain.hops[c->chain.nhops++] = h;
	return true;
fail:
	hop_clear(&h);
	return false;
}

static void
upstream_clear(struct eg_upstream *u)
{
	free(u->url);
	free(u->path);
	free(u->bootstrap);
	memset(u, 0, sizeof(*u));
}

static bool
upstream_path(struct eg_upstream *up, const char *path, char *err)
{
	const char *p;

	if (path[0] == '\0' || strcmp(path, "/") == 0)
		path = "/dns-query";
	if (path[0] != '/') {
		snprintf(err, EG_ERR_MAX, "a DoH URL takes a path, not a "
		    "query or fragment");
		return false;
	}
	for (p = path; *p != '\0'; p++) {
		if (*p == '?' || *p == '#') {
			snprintf(err, EG_ERR_MAX, "a DoH URL takes a path, "
			    "not a query or fragment");
			return false;
		}
	}
	if ((up->path = strdup(path)) == NULL) {
		snprintf(err, EG_ERR_MAX, "out of memory");
		return false;
	}
	return true;
}

static bool
upstream_bootstrap(struct eg_upstream *up, const char *a, char *err)
{
	struct eg_cidr c;
	struct eg_ip *n;

	if (strchr(a, '/') != NULL || !eg_cidr_parse(a, &c, err)) {
		if (strchr(a, '/') != NULL)
			snprintf(err, EG_ERR_MAX, "bootstrap \"%.64s\": an "
			    "address, not a CIDR", a);
		return false;
	}
	if (up->nbootstrap >= MAX_BOOTSTRAP) {
		snprintf(err, EG_ERR_MAX, "more than %d bootstrap addresses",
		    MAX_BOOTSTRAP);
		return false;
	}
	n = reallocarray(up->bootstrap, up->nbootstrap + 1, sizeof(*n));
	if (n == NULL) {
		snprintf(err, EG_ERR_MAX, "out of memory");
		return false;
	}
	up->bootstrap = n;
	up->bootstrap[up->nbootstrap++] = c.ip;
	return true;
}

/* "https://host[:port]/path ADDR [ADDR...]" */
static bool
add_upstream(struct loader *ld, const struct keydef *k, const char *v,
    struct eg_origin at, char *err)
{
	struct eg_config *c = ld->cfg;
	struct eg_upstream up;
	struct url u;
	char *copy = NULL, *tok, *save = NULL;
	bool ok = false;

	memset(&up, 0, sizeof(up));
	if ((copy = xstrdup(ld, v)) == NULL)
		goto out;
	tok = strtok_r(copy, " \t", &save);
	if (tok == NULL || !url_split(tok, &u, err))
		goto out;
	if (!u.tls) {
		snprintf(err, EG_ERR_MAX, "DoH upstreams are https only");
		goto out;
	}
	if (u.auth != NULL) {
		snprintf(err, EG_ERR_MAX, "a DoH URL takes no user or "
		    "password");
		goto out;
	}
	if (!upstream_path(&up, u.path, err))
		goto out;
	memcpy(up.host, u.host, sizeof(up.host));
	up.port = u.port;
	while ((tok = strtok_r(NULL, " \t", &save)) != NULL)
		if (!upstream_bootstrap(&up, tok, err))
			goto out;
	if (up.nbootstrap == 0) {
		snprintf(err, EG_ERR_MAX, "give the URL and at least one "
		    "bootstrap address, so no plaintext DNS is needed");
		goto out;
	}
	if (asprintf(&up.url, "https://%s%s%s:%u%s",
	    u.ip.family == AF_INET6 ? "[" : "", up.host,
	    u.ip.family == AF_INET6 ? "]" : "", up.port, up.path) < 0) {
		up.url = NULL;
		ld->oom = true;
		goto out;
	}
	if (!grow(ld, &c->dohd.upstreams, c->dohd.nupstreams, sizeof(up)))
		goto out;
	up.at = at;
	c->dohd.upstreams[c->dohd.nupstreams++] = up;
	ok = true;
out:
	if (!ok)
		upstream_clear(&up);
	free(copy);
	return ok;
}

/* -- allow files ---------------------------------------------------------- */

static bool read_file(struct loader *, const char *, char **, size_t *);
static void scan_lines(struct loader *, const char *, size_t,
    void (*)(struct loader *, int, char *));
static char *keep_name(struct loader *, const char *);

static void
strip_comment(char *s)
{
	char *p;

	for (p = s; *p != '\0'; p++) {
		if ((*p == ';' || *p == '#') && (p == s || is_ws(p[-1]))) {
			*p = '\0';
			return;
		}
	}
}

static char *
trim(char *s)
{
	char *e;

	while (is_ws(*s))
		s++;
	e = s + strlen(s);
	while (e > s && is_ws(e[-1]))
		*--e = '\0';
	return s;
}

static void
allow_line(struct loader *ld, int line, char *s)
{
	struct eg_origin at = { ld->file, line };
	char err[EG_ERR_MAX];

	strip_comment(s);
	s = trim(s);
	if (*s == '\0')
		return;
	err[0] = '\0';
	if (ld->cfg->policy.nrules >= MAX_RULES) {
		if (!ld->cap_hit[0])
			key_error(ld, at, "policy", "allow", s, "more than "
			    "100000 allow rules");
		ld->cap_hit[0] = true;
		return;
	}
	if (!rule_add(ld, s, at, err))
		key_error(ld, at, "policy", "allow", s, err[0] ? err :
		    "out of memory");
}

static void
allow_file_read(struct loader *ld, const char *path, struct eg_origin from)
{
	const char *saved = ld->file;
	char *buf = NULL;
	size_t len;

	if ((ld->file = keep_name(ld, path)) == NULL)
		goto out;
	if (read_file(ld, path, &buf, &len))
		scan_lines(ld, buf, len, allow_line);
out:
	ld->file = saved;
	free(buf);
}

static bool
add_allow_file(struct loader *ld, const struct keydef *k, const char *v,
    struct eg_origin at, char *err)
{
	glob_t g;
	char *pat = NULL;
	size_t i;
	int r;
	bool ok = false;

	memset(&g, 0, sizeof(g));
	if (v[0] == '/' || ld->dir == NULL)
		pat = xstrdup(ld, v);
	else if (asprintf(&pat, "%s/%s", ld->dir, v) < 0)
		pat = NULL;
	if (pat == NULL) {
		snprintf(err, EG_ERR_MAX, "out of memory");
		return false;
	}
	/* an unreadable directory matches nothing, which is an error too */
	r = glob(pat, 0, NULL, &g);
	if (r == GLOB_NOMATCH) {
		snprintf(err, EG_ERR_MAX, "matches no file");
		goto out;
	}
	if (r != 0) {
		snprintf(err, EG_ERR_MAX, "cannot expand: %s",
		    r == GLOB_NOSPACE ? "out of memory" : "read error");
		goto out;
	}
	if (g.gl_pathc > MAX_ALLOW_FILES) {
		snprintf(err, EG_ERR_MAX, "matches more than %d files",
		    MAX_ALLOW_FILES);
		goto out;
	}
	for (i = 0; i < g.gl_pathc; i++)
		allow_file_read(ld, g.gl_pathv[i], at);
	ok = true;
out:
	globfree(&g);
	free(pat);
	return ok;
}

/* -- the key table --------------------------------------------------------- */

#define OFF(f) offsetof(struct eg_config, f)
#define MS(x) ((uint64_t)(x))
#define SEC(x) ((uint64_t)(x) * 1000)
#define HOURS(x) ((uint64_t)(x) * 3600 * 1000)

static const struct keydef keys[] = {
	{ S_JAIL, "interface", add_interface, 0, true, 0, 0, MAX_IFACES },
	{ S_JAIL, "user", add_jailed_user, 0, true, 0, 0, MAX_USERS },
	{ S_JAIL, "direct", add_direct, 0, true, 0, 0, MAX_DIRECT },
	{ S_JAIL, "ipv6", set_ipv6, 0, false, 0, 0, 0 },
	{ S_JAIL, "inbound", set_inbound, 0, false, 0, 0, 0 },
	{ S_JAIL, "runtime_dir", set_abspath, OFF(jail.runtime_dir), false,
	    0, 0, 0 },
	{ S_JAIL, "group", set_group, 0, false, 0, 0, 0 },
	{ S_JAIL, "fwmark", set_u32, OFF(jail.fwmark), false, 1, UINT32_MAX,
	    0 },
	{ S_JAIL, "listener_mark", set_u32, OFF(jail.listener_mark), false, 1,
	    UINT32_MAX, 0 },
	{ S_JAIL, "route_table", set_route_table, OFF(jail.route_table),
	    false, 1, UINT32_MAX - 1, 0 },
	{ S_JAIL, "log_level", set_loglevel, 0, false, 0, 0, 0 },

	{ S_CHAIN, "hop", add_hop, 0, true, 0, 0, MAX_HOPS },
	{ S_CHAIN, "canary", set_canary, 0, false, 0, 0, 0 },
	{ S_CHAIN, "ca_file", set_abspath, OFF(chain.ca_file), false, 0, 0,
	    0 },
	{ S_CHAIN, "probe_interval", set_duration, OFF(chain.probe_interval_ms),
	    false, MS(100), HOURS(24), 0 },
	{ S_CHAIN, "probe_timeout", set_duration, OFF(chain.probe_timeout_ms),
	    false, MS(10), HOURS(1), 0 },
	{ S_CHAIN, "connect_timeout", set_duration,
	    OFF(chain.connect_timeout_ms), false, MS(10), HOURS(1), 0 },
	{ S_CHAIN, "require_all_hops_healthy", set_bool,
	    OFF(chain.require_all_hops_healthy), false, 0, 0, 0 },
	{ S_CHAIN, "max_hop_status_age", set_duration,
	    OFF(chain.max_hop_status_age_ms), false, MS(100), HOURS(24), 0 },
	{ S_CHAIN, "block_start_until_hops_healthy", set_bool,
	    OFF(chain.block_start_until_hops_healthy), false, 0, 0, 0 },
	{ S_CHAIN, "exit", set_exit, 0, false, 0, 0, 0 },
	{ S_CHAIN, "half_close_delay", set_duration,
	    OFF(chain.half_close_delay_ms), false, 0, HOURS(1), 0 },
	{ S_CHAIN, "resolve_check", set_bool, OFF(chain.resolve_check), false,
	    0, 0, 0 },

	{ S_CONNECTD, "user", set_daemon_user, OFF(connectd.user), false, 0,
	    0, 0 },
	{ S_CONNECTD, "proxy_listen", add_listen, OFF(connectd.proxy_listen),
	    true, 0, 0, MAX_LISTEN },
	{ S_CONNECTD, "transparent_listen", set_listen1,
	    OFF(connectd.transparent_listen), false, 0, 0, 0 },
	{ S_CONNECTD, "health_listen", set_listen1,
	    OFF(connectd.health_listen), false, 0, 0, 0 },
	{ S_CONNECTD, "max_connections", set_u32,
	    OFF(connectd.max_connections), false, 1, 1000000, 0 },
	{ S_CONNECTD, "idle_timeout", set_duration,
	    OFF(connectd.idle_timeout_ms), false, SEC(1), HOURS(24), 0 },
	{ S_CONNECTD, "head_timeout", set_duration,
	    OFF(connectd.head_timeout_ms), false, MS(100), SEC(600), 0 },
	{ S_CONNECTD, "tunnel_check", set_bool, OFF(connectd.tunnel_check),
	    false, 0, 0, 0 },
	{ S_CONNECTD, "max_head_bytes", set_size,
	    OFF(connectd.max_head_bytes), false, 1024, 1024 * 1024, 0 },
	{ S_CONNECTD, "drain_timeout", set_duration,
	    OFF(connectd.drain_timeout_ms), false, 0, HOURS(1), 0 },
	{ S_CONNECTD, "access_log", set_bool, OFF(connectd.access_log), false,
	    0, 0, 0 },

	{ S_DOHD, "user", set_daemon_user, OFF(dohd.user), false, 0, 0, 0 },
	{ S_DOHD, "listen", add_listen, OFF(dohd.listen), true, 0, 0,
	    MAX_LISTEN },
	{ S_DOHD, "upstream", add_upstream, 0, true, 0, 0, MAX_UPSTREAMS },
	{ S_DOHD, "ca_file", set_abspath, OFF(dohd.ca_file), false, 0, 0, 0 },
	{ S_DOHD, "spki_pin", set_spki, 0, false, 0, 0, 0 },
	{ S_DOHD, "hosts_file", set_abspath, OFF(dohd.hosts_file), false, 0,
	    0, 0 },
	{ S_DOHD, "zone_file", set_abspath, OFF(dohd.zone_file), false, 0, 0,
	    0 },
	{ S_DOHD, "search", add_search, 0, true, 0, 0, MAX_SEARCH },
	{ S_DOHD, "deny_rcode", set_rcode, 0, false, 0, 0, 0 },
	{ S_DOHD, "max_name_length", set_u32, OFF(dohd.max_name_length), false,
	    1, EG_NAME_MAX, 0 },
	{ S_DOHD, "max_labels", set_u32, OFF(dohd.max_labels), false, 1, 127,
	    0 },
	{ S_DOHD, "cache_size", set_u32, OFF(dohd.cache_size), false, 0,
	    10000000, 0 },
	{ S_DOHD, "max_ttl", set_u32, OFF(dohd.max_ttl), false, 0, 604800, 0 },
	{ S_DOHD, "negative_ttl", set_u32, OFF(dohd.negative_ttl), false, 0,
	    86400, 0 },
	{ S_DOHD, "stale_ttl", set_u32, OFF(dohd.stale_ttl), false, 0, 86400,
	    0 },
	{ S_DOHD, "rate_limit", set_u32, OFF(dohd.rate_limit), false, 0,
	    1000000, 0 },
	{ S_DOHD, "query_timeout", set_duration, OFF(dohd.query_timeout_ms),
	    false, MS(10), SEC(60), 0 },
	{ S_DOHD, "ping_interval", set_duration, OFF(dohd.ping_interval_ms),
	    false, MS(100), HOURS(1), 0 },
	{ S_DOHD, "max_connection_age", set_duration,
	    OFF(dohd.max_connection_age_ms), false, SEC(1), HOURS(24), 0 },
	{ S_DOHD, "feed_timeout", set_duration, OFF(dohd.feed_timeout_ms),
	    false, MS(1), SEC(10), 0 },

	{ S_NETJAILD, "user", set_daemon_user, OFF(netjaild.user), false, 0,
	    0, 0 },

	{ S_POLICY, "mode", set_mode, 0, false, 0, 0, 0 },
	{ S_POLICY, "allow", add_allow, 0, true, 0, 0, MAX_RULES },
	{ S_POLICY, "allow_file", add_allow_file, 0, true, 0, 0,
	    MAX_ALLOW_FILES },
	{ S_POLICY, "permit_cidr", add_permit, 0, true, 0, 0, MAX_PERMIT },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* Entries a list key holds now, for its cap. */
static size_t
list_count(const struct eg_config *c, const struct keydef *k)
{
	if (k->fn == add_interface)
		return c->jail.ninterfaces;
	if (k->fn == add_jailed_user)
		return c->jail.nusers;
	if (k->fn == add_direct)
		return c->jail.ndirect;
	if (k->fn == add_hop)
		return c->chain.nhops;
	if (k->fn == add_upstream)
		return c->dohd.nupstreams;
	if (k->fn == add_search)
		return c->dohd.nsearch;
	if (k->fn == add_permit)
		return c->policy.npermit;
	if (k->fn == add_allow)
		return c->policy.nrules;
	if (k->fn == add_listen)
		return k->sect == S_CONNECTD ? c->connectd.nproxy_listen :
		    c->dohd.nlisten;
	return 0;
}

static const struct keydef *
find_key(enum sect s, const char *name, size_t *idx)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		if (keys[i].sect == s && strcmp(keys[i].name, name) == 0) {
			*idx = i;
			return &keys[i];
		}
	}
	return NULL;
}

/* The first line a key was given on, 0 when it was not. */
static int
key_seen(const struct loader *ld, enum sect s, const char *name)
{
	size_t idx;

	return find_key(s, name, &idx) != NULL ? ld->key_line[idx] : 0;
}

/* -- lines --------------------------------------------------------------- */

static void
section_line(struct loader *ld, int line, char *s)
{
	char *end = strchr(s, ']'), *name, *rest;
	int i;

	ld->sect = S_BAD;
	if (end == NULL) {
		line_error(ld, line, s, "missing ']'");
		return;
	}
	*end = '\0';
	rest = trim(end + 1);
	name = trim(s + 1);
	if (*rest != '\0') {
		line_error(ld, line, rest, "text after the section header");
		return;
	}
	for (i = 0; i < S_COUNT; i++)
		if (strcmp(name, sect_names[i]) == 0)
			break;
	if (i == S_COUNT) {
		char q[QUOTE_BUF];

		errorf(ld, "%s:%d: \"[%s]\": unknown section (jail, chain, "
		    "connectd, dohd, netjaild, policy)", ld->file, line,
		    eg_err_quote(name, q, sizeof(q)));
		return;
	}
	if (ld->sect_line[i] != 0) {
		errorf(ld, "%s:%d: \"[%s]\": section repeated (first at line "
		    "%d)", ld->file, line, name, ld->sect_line[i]);
		return;
	}
	ld->sect_line[i] = line;
	ld->sect = (enum sect)i;
}

static void
key_line(struct loader *ld, int line, char *s)
{
	struct eg_origin at = { ld->file, line };
	const struct keydef *k;
	const char *sn;
	char *eq = strchr(s, '='), *key, *val, err[EG_ERR_MAX];
	size_t idx, n;

	if (eq == NULL) {
		line_error(ld, line, s, "expected \"key = value\" or "
		    "\"[section]\"");
		return;
	}
	*eq = '\0';
	key = trim(s);
	val = trim(eq + 1);
	if (ld->sect == S_BAD)
		return;		/* the section header was already reported */
	if (ld->sect == S_NONE) {
		line_error(ld, line, key, "key before any [section]");
		return;
	}
	sn = sect_names[ld->sect];
	if (*key == '\0') {
		key_error(ld, at, sn, "(no key)", val, "missing key name");
		return;
	}
	if ((k = find_key(ld->sect, key, &idx)) == NULL) {
		char q[QUOTE_BUF];

		eg_err_quote(key, q, sizeof(q));
		key_error(ld, at, sn, q, val, "unknown key");
		return;
	}
	if (*val == '\0') {
		key_error(ld, at, sn, key, val, "missing value");
		return;
	}
	if (!k->list && ld->key_line[idx] != 0) {
		snprintf(err, sizeof(err), "repeated key (first at line %d); "
		    "only list keys may repeat", ld->key_line[idx]);
		key_error(ld, at, sn, key, val, err);
		return;
	}
	if (ld->key_line[idx] == 0)
		ld->key_line[idx] = line;
	if (k->list && (n = list_count(ld->cfg, k)) >= k->cap) {
		if (!ld->cap_hit[idx + 1]) {
			snprintf(err, sizeof(err), "more than %zu %s entries",
			    k->cap, key);
			key_error(ld, at, sn, key, val, err);
		}
		ld->cap_hit[idx + 1] = true;
		return;
	}
	err[0] = '\0';
	if (!k->fn(ld, k, val, at, err))
		key_error(ld, at, sn, key, val, err[0] ? err :
		    "out of memory");
}

static void
config_line(struct loader *ld, int line, char *s)
{
	s = trim(s);
	if (*s == ';' || *s == '#' || *s == '\0')
		return;
	strip_comment(s);
	s = trim(s);
	if (*s == '[')
		section_line(ld, line, s);
	else
		key_line(ld, line, s);
}

/*
 * Split buf into lines, refusing what no config line may hold before any
 * parser sees it: overlong lines, NUL, non-ASCII and control bytes.
 */
static void
scan_lines(struct loader *ld, const char *buf, size_t len,
    void (*fn)(struct loader *, int, char *))
{
	char line[LINE_MAX_LEN + 1], what[96];
	const char *p = buf, *end = buf + len, *nl;
	size_t n, i;
	int lineno = 0;

	while (p < end && !ld->oom) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl != NULL ? nl : end) - p);
		lineno++;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > LINE_MAX_LEN) {
			errorf(ld, "%s:%d: line longer than %d bytes",
			    ld->file, lineno, LINE_MAX_LEN);
			goto next;
		}
		for (i = 0; i < n; i++) {
			unsigned char c = (unsigned char)p[i];

			if (c == '\0')
				snprintf(what, sizeof(what), "embedded NUL "
				    "byte at column %zu", i + 1);
			else if (c >= 0x80)
				snprintf(what, sizeof(what), "non-ASCII byte "
				    "0x%02x at column %zu", c, i + 1);
			else if (c < 0x20 && c != '\t')
				snprintf(what, sizeof(what), "control byte "
				    "0x%02x at column %zu", c, i + 1);
			else
				continue;
			memcpy(line, p, n);
			line[n] = '\0';
			line_error(ld, lineno, line, what);
			goto next;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		fn(ld, lineno, line);
next:
		if (nl == NULL)
			break;
		p = nl + 1;
	}
}

/* Keep a file name for as long as the config lives; origins point here. */
static char *
keep_name(struct loader *ld, const char *name)
{
	struct config_priv *pv = ld->priv;
	char *s;

	if (!grow(ld, &pv->files, pv->nfiles, sizeof(char *)))
		return NULL;
	if ((s = xstrdup(ld, name)) == NULL)
		return NULL;
	pv->files[pv->nfiles++] = s;
	return s;
}

/*
 * Read a whole regular file of at most FILE_MAX bytes.  Errors name
 * ld->file, which the caller has set to path.
 */
static bool
read_file(struct loader *ld, const char *path, char **bufp, size_t *lenp)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	ssize_t r;
	int fd;
	bool ok = false;

	/* never open a device or FIFO named by a glob: opening can act */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		errorf(ld, "%s: not a regular file", ld->file);
		return false;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		errorf(ld, "%s: cannot open: %s", ld->file, strerror(errno));
		return false;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		errorf(ld, "%s: not a regular file", ld->file);
		goto out;
	}
	if ((buf = malloc(FILE_MAX + 1)) == NULL) {
		ld->oom = true;
		goto out;
	}
	while (len <= FILE_MAX) {
		r = read(fd, buf + len, FILE_MAX + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			errorf(ld, "%s: read: %s", ld->file, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > FILE_MAX) {
		errorf(ld, "%s: larger than %d bytes", ld->file, FILE_MAX);
		goto out;
	}
	*bufp = buf;
	*lenp = len;
	buf = NULL;
	ok = true;
out:
	free(buf);
	close(fd);
	return ok;
}

/* -- defaults and checks across keys -------------------------------------- */

static bool
set_defaults(struct loader *ld)
{
	struct eg_config *c = ld->cfg;
	struct eg_origin none = { c->path, 0 };

	c->jail.ipv6 = EG_IPV6_JAIL;
	c->jail.inbound = EG_INBOUND_PUBLISHED;
	c->jail.fwmark = 0x1;
	c->jail.listener_mark = EG_LISTENER_MARK;
	c->jail.route_table = 100;
	c->chain.probe_interval_ms = 10000;
	c->chain.probe_timeout_ms = 5000;
	c->chain.connect_timeout_ms = 5000;
	c->chain.require_all_hops_healthy = true;
	c->chain.max_hop_status_age_ms = 30000;
	c->chain.block_start_until_hops_healthy = false;
	c->chain.exit = EG_EXIT_HOP;
	c->chain.half_close_delay_ms = 5000;
	c->chain.resolve_check = true;
	c->connectd.tunnel_check = true;
	c->connectd.max_connections = 4096;
	c->connectd.idle_timeout_ms = 5 * 60 * 1000;
	c->connectd.head_timeout_ms = 5000;
	c->connectd.max_head_bytes = 16 * 1024;
	c->connectd.drain_timeout_ms = 10000;
	c->connectd.access_log = true;
	c->dohd.deny_rcode = EG_DENY_NXDOMAIN;
	c->dohd.max_name_length = EG_NAME_MAX;
	c->dohd.max_labels = 10;
	c->dohd.cache_size = 10000;
	c->dohd.max_ttl = 3600;
	c->dohd.negative_ttl = 60;
	c->dohd.stale_ttl = 300;
	c->dohd.rate_limit = 200;
	c->dohd.query_timeout_ms = 3000;
	c->dohd.ping_interval_ms = 10000;
	c->dohd.max_connection_age_ms = 5 * 60 * 1000;
	c->dohd.feed_timeout_ms = 100;
	c->policy.mode = EG_MODE_ENFORCE;
	c->connectd.user.at = none;
	c->dohd.user.at = none;
	c->netjaild.user.at = none;
	return (c->jail.runtime_dir = xstrdup(ld, EG_DEFAULT_RUNDIR)) &&
	    (c->jail.group = xstrdup(ld, DEF_GROUP)) &&
	    (c->jail.log_level = xstrdup(ld, "info")) &&
	    (c->chain.ca_file = xstrdup(ld, EG_DEFAULT_CA_FILE)) &&
	    (c->dohd.ca_file = xstrdup(ld, EG_DEFAULT_CA_FILE));
}

/* Defaults for what was not given; list defaults only when empty. */
static void
fill_unset(struct loader *ld)
{
	struct eg_config *c = ld->cfg;
	char err[EG_ERR_MAX];

	if (c->connectd.user.name == NULL)
		c->connectd.user.name = xstrdup(ld, DEF_CONNECT_USER);
	if (c->dohd.user.name == NULL)
		c->dohd.user.name = xstrdup(ld, DEF_DNS_USER);
	if (c->netjaild.user.name == NULL)
		c->netjaild.user.name = xstrdup(ld, DEF_NETJAIL_USER);
	if (c->connectd.nproxy_listen == 0)
		(void)strlist_add(ld, &c->connectd.proxy_listen,
		    &c->connectd.nproxy_listen, DEF_PROXY_LISTEN, err);
	if (c->dohd.nlisten == 0)
		(void)strlist_add(ld, &c->dohd.listen, &c->dohd.nlisten,
		    DEF_DOHD_LISTEN, err);
}

/* FILE: [SECTION] KEY: REASON, with the section's line when it exists. */
static void
missing_error(struct loader *ld, enum sect s, const char *key,
    const char *reason)
{
	if (ld->sect_line[s] != 0)
		errorf(ld, "%s:%d: [%s] %s: %s", ld->cfg->path,
		    ld->sect_line[s], sect_names[s], key, reason);
	else
		errorf(ld, "%s: [%s] %s: %s", ld->cfg->path, sect_names[s],
		    key, reason);
}

static void
check_daemon_user(struct loader *ld, struct eg_user *u, const char *sect)
{
	char q[QUOTE_BUF], why[EG_ERR_MAX];
	int r;

	if (ld->flags & EG_CONFIG_NO_USERS)
		return;
	if ((r = lookup_user(u->name, &u->uid, &u->gid)) == 0)
		return;
	lookup_reason(r, why, sizeof(why), "user");
	if (u->at.line == 0)
		errorf(ld, "%s: [%s] user: \"%s\" (default): %s",
		    ld->cfg->path, sect, eg_err_quote(u->name, q, sizeof(q)), why);
	else
		key_error(ld, u->at, sect, "user", u->name, why);
}

static bool
alone(const struct loader *ld)
{
	return (ld->flags & (EG_CONFIG_CONNECTD | EG_CONFIG_DOHD)) != 0;
}

/* Does the daemon (or daemons) this load is for use this section? */
static bool
needs(const struct loader *ld, enum sect s)
{
	switch (s) {
	case S_CHAIN:
	case S_CONNECTD:
		return !alone(ld) || (ld->flags & EG_CONFIG_CONNECTD);
	case S_DOHD:
		return !alone(ld) || (ld->flags & EG_CONFIG_DOHD);
	default:
		return !alone(ld);
	}
}

static void
check_users(struct loader *ld)
{
	struct eg_config *c = ld->cfg;
	struct eg_user *d[2] = { &c->connectd.user, &c->dohd.user };
	char q[QUOTE_BUF], why[EG_ERR_MAX];
	size_t i, j;
	int r;

	/* a daemon on its own needs its own user, not the others' */
	if (needs(ld, S_CONNECTD))
		check_daemon_user(ld, &c->connectd.user, "connectd");
	if (needs(ld, S_DOHD))
		check_daemon_user(ld, &c->dohd.user, "dohd");
	if (needs(ld, S_NETJAILD))
		check_daemon_user(ld, &c->netjaild.user, "netjaild");
	/* on its own, a daemon without the group lets only root in */
	if (!(ld->flags & EG_CONFIG_NO_USERS) && (!alone(ld) ||
	    key_seen(ld, S_JAIL, "group")) &&
	    (r = lookup_group(c->jail.group)) != 0) {
		lookup_reason(r, why, sizeof(why), "group");
		if (key_seen(ld, S_JAIL, "group") == 0)
			errorf(ld, "%s: [jail] group: \"%s\" (default): %s",
			    c->path, eg_err_quote(c->jail.group, q, sizeof(q)), why);
		else
			errorf(ld, "%s:%d: [jail] group: \"%s\": %s", c->path,
			    key_seen(ld, S_JAIL, "group"),
			    eg_err_quote(c->jail.group, q, sizeof(q)), why);
	}
	/* jailing a daemon's own user would cut the jail's own traffic */
	for (i = 0; i < c->jail.nusers; i++)
		for (j = 0; j < 2; j++)
			if (strcmp(c->jail.users[i].name, d[j]->name) == 0)
				key_error(ld, c->jail.users[i].at, "jail",
				    "user", c->jail.users[i].name, "this is a "
				    "daemon's own user; jailing it would cut "
				    "the jail off");
}

static int
direct_cmp(const void *a, const void *b)
{
	const struct eg_direct *x = *(const struct eg_direct *const *)a;
	const struct eg_direct *y = *(const struct eg_direct *const *)b;
	int r = memcmp(&x->ep, &y->ep, sizeof(x->ep));

	if (r != 0)
		return r;
	return x->at.line < y->at.line ? -1 : x->at.line > y->at.line;
}

/* Sorted, so ten thousand endpoints cost n log n, not n squared. */
static void
check_direct_dups(struct loader *ld)
{
	struct eg_config *c = ld->cfg;
	const struct eg_direct **v;
	char why[EG_ERR_MAX], text[300];
	size_t i;

	if (c->jail.ndirect < 2)
		return;
	if ((v = calloc(c->jail.ndirect, sizeof(*v))) == NULL) {
		ld->oom = true;
		return;
	}
	for (i = 0; i < c->jail.ndirect; i++)
		v[i] = &c->jail.direct[i];
	qsort(v, c->jail.ndirect, sizeof(*v), direct_cmp);
	for (i = 1; i < c->jail.ndirect; i++) {
		const struct eg_endpoint *ep = &v[i]->ep;
		char ab[80];

		if (memcmp(&v[i - 1]->ep, ep, sizeof(*ep)) != 0)
			continue;
		if (ep->is_name)
			snprintf(text, sizeof(text), "%s:%u", ep->name,
			    ep->port);
		else
			snprintf(text, sizeof(text), "%s:%u",
			    eg_cidr_str(&ep->cidr, ab, sizeof(ab)), ep->port);
		snprintf(why, sizeof(why), "endpoint repeated (also at "
		    "line %d)", v[i - 1]->at.line);
		key_error(ld, v[i]->at, "jail", "direct", text, why);
	}
	free(v);
}

struct listen_ref {
	const char *sect, *key, *text;
	int line;
};

static void
check_listen_clash(struct loader *ld)
{
	struct eg_config *c = ld->cfg;
	struct listen_ref l[2 * MAX_LISTEN + 2];
	struct sockaddr_storage a, b;
	socklen_t al, bl;
	size_t n = 0, i, j;

	for (i = 0; i < c->connectd.nproxy_listen; i++)
		l[n++] = (struct listen_ref){ "connectd", "proxy_listen",
		    c->connectd.proxy_listen[i], 0 };
	if (c->connectd.transparent_listen != NULL)
		l[n++] = (struct listen_ref){ "connectd", "transparent_listen",
		    c->connectd.transparent_listen, 0 };
	if (c->connectd.health_listen != NULL)
		l[n++] = (struct listen_ref){ "connectd", "health_listen",
		    c->connectd.health_listen, 0 };
	for (i = 0; i < c->dohd.nlisten; i++)
		l[n++] = (struct listen_ref){ "dohd", "listen",
		    c->dohd.listen[i], 0 };
	for (i = 0; i < n; i++) {
		if (!eg_sockaddr_parse(l[i].text, &a, &al, NULL))
			continue;
		for (j = i + 1; j < n; j++) {
			if (!eg_sockaddr_parse(l[j].text, &b, &bl, NULL) ||
			    al != bl || memcmp(&a, &b, al) != 0)
				continue;
			errorf(ld, "%s: [%s] %s: \"%s\": same address as "
			    "[%s] %s", c->path, l[j].sect, l[j].key,
			    l[j].text, l[i].sect, l[i].key);
		}
	}
}

static void
check_all(struct loader *ld)
{
	struct eg_config *c = ld->cfg;

	/* a list whose every line was refused was reported line by line */
	c->has_jail = c->jail.ninterfaces > 0 || c->jail.nusers > 0;
	c->has_dohd = c->dohd.nupstreams > 0;
	if (needs(ld, S_CHAIN) && c->chain.nhops == 0 &&
	    c->chain.exit != EG_EXIT_DIRECT && !key_seen(ld, S_CHAIN, "hop"))
		missing_error(ld, S_CHAIN, "hop", "empty chain: give at least "
		    "one hop, or \"exit = direct\"");
	if (needs(ld, S_DOHD) && c->dohd.nupstreams == 0 &&
	    !key_seen(ld, S_DOHD, "upstream"))
		missing_error(ld, S_DOHD, "upstream", "at least one DoH "
		    "upstream is required");
	if (needs(ld, S_JAIL) && c->jail.ninterfaces == 0 &&
	    c->jail.nusers == 0 && !key_seen(ld, S_JAIL, "interface") &&
	    !key_seen(ld, S_JAIL, "user"))
		missing_error(ld, S_JAIL, "interface", "nothing is jailed: "
		    "give at least one interface or user");
	if (c->chain.max_hop_status_age_ms <= c->chain.probe_interval_ms) {
		int line = key_seen(ld, S_CHAIN, "max_hop_status_age");

		if (line == 0)
			line = key_seen(ld, S_CHAIN, "probe_interval");
		errorf(ld, "%s:%d: [chain] max_hop_status_age: must be longer "
		    "than probe_interval, or every hop counts as failed "
		    "between probes", c->path, line);
	}
	if (c->jail.listener_mark == c->jail.fwmark) {
		int line = key_seen(ld, S_JAIL, "listener_mark");

		if (line == 0)
			line = key_seen(ld, S_JAIL, "fwmark");
		errorf(ld, "%s:%d: [jail] listener_mark: must differ from "
		    "fwmark, or the daemons' answers would be routed into "
		    "the TPROXY detour", c->path, line);
	}
	check_direct_dups(ld);
	check_listen_clash(ld);
	check_users(ld);
}

/* -- entry points ---------------------------------------------------------- */

unsigned
eg_config_flags_for(const char *name)
{
	if (strcmp(name, "connectd") == 0)
		return EG_CONFIG_CONNECTD;
	if (strcmp(name, "dohd") == 0)
		return EG_CONFIG_DOHD;
	return 0;
}

static struct eg_config *
load(const char *name, const char *dir, const char *buf, size_t len,
    unsigned flags, struct eg_config_errors *errs)
{
	struct loader ld;
	struct config_priv *pv;
	struct eg_config *ret = NULL;
	int key_line[NKEYS];
	bool cap_hit[NKEYS + 1];

	memset(&ld, 0, sizeof(ld));
	memset(key_line, 0, sizeof(key_line));
	memset(cap_hit, 0, sizeof(cap_hit));
	ld.errs = errs;
	ld.flags = flags;
	ld.dir = dir;
	ld.sect = S_NONE;
	ld.key_line = key_line;
	ld.cap_hit = cap_hit;
	if ((pv = calloc(1, sizeof(*pv))) == NULL) {
		errorf(&ld, "%s: out of memory", name);
		return NULL;
	}
	ld.priv = pv;
	ld.cfg = &pv->pub;
	if ((ld.cfg->path = xstrdup(&ld, name)) == NULL ||
	    (ld.file = keep_name(&ld, name)) == NULL || !set_defaults(&ld))
		goto out;
	if (len > FILE_MAX)
		errorf(&ld, "%s: larger than %d bytes", name, FILE_MAX);
	else {
		scan_lines(&ld, buf, len, config_line);
		fill_unset(&ld);
		if (!ld.oom)
			check_all(&ld);
	}
out:
	if (ld.oom)
		errorf(&ld, "%s: out of memory", name);
	if (errs->n == 0 && !ld.oom)
		ret = ld.cfg;
	else
		eg_config_free(ld.cfg);
	return ret;
}

struct eg_config *
eg_config_load_buf(const char *name, const char *buf, size_t len,
    unsigned flags, struct eg_config_errors *errs)
{
	memset(errs, 0, sizeof(*errs));
	return load(name != NULL ? name : "(config)", NULL, buf, len, flags,
	    errs);
}

struct eg_config *
eg_config_load(const char *path, unsigned flags,
    struct eg_config_errors *errs)
{
	struct loader ld;
	struct eg_config *cfg = NULL;
	char *buf = NULL, *dir = NULL, *slash;
	size_t len = 0;

	memset(errs, 0, sizeof(*errs));
	memset(&ld, 0, sizeof(ld));
	ld.errs = errs;
	ld.file = path;
	if (!read_file(&ld, path, &buf, &len))
		goto out;
	if ((dir = strdup(path)) == NULL) {
		errorf(&ld, "%s: out of memory", path);
		goto out;
	}
	if ((slash = strrchr(dir, '/')) == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	cfg = load(path, dir, buf, len, flags, errs);
out:
	if (ld.oom && errs->n == 0)
		errorf(&ld, "%s: out of memory", path);
	free(buf);
	free(dir);
	return cfg;
}

static void
strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
eg_config_free(struct eg_config *cfg)
{
	struct config_priv *pv = (struct config_priv *)cfg;
	size_t i;

	if (cfg == NULL)
		return;
	free(cfg->path);
	strv_free(cfg->jail.interfaces, cfg->jail.ninterfaces);
	for (i = 0; i < cfg->jail.nusers; i++)
		free(cfg->jail.users[i].name);
	free(cfg->jail.users);
	free(cfg->jail.direct);
	free(cfg->jail.runtime_dir);
	free(cfg->jail.group);
	free(cfg->jail.log_level);
	for (i = 0; i < cfg->chain.nhops; i++)
		hop_clear(&cfg->chain.hops[i]);
	free(cfg->chain.hops);
	free(cfg->chain.ca_file);
	free(cfg->connectd.user.name);
	strv_free(cfg->connectd.proxy_listen, cfg->connectd.nproxy_listen);
	free(cfg->connectd.transparent_listen);
	free(cfg->connectd.health_listen);
	free(cfg->dohd.user.name);
	strv_free(cfg->dohd.listen, cfg->dohd.nlisten);
	for (i = 0; i < cfg->dohd.nupstreams; i++)
		upstream_clear(&cfg->dohd.upstreams[i]);
	free(cfg->dohd.upstreams);
	free(cfg->dohd.ca_file);
	free(cfg->dohd.spki_pin);
	free(cfg->dohd.hosts_file);
	free(cfg->dohd.zone_file);
	strv_free(cfg->dohd.search, cfg->dohd.nsearch);
	free(cfg->netjaild.user.name);
	for (i = 0; i < cfg->policy.nrules; i++)
		free(cfg->policy.rules[i].text);
	free(cfg->policy.rules);
	free(cfg->policy.permit);
	free(cfg->policy.permit_at);
	strv_free(pv->files, pv->nfiles);
	free(pv);
}

void
eg_config_errors_free(struct eg_config_errors *errs)
{
	if (errs == NULL)
		return;
	strv_free(errs->msgs, errs->n);
	errs->msgs = NULL;
	errs->n = 0;
}

/* -- summary ------------------------------------------------------------ */

static void
summary_users(const struct eg_config *cfg, FILE *out)
{
	size_t i;

	fprintf(out, "jailed users:     %zu", cfg->jail.nusers);
	for (i = 0; i < cfg->jail.nusers; i++)
		fprintf(out, "%s%s", i ? ", " : " (", cfg->jail.users[i].name);
	fprintf(out, "%s\n", cfg->jail.nusers ? ")" : "");
}

void
eg_config_summary(const struct eg_config *cfg, FILE *out)
{
	char buf[80];
	size_t i, j;

	fprintf(out, "config %s: OK\n", cfg->path);
	fprintf(out, "allow rules:      %zu (mode %s)\n", cfg->policy.nrules,
	    cfg->policy.mode == EG_MODE_ENFORCE ? "enforce" : "report");
	fprintf(out, "permit_cidr:      %zu\n", cfg->policy.npermit);
	fprintf(out, "chain hops:       %zu%s\n", cfg->chain.nhops,
	    cfg->chain.exit == EG_EXIT_DIRECT ? " (exit = direct)" : "");
	for (i = 0; i < cfg->chain.nhops; i++)
		fprintf(out, "  hop %zu: %s\n", i + 1,
		    cfg->chain.hops[i].url_redacted);
	fprintf(out, "DoH upstreams:    %zu\n", cfg->dohd.nupstreams);
	for (i = 0; i < cfg->dohd.nupstreams; i++) {
		const struct eg_upstream *u = &cfg->dohd.upstreams[i];

		fprintf(out, "  %s via", u->url);
		for (j = 0; j < u->nbootstrap; j++)
			fprintf(out, " %s", eg_ip_str(&u->bootstrap[j], buf,
			    sizeof(buf)));
		fprintf(out, "\n");
	}
	fprintf(out, "jailed interfaces: %zu", cfg->jail.ninterfaces);
	for (i = 0; i < cfg->jail.ninterfaces; i++)
		fprintf(out, "%s%s", i ? ", " : " (", cfg->jail.interfaces[i]);
	fprintf(out, "%s\n", cfg->jail.ninterfaces ? ")" : "");
	summary_users(cfg, out);
	fprintf(out, "direct endpoints: %zu\n", cfg->jail.ndirect);
	fprintf(out, "ipv6:             %s\n",
	    cfg->jail.ipv6 == EG_IPV6_JAIL ? "jail" : "drop");
	fprintf(out, "inbound:          %s\n",
	    cfg->jail.inbound == EG_INBOUND_PUBLISHED ? "published" : "drop");
}
