/*
 * feed.c - the netjaild client for direct-set updates.  Anything but an
 * explicit SET_ACK with code 0 within feed_timeout_ms is a "no": the
 * query path then withholds the answer (SERVFAIL).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "daemon.h"
#include "log.h"

#include "feed.h"

struct dfeed {
	struct eg_ctl_client *cl;
	uint64_t timeout_ms;
};

struct dfeed_req {
	dohd_feed_cb cb;
	void *arg;
};

struct dfeed *
dfeed_new(uv_loop_t *loop, const struct eg_config *cfg)
{
	struct dfeed *f;
	char path[512];

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	eg_daemon_sock_path(cfg, "netjaild", path, sizeof(path));
	f->timeout_ms = cfg->dohd.feed_timeout_ms;
	if ((f->cl = eg_ctl_client_new(loop, path)) == NULL) {
		free(f);
		return NULL;
	}
	return f;
}

static void
on_ack(int status, const struct eg_ipc_msg *msg, void *arg)
{
	struct dfeed_req *r = arg;
	const struct eg_msg_result *res;
	int st = status;

	if (st == 0) {
		if (msg == NULL || msg->hdr.type != EG_MSG_SET_ACK ||
		    (res = eg_ipc_result(msg, NULL)) == NULL)
			st = -EPROTO;
		else if (res->code != 0)
			st = res->code > 0 ? -res->code : res->code;
	}
	r->cb(r->arg, st);
	free(r);
}

static int
dfeed_feed(void *ctx, const struct eg_set_elem *e, size_t n,
    dohd_feed_cb cb, void *arg)
{
	struct dfeed *f = ctx;
	struct eg_msg_set_update h;
	struct dfeed_req *r;

	if (n == 0 || n > EG_SET_MAX_ELEMS)
		return -1;
	if ((r = malloc(sizeof(*r))) == NULL)
		return -1;
	r->cb = cb;
	r->arg = arg;
	memset(&h, 0, sizeof(h));
	h.set = EG_SET_DIRECT;
	h.op = EG_SET_ADD;
	h.count = (uint16_t)n;
	if (eg_ctl_request2(f->cl, EG_MSG_SET_UPDATE, &h, sizeof(h), e,
	    n * sizeof(*e), f->timeout_ms, on_ack, r) < 0) {
		free(r);
		return -1;
	}
	return 0;
}

void
dfeed_feeder(struct dfeed *f, struct dohd_feeder *out)
{
	out->feed = dfeed_feed;
	out->ctx = f;
}

struct eg_ctl_client *
dfeed_client(struct dfeed *f)
{
	return f->cl;
}
