/*
 * test_htab.c - the keyed hash table the policy and dohd's cache share:
 * sizing, nodes that share a hash or a bucket, removal, the keyed hash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "htab.h"

#include "test_list.h"

/* Every node of hash h, in table order; returns how many. */
static size_t
walk(const struct eg_htab *t, uint64_t h, struct eg_hnode **out, size_t max)
{
	struct eg_hnode *n;
	size_t i = 0;

	for (n = eg_htab_first(t, h); n != NULL; n = eg_htab_next(n)) {
		assert_int_equal(n->hash, h);
		if (i < max)
			out[i] = n;
		i++;
	}
	return i;
}

static void
test_htab_sizes_buckets_once(void **state)
{
	struct eg_htab t;

	(void)state;
	assert_true(eg_htab_init(&t, 0, SIZE_MAX));
	assert_int_equal(t.mask + 1, 64);
	eg_htab_free(&t);
	assert_true(eg_htab_init(&t, 1000, SIZE_MAX));
	assert_int_equal(t.mask + 1, 1024);
	eg_htab_free(&t);
	assert_true(eg_htab_init(&t, 1u << 20, 4096));
	assert_int_equal(t.mask + 1, 4096);
	eg_htab_free(&t);
}

static void
test_htab_finds_every_node_of_a_hash(void **state)
{
	struct eg_hnode a, b, c, other, *got[4];
	struct eg_htab t;
	uint64_t h = 5;

	(void)state;
	assert_true(eg_htab_init(&t, 4, SIZE_MAX));
	a.hash = b.hash = c.hash = h;
	other.hash = h + t.mask + 1;	/* the same bucket, another hash */
	eg_htab_insert(&t, &a);
	eg_htab_insert(&t, &other);
	eg_htab_insert(&t, &b);
	eg_htab_insert(&t, &c);
	assert_int_equal(t.n, 4);
	assert_int_equal(walk(&t, h, got, 4), 3);
	assert_int_equal(walk(&t, other.hash, got, 4), 1);
	assert_ptr_equal(got[0], &other);
	assert_null(eg_htab_first(&t, h + 1));

	/* remove from the middle of the chain: the others stay reachable */
	eg_htab_remove(&t, &b);
	assert_int_equal(t.n, 3);
	assert_int_equal(walk(&t, h, got, 4), 2);
	assert_true((got[0] == &a && got[1] == &c) ||
	    (got[0] == &c && got[1] == &a));
	eg_htab_remove(&t, &other);
	eg_htab_remove(&t, &a);
	eg_htab_remove(&t, &c);
	assert_int_equal(t.n, 0);
	assert_null(eg_htab_first(&t, h));
	eg_htab_free(&t);
}

static void
test_htab_hash_is_keyed(void **state)
{
	struct eg_htab t, u;
	uint64_t h;

	(void)state;
	assert_true(eg_htab_init(&t, 1, SIZE_MAX));
	assert_true(eg_htab_init(&u, 1, SIZE_MAX));
	h = eg_htab_hash(&t, 0, "example.com", 11);
	assert_int_equal(h, eg_htab_hash(&t, 0, "example.com", 11));
	/* another table's key spreads the same name elsewhere */
	assert_int_not_equal(h, eg_htab_hash(&u, 0, "example.com", 11));
	assert_int_not_equal(h, eg_htab_hash(&t, 1, "example.com", 11));
	assert_int_not_equal(eg_htab_hash(&t, 0, "a", 1),
	    eg_htab_hash(&t, 0, "a\0", 2));
	eg_htab_free(&t);
	eg_htab_free(&u);
}

int
main(void)
{
	const struct CMUnitTest tests[] = TEST_LIST(HTAB_TESTS);

	return cmocka_run_group_tests(tests, NULL, NULL);
}
