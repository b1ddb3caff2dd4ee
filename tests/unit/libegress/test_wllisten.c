/*
 * test_wllisten.c - workload listener sockets (the pool of marked sockets)
 * and their registrations with netjaild (wlreg_client.c) against a control
 * server standing in for netjaild.
 *
 * netjaild takes WL_LISTEN from dohd's uid only, and root is always an
 * admin, so the registration tests run in a child that dropped to an
 * unprivileged uid and plays both ends; it reports failures by exit code.
 */
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <grp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctl.h"
#include "lmark.h"
#include "wllisten.h"
#include "wlreg_client.h"

#include "test_list.h"

#define TEST_UID	65534
#define TEST_MARK	0x4a

/* ---- the pool ---- */

static void
check_bound(int fd, enum eg_wll_slot s, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int type = 0;
	socklen_t tl = sizeof(type);

	assert_true(fd >= 0);
	assert_true(port > 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &sl), 0);
	assert_int_equal(ss.ss_family, eg_wll_family(s));
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)(void *)&ss;

		assert_int_equal(ntohl(in->sin_addr.s_addr), INADDR_LOOPBACK);
		assert_int_equal(ntohs(in->sin_port), port);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)(void *)&ss;

		assert_true(IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr));
		assert_int_equal(ntohs(in6->sin6_port), port);
	}
	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl), 0);
	assert_int_equal(type, eg_wll_tcp(s) ? SOCK_STREAM : SOCK_DGRAM);
}

static void
test_wllisten_unmarked_opens_each_slot(void **state)
{
	char err[256];
	struct eg_wll_pool *p = eg_wll_pool_new(0, 0, err, sizeof(err));

	(void)state;
	assert_non_null(p);
	for (int s = 0; s < EG_WLL__SLOTS; s++) {
		uint16_t port = 0;
		int fd = eg_wll_open(p, s, false, &port, err, sizeof(err));

		if (fd < 0 && s % 2 == 1 && errno == EADDRNOTAVAIL)
			continue;	/* no ::1 on this host */
		check_bound(fd, s, port);
		assert_int_equal(eg_lmark_get(fd), 0);
		close(fd);
	}
	assert_int_equal(eg_wll_open(NULL, EG_WLL_UDP4, false,
	    &(uint16_t){ 0 }, err, sizeof(err)), -1);
	eg_wll_pool_free(p);
}

/* Marked while privileged, bound later, as often as the pool holds. */
static void
test_wllisten_pool_marked_and_bounded(void **state)
{
	char err[256];
	struct eg_wll_pool *p;
	uint16_t port;
	int fd;

	(void)state;
	if (geteuid() != 0)
		skip();
	p = eg_wll_pool_new(TEST_MARK, 2, err, sizeof(err));
	assert_non_null(p);
	assert_int_equal(eg_wll_pool_left(p, EG_WLL_TCP4), 2);
	for (int i = 0; i < 2; i++) {
		fd = eg_wll_open(p, EG_WLL_TCP4, false, &port, err,
		    sizeof(err));
		check_bound(fd, EG_WLL_TCP4, port);
		assert_int_equal(eg_lmark_get(fd), TEST_MARK);
		close(fd);
	}
	assert_int_equal(eg_wll_pool_left(p, EG_WLL_TCP4), 0);
	assert_int_equal(eg_wll_open(p, EG_WLL_TCP4, false, &port, err,
	    sizeof(err)), -1);
	assert_int_equal(errno, ENOSPC);
	/* the other slots are untouched */
	fd = eg_wll_open(p, EG_WLL_UDP4, false, &port, err, sizeof(err));
	check_bound(fd, EG_WLL_UDP4, port);
	assert_int_equal(eg_lmark_get(fd), TEST_MARK);
	close(fd);
	eg_wll_pool_free(p);
}

static int
drop_to_test_uid(void)
{
	if (geteuid() != 0)
		return 0;
	return setgroups(0, NULL) == 0 && setresgid(TEST_UID, TEST_UID,
	    TEST_UID) == 0 && setresuid(TEST_UID, TEST_UID, TEST_UID) == 0 ?
	    0 : -1;
}

/* Run fn in a child as TEST_UID; its exit code is the result. */
static void
in_child(int (*fn)(void))
{
	int st;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		if (drop_to_test_uid() < 0)
			_exit(99);
		_exit(fn());
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: %s\n", \
	__FILE__, __LINE__, #c); return 1; } } while (0)

/* Without privilege nothing is marked and nothing is opened unmarked. */
static int
unprivileged_pool(void)
{
	char err[256];
	struct eg_wll_pool *p = eg_wll_pool_new(TEST_MARK, 4, err,
	    sizeof(err));
	uint16_t port;

	CHECK(p != NULL);
	CHECK(strstr(err, "SO_MARK") != NULL);
	for (int s = 0; s < EG_WLL__SLOTS; s++) {
		CHECK(eg_wll_pool_left(p, s) == 0);
		CHECK(eg_wll_open(p, s, false, &port, err, sizeof(err)) == -1);
		CHECK(errno == EPERM);
	}
	eg_wll_pool_free(p);
	return 0;
}

static void
test_wllisten_unprivileged_refuses(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	in_child(unprivileged_pool);
}

/* ---- registrations ---- */

struct nj {
	int registers, unregisters;
	char refuse[40];	/* workload refused with ENOENT */
	int silent;		/* answer nothing */
	char last[64];
};

static uv_loop_t loop;
static char dir[64], path[128];

static void
nj_handler(struct eg_ctl_conn *c, enum eg_role role,
    const struct eg_ipc_msg *m, void *arg)
{
	struct nj *s = arg;
	const struct eg_msg_wl_listen *w;
	char name[EG_IPC_WL_NAME_MAX + 1];
	struct eg_msg_result r = { 0, 0 };

	if (role != EG_ROLE_DOHD || (w = eg_ipc_wl_listen(m, name)) == NULL) {
		r.code = EBADMSG;
	} else {
		if (w->op == EG_WL_REGISTER)
			s->registers++;
		else
			s->unregisters++;
		snprintf(s->last, sizeof(s->last), "%s %s %s %d %u",
		    w->op == EG_WL_REGISTER ? "reg" : "unreg", name,
		    eg_wl_listener_name(w->kind), w->family == AF_INET ? 4 : 6,
		    w->port);
		if (strcmp(name, s->refuse) == 0)
			r.code = ENOENT;
		if (s->silent)
			return;
	}
	eg_ctl_reply(c, EG_MSG_WL_ACK, m->hdr.id, &r, sizeof(r));
}

static struct eg_ctl_server *
nj_start(struct nj *s)
{
	const struct eg_ipc_roles roles = {
		.netjaild_uid = 900, .connectd_uid = 901,
		.dohd_uid = geteuid(), .admin_gid = (gid_t)-1,
	};
	char err[256];

	return eg_ctl_server_start(&loop, path, (gid_t)-1, &roles,
	    EG_ROLE_NETJAILD, nj_handler, s, err, sizeof(err));
}

static void
spin(int n)
{
	for (int i = 0; i < n; i++)
		uv_run(&loop, UV_RUN_NOWAIT);
}

/* Run the loop until cond holds, at most ~2 s. */
#define WAIT(cond) do { for (int _i = 0; _i < 2000 && !(cond); _i++) { \
	uv_run(&loop, UV_RUN_NOWAIT); usleep(1000); } CHECK(cond); } while (0)

static void
done_cb(void *arg)
{
	(*(int *)arg)++;
}

static int
registrations(void)
{
	struct nj s = { .refuse = "gone" };
	struct eg_ctl_server *srv;
	struct eg_ctl_client *cl;
	struct eg_wlrc *r;
	char text[1024];
	int done = 0;

	snprintf(dir, sizeof(dir), "/tmp/eg-wlrc-XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/nj.sock", dir);
	CHECK(uv_loop_init(&loop) == 0);
	/* netjaild is not there yet */
	CHECK((cl = eg_ctl_client_new(&loop, path)) != NULL);
	CHECK((r = eg_wlrc_new(&loop, cl, "dohd")) != NULL);
	CHECK(eg_wlrc_add(r, "ci", EG_WLL_DNS_UDP, AF_INET, 40053) == 0);
	CHECK(eg_wlrc_add(r, "ci", EG_WLL_DNS_TCP, AF_INET6, 40054) == 0);
	CHECK(eg_wlrc_add(r, "gone", EG_WLL_DNS_UDP, AF_INET, 40055) == 0);
	CHECK(eg_wlrc_add(r, "default", EG_WLL_DNS_UDP, AF_INET, 1) == -1);
	CHECK(eg_wlrc_add(r, "ci", EG_WLL_DNS_UDP, AF_INET, 0) == -1);
	CHECK(eg_wlrc_state(r, "ci", EG_WLL_DNS_UDP, AF_INET) ==
	    EG_WLRC_UNREACHABLE);
	/* netjaild comes up: everything is sent on the connection */
	CHECK((srv = nj_start(&s)) != NULL);
	WAIT(eg_wlrc_state(r, "gone", EG_WLL_DNS_UDP, AF_INET) ==
	    EG_WLRC_REFUSED &&
	    eg_wlrc_state(r, "ci", EG_WLL_DNS_TCP, AF_INET6) ==
	    EG_WLRC_REGISTERED);
	CHECK(eg_wlrc_state(r, "ci", EG_WLL_DNS_UDP, AF_INET) ==
	    EG_WLRC_REGISTERED);
	CHECK(s.registers == 3);
	eg_wlrc_status_text(r, text, sizeof(text));
	CHECK(strstr(text, "wl_listener.ci.dns_udp.ipv4=40053 registered\n"));
	CHECK(strstr(text, "wl_listener.ci.dns_tcp.ipv6=40054 registered\n"));
	CHECK(strstr(text, "wl_listener.gone.dns_udp.ipv4=40055 refused\n"));

	/* netjaild restarts: all registered again on the new connection */
	eg_ctl_server_stop(srv);
	WAIT(eg_wlrc_state(r, "ci", EG_WLL_DNS_UDP, AF_INET) ==
	    EG_WLRC_UNREACHABLE || !eg_ctl_client_connected(cl));
	s.registers = 0;
	CHECK((srv = nj_start(&s)) != NULL);
	WAIT(s.registers == 3 && eg_wlrc_state(r, "ci", EG_WLL_DNS_UDP,
	    AF_INET) == EG_WLRC_REGISTERED);

	/* a reload: the refused one is asked again, the others are not */
	s.registers = 0;
	eg_wlrc_retry(r);
	WAIT(s.registers == 1);
	spin(10);
	CHECK(s.registers == 1 && strcmp(s.last, "reg gone dns_udp 4 40055")
	    == 0);

	/* removal: unregistered, then done (never inside the call) */
	CHECK(eg_wlrc_remove(r, "ci", done_cb, &done) == 2);
	CHECK(done == 0);
	WAIT(done == 1);
	CHECK(s.unregisters == 2);
	CHECK(eg_wlrc_state(r, "ci", EG_WLL_DNS_UDP, AF_INET) == -1);
	/* nothing registered: done all the same */
	CHECK(eg_wlrc_remove(r, "gone", done_cb, &done) == 0);
	CHECK(done == 1);
	WAIT(done == 2);
	CHECK(s.unregisters == 2);

	/* no answer: failed, asked again later; a late answer is ignored */
	s.silent = 1;
	CHECK(eg_wlrc_add(r, "db", EG_WLL_DNS_UDP, AF_INET, 40056) == 0);
	CHECK(eg_wlrc_state(r, "db", EG_WLL_DNS_UDP, AF_INET) ==
	    EG_WLRC_PENDING);

	eg_ctl_client_free(cl);
	eg_wlrc_free(r);
	eg_ctl_server_stop(srv);
	uv_run(&loop, UV_RUN_DEFAULT);
	CHECK(uv_loop_close(&loop) == 0);
	rmdir(dir);
	return 0;
}

static void
test_wlreg_client_registers_again(void **state)
{
	(void)state;
	in_child(registrations);
}

int
main(void)
{
	const struct CMUnitTest tests[] = TEST_LIST(WLLISTEN_TESTS);

	return cmocka_run_group_tests(tests, NULL, NULL);
}
