/* test_dns.c - query parsing, answers, padding, the walker. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "dns.h"

#include "test_list.h"

/* A query for name/type, with an OPT of udp bytes when udp > 0. */
static size_t
mkq(uint8_t *b, const char *name, uint16_t type, uint16_t udp)
{
	size_t l, off;

	memset(b, 0, 12);
	dns_put16(b, 0x1234);
	dns_put16(b + 2, DNS_F_RD);
	dns_put16(b + 4, 1);
	dns_put16(b + 10, udp > 0);
	assert_true(dns_name_wire(name, b + 12, &l));
	off = 12 + l;
	dns_put16(b + off, type);
	dns_put16(b + off + 2, DNS_C_IN);
	off += 4;
	if (udp > 0) {
		b[off] = 0;
		dns_put16(b + off + 1, DNS_T_OPT);
		dns_put16(b + off + 3, udp);
		dns_put32(b + off + 5, 0);
		dns_put16(b + off + 9, 0);
		off += 11;
	}
	return off;
}

static void
test_dns_parse_ok(void **st)
{
	uint8_t b[512];
	struct dns_query q;
	size_t n = mkq(b, "WWW.Example.COM", DNS_T_A, 4096);

	assert_int_equal(dns_query_parse(b, n, &q), DNS_PARSE_OK);
	assert_int_equal(q.id, 0x1234);
	assert_string_equal(q.name, "www.example.com");
	assert_int_equal(q.labels, 3);
	assert_true(q.name_ok);
	assert_true(q.edns);
	assert_int_equal(dns_udp_limit(&q), DNS_UDP_MAX);
	/* The client's case is kept for the echo, the key is lower. */
	assert_memory_equal(q.qname + 1, "WWW", 3);
	assert_memory_equal(q.lname + 1, "www", 3);
}

static void
test_dns_parse_bad(void **st)
{
	uint8_t b[512] = { 0 };
	struct dns_query q;
	size_t n;

	assert_int_equal(dns_query_parse(b, 5, &q), DNS_PARSE_DROP);
	n = mkq(b, "a.example", DNS_T_A, 0);
	b[2] |= 0x80;	/* a response */
	assert_int_equal(dns_query_parse(b, n, &q), DNS_PARSE_DROP);
	n = mkq(b, "a.example", DNS_T_A, 0);
	dns_put16(b + 4, 2);
	assert_int_equal(dns_query_parse(b, n, &q), DNS_PARSE_FORMERR);
	n = mkq(b, "a.example", DNS_T_A, 0);
	dns_put16(b + 4, 0);
	assert_int_equal(dns_query_parse(b, n, &q), DNS_PARSE_FORMERR);
	n = mkq(b, "a.example", DNS_T_A, 0);
	assert_int_equal(dns_query_parse(b, n - 1, &q), DNS_PARSE_FORMERR);
	b[n] = 0;	/* trailing byte */
	assert_int_equal(dns_query_parse(b, n + 1, &q), DNS_PARSE_FORMERR);
	n = mkq(b, "a.example", DNS_T_A, 0);
	b[12] = 0xc0;	/* compression in a query */
	b[13] = 0x00;
	assert_int_equal(dns_query_parse(b, n, &q), DNS_PARSE_FORMERR);
	n = mkq(b, "a.example", DNS_T_A, 0);
	dns_put16(b + 6, 1);	/* an answer in a query */
	assert_int_equal(dns_query_parse(b, n, &q), DNS_PARSE_FORMERR);
	n = mkq(b, "a.example", DNS_T_A, 0);
	b[2] |= 0x28;	/* opcode 5 (UPDATE) */
	assert_int_equal(dns_query_parse(b, n, &q), DNS_PARSE_NOTIMP);
	n = mkq(b, "a.example", DNS_T_A, 1232);
	b[n - 11 + 6] = 1;	/* EDNS version 1 */
	assert_int_equal(dns_query_parse(b, n, &q), DNS_PARSE_BADVERS);
	n = mkq(b, "a.example", DNS_T_A, 1232);
	dns_put16(b + n - 2, 8);	/* OPT rdlen past the end */
	assert_int_equal(dns_query_parse(b, n, &q), DNS_PARSE_FORMERR);
}

static void
test_dns_parse_badname(void **st)
{
	uint8_t b[512];
	struct dns_query q;
	size_t n = mkq(b, "ab.example", DNS_T_A, 0);

	b[13] = '.';	/* a dot inside a label */
	assert_int_equal(dns_query_parse(b, n, &q), DNS_PARSE_OK);
	assert_false(q.name_ok);
	b[13] = 0;
	assert_int_equal(dns_query_parse(b, n, &q), DNS_PARSE_OK);
	assert_false(q.name_ok);
}

static void
test_dns_parse_long(void **st)
{
	uint8_t b[600];
	struct dns_query q;
	size_t off = 12;

	/* 5 labels of 63: 320 bytes, over the 255 limit */
	memset(b, 0, sizeof(b));
	dns_put16(b + 4, 1);
	for (int i = 0; i < 5; i++) {
		b[off++] = 63;
		memset(b + off, 'a', 63);
		off += 63;
	}
	b[off++] = 0;
	off += 4;
	assert_int_equal(dns_query_parse(b, off, &q), DNS_PARSE_FORMERR);
}

static void
test_dns_error(void **st)
{
	uint8_t b[512], o[512];
	struct dns_query q;
	size_t n = mkq(b, "a.example", DNS_T_TXT, 1232), r;

	assert_int_equal(dns_query_parse(b, n, &q), DNS_PARSE_OK);
	r = dns_error(o, sizeof(o), &q, DNS_R_REFUSED, false);
	assert_int_equal(r, n);
	assert_int_equal(dns_get16(o), 0x1234);
	assert_int_equal(DNS_RCODE(dns_get16(o + 2)), DNS_R_REFUSED);
	assert_true(dns_get16(o + 2) & DNS_F_QR);
	assert_true(dns_get16(o + 2) & DNS_F_RD);
	assert_memory_equal(o + 12, b + 12, n - 12 - 11);
	assert_int_equal(dns_error(o, 10, &q, DNS_R_REFUSED, false), 0);
}

static void
test_dns_padding(void **st)
{
	uint8_t o[1024], name[DNS_NAME_WIRE];
	size_t nl, n;
	struct dns_walk w;
	const char *names[] = { "a.b", "www.example.com",
	    ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
	    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.example") };

	for (size_t i = 0; i < 3; i++) {
		assert_true(dns_name_wire(names[i], name, &nl));
		n = dns_doh_query(o, sizeof(o), name, nl, DNS_T_A, DNS_C_IN);
		assert_true(n > 0);
		assert_int_equal(n % DNS_PAD_BLOCK, 0);
		assert_int_equal(dns_get16(o), 0);	/* id 0 on the wire */
		assert_true(dns_get16(o + 2) & DNS_F_RD);
		assert_int_equal(dns_walk(o, n, &w), 0);
		assert_int_equal(w.count[3], 1);
		/* the padding option is last and its bytes are zero */
		assert_int_equal(dns_get16(o + 12 + nl + 4 + 11), DNS_OPT_PADDING);
	}
	assert_int_equal(dns_doh_query(o, 100, name, nl, DNS_T_A, DNS_C_IN), 0);
	/* 128 bytes exactly when it fits, 256 for a long name */
	assert_true(dns_name_wire("a.b", name, &nl));
	assert_int_equal(dns_doh_query(o, sizeof(o), name, nl, 1, 1), 128);
	assert_true(dns_name_wire(names[2], name, &nl));
	assert_int_equal(dns_doh_query(o, sizeof(o), name, nl, 1, 1), 256);
}

/* A response: question, then an A record whose owner is a pointer. */
static size_t
mkr(uint8_t *b, const char *name, uint32_t ttl)
{
	size_t n = mkq(b, name, DNS_T_A, 0), off = n;

	dns_put16(b, 0);
	dns_put16(b + 2, DNS_F_QR | DNS_F_RD | DNS_F_RA);
	dns_put16(b + 6, 1);
	b[off] = 0xc0;
	b[off + 1] = 12;
	dns_put16(b + off + 2, DNS_T_A);
	dns_put16(b + off + 4, DNS_C_IN);
	dns_put32(b + off + 6, ttl);
	dns_put16(b + off + 10, 4);
	memcpy(b + off + 12, "\x5d\xb8\xd8\x22", 4);
	return off + 16;
}

static void
test_dns_walk(void **st)
{
	uint8_t b[512];
	struct dns_walk w;
	size_t n = mkr(b, "a.example", 300);

	assert_int_equal(dns_walk(b, n, &w), 0);
	assert_int_equal(w.nttl, 1);
	assert_int_equal(w.min_ttl, 300);
	/* truncated */
	for (size_t k = 0; k < n; k++)
		assert_int_equal(dns_walk(b, k, &w), -1);
	/* pointer to itself: a loop */
	n = mkr(b, "a.example", 300);
	b[n - 16 + 1] = (uint8_t)(n - 16);
	assert_int_equal(dns_walk(b, n, &w), -1);
	/* pointer forward */
	n = mkr(b, "a.example", 300);
	b[n - 16 + 1] = (uint8_t)(n - 10);
	assert_int_equal(dns_walk(b, n, &w), -1);
	/* counts promise more than there is */
	n = mkr(b, "a.example", 300);
	dns_put16(b + 6, 65535);
	assert_int_equal(dns_walk(b, n, &w), -1);
	dns_put16(b + 6, 2);
	assert_int_equal(dns_walk(b, n, &w), -1);
}

static void
test_dns_pointer_chain(void **st)
{
	/* two names pointing at each other: each pointer goes backwards
	 * from where it is read, so a loop can never be followed. */
	uint8_t b[64];
	uint8_t out[DNS_NAME_WIRE];
	size_t off;

	memset(b, 0, sizeof(b));
	b[12] = 0xc0; b[13] = 14;
	b[14] = 0xc0; b[15] = 12;
	off = 12;
	assert_int_equal(dns_name_read(b, 16, &off, out), -1);
	off = 14;
	assert_int_equal(dns_name_read(b, 16, &off, out), -1);
}

static void
test_dns_answer(void **st)
{
	uint8_t q[512], body[512], o[512];
	struct dns_query qq;
	struct dns_walk w;
	size_t qn, bn, n;

	qn = mkq(q, "A.Example", DNS_T_A, 1232);
	assert_int_equal(dns_query_parse(q, qn, &qq), DNS_PARSE_OK);
	bn = mkr(body, "a.example", 300);
	assert_int_equal(dns_walk(body, bn, &w), 0);
	n = dns_answer(o, sizeof(o), &qq, body, bn, w.ttl_off, w.nttl, 100, 0,
	    1232);
	assert_int_equal(n, bn + 11);
	assert_int_equal(dns_get16(o), 0x1234);	/* the client's id */
	assert_memory_equal(o + 12, q + 12, qq.qname_len);	/* its case */
	assert_int_equal(dns_get32(o + w.ttl_off[0]), 200);	/* aged */
	/* stale: TTL floor */
	n = dns_answer(o, sizeof(o), &qq, body, bn, w.ttl_off, w.nttl, 400, 30,
	    1232);
	assert_int_equal(dns_get32(o + w.ttl_off[0]), 30);
	/* too big for the client: TC and no records */
	n = dns_answer(o, sizeof(o), &qq, body, bn, w.ttl_off, w.nttl, 0, 0,
	    40);
	assert_true(dns_get16(o + 2) & DNS_F_TC);
	assert_int_equal(dns_get16(o + 6), 0);
	assert_int_equal(n, qn);
	/* a body for another name length is refused */
	qn = mkq(q, "ab.example", DNS_T_A, 0);
	assert_int_equal(dns_query_parse(q, qn, &qq), DNS_PARSE_OK);
	assert_int_equal(dns_answer(o, sizeof(o), &qq, body, bn, w.ttl_off,
	    w.nttl, 0, 0, 512), 0);
}

static void
test_dns_addrs(void **st)
{
	uint8_t b[512];
	struct eg_ip ips[4];
	uint32_t maxttl;
	size_t n = mkr(b, "a.example", 77);

	assert_int_equal(dns_answer_addrs(b, n, ips, 4, &maxttl), 1);
	assert_int_equal(maxttl, 77);
	assert_int_equal(ips[0].family, AF_INET);
	assert_int_equal(ips[0].addr[0], 0x5d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = TEST_LIST(DNS_TESTS);

	return cmocka_run_group_tests(tests, NULL, NULL);
}
