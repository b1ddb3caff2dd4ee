/* test_ctl.c - control server and client on one in-process libuv loop. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctl.h"

#include "test_list.h"

enum srv_mode { M_REPLY, M_SILENT, M_LATER, M_WRONG_TYPE };

struct srv {
	enum srv_mode mode;
	int calls;
	uint16_t last_type;
	struct eg_ctl_conn *held;
	uint32_t held_id;
};

/* Outside any test's stack frame, so teardown can close it after a
 * failed assertion unwound the test. */
static uv_timer_t later;

struct res {
	int calls;
	int status;
	uint16_t type;
	uint32_t generation;
	char text[64];
};

static uv_loop_t loop;
static char dir[64], path[128];
static const struct eg_ipc_roles roles = {
	.netjaild_uid = 900, .connectd_uid = 901, .dohd_uid = 902,
	.admin_gid = (gid_t)-1,
};

static void
send_status(struct eg_ctl_conn *c, uint32_t id)
{
	struct eg_msg_status st = { .ready = 1, .generation = 77,
	    .textlen = 5 };

	assert_int_equal(eg_ctl_reply2(c, EG_MSG_STATUS_REP, id, &st,
	    sizeof(st), "up=1\n", 5), 0);
}

static void
later_cb(uv_timer_t *t)
{
	struct srv *s = t->data;

	if (!eg_ctl_conn_closed(s->held))
		send_status(s->held, s->held_id);
	eg_ctl_conn_unref(s->held);
	s->held = NULL;
}

static void
handler(struct eg_ctl_conn *c, enum eg_role role, const struct eg_ipc_msg *m,
    void *arg)
{
	struct eg_msg_result r = { 0, 0 };
	struct srv *s = arg;

	assert_int_equal(role, EG_ROLE_ADMIN);
	assert_int_equal(eg_ctl_peer_uid(c), geteuid());
	s->calls++;
	s->last_type = m->hdr.type;
	switch (s->mode) {
	case M_REPLY:
		send_status(c, m->hdr.id);
		break;
	case M_WRONG_TYPE:
		assert_int_equal(eg_ctl_reply(c, EG_MSG_RELOAD_REP, m->hdr.id,
		    &r, sizeof(r)), 0);
		break;
	case M_SILENT:
	case M_LATER:
		/* Keep the conn for an answer from a later callback. */
		eg_ctl_conn_ref(c);
		if (s->held != NULL)
			eg_ctl_conn_unref(s->held);
		s->held = c;
		s->held_id = m->hdr.id;
		if (s->mode == M_LATER)
			uv_timer_start(&later, later_cb, 1, 0);
		break;
	}
}

static void
reply_cb(int status, const struct eg_ipc_msg *msg, void *arg)
{
	struct res *r = arg;
	const struct eg_msg_status *st;
	const char *text;

	r->calls++;
	r->status = status;
	if (status != 0) {
		assert_null(msg);
		return;
	}
	r->type = msg->hdr.type;
	if ((st = eg_ipc_status(msg, &text)) != NULL) {
		r->generation = st->generation;
		snprintf(r->text, sizeof(r->text), "%.*s", (int)st->textlen,
		    text);
	}
}

/* Run the loop until *flag becomes non-zero (the suite timeout bounds it). */
static void
run_until(const int *flag)
{
	while (*flag == 0)
		uv_run(&loop, UV_RUN_ONCE);
}

static struct eg_ctl_server *
start(struct srv *s, enum eg_role self)
{
	struct eg_ctl_server *srv;
	char err[256];

	srv = eg_ctl_server_start(&loop, path, (gid_t)-1, &roles, self,
	    handler, s, err, sizeof(err));
	if (srv == NULL)
		fail_msg("server: %s", err);
	return srv;
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/eg-ctl-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/t.sock", dir);
	if (uv_loop_init(&loop) != 0)
		return -1;
	return uv_timer_init(&loop, &later);
}

static void
close_any(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

/*
 * Close every handle still open, so ASan sees no leak and a failed test
 * (which skips its own clean-up) does not hang the next one.
 */
static int
teardown(void **state)
{
	(void)state;
	uv_walk(&loop, close_any, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	unlink(path);
	rmdir(dir);
	return uv_loop_close(&loop) == 0 ? 0 : -1;
}

static void
finish(struct eg_ctl_server *srv, struct eg_ctl_client *cl, struct srv *s)
{
	eg_ctl_client_free(cl);
	eg_ctl_server_stop(srv);
	(void)s;
	uv_close((uv_handle_t *)&later, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
}

static void
test_ctl_request_reply(void **state)
{
	struct srv s = { .mode = M_REPLY };
	struct res r = { 0 }, r2 = { 0 };
	struct eg_ctl_server *srv;
	struct eg_ctl_client *cl;

	(void)state;
	later.data = &s;
	srv = start(&s, EG_ROLE_NETJAILD);
	cl = eg_ctl_client_new(&loop, path);
	assert_non_null(cl);
	assert_true(eg_ctl_client_connected(cl));
	assert_int_equal(eg_ctl_request(cl, EG_MSG_STATUS_REQ, NULL, 0, 5000,
	    reply_cb, &r), 0);
	assert_int_equal(eg_ctl_request(cl, EG_MSG_STATUS_REQ, NULL, 0, 5000,
	    reply_cb, &r2), 0);
	run_until(&r2.calls);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.type, EG_MSG_STATUS_REP);
	assert_int_equal(r.generation, 77);
	assert_string_equal(r.text, "up=1\n");
	assert_int_equal(r2.status, 0);
	assert_int_equal(s.calls, 2);
	/* Not a request: refused without a callback. */
	assert_int_equal(eg_ctl_request(cl, EG_MSG_SET_ACK, NULL, 0, 5000,
	    reply_cb, &r), -1);
	assert_int_equal(eg_ctl_request(cl, EG_MSG_STATUS_REQ, NULL, 0, 0,
	    reply_cb, &r), -1);
	/* Malformed payload: refused locally, never sent. */
	assert_int_equal(eg_ctl_request(cl, EG_MSG_STATUS_REQ, "x", 1, 5000,
	    reply_cb, &r), -1);
	assert_int_equal(r.calls, 1);
	finish(srv, cl, &s);
}

static void
test_ctl_async_reply(void **state)
{
	struct srv s = { .mode = M_LATER };
	struct res r = { 0 };
	struct eg_ctl_server *srv;
	struct eg_ctl_client *cl;

	(void)state;
	later.data = &s;
	srv = start(&s, EG_ROLE_DOHD);
	cl = eg_ctl_client_new(&loop, path);
	assert_int_equal(eg_ctl_request(cl, EG_MSG_STATUS_REQ, NULL, 0, 5000,
	    reply_cb, &r), 0);
	run_until(&r.calls);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.generation, 77);
	finish(srv, cl, &s);
}

static void
test_ctl_timeout(void **state)
{
	struct srv s = { .mode = M_SILENT };
	struct res r = { 0 }, r2 = { 0 };
	struct eg_ctl_server *srv;
	struct eg_ctl_client *cl;

	(void)state;
	later.data = &s;
	srv = start(&s, EG_ROLE_NETJAILD);
	cl = eg_ctl_client_new(&loop, path);
	assert_int_equal(eg_ctl_request(cl, EG_MSG_STATUS_REQ, NULL, 0, 20,
	    reply_cb, &r), 0);
	run_until(&r.calls);
	assert_int_equal(r.status, -ETIMEDOUT);
	/* The late answer is ignored; the connection stays usable. */
	assert_non_null(s.held);
	send_status(s.held, s.held_id);
	eg_ctl_conn_unref(s.held);
	s.held = NULL;
	s.mode = M_REPLY;
	assert_int_equal(eg_ctl_request(cl, EG_MSG_STATUS_REQ, NULL, 0, 5000,
	    reply_cb, &r2), 0);
	run_until(&r2.calls);
	assert_int_equal(r2.status, 0);
	assert_int_equal(r.calls, 1);
	assert_true(eg_ctl_client_connected(cl));
	finish(srv, cl, &s);
}

static void
test_ctl_server_gone_and_back(void **state)
{
	struct srv s = { .mode = M_SILENT };
	struct res r = { 0 }, r2 = { 0 }, r3 = { 0 };
	struct eg_ctl_server *srv;
	struct eg_ctl_client *cl;

	(void)state;
	later.data = &s;
	srv = start(&s, EG_ROLE_NETJAILD);
	cl = eg_ctl_client_new(&loop, path);
	assert_int_equal(eg_ctl_request(cl, EG_MSG_STATUS_REQ, NULL, 0, 60000,
	    reply_cb, &r), 0);
	while (s.calls == 0)
		uv_run(&loop, UV_RUN_ONCE);
	/* The server goes away with the request in flight. */
	eg_ctl_conn_unref(s.held);
	s.held = NULL;
	eg_ctl_server_stop(srv);
	run_until(&r.calls);
	assert_int_equal(r.status, -ECONNRESET);
	assert_false(eg_ctl_client_connected(cl));
	/* Nobody listens now: "no", not a hang. */
	assert_int_equal(eg_ctl_request(cl, EG_MSG_STATUS_REQ, NULL, 0, 60000,
	    reply_cb, &r2), 0);
	assert_int_equal(r2.calls, 0);	/* never from inside the call */
	run_until(&r2.calls);
	assert_int_equal(r2.status, -ENOTCONN);
	/* It comes back: the client reconnects by itself. */
	s.mode = M_REPLY;
	srv = start(&s, EG_ROLE_NETJAILD);
	while (!eg_ctl_client_connected(cl))
		uv_run(&loop, UV_RUN_ONCE);
	assert_int_equal(eg_ctl_request(cl, EG_MSG_STATUS_REQ, NULL, 0, 5000,
	    reply_cb, &r3), 0);
	run_until(&r3.calls);
	assert_int_equal(r3.status, 0);
	finish(srv, cl, &s);
}

static void
test_ctl_disallowed_type(void **state)
{
	struct srv s = { .mode = M_REPLY };
	struct res r = { 0 };
	struct eg_ctl_server *srv;
	struct eg_ctl_client *cl;
	uint8_t p[sizeof(struct eg_msg_resolve_req) + 9];
	struct eg_msg_resolve_req rq = { .qtype = 1, .namelen = 9 };

	(void)state;
	later.data = &s;
	/* Admin may not ask connectd to resolve. */
	srv = start(&s, EG_ROLE_CONNECTD);
	cl = eg_ctl_client_new(&loop, path);
	memcpy(p, &rq, sizeof(rq));
	memcpy(p + sizeof(rq), "a.example", 9);
	assert_int_equal(eg_ctl_request(cl, EG_MSG_RESOLVE_REQ, p, sizeof(p),
	    60000, reply_cb, &r), 0);
	run_until(&r.calls);
	assert_int_equal(r.status, -ECONNRESET);
	assert_int_equal(s.calls, 0);
	finish(srv, cl, &s);
}

static void
test_ctl_wrong_reply_type(void **state)
{
	struct srv s = { .mode = M_WRONG_TYPE };
	struct res r = { 0 };
	struct eg_ctl_server *srv;
	struct eg_ctl_client *cl;

	(void)state;
	later.data = &s;
	srv = start(&s, EG_ROLE_NETJAILD);
	cl = eg_ctl_client_new(&loop, path);
	assert_int_equal(eg_ctl_request(cl, EG_MSG_STATUS_REQ, NULL, 0, 60000,
	    reply_cb, &r), 0);
	run_until(&r.calls);
	assert_int_equal(r.status, -EPROTO);
	finish(srv, cl, &s);
}

/* Run the loop until the raw peer sees the server hang up. */
static void
expect_dropped(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char b[64];
	int i;

	for (i = 0; i < 100000; i++) {
		uv_run(&loop, UV_RUN_NOWAIT);
		if (poll(&pfd, 1, 1) == 1)
			break;
	}
	assert_int_equal(recv(fd, b, sizeof(b), MSG_DONTWAIT), 0);
}

static void
test_ctl_malformed_dropped(void **state)
{
	struct srv s = { .mode = M_REPLY };
	struct eg_ctl_server *srv;
	int fd;

	(void)state;
	later.data = &s;
	srv = start(&s, EG_ROLE_NETJAILD);
	/* A header that claims more than was sent. */
	fd = eg_ipc_connect(path);
	assert_true(fd >= 0);
	assert_int_equal(send(fd, "\x02\0\0\0\x05\0\0\0\x01\0\0\0", 12, 0), 12);
	expect_dropped(fd);
	close(fd);
	/* Shorter than a header. */
	fd = eg_ipc_connect(path);
	assert_int_equal(send(fd, "\x02\0", 2, 0), 2);
	expect_dropped(fd);
	close(fd);
	/* A reply type sent as a request. */
	fd = eg_ipc_connect(path);
	assert_int_equal(send(fd, "\x01\0\0\0\x04\0\0\0\x01\0\0\0\x05\0\0\0",
	    16, 0), 16);
	expect_dropped(fd);
	close(fd);
	assert_int_equal(s.calls, 0);
	finish(srv, NULL, &s);
}

static int drops;
static enum eg_role drop_role;

static void
on_drop(struct eg_ctl_conn *c, enum eg_role role, void *arg)
{
	struct srv *s = arg;

	assert_non_null(c);
	assert_int_equal(s->mode, M_REPLY);
	drop_role = role;
	drops++;
}

/*
 * The drop callback runs once for a peer that hangs up and once for one
 * the server drops (here: an admin registering a workload listener, which
 * only connectd and dohd may), never when the server itself stops.
 */
static void
test_ctl_on_drop(void **state)
{
	struct srv s = { .mode = M_REPLY };
	struct eg_ctl_server *srv;
	struct eg_ipc_hdr h = { .type = EG_MSG_WL_LISTEN, .len = 9, .id = 1 };
	struct eg_msg_wl_listen w = { .op = EG_WL_REGISTER,
	    .kind = EG_WLL_TRANSPARENT, .family = AF_INET, .namelen = 1,
	    .port = 40001 };
	uint8_t b[sizeof(h) + sizeof(w) + 1];
	int fd, i;

	(void)state;
	later.data = &s;
	drops = 0;
	srv = start(&s, EG_ROLE_NETJAILD);
	eg_ctl_server_on_drop(srv, on_drop);
	fd = eg_ipc_connect(path);
	assert_true(fd >= 0);
	for (i = 0; i < 1000 && s.calls == 0; i++) {
		if (i == 0)
			assert_int_equal(send(fd, "\x02\0\0\0\0\0\0\0\x01\0\0\0",
			    12, 0), 12);
		uv_run(&loop, UV_RUN_NOWAIT);
		usleep(1000);
	}
	assert_int_equal(s.calls, 1);
	close(fd);
	for (i = 0; i < 1000 && drops == 0; i++) {
		uv_run(&loop, UV_RUN_NOWAIT);
		usleep(1000);
	}
	assert_int_equal(drops, 1);
	assert_int_equal(drop_role, EG_ROLE_ADMIN);
	/* not the admin's to send: dropped, unhandled, reported */
	memcpy(b, &h, sizeof(h));
	memcpy(b + sizeof(h), &w, sizeof(w));
	b[sizeof(h) + sizeof(w)] = 'a';
	fd = eg_ipc_connect(path);
	assert_int_equal(send(fd, b, sizeof(b), 0), (ssize_t)sizeof(b));
	expect_dropped(fd);
	close(fd);
	assert_int_equal(drops, 2);
	assert_int_equal(s.calls, 1);
	/* a peer still connected when the server stops: no callback */
	fd = eg_ipc_connect(path);
	assert_true(fd >= 0);
	uv_run(&loop, UV_RUN_NOWAIT);
	for (i = 0; i < 20; i++)
		uv_run(&loop, UV_RUN_NOWAIT);
	finish(srv, NULL, &s);
	close(fd);
	assert_int_equal(drops, 2);
}

static void
test_ctl_no_role_refused(void **state)
{
	struct srv s = { .mode = M_REPLY };
	struct eg_ctl_server *srv;
	pid_t child;
	int st, done = 0;

	(void)state;
	if (geteuid() != 0) {
		skip();
		return;
	}
	later.data = &s;
	srv = start(&s, EG_ROLE_NETJAILD);
	chmod(dir, 0755);
	chmod(path, 0666);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		char b[16];
		ssize_t n;
		int fd;

		if (setgid(65534) == -1 || setuid(65534) == -1)
			_exit(10);
		fd = eg_ipc_connect(path);
		if (fd == -1)
			_exit(11);
		send(fd, "\x02\0\0\0\0\0\0\0\x01\0\0\0", 12, 0);
		/* Closed without an answer (a reset: our datagram was
		 * never read). */
		n = recv(fd, b, sizeof(b), 0);
		_exit(n == 0 || (n == -1 && errno == ECONNRESET) ? 0 : 12);
	}
	while (!done) {
		uv_run(&loop, UV_RUN_NOWAIT);
		if (waitpid(child, &st, WNOHANG) == child)
			done = 1;
		else
			poll(NULL, 0, 1);
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("child status %#x", st);
	assert_int_equal(s.calls, 0);
	finish(srv, NULL, &s);
}

static void
free_in_cb(int status, const struct eg_ipc_msg *msg, void *arg)
{
	struct eg_ctl_client **cl = arg;

	(void)status;
	(void)msg;
	eg_ctl_client_free(*cl);
	*cl = NULL;
}

static void
test_ctl_free_pending(void **state)
{
	struct srv s = { .mode = M_SILENT };
	struct res r = { 0 };
	struct eg_ctl_server *srv;
	struct eg_ctl_client *cl, *cl2;

	(void)state;
	later.data = &s;
	srv = start(&s, EG_ROLE_NETJAILD);
	/* Freeing a client answers what is pending with -ECANCELED. */
	cl = eg_ctl_client_new(&loop, path);
	assert_int_equal(eg_ctl_request(cl, EG_MSG_STATUS_REQ, NULL, 0, 60000,
	    reply_cb, &r), 0);
	eg_ctl_client_free(cl);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.status, -ECANCELED);
	/* A callback may free its own client. */
	cl2 = eg_ctl_client_new(&loop, path);
	assert_int_equal(eg_ctl_request(cl2, EG_MSG_STATUS_REQ, NULL, 0, 10,
	    free_in_cb, &cl2), 0);
	assert_int_equal(eg_ctl_request(cl2, EG_MSG_STATUS_REQ, NULL, 0, 60000,
	    reply_cb, &r), 0);
	while (cl2 != NULL)
		uv_run(&loop, UV_RUN_ONCE);
	assert_int_equal(r.calls, 2);
	assert_int_equal(r.status, -ECANCELED);
	while (s.calls < 2)	/* both requests reached the server */
		uv_run(&loop, UV_RUN_ONCE);
	if (s.held != NULL)
		eg_ctl_conn_unref(s.held);
	finish(srv, NULL, &s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = TEST_LIST(CTL_TESTS);

	return cmocka_run_group_tests(tests, NULL, NULL);
}
