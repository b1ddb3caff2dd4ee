/*
 * ctl.c - control sockets on a libuv loop.
 *
 * libuv's stream handles do not do SOCK_SEQPACKET, so both ends watch
 * plain fds with uv_poll and move whole datagrams with eg_ipc_send/recv.
 *
 * Server: a peer is classified once, at accept, from the kernel's record of
 * its credentials.  A peer without a role is closed at once; a malformed
 * datagram, a type its role may not send, or a peer that does not read its
 * replies (send would block) gets it dropped: a control peer is local and
 * trusted to be well-behaved, so misbehaviour is hostility, not noise.
 *
 * Client: every request gets its callback exactly once: with the reply, or
 * with -ETIMEDOUT, -ECONNRESET, -ENOTCONN, -EPROTO or -ECANCELED.  Late
 * replies (after the timeout) are ignored.  Anything from the server that
 * is not a valid reply to a pending request resets the connection.
 *
 * Memory: objects with uv handles are freed from the handles' close
 * callbacks, so a callback may free the object that called it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ctl.h"
#include "daemon.h"
#include "log.h"

#define CTL_MAX_CONNS		64	/* per server */
#define CTL_BATCH		32	/* datagrams per wake-up, for fairness */
#define CTL_ACCEPT_PAUSE_MS	1000	/* after EMFILE and friends */
#define CTL_BACKOFF_MIN_MS	100
#define CTL_BACKOFF_MAX_MS	5000

struct eg_ctl_conn {
	TAILQ_ENTRY(eg_ctl_conn) link;
	struct eg_ctl_server *srv;	/* NULL once dropped */
	uv_poll_t poll;
	int fd;
	enum eg_role role;
	uid_t uid;
	pid_t pid;
	int refs;
	int closed;
};

struct eg_ctl_server {
	uv_loop_t *loop;
	uv_poll_t poll;
	uv_timer_t pause;
	int lfd;
	int nhandles;
	int stopping;
	char path[108];
	struct eg_ipc_roles roles;
	enum eg_role self;
	eg_ctl_handler handler;
	eg_ctl_drop_cb on_drop;
	void *arg;
	TAILQ_HEAD(, eg_ctl_conn) conns;
	size_t nconns;
	struct eg_ratelimit rl;
	_Alignas(8) uint8_t buf[EG_IPC_MAX_MSG];
};

/* ---- server ----------------------------------------------------------- */

static void
conn_closed(uv_handle_t *h)
{
	struct eg_ctl_conn *c = h->data;

	close(c->fd);
	c->fd = -1;
	eg_ctl_conn_unref(c);
}

static void
conn_drop(struct eg_ctl_conn *c, const char *why)
{
	struct eg_ctl_server *s = c->srv;

	if (c->closed)
		return;
	c->closed = 1;
	if (s != NULL) {
		if (why != NULL)
			eg_log_rl(&s->rl, EG_LOG_WARN, "ctl_peer_dropped",
			    "role=%s uid=%u pid=%d reason=%s",
			    eg_role_name(c->role), (unsigned)c->uid,
			    (int)c->pid, why);
		TAILQ_REMOVE(&s->conns, c, link);
		s->nconns--;
		c->srv = NULL;
		/* what the peer set up for its connection goes with it */
		if (s->on_drop != NULL && !s->stopping)
			s->on_drop(c, c->role, s->arg);
	}
	uv_poll_stop(&c->poll);
	uv_close((uv_handle_t *)&c->poll, conn_closed);
}

void
eg_ctl_conn_ref(struct eg_ctl_conn *c)
{
	c->refs++;
}

void
eg_ctl_conn_unref(struct eg_ctl_conn *c)
{
	if (--c->refs == 0)
		free(c);
}

int
eg_ctl_conn_closed(const struct eg_ctl_conn *c)
{
	return c->closed;
}

uid_t
eg_ctl_peer_uid(const struct eg_ctl_conn *c)
{
	return c->uid;
}

/* One datagram; false when the conn is gone or must stop reading. */
static bool
conn_read_one(struct eg_ctl_conn *c)
{
	struct eg_ctl_server *s = c->srv;
	struct eg_ipc_msg msg;
	int r;

	r = eg_ipc_recv(c->fd, s->buf, sizeof(s->buf), &msg);
	if (r == -1 && (errno == EAGAIN || errno == EINTR))
		return false;
	if (r == -1) {
		conn_drop(c, errno == EBADMSG ? "malformed" : "recv_error");
		return false;
	}
	if (r == 0) {
		conn_drop(c, NULL);
		return false;
	}
	if (!eg_ipc_allowed(s->self, c->role, msg.hdr.type)) {
		conn_drop(c, "type_not_allowed");
		return false;
	}
	eg_ctl_conn_ref(c);
	s->handler(c, c->role, &msg, s->arg);
	r = !c->closed && c->srv != NULL && !c->srv->stopping;
	eg_ctl_conn_unref(c);
	return r;
}

static void
conn_cb(uv_poll_t *h, int status, int events)
{
	struct eg_ctl_conn *c = h->data;
	int i;

	if (status < 0) {
		conn_drop(c, "poll_error");
		return;
	}
	eg_ctl_conn_ref(c);
	for (i = 0; i < CTL_BATCH && !c->closed; i++)
		if (!conn_read_one(c))
			break;
	if (!c->closed && (events & UV_DISCONNECT) != 0 && i < CTL_BATCH)
		conn_drop(c, NULL);
	eg_ctl_conn_unref(c);
}

static void
server_add_conn(struct eg_ctl_server *s, int fd)
{
	struct eg_ctl_conn *c;
	enum eg_role role;
	uid_t uid;
	pid_t pid;

	if (eg_ipc_peer_role(fd, &s->roles, &role, &uid, &pid) == -1) {
		close(fd);
		return;
	}
	if (role == EG_ROLE_NONE || s->nconns >= CTL_MAX_CONNS) {
		eg_log_rl(&s->rl, EG_LOG_WARN, "ctl_peer_refused",
		    "uid=%u pid=%d reason=%s", (unsigned)uid, (int)pid,
		    role == EG_ROLE_NONE ? "no_role" : "too_many");
		close(fd);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->role = role;
	c->uid = uid;
	c->pid = pid;
	c->refs = 1;
	c->srv = s;
	if (uv_poll_init(s->loop, &c->poll, fd) != 0) {
		close(fd);
		free(c);
		return;
	}
	c->poll.data = c;
	TAILQ_INSERT_TAIL(&s->conns, c, link);
	s->nconns++;
	if (uv_poll_start(&c->poll, UV_READABLE | UV_DISCONNECT, conn_cb) != 0)
		conn_drop(c, "poll_start");
	eg_log(EG_LOG_DEBUG, "ctl_peer", "role=%s uid=%u pid=%d",
	    eg_role_name(role), (unsigned)uid, (int)pid);
}

static void listen_cb(uv_poll_t *h, int status, int events);

static void
pause_cb(uv_timer_t *t)
{
	struct eg_ctl_server *s = t->data;

	if (!s->stopping)
		uv_poll_start(&s->poll, UV_READABLE, listen_cb);
}

static void
listen_cb(uv_poll_t *h, int status, int events)
{
	struct eg_ctl_server *s = h->data;
	int i, fd;

	(void)events;
	if (status < 0)
		return;
	for (i = 0; i < CTL_BATCH && !s->stopping; i++) {
		fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd == -1) {
			if (errno == EAGAIN || errno == EINTR ||
			    errno == ECONNABORTED)
				return;
			/* Out of fds: a level-triggered poll would spin. */
			eg_log_rl(&s->rl, EG_LOG_ERR, "ctl_accept_failed",
			    "error=%d", errno);
			uv_poll_stop(&s->poll);
			uv_timer_start(&s->pause, pause_cb,
			    CTL_ACCEPT_PAUSE_MS, 0);
			return;
		}
		server_add_conn(s, fd);
	}
}

static void
server_handle_closed(uv_handle_t *h)
{
	struct eg_ctl_server *s = h->data;

	if (--s->nhandles > 0)
		return;
	if (s->lfd >= 0)
		close(s->lfd);
	free(s);
}

struct eg_ctl_server *
eg_ctl_server_start(uv_loop_t *loop, const char *path, gid_t gid,
    const struct eg_ipc_roles *roles, enum eg_role self,
    eg_ctl_handler handler, void *arg, char *err, size_t errlen)
{
	struct eg_ctl_server *s;
	struct eg_ratelimit rl = EG_RATELIMIT_INIT(10000, 20);

	if (strlen(path) >= sizeof(s->path)) {
		snprintf(err, errlen, "%s: path too long", path);
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->loop = loop;
	s->roles = *roles;
	s->self = self;
	s->handler = handler;
	s->arg = arg;
	s->rl = rl;
	TAILQ_INIT(&s->conns);
	snprintf(s->path, sizeof(s->path), "%s", path);
	s->lfd = eg_ipc_listen(path, gid);
	if (s->lfd == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(s);
		return NULL;
	}
	if (fcntl(s->lfd, F_SETFL, O_NONBLOCK) == -1 ||
	    uv_poll_init(loop, &s->poll, s->lfd) != 0) {
		snprintf(err, errlen, "%s: cannot watch socket", path);
		close(s->lfd);
		unlink(path);
		free(s);
		return NULL;
	}
	uv_timer_init(loop, &s->pause);
	s->poll.data = s;
	s->pause.data = s;
	s->nhandles = 2;
	if (uv_poll_start(&s->poll, UV_READABLE, listen_cb) != 0) {
		snprintf(err, errlen, "%s: cannot watch socket", path);
		eg_ctl_server_stop(s);
		return NULL;
	}
	return s;
}

struct eg_ctl_server *
eg_ctl_server_open(uv_loop_t *loop, const struct eg_config *cfg,
    enum eg_role self, eg_ctl_handler handler, void *arg, char *err,
    size_t errlen)
{
	struct eg_ipc_roles roles;
	char path[512];

	eg_ipc_roles_from_config(cfg, &roles);
	eg_daemon_sock_path(cfg, eg_role_name(self), path, sizeof(path));
	/* the socket's group is the control group: without one, root's */
	return eg_ctl_server_start(loop, path, roles.admin_gid, &roles, self,
	    handler, arg, err, errlen);
}

void
eg_ctl_server_on_drop(struct eg_ctl_server *s, eg_ctl_drop_cb cb)
{
	s->on_drop = cb;
}

void
eg_ctl_server_stop(struct eg_ctl_server *s)
{
	if (s == NULL || s->stopping)
		return;
	s->stopping = 1;
	while (!TAILQ_EMPTY(&s->conns))
		conn_drop(TAILQ_FIRST(&s->conns), NULL);
	unlink(s->path);
	uv_poll_stop(&s->poll);
	uv_close((uv_handle_t *)&s->poll, server_handle_closed);
	uv_close((uv_handle_t *)&s->pause, server_handle_closed);
}

int
eg_ctl_reply2(struct eg_ctl_conn *c, uint16_t type, uint32_t id,
    const void *head, size_t headlen, const void *tail, size_t taillen)
{
	struct iovec iov[2] = {
		{ .iov_base = (void *)(uintptr_t)head, .iov_len = headlen },
		{ .iov_base = (void *)(uintptr_t)tail, .iov_len = taillen },
	};

	if (c->closed) {
		errno = ENOTCONN;
		return -1;
	}
	if (eg_ipc_sendv(c->fd, type, id, iov, 2) == -1) {
		/* EINVAL is our own bug: the conn is fine, the reply is not. */
		if (errno != EINVAL && errno != EMSGSIZE)
			conn_drop(c, errno == EAGAIN ? "not_reading" :
			    "send_error");
		return -1;
	}
	return 0;
}

int
eg_ctl_reply(struct eg_ctl_conn *c, uint16_t type, uint32_t id,
    const void *payload, size_t len)
{
	return eg_ctl_reply2(c, type, id, payload, len, NULL, 0);
}

/* ---- client ----------------------------------------------------------- */

struct ctl_req {
	TAILQ_ENTRY(ctl_req) link;
	struct eg_ctl_client *cl;
	uv_timer_t timer;
	uint32_t id;
	uint16_t type;
	int status;		/* for a deferred failure */
	eg_ctl_reply_cb cb;
	void *arg;
};

/* One connection; separate from the client so a reconnect need not wait
 * for the old poll handle to close. */
struct ctl_link {
	struct eg_ctl_client *cl;
	uv_poll_t poll;
	int fd;
};

struct eg_ctl_client {
	uv_loop_t *loop;
	char path[108];
	struct ctl_link *link;		/* NULL when not connected */
	uv_timer_t retry;
	uv_timer_t connected;		/* runs on_connect in its own turn */
	eg_ctl_connect_cb on_connect;
	void *on_connect_arg;
	uint64_t backoff_ms;
	uint32_t next_id;
	int nhandles;
	int freeing;
	TAILQ_HEAD(, ctl_req) reqs;
	_Alignas(8) uint8_t buf[EG_IPC_MAX_MSG];
};

static void client_connect(struct eg_ctl_client *cl);

static void
client_handle_closed(struct eg_ctl_client *cl)
{
	if (--cl->nhandles == 0 && cl->freeing)
		free(cl);
}

static void
req_closed(uv_handle_t *h)
{
	struct ctl_req *rq = h->data;
	struct eg_ctl_client *cl = rq->cl;

	free(rq);
	client_handle_closed(cl);
}

/* Finish a request: the callback runs last, and may free the client. */
static void
req_done(struct ctl_req *rq, int status, const struct eg_ipc_msg *msg)
{
	eg_ctl_reply_cb cb = rq->cb;
	void *arg = rq->arg;

	TAILQ_REMOVE(&rq->cl->reqs, rq, link);
	uv_timer_stop(&rq->timer);
	uv_close((uv_handle_t *)&rq->timer, req_closed);
	cb(status, status == 0 ? msg : NULL, arg);
}

static void
fail_all(struct eg_ctl_client *cl, int status)
{
	while (!TAILQ_EMPTY(&cl->reqs))
		req_done(TAILQ_FIRST(&cl->reqs), status, NULL);
}

static void
link_closed(uv_handle_t *h)
{
	struct ctl_link *l = h->data;
	struct eg_ctl_client *cl = l->cl;

	close(l->fd);
	free(l);
	client_handle_closed(cl);
}

static void
retry_cb(uv_timer_t *t)
{
	client_connect(t->data);
}

/* Drop the connection, fail what was in flight, and try again later. */
static void
client_reset(struct eg_ctl_client *cl, int status)
{
	struct ctl_link *l = cl->link;

	if (l != NULL) {
		cl->link = NULL;
		uv_poll_stop(&l->poll);
		uv_close((uv_handle_t *)&l->poll, link_closed);
	}
	if (!cl->freeing && !uv_is_active((uv_handle_t *)&cl->retry)) {
		uv_timer_start(&cl->retry, retry_cb, cl->backoff_ms, 0);
		cl->backoff_ms *= 2;
		if (cl->backoff_ms > CTL_BACKOFF_MAX_MS)
			cl->backoff_ms = CTL_BACKOFF_MAX_MS;
	}
	fail_all(cl, status);
}

static bool
is_reply(uint16_t type)
{
	switch (type) {
	case EG_MSG_ERROR:
	case EG_MSG_STATUS_REP:
	case EG_MSG_RELOAD_REP:
	case EG_MSG_SET_ACK:
	case EG_MSG_RESOLVE_REP:
	case EG_MSG_EXPLAIN_REP:
	case EG_MSG_WL_ACK:
	case EG_MSG_ASK_REP:
		return true;
	default:
		return false;
	}
}

static struct ctl_req *
req_find(struct eg_ctl_client *cl, uint32_t id)
{
	struct ctl_req *rq;

	TAILQ_FOREACH(rq, &cl->reqs, link)
		if (rq->id == id)
			return rq;
	return NULL;
}

/* One datagram from the server; false to stop reading. */
static bool
client_read_one(struct eg_ctl_client *cl)
{
	struct eg_ipc_msg msg;
	struct ctl_req *rq;
	int r;

	r = eg_ipc_recv(cl->link->fd, cl->buf, sizeof(cl->buf), &msg);
	if (r == -1 && (errno == EAGAIN || errno == EINTR))
		return false;
	if (r <= 0) {
		client_reset(cl, -ECONNRESET);
		return false;
	}
	rq = req_find(cl, msg.hdr.id);
	if (rq == NULL && is_reply(msg.hdr.type)) {
		/* A late answer to a request that already timed out. */
		eg_log(EG_LOG_DEBUG, "ctl_reply_late", "type=%s id=%u",
		    eg_msg_name(msg.hdr.type), msg.hdr.id);
		return true;
	}
	if (rq == NULL || !eg_ipc_reply_ok(rq->type, msg.hdr.type)) {
		eg_log(EG_LOG_WARN, "ctl_bad_reply", "path=%s type=%s",
		    cl->path, eg_msg_name(msg.hdr.type));
		if (rq != NULL)
			req_done(rq, -EPROTO, NULL);
		/* The callback may have freed the client. */
		if (!cl->freeing)
			client_reset(cl, -ECONNRESET);
		return false;
	}
	req_done(rq, 0, &msg);
	return true;
}

static void
client_poll_cb(uv_poll_t *h, int status, int events)
{
	struct ctl_link *l = h->data;
	struct eg_ctl_client *cl = l->cl;
	int i;

	(void)events;
	if (status < 0) {
		client_reset(cl, -ECONNRESET);
		return;
	}
	/* A callback may reset or free: stop when our link is gone. */
	for (i = 0; i < CTL_BATCH && cl->link == l && !cl->freeing; i++)
		if (!client_read_one(cl))
			break;
}

/* Never from inside client_connect: that may run inside a request. */
static void
connected_cb(uv_timer_t *t)
{
	struct eg_ctl_client *cl = t->data;

	if (cl->link != NULL && !cl->freeing && cl->on_connect != NULL)
		cl->on_connect(cl->on_connect_arg);
}

static void
client_connect(struct eg_ctl_client *cl)
{
	struct ctl_link *l;
	int fd;

	if (cl->link != NULL || cl->freeing)
		return;
	fd = eg_ipc_connect(cl->path);
	if (fd == -1 || fcntl(fd, F_SETFL, O_NONBLOCK) == -1)
		goto retry;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		goto retry_fd;
	l->cl = cl;
	l->fd = fd;
	if (uv_poll_init(cl->loop, &l->poll, fd) != 0) {
		free(l);
		goto retry_fd;
	}
	l->poll.data = l;
	cl->nhandles++;
	cl->link = l;
	cl->backoff_ms = CTL_BACKOFF_MIN_MS;
	if (uv_poll_start(&l->poll, UV_READABLE | UV_DISCONNECT,
	    client_poll_cb) != 0) {
		client_reset(cl, -ECONNRESET);
		return;
	}
	if (cl->on_connect != NULL)
		uv_timer_start(&cl->connected, connected_cb, 0, 0);
	return;
retry_fd:
	close(fd);
retry:
	client_reset(cl, -ENOTCONN);
}

struct eg_ctl_client *
eg_ctl_client_new(uv_loop_t *loop, const char *path)
{
	struct eg_ctl_client *cl;

	if (strlen(path) >= sizeof(cl->path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	if ((cl = calloc(1, sizeof(*cl))) == NULL)
		return NULL;
	cl->loop = loop;
	snprintf(cl->path, sizeof(cl->path), "%s", path);
	TAILQ_INIT(&cl->reqs);
	cl->backoff_ms = CTL_BACKOFF_MIN_MS;
	cl->next_id = 1;
	uv_timer_init(loop, &cl->retry);
	cl->retry.data = cl;
	uv_timer_init(loop, &cl->connected);
	cl->connected.data = cl;
	cl->nhandles = 2;
	client_connect(cl);
	return cl;
}

void
eg_ctl_client_on_connect(struct eg_ctl_client *cl, eg_ctl_connect_cb cb,
    void *arg)
{
	cl->on_connect = cb;
	cl->on_connect_arg = arg;
	if (cb != NULL && cl->link != NULL)
		uv_timer_start(&cl->connected, connected_cb, 0, 0);
}

static void
timer_closed(uv_handle_t *h)
{
	client_handle_closed(h->data);
}

void
eg_ctl_client_free(struct eg_ctl_client *cl)
{
	struct ctl_link *l;

	if (cl == NULL || cl->freeing)
		return;
	cl->freeing = 1;
	if ((l = cl->link) != NULL) {
		cl->link = NULL;
		uv_poll_stop(&l->poll);
		uv_close((uv_handle_t *)&l->poll, link_closed);
	}
	uv_timer_stop(&cl->retry);
	uv_close((uv_handle_t *)&cl->retry, timer_closed);
	uv_timer_stop(&cl->connected);
	uv_close((uv_handle_t *)&cl->connected, timer_closed);
	fail_all(cl, -ECANCELED);
}

int
eg_ctl_client_connected(const struct eg_ctl_client *cl)
{
	return cl->link != NULL;
}

static void
req_timer_cb(uv_timer_t *t)
{
	struct ctl_req *rq = t->data;

	req_done(rq, rq->status, NULL);
}

int
eg_ctl_request2(struct eg_ctl_client *cl, uint16_t type, const void *head,
    size_t headlen, const void *tail, size_t taillen, uint64_t timeout_ms,
    eg_ctl_reply_cb cb, void *arg)
{
	struct iovec iov[2] = {
		{ .iov_base = (void *)(uintptr_t)head, .iov_len = headlen },
		{ .iov_base = (void *)(uintptr_t)tail, .iov_len = taillen },
	};
	struct ctl_req *rq;

	if (cl->freeing || cb == NULL || timeout_ms == 0 ||
	    !eg_ipc_expects_reply(type)) {
		errno = EINVAL;
		return -1;
	}
	if ((rq = calloc(1, sizeof(*rq))) == NULL)
		return -1;
	rq->cl = cl;
	rq->type = type;
	rq->cb = cb;
	rq->arg = arg;
	rq->status = -ETIMEDOUT;
	rq->id = cl->next_id++;
	if (cl->next_id == 0)
		cl->next_id = 1;
	uv_timer_init(cl->loop, &rq->timer);
	rq->timer.data = rq;
	cl->nhandles++;
	/* Connect before queueing: a failed attempt fails what is queued. */
	if (cl->link == NULL)
		client_connect(cl);
	TAILQ_INSERT_TAIL(&cl->reqs, rq, link);
	if (cl->link == NULL) {
		/* Never run the callback from inside this call. */
		rq->status = -ENOTCONN;
		timeout_ms = 0;
	} else if (eg_ipc_sendv(cl->link->fd, type, rq->id, iov, 2) == -1) {
		if (errno == EINVAL || errno == EMSGSIZE) {
			TAILQ_REMOVE(&cl->reqs, rq, link);
			uv_close((uv_handle_t *)&rq->timer, req_closed);
			errno = EINVAL;
			return -1;
		}
		/* A dead peer also shows as a hang-up on the poll, which
		 * resets the link; this request fails on its own. */
		rq->status = errno == EAGAIN ? -EAGAIN : -ECONNRESET;
		timeout_ms = 0;
	}
	uv_timer_start(&rq->timer, req_timer_cb, timeout_ms, 0);
	return 0;
}

int
eg_ctl_request(struct eg_ctl_client *cl, uint16_t type, const void *payload,
    size_t len, uint64_t timeout_ms, eg_ctl_reply_cb cb, void *arg)
{
	return eg_ctl_request2(cl, type, payload, len, NULL, 0, timeout_ms, cb,
	    arg);
}
