/*
 * fuzz_ask.c - the ask-mode line protocol: any line either fails with a
 * one-line reason or parses to a question or answer whose rendering
 * parses back to the same thing.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ask.c"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct eg_ask_question q, qb;
	struct eg_ask_answer a, ab;
	char buf[EG_ASK_LINE_MAX], err[EG_ERR_MAX];
	size_t n;
	uint32_t id;

	err[0] = '\0';
	if (eg_ask_parse_question((const char *)data, size, &q, err)) {
		n = eg_ask_format_question(&q, buf);
		if (n == 0 || buf[n - 1] != '\n' ||
		    !eg_ask_parse_question(buf, n - 1, &qb, NULL) ||
		    qb.id != q.id || qb.kind != q.kind || qb.arg != q.arg ||
		    strcmp(qb.name, q.name) != 0 ||
		    strcmp(qb.workload, q.workload) != 0 ||
		    !eg_ip_equal(&qb.source, &q.source))
			abort();
	} else if (err[0] == '\0' || strchr(err, '\n') != NULL)
		abort();
	err[0] = '\0';
	if (eg_ask_parse_answer((const char *)data, size, &a, err)) {
		n = eg_ask_format_answer(&a, buf);
		if (n == 0 || !eg_ask_parse_answer(buf, n - 1, &ab, NULL) ||
		    ab.id != a.id || ab.verdict != a.verdict ||
		    ab.for_ms != a.for_ms)
			abort();
	} else if (err[0] == '\0' || strchr(err, '\n') != NULL)
		abort();
	(void)eg_ask_parse_expired((const char *)data, size, &id);
	return 0;
}
