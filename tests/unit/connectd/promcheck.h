/*
 * promcheck.h - a strict checker for the Prometheus text that
 * peerstat.c renders, shared by test_peerstat.c and fuzz_peerstat.c.
 *
 * Stricter than Prometheus itself on purpose: every line is one of
 *   # HELP egressjail_<name> <printable text, no backslash>
 *   # TYPE egressjail_<name> counter|gauge|untyped
 *   egressjail_<name>[{<label>="<[a-z0-9_]*>"}] <[0-9][0-9.e+-]*>
 * with <name> of [a-z0-9_], TYPE given once per name and before the
 * name's samples, a family's samples contiguous, and no series twice.
 * Returns 0, or the 1-based number of the first bad line.
 */
#ifndef PROMCHECK_H
#define PROMCHECK_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define PC_MAX_NAMES 2048

static bool
pc_name(const char *p, size_t n)
{
	size_t i;

	if (n <= 11 || strncmp(p, "egressjail_", 11) != 0)
		return false;
	for (i = 11; i < n; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') ||
		    (p[i] >= '0' && p[i] <= '9') || p[i] == '_'))
			return false;
	return true;
}

static size_t
pc_span(const char *p, size_t n, const char *set)
{
	size_t i;

	for (i = 0; i < n && p[i] != '\0' && strchr(set, p[i]) != NULL; i++)
		;
	return i;
}

#define PC_NAMECH "abcdefghijklmnopqrstuvwxyz0123456789_"

static int
promcheck(const char *text, size_t len)
{
	static char *typed[PC_MAX_NAMES], *series[PC_MAX_NAMES * 4];
	size_t ntyped = 0, nseries = 0, i, ln = 0, n, a, b;
	const char *p = text, *end = text + len, *nl;
	char cur[128] = "";
	int bad = 0;

	if (memchr(text, '\0', len) != NULL)
		return 1;
	while (p < end && bad == 0) {
		ln++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL) {
			bad = (int)ln;
			break;
		}
		n = (size_t)(nl - p);
		if (n > 6 && strncmp(p, "# HELP ", 7) == 0) {
			a = 7 + pc_span(p + 7, n - 7, PC_NAMECH);
			if (!pc_name(p + 7, a - 7) || a >= n || p[a] != ' ')
				bad = (int)ln;
			for (i = a; i < n && bad == 0; i++)
				if (p[i] < 0x20 || p[i] > 0x7e || p[i] == '\\')
					bad = (int)ln;
		} else if (n > 6 && strncmp(p, "# TYPE ", 7) == 0) {
			a = 7 + pc_span(p + 7, n - 7, PC_NAMECH);
			if (!pc_name(p + 7, a - 7) || a >= n || p[a] != ' ' ||
			    a - 7 >= sizeof(cur)) {
				bad = (int)ln;
				break;
			}
			b = n - a - 1;
			if (!((b == 7 && strncmp(p + a + 1, "counter", 7) == 0) ||
			    (b == 5 && strncmp(p + a + 1, "gauge", 5) == 0) ||
			    (b == 7 && strncmp(p + a + 1, "untyped", 7) == 0))) {
				bad = (int)ln;
				break;
			}
			memcpy(cur, p + 7, a - 7);
			cur[a - 7] = '\0';
			for (i = 0; i < ntyped; i++)
				if (strcmp(typed[i], cur) == 0)
					bad = (int)ln;
			if (ntyped == PC_MAX_NAMES)
				bad = (int)ln;
			if (bad == 0)
				typed[ntyped++] = strdup(cur);
		} else {
			a = pc_span(p, n, PC_NAMECH);
			/* samples belong to the family TYPE'd last */
			if (!pc_name(p, a) || strlen(cur) != a ||
			    strncmp(p, cur, a) != 0) {
				bad = (int)ln;
				break;
			}
			if (a < n && p[a] == '{') {
				b = a + 1 + pc_span(p + a + 1, n - a - 1,
				    "abcdefghijklmnopqrstuvwxyz_");
				if (b == a + 1 || b + 1 >= n || p[b] != '=' ||
				    p[b + 1] != '"') {
					bad = (int)ln;
					break;
				}
				b += 2;
				b += pc_span(p + b, n - b, PC_NAMECH);
				if (b + 1 >= n || p[b] != '"' || p[b + 1] != '}') {
					bad = (int)ln;
					break;
				}
				a = b + 2;
			}
			if (a >= n || p[a] != ' ' || a + 1 >= n ||
			    p[a + 1] < '0' || p[a + 1] > '9' ||
			    a + 1 + pc_span(p + a + 1, n - a - 1,
			    "0123456789.e+-") != n) {
				bad = (int)ln;
				break;
			}
			for (i = 0; i < nseries; i++)
				if (strlen(series[i]) == a &&
				    strncmp(series[i], p, a) == 0)
					bad = (int)ln;
			if (nseries == PC_MAX_NAMES * 4)
				bad = (int)ln;
			if (bad == 0 && (series[nseries] = strndup(p, a)) !=
			    NULL)
				nseries++;
		}
		if (n == 0 || (p[0] == '#' && strncmp(p, "# HELP ", 7) != 0 &&
		    strncmp(p, "# TYPE ", 7) != 0))
			bad = (int)ln;
		p = nl + 1;
	}
	for (i = 0; i < ntyped; i++)
		free(typed[i]);
	for (i = 0; i < nseries; i++)
		free(series[i]);
	return bad;
}

#endif
