/*
 * rule.h - the allow rule grammar (one per `allow =` value or allow-file
 * line):
 *
 *   PATTERN[:PORTS] [qtype=TYPE[,TYPE...]]
 *
 *   PATTERN   example.com       that name only
 *             *.example.com     exactly one more label
 *             **.example.com    any depth (explicit opt-in: labels can carry data)
 *   PORTS     none = 443; "80,443"; "8000-8100"; "*"; combinations "80,8000-8100"
 *   qtype=    DNS types allowed beyond the default A, AAAA, CNAME, HTTPS
 *             (e.g. qtype=TXT,MX); "qtype=*" allows every type except
 *             AXFR/IXFR/ANY, which are never answered (nor are the other
 *             meta types 128-255, OPT and type 0).
 *
 * Names compare case-insensitively without a trailing dot; IDNA only as
 * given (punycode).  An IP literal in any spelling is never a name.
 */
#ifndef EG_RULE_H
#define EG_RULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "config.h"

enum eg_match { EG_MATCH_EXACT, EG_MATCH_ONE_LABEL, EG_MATCH_ANY_DEPTH };

#define EG_RULE_MAX_PORTRANGES 16

struct eg_rule {
	enum eg_match match;
	char suffix[EG_NAME_MAX + 1];	/* name, or the part after "*." / "**." */
	struct eg_portrange ports[EG_RULE_MAX_PORTRANGES];
	uint8_t nports;
	bool qtype_any;			/* qtype=* */
	uint16_t *qtypes;		/* extra qtypes, sorted */
	uint8_t nqtypes;
	struct eg_origin at;
};

#define EG_HOST_MAX	300	/* longer than any name or literal spelling */
#define EG_QT_A		1
#define EG_QT_AAAA	28

/* Parse one rule; on error writes a reason quoting the bad part. */
bool eg_rule_parse(const char *text, struct eg_rule *out, char *err);
void eg_rule_clear(struct eg_rule *r);
/* "file:line" into buf, or "-" when the rule has no origin. */
const char *eg_rule_where(const struct eg_rule *r, char *buf, size_t len);

/* Does the rule admit this port, this DNS type? */
bool eg_rule_admits_port(const struct eg_rule *r, uint16_t port);
bool eg_rule_admits_qtype(const struct eg_rule *r, uint16_t qtype);
/* The DNS types no rule admits (ANY, AXFR, IXFR, OPT, 0, 128-255). */
bool eg_qtype_never(uint16_t qtype);
/* The types a name's rule admits without qtype= (A, AAAA, CNAME, HTTPS). */
bool eg_qtype_default(uint16_t qtype);
/* A type as a rule writes it: "TXT", or "TYPE65280" for one without a
 * name; into buf (16 bytes is enough). */
const char *eg_qtype_name(uint16_t qtype, char *buf, size_t len);

/* Quote len bytes of hostile input, bounded and printable, into buf. */
#define EG_RULE_QUOTE_MAX	48
#define EG_RULE_QUOTE_BUF	(EG_RULE_QUOTE_MAX * 4 + 12)	/* quotes, ***, ... */
const char *eg_rule_quote(const char *s, size_t len, char *buf);

#endif
