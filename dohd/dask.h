/*
 * dask.h - mode = ask in dohd: DNS questions held while connectd's broker
 * (connectd/ask.c) asks the decider (docs/ASK.md).
 *
 * A query for a name no rule admits (reason no_rule or port), of a type a
 * bare `allow = NAME` rule would answer, is held for at most [policy]
 * ask_dns_hold.  One question per name goes to the broker at a time; the
 * other queries for the name (A and AAAA, a retry) wait on it.  The table
 * is bounded: at most ask_max names and DASK_PER_NAME queries per name are
 * held; beyond that a query is refused at once.  No broker, a broker that
 * does not answer within ask_dns_hold, or one that says no: deny.
 */
#ifndef DOHD_DASK_H
#define DOHD_DASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "addr.h"
#include "config.h"

#define DASK_PER_NAME	16	/* held queries waiting on one name */

/* allow; reason a static string for the log ("ask-once", "ask-busy") */
typedef void (*dask_cb)(void *arg, bool allow, const char *reason);

struct dask_broker {
	/*
	 * Ask about name; cb exactly once, never from inside ask, within
	 * timeout_ms (then with "ask-hold-timeout").  -1: not asked, no cb.
	 */
	int (*ask)(void *ctx, const char *wl, const char *name, uint16_t qtype,
	    const struct eg_ip *src, uint64_t timeout_ms, dask_cb cb,
	    void *arg);
	void *ctx;
};

struct dask_stats {
	uint64_t asked;		/* questions sent to the broker */
	uint64_t joined;	/* queries that waited on a question asked */
	uint64_t busy;		/* refused at once: the table was full */
	uint64_t allowed, denied;	/* queries answered, by verdict */
	size_t names, held;	/* now */
};

struct dask;

struct dask *dask_new(const struct dask_broker *b);
/* Every held query gets its callback (deny, "ask-stopped") first. */
void dask_free(struct dask *t);

/* Is this denial one to ask about (the workload's mode, reason, type)? */
bool dask_wanted(enum eg_policy_mode mode, int reason, uint16_t qtype);

/*
 * Hold a query for name (normalised) from src of workload wl.  0: held,
 * cb runs exactly once later.  -1: not held, *why the denial's reason.
 */
int dask_hold(struct dask *t, const struct eg_config *cfg, const char *wl,
    const char *name, uint16_t qtype, const struct eg_ip *src, dask_cb cb,
    void *arg, const char **why);

void dask_stats(const struct dask *t, struct dask_stats *st);
/* key=value lines for STATUS_REP; bytes written (< len). */
size_t dask_stats_text(const struct dask *t, char *buf, size_t len);

/* The daemon's broker: connectd's control socket (EG_MSG_ASK_REQ). */
struct dask_connectd;
struct dask_connectd *dask_connectd_new(uv_loop_t *loop,
    const struct eg_config *cfg);
void dask_connectd_broker(struct dask_connectd *c, struct dask_broker *out);
void dask_connectd_free(struct dask_connectd *c);

#endif
