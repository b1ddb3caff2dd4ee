/*
 * test_list.h - every egressctl unit test, one list per test program, in the
 * manner of libuv's test/test-list.h.  Each entry is T(test, setup,
 * teardown); the program's main() runs its list with TEST_LIST() (see
 * ../registry.h).  A test must be listed here to run: one defined and not
 * listed is an unused static function, one listed and not defined is
 * undefined, and either fails the build.
 */
#ifndef EGRESSCTL_TEST_LIST_H
#define EGRESSCTL_TEST_LIST_H

#include "../registry.h"

/* test_json.c */
#define JSON_TESTS(T) \
	T(test_json_escape_hostile, NULL, NULL) \
	T(test_json_document, NULL, NULL)

/* test_helpers.c */
#define HELPERS_TESTS(T) \
	T(test_helpers_scan_fake_root, NULL, NULL)

#endif
