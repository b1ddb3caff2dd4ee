/*
 * test_judge.c - connectd/judge.c: what a client sends into a tunnel,
 * held and judged: SNI against the allowed name, every HTTP request's Host
 * on a kept-alive connection (bodies skipped by their framing), other
 * protocols passed, malformed input cut, the same answers whether the
 * bytes come at once or one by one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "judge.h"

#include "test_list.h"

#define CORPUS EG_TEST_SRCDIR "/../../fuzz/corpus/clienthello/"

struct out {
	char buf[1 << 17];
	size_t n;
};

static void
take(void *arg, const char *p, size_t n)
{
	struct out *o = arg;

	assert_true(o->n + n <= sizeof(o->buf));
	memcpy(o->buf + o->n, p, n);
	o->n += n;
}

struct res {
	int rc;
	size_t passed;
	const char *why;
	char detail[HTTP_HOST_MAX + 1];
};

/* Judge in (step bytes at a time, 0: at once), then flush when flush. */
static struct res
judge(const char *host, uint16_t port, bool ip, const char *in, size_t n,
    size_t step, bool flush)
{
	static struct out o;
	struct judge j;
	struct res r;
	size_t off = 0, k;

	o.n = 0;
	assert_int_equal(judge_init(&j, host, port, ip, 16384), 0);
	r.rc = JUDGE_OK;
	while (r.rc == JUDGE_OK && off < n) {
		k = step == 0 || n - off < step ? n - off : step;
		r.rc = judge_feed(&j, in + off, k, take, &o);
		off += k;
	}
	if (r.rc == JUDGE_OK && flush)
		r.rc = judge_flush(&j, take, &o);
	/* What passed is always the input's own prefix. */
	assert_true(o.n <= n);
	assert_memory_equal(o.buf, in, o.n);
	r.passed = o.n;
	r.why = r.rc == JUDGE_CUT ? j.why : NULL;
	snprintf(r.detail, sizeof(r.detail), "%s", j.detail);
	judge_free(&j);
	return r;
}

/* The same at once and byte by byte. */
static struct res
judge2(const char *host, uint16_t port, const char *in, size_t n, bool flush)
{
	struct res a = judge(host, port, false, in, n, 0, flush);
	struct res b = judge(host, port, false, in, n, 1, flush);

	assert_int_equal(a.rc, b.rc);
	assert_int_equal(a.passed, b.passed);
	return a;
}

#define S(x) x, sizeof(x) - 1

static char *
slurp(const char *name, size_t *n)
{
	char path[512];
	FILE *f;
	char *p = malloc(70000);

	snprintf(path, sizeof(path), "%s%s", CORPUS, name);
	assert_non_null(p);
	assert_non_null(f = fopen(path, "rb"));
	*n = fread(p, 1, 70000, f);
	fclose(f);
	return p;
}

static void
test_judge_tls_sni(void **state)
{
	size_t n;
	char *h = slurp("curl", &n);		/* SNI host.test */
	struct res r;

	(void)state;
	r = judge2("host.test", 443, h, n, false);
	assert_int_equal(r.rc, JUDGE_OK);
	assert_int_equal(r.passed, n);
	r = judge2("HOST.test.", 443, h, n, false);
	assert_int_equal(r.rc, JUDGE_OK);
	/* CONNECT allowed.test:443, ClientHello for host.test: fronting */
	r = judge2("allowed.test", 443, h, n, false);
	assert_int_equal(r.rc, JUDGE_CUT);
	assert_int_equal(r.passed, 0);
	assert_string_equal(r.why, "sni-mismatch");
	assert_string_equal(r.detail, "host.test");
	/* a hello cut short: held, then cut at EOF or timeout */
	r = judge("host.test", 443, false, h, n - 1, 0, false);
	assert_int_equal(r.rc, JUDGE_OK);
	assert_int_equal(r.passed, 0);
	r = judge("host.test", 443, false, h, n - 1, 0, true);
	assert_int_equal(r.rc, JUDGE_CUT);
	assert_string_equal(r.why, "incomplete-hello");
	free(h);
	h = slurp("curl-frag7", &n);		/* fragmented over records */
	r = judge2("allowed.test", 443, h, n, false);
	assert_string_equal(r.why, "sni-mismatch");
	r = judge2("host.test", 443, h, n, false);
	assert_int_equal(r.rc, JUDGE_OK);
	free(h);
}

/*
 * The held-bytes buffer comes with the first byte held and grows to what
 * a unit needs: a judge waiting for a tunnel's first bytes (every idle
 * tunnel) holds none.  A request head of 5 KiB, byte by byte, still
 * passes whole.
 */
static void
test_judge_buffer_on_demand(void **state)
{
	static struct out o;
	char req[6000];
	struct judge j;
	size_t i, n;

	(void)state;
	n = (size_t)snprintf(req, sizeof(req), "GET / HTTP/1.1\r\n"
	    "Host: allowed.test\r\nX-Pad: %05000d\r\n\r\n", 0);
	o.n = 0;
	assert_int_equal(judge_init(&j, "allowed.test", 80, false, 16384), 0);
	assert_null(j.buf);
	assert_int_equal(j.alloc, 0);
	assert_int_equal(judge_feed(&j, req, 1, take, &o), JUDGE_OK);
	assert_non_null(j.buf);
	assert_int_equal(j.alloc, 2048);
	for (i = 1; i < n; i++)
		assert_int_equal(judge_feed(&j, req + i, 1, take, &o),
		    JUDGE_OK);
	assert_int_equal(o.n, n);
	assert_memory_equal(o.buf, req, n);
	assert_int_equal(j.alloc, 8192);
	judge_free(&j);
	assert_null(j.buf);
}

static void
test_judge_tls_no_sni_and_ech(void **state)
{
	size_t n;
	char *h = slurp("openssl-nosni", &n);
	struct res r;

	(void)state;
	r = judge2("allowed.test", 443, h, n, false);
	assert_string_equal(r.why, "no-sni");
	/* a direct endpoint by address: no name to hold the hello to */
	r = judge("192.0.2.7", 443, true, h, n, 0, false);
	assert_int_equal(r.rc, JUDGE_OK);
	assert_int_equal(r.passed, n);
	free(h);
	h = slurp("curl-ech", &n);		/* outer SNI host.test */
	r = judge2("host.test", 443, h, n, false);
	assert_int_equal(r.rc, JUDGE_CUT);
	assert_string_equal(r.why, "ech");
	free(h);
	/* a handshake record that is no ClientHello */
	r = judge2("host.test", 443, S("\x16\x03\x01\x00\x05\x02\x00\x00\x01\x00"),
	    false);
	assert_string_equal(r.why, "bad-hello");
}

static void
test_judge_http_keepalive(void **state)
{
	static const char ok2[] =
	    "GET /1 HTTP/1.1\r\nHost: allowed.test\r\n\r\n"
	    "POST /2 HTTP/1.1\r\nHost: Allowed.Test:80\r\nContent-Length: 40\r\n\r\n"
	    "GET / HTTP/1.1\r\nHost: forbidden.test\r\n\r\n"
	    "GET /3 HTTP/1.1\r\nHost: allowed.test.\r\n\r\n";
	static const char first[] =
	    "GET /1 HTTP/1.1\r\nHost: allowed.test\r\n\r\n";
	static const char bad[] =
	    "GET /1 HTTP/1.1\r\nHost: allowed.test\r\n\r\n"
	    "GET /2 HTTP/1.1\r\nHost: forbidden.test\r\n\r\n";
	struct res r;

	(void)state;
	/* the forbidden Host inside a Content-Length body is only bytes */
	r = judge2("allowed.test", 80, S(ok2), false);
	assert_int_equal(r.rc, JUDGE_OK);
	assert_int_equal(r.passed, sizeof(ok2) - 1);
	/* the second request names another host: only the first passes */
	r = judge2("allowed.test", 80, S(bad), false);
	assert_int_equal(r.rc, JUDGE_CUT);
	assert_string_equal(r.why, "host-mismatch");
	assert_string_equal(r.detail, "forbidden.test");
	assert_int_equal(r.passed, sizeof(first) - 1);
	/* the port in Host must be the tunnel's */
	r = judge2("allowed.test", 8080, S("GET / HTTP/1.1\r\nHost: allowed.test:80\r\n\r\n"), false);
	assert_string_equal(r.why, "host-mismatch");
	r = judge2("allowed.test", 8080, S("GET / HTTP/1.1\r\nHost: allowed.test:8080\r\n\r\n"), false);
	assert_int_equal(r.rc, JUDGE_OK);
	/* absolute form: target and Host both */
	r = judge2("allowed.test", 80, S("GET http://forbidden.test/ HTTP/1.1\r\nHost: allowed.test\r\n\r\n"), false);
	assert_string_equal(r.why, "host-mismatch");
	r = judge2("allowed.test", 80, S("GET http://allowed.test/ HTTP/1.1\r\nHost: forbidden.test\r\n\r\n"), false);
	assert_string_equal(r.why, "host-mismatch");
	/* HTTP/1.0 without Host: the server would pick its default */
	r = judge2("allowed.test", 80, S("GET / HTTP/1.0\r\n\r\n"), false);
	assert_string_equal(r.why, "bad-request");
}

static void
test_judge_http_chunked(void **state)
{
	static const char ok[] =
	    "POST / HTTP/1.1\r\nHost: allowed.test\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "28;ext=1\r\nGET / HTTP/1.1\r\nHost: forbidden.test\r\n\r\n\r\n"
	    "0\r\nTrailer: x\r\n\r\n"
	    "GET /next HTTP/1.1\r\nHost: allowed.test\r\n\r\n"
	    "GET /x HTTP/1.1\r\nHost: forbidden.test\r\n\r\n";
	struct res r;

	(void)state;
	r = judge2("allowed.test", 80, S(ok), false);
	assert_int_equal(r.rc, JUDGE_CUT);
	assert_string_equal(r.why, "host-mismatch");
	assert_int_equal(r.passed, sizeof(ok) - 1 -
	    strlen("GET /x HTTP/1.1\r\nHost: forbidden.test\r\n\r\n"));
	r = judge2("allowed.test", 80, S("POST / HTTP/1.1\r\nHost: allowed.test\r\n"
	    "Transfer-Encoding: gzip, chunked\r\n\r\n"), false);
	assert_string_equal(r.why, "bad-framing");
	r = judge2("allowed.test", 80, S("POST / HTTP/1.1\r\nHost: allowed.test\r\n"
	    "Transfer-Encoding: chunked\r\n\r\nzz\r\n"), false);
	assert_string_equal(r.why, "bad-chunk");
	r = judge2("allowed.test", 80, S("POST / HTTP/1.1\r\nHost: allowed.test\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n1\r\naXY"), false);
	assert_string_equal(r.why, "bad-chunk");
	r = judge2("allowed.test", 80, S("POST / HTTP/1.1\r\nHost: allowed.test\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n1\naX"), false);
	assert_string_equal(r.why, "bad-chunk");
}

static void
test_judge_http_refused_shapes(void **state)
{
	struct res r;

	(void)state;
	r = judge2("allowed.test", 80, S("GET / HTTP/1.1\nHost: allowed.test\n\n"), false);
	assert_string_equal(r.why, "bad-request");
	r = judge2("allowed.test", 80, S("GET /\r\n"), false);	/* 0.9 */
	assert_string_equal(r.why, "bad-request");
	r = judge2("allowed.test", 80, S("GET / HTTP/1.1\r\nHost: allowed.test\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n"), false);
	assert_string_equal(r.why, "http-upgrade");
	r = judge2("allowed.test", 443, S("CONNECT forbidden.test:443 HTTP/1.1\r\n"
	    "Host: forbidden.test:443\r\n\r\n"), false);
	assert_string_equal(r.why, "connect-in-tunnel");
	r = judge2("allowed.test", 80, S("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), false);
	assert_string_equal(r.why, "bad-request");
	/* a partial head at EOF */
	r = judge2("allowed.test", 80, S("GET / HT"), true);
	assert_string_equal(r.why, "incomplete-request");
}

static void
test_judge_other_protocols_pass(void **state)
{
	static const char ssh[] = "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n\x00\x00\x01\x14";
	struct res r;

	(void)state;
	r = judge2("allowed.test", 22, S(ssh), false);
	assert_int_equal(r.rc, JUDGE_OK);
	assert_int_equal(r.passed, sizeof(ssh) - 1);
	r = judge2("allowed.test", 25, S("EHLO me\r\nMAIL FROM:<a@b>\r\n"), false);
	assert_int_equal(r.passed, strlen("EHLO me\r\nMAIL FROM:<a@b>\r\n"));
	r = judge2("allowed.test", 5432, S("\x00\x00\x00\x08\x04\xd2\x16\x2f"), false);
	assert_int_equal(r.passed, 8);
	/* binary data that starts with 22 but is no TLS record */
	r = judge2("allowed.test", 9000, S("\x16\x9a\x01\x02"), false);
	assert_int_equal(r.rc, JUDGE_OK);
	assert_int_equal(r.passed, 4);
	r = judge2("allowed.test", 9000, S("\x16"), true);
	assert_int_equal(r.rc, JUDGE_OK);
	assert_int_equal(r.passed, 1);
	/* an unfinished line that is not HTTP passes at EOF */
	r = judge2("allowed.test", 6379, S("PING"), true);
	assert_int_equal(r.rc, JUDGE_OK);
	assert_int_equal(r.passed, 4);
	/* and a line longer than the hold buffer that is not HTTP passes */
	{
		char *big = malloc(20000);

		memset(big, 'A', 20000);
		r = judge("allowed.test", 1, false, big, 20000, 0, false);
		assert_int_equal(r.rc, JUDGE_OK);
		assert_int_equal(r.passed, 20000);
		memcpy(big, "GET /", 5);
		r = judge("allowed.test", 1, false, big, 20000, 0, false);
		assert_int_equal(r.rc, JUDGE_CUT);
		free(big);
	}
}

/* Behind a request the intake judged (transparent plain HTTP). */
static void
test_judge_after_request(void **state)
{
	struct judge j;
	struct http_req req;
	static struct out o;
	static const char first[] =
	    "POST /a HTTP/1.1\r\nHost: allowed.test\r\nContent-Length: 5\r\n\r\n";
	static const char first2[] = "GET / HTTP/1.1\r\nHost: allowed.test\r\n\r\n";
	static const char rest[] = "hello"
	    "GET /b HTTP/1.1\r\nHost: allowed.test\r\n\r\n"
	    "GET /c HTTP/1.1\r\nHost: forbidden.test\r\n\r\n";

	(void)state;
	assert_int_equal(http_parse_request(first, sizeof(first) - 1, 16384,
	    100, &req), HTTP_OK);
	assert_int_equal(judge_init(&j, "allowed.test", 80, false, 16384), 0);
	assert_int_equal(judge_after_request(&j, &req), JUDGE_OK);
	o.n = 0;
	assert_int_equal(judge_feed(&j, rest, sizeof(rest) - 1, take, &o),
	    JUDGE_CUT);
	assert_int_equal(o.n, 5 + strlen("GET /b HTTP/1.1\r\nHost: allowed.test\r\n\r\n"));
	assert_string_equal(j.why, "host-mismatch");
	judge_free(&j);
	/* after HTTP, a ClientHello is no request */
	assert_int_equal(judge_init(&j, "allowed.test", 80, false, 16384), 0);
	assert_int_equal(http_parse_request(first2, sizeof(first2) - 1, 16384,
	    100, &req), HTTP_OK);
	assert_int_equal(judge_after_request(&j, &req), JUDGE_OK);
	o.n = 0;
	assert_int_equal(judge_feed(&j, "\x16\x03\x01\x00\x10", 5, take, &o),
	    JUDGE_CUT);
	assert_string_equal(j.why, "bad-request");
	assert_int_equal(o.n, 0);
	judge_free(&j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = TEST_LIST(JUDGE_TESTS);

	return cmocka_run_group_tests(tests, NULL, NULL);
}
