/*
 * wlreg_client.c - workload listener registrations with netjaild, kept
 * over reconnects (see wlreg_client.h).
 *
 * Each registration has a sequence number; an answer is applied only to
 * the registration and sequence it was sent for, so a late answer on a
 * dead connection never marks a newer request registered.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc.h"
#include "log.h"
#include "wlreg_client.h"
#include "workload.h"

struct wlrc_ent {
	struct wlrc_ent *next;
	uint64_t id;
	uint32_t seq;			/* of the last request sent */
	char wl[EG_IPC_WL_NAME_MAX + 1];
	uint8_t kind, family;
	uint16_t port;
	int state;			/* enum eg_wlrc_state */
	int err;			/* errno of a refusal or failure */
};

/* An eg_wlrc_remove in progress. */
struct wlrc_rm {
	uv_timer_t hold;		/* keeps done out of eg_wlrc_remove */
	unsigned waiting;
	eg_wlrc_done_cb done;
	void *arg;
};

struct wlrc_req {
	struct eg_wlrc *r;
	uint64_t id;			/* register: the entry; else 0 */
	uint32_t seq;
	struct wlrc_rm *rm;		/* unregister */
};

struct eg_wlrc {
	uv_loop_t *loop;
	struct eg_ctl_client *cl;
	const char *who;
	struct wlrc_ent *ents;
	size_t n;
	uint64_t next_id;
	unsigned pending;		/* requests not answered yet */
	bool freeing;
	uv_timer_t retry;
	bool timer_closed;
};

static const char *const state_names[] = {
	[EG_WLRC_PENDING] = "pending",
	[EG_WLRC_REGISTERED] = "registered",
	[EG_WLRC_REFUSED] = "refused",
	[EG_WLRC_UNREACHABLE] = "unreachable",
	[EG_WLRC_FAILED] = "failed",
};

const char *
eg_wlrc_state_name(int state)
{
	if (state < 0 || state > EG_WLRC_FAILED)
		return "none";
	return state_names[state];
}

static void
maybe_free(struct eg_wlrc *r)
{
	if (r->freeing && r->pending == 0 && r->timer_closed)
		free(r);
}

static struct wlrc_ent *
find(const struct eg_wlrc *r, const char *wl, uint8_t kind, uint8_t family)
{
	for (struct wlrc_ent *e = r->ents; e != NULL; e = e->next)
		if (e->kind == kind && e->family == family &&
		    strcmp(e->wl, wl) == 0)
			return e;
	return NULL;
}

static struct wlrc_ent *
find_id(const struct eg_wlrc *r, uint64_t id)
{
	for (struct wlrc_ent *e = r->ents; e != NULL; e = e->next)
		if (e->id == id)
			return e;
	return NULL;
}

static void
log_ent(enum eg_log_level lvl, const char *event, const struct eg_wlrc *r,
    const struct wlrc_ent *e, int err)
{
	if (err != 0)
		eg_log(lvl, event, "role=%s workload=%s kind=%s family=ipv%d "
		    "port=%u error=\"%s\"", r->who, e->wl,
		    eg_wl_listener_name(e->kind), e->family == AF_INET ? 4 : 6,
		    e->port, strerror(err));
	else
		eg_log(lvl, event, "role=%s workload=%s kind=%s family=ipv%d "
		    "port=%u", r->who, e->wl, eg_wl_listener_name(e->kind),
		    e->family == AF_INET ? 4 : 6, e->port);
}

static void retry_cb(uv_timer_t *t);

static void
rm_release(struct wlrc_rm *rm)
{
	if (--rm->waiting == 0) {
		rm->done(rm->arg);
		free(rm);
	}
}

static void
on_reply(int status, const struct eg_ipc_msg *msg, void *arg)
{
	struct wlrc_req *q = arg;
	struct eg_wlrc *r = q->r;
	const struct eg_msg_result *res;
	struct wlrc_ent *e;
	int code = status;

	r->pending--;
	if (code == 0) {
		if (msg == NULL || msg->hdr.type != EG_MSG_WL_ACK ||
		    (res = eg_ipc_result(msg, NULL)) == NULL)
			code = -EPROTO;
		else if (res->code != 0)
			code = res->code > 0 ? res->code : -res->code;
	} else
		code = -code;
	if (q->rm != NULL) {
		if (code != 0 && code != ECANCELED)
			eg_log(EG_LOG_WARN, "wl_unlisten_failed", "role=%s "
			    "error=\"%s\"", r->who, strerror(code));
		rm_release(q->rm);
	} else if (!r->freeing && (e = find_id(r, q->id)) != NULL &&
	    e->seq == q->seq) {
		e->err = code;
		if (code == 0) {
			e->state = EG_WLRC_REGISTERED;
			log_ent(EG_LOG_INFO, "wl_listen_registered", r, e, 0);
		} else if (status == 0) {
			/* netjaild answered no: its traffic stays dropped */
			e->state = EG_WLRC_REFUSED;
			log_ent(EG_LOG_WARN, "wl_listen_refused", r, e, code);
		} else if (code == ENOTCONN || code == ECONNRESET) {
			e->state = EG_WLRC_UNREACHABLE;
		} else if (code != ECANCELED) {
			e->state = EG_WLRC_FAILED;
			log_ent(EG_LOG_WARN, "wl_listen_failed", r, e, code);
			if (!uv_is_active((uv_handle_t *)&r->retry))
				uv_timer_start(&r->retry, retry_cb,
				    EG_WLRC_RETRY_MS, 0);
		}
	}
	free(q);
	maybe_free(r);
}

static int
send_one(struct eg_wlrc *r, const char *wl, uint8_t op, uint8_t kind,
    uint8_t family, uint16_t port, struct wlrc_req *q)
{
	struct eg_msg_wl_listen m;
	size_t nl = strlen(wl);

	memset(&m, 0, sizeof(m));
	m.op = op;
	m.kind = kind;
	m.family = family;
	m.namelen = (uint8_t)nl;
	m.port = op == EG_WL_REGISTER ? port : 0;
	if (eg_ctl_request2(r->cl, EG_MSG_WL_LISTEN, &m, sizeof(m), wl, nl,
	    EG_WLRC_TIMEOUT_MS, on_reply, q) < 0)
		return -1;
	r->pending++;
	return 0;
}

static void
send_register(struct eg_wlrc *r, struct wlrc_ent *e)
{
	struct wlrc_req *q;

	e->seq++;
	e->state = EG_WLRC_PENDING;
	e->err = 0;
	if ((q = calloc(1, sizeof(*q))) == NULL) {
		e->state = EG_WLRC_FAILED;
		e->err = ENOMEM;
		return;
	}
	q->r = r;
	q->id = e->id;
	q->seq = e->seq;
	if (send_one(r, e->wl, EG_WL_REGISTER, e->kind, e->family, e->port,
	    q) < 0) {
		free(q);
		e->state = EG_WLRC_FAILED;
		e->err = EINVAL;
	}
}

/* A new connection: netjaild holds nothing of ours on it. */
static void
on_connect(void *arg)
{
	struct eg_wlrc *r = arg;

	for (struct wlrc_ent *e = r->ents; e != NULL; e = e->next)
		send_register(r, e);
}

/* No answer in time: ask again while connected. */
static void
retry_cb(uv_timer_t *t)
{
	struct eg_wlrc *r = t->data;
	bool again = false;

	if (!eg_ctl_client_connected(r->cl))
		return;		/* on_connect sends everything */
	for (struct wlrc_ent *e = r->ents; e != NULL; e = e->next) {
		if (e->state != EG_WLRC_FAILED)
			continue;
		send_register(r, e);
		again |= e->state == EG_WLRC_FAILED;
	}
	if (again)
		uv_timer_start(&r->retry, retry_cb, EG_WLRC_RETRY_MS, 0);
}

struct eg_wlrc *
eg_wlrc_new(uv_loop_t *loop, struct eg_ctl_client *cl, const char *who)
{
	struct eg_wlrc *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->loop = loop;
	r->cl = cl;
	r->who = who;
	r->next_id = 1;
	uv_timer_init(loop, &r->retry);
	r->retry.data = r;
	uv_unref((uv_handle_t *)&r->retry);
	eg_ctl_client_on_connect(cl, on_connect, r);
	return r;
}

static void
retry_closed(uv_handle_t *h)
{
	struct eg_wlrc *r = h->data;

	r->timer_closed = true;
	maybe_free(r);
}

void
eg_wlrc_free(struct eg_wlrc *r)
{
	struct wlrc_ent *e;

	if (r == NULL || r->freeing)
		return;
	r->freeing = true;
	while ((e = r->ents) != NULL) {
		r->ents = e->next;
		free(e);
	}
	uv_close((uv_handle_t *)&r->retry, retry_closed);
}

int
eg_wlrc_add(struct eg_wlrc *r, const char *wl, uint8_t kind,
    uint8_t family, uint16_t port)
{
	struct wlrc_ent *e;
	char err[EG_ERR_MAX];

	if (!eg_wl_name_valid(wl, err) || kind < EG_WLL_TRANSPARENT ||
	    kind >= EG_WLL__MAX || (family != AF_INET && family != AF_INET6) ||
	    port == 0)
		return -1;
	if ((e = find(r, wl, kind, family)) == NULL) {
		if (r->n >= EG_WLRC_MAX || (e = calloc(1, sizeof(*e))) == NULL)
			return -1;
		snprintf(e->wl, sizeof(e->wl), "%s", wl);
		e->kind = kind;
		e->family = family;
		e->id = r->next_id++;
		e->next = r->ents;
		r->ents = e;
		r->n++;
	}
	e->port = port;
	if (eg_ctl_client_connected(r->cl))
		send_register(r, e);
	else
		e->state = EG_WLRC_UNREACHABLE;
	return 0;
}

static void
rm_hold_closed(uv_handle_t *h)
{
	rm_release(h->data);
}

static void
rm_hold_cb(uv_timer_t *t)
{
	uv_close((uv_handle_t *)t, rm_hold_closed);
}

int
eg_wlrc_remove(struct eg_wlrc *r, const char *wl, eg_wlrc_done_cb done,
    void *arg)
{
	struct wlrc_ent **pp, *e;
	struct wlrc_rm *rm;
	int n = 0;

	if ((rm = calloc(1, sizeof(*rm))) == NULL)
		return -1;
	rm->done = done;
	rm->arg = arg;
	/* Held until the next loop turn, so done never runs from inside
	 * this call even when nothing was registered. */
	rm->waiting = 1;
	uv_timer_init(r->loop, &rm->hold);
	rm->hold.data = rm;
	uv_timer_start(&rm->hold, rm_hold_cb, 0, 0);
	for (pp = &r->ents; (e = *pp) != NULL; ) {
		struct wlrc_req *q;

		if (strcmp(e->wl, wl) != 0) {
			pp = &e->next;
			continue;
		}
		/* Refused or never sent: netjaild has nothing to drop (and
		 * a dead connection took the rest with it). */
		if (e->state == EG_WLRC_REGISTERED ||
		    e->state == EG_WLRC_PENDING) {
			n++;
			if ((q = calloc(1, sizeof(*q))) != NULL) {
				q->r = r;
				q->rm = rm;
				rm->waiting++;
				if (send_one(r, wl, EG_WL_UNREGISTER, e->kind,
				    e->family, 0, q) < 0) {
					rm->waiting--;
					free(q);
				}
			}
		}
		*pp = e->next;
		free(e);
		r->n--;
	}
	return n;
}

void
eg_wlrc_retry(struct eg_wlrc *r)
{
	if (!eg_ctl_client_connected(r->cl))
		return;
	for (struct wlrc_ent *e = r->ents; e != NULL; e = e->next)
		if (e->state != EG_WLRC_REGISTERED &&
		    e->state != EG_WLRC_PENDING)
			send_register(r, e);
}

int
eg_wlrc_state(const struct eg_wlrc *r, const char *wl, uint8_t kind,
    uint8_t family)
{
	const struct wlrc_ent *e = find(r, wl, kind, family);

	return e != NULL ? e->state : -1;
}

size_t
eg_wlrc_status_text(const struct eg_wlrc *r, char *buf, size_t len)
{
	size_t off = 0;

	if (len == 0)
		return 0;
	buf[0] = '\0';
	for (const struct wlrc_ent *e = r->ents; e != NULL; e = e->next) {
		int n = snprintf(buf + off, len - off,
		    "wl_listener.%s.%s.ipv%d=%u %s\n", e->wl,
		    eg_wl_listener_name(e->kind), e->family == AF_INET ? 4 : 6,
		    e->port, eg_wlrc_state_name(e->state));

		if (n < 0 || (size_t)n >= len - off) {
			buf[off] = '\0';
			break;
		}
		off += (size_t)n;
	}
	return off;
}
