/* test_local.c - hosts and zone files through ldns, search domains. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <unistd.h>
#include <cmocka.h>

#include "helpers.h"

#include "test_list.h"

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
test_local_hosts(void **st)
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
test_local_zone(void **st)
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
test_local_search(void **st)
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
test_local_bad_file(void **st)
{
	char err[256];

	assert_null(dlocal_load("/nonexistent/hosts", NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/hosts"));
}

/* Write text to a new temporary file; its name into path. */
static void
write_tmp(char *path, size_t len, const char *text)
{
	FILE *fp;
	int fd;

	snprintf(path, len, "/tmp/dn-bad.XXXXXX");
	assert_true((fd = mkstemp(path)) >= 0);
	assert_non_null(fp = fdopen(fd, "w"));
	fputs(text, fp);
	fclose(fp);
}

/*
 * A zone file that does not parse stops the load, with file and line:
 * a bad address, $INCLUDE (ldns does not follow it), a name over 255
 * bytes, an unknown type.
 */
#define L60 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static void
test_local_bad_zone_refused(void **st)
{
	static const struct {
		const char *text;
		int line;
	} bad[] = {
		{ "$ORIGIN x.test.\n@ 3600 IN SOA a b 1 2 3 4 5\n"
		    "ok IN A 10.0.0.1\nbad IN A 10.0.0\n", 4 },
		{ "$INCLUDE /etc/hosts\n", 1 },
		{ "$ORIGIN example.\nok IN A 10.0.0.1\nx." L60 "aa." L60 "aa."
		    L60 "aa." L60 "aa.aaaaaaaaaaaa IN A 10.0.0.1\n", 3 },
		{ "ok.example. IN A 10.0.0.1\na.example. IN BOGUS x\n", 2 },
	};
	char path[64], err[256], want[96];

	(void)st;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_tmp(path, sizeof(path), bad[i].text);
		err[0] = '\0';
		assert_null(dlocal_load(NULL, path, err, sizeof(err)));
		unlink(path);
		snprintf(want, sizeof(want), "%s:%d: ", path, bad[i].line);
		if (strncmp(err, want, strlen(want)) != 0)
			fail_msg("case %zu: \"%s\", want \"%s...\"", i, err,
			    want);
	}
}

/*
 * A hosts line that does not parse stops the load with file and line
 * (ldns's own reader skipped such a line without a word, and a line over
 * its buffer swallowed the next one).
 */
static void
test_local_bad_hosts_line_refused(void **st)
{
	static const struct {
		const char *text;
		size_t len;		/* 0: strlen(text) */
		int line;
		const char *what;
	} bad[] = {
		{ "not-an-address bad1.example\n", 0, 1, "not an IPv4" },
		{ "# c\n10.0.0.1 ok.example\n10.0.0.300 bad2.example\n", 0, 3,
		    "not an IPv4" },
		{ "10.0.0.1\n", 0, 1, "names no host" },
		{ "10.0.0.1 # only a comment\n", 0, 1, "names no host" },
		{ "\x01\x02\xff\n", 0, 1, "not an IPv4" },
		{ "fd00::zz bad3.example\n", 0, 1, "not an IPv4" },
		{ "fe80::1%eth0 ll.example\n", 0, 1, "not an IPv4" },
		{ "10.0.0.2 ok.example\n10.0.0.3 a..b.example\n", 0, 2,
		    "not a host name" },
		{ NULL, 0, 1, "longer than" },	/* made below */
		{ "10.0.0.2 ok.example\n10.0.0.2 ok\0.example\n", 40, 2,
		    "NUL byte" },
	};
	char path[64], err[256], want[96], longline[6000];
	FILE *fp;
	int fd;

	(void)st;
	/* 5,000 bytes, then a good line the old reader took as the tail */
	memset(longline, 'a', sizeof(longline));
	memcpy(longline, "10.0.0.2 ", 9);
	snprintf(longline + 5000, sizeof(longline) - 5000,
	    "\n10.0.0.2 ok.example\n");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *text = bad[i].text ? bad[i].text : longline;
		size_t len = bad[i].len ? bad[i].len : strlen(text);

		snprintf(path, sizeof(path), "/tmp/dn-bad.XXXXXX");
		assert_true((fd = mkstemp(path)) >= 0);
		assert_non_null(fp = fdopen(fd, "w"));
		assert_int_equal(fwrite(text, 1, len, fp), len);
		fclose(fp);
		err[0] = '\0';
		assert_null(dlocal_load(path, NULL, err, sizeof(err)));
		unlink(path);
		snprintf(want, sizeof(want), "%s:%d: ", path, bad[i].line);
		if (strncmp(err, want, strlen(want)) != 0 ||
		    strstr(err, bad[i].what) == NULL)
			fail_msg("case %zu: \"%s\", want \"%s...%s\"", i, err,
			    want, bad[i].what);
	}
}

/* Comments, blank lines, tabs, CRLF, aliases and a last line without \n. */
static void
test_local_hosts_layout(void **st)
{
	struct dlocal *l;
	char path[64], err[256];
	uint8_t *w;
	size_t len;

	(void)st;
	write_tmp(path, sizeof(path), "  # comment\n\n"
	    "10.0.0.2\tok.example\talias.example # c\r\n::1 v6.example");
	l = dlocal_load(path, NULL, err, sizeof(err));
	unlink(path);
	if (l == NULL)
		fail_msg("%s", err);
	assert_int_equal(dlocal_count(l), 3);
	assert_int_equal(dlocal_answer(l,
	    (const uint8_t *)"\005alias\007example", 15,
	    (const uint8_t *)"\005alias\007example", 15, DNS_T_A, 60, &w,
	    &len), 1);
	free(w);
	assert_int_equal(dlocal_answer(l,
	    (const uint8_t *)"\002v6\007example", 12,
	    (const uint8_t *)"\002v6\007example", 12, DNS_T_AAAA, 60, &w,
	    &len), 1);
	free(w);
	dlocal_free(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = TEST_LIST(LOCAL_TESTS);

	eg_log_init("dohd-test", EG_LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
