/* test_chainreq.c - CONNECT requests the chain dialer sends, and Basic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "http.h"

#include "test_list.h"

static void
test_chainreq_base64_rfc4648_vectors(void **st)
{
	char out[64];

	/* RFC 4648 test vectors */
	assert_int_equal(http_b64("", 0, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	http_b64("f", 1, out, sizeof(out));
	assert_string_equal(out, "Zg==");
	http_b64("fo", 2, out, sizeof(out));
	assert_string_equal(out, "Zm8=");
	http_b64("foo", 3, out, sizeof(out));
	assert_string_equal(out, "Zm9v");
	http_b64("foob", 4, out, sizeof(out));
	assert_string_equal(out, "Zm9vYg==");
	http_b64("fooba", 5, out, sizeof(out));
	assert_string_equal(out, "Zm9vYmE=");
	http_b64("foobar", 6, out, sizeof(out));
	assert_string_equal(out, "Zm9vYmFy");
	http_b64("\xff\xfe\x00", 3, out, sizeof(out));
	assert_string_equal(out, "//4A");
	/* exact fit and one short */
	assert_int_equal(http_b64("foobar", 6, out, 9), 8);
	assert_int_equal(http_b64("foobar", 6, out, 8), -1);
}

static void
test_chainreq_connect_plain(void **st)
{
	char out[1024];
	int n;

	n = http_build_connect(out, sizeof(out), "proxy-b.example.net", 8443,
	    NULL, NULL);
	assert_int_equal(n, (int)strlen(out));
	assert_string_equal(out, "CONNECT proxy-b.example.net:8443 HTTP/1.1\r\n"
	    "Host: proxy-b.example.net:8443\r\n\r\n");
	http_build_connect(out, sizeof(out), "2001:db8::2", 3128, NULL, NULL);
	assert_string_equal(out, "CONNECT [2001:db8::2]:3128 HTTP/1.1\r\n"
	    "Host: [2001:db8::2]:3128\r\n\r\n");
	http_build_connect(out, sizeof(out), "[2001:db8::2]", 3128, NULL, NULL);
	assert_string_equal(out, "CONNECT [2001:db8::2]:3128 HTTP/1.1\r\n"
	    "Host: [2001:db8::2]:3128\r\n\r\n");
}

static void
test_chainreq_connect_auth(void **st)
{
	char out[1024];

	/* RFC 7617's example: Aladdin / open sesame */
	http_build_connect(out, sizeof(out), "api.example.com", 443, "Aladdin",
	    "open sesame");
	assert_string_equal(out, "CONNECT api.example.com:443 HTTP/1.1\r\n"
	    "Host: api.example.com:443\r\n"
	    "Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n");
	/* empty password, password with a colon (allowed) */
	http_build_connect(out, sizeof(out), "a.example", 443, "u", NULL);
	assert_non_null(strstr(out, "Basic dTo=\r\n"));
	http_build_connect(out, sizeof(out), "a.example", 443, "u", "p:q");
	assert_non_null(strstr(out, "Basic dTpwOnE=\r\n"));
	/* UTF-8 passes through as bytes */
	http_build_connect(out, sizeof(out), "a.example", 443, "\xc3\xa9", "x");
	assert_non_null(strstr(out, "Basic w6k6eA==\r\n"));
}

static void
test_chainreq_connect_refused(void **st)
{
	char out[1024], big[300];

	/* colon in the user id, control bytes: cannot be carried */
	assert_int_equal(http_build_connect(out, sizeof(out), "a.example", 443,
	    "u:x", "p"), -1);
	assert_int_equal(http_build_connect(out, sizeof(out), "a.example", 443,
	    "u", "p\r\nX-Injected: 1"), -1);
	/* header injection through the host */
	assert_int_equal(http_build_connect(out, sizeof(out),
	    "a.example\r\nX: y", 443, NULL, NULL), -1);
	assert_int_equal(http_build_connect(out, sizeof(out), "a example", 443,
	    NULL, NULL), -1);
	assert_int_equal(http_build_connect(out, sizeof(out), "", 443, NULL,
	    NULL), -1);
	assert_int_equal(http_build_connect(out, sizeof(out), "a.example", 0,
	    NULL, NULL), -1);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(http_build_connect(out, sizeof(out), big, 443, NULL,
	    NULL), -1);
	/* output too small */
	assert_int_equal(http_build_connect(out, 20, "a.example", 443, NULL,
	    NULL), -1);
	assert_int_equal(http_build_connect(out, 70, "a.example", 443, "user",
	    "password"), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = TEST_LIST(CHAINREQ_TESTS);

	return cmocka_run_group_tests(tests, NULL, NULL);
}
