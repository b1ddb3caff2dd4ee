/*
 * ask.h - the ask-mode line protocol between connectd and a decider.
 *
 * connectd listens on [policy] ask_socket (a SOCK_STREAM Unix socket,
 * root's, mode 0600) and holds one decider at a time.  Every
 * line is at most EG_ASK_LINE_MAX bytes including its '\n', ASCII, fields
 * separated by one space.  On connect connectd sends
 *
 *   egressjail-ask 1
 *
 * then one line per question:
 *
 *   ask ID WORKLOAD KIND NAME ARG SOURCE
 *
 *   ID        1-4294967295, decimal, no leading zero; unique per connection
 *   WORKLOAD  the workload's name, "default" for [policy]
 *   KIND      "tcp" (ARG is the port) or "dns" (ARG is the qtype number)
 *   NAME      the normalised name (lower case, no trailing dot)
 *   SOURCE    the client's IP address
 *
 * and, when it stopped waiting (ask_timeout) before an answer came,
 *
 *   expired ID
 *
 * The decider answers each question once, in any order:
 *
 *   ID allow once          this connection (or query) only
 *   ID allow DURATION      the name, for DURATION (1s .. 24h; "90s", "5m")
 *   ID allow always        as DURATION 24h in the daemon; `egressctl ask`,
 *                          running as root, also writes an allow.d/ file
 *   ID deny                refuse
 *
 * A dns question (dohd holds the query, connectd asks) is about NAME for
 * any port: "once" admits the asking sources for ask_timeout, a duration
 * or "always" every source; see docs/ASK.md.
 *
 * Fail closed: no decider, no answer within ask_timeout, a decider that
 * disconnects, or any line connectd cannot parse (it then drops that
 * decider) all mean deny.  An answer to an unknown or expired ID is
 * ignored.
 */
#ifndef EG_ASK_H
#define EG_ASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define EG_ASK_LINE_MAX 512		/* bytes, with the '\n' */
#define EG_ASK_WL_MAX 32
#define EG_ASK_HELLO "egressjail-ask 1"
#define EG_ASK_FOR_MAX_MS (24ULL * 3600 * 1000)

enum eg_ask_kind { EG_ASK_TCP, EG_ASK_DNS };

struct eg_ask_question {
	uint32_t id;
	char workload[EG_ASK_WL_MAX + 1];
	enum eg_ask_kind kind;
	char name[EG_NAME_MAX + 1];
	uint16_t arg;			/* port or qtype */
	struct eg_ip source;
};

enum eg_ask_verdict { EG_ASK_DENY, EG_ASK_ONCE, EG_ASK_FOR, EG_ASK_ALWAYS };

struct eg_ask_answer {
	uint32_t id;
	enum eg_ask_verdict verdict;
	uint64_t for_ms;		/* EG_ASK_FOR only */
};

/*
 * Parsers take one line of len bytes without its '\n' (no NUL needed) and
 * fill out only on success; on failure they write a reason into err (when
 * not NULL) quoting no more than a few bytes of the input.
 */
bool eg_ask_parse_question(const char *line, size_t len,
    struct eg_ask_question *out, char *err);
bool eg_ask_parse_answer(const char *line, size_t len,
    struct eg_ask_answer *out, char *err);
/* "expired ID": true and *id set. */
bool eg_ask_parse_expired(const char *line, size_t len, uint32_t *id);

/*
 * Render a question or an answer as one line with its '\n' into buf of
 * EG_ASK_LINE_MAX bytes; returns the length, 0 when q does not validate
 * (bad name or workload), which the caller must treat as a denial.
 */
size_t eg_ask_format_question(const struct eg_ask_question *q, char *buf);
size_t eg_ask_format_answer(const struct eg_ask_answer *a, char *buf);

const char *eg_ask_verdict_str(enum eg_ask_verdict v);

/* Is any policy of cfg in mode = ask ([policy] or a workload's)? */
struct eg_config;
bool eg_ask_configured(const struct eg_config *cfg);

#endif
