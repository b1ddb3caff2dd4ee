/*
 * config_keys.c - every key the config file knows, and the setter that
 * parses each one's value.
 *
 * The table at the end is the grammar: a key belongs to one section, is
 * given once or is a list (cap > 0), and is parsed by one setter.  Setters
 * check only their own value; what depends on several keys waits for
 * config_check.c, once every line is read.
 */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "policy.h"

#define MAX_DIRECT	10000
#define MAX_PERMIT	10000
#define MAX_HOPS	8
#define MAX_UPSTREAMS	16
#define MAX_IFACES	1024
#define MAX_USERS	1024
#define MAX_SEARCH	32
#define USERNAME_MAX	32
#define IFNAME_MAX	15


/* What a key's offsets are relative to: the config, or the workload. */
static char *
base(struct loader *ld)
{
	if (ld->sect == S_WORKLOAD)
		return (char *)&ld->cfg->workloads[ld->wl];
	return (char *)ld->cfg;
}

static void *
member(struct loader *ld, const struct keydef *k)
{
	return base(ld) + k->off;
}

static size_t *
count(struct loader *ld, const struct keydef *k)
{
	return (size_t *)(base(ld) + k->count);
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

/*
 * getpwnam_r, or getgrnam_r when group, with a buffer grown until the entry
 * fits.  Returns 0 when found, ENOENT when there is no such name, else
 * errno.
 */
static int
lookup(const char *name, bool group, uid_t *uid, gid_t *gid)
{
	struct passwd pw, *pwres = NULL;
	struct group gr, *grres = NULL;
	size_t len = 16384;
	char *buf = NULL, *nb;
	int r;

	for (;;) {
		if ((nb = realloc(buf, len)) == NULL) {
			r = ENOMEM;
			goto out;
		}
		buf = nb;
		r = group ? getgrnam_r(name, &gr, buf, len, &grres) :
		    getpwnam_r(name, &pw, buf, len, &pwres);
		if (r != ERANGE || len >= 1024 * 1024)
			break;
		len *= 2;
	}
	if (r == 0 && (group ? grres == NULL : pwres == NULL))
		r = ENOENT;
	if (r == 0 && !group) {
		*uid = pw.pw_uid;
		*gid = pw.pw_gid;
	}
out:
	free(buf);
	return r;
}

int
cfg_lookup_user(const char *name, uid_t *uid, gid_t *gid)
{
	return lookup(name, false, uid, gid);
}

int
cfg_lookup_group(const char *name)
{
	return lookup(name, true, NULL, NULL);
}

const char *
cfg_lookup_reason(int r, char *buf, size_t len, const char *what)
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

/* "must be between 10ms and 1000ms", "... 1024 and 4096 bytes" */
static bool
in_range(const struct keydef *k, uint64_t x, const char *unit,
    const char *after, char *err)
{
	if (x >= k->min && x <= k->max)
		return true;
	snprintf(err, EG_ERR_MAX, "must be between %llu%s and %llu%s%s",
	    (unsigned long long)k->min, unit, (unsigned long long)k->max,
	    unit, after);
	return false;
}

static bool
set_duration(struct loader *ld, const struct keydef *k, const char *v,
    struct eg_origin at, char *err)
{
	uint64_t ms;

	if (!eg_duration_parse(v, &ms, err))
		return false;
	if (!in_range(k, ms, "ms", "", err))
		return false;
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
	if (!in_range(k, b, "", " bytes", err))
		return false;
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
	if (!in_range(k, x, "", "", err))
		return false;
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

/* Replace the string *p with a copy of v. */
static bool
set_str(struct loader *ld, char **p, const char *v)
{
	char *s;

	if ((s = cfg_xstrdup(ld, v)) == NULL)
		return false;
	free(*p);
	*p = s;
	return true;
}

static bool
set_abspath(struct loader *ld, const struct keydef *k, const char *v,
    struct eg_origin at, char *err)
{
	if (v[0] != '/') {
		snprintf(err, EG_ERR_MAX, "must be an absolute path");
		return false;
	}
	return set_str(ld, member(ld, k), v);
}

/* The index of v in the key's words, or -1 and "expected A, B or C". */
static int
pick(const struct keydef *k, const char *v, char *err)
{
	size_t i, n, o;

	for (n = 0; k->words[n] != NULL; n++)
		if (strcmp(v, k->words[n]) == 0)
			return (int)n;
	o = (size_t)snprintf(err, EG_ERR_MAX, "expected");
	for (i = 0; i < n && o < EG_ERR_MAX; i++)
		o += (size_t)snprintf(err + o, EG_ERR_MAX - o, "%s%s",
		    i == 0 ? " " : i == n - 1 ? " or " : ", ", k->words[i]);
	return -1;
}

/*
 * One of a few words, kept as an enum whose values are the words' indices
 * (see the *_words arrays by the table).
 */
static bool
set_enum(struct loader *ld, const struct keydef *k, const char *v,
    struct eg_origin at, char *err)
{
	int i = pick(k, v, err);

	if (i < 0)
		return false;
	*(int *)member(ld, k) = i;
	return true;
}

/* A workload's mode; one it does not set is [policy]'s. */
static bool
set_wl_mode(struct loader *ld, const struct keydef *k, const char *v,
    struct eg_origin at, char *err)
{
	if (!set_enum(ld, k, v, at, err))
		return false;
	ld->cfg->workloads[ld->wl].mode_set = true;
	return true;
}

/* One of a few words, kept as text (log_level, as the logger takes it). */
static bool
set_word(struct loader *ld, const struct keydef *k, const char *v,
    struct eg_origin at, char *err)
{
	if (pick(k, v, err) < 0)
		return false;
	return set_str(ld, member(ld, k), v);
}

static bool
set_group(struct loader *ld, const struct keydef *k, const char *v,
    struct eg_origin at, char *err)
{
	if (!valid_username(v)) {
		snprintf(err, EG_ERR_MAX, "not a valid group name");
		return false;
	}
	return set_str(ld, member(ld, k), v);
}

/* A daemon's own user: looked up at the end, with the defaults. */
static bool
set_daemon_user(struct loader *ld, const struct keydef *k, const char *v,
    struct eg_origin at, char *err)
{
	struct eg_user *u = member(ld, k);

	if (!valid_username(v)) {
		snprintf(err, EG_ERR_MAX, "not a valid user name");
		return false;
	}
	if (!set_str(ld, &u->name, v))
		return false;
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
		if ((r = cfg_lookup_user(v, &u.uid, &u.gid)) != 0) {
			cfg_lookup_reason(r, err, EG_ERR_MAX, "user");
			return false;
		}
		if (u.uid == 0) {
			snprintf(err, EG_ERR_MAX, "refusing to jail root");
			return false;
		}
	}
	if (!cfg_grow(ld, &c->jail.users, c->jail.nusers, sizeof(u)))
		return false;
	if ((u.name = cfg_xstrdup(ld, v)) == NULL)
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
	if (!cfg_grow(ld, &c->jail.interfaces, c->jail.ninterfaces, sizeof(s)))
		return false;
	if ((s = cfg_xstrdup(ld, v)) == NULL)
		return false;
	c->jail.interfaces[c->jail.ninterfaces++] = s;
	return true;
}

/* [jail] direct and a workload's direct */
static bool
add_direct(struct loader *ld, const struct keydef *k, const char *v,
    struct eg_origin at, char *err)
{
	struct eg_direct **arr = member(ld, k), d;
	size_t *n = count(ld, k);

	/* duplicates are found once all are read: see check_direct_dups */
	memset(&d, 0, sizeof(d));
	if (!eg_endpoint_parse(v, &d.ep, err))
		return false;
	if (!cfg_grow(ld, arr, *n, sizeof(d)))
		return false;
	d.at = at;
	(*arr)[(*n)++] = d;
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
	if (!listen_check(v, err))
		return false;
	return set_str(ld, member(ld, k), v);
}

bool
cfg_strlist_add(struct loader *ld, char ***arr, size_t *n, const char *v,
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
	if (!cfg_grow(ld, arr, *n, sizeof(char *)))
		return false;
	if ((s = cfg_xstrdup(ld, v)) == NULL)
		return false;
	(*arr)[(*n)++] = s;
	return true;
}

static bool
add_listen(struct loader *ld, const struct keydef *k, const char *v,
    struct eg_origin at, char *err)
{
	if (!listen_check(v, err))
		return false;
	return cfg_strlist_add(ld, member(ld, k), count(ld, k), v, err);
}

static bool
add_search(struct loader *ld, const struct keydef *k, const char *v,
    struct eg_origin at, char *err)
{
	char name[EG_NAME_MAX + 1];

	if (!eg_name_normalise(v, name, err))
		return false;
	if (eg_is_ip_literal(name)) {
		snprintf(err, EG_ERR_MAX, "a search domain is a name, not an "
		    "address");
		return false;
	}
	return cfg_strlist_add(ld, member(ld, k), count(ld, k), name, err);
}

static bool
set_spki(struct loader *ld, const struct keydef *k, const char *v,
    struct eg_origin at, char *err)
{
	size_t i;

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
	return set_str(ld, member(ld, k), v);
}

static bool
add_permit(struct loader *ld, const struct keydef *k, const char *v,
    struct eg_origin at, char *err)
{
	struct eg_policy_conf *p = cfg_cur_policy(ld);
	struct eg_cidr cidr;

	if (!eg_cidr_parse(v, &cidr, err))
		return false;
	if (!cfg_grow(ld, &p->permit, p->npermit, sizeof(cidr)) ||
	    !cfg_grow(ld, &p->permit_at, p->npermit, sizeof(at)))
		return false;
	p->permit[p->npermit] = cidr;
	p->permit_at[p->npermit] = at;
	p->npermit++;
	return true;
}

bool
cfg_rule_add(struct loader *ld, const char *v, struct eg_origin at, char *err)
{
	struct eg_policy_conf *p = cfg_cur_policy(ld);
	struct eg_rule r;
	struct eg_rule_src src;

	if (p->nrules >= MAX_RULES) {
		snprintf(err, EG_ERR_MAX, "more than %d allow rules",
		    MAX_RULES);
		return false;
	}
	/* workloads each have their own; memory is bounded by the sum */
	if (ld->nrules_all >= MAX_RULES_ALL) {
		snprintf(err, EG_ERR_MAX, "more than %d allow rules in all "
		    "policies", MAX_RULES_ALL);
		return false;
	}
	if (!eg_rule_parse(v, &r, err))
		return false;
	eg_rule_clear(&r);
	if (!cfg_grow(ld, &p->rules, p->nrules, sizeof(src)))
		return false;
	if ((src.text = cfg_xstrdup(ld, v)) == NULL)
		return false;
	src.at = at;
	p->rules[p->nrules++] = src;
	ld->nrules_all++;
	return true;
}

static bool
add_allow(struct loader *ld, const struct keydef *k, const char *v,
    struct eg_origin at, char *err)
{
	return cfg_rule_add(ld, v, at, err);
}

/* -- the key table --------------------------------------------------------- */

#define OFF(f) offsetof(struct eg_config, f)
#define WOFF(f) offsetof(struct eg_workload, f)
#define MS(x) ((uint64_t)(x))
#define SEC(x) ((uint64_t)(x) * 1000)
#define HOURS(x) ((uint64_t)(x) * 3600 * 1000)

/* set_enum's words, in the order of the enum's values */
static const char *const ipv6_words[] = { "jail", "drop", NULL };
/*
 * inbound: whether a connection that the host DNATs to a jailed bridge
 * (docker run -p) may be forwarded there.  Only the DNAT makes it pass:
 * plain routed inbound is dropped either way.
 */
static const char *const inbound_words[] = { "published", "drop", NULL };
static const char *const exit_words[] = { "hop", "direct", NULL };
static const char *const mode_words[] = { "enforce", "report", "ask",
    "learn", NULL };
static const char *const rcode_words[] = { "nxdomain", "refused", NULL };
static const char *const loglevel_words[] = { "debug", "info", "warn",
	"err", NULL };

_Static_assert(EG_IPV6_DROP == 1 && EG_INBOUND_DROP == 1 &&
    EG_EXIT_DIRECT == 1 && EG_MODE_REPORT == 1 && EG_MODE_LEARN == 3 &&
    EG_DENY_REFUSED == 1,
    "set_enum stores a word's index");
_Static_assert(sizeof(enum eg_ipv6_mode) == sizeof(int) &&
    sizeof(enum eg_inbound_mode) == sizeof(int) &&
    sizeof(enum eg_exit_mode) == sizeof(int) &&
    sizeof(enum eg_policy_mode) == sizeof(int) &&
    sizeof(enum eg_deny_rcode) == sizeof(int), "set_enum writes an int");

const struct keydef cfg_keys[] = {
	{ S_JAIL, "interface", add_interface, .off = OFF(jail.interfaces),
	    .cap = MAX_IFACES, .count = OFF(jail.ninterfaces) },
	{ S_JAIL, "user", add_jailed_user, .off = OFF(jail.users),
	    .cap = MAX_USERS, .count = OFF(jail.nusers) },
	{ S_JAIL, "direct", add_direct, .off = OFF(jail.direct),
	    .cap = MAX_DIRECT, .count = OFF(jail.ndirect) },
	{ S_JAIL, "ipv6", set_enum, .off = OFF(jail.ipv6),
	    .words = ipv6_words },
	{ S_JAIL, "inbound", set_enum, .off = OFF(jail.inbound),
	    .words = inbound_words },
	{ S_JAIL, "runtime_dir", set_abspath, .off = OFF(jail.runtime_dir) },
	{ S_JAIL, "group", set_group, .off = OFF(jail.group) },
	{ S_JAIL, "fwmark", set_u32, .off = OFF(jail.fwmark), .min = 1,
	    .max = UINT32_MAX },
	{ S_JAIL, "listener_mark", set_u32, .off = OFF(jail.listener_mark),
	    .min = 1, .max = UINT32_MAX },
	{ S_JAIL, "route_table", set_route_table, .off = OFF(jail.route_table),
	    .min = 1, .max = UINT32_MAX - 1 },
	{ S_JAIL, "log_level", set_word, .off = OFF(jail.log_level),
	    .words = loglevel_words },

	{ S_CHAIN, "hop", cfg_add_hop, .off = OFF(chain.hops), .cap = MAX_HOPS,
	    .count = OFF(chain.nhops) },
	{ S_CHAIN, "canary", set_canary, .off = OFF(chain.canary) },
	{ S_CHAIN, "ca_file", set_abspath, .off = OFF(chain.ca_file) },
	{ S_CHAIN, "probe_interval", set_duration,
	    .off = OFF(chain.probe_interval_ms), .min = MS(100),
	    .max = HOURS(24) },
	{ S_CHAIN, "probe_timeout", set_duration,
	    .off = OFF(chain.probe_timeout_ms), .min = MS(10),
	    .max = HOURS(1) },
	{ S_CHAIN, "connect_timeout", set_duration,
	    .off = OFF(chain.connect_timeout_ms), .min = MS(10),
	    .max = HOURS(1) },
	{ S_CHAIN, "require_all_hops_healthy", set_bool,
	    .off = OFF(chain.require_all_hops_healthy) },
	{ S_CHAIN, "max_hop_status_age", set_duration,
	    .off = OFF(chain.max_hop_status_age_ms), .min = MS(100),
	    .max = HOURS(24) },
	{ S_CHAIN, "block_start_until_hops_healthy", set_bool,
	    .off = OFF(chain.block_start_until_hops_healthy) },
	{ S_CHAIN, "exit", set_enum, .off = OFF(chain.exit),
	    .words = exit_words },
	{ S_CHAIN, "half_close_delay", set_duration,
	    .off = OFF(chain.half_close_delay_ms), .min = 0, .max = HOURS(1) },
	{ S_CHAIN, "resolve_check", set_bool,
	    .off = OFF(chain.resolve_check) },

	{ S_CONNECTD, "user", set_daemon_user, .off = OFF(connectd.user) },
	{ S_CONNECTD, "proxy_listen", add_listen,
	    .off = OFF(connectd.proxy_listen), .cap = MAX_LISTEN,
	    .count = OFF(connectd.nproxy_listen) },
	{ S_CONNECTD, "transparent_listen", set_listen1,
	    .off = OFF(connectd.transparent_listen) },
	{ S_CONNECTD, "health_listen", set_listen1,
	    .off = OFF(connectd.health_listen) },
	{ S_CONNECTD, "max_connections", set_u32,
	    .off = OFF(connectd.max_connections), .min = 1, .max = 1000000 },
	{ S_CONNECTD, "idle_timeout", set_duration,
	    .off = OFF(connectd.idle_timeout_ms), .min = SEC(1),
	    .max = HOURS(24) },
	{ S_CONNECTD, "head_timeout", set_duration,
	    .off = OFF(connectd.head_timeout_ms), .min = MS(100),
	    .max = SEC(600) },
	{ S_CONNECTD, "tunnel_check", set_bool,
	    .off = OFF(connectd.tunnel_check) },
	{ S_CONNECTD, "max_head_bytes", set_size,
	    .off = OFF(connectd.max_head_bytes), .min = 1024,
	    .max = 1024 * 1024 },
	{ S_CONNECTD, "drain_timeout", set_duration,
	    .off = OFF(connectd.drain_timeout_ms), .min = 0, .max = HOURS(1) },
	{ S_CONNECTD, "access_log", set_bool,
	    .off = OFF(connectd.access_log) },

	{ S_DOHD, "user", set_daemon_user, .off = OFF(dohd.user) },
	{ S_DOHD, "listen", add_listen, .off = OFF(dohd.listen),
	    .cap = MAX_LISTEN, .count = OFF(dohd.nlisten) },
	{ S_DOHD, "upstream", cfg_add_upstream, .off = OFF(dohd.upstreams),
	    .cap = MAX_UPSTREAMS, .count = OFF(dohd.nupstreams) },
	{ S_DOHD, "ca_file", set_abspath, .off = OFF(dohd.ca_file) },
	{ S_DOHD, "spki_pin", set_spki, .off = OFF(dohd.spki_pin) },
	{ S_DOHD, "hosts_file", set_abspath, .off = OFF(dohd.hosts_file) },
	{ S_DOHD, "zone_file", set_abspath, .off = OFF(dohd.zone_file) },
	{ S_DOHD, "search", add_search, .off = OFF(dohd.search),
	    .cap = MAX_SEARCH, .count = OFF(dohd.nsearch) },
	{ S_DOHD, "deny_rcode", set_enum, .off = OFF(dohd.deny_rcode),
	    .words = rcode_words },
	{ S_DOHD, "max_name_length", set_u32, .off = OFF(dohd.max_name_length),
	    .min = 1, .max = EG_NAME_MAX },
	{ S_DOHD, "max_labels", set_u32, .off = OFF(dohd.max_labels), .min = 1,
	    .max = 127 },
	{ S_DOHD, "cache_size", set_u32, .off = OFF(dohd.cache_size), .min = 0,
	    .max = 10000000 },
	{ S_DOHD, "max_ttl", set_u32, .off = OFF(dohd.max_ttl), .min = 0,
	    .max = 604800 },
	{ S_DOHD, "negative_ttl", set_u32, .off = OFF(dohd.negative_ttl),
	    .min = 0, .max = 86400 },
	{ S_DOHD, "stale_ttl", set_u32, .off = OFF(dohd.stale_ttl), .min = 0,
	    .max = 86400 },
	{ S_DOHD, "rate_limit", set_u32, .off = OFF(dohd.rate_limit), .min = 0,
	    .max = 1000000 },
	{ S_DOHD, "query_timeout", set_duration,
	    .off = OFF(dohd.query_timeout_ms), .min = MS(10), .max = SEC(60) },
	{ S_DOHD, "ping_interval", set_duration,
	    .off = OFF(dohd.ping_interval_ms), .min = MS(100),
	    .max = HOURS(1) },
	{ S_DOHD, "max_connection_age", set_duration,
	    .off = OFF(dohd.max_connection_age_ms), .min = SEC(1),
	    .max = HOURS(24) },
	{ S_DOHD, "feed_timeout", set_duration,
	    .off = OFF(dohd.feed_timeout_ms), .min = MS(1), .max = SEC(10) },

	{ S_NETJAILD, "user", set_daemon_user, .off = OFF(netjaild.user) },

	{ S_POLICY, "mode", set_enum, .off = OFF(policy.mode),
	    .words = mode_words },
	{ S_POLICY, "allow", add_allow, .off = OFF(policy.rules),
	    .cap = MAX_RULES, .count = OFF(policy.nrules) },
	{ S_POLICY, "allow_file", cfg_add_allow_file, .cap = MAX_ALLOW_FILES },
	{ S_POLICY, "permit_cidr", add_permit, .off = OFF(policy.permit),
	    .cap = MAX_PERMIT, .count = OFF(policy.npermit) },
	{ S_POLICY, "ask_socket", set_abspath, .off = OFF(ask.socket) },
	{ S_POLICY, "ask_timeout", set_duration, .off = OFF(ask.timeout_ms),
	    .min = SEC(1), .max = SEC(300) },
	{ S_POLICY, "ask_max", set_u32, .off = OFF(ask.max), .min = 1,
	    .max = 4096 },
	{ S_POLICY, "ask_dns_hold", set_duration, .off = OFF(ask.dns_hold_ms),
	    .min = MS(100), .max = SEC(30) },

	/* [workload NAME]: offsets into struct eg_workload */
	{ S_WORKLOAD, "match", cfg_add_match, .cap = MAX_MATCHES,
	    .count = WOFF(nmatches) },
	{ S_WORKLOAD, "mode", set_wl_mode, .off = WOFF(policy.mode),
	    .words = mode_words },
	{ S_WORKLOAD, "allow", add_allow, .off = WOFF(policy.rules),
	    .cap = MAX_RULES, .count = WOFF(policy.nrules) },
	{ S_WORKLOAD, "allow_file", cfg_add_allow_file,
	    .cap = MAX_ALLOW_FILES },
	{ S_WORKLOAD, "permit_cidr", add_permit, .off = WOFF(policy.permit),
	    .cap = MAX_PERMIT, .count = WOFF(policy.npermit) },
	{ S_WORKLOAD, "direct", add_direct, .off = WOFF(direct),
	    .cap = MAX_DIRECT, .count = WOFF(ndirect) },
};

const size_t cfg_nkeys = sizeof(cfg_keys) / sizeof(cfg_keys[0]);

/* Entries a list key holds now, for its cap. */
size_t
cfg_list_count(struct loader *ld, const struct keydef *k)
{
	if (k->count == 0)
		return 0;	/* allow_file: its files are not counted */
	return *count(ld, k);
}

const struct keydef *
cfg_find_key(enum sect s, const char *name, size_t *idx)
{
	size_t i;

	for (i = 0; i < cfg_nkeys; i++) {
		if (cfg_keys[i].sect == s &&
		    strcmp(cfg_keys[i].name, name) == 0) {
			*idx = i;
			return &cfg_keys[i];
		}
	}
	return NULL;
}

/* The first line a key was given on, 0 when it was not. */
int
cfg_key_seen(const struct loader *ld, enum sect s, const char *name)
{
	size_t idx;

	return cfg_find_key(s, name, &idx) != NULL ? ld->key_line[idx] : 0;
}
