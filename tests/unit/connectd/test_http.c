/* test_http.c - the request/response head parser, the rewrite and the
 * health server's probe reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http.h"

#include "test_list.h"

#define MAXH 16384

static int
parse(const char *s, struct http_req *r)
{
	return http_parse_request(s, strlen(s), MAXH, 100, r);
}

static void
expect_err(const char *s, int status)
{
	struct http_req r;
	int rc = parse(s, &r);

	if (rc != HTTP_ERROR || r.status != status)
		fail_msg("%s: rc %d status %d (%s), wanted error %d", s, rc,
		    r.status, r.why ? r.why : "-", status);
}

static void
test_http_connect_ok(void **st)
{
	struct http_req r;
	const char *s = "CONNECT api.example.com:443 HTTP/1.1\r\n"
	    "Host: api.example.com:443\r\nUser-Agent: curl/8\r\n\r\nTLSDATA";

	assert_int_equal(parse(s, &r), HTTP_OK);
	assert_true(r.is_connect);
	assert_int_equal(r.form, HTTP_FORM_AUTHORITY);
	assert_string_equal(r.host, "api.example.com");
	assert_int_equal(r.port, 443);
	assert_int_equal(r.head_len, strlen(s) - 7);
	assert_int_equal(r.nhdrs, 2);
	/* CONNECT without Host is accepted (HTTP/1.0 clients) */
	assert_int_equal(parse("CONNECT a.b:1 HTTP/1.0\r\n\r\n", &r), HTTP_OK);
	assert_int_equal(parse("CONNECT [2001:db8::1]:8443 HTTP/1.1\r\n\r\n",
	    &r), HTTP_OK);
	assert_string_equal(r.host, "[2001:db8::1]");
	assert_int_equal(r.port, 8443);
	assert_int_equal(parse("CONNECT 10.0.0.1:22 HTTP/1.1\r\n\r\n", &r),
	    HTTP_OK);
	assert_string_equal(r.host, "10.0.0.1");
}

static void
test_http_absolute_ok(void **st)
{
	struct http_req r;
	char out[1024];
	int n;
	const char *s = "GET http://Example.COM:8080/a/b?q=1 HTTP/1.1\r\n"
	    "Host: example.com:8080\r\nProxy-Authorization: Basic eA==\r\n"
	    "Proxy-Connection: keep-alive\r\nConnection: keep-alive, X-Foo\r\n"
	    "X-Foo: secret\r\nAccept: */*\r\nKeep-Alive: 5\r\nTE: trailers\r\n"
	    "Content-Length: 3\r\n\r\nabc";

	assert_int_equal(parse(s, &r), HTTP_OK);
	assert_int_equal(r.form, HTTP_FORM_ABSOLUTE);
	assert_string_equal(r.host, "Example.COM");
	assert_int_equal(r.port, 8080);
	n = http_rewrite_origin(&r, out, sizeof(out));
	assert_true(n > 0);
	out[n] = '\0';
	assert_string_equal(out, "GET /a/b?q=1 HTTP/1.1\r\n"
	    "Host: Example.COM:8080\r\nAccept: */*\r\nContent-Length: 3\r\n"
	    "Connection: close\r\n\r\n");
	assert_int_equal(http_rewrite_origin(&r, out, 20), -1);

	assert_int_equal(parse("GET http://x.org HTTP/1.0\r\n\r\n", &r),
	    HTTP_OK);
	assert_int_equal(r.port, 80);
	n = http_rewrite_origin(&r, out, sizeof(out));
	out[n] = '\0';
	assert_string_equal(out, "GET / HTTP/1.0\r\nHost: x.org\r\n"
	    "Connection: close\r\n\r\n");
	assert_int_equal(parse("GET http://x.org?x HTTP/1.1\r\nHost: x.org\r\n"
	    "\r\n", &r), HTTP_OK);
	assert_int_equal(r.pathlen, 2);
	assert_memory_equal(r.path, "?x", 2);
}

static void
test_http_origin(void **st)
{
	struct http_req r;

	assert_int_equal(parse("GET /x HTTP/1.1\r\nHost: a.example:81\r\n\r\n",
	    &r), HTTP_OK);
	assert_int_equal(r.form, HTTP_FORM_ORIGIN);
	assert_string_equal(r.host, "a.example");
	assert_int_equal(r.port, 81);
	assert_int_equal(parse("GET /x HTTP/1.1\r\nHost: a.example\r\n\r\n",
	    &r), HTTP_OK);
	assert_int_equal(r.port, 0);
	expect_err("GET /x HTTP/1.1\r\n\r\n", 400);
	expect_err("GET /x HTTP/1.0\r\n\r\n", 400);
	expect_err("GET /x HTTP/1.1\r\nHost:\r\n\r\n", 400);
}

static void
test_http_malformed(void **st)
{
	expect_err("CONNECT a.b HTTP/1.1\r\n\r\n", 400);
	expect_err("CONNECT a.b: HTTP/1.1\r\n\r\n", 400);
	expect_err("CONNECT a.b:0 HTTP/1.1\r\n\r\n", 400);
	expect_err("CONNECT a.b:65536 HTTP/1.1\r\n\r\n", 400);
	expect_err("CONNECT a.b:+443 HTTP/1.1\r\n\r\n", 400);
	expect_err("CONNECT a.b:443x HTTP/1.1\r\n\r\n", 400);
	expect_err("CONNECT :443 HTTP/1.1\r\n\r\n", 400);
	expect_err("CONNECT a%2eb:443 HTTP/1.1\r\n\r\n", 400);
	expect_err("CONNECT u@a.b:443 HTTP/1.1\r\n\r\n", 400);
	expect_err("CONNECT [zz::1]:443 HTTP/1.1\r\n\r\n", 400);
	expect_err("CONNECT [::1:443 HTTP/1.1\r\n\r\n", 400);
	expect_err("CONNECT a.b:443 HTTP/2.0\r\n\r\n", 505);
	expect_err("CONNECT a.b:443 HTTP/1.2\r\n\r\n", 505);
	expect_err("CONNECT a.b:443 HTTP/1.1 \r\n\r\n", 505);
	expect_err("CONNECT  a.b:443 HTTP/1.1\r\n\r\n", 400);
	expect_err("CONNECT a.b:443\r\n\r\n", 400);
	expect_err("\r\nCONNECT a.b:443 HTTP/1.1\r\n\r\n", 400);
	expect_err("CONNECT a.b:443 HTTP/1.1\n\n", 400);
	expect_err("CONNECT a.b:443 HTTP/1.1\r\nHost: a\n\r\n", 400);
	expect_err("CONNECT a.b:443 HTTP/1.1\r\nHost: a\rb\r\n\r\n", 400);
	expect_err("CONNECT a.b:443 HTTP/1.1\r\nHost : a.b\r\n\r\n", 400);
	expect_err("CONNECT a.b:443 HTTP/1.1\r\n: a.b\r\n\r\n", 400);
	expect_err("CONNECT a.b:443 HTTP/1.1\r\nNoColon\r\n\r\n", 400);
	expect_err("CONNECT a.b:443 HTTP/1.1\r\nX: 1\r\n y\r\n\r\n", 400);
	expect_err("CONNECT a.b:443 HTTP/1.1\r\nX: a\x01\r\n\r\n", 400);
	expect_err("CONNECT a.b:443 HTTP/1.1\r\nX: a\x7f\r\n\r\n", 400);
	expect_err("CONNECT a.b:443 HTTP/1.1\r\nX\x80: a\r\n\r\n", 400);
	expect_err("C(NNECT a.b:443 HTTP/1.1\r\n\r\n", 400);
	expect_err("GET https://a.b/ HTTP/1.1\r\nHost: a.b\r\n\r\n", 400);
	expect_err("GET ftp://a.b/ HTTP/1.1\r\nHost: a.b\r\n\r\n", 400);
	expect_err("GET * HTTP/1.1\r\nHost: a.b\r\n\r\n", 400);
	expect_err("GET http://u:p@a.b/ HTTP/1.1\r\nHost: a.b\r\n\r\n", 400);
	expect_err("GET http://a.b/#f HTTP/1.1\r\nHost: a.b\r\n\r\n", 400);
	expect_err("GET http:///x HTTP/1.1\r\nHost: a.b\r\n\r\n", 400);
	expect_err("GET http://a.b/\xc3\xa9 HTTP/1.1\r\nHost: a.b\r\n\r\n", 400);
	expect_err("GET http://\xc3\xa9.b/ HTTP/1.1\r\nHost: a.b\r\n\r\n", 400);
	expect_err("GET /x HTTP/1.1\r\nHost: a.b\r\nHost: c.d\r\n\r\n", 400);
	expect_err("GET /x HTTP/1.1\r\nHost: a.b\r\nhost: a.b\r\n\r\n", 400);
	expect_err("GET /x HTTP/1.1\r\nHost: a b\r\n\r\n", 400);
	expect_err("POST http://a.b/ HTTP/1.1\r\nHost: a.b\r\nContent-Length: 1"
	    "\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
	expect_err("POST http://a.b/ HTTP/1.1\r\nHost: a.b\r\nContent-Length: 1"
	    "\r\nContent-Length: 2\r\n\r\n", 400);
	expect_err("POST http://a.b/ HTTP/1.1\r\nHost: a.b\r\nContent-Length: -1"
	    "\r\n\r\n", 400);
	expect_err("POST http://a.b/ HTTP/1.1\r\nHost: a.b\r\nContent-Length: "
	    "99999999999999999999\r\n\r\n", 400);
	expect_err("POST http://a.b/ HTTP/1.0\r\nTransfer-Encoding: chunked"
	    "\r\n\r\n", 400);
	expect_err("AVERYVERYVERYLONGMETHODNAMEXXXXXX a.b:1 HTTP/1.1\r\n\r\n",
	    501);
}

static void
test_http_nul(void **st)
{
	struct http_req r;
	const char s[] = "CONNECT a.b:443 HTTP/1.1\r\nX: a\0b\r\n\r\n";

	assert_int_equal(http_parse_request(s, sizeof(s) - 1, MAXH, 100, &r),
	    HTTP_ERROR);
	assert_int_equal(r.status, 400);
	assert_int_equal(http_parse_request("\0", 1, MAXH, 100, &r),
	    HTTP_ERROR);
}

static void
test_http_duplicates_allowed(void **st)
{
	struct http_req r;

	/* Repeated ordinary fields and equal Content-Lengths are fine. */
	assert_int_equal(parse("POST http://a.b/ HTTP/1.1\r\nHost: a.b\r\n"
	    "X: 1\r\nX: 2\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\n",
	    &r), HTTP_OK);
	assert_int_equal(r.nhdrs, 5);
}

static void
test_http_limits(void **st)
{
	struct http_req r;
	char *buf;
	size_t i, n;
	int rc;

	/* Header count: 100 allowed by the caller's limit of 100... */
	buf = malloc(64 * 1024);
	assert_non_null(buf);
	n = (size_t)sprintf(buf, "CONNECT a.b:443 HTTP/1.1\r\n");
	for (i = 0; i < 100; i++)
		n += (size_t)sprintf(buf + n, "X-%zu: v\r\n", i);
	memcpy(buf + n, "\r\n", 3);
	assert_int_equal(http_parse_request(buf, n + 2, 65536, 100, &r),
	    HTTP_OK);
	/* ...and refused with a limit of 10, or at 101 */
	assert_int_equal(http_parse_request(buf, n + 2, 65536, 10, &r),
	    HTTP_ERROR);
	assert_int_equal(r.status, 431);
	n += (size_t)sprintf(buf + n, "X-last: v\r\n\r\n");
	assert_int_equal(http_parse_request(buf, n, 65536, 1000, &r),
	    HTTP_ERROR);
	assert_int_equal(r.status, 431);

	/* Overlong head: need more below the limit, error at it. */
	n = (size_t)sprintf(buf, "CONNECT a.b:443 HTTP/1.1\r\nX: ");
	memset(buf + n, 'a', 20000);
	rc = http_parse_request(buf, n + 1000, 2048, 100, &r);
	assert_int_equal(rc, HTTP_NEED_MORE);
	rc = http_parse_request(buf, n + 20000, 2048, 100, &r);
	assert_int_equal(rc, HTTP_ERROR);
	assert_int_equal(r.status, 431);
	/* A complete head that is longer than the limit is refused too. */
	memcpy(buf + n + 3000, "\r\n\r\n", 4);
	rc = http_parse_request(buf, n + 3004, 2048, 100, &r);
	assert_int_equal(rc, HTTP_ERROR);
	/* Overlong request line: 414 */
	memcpy(buf, "GET http://a.b/", 15);
	memset(buf + 15, 'a', 5000);
	rc = http_parse_request(buf, 5015, 2048, 100, &r);
	assert_int_equal(rc, HTTP_ERROR);
	assert_int_equal(r.status, 414);
	free(buf);
}

/* Every prefix of a good head is "need more", never a wrong answer. */
static void
test_http_truncated(void **st)
{
	static const char *good[] = {
		"CONNECT api.example.com:443 HTTP/1.1\r\nHost: api.example.com:443"
		    "\r\nProxy-Authorization: Basic dTpw\r\n\r\n",
		"GET http://x.org:8080/p?q HTTP/1.1\r\nHost: x.org\r\n"
		    "Accept: */*\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h.example\r\n\r\n",
	};
	struct http_req r;
	size_t i, k, n;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		n = strlen(good[i]);
		for (k = 0; k < n; k++)
			assert_int_equal(http_parse_request(good[i], k, MAXH, 100,
			    &r), HTTP_NEED_MORE);
		assert_int_equal(http_parse_request(good[i], n, MAXH, 100, &r),
		    HTTP_OK);
		assert_int_equal(r.head_len, n);
	}
}

static void
test_http_response(void **st)
{
	struct http_resp r;
	const char *ok = "HTTP/1.1 200 Connection established\r\n"
	    "Via: x\r\n\r\nDATA";
	size_t k;

	assert_int_equal(http_parse_response(ok, strlen(ok), 4096, &r),
	    HTTP_OK);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.head_len, strlen(ok) - 4);
	for (k = 0; k < strlen(ok) - 4; k++)
		assert_int_equal(http_parse_response(ok, k, 4096, &r),
		    HTTP_NEED_MORE);
	assert_int_equal(http_parse_response("HTTP/1.0 407\r\n\r\n", 16, 4096,
	    &r), HTTP_OK);
	assert_int_equal(r.status, 407);
	assert_int_equal(http_parse_response("HTTP/1.1 2000 x\r\n\r\n", 19,
	    4096, &r), HTTP_ERROR);
	assert_int_equal(http_parse_response("HTTP/1.1 200 x\n\n", 16, 4096,
	    &r), HTTP_ERROR);
	assert_int_equal(http_parse_response("SSH-2.0-x\r\n\r\n", 13, 4096,
	    &r), HTTP_ERROR);
	assert_int_equal(http_parse_response("HTTP/1.1 200 x\r\n y\r\n\r\n",
	    22, 4096, &r), HTTP_ERROR);
	assert_int_equal(http_parse_response("HTTP/1.1 200 x\r\nXXXX", 20, 16,
	    &r), HTTP_ERROR);
}

static void
test_http_refusal(void **st)
{
	char out[512];
	int n;

	n = http_build_refusal(out, sizeof(out), 403, "no-rule", "denied\n");
	assert_true(n > 0);
	assert_non_null(strstr(out, "HTTP/1.1 403 Forbidden\r\n"));
	assert_non_null(strstr(out, "X-Egressjail-Reason: no-rule\r\n"));
	assert_non_null(strstr(out, "Content-Length: 7\r\n"));
	assert_int_equal(http_build_refusal(out, 10, 403, "x", NULL), -1);
}

/* The health server's probe reader: lax where probes need it (bare LF,
 * no Host), strict on NUL, size and method. */
static int
probe(const char *s, size_t max, struct http_probe *p)
{
	return http_parse_probe(s, strlen(s), max, p);
}

static void
test_http_probe_lax(void **st)
{
	struct http_probe p;

	assert_int_equal(probe("GET /ready HTTP/1.0\r\n\r\n", 4096, &p),
	    HTTP_OK);
	assert_false(p.head);
	assert_int_equal(p.pathlen, 6);
	assert_memory_equal(p.path, "/ready", 6);
	assert_int_equal(probe("HEAD /metrics?x=1 HTTP/1.1\n\n", 4096, &p),
	    HTTP_OK);
	assert_true(p.head);
	assert_int_equal(p.pathlen, 8);
	assert_memory_equal(p.path, "/metrics", 8);
	/* no version at all: the path ends at the line end */
	assert_int_equal(probe("GET /live\n\n", 4096, &p), HTTP_OK);
	assert_int_equal(p.pathlen, 5);
	assert_int_equal(probe("GET \r\n\r\n", 4096, &p), HTTP_OK);
	assert_int_equal(p.pathlen, 0);
	assert_int_equal(probe("GET /ready HTTP/1.1\r\nHost: x\r\n", 4096,
	    &p), HTTP_NEED_MORE);
	assert_int_equal(probe("", 4096, &p), HTTP_NEED_MORE);
	assert_int_equal(probe("\n", 4096, &p), HTTP_NEED_MORE);
}

static void
test_http_probe_malformed(void **st)
{
	struct http_probe p;
	char big[64];

	assert_int_equal(http_parse_probe("GET /\0\r\n\r\n", 9, 4096, &p),
	    HTTP_ERROR);
	assert_int_equal(p.status, 400);
	/* a NUL is refused before the head is complete */
	assert_int_equal(http_parse_probe("GE\0", 3, 4096, &p), HTTP_ERROR);
	assert_int_equal(probe("POST /ready HTTP/1.1\r\n\r\n", 4096, &p),
	    HTTP_ERROR);
	assert_int_equal(p.status, 405);
	assert_int_equal(probe("get /ready\n\n", 4096, &p), HTTP_ERROR);
	assert_int_equal(p.status, 405);
	/* no blank line within the limit: refused once the limit is full,
	 * and bytes past the limit are never read */
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /", 5);
	assert_int_equal(http_parse_probe(big, 31, 32, &p), HTTP_NEED_MORE);
	assert_int_equal(http_parse_probe(big, 32, 32, &p), HTTP_ERROR);
	assert_int_equal(p.status, 400);
	memcpy(big + 32, "\n\n", 2);
	assert_int_equal(http_parse_probe(big, 34, 32, &p), HTTP_ERROR);
	memcpy(big + 30, "\n\n", 2);
	assert_int_equal(http_parse_probe(big, 34, 32, &p), HTTP_OK);
	assert_int_equal(p.pathlen, 26);
}

int
main(void)
{
	const struct CMUnitTest tests[] = TEST_LIST(HTTP_TESTS);

	return cmocka_run_group_tests(tests, NULL, NULL);
}
