/*
 * dns.h - bounded DNS wire helpers for the hot path.
 *
 * Queries are parsed here by hand rather than through ldns: a query is a
 * header, one question and at most one OPT record, the client's question
 * bytes must be echoed exactly (0x20 case), and a cache hit must be answered
 * without allocating.  Upstream responses go through dns_walk() (bounds,
 * backward-only compression pointers, counts) before ldns sees them.
 */
#ifndef DOHD_DNS_H
#define DOHD_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define DNS_HDR_LEN	12
#define DNS_MAX_MSG	65535
#define DNS_UDP_MIN	512
#define DNS_UDP_MAX	1232	/* DNS flag day 2020: no fragmentation */
#define DNS_MAX_RRS	256	/* per message, every section together */
#define DNS_MAX_TTLS	128	/* RRs whose TTL a cached answer rewrites */
#define DNS_NAME_WIRE	255
#define DNS_PAD_BLOCK	128	/* RFC 8467 block-length padding of queries */

#define DNS_T_A		1
#define DNS_T_NS	2
#define DNS_T_CNAME	5
#define DNS_T_SOA	6
#define DNS_T_NULL	10
#define DNS_T_MX	15
#define DNS_T_TXT	16
#define DNS_T_AAAA	28
#define DNS_T_OPT	41
#define DNS_T_DNAME	39
#define DNS_T_RRSIG	46
#define DNS_T_SVCB	64
#define DNS_T_HTTPS	65
#define DNS_T_IXFR	251
#define DNS_T_AXFR	252
#define DNS_T_MAILB	253
#define DNS_T_MAILA	254
#define DNS_T_ANY	255
#define DNS_C_IN	1

#define DNS_R_NOERROR	0
#define DNS_R_FORMERR	1
#define DNS_R_SERVFAIL	2
#define DNS_R_NXDOMAIN	3
#define DNS_R_NOTIMP	4
#define DNS_R_REFUSED	5
#define DNS_R_BADVERS	16	/* extended: needs OPT */

#define DNS_OPT_PADDING	12

/* Header flag bits in host order of the 16-bit flags word. */
#define DNS_F_QR	0x8000
#define DNS_F_AA	0x0400
#define DNS_F_TC	0x0200
#define DNS_F_RD	0x0100
#define DNS_F_RA	0x0080
#define DNS_F_AD	0x0020
#define DNS_F_CD	0x0010
#define DNS_OPCODE(f)	(((f) >> 11) & 0xf)
#define DNS_RCODE(f)	((f) & 0xf)

enum dns_parse {
	DNS_PARSE_OK = 0,
	DNS_PARSE_DROP,		/* not worth an answer: too short, a response */
	DNS_PARSE_FORMERR,
	DNS_PARSE_NOTIMP,	/* opcode other than QUERY */
	DNS_PARSE_BADVERS,	/* EDNS version other than 0 */
};

struct dns_query {
	uint16_t id;
	uint16_t flags;
	uint8_t qname[DNS_NAME_WIRE];	/* as the client sent it */
	size_t qname_len;
	uint8_t lname[DNS_NAME_WIRE];	/* lower case: cache key, upstream */
	uint16_t qtype, qclass;
	char name[EG_NAME_MAX + 1];	/* text, lower case, no trailing dot */
	size_t name_len;
	unsigned labels;
	bool name_ok;			/* LDH and '_' only, fits the text form */
	bool edns;
	uint16_t udp_size;		/* client's advertised size, 0: none */
	bool do_bit;
	size_t qend;			/* offset after the question */
};

/* Parse a query; q is filled far enough for an error reply. */
enum dns_parse dns_query_parse(const uint8_t *p, size_t n,
    struct dns_query *q);

/* How many bytes a UDP answer to q may have. */
size_t dns_udp_limit(const struct dns_query *q);

/*
 * Answer q from body: a whole message (header, one question, answer and
 * authority records, no additional) whose RR TTLs sit at ttl_off.  The
 * client's id, question bytes, RD and CD are restored; TTLs are reduced by
 * age (not below ttl_floor when age exceeds them: serve-stale); an OPT is
 * added when the client sent one.  When the result would exceed limit, a
 * truncated answer (TC=1, no records) is written instead.  Returns the
 * length, or 0 when out is too small.
 */
size_t dns_answer(uint8_t *out, size_t cap, const struct dns_query *q,
    const uint8_t *body, size_t bodylen, const uint16_t *ttl_off,
    size_t nttl, uint32_t age, uint32_t ttl_floor, size_t limit);

/* An answer with no records and the given rcode (BADVERS needs EDNS). */
size_t dns_error(uint8_t *out, size_t cap, const struct dns_query *q,
    int rcode, bool aa);

/*
 * The query dohd sends upstream: id 0 (RFC 8484 4.1), RD, the lower-case
 * name, EDNS0 with a padding option to a multiple of DNS_PAD_BLOCK.
 */
size_t dns_doh_query(uint8_t *out, size_t cap, const uint8_t *qname,
    size_t qname_len, uint16_t qtype, uint16_t qclass);

/* Result of walking a whole message. */
struct dns_walk {
	uint16_t id, flags;
	uint16_t count[4];		/* qd, an, ns, ar */
	uint16_t ttl_off[DNS_MAX_TTLS];	/* an and ns records */
	size_t nttl;
	bool ttl_overflow;		/* more an/ns records than ttl_off holds */
	uint32_t min_ttl;		/* over an and ns, UINT32_MAX when none */
	size_t end_noar;		/* offset where the additional section starts */
};

/*
 * Walk every name and record of a message: compression pointers must point
 * strictly backwards (no loops), names fit 255 bytes, record counts are
 * bounded by DNS_MAX_RRS and the bytes present, nothing trails.  Returns 0
 * or -1.
 */
int dns_walk(const uint8_t *p, size_t n, struct dns_walk *w);

/*
 * Read a (possibly compressed) name at *off into wire form without
 * compression (out holds DNS_NAME_WIRE); advances *off past it.
 * Returns the wire length or -1.
 */
int dns_name_read(const uint8_t *p, size_t n, size_t *off, uint8_t *out);

/* Wire name to lower-case text without the trailing dot ("" for root);
 * false when a label holds anything but LDH and '_'. */
bool dns_name_text(const uint8_t *wire, size_t len, char *out, size_t cap,
    unsigned *labels);
/* Text name to wire; false when it does not fit. */
bool dns_name_wire(const char *text, uint8_t *out, size_t *len);

/*
 * The A/AAAA records of a message's answer section (any owner), up to max;
 * *maxttl is the largest TTL of any answer record.  Returns the count or
 * -1 when the message does not walk.
 */
int dns_answer_addrs(const uint8_t *p, size_t n, struct eg_ip *out,
    size_t max, uint32_t *maxttl);

const char *dns_type_str(uint16_t t, char *buf, size_t len);
const char *dns_rcode_str(int rcode);

static inline uint16_t
dns_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
dns_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static inline void
dns_put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static inline void
dns_put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = (v >> 16) & 0xff;
	p[2] = (v >> 8) & 0xff;
	p[3] = v & 0xff;
}

#endif
