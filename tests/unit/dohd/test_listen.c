/*
 * test_listen.c - the UDP listener in batches: a burst of queries read
 * with recvmmsg is answered in full, each answer to its own client with
 * its own id, from the address the query was sent to (a wildcard listener
 * with IP_PKTINFO, or one bound to that address); an answer completed
 * later (the upstream) leaves at the end of that loop turn.  Runs in a
 * network namespace of its own (root only; skipped otherwise), so no port
 * on the host is touched.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <cmocka.h>

#include "helpers.h"
#include "listen.h"

#include "test_list.h"

#define PORT	5300
#define BURST	150	/* over two batches, within a socket buffer */

static const char conf[] =
    "[jail]\n"
    "interface = br0\n"
    "[chain]\n"
    "hop = http://10.20.0.2:3128\n"
    "[dohd]\n"
    "listen = 0.0.0.0:5300\n"
    "listen = 127.0.0.3:5301\n"
    "upstream = https://dns.example/dns-query 192.0.2.53\n"
    "rate_limit = 0\n"
    "[policy]\n"
    "allow = api.example.com\n";

static bool
own_netns(void)
{
	struct ifreq ifr;
	int fd, ok;

	if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0)
		return false;
	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0)
		return false;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	ok = ioctl(fd, SIOCGIFFLAGS, &ifr) == 0;
	ifr.ifr_flags |= IFF_UP;
	ok = ok && ioctl(fd, SIOCSIFFLAGS, &ifr) == 0;
	close(fd);
	return ok;
}

static int
client(const char *to, uint16_t port, struct sockaddr_in *dst)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	memset(dst, 0, sizeof(*dst));
	dst->sin_family = AF_INET;
	dst->sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, to, &dst->sin_addr), 1);
	return fd;
}

/* Every answer waiting on fd: ids into seen[], sources checked. */
static int
drain(int fd, const char *from, uint16_t port, bool *seen, size_t nseen,
    uint8_t *rcode)
{
	uint8_t b[1500];
	struct sockaddr_in src;
	socklen_t sl;
	char a[INET_ADDRSTRLEN];
	ssize_t n;
	int got = 0;

	for (;;) {
		sl = sizeof(src);
		n = recvfrom(fd, b, sizeof(b), 0, (struct sockaddr *)&src, &sl);
		if (n < 0) {
			assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
			return got;
		}
		assert_true(n >= DNS_HDR_LEN);
		assert_string_equal(inet_ntop(AF_INET, &src.sin_addr, a,
		    sizeof(a)), from);
		assert_int_equal(ntohs(src.sin_port), port);
		assert_true(dns_get16(b) < nseen);
		assert_false(seen[dns_get16(b)]);	/* once each */
		seen[dns_get16(b)] = true;
		*rcode = DNS_RCODE(dns_get16(b + 2));
		got++;
	}
}

/* Static: the listener lives as long as the process, as in dohd. */
static uv_loop_t loop;
static struct dlisten *l;

static void
test_listen_udp_answers_batched(void **st)
{
	static bool seen[BURST];
	struct fake *f;
	struct sockaddr_in dst;
	uint8_t q[512], a[512], rcode = 0;
	char err[256];
	size_t n;
	int fd, fd2, fd3, got = 0;

	if (!own_netns())
		skip();
	f = fake_new(conf);
	uv_loop_init(&loop);
	l = dlisten_open(&loop, f->d, f->cfg, err, sizeof(err));
	if (l == NULL)
		fail_msg("dlisten_open: %s", err);

	/* More than one batch, queued before the loop reads any. */
	fd = client("127.0.0.1", PORT, &dst);
	for (int i = 0; i < BURST; i++) {
		n = mkquery(q, (uint16_t)i, "denied.example", DNS_T_A, 1232);
		assert_int_equal(sendto(fd, q, n, 0, (struct sockaddr *)&dst,
		    sizeof(dst)), (ssize_t)n);
	}
	for (int k = 0; k < 50 && got < BURST; k++) {
		uv_run(&loop, UV_RUN_NOWAIT);
		got += drain(fd, "127.0.0.1", PORT, seen, BURST, &rcode);
		if (got < BURST)
			usleep(2000);
	}
	assert_int_equal(got, BURST);
	assert_int_equal(rcode, DNS_R_NXDOMAIN);
	assert_int_equal(f->d->st.denied, BURST);

	/* Asked on another address of the wildcard listener: the answer
	 * comes back from that address.  The upstream answers later. */
	memset(seen, 0, sizeof(seen));
	fd2 = client("127.0.0.2", PORT, &dst);
	n = mkquery(q, 7, "api.example.com", DNS_T_A, 0);
	assert_int_equal(sendto(fd2, q, n, 0, (struct sockaddr *)&dst,
	    sizeof(dst)), (ssize_t)n);
	for (int k = 0; k < 50 && f->nresolve == 0; k++) {
		uv_run(&loop, UV_RUN_NOWAIT);
		usleep(2000);
	}
	assert_int_equal(f->nresolve, 1);
	assert_int_equal(drain(fd2, "127.0.0.2", PORT, seen, BURST, &rcode),
	    0);
	{
		const char *rrs[] = { "api.example.com. 60 IN A 93.184.216.34",
		    NULL };

		n = mkanswer(f->q, f->qlen, a, sizeof(a), 0, rrs);
		assert_int_equal(f->cb(f->cbarg, 0, a, n), 0);
	}
	/* queued, not yet sent: the end of the next loop turn sends it */
	uv_run(&loop, UV_RUN_NOWAIT);
	usleep(2000);
	assert_int_equal(drain(fd2, "127.0.0.2", PORT, seen, BURST, &rcode),
	    1);
	assert_true(seen[7]);
	assert_int_equal(rcode, DNS_R_NOERROR);

	/* A listener bound to one address (no IP_PKTINFO) answers from it. */
	memset(seen, 0, sizeof(seen));
	fd3 = client("127.0.0.3", PORT + 1, &dst);
	n = mkquery(q, 9, "denied.example", DNS_T_A, 0);
	assert_int_equal(sendto(fd3, q, n, 0, (struct sockaddr *)&dst,
	    sizeof(dst)), (ssize_t)n);
	for (int k = 0; k < 50 && !seen[9]; k++) {
		uv_run(&loop, UV_RUN_NOWAIT);
		(void)drain(fd3, "127.0.0.3", PORT + 1, seen, BURST, &rcode);
		if (!seen[9])
			usleep(2000);
	}
	assert_true(seen[9]);
	assert_int_equal(rcode, DNS_R_NXDOMAIN);
	close(fd);
	close(fd2);
	close(fd3);
	fake_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = TEST_LIST(LISTEN_TESTS);

	return cmocka_run_group_tests(tests, NULL, NULL);
}
