/*
 * test_relay.c - the relay (connectd/relay.c) over real loopback sockets
 * in a real libuv loop, driven through its callbacks (struct cd_relay_cbs)
 * as conn.c drives it: no code of the connection layer is copied here,
 * the callbacks only record what the relay asked for.
 *
 * The case that matters: a write to the client that libuv finished at
 * once but whose callback it deferred to the next loop turn, when the
 * same turn switches the tunnel to splice(2).  Closing the client handle
 * then runs that callback with status 0 on a relay whose client handle is
 * gone; connectd once dereferenced it there (a SIGSEGV in libuv, seen in
 * the soak).  To make the moment certain rather than lucky, the test
 * wraps uv_try_write (-Wl,--wrap) so that, while asked, the relay's
 * direct write to the client says EAGAIN and the relay falls back to
 * uv_write -- which the socket then takes whole.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include <uv.h>

#include "cd.h"
#include "judge.h"

#include "test_list.h"

/* ---- uv_try_write, refused on demand for one handle */
int __real_uv_try_write(uv_stream_t *, const uv_buf_t[], unsigned int);
int __wrap_uv_try_write(uv_stream_t *, const uv_buf_t[], unsigned int);

static uv_stream_t *refuse_for;
static int refused;

int
__wrap_uv_try_write(uv_stream_t *h, const uv_buf_t b[], unsigned int n)
{
	if (h == refuse_for) {
		refused++;
		return UV_EAGAIN;
	}
	return __real_uv_try_write(h, b, n);
}

/* ---- the connection, as far as the relay sees it: its callbacks */
struct tconn {
	uv_tcp_t cli;
	struct ustream *up;
	bool released, done;
	char err[CD_ERR_MAX];
	char cut[64];
	int closed_handles;
};

static void
on_cli_closed(uv_handle_t *h)
{
	struct tconn *c = h->data;

	c->closed_handles++;
}

/* The relay's contract: at release and at done, the owner closes the
 * client handle and the ustream (each once). */
static void
t_close_streams(struct tconn *c)
{
	if (c->up != NULL)
		us_close(c->up);
	c->up = NULL;
	c->cli.data = c;
	if (!uv_is_closing((uv_handle_t *)&c->cli))
		uv_close((uv_handle_t *)&c->cli, on_cli_closed);
}

static void
t_release(void *arg)
{
	struct tconn *c = arg;

	c->released = true;
	t_close_streams(c);
}

static void
t_tunnel_cut(void *arg, const char *why, const char *seen, bool observe)
{
	struct tconn *c = arg;

	(void)seen;
	(void)observe;
	snprintf(c->cut, sizeof(c->cut), "%s", why);
}

static void
t_done(void *arg, const char *err)
{
	struct tconn *c = arg;

	c->done = true;
	snprintf(c->err, sizeof(c->err), "%s", err ? err : "-");
	t_close_streams(c);
}

static const struct cd_relay_cbs t_cbs = {
	.done = t_done,
	.release = t_release,
	.tunnel_cut = t_tunnel_cut,
};

/* ---- a tunnel: client_peer <-> [cli] relay [us] <-> up_peer */
struct rig {
	uv_loop_t loop;
	struct cd_metrics m;
	struct tconn conn;
	struct cd_relay *r;
	int cli_peer, up_peer;		/* the test's ends, non-blocking */
	bool connected;
};

static int
listener(struct sockaddr_in *sa)
{
	socklen_t sl = sizeof(*sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)sa, sizeof(*sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)sa, &sl), 0);
	return fd;
}

static void
on_up_connected(struct ustream *us, int status, const char *why, void *arg)
{
	struct rig *g = arg;

	(void)us;
	(void)why;
	assert_int_equal(status, 0);
	g->connected = true;
}

static void
nonblock(int fd)
{
	assert_int_equal(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
}

static bool rig_observe;	/* report mode for the next rig */
static bool rig_cli_reading;	/* the next rig's client reads already */

static void
t_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	static char buf[64];

	(void)h;
	(void)hint;
	*b = uv_buf_init(buf, sizeof(buf));
}

/* The intake's reader: once the relay took over it must never run. */
static void
t_intake_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	(void)s;
	(void)b;
	fail_msg("the intake's read callback ran with %zd", n);
}

static void
rig_up_judged(struct rig *g, uint64_t hold_ms, struct judge *jd)
{
	struct cd_relay_opts o;
	struct sockaddr_in sa;
	int lfd, cfd, afd;

	memset(g, 0, sizeof(*g));
	memset(&o, 0, sizeof(o));
	assert_int_equal(uv_loop_init(&g->loop), 0);

	/* the client side: an accepted socket under a uv_tcp_t */
	lfd = listener(&sa);
	cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(cfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	afd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(afd >= 0);
	close(lfd);
	g->cli_peer = cfd;
	assert_int_equal(uv_tcp_init(&g->loop, &g->conn.cli), 0);
	assert_int_equal(uv_tcp_open(&g->conn.cli, afd), 0);

	/* the upstream side: a ustream connected to a socket we accept */
	lfd = listener(&sa);
	g->conn.up = us_new(&g->loop);
	assert_non_null(g->conn.up);
	assert_int_equal(us_connect(g->conn.up, (struct sockaddr *)&sa,
	    on_up_connected, g), 0);
	while (!g->connected)
		uv_run(&g->loop, UV_RUN_ONCE);
	g->up_peer = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(g->up_peer >= 0);
	close(lfd);
	nonblock(g->cli_peer);
	nonblock(g->up_peer);

	o.idle_ms = 30000;
	o.fin_hold_ms = hold_ms;
	o.judge = jd;
	o.judge_ms = 300;
	o.observe = rig_observe;
	o.m = &g->m;
	if (rig_cli_reading) {
		assert_int_equal(uv_read_start((uv_stream_t *)&g->conn.cli,
		    t_alloc, t_intake_read), 0);
		o.cli_reading = true;
	}
	g->r = cd_relay_start(&g->loop, &g->conn.cli, g->conn.up, &o, &t_cbs,
	    &g->conn);
	assert_non_null(g->r);
}

static void
rig_up(struct rig *g, uint64_t hold_ms)
{
	rig_up_judged(g, hold_ms, NULL);
}

static void
rig_down(struct rig *g)
{
	int i;

	if (!g->conn.done)
		t_done(&g->conn, "test end");
	cd_relay_close(g->r);
	for (i = 0; i < 100 && uv_run(&g->loop, UV_RUN_NOWAIT) != 0; i++)
		;
	assert_int_equal(uv_loop_close(&g->loop), 0);
	close(g->cli_peer);
	close(g->up_peer);
}

/* Write all of p to fd, turning the loop while the socket is full. */
static void
put(struct rig *g, int fd, const char *p, size_t n)
{
	ssize_t k;

	while (n > 0) {
		k = write(fd, p, n);
		if (k < 0) {
			assert_int_equal(errno, EAGAIN);
			uv_run(&g->loop, UV_RUN_NOWAIT);
			continue;
		}
		p += k;
		n -= (size_t)k;
	}
}

/* Read exactly n bytes from fd (the loop turning meanwhile) and compare. */
static void
expect(struct rig *g, int fd, const char *want, size_t n)
{
	char buf[65536];
	size_t got = 0;
	ssize_t k;
	int spins = 0;

	while (got < n) {
		k = read(fd, buf, sizeof(buf) < n - got ? sizeof(buf) : n - got);
		if (k < 0 && errno == EAGAIN) {
			assert_true(++spins < 200000);
			uv_run(&g->loop, UV_RUN_NOWAIT);
			continue;
		}
		assert_true(k > 0);
		assert_memory_equal(buf, want + got, (size_t)k);
		got += (size_t)k;
	}
}

static char *
pattern(size_t n, unsigned seed)
{
	char *p = malloc(n);
	size_t i;

	assert_non_null(p);
	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (char)(seed >> 16);
	}
	return p;
}

/* The deferred client-write callback in the turn that switches. */
static void
test_relay_switch_with_deferred_write(void **state)
{
	struct rig g;
	char *a = pattern(60 * 1024, 1), *b = pattern(8 * 1024, 2);
	char *c = pattern(1 << 20, 3), *d = pattern(256 * 1024, 4);
	const char ping[] = "ping from the client";
	int i;

	(void)state;
	rig_up(&g, 0);

	/* Below the switch-over point: buffered, both ways. */
	put(&g, g.up_peer, a, 60 * 1024);
	expect(&g, g.cli_peer, a, 60 * 1024);
	put(&g, g.cli_peer, ping, sizeof(ping));
	expect(&g, g.up_peer, ping, sizeof(ping));
	assert_false(cd_relay_spliced(g.r));

	/*
	 * One turn with both sockets readable, upstream first (epoll hands
	 * them out in the order they became ready): the relay writes the 8
	 * KiB to the client with uv_write, which finishes at once and defers
	 * its callback; then the client's bytes go up and take the tunnel
	 * past the switch-over point with nothing queued.
	 */
	/* Let epoll drop what it still lists as ready from earlier turns
	 * (level-triggered entries stay listed until a wait finds them
	 * idle), so the order below is the order the bytes arrive in. */
	for (i = 0; i < 3; i++)
		uv_run(&g.loop, UV_RUN_NOWAIT);
	refuse_for = (uv_stream_t *)&g.conn.cli;
	put(&g, g.up_peer, b, 8 * 1024);
	usleep(20000);
	put(&g, g.cli_peer, ping, sizeof(ping));
	usleep(20000);
	uv_run(&g.loop, UV_RUN_ONCE);
	refuse_for = NULL;
	assert_true(refused > 0);
	/* The switch happened in that turn; the deferred callback ran when
	 * the client handle closed, and did not touch it. */
	assert_true(cd_relay_spliced(g.r));
	assert_true(g.conn.released);
	assert_false(g.conn.done);
	expect(&g, g.cli_peer, b, 8 * 1024);
	expect(&g, g.up_peer, ping, sizeof(ping));

	/* Spliced now: bytes still arrive whole, both ways. */
	put(&g, g.up_peer, c, 1 << 20);
	expect(&g, g.cli_peer, c, 1 << 20);
	put(&g, g.cli_peer, d, 256 * 1024);
	expect(&g, g.up_peer, d, 256 * 1024);
	assert_int_equal(g.m.spliced, 1);
	assert_int_equal(g.m.bytes_down, 60 * 1024 + 8 * 1024 + (1 << 20));
	assert_int_equal(g.m.bytes_up, 2 * sizeof(ping) + 256 * 1024);

	/* Half-close each way ends the relay cleanly. */
	assert_int_equal(shutdown(g.up_peer, SHUT_WR), 0);
	assert_int_equal(shutdown(g.cli_peer, SHUT_WR), 0);
	while (!g.conn.done)
		assert_true(uv_run(&g.loop, UV_RUN_ONCE) != 0 || g.conn.done);
	assert_string_equal(g.conn.err, "-");

	rig_down(&g);
	free(a);
	free(b);
	free(c);
	free(d);
}

/* A tunnel that never reaches the switch-over point stays buffered and
 * still carries a half-close through. */
static void
test_relay_short_tunnel_stays_buffered(void **state)
{
	struct rig g;
	char *a = pattern(16 * 1024, 5);
	char eofb[1];

	(void)state;
	rig_up(&g, 0);
	put(&g, g.up_peer, a, 16 * 1024);
	expect(&g, g.cli_peer, a, 16 * 1024);
	assert_false(cd_relay_spliced(g.r));
	assert_int_equal(shutdown(g.up_peer, SHUT_WR), 0);
	/* the client sees the EOF the upstream sent */
	for (;;) {
		ssize_t k = read(g.cli_peer, eofb, 1);

		if (k == 0)
			break;
		assert_true(k < 0 && errno == EAGAIN);
		uv_run(&g.loop, UV_RUN_ONCE);
	}
	assert_false(g.conn.done);
	assert_int_equal(shutdown(g.cli_peer, SHUT_WR), 0);
	while (!g.conn.done)
		uv_run(&g.loop, UV_RUN_ONCE);
	assert_int_equal(g.m.spliced, 0);
	rig_down(&g);
	free(a);
}

#ifndef HOLD_MS
#define HOLD_MS 300	/* -DHOLD_MS=0 shows the tests fail without the hold */
#endif

/* Turn the loop for ms; fd must neither have bytes nor an EOF meanwhile. */
static void
quiet_for(struct rig *g, int fd, uint64_t ms)
{
	uint64_t end = uv_now(&g->loop) + ms;
	char b[1];

	while (uv_now(&g->loop) < end) {
		assert_int_equal(read(fd, b, 1), -1);
		assert_int_equal(errno, EAGAIN);
		uv_run(&g->loop, UV_RUN_NOWAIT);
		usleep(2000);
		uv_update_time(&g->loop);
	}
}

/* Turn the loop until fd reads EOF, within ms. */
static uint64_t
eof_within(struct rig *g, int fd, uint64_t ms)
{
	uint64_t start = uv_now(&g->loop);
	char b[1];
	ssize_t k;

	for (;;) {
		k = read(fd, b, 1);
		if (k == 0)
			return uv_now(&g->loop) - start;
		assert_true(k < 0 && errno == EAGAIN);
		assert_true(uv_now(&g->loop) - start < ms);
		uv_run(&g->loop, UV_RUN_NOWAIT);
		usleep(2000);
		uv_update_time(&g->loop);
	}
}

/* Segments fd has received so far (TCP_INFO).  glibc's struct tcp_info
 * stops at tcpi_total_retrans (uv.h pulls it in, so linux/tcp.h cannot
 * come too): the kernel's fields after it, up to tcpi_segs_in (4.2). */
struct tcp_info_segs {
	struct tcp_info base;
	uint64_t pacing_rate, max_pacing_rate, bytes_acked, bytes_received;
	uint32_t segs_out, segs_in;
};

static unsigned
segs_in(int fd)
{
	struct tcp_info_segs ti;
	socklen_t sl = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	assert_int_equal(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &sl), 0);
	assert_true(sl == sizeof(ti));
	return ti.segs_in;
}

/*
 * A server that answers and closes: its bytes and its EOF reach the
 * client in one segment (the FIN rides on the data), not a data segment
 * and a FIN of its own.  Both wait in the relay's socket before the loop
 * turns, as they do when the server writes and closes at once.
 */
static void
test_relay_answer_and_fin_in_one_segment(void **state)
{
	struct rig g;
	const char ans[] = "HTTP/1.0 200 OK\r\n\r\nhello";
	unsigned before;

	(void)state;
	rig_up(&g, 0);
	before = segs_in(g.cli_peer);
	put(&g, g.up_peer, ans, sizeof(ans) - 1);
	assert_int_equal(shutdown(g.up_peer, SHUT_WR), 0);
	usleep(20000);		/* both are in connectd's socket */
	expect(&g, g.cli_peer, ans, sizeof(ans) - 1);
	assert_true(eof_within(&g, g.cli_peer, 1000) < 1000);
	assert_int_equal(segs_in(g.cli_peer) - before, 1);
	/* and the client's own EOF still ends the tunnel */
	assert_int_equal(shutdown(g.cli_peer, SHUT_WR), 0);
	while (!g.conn.done)
		uv_run(&g.loop, UV_RUN_ONCE);
	assert_string_equal(g.conn.err, "-");
	rig_down(&g);
}

/*
 * The intake kept the client reading through the dial: the relay takes
 * the reads over (the intake's callback never runs again), and bytes
 * the intake read meanwhile (cd_relay_cli_bytes) go first.
 */
static void
test_relay_takes_over_client_reads(void **state)
{
	struct rig g;

	(void)state;
	rig_cli_reading = true;
	rig_up(&g, 0);
	rig_cli_reading = false;
	cd_relay_cli_bytes(g.r, "early,", 6);
	put(&g, g.cli_peer, "late", 4);
	expect(&g, g.up_peer, "early,late", 10);
	put(&g, g.up_peer, "back", 4);
	expect(&g, g.cli_peer, "back", 4);
	assert_int_equal(shutdown(g.cli_peer, SHUT_WR), 0);
	assert_true(eof_within(&g, g.up_peer, 1000) < 1000);
	assert_false(g.conn.done);
	rig_down(&g);
}

/*
 * A request, then the client's half-close, through hops that end the
 * tunnel at the first EOF (tinyproxy, squid): the EOF waits while the
 * answer comes, and goes on once the upstream has been quiet for the
 * hold time.  Without the hold the upstream sees the EOF at once (and a
 * real hop would cut the answer off).
 */
static void
test_relay_half_close_held_buffered(void **state)
{
	struct rig g;
	const char req[] = "GET / HTTP/1.0\r\n\r\n", ans[] = "answer";
	uint64_t ms;

	(void)state;
	rig_up(&g, HOLD_MS);
	put(&g, g.cli_peer, req, sizeof(req) - 1);
	assert_int_equal(shutdown(g.cli_peer, SHUT_WR), 0);
	expect(&g, g.up_peer, req, sizeof(req) - 1);
	quiet_for(&g, g.up_peer, 150);		/* no EOF yet */
	put(&g, g.up_peer, ans, sizeof(ans) - 1);
	expect(&g, g.cli_peer, ans, sizeof(ans) - 1);
	quiet_for(&g, g.up_peer, 200);		/* the answer restarted it */
	ms = eof_within(&g, g.up_peer, 1000);
	assert_true(ms < 300);
	assert_false(g.conn.done);
	assert_int_equal(shutdown(g.up_peer, SHUT_WR), 0);
	assert_int_equal(eof_within(&g, g.cli_peer, 1000) < 1000, 1);
	while (!g.conn.done)
		uv_run(&g.loop, UV_RUN_ONCE);
	assert_string_equal(g.conn.err, "-");
	rig_down(&g);
}

/* Without a hold (exit = direct) the EOF goes on at once. */
static void
test_relay_half_close_passed_at_once(void **state)
{
	struct rig g;
	const char req[] = "request";

	(void)state;
	rig_up(&g, 0);
	put(&g, g.cli_peer, req, sizeof(req) - 1);
	assert_int_equal(shutdown(g.cli_peer, SHUT_WR), 0);
	expect(&g, g.up_peer, req, sizeof(req) - 1);
	assert_true(eof_within(&g, g.up_peer, 1000) < 100);
	/* and the answer still comes back over the other direction */
	put(&g, g.up_peer, "late", 4);
	expect(&g, g.cli_peer, "late", 4);
	assert_int_equal(shutdown(g.up_peer, SHUT_WR), 0);
	while (!g.conn.done)
		uv_run(&g.loop, UV_RUN_ONCE);
	rig_down(&g);
}

/* The upstream ending first releases a held EOF, and the relay ends. */
static void
test_relay_half_close_upstream_ends_first(void **state)
{
	struct rig g;

	(void)state;
	rig_up(&g, 5000);
	put(&g, g.cli_peer, "q", 1);
	assert_int_equal(shutdown(g.cli_peer, SHUT_WR), 0);
	expect(&g, g.up_peer, "q", 1);
	quiet_for(&g, g.up_peer, 50);
	put(&g, g.up_peer, "a", 1);
	assert_int_equal(shutdown(g.up_peer, SHUT_WR), 0);
	expect(&g, g.cli_peer, "a", 1);
	assert_true(eof_within(&g, g.cli_peer, 1000) < 1000);
	while (!g.conn.done)
		uv_run(&g.loop, UV_RUN_ONCE);
	assert_string_equal(g.conn.err, "-");
	rig_down(&g);
}

/* The same hold once the tunnel is spliced. */
static void
test_relay_half_close_held_spliced(void **state)
{
	struct rig g;
	char *a = pattern(128 * 1024, 7);
	uint64_t ms;

	(void)state;
	rig_up(&g, HOLD_MS);
	put(&g, g.up_peer, a, 128 * 1024);
	expect(&g, g.cli_peer, a, 128 * 1024);
	put(&g, g.cli_peer, "x", 1);
	expect(&g, g.up_peer, "x", 1);
	assert_true(cd_relay_spliced(g.r));
	put(&g, g.cli_peer, "request", 7);
	assert_int_equal(shutdown(g.cli_peer, SHUT_WR), 0);
	expect(&g, g.up_peer, "request", 7);
	quiet_for(&g, g.up_peer, 150);
	put(&g, g.up_peer, "answer", 6);
	expect(&g, g.cli_peer, "answer", 6);
	quiet_for(&g, g.up_peer, 200);
	ms = eof_within(&g, g.up_peer, 1000);
	assert_true(ms < 300);
	assert_false(g.conn.done);
	assert_int_equal(shutdown(g.up_peer, SHUT_WR), 0);
	while (!g.conn.done)
		uv_run(&g.loop, UV_RUN_ONCE);
	assert_string_equal(g.conn.err, "-");
	rig_down(&g);
	free(a);
}

/* ---- the tunnel judge inside the relay */

static struct judge *
new_judge(const char *host, uint16_t port)
{
	struct judge *j = malloc(sizeof(*j));

	assert_non_null(j);
	assert_int_equal(judge_init(j, host, port, false, 16384), 0);
	return j;
}

/* Turn the loop until the relay ended, within ms. */
static void
until_done(struct rig *g, uint64_t ms)
{
	uint64_t start = uv_now(&g->loop);

	while (!g->conn.done) {
		assert_true(uv_now(&g->loop) - start < ms);
		uv_run(&g->loop, UV_RUN_NOWAIT);
		usleep(1000);
		uv_update_time(&g->loop);
	}
}

/* Nothing at all arrives on fd (the peer end may be closed). */
static void
got_nothing(int fd)
{
	char b[1];
	ssize_t k = read(fd, b, 1);

	assert_true(k == 0 || (k < 0 && (errno == EAGAIN || errno == ECONNRESET)));
}

/* SSH over CONNECT: the server speaks first and is never held up; the
 * client's first line is no HTTP, so judging ends and bytes flow (and a
 * big transfer still switches to splice). */
static void
test_relay_judged_server_first(void **state)
{
	struct rig g;
	const char srv[] = "SSH-2.0-OpenSSH_9.2\r\n", cli[] = "SSH-2.0-me\r\n";
	char *a = pattern(128 * 1024, 9);

	(void)state;
	rig_up_judged(&g, 0, new_judge("allowed.test", 22));
	put(&g, g.up_peer, srv, sizeof(srv) - 1);
	expect(&g, g.cli_peer, srv, sizeof(srv) - 1);
	put(&g, g.cli_peer, cli, sizeof(cli) - 1);
	expect(&g, g.up_peer, cli, sizeof(cli) - 1);
	put(&g, g.cli_peer, a, 128 * 1024);
	expect(&g, g.up_peer, a, 128 * 1024);
	put(&g, g.up_peer, "x", 1);
	expect(&g, g.cli_peer, "x", 1);
	assert_true(cd_relay_spliced(g.r));
	assert_false(g.conn.done);
	rig_down(&g);
	free(a);
}

/* CONNECT allowed.test:443, then a ClientHello for host.test: cut, and
 * not one byte of it reaches the upstream. */
static void
test_relay_judged_sni_cut(void **state)
{
	struct rig g;
	char hello[70000];
	size_t n;
	FILE *f;

	(void)state;
	f = fopen(EG_TEST_SRCDIR "/../../fuzz/corpus/clienthello/curl", "rb");
	assert_non_null(f);
	n = fread(hello, 1, sizeof(hello), f);
	fclose(f);
	rig_up_judged(&g, 0, new_judge("allowed.test", 443));
	put(&g, g.cli_peer, hello, n);
	until_done(&g, 2000);
	assert_string_equal(g.conn.cut, "sni-mismatch");
	assert_string_equal(g.conn.err, "tunnel check: sni-mismatch");
	got_nothing(g.up_peer);
	assert_int_equal(g.m.bytes_up, 0);
	rig_down(&g);
	/* the same hello for the name that was allowed passes whole */
	rig_up_judged(&g, 0, new_judge("host.test", 443));
	put(&g, g.cli_peer, hello, n);
	expect(&g, g.up_peer, hello, n);
	assert_false(g.conn.done);
	rig_down(&g);
}

/* A kept-alive plain HTTP tunnel: the first request passes, the second
 * names another host and is cut before any of it leaves. */
static void
test_relay_judged_keepalive_cut(void **state)
{
	struct rig g;
	const char r1[] = "GET /1 HTTP/1.1\r\nHost: allowed.test\r\n\r\n";
	const char r2[] = "GET /2 HTTP/1.1\r\nHost: forbidden.test\r\n\r\n";

	(void)state;
	rig_up_judged(&g, 0, new_judge("allowed.test", 80));
	put(&g, g.cli_peer, r1, sizeof(r1) - 1);
	expect(&g, g.up_peer, r1, sizeof(r1) - 1);
	put(&g, g.up_peer, "HTTP/1.1 200 OK\r\n\r\n", 19);
	expect(&g, g.cli_peer, "HTTP/1.1 200 OK\r\n\r\n", 19);
	put(&g, g.cli_peer, r2, sizeof(r2) - 1);
	until_done(&g, 2000);
	assert_string_equal(g.conn.cut, "host-mismatch");
	got_nothing(g.up_peer);
	rig_down(&g);
}

/* Report mode: the same fronting is logged as a cut that would have
 * been, and every byte passes. */
static void
test_relay_judged_report_mode(void **state)
{
	struct rig g;
	const char r1[] = "GET /1 HTTP/1.1\r\nHost: allowed.test\r\n\r\n";
	const char r2[] = "GET /2 HTTP/1.1\r\nHost: forbidden.test\r\n\r\n";

	(void)state;
	rig_observe = true;
	rig_up_judged(&g, 0, new_judge("allowed.test", 80));
	rig_observe = false;
	put(&g, g.cli_peer, r1, sizeof(r1) - 1);
	expect(&g, g.up_peer, r1, sizeof(r1) - 1);
	put(&g, g.cli_peer, r2, sizeof(r2) - 1);
	expect(&g, g.up_peer, r2, sizeof(r2) - 1);
	assert_string_equal(g.conn.cut, "host-mismatch");
	assert_false(g.conn.done);
	rig_down(&g);
}

/* A head that never completes waits judge_ms, then the tunnel is cut. */
static void
test_relay_judged_hold_timeout(void **state)
{
	struct rig g;
	uint64_t t0;

	(void)state;
	rig_up_judged(&g, 0, new_judge("allowed.test", 80));
	t0 = uv_now(&g.loop);
	put(&g, g.cli_peer, "GET / HTTP/1.1\r\nHost: allo", 26);
	until_done(&g, 2000);
	assert_true(uv_now(&g.loop) - t0 >= 290);
	assert_string_equal(g.conn.cut, "incomplete-request");
	got_nothing(g.up_peer);
	rig_down(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = TEST_LIST(RELAY_TESTS);

	return cmocka_run_group_tests(tests, NULL, NULL);
}
