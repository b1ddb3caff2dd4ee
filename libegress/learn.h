/*
 * learn.h - from what a workload did to the allowlist that admits it.
 *
 * In learn mode the daemons deny nothing the allowlist would deny and
 * record instead what it would have denied: a connection's name and port
 * (connectd), a query's name and type (dohd), each with a count and the
 * first and last time seen.  eg_learn_reduce() turns such records into the
 * smallest allowlist that admits them all:
 *
 *   - one exact rule per name, with every port it was reached on and the
 *     DNS types beyond the default ones it was asked for;
 *   - "*.P" only where at least min_siblings distinct names one label
 *     below P were seen, "**.S" only where at least min_siblings names two
 *     or more labels below S were seen under as many different labels
 *     (random-looking subdomains no "*." rule covers); the most specific
 *     suffix first, never a suffix of one label ("*.com");
 *   - a name asked in DNS only gets the default port, 443, and says so.
 *
 * Applying the result and replaying the same traffic gives no denial from
 * the allowlist: every record is admitted by a rule (the unit test checks
 * this with the real policy engine).  Types that are never answered (ANY,
 * AXFR, ...) and records that are no name are left out and counted.
 *
 * A record as text (egressctl learn --records FILE; the daemons' dump
 * uses the same form), one per line, '#' comments:
 *
 *   WORKLOAD NAME PORT QTYPE COUNT FIRST LAST
 *
 * WORKLOAD is a [workload] name or "default"; PORT is 1-65535 for a
 * connection and 0 for a DNS query; QTYPE 1-65535 for a DNS query and 0
 * for a connection; COUNT at least 1; FIRST <= LAST, Unix seconds.
 */
#ifndef EG_LEARN_H
#define EG_LEARN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"
#include "rule.h"
#include "workload.h"

#define EG_LEARN_LINE_MAX	512	/* bytes of one record line */
#define EG_LEARN_MAX_NAMES	100000	/* distinct names one reduce takes */
#define EG_LEARN_MIN_SIBLINGS	5	/* default of min_siblings */

struct eg_learn_entry {
	char workload[EG_WL_NAME_MAX + 1];
	char name[EG_NAME_MAX + 1];	/* normalised */
	uint16_t port;			/* connection: 1-65535; DNS: 0 */
	uint16_t qtype;			/* DNS: 1-65535; connection: 0 */
	uint64_t count;
	int64_t first, last;		/* Unix seconds */
};

struct eg_learn_rule {
	enum eg_match match;		/* exact, "*.", "**." */
	char suffix[EG_NAME_MAX + 1];	/* the name, or what follows "*." */
	struct eg_portrange *ports;	/* sorted, merged; none: DNS only */
	size_t nports;
	uint16_t *qtypes;		/* beyond A, AAAA, CNAME, HTTPS */
	size_t nqtypes;
	size_t nnames;			/* distinct names it stands for */
	const char *examples[3];	/* some of them, owned by the result */
	uint64_t count;			/* records' counts, summed */
	int64_t first, last;
};

struct eg_learn_result {
	struct eg_learn_rule *rules;
	size_t nrules;
	char (*names)[EG_NAME_MAX + 1];	/* every distinct name (examples) */
	size_t nnames;
	size_t nrecords;		/* records taken */
	size_t skipped;			/* records that were no name */
	size_t never;			/* queries of types never answered */
	int64_t first, last;		/* span of the records taken */
};

/* 0: a blank or comment line; 1: *out is a record; -1: err says why. */
int eg_learn_parse_line(const char *line, struct eg_learn_entry *out,
    char *err);

#define EG_LEARN_LOG_LINE_MAX	8192

/*
 * learn_log.c: one line of connectd's or dohd's log (journalctl output,
 * with or without its prefix) as a record of count 1.  1: a denial the
 * allowlist made or would have made (report mode), *out set; 0: any other
 * line; -1: such a line that does not parse, err says why.
 */
int eg_learn_parse_log(const char *line, struct eg_learn_entry *out,
    char *err);
/* no_rule, port, qtype, empty: the reasons a rule could have changed. */
bool eg_learn_allowlist_reason(const char *reason);

/*
 * Reduce n records to res (free with eg_learn_result_free).  min_siblings
 * of 0 means EG_LEARN_MIN_SIBLINGS.  -1 with err set when more than
 * EG_LEARN_MAX_NAMES distinct names or memory ran out.
 */
int eg_learn_reduce(const struct eg_learn_entry *e, size_t n,
    unsigned min_siblings, struct eg_learn_result *res, char *err);
void eg_learn_result_free(struct eg_learn_result *res);

/*
 * Line `part` (0, 1, ...) of rule r as an allow line, e.g.
 * "a.example.com:80,443 qtype=TXT".  A rule with more port ranges or
 * types than one rule takes spans several lines.  1: written; 0: no such
 * part; -1: buf too short.
 */
int eg_learn_rule_line(const struct eg_learn_rule *r, size_t part,
    char *buf, size_t len);

/* The whole allow.d file: header comment lines, then rules with comments
 * where they need one.  what names the source ("workload ci"). */
int eg_learn_print(FILE *out, const struct eg_learn_result *res,
    const char *what);

#endif
