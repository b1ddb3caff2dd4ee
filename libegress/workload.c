/*
 * workload.c - parse `match =` values and find the workload of a source.
 *
 * Every parser here is bounded by EG_WL_MATCH_MAX bytes of input and
 * fills its out-parameter only on success.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "errfmt.h"
#include "workload.h"

static const struct {
	const char *prefix;
	enum eg_wl_kind kind;
} kinds[] = {
	{ "iface:", EG_WL_IFACE },
	{ "cidr:", EG_WL_CIDR },
	{ "uid:", EG_WL_UID },
	{ "cgroup:", EG_WL_CGROUP },
};

bool
eg_wl_name_valid(const char *name, char *err)
{
	size_t i, n = strnlen(name, EG_WL_NAME_MAX + 1);

	if (n == 0 || n > EG_WL_NAME_MAX) {
		eg_seterr(err, "a workload name is 1-%d bytes", EG_WL_NAME_MAX);
		return false;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (islower(c) || isdigit(c))
			continue;
		if (i > 0 && (c == '-' || c == '_'))
			continue;
		eg_seterr(err, "a workload name is lower-case letters, digits, "
		    "'-' and '_', starting with a letter or digit");
		return false;
	}
	if (strcmp(name, EG_WL_DEFAULT) == 0) {
		eg_seterr(err, "\"%s\" is the name of [policy], the default "
		    "workload", EG_WL_DEFAULT);
		return false;
	}
	return true;
}

/*
 * The kernel's interface names, or a prefix and a final '*' as in [jail]
 * interface.  Not "lo" (the local users' detour) and not a bare "*".
 */
static bool
parse_iface(const char *v, struct eg_wl_match *m, char *err)
{
	size_t i, n = strlen(v);

	if (n == 0 || n > EG_WL_IFNAME_MAX || strcmp(v, ".") == 0 ||
	    strcmp(v, "..") == 0) {
		eg_seterr(err, "an interface name is 1-%d bytes",
		    EG_WL_IFNAME_MAX);
		return false;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c == '*' && i == n - 1 && i > 0)
			continue;
		if (!isalnum(c) && c != '-' && c != '_' && c != '.' &&
		    c != '@') {
			eg_seterr(err, c == '*' ? "a pattern is a prefix and "
			    "a final '*' (\"br-*\")" : "invalid character in "
			    "interface name");
			return false;
		}
	}
	if (eg_ifname_match(v, "lo")) {
		eg_seterr(err, "the loopback is never a workload");
		return false;
	}
	memcpy(m->text, v, n + 1);
	return true;
}

static bool
parse_cidr(const char *v, struct eg_wl_match *m, char *err)
{
	return eg_cidr_parse(v, &m->cidr, err);
}

/* As [jail] user: the name a jailed user must have, looked up later. */
static bool
parse_uid(const char *v, struct eg_wl_match *m, char *err)
{
	size_t i, n = strlen(v);

	if (n == 0 || n > EG_WL_USER_MAX) {
		eg_seterr(err, "a user name is 1-%d bytes", EG_WL_USER_MAX);
		return false;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (islower(c) || c == '_' ||
		    (i > 0 && (isdigit(c) || c == '-')) ||
		    (i > 0 && i == n - 1 && c == '$'))
			continue;
		eg_seterr(err, "not a valid user name");
		return false;
	}
	memcpy(m->text, v, n + 1);
	return true;
}

/*
 * A cgroup v2 path from the root of the hierarchy, as /proc/PID/cgroup
 * shows it after "0::".  Normalised by refusal, not by rewriting: no
 * empty, "." or ".." component, no trailing '/', printable bytes but
 * '"' and '\' (the path goes into nft text in quotes).  "/" itself would
 * jail every process on the host, the jail's daemons included.
 */
static bool
parse_cgroup(const char *v, struct eg_wl_match *m, char *err)
{
	size_t i, n = strlen(v), depth = 0, start;

	if (n == 0 || v[0] != '/') {
		eg_seterr(err, "a cgroup path starts with '/' (as in "
		    "/proc/PID/cgroup)");
		return false;
	}
	if (n > EG_WL_CGROUP_MAX) {
		eg_seterr(err, "a cgroup path is at most %d bytes",
		    EG_WL_CGROUP_MAX);
		return false;
	}
	if (n == 1) {
		eg_seterr(err, "the root cgroup holds every process, the "
		    "jail's own daemons too");
		return false;
	}
	for (i = 1; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\') {
			eg_seterr(err, "invalid byte 0x%02x in cgroup path", c);
			return false;
		}
	}
	for (start = 1; start <= n; start = i + 1) {
		for (i = start; i < n && v[i] != '/'; i++)
			;
		if (i == start || (i - start == 1 && v[start] == '.') ||
		    (i - start == 2 && v[start] == '.' && v[start + 1] == '.')) {
			eg_seterr(err, "empty, \".\" or \"..\" component in "
			    "cgroup path");
			return false;
		}
		if (++depth > EG_WL_CGROUP_DEPTH) {
			eg_seterr(err, "a cgroup path has at most %d "
			    "components", EG_WL_CGROUP_DEPTH);
			return false;
		}
	}
	memcpy(m->text, v, n + 1);
	m->depth = (uint8_t)depth;
	return true;
}

bool
eg_wl_match_parse(const char *v, struct eg_wl_match *out, char *err)
{
	struct eg_wl_match m;
	size_t i, n, plen;
	bool ok = false;

	n = strnlen(v, EG_WL_MATCH_MAX + 1);
	if (n > EG_WL_MATCH_MAX) {
		eg_seterr(err, "longer than %d bytes", EG_WL_MATCH_MAX);
		return false;
	}
	memset(&m, 0, sizeof(m));
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		plen = strlen(kinds[i].prefix);
		if (strncmp(v, kinds[i].prefix, plen) != 0)
			continue;
		m.kind = kinds[i].kind;
		switch (m.kind) {
		case EG_WL_IFACE:
			ok = parse_iface(v + plen, &m, err);
			break;
		case EG_WL_CIDR:
			ok = parse_cidr(v + plen, &m, err);
			break;
		case EG_WL_UID:
			ok = parse_uid(v + plen, &m, err);
			break;
		case EG_WL_CGROUP:
			ok = parse_cgroup(v + plen, &m, err);
			break;
		}
		if (ok)
			*out = m;
		return ok;
	}
	eg_seterr(err, "a match is iface:IFNAME, cidr:PREFIX, uid:USER or "
	    "cgroup:PATH");
	return false;
}

const char *
eg_wl_match_str(const struct eg_wl_match *m, char *buf, size_t len)
{
	char cb[96];

	switch (m->kind) {
	case EG_WL_IFACE:
		snprintf(buf, len, "iface:%s", m->text);
		break;
	case EG_WL_CIDR:
		snprintf(buf, len, "cidr:%s", eg_cidr_str(&m->cidr, cb,
		    sizeof(cb)));
		break;
	case EG_WL_UID:
		snprintf(buf, len, "uid:%s", m->text);
		break;
	case EG_WL_CGROUP:
		snprintf(buf, len, "cgroup:%s", m->text);
		break;
	}
	return buf;
}

/* Do two interface names or patterns match some name in common? */
static bool
iface_overlap(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	bool pa = eg_ifname_is_pattern(a), pb = eg_ifname_is_pattern(b);

	if (pa && pb)
		return strncmp(a, b, (na < nb ? na : nb) - 1) == 0;
	if (pa)
		return eg_ifname_match(a, b);
	if (pb)
		return eg_ifname_match(b, a);
	return strcmp(a, b) == 0;
}

/* Is the cgroup path anc the path p or one of its ancestors? */
static bool
cgroup_within(const char *anc, const char *p)
{
	size_t n = strlen(anc);

	return strncmp(anc, p, n) == 0 && (p[n] == '\0' || p[n] == '/');
}

static bool
cidr_overlap(const struct eg_cidr *a, const struct eg_cidr *b)
{
	if (a->ip.family != b->ip.family)
		return false;
	return a->plen <= b->plen ? eg_cidr_contains(a, &b->ip) :
	    eg_cidr_contains(b, &a->ip);
}

bool
eg_wl_overlap(const struct eg_wl_match *a, const struct eg_wl_match *b)
{
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case EG_WL_IFACE:
		return iface_overlap(a->text, b->text);
	case EG_WL_CIDR:
		return cidr_overlap(&a->cidr, &b->cidr);
	case EG_WL_UID:
		if (a->has_uid && b->has_uid)
			return a->uid == b->uid;
		return strcmp(a->text, b->text) == 0;
	case EG_WL_CGROUP:
		return cgroup_within(a->text, b->text) ||
		    cgroup_within(b->text, a->text);
	}
	return false;
}

bool
eg_wl_next_overlap(const struct eg_wl_match *m, size_t n, size_t *i,
    size_t *j)
{
	size_t a = *i, b = *j + 1;

	for (; a < n; a++, b = a + 1) {
		for (; b < n; b++) {
			if (m[a].wl == m[b].wl || !eg_wl_overlap(&m[a], &m[b]))
				continue;
			*i = a;
			*j = b;
			return true;
		}
	}
	return false;
}

bool
eg_wl_match_source(const struct eg_wl_match *m,
    const struct eg_wl_source *src)
{
	switch (m->kind) {
	case EG_WL_IFACE:
		return src->bridge && src->ifname != NULL &&
		    eg_ifname_match(m->text, src->ifname);
	case EG_WL_CIDR:
		/* sources on a bridge only: a local socket's address is
		 * the host's, shared by every local user */
		return src->bridge && src->has_addr &&
		    eg_cidr_contains(&m->cidr, &src->addr);
	case EG_WL_UID:
		if (src->bridge)
			return false;
		/* a name stands for one uid: equal names, equal users */
		if (src->user != NULL && strcmp(src->user, m->text) == 0)
			return true;
		return src->has_uid && m->has_uid && m->uid == src->uid;
	case EG_WL_CGROUP:
		return !src->bridge && src->cgroup != NULL &&
		    cgroup_within(m->text, src->cgroup);
	}
	return false;
}

enum eg_wl_found
eg_wl_lookup(const struct eg_wl_match *m, size_t n,
    const struct eg_wl_source *src, const struct eg_wl_match **hit,
    const struct eg_wl_match **other)
{
	const struct eg_wl_match *first = NULL;
	size_t i;

	*hit = *other = NULL;
	for (i = 0; i < n; i++) {
		if (!eg_wl_match_source(&m[i], src))
			continue;
		if (first == NULL) {
			first = &m[i];
			continue;
		}
		if (m[i].wl != first->wl) {
			*hit = first;
			*other = &m[i];
			return EG_WL_CONFLICT;
		}
	}
	*hit = first;
	return first != NULL ? EG_WL_FOUND : EG_WL_NONE;
}
