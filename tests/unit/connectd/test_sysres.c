/*
 * test_sysres.c - connectd's own resolver (no [dohd]): the answer reader
 * takes only an answer to the question asked, and a real query over UDP
 * to a fake nameserver on loopback resolves, falls back to AAAA, and says
 * NXDOMAIN and timeouts.
 */
#include <sys/prctl.h>

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <ldns/ldns.h>

#include "sysres.h"

#include "test_list.h"

/* An answer packet built with ldns (the question and every RR given). */
static size_t
answer(uint8_t *out, size_t max, uint16_t id, const char *qname,
    uint16_t qtype, int rcode, const char *const *rrs)
{
	ldns_pkt *p = NULL;
	ldns_rr *rr;
	uint8_t *wire;
	size_t len;

	assert_int_equal(ldns_pkt_query_new_frm_str(&p, qname, qtype,
	    LDNS_RR_CLASS_IN, LDNS_RD), LDNS_STATUS_OK);
	ldns_pkt_set_id(p, id);
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_rcode(p, (uint8_t)rcode);
	for (; rrs != NULL && *rrs != NULL; rrs++) {
		assert_int_equal(ldns_rr_new_frm_str(&rr, *rrs, 300, NULL,
		    NULL), LDNS_STATUS_OK);
		ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
	}
	assert_int_equal(ldns_pkt2wire(&wire, p, &len), LDNS_STATUS_OK);
	assert_true(len <= max);
	memcpy(out, wire, len);
	free(wire);
	ldns_pkt_free(p);
	return len;
}

static void
test_sysres_parse_takes_only_our_answer(void **state)
{
	static const char *const a[] = {
		"smoke.test. 300 IN CNAME alias.test.",
		"alias.test. 300 IN A 10.78.0.10",
		"alias.test. 300 IN A 10.78.0.11",
		"alias.test. 300 IN TXT \"x\"",
		NULL,
	};
	uint8_t buf[1024];
	struct eg_ip ip[4];
	size_t len, n;
	int rcode;

	len = answer(buf, sizeof(buf), 7, "smoke.test.", LDNS_RR_TYPE_A, 0, a);
	assert_int_equal(sysres_parse(buf, len, 7, "smoke.test.",
	    LDNS_RR_TYPE_A, ip, 4, &n, &rcode), 0);
	assert_int_equal(rcode, 0);
	assert_int_equal(n, 2);
	assert_int_equal(ip[0].family, AF_INET);
	assert_int_equal(ip[1].addr[3], 11);
	/* at most what the caller has room for */
	assert_int_equal(sysres_parse(buf, len, 7, "smoke.test.",
	    LDNS_RR_TYPE_A, ip, 1, &n, &rcode), 0);
	assert_int_equal(n, 1);
	/* another id, another name, another type, a cut packet: not ours */
	assert_int_equal(sysres_parse(buf, len, 8, "smoke.test.",
	    LDNS_RR_TYPE_A, ip, 4, &n, &rcode), -1);
	assert_int_equal(sysres_parse(buf, len, 7, "other.test.",
	    LDNS_RR_TYPE_A, ip, 4, &n, &rcode), -1);
	assert_int_equal(sysres_parse(buf, len, 7, "smoke.test.",
	    LDNS_RR_TYPE_AAAA, ip, 4, &n, &rcode), -1);
	assert_int_equal(sysres_parse(buf, len - 3, 7, "smoke.test.",
	    LDNS_RR_TYPE_A, ip, 4, &n, &rcode), -1);
	assert_int_equal(sysres_parse(buf, 5, 7, "smoke.test.",
	    LDNS_RR_TYPE_A, ip, 4, &n, &rcode), -1);
	/* a query (QR clear) is no answer */
	buf[2] &= 0x7f;
	assert_int_equal(sysres_parse(buf, len, 7, "smoke.test.",
	    LDNS_RR_TYPE_A, ip, 4, &n, &rcode), -1);
}

/* ---- a fake nameserver on 127.0.0.1 in a child process ---- */

static pid_t ns_pid;
static uint16_t ns_port;

/* Answers smoke.test A, v6only.test AAAA only, NXDOMAIN else; slow.test
 * never. */
static void
nameserver(int fd)
{
	uint8_t in[512], out[1024];
	struct sockaddr_storage from;
	socklen_t fl;
	ssize_t r;
	ldns_pkt *q;
	ldns_rr *qr;
	char *name;
	uint16_t qt;
	size_t len;

	for (;;) {
		fl = sizeof(from);
		if ((r = recvfrom(fd, in, sizeof(in), 0,
		    (struct sockaddr *)&from, &fl)) <= 0)
			continue;
		if (ldns_wire2pkt(&q, in, (size_t)r) != LDNS_STATUS_OK)
			continue;
		qr = ldns_rr_list_rr(ldns_pkt_question(q), 0);
		name = ldns_rdf2str(ldns_rr_owner(qr));
		qt = ldns_rr_get_type(qr);
		if (strcmp(name, "slow.test.") == 0) {
			free(name);
			ldns_pkt_free(q);
			continue;
		}
		if (strcmp(name, "smoke.test.") == 0 && qt == LDNS_RR_TYPE_A) {
			static const char *const a[] = {
				"smoke.test. 60 IN A 10.78.0.10", NULL };
			len = answer(out, sizeof(out), ldns_pkt_id(q), name,
			    qt, 0, a);
		} else if (strcmp(name, "v6only.test.") == 0 &&
		    qt == LDNS_RR_TYPE_AAAA) {
			static const char *const a[] = {
				"v6only.test. 60 IN AAAA fd78::10", NULL };
			len = answer(out, sizeof(out), ldns_pkt_id(q), name,
			    qt, 0, a);
		} else if (strcmp(name, "v6only.test.") == 0) {
			len = answer(out, sizeof(out), ldns_pkt_id(q), name,
			    qt, 0, NULL);
		} else
			len = answer(out, sizeof(out), ldns_pkt_id(q), name,
			    qt, LDNS_RCODE_NXDOMAIN, NULL);
		sendto(fd, out, len, 0, (struct sockaddr *)&from, fl);
		free(name);
		ldns_pkt_free(q);
	}
}

static char conf[64];

static int
ns_start(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	FILE *f;
	int fd, cfd;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	ns_port = ntohs(sa.sin_port);
	if ((ns_pid = fork()) == 0) {
		/* gone with the test, or it holds meson's pipe open */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		nameserver(fd);
		_exit(0);
	}
	close(fd);
	snprintf(conf, sizeof(conf), "/tmp/test_sysres.XXXXXX");
	assert_true((cfd = mkstemp(conf)) >= 0);
	f = fdopen(cfd, "w");
	/* port 53 is what resolv.conf means; the test patches it below */
	fprintf(f, "# a comment\nsearch example\nnameserver 127.0.0.1\n"
	    "nameserver fe80::1%%eth0\noptions ndots:1\n");
	fclose(f);
	return 0;
}

static int
ns_stop(void **state)
{
	kill(ns_pid, SIGKILL);
	unlink(conf);
	return 0;
}

struct result {
	int status, calls;
	size_t n;
	struct eg_ip a[4];
	char why[64];
};

static void
on_done(int status, const struct eg_ip *a, size_t n, const char *why,
    void *arg)
{
	struct result *r = arg;

	r->calls++;
	r->status = status;
	r->n = n;
	if (n > 4)
		n = 4;
	if (n > 0)
		memcpy(r->a, a, n * sizeof(*a));
	snprintf(r->why, sizeof(r->why), "%s", why ? why : "");
}

/* Defined in sysres.c for the tests: point nameserver i at port. */
void sysres_test_port(struct sysres *sr, uint16_t port);

static void
resolve(struct sysres *sr, const char *name, struct result *r)
{
	memset(r, 0, sizeof(*r));
	sysres_resolve(sr, name, 600, on_done, r);
	uv_run(uv_default_loop(), UV_RUN_DEFAULT);
	assert_int_equal(r->calls, 1);
}

static void
test_sysres_resolves_over_udp(void **state)
{
	struct sysres *sr = sysres_new(uv_default_loop(), conf);
	struct result r;

	/* a scoped link-local nameserver is skipped: connectd dials none */
	assert_int_equal(sysres_nameservers(sr), 1);
	sysres_test_port(sr, ns_port);
	resolve(sr, "smoke.test", &r);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.a[0].addr[3], 10);
	resolve(sr, "v6only.test", &r);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.a[0].family, AF_INET6);
	resolve(sr, "nope.test", &r);
	assert_int_equal(r.status, -1);
	assert_string_equal(r.why, "resolver: no such name");
	resolve(sr, "slow.test", &r);
	assert_int_equal(r.status, -1);
	assert_string_equal(r.why, "resolver: timeout");
	sysres_free(sr);
}

static void
test_sysres_no_nameserver_means_localhost(void **state)
{
	struct sysres *sr = sysres_new(uv_default_loop(), "/nonexistent");

	assert_int_equal(sysres_nameservers(sr), 1);
	sysres_free(sr);
}

int
main(void)
{
	const struct CMUnitTest t[] = TEST_LIST(SYSRES_TESTS);

	return cmocka_run_group_tests_name("connectd_sysres", t, NULL, NULL);
}
