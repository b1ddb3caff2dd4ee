/*
 * test_ask.c - the ask-mode line protocol: questions and answers that
 * parse, every malformed line refused, formatters read back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ask.h"

#include "test_list.h"

static bool
q_parse(const char *s, struct eg_ask_question *q, char *err)
{
	return eg_ask_parse_question(s, strlen(s), q, err);
}

static bool
a_parse(const char *s, struct eg_ask_answer *a, char *err)
{
	return eg_ask_parse_answer(s, strlen(s), a, err);
}

static void
test_ask_question_ok(void **state)
{
	struct eg_ask_question q;
	char err[EG_ERR_MAX], buf[EG_ASK_LINE_MAX];

	(void)state;
	assert_true(q_parse("ask 17 default tcp example.com 443 10.0.0.5", &q,
	    err));
	assert_int_equal(q.id, 17);
	assert_string_equal(q.workload, "default");
	assert_int_equal(q.kind, EG_ASK_TCP);
	assert_string_equal(q.name, "example.com");
	assert_int_equal(q.arg, 443);
	assert_int_equal(q.source.family, AF_INET);
	assert_int_equal(eg_ask_format_question(&q, buf), 44);
	assert_string_equal(buf,
	    "ask 17 default tcp example.com 443 10.0.0.5\n");

	assert_true(q_parse("ask 4294967295 ci-1 dns _dmarc.a.b 16 fd00::5",
	    &q, err));
	assert_int_equal(q.id, 4294967295u);
	assert_int_equal(q.kind, EG_ASK_DNS);
	assert_int_equal(q.arg, 16);
	assert_int_equal(q.source.family, AF_INET6);
}

static void
assert_q_bad(const char *s, const char *want)
{
	struct eg_ask_question q;
	char err[EG_ERR_MAX];

	memset(&q, 0x5a, sizeof(q));
	err[0] = '\0';
	if (q_parse(s, &q, err))
		fail_msg("accepted \"%s\"", s);
	if (strstr(err, want) == NULL)
		fail_msg("\"%s\": \"%s\" lacks \"%s\"", s, err, want);
	if (((unsigned char *)&q)[0] != 0x5a)
		fail_msg("\"%s\": out written on failure", s);
}

static void
test_ask_question_bad(void **state)
{
	char big[EG_ASK_LINE_MAX + 8];

	(void)state;
	assert_q_bad("", "empty line");
	assert_q_bad("ask 1 default tcp a.com 443", "a question is");
	assert_q_bad("ask 1 default tcp a.com 443 1.2.3.4 x", "a question is");
	assert_q_bad("ask  1 default tcp a.com 443 1.2.3.4", "empty field");
	assert_q_bad(" ask 1 default tcp a.com 443 1.2.3.4", "empty field");
	assert_q_bad("ask 1 default tcp a.com 443 1.2.3.4 ", "empty field");
	assert_q_bad("ask 1 default tcp a.com 443\t1.2.3.4", "printable");
	assert_q_bad("ask 1 default tcp a.com 443 1.2.3.4\r", "printable");
	assert_q_bad("ASK 1 default tcp a.com 443 1.2.3.4", "a question is");
	assert_q_bad("ask 0 default tcp a.com 443 1.2.3.4", "id");
	assert_q_bad("ask 01 default tcp a.com 443 1.2.3.4", "id");
	assert_q_bad("ask -1 default tcp a.com 443 1.2.3.4", "id");
	assert_q_bad("ask 4294967296 default tcp a.com 443 1.2.3.4", "id");
	assert_q_bad("ask 99999999999999999999999 default tcp a.com 443 "
	    "1.2.3.4", "id");
	assert_q_bad("ask 1 Default tcp a.com 443 1.2.3.4", "workload");
	assert_q_bad("ask 1 -x tcp a.com 443 1.2.3.4", "workload");
	assert_q_bad("ask 1 abcdefghijabcdefghijabcdefghijabc tcp a.com 443 "
	    "1.2.3.4", "workload");
	assert_q_bad("ask 1 default udp a.com 443 1.2.3.4", "kind");
	assert_q_bad("ask 1 default tcp A.com 443 1.2.3.4", "bad name");
	assert_q_bad("ask 1 default tcp a.com. 443 1.2.3.4", "bad name");
	assert_q_bad("ask 1 default tcp a..com 443 1.2.3.4", "bad name");
	assert_q_bad("ask 1 default tcp 1.2.3.4 443 1.2.3.4", "bad name");
	assert_q_bad("ask 1 default tcp a.com 0 1.2.3.4", "port");
	assert_q_bad("ask 1 default tcp a.com 65536 1.2.3.4", "port");
	assert_q_bad("ask 1 default tcp a.com +443 1.2.3.4", "port");
	assert_q_bad("ask 1 default dns a.com 0 1.2.3.4", "qtype");
	assert_q_bad("ask 1 default tcp a.com 443 a.com", "source");
	assert_q_bad("ask 1 default tcp a.com 443 [::1]", "source");
	assert_q_bad("ask 1 default tcp a.com 443 fe80::1%lo", "source");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_q_bad(big, "longer than");
}

static void
test_ask_answer_ok(void **state)
{
	struct eg_ask_answer a, back;
	char err[EG_ERR_MAX], buf[EG_ASK_LINE_MAX];
	static const char *const good[] = { "7 allow once", "7 allow always",
	    "7 deny", "7 allow 2s", "7 allow 24h", "7 allow 1500ms" };
	size_t i, n;

	(void)state;
	assert_true(a_parse("3 allow once", &a, err));
	assert_int_equal(a.id, 3);
	assert_int_equal(a.verdict, EG_ASK_ONCE);
	assert_true(a_parse("3 allow 2s", &a, err));
	assert_int_equal(a.verdict, EG_ASK_FOR);
	assert_int_equal(a.for_ms, 2000);
	assert_true(a_parse("3 allow 5m", &a, err));
	assert_int_equal(a.for_ms, 300000);
	assert_true(a_parse("3 deny", &a, err));
	assert_int_equal(a.verdict, EG_ASK_DENY);
	assert_true(a_parse("3 allow always", &a, err));
	assert_int_equal(a.verdict, EG_ASK_ALWAYS);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_true(a_parse(good[i], &a, err));
		n = eg_ask_format_answer(&a, buf);
		assert_true(n > 0 && buf[n - 1] == '\n');
		assert_true(eg_ask_parse_answer(buf, n - 1, &back, err));
		assert_int_equal(back.id, a.id);
		assert_int_equal(back.verdict, a.verdict);
		assert_int_equal(back.for_ms, a.for_ms);
	}
}

static void
assert_a_bad(const char *s)
{
	struct eg_ask_answer a;
	char err[EG_ERR_MAX];

	memset(&a, 0x5a, sizeof(a));
	err[0] = '\0';
	if (a_parse(s, &a, err))
		fail_msg("accepted \"%s\"", s);
	if (err[0] == '\0' || strchr(err, '\n') != NULL)
		fail_msg("\"%s\": no one-line reason", s);
	if (((unsigned char *)&a)[0] != 0x5a)
		fail_msg("\"%s\": out written on failure", s);
}

static void
test_ask_answer_bad(void **state)
{
	(void)state;
	assert_a_bad("");
	assert_a_bad("7");
	assert_a_bad("allow once");
	assert_a_bad("7 allow");
	assert_a_bad("7 allow once now");
	assert_a_bad("7 deny now");
	assert_a_bad("7 Allow once");
	assert_a_bad("7 allow 0s");
	assert_a_bad("7 allow 999ms");
	assert_a_bad("7 allow 25h");
	assert_a_bad("7 allow 2x");
	assert_a_bad("7 allow -2s");
	assert_a_bad("7 allow forever");
	assert_a_bad("0 deny");
	assert_a_bad("07 deny");
	assert_a_bad("7  deny");
	assert_a_bad("7 deny ");
	assert_a_bad("7 d\x01ny");
	assert_a_bad("7 deny\n");
	assert_a_bad("y");
}

static void
test_ask_expired_and_format(void **state)
{
	struct eg_ask_question q;
	struct eg_ask_answer a;
	char buf[EG_ASK_LINE_MAX];
	uint32_t id;

	(void)state;
	assert_true(eg_ask_parse_expired("expired 9", 9, &id));
	assert_int_equal(id, 9);
	assert_false(eg_ask_parse_expired("expired 0", 9, &id));
	assert_false(eg_ask_parse_expired("expired", 7, &id));
	assert_false(eg_ask_parse_expired("expired 9 9", 11, &id));
	/* A question that would not parse back is never sent. */
	memset(&q, 0, sizeof(q));
	q.id = 1;
	q.arg = 443;
	strcpy(q.workload, "default");
	strcpy(q.name, "Bad.Name");
	eg_ip_parse("10.0.0.1", &q.source, true);
	assert_int_equal(eg_ask_format_question(&q, buf), 0);
	strcpy(q.name, "a b");
	assert_int_equal(eg_ask_format_question(&q, buf), 0);
	strcpy(q.name, "ok.example");
	strcpy(q.workload, "x y");
	assert_int_equal(eg_ask_format_question(&q, buf), 0);
	memset(&a, 0, sizeof(a));
	a.verdict = EG_ASK_DENY;
	assert_int_equal(eg_ask_format_answer(&a, buf), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = TEST_LIST(ASK_TESTS);

	return cmocka_run_group_tests(tests, NULL, NULL);
}
