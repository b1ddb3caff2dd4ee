/*
 * upstream.h - the DoH upstreams: one long-lived connection each, chosen
 * by measured latency (EWMA) and recent failures, with a hedged second
 * attempt on another upstream when the first is slow, and per-upstream
 * health counters.  Implements struct dohd_resolver.
 */
#ifndef DOHD_UPSTREAM_H
#define DOHD_UPSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "config.h"

#include "dohd.h"

#define DUP_MAX			16	/* upstreams; more is a config error */
#define DUP_EWMA_INIT_MS	100.0
#define DUP_EWMA_ALPHA		0.3
#define DUP_DOWN_AFTER		3	/* consecutive failures */
#define DUP_HEDGE_MIN_MS	50

struct dupstream;

struct dupstream *dupstream_new(uv_loop_t *loop, const struct eg_config *cfg,
    char *err, size_t errlen);
/* Close every connection; queries in flight fail. */
void dupstream_free(struct dupstream *s);
/* The resolver interface dohd's core calls. */
void dupstream_resolver(struct dupstream *s, struct dohd_resolver *r);
/* "upstream.N.key=value" lines. */
size_t dupstream_stats_text(const struct dupstream *s, char *buf, size_t len);

/* Order in which upstreams would be tried now (for tests). */
size_t dupstream_order(const struct dupstream *s, uint64_t now, size_t *idx,
    size_t max);
/* Feed a latency sample or a failure (for tests). */
void dupstream_sample(struct dupstream *s, size_t i, int err, double ms,
    uint64_t now);
uint64_t dupstream_hedge_delay(const struct dupstream *s, uint64_t now);

#endif
