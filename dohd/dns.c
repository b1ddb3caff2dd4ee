/*
 * dns.c - bounded DNS wire helpers: query parsing, answers from a stored
 * body, error answers, the padded upstream query, a validating walker.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <string.h>

#include "dns.h"

#define DNS_MAX_HOPS	128	/* compression pointers followed per name */

/* ASCII only, whatever the locale: DNS case-folds A-Z and nothing else
 * (RFC 4343), and these run for every byte of every query. */
static inline uint8_t
lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c | 0x20) : c;
}

static inline bool
ldh_(uint8_t c)
{
	c = lower(c);
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
	    c == '_';
}

int
dns_name_read(const uint8_t *p, size_t n, size_t *off, uint8_t *out)
{
	size_t pos = *off, end = 0, len = 0, lim = *off;
	int hops = 0;
	bool jumped = false;

	for (;;) {
		uint8_t l;

		if (pos >= n)
			return -1;
		l = p[pos];
		if ((l & 0xc0) == 0xc0) {
			size_t to;

			if (pos + 1 >= n)
				return -1;
			to = (size_t)(l & 0x3f) << 8 | p[pos + 1];
			/* Only strictly backwards, before where this name
			 * (or the last jump) started: no loop is possible. */
			if (to >= lim || ++hops > DNS_MAX_HOPS)
				return -1;
			if (!jumped)
				end = pos + 2;
			jumped = true;
			lim = to;
			pos = to;
			continue;
		}
		if (l & 0xc0)
			return -1;	/* 0x40, 0x80: obsolete label types */
		if (len + 1 + l > DNS_NAME_WIRE)
			return -1;
		if (pos + 1 + l > n)
			return -1;
		memcpy(out + len, p + pos, 1 + (size_t)l);
		len += 1 + (size_t)l;
		pos += 1 + (size_t)l;
		if (l == 0)
			break;
	}
	*off = jumped ? end : pos;
	return (int)len;
}

bool
dns_name_text(const uint8_t *wire, size_t len, char *out, size_t cap,
    unsigned *labels)
{
	size_t i = 0, o = 0;
	unsigned nl = 0;
	bool ok = true;

	if (cap == 0)
		return false;
	while (i < len && wire[i] != 0) {
		size_t l = wire[i++];

		if (i + l > len)
			return false;
		if (nl > 0) {
			if (o + 1 >= cap)
				return false;
			out[o++] = '.';
		}
		for (size_t k = 0; k < l; k++) {
			unsigned char c = wire[i + k];

			if (!ldh_(c))
				ok = false;
			if (o + 1 >= cap)
				return false;
			/* Never copy bytes that could upset a log or a
			 * comparison; the name is already marked bad. */
			out[o++] = ok ? (char)lower(c) : '?';
		}
		i += l;
		nl++;
	}
	out[o] = '\0';
	if (labels != NULL)
		*labels = nl;
	return ok;
}

bool
dns_name_wire(const char *text, uint8_t *out, size_t *len)
{
	size_t o = 0;
	const char *s = text, *dot;

	while (*s != '\0') {
		size_t l;

		dot = strchr(s, '.');
		l = dot != NULL ? (size_t)(dot - s) : strlen(s);
		if (l == 0 || l > EG_LABEL_MAX || o + 1 + l + 1 > DNS_NAME_WIRE)
			return false;
		out[o++] = (uint8_t)l;
		memcpy(out + o, s, l);
		o += l;
		s += l;
		if (*s == '.')
			s++;
	}
	out[o++] = 0;
	*len = o;
	return true;
}

static int
parse_opt(const uint8_t *p, size_t n, size_t *off, struct dns_query *q)
{
	size_t pos = *off;
	uint16_t type, rdlen;
	uint32_t ttl;

	/* The OPT owner is the root: one zero byte. */
	if (pos + 11 > n || p[pos] != 0)
		return -1;
	type = dns_get16(p + pos + 1);
	if (type != DNS_T_OPT)
		return -1;
	q->udp_size = dns_get16(p + pos + 3);
	ttl = dns_get32(p + pos + 5);
	rdlen = dns_get16(p + pos + 9);
	pos += 11;
	if (pos + rdlen > n)
		return -1;
	for (size_t o = pos; o < pos + rdlen;) {
		uint16_t olen;

		if (o + 4 > pos + rdlen)
			return -1;
		olen = dns_get16(p + o + 2);
		if (o + 4 + olen > pos + rdlen)
			return -1;
		o += 4 + (size_t)olen;
	}
	q->edns = true;
	q->do_bit = (ttl & 0x8000) != 0;
	*off = pos + rdlen;
	return (ttl >> 16 & 0xff) != 0 ? 1 : 0;	/* version */
}

enum dns_parse
dns_query_parse(const uint8_t *p, size_t n, struct dns_query *q)
{
	uint16_t qd, an, ns, ar;
	size_t off = DNS_HDR_LEN, l;
	int r;

	memset(q, 0, sizeof(*q));

	if (n < DNS_HDR_LEN || n > DNS_MAX_MSG)
		return DNS_PARSE_DROP;
	q->id = dns_get16(p);
	q->flags = dns_get16(p + 2);
	if (q->flags & DNS_F_QR)
		return DNS_PARSE_DROP;	/* never answer an answer */
	qd = dns_get16(p + 4);
	an = dns_get16(p + 6);
	ns = dns_get16(p + 8);
	ar = dns_get16(p + 10);
	if (qd != 1)
		return DNS_OPCODE(q->flags) != 0 ? DNS_PARSE_NOTIMP :
		    DNS_PARSE_FORMERR;

	/* The question name: plain labels, no compression in a query. */
	for (l = 0;;) {
		uint8_t ll;

		if (off >= n)
			return DNS_PARSE_FORMERR;
		ll = p[off];
		if (ll & 0xc0)
			return DNS_PARSE_FORMERR;
		if (l + 1 + ll > DNS_NAME_WIRE || off + 1 + ll > n)
			return DNS_PARSE_FORMERR;
		off += 1 + (size_t)ll;
		l += 1 + (size_t)ll;
		if (ll == 0)
			break;
	}
	if (off + 4 > n)
		return DNS_PARSE_FORMERR;
	memcpy(q->qname, p + DNS_HDR_LEN, l);
	q->qname_len = l;
	for (size_t i = 0; i < l; i++)
		q->lname[i] = lower(q->qname[i]);
	q->qtype = dns_get16(p + off);
	q->qclass = dns_get16(p + off + 2);
	off += 4;
	q->qend = off;

	if (DNS_OPCODE(q->flags) != 0)
		return DNS_PARSE_NOTIMP;
	if (an != 0 || ns != 0 || ar > 1)
		return DNS_PARSE_FORMERR;
	if (ar == 1) {
		r = parse_opt(p, n, &off, q);
		if (r < 0) {
			q->edns = false;
			return DNS_PARSE_FORMERR;
		}
		if (r > 0)
			return DNS_PARSE_BADVERS;
	}
	if (off != n)
		return DNS_PARSE_FORMERR;

	q->name_ok = dns_name_text(q->qname, q->qname_len, q->name,
	    sizeof(q->name), &q->labels);
	q->name_len = strlen(q->name);
	return DNS_PARSE_OK;
}

size_t
dns_udp_limit(const struct dns_query *q)
{
	if (!q->edns || q->udp_size < DNS_UDP_MIN)
		return DNS_UDP_MIN;
	return q->udp_size > DNS_UDP_MAX ? DNS_UDP_MAX : q->udp_size;
}

/* Header and question of an answer to q; returns the offset after them. */
static size_t
put_head(uint8_t *out, const struct dns_query *q, uint16_t flags,
    uint16_t an, uint16_t ns)
{
	size_t off = DNS_HDR_LEN;

	dns_put16(out, q->id);
	dns_put16(out + 2, flags);
	dns_put16(out + 4, q->qname_len > 0 ? 1 : 0);
	dns_put16(out + 6, an);
	dns_put16(out + 8, ns);
	dns_put16(out + 10, q->edns ? 1 : 0);
	if (q->qname_len > 0) {
		memcpy(out + off, q->qname, q->qname_len);
		off += q->qname_len;
		dns_put16(out + off, q->qtype);
		dns_put16(out + off + 2, q->qclass);
		off += 4;
	}
	return off;
}

static size_t
put_opt(uint8_t *out, int rcode)
{
	out[0] = 0;
	dns_put16(out + 1, DNS_T_OPT);
	dns_put16(out + 3, DNS_UDP_MAX);
	dns_put32(out + 5, (uint32_t)((rcode >> 4) & 0xff) << 24);
	dns_put16(out + 9, 0);
	return 11;
}

static uint16_t
answer_flags(const struct dns_query *q, int rcode, bool aa)
{
	return DNS_F_QR | (q->flags & (DNS_F_RD | DNS_F_CD)) | DNS_F_RA |
	    (aa ? DNS_F_AA : 0) | (uint16_t)(DNS_OPCODE(q->flags) << 11) |
	    (uint16_t)(rcode & 0xf);
}

size_t
dns_error(uint8_t *out, size_t cap, const struct dns_query *q, int rcode,
    bool aa)
{
	size_t off, need;

	need = DNS_HDR_LEN + (q->qname_len > 0 ? q->qname_len + 4 : 0) +
	    (q->edns ? 11 : 0);
	if (cap < need)
		return 0;
	off = put_head(out, q, answer_flags(q, rcode, aa), 0, 0);
	if (q->edns)
		off += put_opt(out + off, rcode);
	return off;
}

size_t
dns_answer(uint8_t *out, size_t cap, const struct dns_query *q,
    const uint8_t *body, size_t bodylen, const uint16_t *ttl_off,
    size_t nttl, uint32_t age, uint32_t ttl_floor, size_t limit)
{
	size_t bq, off, total, rest;
	uint16_t bflags;

	/* The stored body carries the same name, maybe in another case, so
	 * its records (and pointers into the question) line up with ours. */
	bq = DNS_HDR_LEN + q->qname_len + 4;
	if (bodylen < bq || q->qname_len == 0 || dns_get16(body + 4) != 1)
		return 0;
	for (size_t i = 0; i < q->qname_len; i++)
		if (lower(body[DNS_HDR_LEN + i]) != q->lname[i])
			return 0;
	rest = bodylen - bq;
	total = bq + rest + (q->edns ? 11 : 0);
	bflags = dns_get16(body + 2);
	if (total > limit || total > cap) {
		size_t r;

		r = dns_error(out, cap, q, DNS_RCODE(bflags),
		    (bflags & DNS_F_AA) != 0);
		if (r > 0)
			out[2] |= DNS_F_TC >> 8;
		return r;
	}
	off = put_head(out, q, answer_flags(q, DNS_RCODE(bflags),
	    (bflags & DNS_F_AA) != 0), dns_get16(body + 6), dns_get16(body + 8));
	memcpy(out + off, body + bq, rest);
	for (size_t i = 0; i < nttl; i++) {
		uint32_t t;

		if (ttl_off[i] < bq || (size_t)ttl_off[i] + 4 > bodylen)
			return 0;
		t = dns_get32(out + ttl_off[i]);
		t = t > age ? t - age : ttl_floor;
		dns_put32(out + ttl_off[i], t);
	}
	off += rest;
	if (q->edns)
		off += put_opt(out + off, DNS_RCODE(bflags));
	return off;
}

size_t
dns_doh_query(uint8_t *out, size_t cap, const uint8_t *qname,
    size_t qname_len, uint16_t qtype, uint16_t qclass)
{
	size_t len, pad;

	/* header, question, OPT (11) with one padding option (4 + pad) */
	len = DNS_HDR_LEN + qname_len + 4 + 11 + 4;
	pad = (DNS_PAD_BLOCK - len % DNS_PAD_BLOCK) % DNS_PAD_BLOCK;
	if (qname_len == 0 || qname_len > DNS_NAME_WIRE || cap < len + pad)
		return 0;
	memset(out, 0, len + pad);
	dns_put16(out + 2, DNS_F_RD);
	dns_put16(out + 4, 1);
	dns_put16(out + 10, 1);
	memcpy(out + DNS_HDR_LEN, qname, qname_len);
	len = DNS_HDR_LEN + qname_len;
	dns_put16(out + len, qtype);
	dns_put16(out + len + 2, qclass);
	len += 4;
	out[len] = 0;
	dns_put16(out + len + 1, DNS_T_OPT);
	dns_put16(out + len + 3, DNS_UDP_MAX);
	dns_put32(out + len + 5, 0);
	dns_put16(out + len + 9, (uint16_t)(4 + pad));
	len += 11;
	dns_put16(out + len, DNS_OPT_PADDING);
	dns_put16(out + len + 2, (uint16_t)pad);
	len += 4 + pad;	/* padding bytes are zero (RFC 7830) */
	return len;
}

/* Names inside rdata that ldns will decompress: check them here first. */
static int
check_rdata_names(const uint8_t *p, size_t rd, size_t rdlen,
    uint16_t type)
{
	uint8_t tmp[DNS_NAME_WIRE];
	size_t off = rd, end = rd + rdlen;
	int names = 0;

	switch (type) {
	case DNS_T_CNAME:
	case DNS_T_NS:
	case DNS_T_DNAME:
	case 12:	/* PTR */
		names = 1;
		break;
	case DNS_T_SOA:
		names = 2;
		break;
	case 15:	/* MX */
		off += 2;
		names = 1;
		break;
	case 33:	/* SRV */
		off += 6;
		names = 1;
		break;
	default:
		return 0;
	}
	while (names-- > 0) {
		if (off >= end || dns_name_read(p, end, &off, tmp) < 0)
			return -1;
	}
	if (type == DNS_T_SOA)
		off += 20;
	return off <= end ? 0 : -1;
}

/* Step over a question at *off: its name, type and class. */
static int
skip_question(const uint8_t *p, size_t n, size_t *off)
{
	uint8_t tmp[DNS_NAME_WIRE];

	if (dns_name_read(p, n, off, tmp) < 0 || *off + 4 > n)
		return -1;
	*off += 4;
	return 0;
}

/* The fixed part of a record. */
struct rr_head {
	uint16_t type;
	uint32_t ttl;
	uint16_t rdlen;
};

/* Step over a record's owner name at *off and read the fixed part that
 * follows; *off is left at that part (type). */
static int
read_rr_head(const uint8_t *p, size_t n, size_t *off, struct rr_head *h)
{
	uint8_t tmp[DNS_NAME_WIRE];

	if (dns_name_read(p, n, off, tmp) < 0 || *off + 10 > n)
		return -1;
	h->type = dns_get16(p + *off);
	h->ttl = dns_get32(p + *off + 4);
	h->rdlen = dns_get16(p + *off + 8);
	return 0;
}

int
dns_walk(const uint8_t *p, size_t n, struct dns_walk *w)
{
	size_t off = DNS_HDR_LEN;
	unsigned total = 0;

	memset(w, 0, sizeof(*w));
	w->min_ttl = UINT32_MAX;
	if (n < DNS_HDR_LEN || n > DNS_MAX_MSG)
		return -1;
	w->id = dns_get16(p);
	w->flags = dns_get16(p + 2);
	for (int s = 0; s < 4; s++) {
		w->count[s] = dns_get16(p + 4 + 2 * s);
		total += w->count[s];
	}
	/* A question needs 5 bytes and a record 11: the count cannot
	 * promise more than the bytes hold. */
	if (total > DNS_MAX_RRS || (size_t)total * 5 > n)
		return -1;
	for (unsigned i = 0; i < w->count[0]; i++)
		if (skip_question(p, n, &off) < 0)
			return -1;
	for (int s = 1; s < 4; s++) {
		if (s == 3)
			w->end_noar = off;
		for (unsigned i = 0; i < w->count[s]; i++) {
			struct rr_head h;

			if (read_rr_head(p, n, &off, &h) < 0 ||
			    off + 10 + h.rdlen > n)
				return -1;
			if (check_rdata_names(p, off + 10, h.rdlen, h.type) < 0)
				return -1;
			if (s < 3) {
				if (w->nttl < DNS_MAX_TTLS)
					w->ttl_off[w->nttl++] =
					    (uint16_t)(off + 4);
				else
					w->ttl_overflow = true;
				if (h.ttl < w->min_ttl)
					w->min_ttl = h.ttl;
			}
			off += 10 + (size_t)h.rdlen;
		}
	}
	return off == n ? 0 : -1;
}

int
dns_answer_addrs(const uint8_t *p, size_t n, struct eg_ip *out, size_t max,
    uint32_t *maxttl)
{
	struct dns_walk w;
	size_t off = DNS_HDR_LEN;
	int cnt = 0;

	*maxttl = 0;
	if (dns_walk(p, n, &w) < 0)
		return -1;
	for (unsigned i = 0; i < w.count[0]; i++)
		if (skip_question(p, n, &off) < 0)
			return -1;
	for (unsigned i = 0; i < w.count[1]; i++) {
		struct rr_head h;

		if (read_rr_head(p, n, &off, &h) < 0)
			return -1;
		off += 10;
		if (h.ttl > *maxttl)
			*maxttl = h.ttl;
		if (((h.type == DNS_T_A && h.rdlen == 4) ||
		    (h.type == DNS_T_AAAA && h.rdlen == 16)) &&
		    (size_t)cnt < max) {
			memset(&out[cnt], 0, sizeof(out[cnt]));
			out[cnt].family = h.type == DNS_T_A ? AF_INET :
			    AF_INET6;
			memcpy(out[cnt].addr, p + off, h.rdlen);
			cnt++;
		}
		off += h.rdlen;
	}
	return cnt;
}

const char *
dns_type_str(uint16_t t, char *buf, size_t len)
{
	static const struct {
		uint16_t t;
		const char *s;
	} names[] = {
		{ DNS_T_A, "A" }, { DNS_T_NS, "NS" }, { DNS_T_CNAME, "CNAME" },
		{ DNS_T_SOA, "SOA" }, { DNS_T_NULL, "NULL" }, { 12, "PTR" },
		{ 15, "MX" }, { DNS_T_TXT, "TXT" }, { DNS_T_AAAA, "AAAA" },
		{ 33, "SRV" }, { 35, "NAPTR" }, { DNS_T_DNAME, "DNAME" },
		{ DNS_T_OPT, "OPT" }, { DNS_T_RRSIG, "RRSIG" },
		{ DNS_T_SVCB, "SVCB" }, { DNS_T_HTTPS, "HTTPS" },
		{ 99, "SPF" }, { DNS_T_IXFR, "IXFR" }, { DNS_T_AXFR, "AXFR" },
		{ DNS_T_MAILB, "MAILB" }, { DNS_T_MAILA, "MAILA" },
		{ DNS_T_ANY, "ANY" }, { 257, "CAA" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].t == t)
			return names[i].s;
	snprintf(buf, len, "TYPE%u", t);
	return buf;
}

const char *
dns_rcode_str(int rcode)
{
	switch (rcode) {
	case DNS_R_NOERROR:	return "NOERROR";
	case DNS_R_FORMERR:	return "FORMERR";
	case DNS_R_SERVFAIL:	return "SERVFAIL";
	case DNS_R_NXDOMAIN:	return "NXDOMAIN";
	case DNS_R_NOTIMP:	return "NOTIMP";
	case DNS_R_REFUSED:	return "REFUSED";
	case DNS_R_BADVERS:	return "BADVERS";
	default:		return "RCODE?";
	}
}
