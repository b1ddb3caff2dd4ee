/* test_cache.c - TTL, negative entries, LRU bound, serve-stale, the
 * decision an entry carries and the epoch that guards it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cache.h"

#include "test_list.h"

static const uint8_t body[] = "0123456789abcdefghij";
static const uint16_t offs[] = { 4 };

static void
key(uint8_t *k, int i)
{
	k[0] = 3;
	k[1] = 'a' + (char)(i % 26);
	k[2] = 'a' + (char)(i / 26 % 26);
	k[3] = 'a' + (char)(i / 676 % 26);
	k[4] = 0;
}

static void
test_cache_ttl(void **st)
{
	struct dcache *c = dcache_new(16, 300);
	const struct dcache_ent *e;
	uint8_t k[5];
	uint32_t age;
	bool stale;

	key(k, 0);
	assert_true(dcache_put(c, 0, k, 5, 1, 1, body, 20, offs, 1, 60,
	    false, NULL, 1000));
	e = dcache_get(c, k, 5, 1, 1, 1000 + 59999, false, &age, &stale);
	assert_non_null(e);
	assert_int_equal(age, 59);
	assert_false(stale);
	assert_memory_equal(e->wire, body, 20);
	/* other type, other class: other keys */
	assert_null(dcache_get(c, k, 5, 28, 1, 1000, false, &age, &stale));
	assert_null(dcache_get(c, k, 5, 1, 3, 1000, false, &age, &stale));
	/* expired: no fresh answer, but stale within the window */
	assert_null(dcache_get(c, k, 5, 1, 1, 1000 + 60000, false, &age,
	    &stale));
	e = dcache_get(c, k, 5, 1, 1, 1000 + 60000, true, &age, &stale);
	assert_non_null(e);
	assert_true(stale);
	/* past TTL + stale window: gone */
	assert_null(dcache_get(c, k, 5, 1, 1, 1000 + 360000, true, &age,
	    &stale));
	assert_null(dcache_get(c, k, 5, 1, 1, 1000, true, &age, &stale));
	/* TTL 0 is not cached */
	assert_false(dcache_put(c, 0, k, 5, 1, 1, body, 20, offs, 1, 0,
	    false, NULL, 1000));
	dcache_free(c);
}

static void
test_cache_negative(void **st)
{
	struct dcache *c = dcache_new(16, 0);
	const struct dcache_ent *e;
	uint8_t k[5];
	uint32_t age;
	bool stale;

	key(k, 1);
	assert_true(dcache_put(c, 0, k, 5, 1, 1, body, 20, NULL, 0, 30, true,
	    NULL, 0));
	e = dcache_get(c, k, 5, 1, 1, 29000, false, &age, &stale);
	assert_non_null(e);
	assert_true(e->negative);
	assert_null(dcache_get(c, k, 5, 1, 1, 30000, true, &age, &stale));
	dcache_free(c);
}

static void
test_cache_lru(void **st)
{
	struct dcache *c = dcache_new(100, 0);
	struct dcache_stats s;
	uint8_t k[5];
	uint32_t age;
	bool stale;

	for (int i = 0; i < 1000; i++) {
		key(k, i);
		assert_true(dcache_put(c, 0, k, 5, 1, 1, body, 20, offs, 1, 60,
		    false, NULL, 0));
		if (i >= 1) {
			/* keep entry 0 in use: it must survive */
			key(k, 0);
			assert_non_null(dcache_get(c, k, 5, 1, 1, 0, false,
			    &age, &stale));
		}
	}
	dcache_stats(c, &s);
	assert_int_equal(s.entries, 100);
	assert_int_equal(s.evictions, 900);
	key(k, 998);
	assert_non_null(dcache_get(c, k, 5, 1, 1, 0, false, &age, &stale));
	key(k, 5);
	assert_null(dcache_get(c, k, 5, 1, 1, 0, false, &age, &stale));
	/* replacing keeps one entry per key */
	key(k, 998);
	assert_true(dcache_put(c, 0, k, 5, 1, 1, body, 10, offs, 1, 60,
	    false, NULL, 0));
	assert_int_equal(dcache_get(c, k, 5, 1, 1, 0, false, &age,
	    &stale)->len, 10);
	dcache_stats(c, &s);
	assert_int_equal(s.entries, 100);
	dcache_flush(c);
	dcache_stats(c, &s);
	assert_int_equal(s.entries, 0);
	dcache_free(c);
}

static void
test_cache_disabled(void **st)
{
	struct dcache *c = dcache_new(0, 0);
	uint8_t k[5];

	key(k, 0);
	assert_false(dcache_put(c, 0, k, 5, 1, 1, body, 20, offs, 1, 60,
	    false, NULL, 0));
	dcache_free(c);
}

static void
test_cache_decision_epoch(void **st)
{
	struct dcache *c = dcache_new(16, 0);
	const struct dcache_ent *e;
	struct dcache_dec dec;
	uint64_t before;
	uint8_t k[5];
	uint32_t age;
	bool stale;

	memset(&dec, 0, sizeof(dec));
	dec.reason = 3;
	dec.reported = true;
	dec.direct = true;
	memset(dec.where, 'x', sizeof(dec.where));	/* no terminator */
	key(k, 2);
	assert_true(dcache_put(c, dcache_epoch(c), k, 5, 1, 1, body, 20, offs,
	    1, 60, false, &dec, 0));
	e = dcache_get(c, k, 5, 1, 1, 0, false, &age, &stale);
	assert_non_null(e);
	assert_non_null(e->dec);
	assert_int_equal(e->dec->reason, 3);
	assert_true(e->dec->reported);
	assert_true(e->dec->direct);
	assert_int_equal(strlen(e->dec->where), sizeof(dec.where) - 1);
	/* the wire and TTL offsets still sit where they belong */
	assert_memory_equal(e->wire, body, 20);
	assert_int_equal(e->ttl_off[0], 4);
	/* the hashed lookup finds the same entry */
	assert_ptr_equal(dcache_get_hashed(c, dcache_hash(c, k, 5, 1, 1), k, 5,
	    1, 1, 0, false, &age, &stale), e);
	/* without a decision: none is invented */
	key(k, 3);
	assert_true(dcache_put(c, dcache_epoch(c), k, 5, 1, 1, body, 20, offs,
	    1, 60, false, NULL, 0));
	assert_null(dcache_get(c, k, 5, 1, 1, 0, false, &age, &stale)->dec);

	/* A flush (a reload) starts a new epoch: an answer to a question
	 * decided before it is not stored, one decided after it is. */
	before = dcache_epoch(c);
	dcache_flush(c);
	assert_int_not_equal(dcache_epoch(c), before);
	key(k, 4);
	assert_false(dcache_put(c, before, k, 5, 1, 1, body, 20, offs, 1, 60,
	    false, &dec, 0));
	assert_null(dcache_get(c, k, 5, 1, 1, 0, false, &age, &stale));
	assert_true(dcache_put(c, dcache_epoch(c), k, 5, 1, 1, body, 20, offs,
	    1, 60, false, &dec, 0));
	dcache_free(c);
}

static void
test_cache_deny_memo(void **st)
{
	struct dcache *c = dcache_new(16, 0);
	const struct dcache_deny *m;
	uint64_t before, h, h2;
	uint8_t k[5], k2[5];

	key(k, 7);
	key(k2, 8);
	h = dcache_hash(c, k, 5, 1, 1);
	h2 = dcache_hash(c, k2, 5, 1, 1);
	assert_null(dcache_deny_get(c, h, k, 5, 1));
	dcache_deny_put(c, dcache_epoch(c), h, k, 5, 1, 3, 2, "a.conf:4");
	m = dcache_deny_get(c, h, k, 5, 1);
	assert_non_null(m);
	assert_int_equal(m->rcode, 3);
	assert_int_equal(m->reason, 2);
	assert_string_equal(m->where, "a.conf:4");
	/* other type, other name: no match even in the same slot */
	assert_null(dcache_deny_get(c, h, k, 5, 28));
	assert_null(dcache_deny_get(c, h, k2, 5, 1));
	assert_null(dcache_deny_get(c, h2, k2, 5, 1));
	/* a flush forgets; a denial decided before it is not kept */
	before = dcache_epoch(c);
	dcache_flush(c);
	assert_null(dcache_deny_get(c, h, k, 5, 1));
	dcache_deny_put(c, before, h, k, 5, 1, 3, 2, "");
	assert_null(dcache_deny_get(c, h, k, 5, 1));
	/* with answers disabled, denials are still remembered */
	dcache_free(c);
	c = dcache_new(0, 0);
	h = dcache_hash(c, k, 5, 1, 1);
	dcache_deny_put(c, dcache_epoch(c), h, k, 5, 1, 5, 8, "");
	assert_non_null(dcache_deny_get(c, h, k, 5, 1));
	dcache_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = TEST_LIST(CACHE_TESTS);

	return cmocka_run_group_tests(tests, NULL, NULL);
}
