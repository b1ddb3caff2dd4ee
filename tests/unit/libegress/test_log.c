/* test_log.c - log line format, quoting, rate limiter arithmetic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "logbuf.h"

#include "test_list.h"

static const char *
q(const char *s, size_t len, size_t max)
{
	static char buf[4 * 64 + 8];

	return eg_log_quote(s, len, max, buf, sizeof(buf));
}

static void
test_log_quote_plain(void **state)
{
	(void)state;
	assert_string_equal(q("abc def", 7, 64), "\"abc def\"");
	assert_string_equal(q("", 0, 64), "\"\"");
	assert_string_equal(q(NULL, 5, 64), "\"\"");
}

static void
test_log_quote_escapes(void **state)
{
	(void)state;
	assert_string_equal(q("a\"b\\c", 5, 64), "\"a\\\"b\\\\c\"");
	assert_string_equal(q("x\ny\r\t", 5, 64), "\"x\\x0ay\\x0d\\x09\"");
	assert_string_equal(q("\x1b[31m", 5, 64), "\"\\x1b[31m\"");
	assert_string_equal(q("\x7f", 1, 64), "\"\\x7f\"");
	/* UTF-8 is not printable ASCII: every byte escaped. */
	assert_string_equal(q("\xc3\xa9", 2, 64), "\"\\xc3\\xa9\"");
}

static void
test_log_quote_embedded_nul(void **state)
{
	(void)state;
	/* len, not strlen, decides: a NUL cannot hide what follows. */
	assert_string_equal(q("ab\0cd", 5, 64), "\"ab\\x00cd\"");
}

static void
test_log_quote_overlong(void **state)
{
	char in[200];

	(void)state;
	memset(in, 'a', sizeof(in));
	assert_string_equal(q(in, 10, 4), "\"aaaa...\"");
	assert_string_equal(q(in, 4, 4), "\"aaaa\"");
	assert_string_equal(q(in, 5, 4), "\"aaaa...\"");
}

static void
test_log_quote_worst_case_fits(void **state)
{
	char in[64], buf[4 * 64 + 8];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (char)0x80;
	/* max bytes of pure escapes plus the marker fit in 4 * max + 8. */
	eg_log_quote(in, 65, 64, buf, sizeof(buf));
	assert_int_equal(strlen(buf), 1 + 4 * 64 + 3 + 1);
	assert_memory_equal(buf + 1 + 4 * 64, "...\"", 4);
}

static void
test_log_quote_small_buffer(void **state)
{
	char buf[12];

	(void)state;
	/* Never overruns a buffer smaller than the rule asks for. */
	eg_log_quote("\x01\x02\x03\x04", 4, 4, buf, sizeof(buf));
	assert_true(strlen(buf) < sizeof(buf));
	assert_string_equal(buf, "\"\\x01...\"");
	eg_log_quote("abc", 3, 3, buf, 3);
	assert_string_equal(buf, "");
}

static void
test_log_ratelimit(void **state)
{
	struct eg_ratelimit rl = EG_RATELIMIT_INIT(1000, 3);
	uint64_t sup = 99;
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		assert_true(eg_ratelimit_pass(&rl, 5000 + (uint64_t)i, &sup));
		assert_int_equal(sup, 0);
	}
	for (i = 0; i < 7; i++)
		assert_false(eg_ratelimit_pass(&rl, 5500, &sup));
	/* Still inside the window at 5999. */
	assert_false(eg_ratelimit_pass(&rl, 5999, &sup));
	/* New window: the first line carries what was suppressed. */
	assert_true(eg_ratelimit_pass(&rl, 6000, &sup));
	assert_int_equal(sup, 8);
	assert_true(eg_ratelimit_pass(&rl, 6001, &sup));
	assert_int_equal(sup, 0);
}

static void
test_log_ratelimit_clock_back(void **state)
{
	struct eg_ratelimit rl = EG_RATELIMIT_INIT(1000, 1);
	uint64_t sup;

	(void)state;
	assert_true(eg_ratelimit_pass(&rl, 10000, &sup));
	assert_false(eg_ratelimit_pass(&rl, 10001, &sup));
	assert_true(eg_ratelimit_pass(&rl, 500, &sup));
	assert_int_equal(sup, 1);
}

static void
test_log_ratelimit_zero_burst(void **state)
{
	struct eg_ratelimit rl = EG_RATELIMIT_INIT(1000, 0);

	(void)state;
	assert_false(eg_ratelimit_pass(&rl, 1, NULL));
	assert_false(eg_ratelimit_pass(&rl, 5000, NULL));
	assert_int_equal(rl.suppressed, 2);
}

/* Run fn with stderr redirected into a temp file; return what it wrote. */
static char *
capture(void (*fn)(void))
{
	static char out[8192];
	FILE *tmp = tmpfile();
	int saved = dup(2);
	size_t n;

	assert_non_null(tmp);
	assert_true(saved >= 0);
	dup2(fileno(tmp), 2);
	fn();
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	n = fread(out, 1, sizeof(out) - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
	return out;
}

static void
emit_lines(void)
{
	eg_log_init("testd", EG_LOG_INFO);
	eg_log(EG_LOG_DEBUG, "hidden", "x=%d", 1);
	eg_log(EG_LOG_INFO, "hello", "k=%d name=%s", 42, "v");
	eg_log(EG_LOG_ERR, "bare", "%s", "");
}

static void
test_log_line_format(void **state)
{
	char *out, *l2;

	(void)state;
	out = capture(emit_lines);
	assert_null(strstr(out, "hidden"));
	/* ts=YYYY-MM-DDTHH:MM:SS.mmmZ */
	assert_memory_equal(out, "ts=", 3);
	assert_int_equal(out[7], '-');
	assert_int_equal(out[13], 'T');
	assert_int_equal(out[22], '.');
	assert_int_equal(out[26], 'Z');
	assert_memory_equal(out + 27,
	    " level=info daemon=testd event=hello k=42 name=v\n", 49);
	l2 = strchr(out, '\n') + 1;
	assert_non_null(strstr(l2, " level=err daemon=testd event=bare\n"));
}

static void
emit_long(void)
{
	static char big[10000];

	memset(big, 'x', sizeof(big) - 1);
	eg_log_init("testd", EG_LOG_DEBUG);
	eg_log(EG_LOG_WARN, "long", "v=%s", big);
	eg_log(EG_LOG_INFO, "after", "%s", "");
}

static void
test_log_line_bounded(void **state)
{
	char *out, *nl;

	(void)state;
	out = capture(emit_long);
	nl = strchr(out, '\n');
	assert_non_null(nl);
	assert_true(nl - out < 4096);
	/* The next line starts cleanly. */
	assert_memory_equal(nl + 1, "ts=", 3);
	assert_non_null(strstr(nl + 1, "event=after\n"));
}

static void
emit_rl(void)
{
	struct eg_ratelimit rl = EG_RATELIMIT_INIT(60000, 2);
	int i;

	eg_log_init("testd", EG_LOG_INFO);
	for (i = 0; i < 5; i++)
		eg_log_rl(&rl, EG_LOG_WARN, "flood", "i=%d", i);
	/* Force a new window without waiting. */
	rl.window_start -= 60000;
	eg_log_rl(&rl, EG_LOG_WARN, "flood", "i=%d", 5);
}

static void
test_log_rl(void **state)
{
	char *out;

	(void)state;
	out = capture(emit_rl);
	assert_non_null(strstr(out, "event=flood i=0\n"));
	assert_non_null(strstr(out, "event=flood i=1\n"));
	assert_null(strstr(out, "i=2"));
	assert_null(strstr(out, "i=4"));
	assert_non_null(strstr(out, "event=flood i=5 suppressed=3\n"));
}

static void
emit_journal(void)
{
	struct stat st;
	char v[64];

	/* stderr is "journald's stream": JOURNAL_STREAM names it */
	assert_int_equal(fstat(2, &st), 0);
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", v, 1);
	eg_log_init("testd", EG_LOG_DEBUG);
	eg_log(EG_LOG_DEBUG, "d", "%s", "");
	eg_log(EG_LOG_INFO, "i", "%s", "");
	eg_log(EG_LOG_WARN, "w", "%s", "");
	eg_log(EG_LOG_ERR, "e", "%s", "");
	/* another stream's numbers: bare lines */
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino + 1);
	setenv("JOURNAL_STREAM", v, 1);
	eg_log_init("testd", EG_LOG_INFO);
	eg_log(EG_LOG_ERR, "bare", "%s", "");
	unsetenv("JOURNAL_STREAM");
	eg_log_init("testd", EG_LOG_INFO);
}

/* On journald's stream each line carries its syslog priority, so that
 * "journalctl -p err" finds errors; elsewhere never. */
static void
test_log_journal_priority(void **state)
{
	char *out;

	(void)state;
	out = capture(emit_journal);
	assert_memory_equal(out, "<7>ts=", 6);
	assert_non_null(strstr(out, "\n<6>ts="));
	assert_non_null(strstr(out, "\n<4>ts="));
	assert_non_null(strstr(out, "\n<3>ts="));
	assert_non_null(strstr(out, "\nts="));
	assert_non_null(strstr(strstr(out, "\nts="), "event=bare\n"));
}

static void
test_log_level_parse(void **state)
{
	enum eg_log_level l;

	(void)state;
	assert_true(eg_log_level_parse("debug", &l));
	assert_int_equal(l, EG_LOG_DEBUG);
	assert_true(eg_log_level_parse("WARN", &l));
	assert_int_equal(l, EG_LOG_WARN);
	assert_true(eg_log_level_parse("err", &l));
	assert_int_equal(l, EG_LOG_ERR);
	assert_false(eg_log_level_parse("verbose", &l));
	assert_false(eg_log_level_parse("", &l));
	assert_false(eg_log_level_parse("info\n", &l));
	assert_false(eg_log_level_parse(NULL, &l));
}

static void
test_log_now_monotonic(void **state)
{
	uint64_t a, b;

	(void)state;
	a = eg_now_ms();
	b = eg_now_ms();
	assert_true(b >= a);
}

static bool
lb_line(struct eg_logbuf *lb, enum eg_log_level lvl, const char *event,
    const char *fmt, ...)
{
	va_list ap;
	bool ok;

	va_start(ap, fmt);
	ok = eg_logbuf_vline(lb, lvl, event, fmt, ap);
	va_end(ap);
	return ok;
}

/*
 * The head of a buffered line (written by hand, not by snprintf) has
 * eg_log's shape; a head that cannot fit is refused, not cut.
 */
static void
test_log_logbuf_head(void **state)
{
	struct eg_logbuf lb;
	char line[256], big[EG_LOGBUF_LINE + 8];
	const char *p;
	size_t i;

	(void)state;
	assert_int_equal(eg_logbuf_init(&lb, "testd", "dropped", 65536), 0);
	assert_true(lb_line(&lb, EG_LOG_WARN, "access", "host=%s n=%d",
	    "a.example", 7));
	assert_true(lb.n < sizeof(line));
	memcpy(line, lb.buf, lb.n);
	line[lb.n] = '\0';
	/* ts=YYYY-MM-DDTHH:MM:SS.mmmZ */
	assert_int_equal(strncmp(line, "ts=", 3), 0);
	for (i = 0, p = line + 3; i < 23; i++, p++) {
		const char *shape = "dddd-dd-ddTdd:dd:dd.ddd";

		if (shape[i] == 'd')
			assert_true(*p >= '0' && *p <= '9');
		else
			assert_int_equal(*p, shape[i]);
	}
	assert_string_equal(p, "Z level=warn daemon=testd event=access "
	    "host=a.example n=7\n");
	memset(big, 'e', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	lb.n = 0;
	assert_false(lb_line(&lb, EG_LOG_INFO, big, "x=%d", 1));
	free(lb.buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = TEST_LIST(LOG_TESTS);

	return cmocka_run_group_tests(tests, NULL, NULL);
}
