/*
 * test_json.c - the JSON writer with hostile strings: quotes, backslashes,
 * control characters, DEL, invalid UTF-8 and an embedded NUL all come out
 * as escapes, and a document nests and separates correctly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "egressctl.h"

#include "test_list.h"

static char *
escaped(const char *s, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	json_escape(f, s, n);
	fclose(f);
	return buf;
}

static void
check(const char *in, size_t n, const char *want)
{
	char *got = escaped(in, n);

	assert_string_equal(got, want);
	free(got);
}

static void
test_json_escape_hostile(void **state)
{
	(void)state;
	check("plain", 5, "\"plain\"");
	check("", 0, "\"\"");
	check("a\"b", 3, "\"a\\\"b\"");
	check("back\\slash", 10, "\"back\\\\slash\"");
	check("\n\r\t\b\f", 5, "\"\\n\\r\\t\\b\\f\"");
	check("\x01\x1b[31m\x1f", 7, "\"\\u0001\\u001b[31m\\u001f\"");
	check("\x7f", 1, "\"\\u007f\"");
	/* invalid UTF-8 and a valid sequence alike: one escape per byte */
	check("\xff\xfe", 2, "\"\\u00ff\\u00fe\"");
	check("caf\xc3\xa9", 5, "\"caf\\u00c3\\u00a9\"");
	check("a\0b", 3, "\"a\\u0000b\"");
	check("</script>", 9, "\"</script>\"");
	check("\"}],\"x\":{\"", 10, "\"\\\"}],\\\"x\\\":{\\\"\"");
}

static void
test_json_document(void **state)
{
	struct json j;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(f);
	json_init(&j, f);
	json_obj_begin(&j, NULL);
	json_str(&j, "k\"ey", "v\\al");
	json_int(&j, "n", -3);
	json_bool(&j, "t", true);
	json_null(&j, "z");
	json_str(&j, "s", NULL);
	json_arr_begin(&j, "a");
	json_int(&j, NULL, 1);
	json_obj_begin(&j, NULL);
	json_obj_end(&j);
	json_arr_begin(&j, NULL);
	json_arr_end(&j);
	json_arr_end(&j);
	json_obj_begin(&j, "kv");
	json_kv_lines(&j, "a=1\nb=x=y\nnoeq\n\nc=\"q\"\n");
	json_obj_end(&j);
	json_obj_end(&j);
	json_finish(&j);
	fclose(f);
	assert_string_equal(buf, "{\"k\\\"ey\":\"v\\\\al\",\"n\":-3,\"t\":true,"
	    "\"z\":null,\"s\":null,\"a\":[1,{},[]],\"kv\":{\"a\":\"1\","
	    "\"b\":\"x=y\",\"\":\"noeq\",\"c\":\"\\\"q\\\"\"}}\n");
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = TEST_LIST(JSON_TESTS);

	return cmocka_run_group_tests(tests, NULL, NULL);
}
