/*
 * fuzz_learn.c - record lines and log lines, then the reducer over what
 * parsed: every rule it prints is a rule the policy parser takes, and
 * every record's name is covered by one of the rules.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "learn.c"
#include "learn_log.c"

#define MAX_RECORDS 256

/* What a parser hands out is a record the reducer takes whole. */
static void
check_entry(const struct eg_learn_entry *e)
{
	char again[EG_NAME_MAX + 1];

	if ((e->port == 0) == (e->qtype == 0) || e->count == 0 ||
	    e->first > e->last || !eg_name_normalise(e->name, again, NULL) ||
	    strcmp(again, e->name) != 0)
		abort();
}

/* Does rule r stand for name (pattern only; ports are the engine's)? */
static bool
covers(const struct eg_learn_rule *r, const char *name)
{
	size_t n = strlen(name), s = strlen(r->suffix);

	if (r->match == EG_MATCH_EXACT)
		return strcmp(name, r->suffix) == 0;
	if (n <= s + 1 || strcmp(name + n - s, r->suffix) != 0 ||
	    name[n - s - 1] != '.')
		return false;
	return r->match == EG_MATCH_ANY_DEPTH ||
	    memchr(name, '.', n - s - 1) == NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct eg_learn_entry e[MAX_RECORDS];
	struct eg_learn_result res;
	struct eg_rule rule;
	char line[EG_LEARN_LINE_MAX + 2], out[4096], err[EG_ERR_MAX];
	size_t n = 0, i, j, k, len;
	const uint8_t *p = data, *end = data + size, *nl;
	int rc;

	while (p < end && n < MAX_RECORDS) {
		nl = memchr(p, '\n', (size_t)(end - p));
		len = (size_t)((nl != NULL ? nl : end) - p);
		if (len > EG_LEARN_LINE_MAX + 1)
			len = EG_LEARN_LINE_MAX + 1;
		memcpy(line, p, len);
		line[len] = '\0';
		err[0] = '\0';
		rc = eg_learn_parse_line(line, &e[n], err);
		if (rc == -1 && err[0] == '\0')
			abort();
		if (rc == 1)
			check_entry(&e[n++]);
		if (n < MAX_RECORDS) {
			err[0] = '\0';
			rc = eg_learn_parse_log(line, &e[n], err);
			if (rc == -1 && err[0] == '\0')
				abort();
			if (rc == 1)
				check_entry(&e[n++]);
		}
		p = nl != NULL ? nl + 1 : end;
	}
	if (eg_learn_reduce(e, n, 2, &res, err) != 0)
		abort();
	if (res.nrecords != n)
		abort();
	for (i = 0; i < res.nrules; i++) {
		for (j = 0; (rc = eg_learn_rule_line(&res.rules[i], j, out,
		    sizeof(out))) == 1; j++) {
			if (!eg_rule_parse(out, &rule, err))
				abort();
			eg_rule_clear(&rule);
		}
		if (rc != 0 || j == 0)
			abort();
	}
	for (i = 0; i < n; i++) {
		for (k = 0; k < res.nrules && !covers(&res.rules[k],
		    e[i].name); k++)
			;
		if (k == res.nrules)
			abort();
	}
	eg_learn_result_free(&res);
	return 0;
}
