/*
 * sni.c - ClientHello reassembly and server_name extraction.
 *
 * Records (RFC 8446 5.1): type 22, legacy version 3.x, length 1..2^14.
 * Handshake records must not interleave with other types, so anything but
 * type 22 before the hello is complete is an error.  The hello is copied
 * into a bounded buffer as records arrive; only a complete hello is
 * parsed, and every length inside it must add up exactly.
 */
#include <stdlib.h>
#include <string.h>

#include "sni.h"

#define REC_HANDSHAKE		22
#define HS_CLIENT_HELLO		1
#define EXT_SERVER_NAME		0x0000
#define EXT_SUPPORTED_VERSIONS	0x002b
#define EXT_ECH			0xfe0d
#define MAX_RECORD		16384

struct rd {
	const uint8_t *p;
	size_t n;
	bool bad;
};

static uint32_t
get(struct rd *r, size_t k)
{
	uint32_t v = 0;
	size_t i;

	if (r->bad || r->n < k) {
		r->bad = true;
		return 0;
	}
	for (i = 0; i < k; i++)
		v = v << 8 | r->p[i];
	r->p += k;
	r->n -= k;
	return v;
}

/* Take a length-prefixed vector of lenbytes; sub is the body. */
static bool
vec(struct rd *r, size_t lenbytes, struct rd *sub)
{
	uint32_t l = get(r, lenbytes);

	if (r->bad || r->n < l) {
		r->bad = true;
		return false;
	}
	sub->p = r->p;
	sub->n = l;
	sub->bad = false;
	r->p += l;
	r->n -= l;
	return true;
}

static enum sni_status
err(struct sni_info *info, const char *why)
{
	info->why = why;
	return SNI_ERROR;
}

static enum sni_status
parse_server_name(struct rd *ext, struct sni_info *info, bool *found)
{
	struct rd list, name;
	uint32_t type;
	size_t i;

	if (!vec(ext, 2, &list) || ext->n != 0 || list.n == 0)
		return err(info, "malformed server_name");
	while (list.n > 0) {
		type = get(&list, 1);
		if (!vec(&list, 2, &name))
			return err(info, "malformed server_name entry");
		if (type != 0)
			continue;	/* other name types are ignored */
		if (*found)
			return err(info, "two host_name entries");
		if (name.n == 0 || name.n > EG_NAME_MAX + 1)
			return err(info, "bad host_name length");
		/* One trailing dot is tolerated and removed; the policy
		 * engine normalises further. */
		if (name.p[name.n - 1] == '.')
			name.n--;
		if (name.n == 0 || name.n > EG_NAME_MAX)
			return err(info, "bad host_name length");
		for (i = 0; i < name.n; i++) {
			uint8_t c = name.p[i];

			if (c >= 'A' && c <= 'Z')
				c = (uint8_t)(c - 'A' + 'a');
			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			    c == '-' || c == '.' || c == '_'))
				return err(info, "bad byte in host_name");
			info->host[i] = (char)c;
		}
		info->host[name.n] = '\0';
		*found = true;
	}
	return SNI_FOUND;
}

static enum sni_status
parse_hello(const uint8_t *h, size_t n, struct sni_info *info)
{
	struct rd r = { h, n, false }, sid, cs, comp, exts, body, sv;
	uint16_t seen[64];
	size_t nseen = 0, i;
	uint32_t type;
	bool found = false;
	enum sni_status st;

	info->legacy_version = (uint16_t)get(&r, 2);
	get(&r, 32);	/* random */
	if (!vec(&r, 1, &sid) || sid.n > 32)
		return err(info, "bad session id");
	if (!vec(&r, 2, &cs) || cs.n < 2 || cs.n % 2)
		return err(info, "bad cipher suites");
	if (!vec(&r, 1, &comp) || comp.n < 1)
		return err(info, "bad compression methods");
	if (r.bad)
		return err(info, "truncated hello");
	if ((info->legacy_version >> 8) != 3)
		return err(info, "not a TLS version");
	if (r.n == 0)
		return SNI_NONE;	/* no extensions at all (SSL 3 style) */
	if (!vec(&r, 2, &exts) || r.n != 0)
		return err(info, "bad extensions length");
	while (exts.n > 0) {
		type = get(&exts, 2);
		if (!vec(&exts, 2, &body))
			return err(info, "truncated extension");
		/* RFC 8446 4.2: at most one extension of each type. */
		for (i = 0; i < nseen; i++)
			if (seen[i] == type)
				return err(info, "duplicate extension");
		if (nseen == sizeof(seen) / sizeof(seen[0]))
			return err(info, "too many extensions");
		seen[nseen++] = (uint16_t)type;
		switch (type) {
		case EXT_SERVER_NAME:
			st = parse_server_name(&body, info, &found);
			if (st == SNI_ERROR)
				return st;
			break;
		case EXT_SUPPORTED_VERSIONS:
			if (!vec(&body, 1, &sv) || body.n != 0 || sv.n % 2)
				return err(info, "bad supported_versions");
			while (sv.n > 0)
				if (get(&sv, 2) == 0x0304)
					info->tls13 = true;
			break;
		case EXT_ECH:
			info->ech = true;
			break;
		default:
			break;	/* GREASE and the rest: skipped */
		}
	}
	return found ? SNI_FOUND : SNI_NONE;
}

enum sni_status
sni_parse(const uint8_t *buf, size_t len, size_t max, struct sni_info *info)
{
	uint8_t *hs = NULL;
	size_t hlen = 0, off = 0, need = 0, rl, cap;
	enum sni_status st;

	memset(info, 0, sizeof(*info));
	if (max > SNI_MAX_HELLO + SNI_MAX_HELLO / 16)
		max = SNI_MAX_HELLO + SNI_MAX_HELLO / 16;
	if (len > max)
		len = max;
	if (len == 0)
		return SNI_NEED_MORE;
	if (buf[0] != REC_HANDSHAKE)
		return SNI_NOT_TLS;
	cap = max < SNI_MAX_HELLO ? max : SNI_MAX_HELLO;
	if ((hs = malloc(cap)) == NULL)
		return err(info, "out of memory");
	for (;;) {
		if (len - off < 5)
			goto short_;
		if (buf[off] != REC_HANDSHAKE) {
			st = err(info, "non-handshake record inside hello");
			goto out;
		}
		if (buf[off + 1] != 3 || buf[off + 2] > 4) {
			st = err(info, "bad record version");
			goto out;
		}
		rl = (size_t)buf[off + 3] << 8 | buf[off + 4];
		if (rl == 0 || rl > MAX_RECORD) {
			st = err(info, "bad record length");
			goto out;
		}
		if (len - off - 5 < rl) {
			/* A partial record: its bytes are usable already, but
			 * only a full hello is parsed, so just wait. */
			goto short_;
		}
		if (rl > cap - hlen) {
			st = err(info, "hello too large");
			goto out;
		}
		memcpy(hs + hlen, buf + off + 5, rl);
		hlen += rl;
		off += 5 + rl;
		if (need == 0 && hlen >= 4) {
			if (hs[0] != HS_CLIENT_HELLO) {
				st = err(info, "first handshake is not a hello");
				goto out;
			}
			need = 4 + ((size_t)hs[1] << 16 | (size_t)hs[2] << 8 |
			    hs[3]);
			if (need > cap) {
				st = err(info, "hello too large");
				goto out;
			}
			if (need < 4 + 38) {
				st = err(info, "hello too short");
				goto out;
			}
		}
		if (need != 0 && hlen >= need) {
			/* A record that carries more than the hello means a
			 * second handshake message before our answer. */
			if (hlen > need) {
				st = err(info, "data after the hello");
				goto out;
			}
			info->hello_len = need - 4;
			st = parse_hello(hs + 4, need - 4, info);
			goto out;
		}
	}
short_:
	st = len >= max ? err(info, "hello larger than the limit") :
	    SNI_NEED_MORE;
out:
	free(hs);
	if (st != SNI_FOUND)
		info->host[0] = '\0';
	return st;
}

const char *
sni_status_str(enum sni_status s)
{
	switch (s) {
	case SNI_NEED_MORE: return "need-more";
	case SNI_FOUND: return "found";
	case SNI_NONE: return "no-sni";
	case SNI_NOT_TLS: return "not-tls";
	case SNI_ERROR: return "error";
	}
	return "?";
}
