/*
 * feed.h - addresses of [jail] direct names into netjaild's direct set,
 * acknowledged before the answer is released (struct dohd_feeder).
 */
#ifndef DOHD_FEED_H
#define DOHD_FEED_H

#include <uv.h>

#include "dohd.h"

struct dfeed;

struct dfeed *dfeed_new(uv_loop_t *loop, const struct eg_config *cfg);
void dfeed_feeder(struct dfeed *f, struct dohd_feeder *out);
/* The control connection to netjaild (workload registrations share it:
 * netjaild keeps a registration as long as the connection). */
struct eg_ctl_client *dfeed_client(struct dfeed *f);

#endif
