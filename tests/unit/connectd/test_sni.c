/* test_sni.c - ClientHello reassembly and server_name extraction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sni.h"

#include "test_list.h"

struct b {
	uint8_t p[70000];
	size_t n;
};

static void
u8(struct b *b, unsigned v)
{
	b->p[b->n++] = (uint8_t)v;
}

static void
u16(struct b *b, unsigned v)
{
	u8(b, v >> 8);
	u8(b, v & 0xff);
}

static void
u24(struct b *b, unsigned v)
{
	u8(b, v >> 16);
	u16(b, v & 0xffff);
}

static void
raw(struct b *b, const void *p, size_t n)
{
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void
ext(struct b *b, unsigned type, const struct b *body)
{
	u16(b, type);
	u16(b, (unsigned)body->n);
	raw(b, body->p, body->n);
}

static void
sni_ext(struct b *e, const char *name)
{
	struct b *x = calloc(1, sizeof(*x));

	u16(x, (unsigned)strlen(name) + 3);
	u8(x, 0);
	u16(x, (unsigned)strlen(name));
	raw(x, name, strlen(name));
	ext(e, 0, x);
	free(x);
}

/* A TLS 1.3-style hello: GREASE, supported_versions, key_share, optional
 * ECH and padding, optional SNI. */
static void
hello(struct b *hs, const char *name, bool ech, size_t pad)
{
	struct b *e = calloc(1, sizeof(*e)), *x = calloc(1, sizeof(*x));
	uint8_t rnd[32];

	memset(rnd, 0xab, sizeof(rnd));
	ext(e, 0x1a1a, x);				/* GREASE, empty */
	if (name)
		sni_ext(e, name);
	x->n = 0;
	u8(x, 6); u16(x, 0x2a2a); u16(x, 0x0304); u16(x, 0x0303);
	ext(e, 0x002b, x);				/* supported_versions */
	x->n = 0;
	u16(x, 36); u16(x, 0x001d); u16(x, 32); memset(x->p + x->n, 7, 32);
	x->n += 32;
	ext(e, 0x0033, x);				/* key_share */
	if (ech) {
		x->n = 0;
		u8(x, 0); u16(x, 1); u16(x, 1); u8(x, 9);
		u16(x, 32); memset(x->p + x->n, 1, 32); x->n += 32;
		u16(x, 200); memset(x->p + x->n, 2, 200); x->n += 200;
		ext(e, 0xfe0d, x);
	}
	if (pad) {
		x->n = 0;
		memset(x->p, 0, pad);
		x->n = pad;
		ext(e, 0x0015, x);
	}
	x->n = 0;
	ext(e, 0x3a3a, x);				/* GREASE, last */

	hs->n = 0;
	u8(hs, 1);
	u24(hs, (unsigned)(2 + 32 + 1 + 32 + 2 + 6 + 2 + 2 + e->n));
	u16(hs, 0x0303);
	raw(hs, rnd, 32);
	u8(hs, 32); memset(hs->p + hs->n, 3, 32); hs->n += 32;
	u16(hs, 6); u16(hs, 0x4a4a); u16(hs, 0x1301); u16(hs, 0x1302);
	u8(hs, 1); u8(hs, 0);
	u16(hs, (unsigned)e->n);
	raw(hs, e->p, e->n);
	free(e);
	free(x);
}

/* Wrap a handshake message in records of at most frag bytes. */
static void
records(struct b *out, const struct b *hs, size_t frag)
{
	size_t off, k;

	out->n = 0;
	for (off = 0; off < hs->n; off += k) {
		k = hs->n - off < frag ? hs->n - off : frag;
		u8(out, 22);
		u16(out, off == 0 ? 0x0301 : 0x0303);
		u16(out, (unsigned)k);
		raw(out, hs->p + off, k);
	}
}

static struct b hs, rec;

static void
every_prefix(const struct b *r, enum sni_status want, const char *host)
{
	struct sni_info info;
	size_t k;
	enum sni_status st;

	for (k = 0; k < r->n; k++) {
		st = sni_parse(r->p, k, 65536, &info);
		if (st != SNI_NEED_MORE)
			fail_msg("prefix %zu of %zu: %s (%s)", k, r->n,
			    sni_status_str(st), info.why ? info.why : "-");
	}
	st = sni_parse(r->p, r->n, 65536, &info);
	assert_int_equal(st, want);
	if (host)
		assert_string_equal(info.host, host);
}

static void
test_sni_simple(void **st)
{
	struct sni_info info;

	hello(&hs, "API.Example.com", false, 0);
	records(&rec, &hs, 16384);
	every_prefix(&rec, SNI_FOUND, "api.example.com");
	assert_int_equal(sni_parse(rec.p, rec.n, 65536, &info), SNI_FOUND);
	assert_true(info.tls13);
	assert_false(info.ech);
	/* bytes after the hello record (early data) do not matter */
	memcpy(rec.p + rec.n, "\x17\x03\x03\x00\x01x", 6);
	assert_int_equal(sni_parse(rec.p, rec.n + 6, 65536, &info), SNI_FOUND);
}

static void
test_sni_fragmented(void **st)
{
	size_t frag;

	hello(&hs, "frag.example.org", false, 300);
	for (frag = 1; frag < 400; frag += 37) {
		records(&rec, &hs, frag);
		every_prefix(&rec, SNI_FOUND, "frag.example.org");
	}
}

static void
test_sni_ech(void **st)
{
	struct sni_info info;

	hello(&hs, "public.ech.example", true, 0);
	records(&rec, &hs, 100);
	every_prefix(&rec, SNI_FOUND, "public.ech.example");
	assert_int_equal(sni_parse(rec.p, rec.n, 65536, &info), SNI_FOUND);
	assert_true(info.ech);
}

static void
test_sni_none(void **st)
{
	hello(&hs, NULL, false, 0);
	records(&rec, &hs, 16384);
	every_prefix(&rec, SNI_NONE, NULL);
}

static void
test_sni_ip_literal_is_returned_for_the_caller(void **st)
{
	struct sni_info info;

	/* The parser reports it; connectd denies IP literals. */
	hello(&hs, "192.0.2.1", false, 0);
	records(&rec, &hs, 16384);
	assert_int_equal(sni_parse(rec.p, rec.n, 65536, &info), SNI_FOUND);
	assert_string_equal(info.host, "192.0.2.1");
}

static void
test_sni_not_tls(void **st)
{
	struct sni_info info;

	assert_int_equal(sni_parse((const uint8_t *)"GET / HTTP/1.1\r\n", 16,
	    65536, &info), SNI_NOT_TLS);
	assert_int_equal(sni_parse((const uint8_t *)"", 0, 65536, &info),
	    SNI_NEED_MORE);
}

static void
expect_error(const struct b *r)
{
	struct sni_info info;
	enum sni_status st = sni_parse(r->p, r->n, 65536, &info);

	if (st != SNI_ERROR)
		fail_msg("got %s, wanted error", sni_status_str(st));
}

static void
test_sni_malformed(void **st)
{
	struct b *e = calloc(1, sizeof(*e));
	struct sni_info info;
	size_t k;

	hello(&hs, "a.example", false, 0);
	/* non-handshake record in the middle of the hello */
	records(&rec, &hs, 50);
	rec.p[55] = 21;
	expect_error(&rec);
	/* zero-length record */
	records(&rec, &hs, 16384);
	memmove(rec.p + 5, rec.p, rec.n);
	memcpy(rec.p, "\x16\x03\x01\x00\x00", 5);
	rec.n += 5;
	expect_error(&rec);
	/* record too long */
	records(&rec, &hs, 16384);
	rec.p[3] = 0x40; rec.p[4] = 0x01;
	assert_int_equal(sni_parse(rec.p, rec.n, 65536, &info), SNI_ERROR);
	/* bad record version */
	records(&rec, &hs, 16384);
	rec.p[1] = 2;
	expect_error(&rec);
	/* not a client hello */
	records(&rec, &hs, 16384);
	rec.p[5] = 2;
	expect_error(&rec);
	/* a second message in the same record */
	hs.p[hs.n++] = 0x14;
	records(&rec, &hs, 16384);
	expect_error(&rec);
	hs.n--;
	/* hello length larger than its contents by one (needs more, then a
	 * second record whose bytes do not parse) */
	records(&rec, &hs, 16384);
	rec.p[8]++;
	{
		enum sni_status s = sni_parse(rec.p, rec.n, 65536, &info);
		assert_int_equal(s, SNI_NEED_MORE);
		memcpy(rec.p + rec.n, "\x16\x03\x03\x00\x01\x00", 6);
		rec.n += 6;
		assert_int_equal(sni_parse(rec.p, rec.n, 65536, &info),
		    SNI_ERROR);
	}
	/* extensions length off by one in both directions */
	records(&rec, &hs, 16384);
	k = 5 + 4 + 2 + 32 + 1 + 32 + 2 + 6 + 2;
	rec.p[k + 1]++;
	expect_error(&rec);
	rec.p[k + 1] -= 2;
	expect_error(&rec);
	/* duplicate extension: two server_name */
	e->n = 0;
	sni_ext(e, "a.example");
	hello(&hs, "b.example", false, 0);
	{
		/* splice a second SNI extension at the end */
		size_t extlen_off = 4 + 2 + 32 + 1 + 32 + 2 + 6 + 2;
		unsigned extlen = (unsigned)hs.p[extlen_off] << 8 |
		    hs.p[extlen_off + 1];
		unsigned hl = (unsigned)hs.p[1] << 16 | hs.p[2] << 8 | hs.p[3];

		raw(&hs, e->p, e->n);
		extlen += (unsigned)e->n;
		hl += (unsigned)e->n;
		hs.p[extlen_off] = (uint8_t)(extlen >> 8);
		hs.p[extlen_off + 1] = (uint8_t)extlen;
		hs.p[1] = (uint8_t)(hl >> 16);
		hs.p[2] = (uint8_t)(hl >> 8);
		hs.p[3] = (uint8_t)hl;
		records(&rec, &hs, 16384);
		expect_error(&rec);
	}
	/* bad bytes in the name: NUL, non-ASCII, space, empty, overlong */
	hello(&hs, "a\x01" "b.example", false, 0);
	records(&rec, &hs, 16384);
	expect_error(&rec);
	hello(&hs, "\xc3\xa9.example", false, 0);
	records(&rec, &hs, 16384);
	expect_error(&rec);
	hello(&hs, "a b.example", false, 0);
	records(&rec, &hs, 16384);
	expect_error(&rec);
	{
		char name[300];

		memset(name, 'a', 299);
		name[299] = '\0';
		hello(&hs, name, false, 0);
		records(&rec, &hs, 16384);
		expect_error(&rec);
	}
	/* embedded NUL inside the name */
	hello(&hs, "abcd.example", false, 0);
	for (k = 0; k + 4 < hs.n; k++)
		if (memcmp(hs.p + k, "abcd", 4) == 0)
			break;
	hs.p[k + 1] = 0;
	records(&rec, &hs, 16384);
	expect_error(&rec);
	free(e);
}

static void
test_sni_bound(void **st)
{
	struct sni_info info;

	/* A valid hello larger than the limit: error once the limit is
	 * reached, need-more before. */
	hello(&hs, "big.example", false, 5000);
	records(&rec, &hs, 16384);
	assert_int_equal(sni_parse(rec.p, 1000, 2048, &info), SNI_NEED_MORE);
	assert_int_equal(sni_parse(rec.p, rec.n, 2048, &info), SNI_ERROR);
	assert_int_equal(sni_parse(rec.p, rec.n, 65536, &info), SNI_FOUND);
}

/* Random corruption of a good hello: never a host other than the real
 * one (a flipped name byte may change the name, so only check that a
 * "found" answer is a well-formed name). */
static void
test_sni_mutations(void **st)
{
	struct sni_info info;
	size_t i;
	unsigned seed = 1;
	enum sni_status s;

	hello(&hs, "mut.example", true, 64);
	for (i = 0; i < 20000; i++) {
		records(&rec, &hs, 90);
		seed = seed * 1103515245 + 12345;
		rec.p[(seed >> 8) % rec.n] ^= (uint8_t)(1 + (seed >> 20) % 255);
		s = sni_parse(rec.p, rec.n, 65536, &info);
		if (s == SNI_FOUND)
			assert_true(strlen(info.host) > 0 &&
			    strlen(info.host) <= 253);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = TEST_LIST(SNI_TESTS);

	return cmocka_run_group_tests(tests, NULL, NULL);
}
