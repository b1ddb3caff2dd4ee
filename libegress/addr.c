/*
 * addr.c - IP addresses, CIDRs, ports and endpoints: parse and print.
 *
 * (Error wording is errfmt.c's; names, durations and sizes are value.c's.)
 *
 * Two kinds of IP parsing live here on purpose:
 *
 *  - eg_ip_parse() / eg_is_ip_literal() accept every spelling a client
 *    library might turn into an address (inet_aton short forms, octal, hex,
 *    bare 32-bit numbers).  They exist to recognise what a workload wrote,
 *    so they err on the side of "this is an address".
 *
 *  - Addresses an operator writes in the config (CIDRs, endpoints, listen
 *    addresses) must be canonical dotted quads or RFC 4291 text.  "10.1/16"
 *    means 10.0.0.1/16 to inet_aton and 10.1.0.0/16 to a human; a firewall
 *    config must not guess, so such spellings are rejected with a hint.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "errfmt.h"

#define SCOPE_NAME_MAX 15	/* IFNAMSIZ - 1 */

/*
 * One number of an inet_aton address: decimal, octal with a leading 0,
 * hex with 0x.  A bare "0x" is zero, as URL parsers (WHATWG) read it; being
 * wider than inet_aton here only ever makes more strings count as literals,
 * which is the fail-closed direction.  Stops accumulating once the value
 * exceeds 32 bits, so no input length can overflow it.
 */
static bool
v4_part(const char **sp, uint64_t *out)
{
	const char *s = *sp;
	uint64_t v = 0;
	unsigned base = 10, d;
	bool any = false;

	if (!isdigit((unsigned char)*s))
		return false;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		any = true;
	} else if (s[0] == '0') {
		base = 8;
	}
	for (;; s++) {
		unsigned char c = (unsigned char)*s;

		if (isdigit(c))
			d = c - '0';
		else if (base == 16 && isxdigit(c))
			d = (unsigned)(tolower(c) - 'a' + 10);
		else
			break;
		if (d >= base)
			return false;
		v = v * base + d;
		if (v > UINT32_MAX)
			return false;
		any = true;
	}
	if (!any)
		return false;
	*sp = s;
	*out = v;
	return true;
}

/*
 * IPv4 in any inet_aton spelling: a, a.b (8.24), a.b.c (8.8.16), a.b.c.d.
 * glibc's inet_aton refuses a trailing dot, but the name "127.1." is
 * "127.1" once its root dot goes, and URL parsers read it as an address;
 * so one trailing dot is accepted and the string counts as a literal.
 */
static bool
v4_parse_any(const char *s, uint8_t out[4])
{
	uint64_t part[4], v;
	size_t n = 0;
	int i;

	for (;;) {
		if (n == 4 || !v4_part(&s, &part[n]))
			return false;
		n++;
		if (*s == '\0')
			break;
		if (*s != '.')
			return false;
		s++;
		if (*s == '\0')
			break;	/* one trailing dot */
	}
	for (i = 0; i < (int)n - 1; i++)
		if (part[i] > 0xff)
			return false;
	switch (n) {
	case 1:
		v = part[0];
		break;
	case 2:
		if (part[1] > 0xffffff)
			return false;
		v = part[0] << 24 | part[1];
		break;
	case 3:
		if (part[2] > 0xffff)
			return false;
		v = part[0] << 24 | part[1] << 16 | part[2];
		break;
	default:
		if (part[3] > 0xff)
			return false;
		v = part[0] << 24 | part[1] << 16 | part[2] << 8 | part[3];
		break;
	}
	out[0] = (uint8_t)(v >> 24);
	out[1] = (uint8_t)(v >> 16);
	out[2] = (uint8_t)(v >> 8);
	out[3] = (uint8_t)v;
	return true;
}

/* Canonical dotted quad only (inet_pton: no short forms, no leading 0). */
static bool
v4_parse_strict(const char *s, uint8_t out[4])
{
	return inet_pton(AF_INET, s, out) == 1;
}

/*
 * A "%scope" suffix.  Only numeric scopes parse: turning an interface name
 * into an index takes a socket (if_nametoindex), which a sandboxed daemon
 * may not open, and this runs on hostile input.  With lenient set any
 * short suffix still marks the string as an address (scope 0), which is
 * all eg_is_ip_literal needs to know: "fe80::1%eth0" or the URL form
 * "fe80::1%25eth0" is never a name.
 */
static bool
scope_parse(const char *s, uint32_t *out, bool lenient)
{
	char *end;
	unsigned long v;
	size_t n = strlen(s);

	if (n == 0 || n > SCOPE_NAME_MAX + 3)
		return false;
	if (isdigit((unsigned char)s[0]) && n <= 10) {
		errno = 0;
		v = strtoul(s, &end, 10);
		if (errno == 0 && *end == '\0' && v <= UINT32_MAX) {
			*out = (uint32_t)v;
			return true;
		}
	}
	if (!lenient)
		return false;
	*out = 0;
	return true;
}

/* IPv6 text, brackets and "%scope" already split off by the caller. */
static bool
v6_parse(const char *s, uint8_t out[16])
{
	char buf[INET6_ADDRSTRLEN + 1];
	size_t n = strlen(s);

	/* inet_pton takes any length; bound it before it sees the string */
	if (n == 0 || n >= sizeof(buf) || strchr(s, ':') == NULL)
		return false;
	memcpy(buf, s, n + 1);
	return inet_pton(AF_INET6, buf, out) == 1;
}

static bool
is_v4_mapped(const uint8_t a[16])
{
	static const uint8_t pfx[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };

	return memcmp(a, pfx, sizeof(pfx)) == 0;
}

enum v4_form { V4_ANY, V4_STRICT };

static bool
ip_parse(const char *s, struct eg_ip *out, bool unmap, enum v4_form form,
    bool lenient_scope)
{
	char buf[INET6_ADDRSTRLEN + SCOPE_NAME_MAX + 4];
	struct eg_ip ip;
	char *pct;
	size_t n;
	bool ok;

	memset(&ip, 0, sizeof(ip));
	n = strlen(s);
	if (n == 0 || n >= sizeof(buf))
		return false;
	if (s[0] == '[') {
		if (n < 3 || s[n - 1] != ']')
			return false;
		memcpy(buf, s + 1, n - 2);
		buf[n - 2] = '\0';
		if (strchr(buf, ':') == NULL)
			return false;	/* brackets hold IPv6 only */
	} else
		memcpy(buf, s, n + 1);

	if (strchr(buf, ':') == NULL) {
		ip.family = AF_INET;
		ok = form == V4_ANY ? v4_parse_any(buf, ip.addr) :
		    v4_parse_strict(buf, ip.addr);
		if (!ok)
			return false;
		*out = ip;
		return true;
	}

	if ((pct = strchr(buf, '%')) != NULL) {
		*pct = '\0';
		if (!scope_parse(pct + 1, &ip.scope, lenient_scope))
			return false;
	}
	if (!v6_parse(buf, ip.addr))
		return false;
	ip.family = AF_INET6;
	if (unmap && is_v4_mapped(ip.addr) && ip.scope == 0) {
		memmove(ip.addr, ip.addr + 12, 4);
		memset(ip.addr + 4, 0, 12);
		ip.family = AF_INET;
	}
	*out = ip;
	return true;
}

bool
eg_ip_parse(const char *s, struct eg_ip *out, bool unmap)
{
	if (s == NULL)
		return false;
	return ip_parse(s, out, unmap, V4_ANY, false);
}

bool
eg_is_ip_literal(const char *s)
{
	struct eg_ip ip;

	if (s == NULL)
		return false;
	return ip_parse(s, &ip, false, V4_ANY, true);
}

/*
 * An address written by an operator: strict forms only, and a helpful
 * error when the input is a short form inet_aton would take.
 */
static bool
ip_parse_config(const char *s, struct eg_ip *out, char *err)
{
	if (ip_parse(s, out, false, V4_STRICT, false))
		return true;
	if (eg_is_ip_literal(s))
		eg_seterrq(err, s, "ambiguous address spelling: write IPv4 as "
		    "a dotted quad (a.b.c.d) and an IPv6 scope as a number");
	else
		eg_seterrq(err, s, "not an IP address");
	return false;
}

static size_t
ip_len(const struct eg_ip *ip)
{
	return ip->family == AF_INET ? 4 : 16;
}

static unsigned
plen_max(const struct eg_ip *ip)
{
	return ip->family == AF_INET ? 32 : 128;
}

static bool
host_bits_clear(const struct eg_ip *ip, unsigned plen)
{
	size_t i, n = ip_len(ip);

	for (i = 0; i < n; i++) {
		unsigned bit = (unsigned)i * 8;
		uint8_t mask;

		if (bit + 8 <= plen)
			continue;
		mask = bit >= plen ? 0xff : (uint8_t)(0xff >> (plen - bit));
		if (ip->addr[i] & mask)
			return false;
	}
	return true;
}

/*
 * "a.b.c.d/n", "v6/n", or a bare address (a host route).  Host bits set
 * are an error, not silently cleared: in a firewall config "10.0.0.1/8"
 * is either a typo for /32 or for 10.0.0.0/8, and guessing either way
 * opens or closes the wrong thing.
 */
bool
eg_cidr_parse(const char *s, struct eg_cidr *out, char *err)
{
	char buf[INET6_ADDRSTRLEN + SCOPE_NAME_MAX + 8], *slash, *end;
	struct eg_cidr c;
	unsigned long plen;
	size_t n;

	if (s == NULL || (n = strlen(s)) == 0) {
		eg_seterr(err, "empty CIDR");
		return false;
	}
	if (n >= sizeof(buf)) {
		eg_seterrq(err, s, "too long for a CIDR");
		return false;
	}
	memcpy(buf, s, n + 1);
	memset(&c, 0, sizeof(c));
	if ((slash = strchr(buf, '/')) != NULL)
		*slash = '\0';
	if (strchr(buf, '%') != NULL) {
		eg_seterrq(err, s, "a CIDR cannot carry a scope");
		return false;
	}
	if (!ip_parse_config(buf, &c.ip, err))
		return false;
	c.plen = (uint8_t)plen_max(&c.ip);
	if (slash != NULL) {
		const char *p = slash + 1;

		if (!isdigit((unsigned char)p[0]) || strlen(p) > 3 ||
		    (p[0] == '0' && p[1] != '\0')) {
			eg_seterrq(err, s, "prefix length must be a number");
			return false;
		}
		plen = strtoul(p, &end, 10);
		if (*end != '\0' || plen > plen_max(&c.ip)) {
			eg_seterrq(err, s, "prefix length must be 0-%u",
			    plen_max(&c.ip));
			return false;
		}
		c.plen = (uint8_t)plen;
	}
	if (!host_bits_clear(&c.ip, c.plen)) {
		char ab[80];
		struct eg_cidr net = c;
		size_t i;

		for (i = 0; i < ip_len(&net.ip); i++) {
			unsigned bit = (unsigned)i * 8;

			if (bit >= net.plen)
				net.ip.addr[i] = 0;
			else if (bit + 8 > net.plen)
				net.ip.addr[i] &= (uint8_t)(0xff <<
				    (8 - (net.plen - bit)));
		}
		eg_seterrq(err, s, "host bits set (network is %s)",
		    eg_cidr_str(&net, ab, sizeof(ab)));
		return false;
	}
	*out = c;
	return true;
}

bool
eg_cidr_contains(const struct eg_cidr *c, const struct eg_ip *ip)
{
	unsigned full, rest;

	if (c->ip.family != ip->family || c->plen > plen_max(ip))
		return false;
	full = c->plen / 8;
	rest = c->plen % 8;
	if (memcmp(c->ip.addr, ip->addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((c->ip.addr[full] ^ ip->addr[full]) &
	    (uint8_t)(0xff << (8 - rest))) == 0;
}

bool
eg_ip_equal(const struct eg_ip *a, const struct eg_ip *b)
{
	if (a->family != b->family || a->scope != b->scope)
		return false;
	return memcmp(a->addr, b->addr, ip_len(a)) == 0;
}

const char *
eg_ip_str(const struct eg_ip *ip, char *buf, size_t len)
{
	char tmp[INET6_ADDRSTRLEN];
	int n;

	if (len == 0)
		return buf;
	/* IPv4 by hand: inet_ntop formats it with sprintf, and connectd
	 * writes a client address for every connection. */
	if (ip->family == AF_INET && len >= INET_ADDRSTRLEN) {
		char *p = buf;
		int i;

		for (i = 0; i < 4; i++) {
			unsigned v = ip->addr[i];

			if (v >= 100)
				*p++ = (char)('0' + v / 100);
			if (v >= 10)
				*p++ = (char)('0' + v / 10 % 10);
			*p++ = (char)('0' + v % 10);
			*p++ = i < 3 ? '.' : '\0';
		}
		return buf;
	}
	if ((ip->family != AF_INET && ip->family != AF_INET6) ||
	    inet_ntop(ip->family, ip->addr, tmp, sizeof(tmp)) == NULL) {
		snprintf(buf, len, "?");
		return buf;
	}
	if (ip->family == AF_INET6 && ip->scope != 0)
		n = snprintf(buf, len, "%s%%%u", tmp, ip->scope);
	else
		n = snprintf(buf, len, "%s", tmp);
	(void)n;
	return buf;
}

const char *
eg_cidr_str(const struct eg_cidr *c, char *buf, size_t len)
{
	char ib[64];

	snprintf(buf, len, "%s/%u", eg_ip_str(&c->ip, ib, sizeof(ib)),
	    c->plen);
	return buf;
}

bool
eg_ip_from_sockaddr(const struct sockaddr *sa, struct eg_ip *out,
    uint16_t *port)
{
	struct eg_ip ip;

	memset(&ip, 0, sizeof(ip));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;

		ip.family = AF_INET;
		memcpy(ip.addr, &sin->sin_addr, 4);
		if (port != NULL)
			*port = ntohs(sin->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		ip.family = AF_INET6;
		memcpy(ip.addr, &sin6->sin6_addr, 16);
		ip.scope = sin6->sin6_scope_id;
		if (port != NULL)
			*port = ntohs(sin6->sin6_port);
	} else
		return false;
	*out = ip;
	return true;
}

socklen_t
eg_ip_to_sockaddr(const struct eg_ip *ip, uint16_t port,
    struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (ip->family == AF_INET) {
		struct sockaddr_in *sin = (void *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, ip->addr, 4);
		return sizeof(*sin);
	}
	if (ip->family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (void *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sin6->sin6_scope_id = ip->scope;
		memcpy(&sin6->sin6_addr, ip->addr, 16);
		return sizeof(*sin6);
	}
	return 0;
}

/* Decimal 1-65535, no sign, no leading zero, no whitespace. */
bool
eg_port_parse(const char *s, uint16_t *out)
{
	unsigned v = 0;
	size_t i;

	if (s == NULL || s[0] == '\0' || s[0] == '0')
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= 5 || !isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > 65535)
		return false;
	*out = (uint16_t)v;
	return true;
}

/*
 * Split "host:port" or "[v6...]:port".  host receives the text without
 * brackets; bracketed reports whether brackets were present.
 */
static bool
hostport_split(const char *s, char *host, size_t hostlen, uint16_t *port,
    bool *bracketed, char *err)
{
	const char *colon, *hend, *hstart = s;
	size_t n;

	*bracketed = false;
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL) {
			eg_seterrq(err, s, "missing ']'");
			return false;
		}
		if (rb[1] != ':') {
			eg_seterrq(err, s, "expected \":port\" after ']'");
			return false;
		}
		hstart = s + 1;
		hend = rb;
		colon = rb + 1;
		*bracketed = true;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL) {
			eg_seterrq(err, s, "missing \":port\"");
			return false;
		}
		hend = colon;
		if (memchr(s, ':', (size_t)(colon - s)) != NULL) {
			eg_seterrq(err, s, "IPv6 address needs brackets: "
			    "[addr]:port");
			return false;
		}
	}
	n = (size_t)(hend - hstart);
	if (n == 0) {
		eg_seterrq(err, s, "missing host");
		return false;
	}
	if (n >= hostlen) {
		eg_seterrq(err, s, "host too long");
		return false;
	}
	if (!eg_port_parse(colon + 1, port)) {
		eg_seterrq(err, s, "port must be 1-65535");
		return false;
	}
	memcpy(host, hstart, n);
	host[n] = '\0';
	return true;
}

bool
eg_sockaddr_parse(const char *s, struct sockaddr_storage *ss,
    socklen_t *len, char *err)
{
	char host[EG_NAME_MAX + 1];
	struct eg_ip ip;
	uint16_t port;
	bool br;

	if (s == NULL || !hostport_split(s, host, sizeof(host), &port, &br,
	    err))
		return false;
	if (br && strchr(host, ':') == NULL) {
		eg_seterrq(err, s, "brackets are for IPv6 addresses only");
		return false;
	}
	if (!ip_parse_config(host, &ip, err))
		return false;
	*len = eg_ip_to_sockaddr(&ip, port, ss);
	return true;
}

bool
eg_endpoint_parse(const char *s, struct eg_endpoint *out, char *err)
{
	char host[EG_NAME_MAX + 1], e[EG_ERR_MAX];
	struct eg_endpoint ep;
	bool br;

	if (s == NULL || s[0] == '\0') {
		eg_seterr(err, "empty endpoint");
		return false;
	}
	memset(&ep, 0, sizeof(ep));
	if (!hostport_split(s, host, sizeof(host), &ep.port, &br, err))
		return false;
	if (br && strchr(host, ':') == NULL) {
		eg_seterrq(err, s, "brackets are for IPv6 addresses only");
		return false;
	}
	if (strchr(host, '/') != NULL) {
		if (!eg_cidr_parse(host, &ep.cidr, err))
			return false;
		ep.is_cidr = true;
	} else if (strchr(host, ':') != NULL || eg_is_ip_literal(host)) {
		if (!ip_parse_config(host, &ep.cidr.ip, err))
			return false;
		ep.cidr.plen = (uint8_t)plen_max(&ep.cidr.ip);
	} else {
		if (!eg_name_normalise(host, ep.name, e)) {
			eg_seterr(err, "%s", e);
			return false;
		}
		ep.is_name = true;
	}
	*out = ep;
	return true;
}
