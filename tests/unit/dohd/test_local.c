/* test_local.c - hosts and zone files through ldns, search domains. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <unistd.h>
#include <cmocka.h>

#include "helpers.h"

static const char conf[] =
    "[jail]\n"
    "interface = br0\n"
    "[chain]\n"
    "hop = http://10.20.0.2:3128\n"
    "[dohd]\n"
    "upstream = https://dns.example/dns-query 192.0.2.53\n"
    "rate_limit = 0\n"
    "search = corp.test\n"
    "search = ext.test\n"
    "[policy]\n"
    "allow = build.lan\n"
    "allow = db.corp.test\n"
    "allow = www.corp.test\n"
    "allow = nothere.corp.test\n"
    "allow = txt.corp.test\n"
    "allow = api.ext.test\n";

static char hosts[64], zone[64];

static int
setup(void **st)
{
	struct fake *f = fake_new(conf);
	FILE *fp;
	char err[256];
	int fd;

	snprintf(hosts, sizeof(hosts), "/tmp/dn-hosts.XXXXXX");
	snprintf(zone, sizeof(zone), "/tmp/dn-zone.XXXXXX");
	assert_true((fd = mkstemp(hosts)) >= 0);
	fp = fdopen(fd, "w");
	fprintf(fp, "# comment\n127.0.0.1 localhost\n10.9.8.7 build.lan build\n"
	    "fd00::7 build.lan\n");
	fclose(fp);
	assert_true((fd = mkstemp(zone)) >= 0);
	fp = fdopen(fd, "w");
	fprintf(fp, "$ORIGIN corp.test.\n$TTL 120\n"
	    "@ IN SOA ns.corp.test. host.corp.test. 1 3600 600 86400 60\n"
	    "db IN A 10.1.2.3\n"
	    "www IN CNAME db\n"
	    "txt IN TXT \"hello\"\n");
	fclose(fp);
	f->d->local = dlocal_load(hosts, zone, err, sizeof(err));
	if (f->d->local == NULL)
		fail_msg("dlocal_load: %s", err);
	*st = f;
	return 0;
}

static int
teardown(void **st)
{
	unlink(hosts);
	unlink(zone);
	fake_free(*st);
	return 0;
}

static void
ask(struct fake *f, const char *name, uint16_t type)
{
	uint8_t q[512];
	size_t n = mkquery(q, 5, name, type, 1232);

	f->nreply = 0;
	dquery_handle(f->d, q, n, &test_src, fake_reply, f);
}

static void
t_hosts(void **st)
{
	struct fake *f = *st;
	struct eg_ip ip[4];
	uint32_t t;

	ask(f, "build.lan", DNS_T_A);
	assert_int_equal(f->nreply, 1);
	assert_int_equal(f->nresolve, 0);	/* never upstream */
	assert_true(dns_get16(f->reply + 2) & DNS_F_AA);
	assert_int_equal(dns_answer_addrs(f->reply, f->replylen, ip, 4, &t), 1);
	assert_int_equal(ip[0].addr[0], 10);
	ask(f, "BUILD.lan", DNS_T_AAAA);
	assert_int_equal(dns_answer_addrs(f->reply, f->replylen, ip, 4, &t), 1);
	assert_int_equal(ip[0].family, AF_INET6);
	assert_memory_equal(f->reply + 13, "BUILD", 5);
	/* local data is still only for allowed names */
	ask(f, "localhost", DNS_T_A);
	assert_int_equal(DNS_RCODE(dns_get16(f->reply + 2)), DNS_R_NXDOMAIN);
	assert_int_equal(dns_get16(f->reply + 6), 0);
}

static void
t_zone(void **st)
{
	struct fake *f = *st;

	ask(f, "db.corp.test", DNS_T_A);
	assert_int_equal(DNS_RCODE(dns_get16(f->reply + 2)), DNS_R_NOERROR);
	assert_int_equal(dns_get16(f->reply + 6), 1);
	ask(f, "db.corp.test", DNS_T_AAAA);	/* NODATA with the SOA */
	assert_int_equal(dns_get16(f->reply + 6), 0);
	assert_int_equal(dns_get16(f->reply + 8), 1);
	ask(f, "nothere.corp.test", DNS_T_A);
	assert_int_equal(DNS_RCODE(dns_get16(f->reply + 2)), DNS_R_NXDOMAIN);
	ask(f, "www.corp.test", DNS_T_A);
	assert_int_equal(dns_get16(f->reply + 6), 1);	/* the CNAME */
	assert_int_equal(f->nresolve, 0);
}

static void
t_search(void **st)
{
	struct fake *f = *st;
	struct eg_ip ip[4];
	uint32_t t;

	/* "db" + corp.test is allowed and local: answered as "db" */
	ask(f, "db", DNS_T_A);
	assert_int_equal(dns_answer_addrs(f->reply, f->replylen, ip, 4, &t), 1);
	assert_int_equal(ip[0].addr[3], 3);
	/* "txt" + corp.test is local and allowed, but not for TXT */
	ask(f, "txt", DNS_T_TXT);
	assert_int_equal(DNS_RCODE(dns_get16(f->reply + 2)), DNS_R_NXDOMAIN);
	assert_int_equal(f->nresolve, 0);
	/*
	 * Search domains are for local data only, as unbound and dnsmasq
	 * (expand-hosts) do: "api" + ext.test is allowed but not local, so
	 * "api" gets the deny rcode and is never asked upstream; the
	 * client's stub resolver qualifies it and asks "api.ext.test".
	 */
	ask(f, "api", DNS_T_A);
	assert_int_equal(DNS_RCODE(dns_get16(f->reply + 2)), DNS_R_NXDOMAIN);
	assert_int_equal(f->nresolve, 0);
	ask(f, "api.ext.test", DNS_T_A);
	assert_int_equal(f->nresolve, 1);
}

static void
t_bad_file(void **st)
{
	char err[256];

	assert_null(dlocal_load("/nonexistent/hosts", NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/hosts"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_hosts, setup, teardown),
		cmocka_unit_test_setup_teardown(t_zone, setup, teardown),
		cmocka_unit_test_setup_teardown(t_search, setup, teardown),
		cmocka_unit_test(t_bad_file),
	};

	eg_log_init("dohd-test", EG_LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
