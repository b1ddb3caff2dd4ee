/*
 * registry.h - how a unit test program registers its tests.
 *
 * Each part lists its programs' tests in tests/unit/<part>/test_list.h,
 * one X-macro list per program, each entry T(test, setup, teardown):
 *
 *	#define LOCAL_TESTS(T) \
 *		T(test_local_hosts, setup, teardown) \
 *		T(test_local_bad_file, NULL, NULL)
 *
 * and main() runs the list:
 *
 *	const struct CMUnitTest tests[] = TEST_LIST(LOCAL_TESTS);
 *
 * Test functions are static and named test_<feature>_<behaviour>.
 */
#ifndef EG_TEST_REGISTRY_H
#define EG_TEST_REGISTRY_H

/* A test defined and not listed would never run: an error in every build,
 * not only under -Werror. */
#pragma GCC diagnostic error "-Wunused-function"

#define TEST_ENTRY(name, setup, teardown) \
	cmocka_unit_test_setup_teardown(name, setup, teardown),
#define TEST_LIST(list) { list(TEST_ENTRY) }

#endif
