/*
 * test_policy.c - the allowlist engine: rule grammar, name matching,
 * IP literals in every spelling, deny lists, permit_cidr, host addresses,
 * direct endpoints, report mode and DNS types.
 *
 * Most policies come from eg_config_load_buf, so the rule a decision
 * reports can be checked against its file:line.  Configs the loader would
 * refuse (to show the engine refuses them too) are built by hand.
 */
#include <sys/socket.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy.h"

#include "test_list.h"

#define ALLOW	EG_ALLOW
#define DENY	EG_DENY

/*
 * Line numbers matter: the cases below name the rule they expect by its
 * line in "t.conf".  %s is the policy mode.
 */
static const char conf_text[] =
    "[jail]\n"					/* 1 */
    "interface = br0\n"				/* 2 */
    "direct = 10.0.1.215:5432\n"		/* 3 */
    "direct = cache.internal:6379\n"		/* 4 */
    "direct = 10.77.0.0/24:6000\n"		/* 5 */
    "direct = 10.77.0.1:5432\n"			/* 6 */
    "[chain]\n"					/* 7 */
    "hop = http://10.20.0.2:3128\n"		/* 8 */
    "[dohd]\n"					/* 9 */
    "upstream = https://dns.example/dns-query 192.0.2.53\n" /* 10 */
    "[policy]\n"				/* 11 */
    "mode = %s\n"				/* 12 */
    "allow = api.example.com\n"			/* 13 */
    "allow = *.cdn.example.com:80,443\n"	/* 14 */
    "allow = **.deep.example.org:8000-8100,9000\n" /* 15 */
    "allow = any.example.net:*\n"		/* 16 */
    "allow = Mixed.Example.COM.\n"		/* 17 */
    "allow = *.dup.example:80\n"		/* 18 */
    "allow = *.dup.example:443\n"		/* 19 */
    "allow = api.example.com:8443\n"		/* 20 */
    "allow = **.example.com:22\n"		/* 21 */
    "allow = txt.example.com qtype=TXT,MX\n"	/* 22 */
    "allow = **.all.example qtype=*\n"		/* 23 */
    "permit_cidr = 10.20.30.0/24\n"		/* 24 */
    "permit_cidr = 10.77.0.0/16\n";		/* 25 */

static const char empty_text[] =
    "[jail]\n"
    "interface = br0\n"
    "direct = 10.0.1.215:5432\n"
    "direct = cache.internal:6379\n"
    "[chain]\n"
    "hop = http://10.20.0.2:3128\n"
    "[dohd]\n"
    "upstream = https://dns.example/dns-query 192.0.2.53\n";

/* the host's own addresses, gateway and listeners, as a daemon adds them */
static const char *const host_addrs[] = {
	"10.77.0.1/32", "203.0.113.5/32", "2001:db8::1/128", "127.0.0.1/32",
};
#define NHOST (sizeof(host_addrs) / sizeof(host_addrs[0]))

struct fixture {
	struct eg_config *cfg;
	struct eg_policy *pol;
};

static struct eg_policy *
policy_from(const char *text, struct eg_config **cfgp)
{
	struct eg_config_errors e = { NULL, 0 };
	struct eg_cidr extra[NHOST];
	struct eg_policy *p;
	char err[EG_ERR_MAX] = "";
	size_t i;

	for (i = 0; i < NHOST; i++)
		assert_true(eg_cidr_parse(host_addrs[i], &extra[i], err));
	*cfgp = eg_config_load_buf("t.conf", text, strlen(text),
	    EG_CONFIG_NO_USERS, &e);
	if (*cfgp == NULL) {
		for (i = 0; i < e.n; i++)
			print_message("config: %s\n", e.msgs[i]);
		eg_config_errors_free(&e);
		fail_msg("config did not load");
	}
	eg_config_errors_free(&e);
	if ((p = eg_policy_new(*cfgp, extra, NHOST, err)) == NULL)
		fail_msg("eg_policy_new: %s", err);
	return p;
}

static int
setup_mode(void **state, const char *mode)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char text[sizeof(conf_text) + 16];

	assert_non_null(f);
	snprintf(text, sizeof(text), conf_text, mode);
	f->pol = policy_from(text, &f->cfg);
	*state = f;
	return 0;
}

static int
setup_enforce(void **state)
{
	return setup_mode(state, "enforce");
}

static int
setup_report(void **state)
{
	return setup_mode(state, "report");
}

static int
setup_empty(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->pol = policy_from(empty_text, &f->cfg);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	eg_policy_free(f->pol);
	eg_config_free(f->cfg);
	free(f);
	return 0;
}

/* One expected decision.  line 0: no rule reported. */
struct want {
	int verdict;
	enum eg_reason reason;
	int line;
	bool reported;
	bool direct;
};

static void
expect(const char *what, const char *input, unsigned arg,
    struct eg_decision d, const struct want *w)
{
	char where[64], want_where[64];

	eg_rule_where(d.rule, where, sizeof(where));
	if (w->line == 0)
		snprintf(want_where, sizeof(want_where), "-");
	else
		snprintf(want_where, sizeof(want_where), "t.conf:%d", w->line);
	if ((int)d.verdict != w->verdict || d.reason != w->reason ||
	    strcmp(where, want_where) != 0 || d.reported != w->reported ||
	    d.direct != w->direct)
		fail_msg("%s(\"%s\", %u): got verdict=%d reason=%s rule=%s "
		    "reported=%d direct=%d; want verdict=%d reason=%s rule=%s "
		    "reported=%d direct=%d", what, input, arg, d.verdict,
		    eg_reason_str(d.reason), where, d.reported, d.direct,
		    w->verdict, eg_reason_str(w->reason), want_where,
		    w->reported, w->direct);
}

struct hcase {
	const char *host;
	uint16_t port;
	struct want w;
};

static void
run_host(const struct eg_policy *p, const struct hcase *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		expect("check_host", c[i].host, c[i].port,
		    eg_policy_check_host(p, c[i].host, c[i].port), &c[i].w);
}

struct dcase {
	const char *name;
	uint16_t qtype;
	struct want w;
};

static void
run_dns(const struct eg_policy *p, const struct dcase *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		expect("check_dns", c[i].name, c[i].qtype,
		    eg_policy_check_dns(p, c[i].name, c[i].qtype), &c[i].w);
}

struct acase {
	const char *ip;
	struct want w;
	const char *cidr;	/* the deny entry reported, or NULL */
};

static void
run_addr(const struct eg_policy *p, const struct acase *c, size_t n)
{
	struct eg_decision d;
	struct eg_ip ip;
	char buf[80];
	size_t i;

	for (i = 0; i < n; i++) {
		/* no unmapping: the engine must see through ::ffff: itself */
		if (!eg_ip_parse(c[i].ip, &ip, false))
			fail_msg("test address \"%s\" does not parse", c[i].ip);
		d = eg_policy_check_addr(p, &ip);
		expect("check_addr", c[i].ip, 0, d, &c[i].w);
		if (c[i].cidr == NULL)
			continue;
		if (d.cidr == NULL)
			fail_msg("check_addr(\"%s\"): no CIDR, want %s", c[i].ip,
			    c[i].cidr);
		eg_cidr_str(d.cidr, buf, sizeof(buf));
		if (strcmp(buf, c[i].cidr) != 0)
			fail_msg("check_addr(\"%s\"): CIDR %s, want %s",
			    c[i].ip, buf, c[i].cidr);
	}
}

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define OK(line)	{ ALLOW, EG_R_RULE, line, false, false }
#define DIRECT		{ ALLOW, EG_R_DIRECT, 0, false, true }
#define NO(reason, line) { DENY, reason, line, false, false }
#define REP(reason, line) { ALLOW, reason, line, true, false }

/* ---- names ---- */

static void
test_policy_exact(void **state)
{
	struct fixture *f = *state;
	static const struct hcase c[] = {
		{ "api.example.com", 443, OK(13) },
		{ "API.EXAMPLE.COM", 443, OK(13) },
		{ "api.example.com.", 443, OK(13) },
		{ "Api.Example.Com.", 443, OK(13) },
		{ "mixed.example.com", 443, OK(17) },
		{ "MIXED.example.COM.", 443, OK(17) },
		/* exact does not mean "and below" */
		{ "x.api.example.com", 443, NO(EG_R_PORT, 21) },
		{ "evil.com", 443, NO(EG_R_NO_RULE, 0) },
		{ "api.example.com.evil.com", 443, NO(EG_R_NO_RULE, 0) },
		{ "api.example.co", 443, NO(EG_R_NO_RULE, 0) },
		/* suffixes match on label boundaries only */
		{ "notexample.com", 22, NO(EG_R_NO_RULE, 0) },
		{ "xapi.example.com", 443, NO(EG_R_PORT, 21) },
		{ "com", 443, NO(EG_R_NO_RULE, 0) },
	};

	run_host(f->pol, c, N(c));
}

static void
test_policy_one_label(void **state)
{
	struct fixture *f = *state;
	static const struct hcase c[] = {
		{ "a.cdn.example.com", 80, OK(14) },
		{ "a.cdn.example.com", 443, OK(14) },
		{ "A-1.CDN.example.com.", 443, OK(14) },
		{ "a.cdn.example.com", 8080, NO(EG_R_PORT, 14) },
		/* two more labels: only **.example.com:22 names it */
		{ "a.b.cdn.example.com", 443, NO(EG_R_PORT, 21) },
		{ "a.b.cdn.example.com", 22, OK(21) },
		/* the suffix itself is not "one more label" */
		{ "cdn.example.com", 443, NO(EG_R_PORT, 21) },
		{ "cdn.example.com", 22, OK(21) },
	};

	run_host(f->pol, c, N(c));
}

static void
test_policy_any_depth(void **state)
{
	struct fixture *f = *state;
	static const struct hcase c[] = {
		{ "x.deep.example.org", 8000, OK(15) },
		{ "a.b.c.d.e.f.deep.example.org", 8100, OK(15) },
		{ "a.deep.example.org", 9000, OK(15) },
		{ "a.deep.example.org", 8999, NO(EG_R_PORT, 15) },
		{ "a.deep.example.org", 8101, NO(EG_R_PORT, 15) },
		{ "a.deep.example.org", 7999, NO(EG_R_PORT, 15) },
		{ "a.deep.example.org", 443, NO(EG_R_PORT, 15) },
		/* at least one more label */
		{ "deep.example.org", 8000, NO(EG_R_NO_RULE, 0) },
		{ "example.com", 22, NO(EG_R_NO_RULE, 0) },
		{ "xdeep.example.org", 8000, NO(EG_R_NO_RULE, 0) },
	};

	run_host(f->pol, c, N(c));
}

static void
test_policy_ports(void **state)
{
	struct fixture *f = *state;
	static const struct hcase c[] = {
		/* no port given: 443 only */
		{ "api.example.com", 80, NO(EG_R_PORT, 13) },
		/* the same name twice: ports unioned, the line that allows */
		{ "api.example.com", 8443, OK(20) },
		/* a less specific rule adds its port */
		{ "api.example.com", 22, OK(21) },
		{ "any.example.net", 1, OK(16) },
		{ "any.example.net", 443, OK(16) },
		{ "any.example.net", 65535, OK(16) },
		{ "x.any.example.net", 443, NO(EG_R_NO_RULE, 0) },
		{ "a.dup.example", 80, OK(18) },
		{ "a.dup.example", 443, OK(19) },
		{ "a.dup.example", 8080, NO(EG_R_PORT, 18) },
		/* no TCP connection goes to port 0, whatever the rule */
		{ "any.example.net", 0, NO(EG_R_PORT, 0) },
		{ "10.0.1.215", 0, NO(EG_R_PORT, 0) },
	};

	run_host(f->pol, c, N(c));
}

static void
test_policy_bad_names(void **state)
{
	struct fixture *f = *state;
	char label64[96], long_name[300];
	static const struct hcase c[] = {
		{ "", 443, NO(EG_R_BAD_NAME, 0) },
		{ ".", 443, NO(EG_R_BAD_NAME, 0) },
		{ "api..example.com", 443, NO(EG_R_BAD_NAME, 0) },
		{ ".api.example.com", 443, NO(EG_R_BAD_NAME, 0) },
		{ "api.example.com..", 443, NO(EG_R_BAD_NAME, 0) },
		{ "api example.com", 443, NO(EG_R_BAD_NAME, 0) },
		{ "api.example.com:443", 443, NO(EG_R_BAD_NAME, 0) },
		{ "[api.example.com]", 443, NO(EG_R_BAD_NAME, 0) },
		{ "-x.cdn.example.com", 443, NO(EG_R_BAD_NAME, 0) },
		{ "x\xc3\xa9.cdn.example.com", 443, NO(EG_R_BAD_NAME, 0) },
		{ "x\x01.cdn.example.com", 443, NO(EG_R_BAD_NAME, 0) },
		{ "*.cdn.example.com", 443, NO(EG_R_BAD_NAME, 0) },
		{ "x/../api.example.com", 443, NO(EG_R_BAD_NAME, 0) },
	};
	struct eg_decision d;
	size_t n;

	run_host(f->pol, c, N(c));
	d = eg_policy_check_host(f->pol, NULL, 443);
	assert_int_equal(d.verdict, EG_DENY);

	memset(label64, 'a', 64);
	memcpy(label64 + 64, ".cdn.example.com", sizeof(".cdn.example.com"));
	d = eg_policy_check_host(f->pol, label64, 443);
	assert_int_equal(d.verdict, EG_DENY);
	assert_int_equal(d.reason, EG_R_BAD_NAME);
	/* 63 bytes: the longest label, one label under *.cdn */
	d = eg_policy_check_host(f->pol, label64 + 1, 443);
	assert_int_equal(d.verdict, EG_ALLOW);
	assert_int_equal(d.reason, EG_R_RULE);

	/* 254 bytes under **.deep.example.org */
	n = 254 - strlen(".deep.example.org");
	memset(long_name, 'a', n);
	for (size_t i = 60; i < n; i += 60)
		long_name[i] = '.';
	snprintf(long_name + n, sizeof(long_name) - n, ".deep.example.org");
	assert_int_equal(strlen(long_name), 254);
	d = eg_policy_check_host(f->pol, long_name, 8000);
	assert_int_equal(d.reason, EG_R_BAD_NAME);
	d = eg_policy_check_host(f->pol, long_name + 1, 8000);
	assert_int_equal(d.verdict, EG_ALLOW);
	assert_int_equal(d.reason, EG_R_RULE);
}

/* Lengths given explicitly, as SNI and Host headers arrive. */
static void
test_policy_hostn(void **state)
{
	struct fixture *f = *state;
	static const char nul[] = "api.example.com\0.evil.com";
	struct eg_decision d;

	d = eg_policy_check_hostn(f->pol, nul, 15, 443);
	assert_int_equal(d.verdict, EG_ALLOW);
	d = eg_policy_check_hostn(f->pol, nul, sizeof(nul) - 1, 443);
	assert_int_equal(d.verdict, EG_DENY);
	assert_int_equal(d.reason, EG_R_BAD_NAME);
	d = eg_policy_check_hostn(f->pol, nul, 16, 443);
	assert_int_equal(d.reason, EG_R_BAD_NAME);
	d = eg_policy_check_hostn(f->pol, nul, 0, 443);
	assert_int_equal(d.reason, EG_R_BAD_NAME);
	d = eg_policy_check_hostn(f->pol, "127.0.0.2", 9, 443);
	assert_int_equal(d.reason, EG_R_DENY_CIDR);
}

/* ---- IP literals ---- */

static void
test_policy_literals(void **state)
{
	struct fixture *f = *state;
	static const struct hcase c[] = {
		/* 127.0.0.1 is a listener: a host address in every spelling */
		{ "2130706433", 443, NO(EG_R_HOST_ADDR, 0) },
		{ "0x7f.1", 443, NO(EG_R_HOST_ADDR, 0) },
		{ "0X7F.1", 443, NO(EG_R_HOST_ADDR, 0) },
		{ "017700000001", 443, NO(EG_R_HOST_ADDR, 0) },
		{ "127.1", 443, NO(EG_R_HOST_ADDR, 0) },
		{ "0177.0.0.1", 443, NO(EG_R_HOST_ADDR, 0) },
		{ "127.0.0.1.", 443, NO(EG_R_HOST_ADDR, 0) },
		{ "[::ffff:127.0.0.1]", 443, NO(EG_R_HOST_ADDR, 0) },
		{ "::ffff:7f00:1", 443, NO(EG_R_HOST_ADDR, 0) },
		{ "64:ff9b::127.0.0.1", 80, NO(EG_R_HOST_ADDR, 0) },
		{ "2002:7f00:1::1", 443, NO(EG_R_HOST_ADDR, 0) },
		{ "::127.0.0.1", 443, NO(EG_R_HOST_ADDR, 0) },
		/* the rest of 127/8: the deny list, in every spelling */
		{ "2130706434", 443, NO(EG_R_DENY_CIDR, 0) },
		{ "0x7f.2", 443, NO(EG_R_DENY_CIDR, 0) },
		{ "0X7F.0X2", 443, NO(EG_R_DENY_CIDR, 0) },
		{ "017700000002", 443, NO(EG_R_DENY_CIDR, 0) },
		{ "127.2", 443, NO(EG_R_DENY_CIDR, 0) },
		{ "0177.0.0.2", 443, NO(EG_R_DENY_CIDR, 0) },
		{ "127.0.0.2.", 443, NO(EG_R_DENY_CIDR, 0) },
		{ "[::ffff:127.0.0.2]", 443, NO(EG_R_DENY_CIDR, 0) },
		{ "::ffff:7f00:2", 443, NO(EG_R_DENY_CIDR, 0) },
		{ "127.255.255.255", 443, NO(EG_R_DENY_CIDR, 0) },
		{ "[::1]", 443, NO(EG_R_DENY_CIDR, 0) },
		{ "::", 443, NO(EG_R_DENY_CIDR, 0) },
		{ "fe80::1%eth0", 443, NO(EG_R_DENY_CIDR, 0) },
		{ "[fe80::1%25eth0]", 443, NO(EG_R_DENY_CIDR, 0) },
		{ "fe80::1%2", 443, NO(EG_R_DENY_CIDR, 0) },
		{ "169.254.169.254", 80, NO(EG_R_DENY_CIDR, 0) },
		{ "0xa9.0xfe.0xa9.0xfe", 80, NO(EG_R_DENY_CIDR, 0) },
		/* NAT64 and 6to4 forms of denied IPv4 */
		{ "64:ff9b::a9fe:a9fe", 80, NO(EG_R_DENY_CIDR, 0) },
		{ "64:ff9b::127.0.0.2", 80, NO(EG_R_DENY_CIDR, 0) },
		{ "2002:7f00:2::1", 443, NO(EG_R_DENY_CIDR, 0) },
		{ "2002:c0a8:101::", 443, NO(EG_R_DENY_CIDR, 0) },
		{ "64:ff9b:1::808:808", 443, NO(EG_R_DENY_CIDR, 0) },
		{ "::127.0.0.2", 443, NO(EG_R_DENY_CIDR, 0) },
		/* the rest of the built-in list */
		{ "0.0.0.0", 443, NO(EG_R_DENY_CIDR, 0) },
		{ "10.1.2.3", 443, NO(EG_R_DENY_CIDR, 0) },
		{ "100.64.0.1", 443, NO(EG_R_DENY_CIDR, 0) },
		{ "172.31.255.255", 443, NO(EG_R_DENY_CIDR, 0) },
		{ "192.0.0.8", 443, NO(EG_R_DENY_CIDR, 0) },
		{ "192.168.1.1", 443, NO(EG_R_DENY_CIDR, 0) },
		{ "198.19.0.1", 443, NO(EG_R_DENY_CIDR, 0) },
		{ "224.0.0.251", 443, NO(EG_R_DENY_CIDR, 0) },
		{ "255.255.255.255", 443, NO(EG_R_DENY_CIDR, 0) },
		{ "fd12:3456::1", 443, NO(EG_R_DENY_CIDR, 0) },
		{ "ff02::1", 443, NO(EG_R_DENY_CIDR, 0) },
		{ "100::1", 443, NO(EG_R_DENY_CIDR, 0) },
		/* public literals are still never names */
		{ "8.8.8.8", 443, NO(EG_R_IP_LITERAL, 0) },
		{ "134744072", 443, NO(EG_R_IP_LITERAL, 0) },
		{ "[2606:4700::1111]", 443, NO(EG_R_IP_LITERAL, 0) },
		{ "64:ff9b::808:808", 443, NO(EG_R_IP_LITERAL, 0) },
		{ "2002:808:808::1", 443, NO(EG_R_IP_LITERAL, 0) },
		{ "172.32.0.1", 443, NO(EG_R_IP_LITERAL, 0) },
		{ "100.128.0.1", 443, NO(EG_R_IP_LITERAL, 0) },
		/* permit_cidr lifts the deny list, not the literal rule */
		{ "10.20.30.5", 443, NO(EG_R_IP_LITERAL, 0) },
		{ "10.20.31.5", 443, NO(EG_R_DENY_CIDR, 0) },
		{ "64:ff9b::a14:1e05", 443, NO(EG_R_IP_LITERAL, 0) },
	};

	run_host(f->pol, c, N(c));
}

static void
test_policy_host_addrs(void **state)
{
	struct fixture *f = *state;
	/* 10.77.0.0/16 is permitted (line 25): the gateway stays denied */
	static const struct hcase c[] = {
		{ "10.77.0.1", 443, NO(EG_R_HOST_ADDR, 0) },
		{ "0xa4d0001", 443, NO(EG_R_HOST_ADDR, 0) },
		{ "203.0.113.5", 443, NO(EG_R_HOST_ADDR, 0) },
		{ "::ffff:203.0.113.5", 443, NO(EG_R_HOST_ADDR, 0) },
		{ "64:ff9b::cb00:7105", 443, NO(EG_R_HOST_ADDR, 0) },
		{ "2002:cb00:7105::", 443, NO(EG_R_HOST_ADDR, 0) },
		{ "[2001:db8::1]", 443, NO(EG_R_HOST_ADDR, 0) },
		{ "127.0.0.1", 15001, NO(EG_R_HOST_ADDR, 0) },
		{ "10.77.0.2", 443, NO(EG_R_IP_LITERAL, 0) },
		{ "203.0.113.6", 443, NO(EG_R_IP_LITERAL, 0) },
	};

	run_host(f->pol, c, N(c));
}

static void
test_policy_direct(void **state)
{
	struct fixture *f = *state;
	static const struct hcase c[] = {
		{ "10.0.1.215", 5432, DIRECT },
		{ "167772631", 5432, DIRECT },
		{ "[::ffff:10.0.1.215]", 5432, DIRECT },
		{ "10.0.1.215", 5433, NO(EG_R_DENY_CIDR, 0) },
		{ "10.0.1.216", 5432, NO(EG_R_DENY_CIDR, 0) },
		/* NAT64 of a direct address is not that direct endpoint */
		{ "64:ff9b::a00:1d7", 5432, NO(EG_R_DENY_CIDR, 0) },
		{ "cache.internal", 6379, DIRECT },
		{ "CACHE.Internal.", 6379, DIRECT },
		{ "cache.internal", 6380, NO(EG_R_NO_RULE, 0) },
		{ "x.cache.internal", 6379, NO(EG_R_NO_RULE, 0) },
		/* a CIDR endpoint covers its range ... */
		{ "10.77.0.9", 6000, DIRECT },
		{ "10.77.1.9", 6000, NO(EG_R_IP_LITERAL, 0) },
		/* ... but never the host; only an endpoint naming it does */
		{ "10.77.0.1", 6000, NO(EG_R_HOST_ADDR, 0) },
		{ "10.77.0.1", 5432, DIRECT },
	};

	run_host(f->pol, c, N(c));
	assert_true(eg_policy_is_direct_name(f->pol, "cache.internal", 6379));
	assert_true(eg_policy_is_direct_name(f->pol, "Cache.Internal.", 0));
	assert_false(eg_policy_is_direct_name(f->pol, "cache.internal", 6380));
	assert_false(eg_policy_is_direct_name(f->pol, "api.example.com", 0));
	assert_false(eg_policy_is_direct_name(f->pol, "cache..internal", 0));
	assert_false(eg_policy_is_direct_name(f->pol, NULL, 0));
}

/* ---- addresses answers resolve to ---- */

static void
test_policy_addr(void **state)
{
	struct fixture *f = *state;
	static const struct acase c[] = {
		{ "8.8.8.8", OK(0), NULL },
		{ "2606:4700::1111", OK(0), NULL },
		{ "127.0.0.2", NO(EG_R_DENY_CIDR, 0), "127.0.0.0/8" },
		{ "169.254.169.254", NO(EG_R_DENY_CIDR, 0), "169.254.0.0/16" },
		{ "::ffff:127.0.0.2", NO(EG_R_DENY_CIDR, 0), "127.0.0.0/8" },
		{ "::ffff:8.8.8.8", OK(0), NULL },
		{ "64:ff9b::a9fe:a9fe", NO(EG_R_DENY_CIDR, 0), "169.254.0.0/16" },
		{ "2002:a00::1", NO(EG_R_DENY_CIDR, 0), "10.0.0.0/8" },
		{ "fe80::1", NO(EG_R_DENY_CIDR, 0), "fe80::/10" },
		{ "fc00::1", NO(EG_R_DENY_CIDR, 0), "fc00::/7" },
		{ "::", NO(EG_R_DENY_CIDR, 0), "::/128" },
		{ "::1", NO(EG_R_DENY_CIDR, 0), "::1/128" },
		{ "100::", NO(EG_R_DENY_CIDR, 0), "100::/64" },
		{ "240.0.0.1", NO(EG_R_DENY_CIDR, 0), "240.0.0.0/4" },
		/* permit_cidr 10.20.30.0/24, in either family */
		{ "10.20.30.5", OK(0), NULL },
		{ "::ffff:10.20.30.5", OK(0), NULL },
		{ "64:ff9b::a14:1e05", OK(0), NULL },
		{ "10.20.31.5", NO(EG_R_DENY_CIDR, 0), "10.0.0.0/8" },
		/* host addresses: never permitted, whatever the spelling */
		{ "10.77.0.1", NO(EG_R_HOST_ADDR, 0), "10.77.0.1/32" },
		{ "10.77.0.2", OK(0), NULL },
		{ "::ffff:10.77.0.1", NO(EG_R_HOST_ADDR, 0), "10.77.0.1/32" },
		{ "64:ff9b::a4d:1", NO(EG_R_HOST_ADDR, 0), "10.77.0.1/32" },
		{ "203.0.113.5", NO(EG_R_HOST_ADDR, 0), "203.0.113.5/32" },
		{ "2001:db8::1", NO(EG_R_HOST_ADDR, 0), "2001:db8::1/128" },
		{ "127.0.0.1", NO(EG_R_HOST_ADDR, 0), "127.0.0.1/32" },
	};
	struct eg_ip bad;

	run_addr(f->pol, c, N(c));
	memset(&bad, 0, sizeof(bad));
	bad.family = AF_UNIX;
	assert_int_equal(eg_policy_check_addr(f->pol, &bad).verdict, EG_DENY);
	assert_int_equal(eg_policy_check_addr(f->pol, NULL).verdict, EG_DENY);
}

/* ---- DNS ---- */

static void
test_policy_dns(void **state)
{
	struct fixture *f = *state;
	static const struct dcase c[] = {
		{ "api.example.com", 1, OK(13) },
		{ "API.example.com.", 28, OK(13) },
		{ "api.example.com", 5, OK(13) },
		{ "api.example.com", 65, OK(13) },
		{ "api.example.com", 16, NO(EG_R_QTYPE, 13) },
		{ "api.example.com", 15, NO(EG_R_QTYPE, 13) },
		{ "api.example.com", 10, NO(EG_R_QTYPE, 13) },
		{ "api.example.com", 255, NO(EG_R_QTYPE, 0) },
		{ "api.example.com", 252, NO(EG_R_QTYPE, 0) },
		{ "api.example.com", 251, NO(EG_R_QTYPE, 0) },
		{ "api.example.com", 0, NO(EG_R_QTYPE, 0) },
		{ "api.example.com", 41, NO(EG_R_QTYPE, 0) },
		/* ports do not matter to DNS */
		{ "a.dup.example", 1, OK(18) },
		{ "a.deep.example.org", 28, OK(15) },
		{ "x.any.example.net", 1, NO(EG_R_NO_RULE, 0) },
		{ "txt.example.com", 16, OK(22) },
		{ "txt.example.com", 15, OK(22) },
		{ "txt.example.com", 33, NO(EG_R_QTYPE, 22) },
		{ "a.txt.example.com", 16, NO(EG_R_QTYPE, 21) },
		{ "x.y.all.example", 16, OK(23) },
		{ "x.all.example", 10, OK(23) },
		{ "x.all.example", 65280, OK(23) },
		{ "x.all.example", 255, NO(EG_R_QTYPE, 0) },
		{ "x.all.example", 252, NO(EG_R_QTYPE, 0) },
		{ "cache.internal", 1, DIRECT },
		{ "cache.internal", 28, DIRECT },
		{ "cache.internal", 16, NO(EG_R_NO_RULE, 0) },
		{ "evil.com", 1, NO(EG_R_NO_RULE, 0) },
		{ "127.0.0.1", 1, NO(EG_R_IP_LITERAL, 0) },
		{ "", 1, NO(EG_R_BAD_NAME, 0) },
		{ "api..example.com", 1, NO(EG_R_BAD_NAME, 0) },
		{ "a\xff.cdn.example.com", 1, NO(EG_R_BAD_NAME, 0) },
	};

	run_dns(f->pol, c, N(c));
	assert_int_equal(eg_policy_check_dns(f->pol, NULL, 1).verdict, EG_DENY);
}

/* ---- report mode ---- */

static void
test_policy_report(void **state)
{
	struct fixture *f = *state;
	static const struct hcase h[] = {
		{ "api.example.com", 443, OK(13) },
		{ "evil.com", 443, REP(EG_R_NO_RULE, 0) },
		{ "api.example.com", 80, REP(EG_R_PORT, 13) },
		{ "127.0.0.2", 443, REP(EG_R_DENY_CIDR, 0) },
		{ "8.8.8.8", 443, REP(EG_R_IP_LITERAL, 0) },
		{ "10.0.1.215", 5432, DIRECT },
		/* never opened by report mode: the host, malformed input */
		{ "10.77.0.1", 443, NO(EG_R_HOST_ADDR, 0) },
		{ "203.0.113.5", 22, NO(EG_R_HOST_ADDR, 0) },
		{ "127.0.0.1", 15001, NO(EG_R_HOST_ADDR, 0) },
		{ "64:ff9b::cb00:7105", 443, NO(EG_R_HOST_ADDR, 0) },
		{ "bad..name", 443, NO(EG_R_BAD_NAME, 0) },
		{ "api.example.com", 0, NO(EG_R_PORT, 0) },
	};
	static const struct dcase d[] = {
		{ "api.example.com", 1, OK(13) },
		{ "api.example.com", 16, REP(EG_R_QTYPE, 13) },
		{ "evil.com", 1, REP(EG_R_NO_RULE, 0) },
		{ "api.example.com", 255, NO(EG_R_QTYPE, 0) },
		{ "api.example.com", 252, NO(EG_R_QTYPE, 0) },
	};
	static const struct acase a[] = {
		{ "127.0.0.2", REP(EG_R_DENY_CIDR, 0), "127.0.0.0/8" },
		{ "10.77.0.1", NO(EG_R_HOST_ADDR, 0), "10.77.0.1/32" },
		{ "::ffff:203.0.113.5", NO(EG_R_HOST_ADDR, 0), "203.0.113.5/32" },
	};

	run_host(f->pol, h, N(h));
	run_dns(f->pol, d, N(d));
	run_addr(f->pol, a, N(a));
}

/* ---- empty allowlist ---- */

static void
test_policy_empty_allowlist(void **state)
{
	struct fixture *f = *state;
	static const struct hcase h[] = {
		{ "api.example.com", 443, NO(EG_R_EMPTY, 0) },
		{ "a.b.c", 80, NO(EG_R_EMPTY, 0) },
		{ "cache.internal", 6379, DIRECT },
		{ "cache.internal", 443, NO(EG_R_EMPTY, 0) },
		{ "10.0.1.215", 5432, DIRECT },
		{ "8.8.8.8", 443, NO(EG_R_IP_LITERAL, 0) },
	};
	static const struct dcase d[] = {
		{ "api.example.com", 1, NO(EG_R_EMPTY, 0) },
		{ "cache.internal", 1, DIRECT },
		{ "cache.internal", 16, NO(EG_R_EMPTY, 0) },
	};

	assert_int_equal(eg_policy_nrules(f->pol), 0);
	run_host(f->pol, h, N(h));
	run_dns(f->pol, d, N(d));
}

/* ---- the rule grammar ---- */

static void
test_policy_rule_good(void **state)
{
	struct eg_rule r;
	char err[EG_ERR_MAX];
	char name253[260];

	(void)state;
	assert_true(eg_rule_parse("example.com", &r, err));
	assert_int_equal(r.match, EG_MATCH_EXACT);
	assert_string_equal(r.suffix, "example.com");
	assert_int_equal(r.nports, 1);
	assert_int_equal(r.ports[0].lo, 443);
	assert_int_equal(r.ports[0].hi, 443);
	assert_false(r.qtype_any);
	assert_int_equal(r.nqtypes, 0);
	eg_rule_clear(&r);

	assert_true(eg_rule_parse("*.Example.COM.", &r, err));
	assert_int_equal(r.match, EG_MATCH_ONE_LABEL);
	assert_string_equal(r.suffix, "example.com");
	eg_rule_clear(&r);

	assert_true(eg_rule_parse("  **.example.com:*  ", &r, err));
	assert_int_equal(r.match, EG_MATCH_ANY_DEPTH);
	assert_int_equal(r.nports, 1);
	assert_int_equal(r.ports[0].lo, 0);
	assert_int_equal(r.ports[0].hi, 65535);
	eg_rule_clear(&r);

	/* sorted, merged: duplicates and adjacent ranges fold */
	assert_true(eg_rule_parse("a.com:8000-8100,80,443,443,442,8050-8200",
	    &r, err));
	assert_int_equal(r.nports, 3);
	assert_int_equal(r.ports[0].lo, 80);
	assert_int_equal(r.ports[1].lo, 442);
	assert_int_equal(r.ports[1].hi, 443);
	assert_int_equal(r.ports[2].lo, 8000);
	assert_int_equal(r.ports[2].hi, 8200);
	eg_rule_clear(&r);

	assert_true(eg_rule_parse("a.com:80,*", &r, err));
	assert_int_equal(r.nports, 1);
	assert_int_equal(r.ports[0].hi, 65535);
	eg_rule_clear(&r);

	assert_true(eg_rule_parse("a.com:1-65535", &r, err));
	eg_rule_clear(&r);
	assert_true(eg_rule_parse("a.com:1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16",
	    &r, err));
	assert_int_equal(r.nports, 1);	/* 1-16 after merging */
	eg_rule_clear(&r);

	assert_true(eg_rule_parse("a.com\tqtype=txt,MX,TXT,TYPE65280", &r,
	    err));
	assert_int_equal(r.nqtypes, 3);
	assert_int_equal(r.qtypes[0], 15);
	assert_int_equal(r.qtypes[1], 16);
	assert_int_equal(r.qtypes[2], 65280);
	eg_rule_clear(&r);
	assert_null(r.qtypes);

	assert_true(eg_rule_parse("a.com:80 qtype=*", &r, err));
	assert_true(r.qtype_any);
	eg_rule_clear(&r);

	assert_true(eg_rule_parse("xn--bcher-kva.example", &r, err));
	eg_rule_clear(&r);
	assert_true(eg_rule_parse("_dmarc.example.com qtype=TXT", &r, err));
	eg_rule_clear(&r);
	/* an all-digit label is fine where the whole is not an address */
	assert_true(eg_rule_parse("1.2.3.4.nip.io", &r, err));
	eg_rule_clear(&r);

	/* 253 bytes exactly: the longest name */
	memset(name253, 'a', 253);
	name253[253] = '\0';
	for (size_t i = 63; i < 253; i += 64)
		name253[i] = '.';
	assert_true(eg_rule_parse(name253, &r, err));
	assert_int_equal(strlen(r.suffix), 253);
	eg_rule_clear(&r);
	/* a wildcard over 251 bytes still leaves room for "x." */
	assert_true(eg_rule_parse("*.aa", &r, err));
	eg_rule_clear(&r);
	eg_rule_clear(NULL);
}

struct badrule {
	const char *text;
	const char *msg;	/* a part of the error message */
};

static void
test_policy_rule_bad(void **state)
{
	static const struct badrule c[] = {
		{ "", "empty rule" },
		{ "  \t ", "empty rule" },
		{ "127.0.0.1", "\"127.0.0.1\" is an IP address" },
		{ "10.0.0.1:443", "is an IP address" },
		{ "2130706433", "is an IP address" },
		{ "0x7f.1", "is an IP address" },
		{ "[::1]:443", "\"[::1]:443\" is an IP address" },
		{ "::1", "is an IP address" },
		{ "fe80::1", "is an IP address" },
		{ "*.1.2.3", "is an IP address" },
		{ "127.0.0.1.", "is an IP address" },
		{ "foo.*.com", "'*' is allowed only" },
		{ "*foo.com", "\"*foo.com\": '*' is allowed only" },
		{ "***.foo.com", "'*' is allowed only" },
		{ "foo.com*", "'*' is allowed only" },
		{ "*", "bare wildcard" },
		{ "**", "bare wildcard" },
		{ "*.", "needs a domain" },
		{ "**.", "needs a domain" },
		{ "a..com", "empty label" },
		{ ".a.com", "empty label" },
		{ "-a.com", "label starts with '-'" },
		{ "a_b$.com", "invalid character" },
		{ "b\xc3\xbc" "cher.example", "non-ASCII" },
		{ "x.\xff", "\"x.\\xff\": non-ASCII" },
		{ "a\x01.com", "\\x01" },
		{ "a.com:0", "port 0" },
		{ "a.com:65536", "\"65536\": not a number in 1-65535" },
		{ "a.com:99999999999", "not a number" },
		{ "a.com:8100-8000", "\"8100-8000\" is reversed" },
		{ "a.com:", "empty port list" },
		{ "a.com:80,", "empty item" },
		{ "a.com:80,,443", "empty item" },
		{ "a.com:,80", "empty item" },
		{ "a.com:-80", "not a number" },
		{ "a.com:80-", "not a number" },
		{ "a.com:+80", "not a number" },
		{ "a.com:80-90-100", "not a number" },
		{ "a.com:http", "\"http\": not a number" },
		{ "a.com:1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17",
		    "more than 16 ranges" },
		{ "a.com:80:443", "more than one ':'" },
		{ "a.com garbage", "unexpected \"garbage\" after the rule" },
		{ "a.com:80 80", "unexpected \"80\"" },
		{ "a.com #comment", "unexpected \"#comment\"" },
		{ "a.com qtype=ANY", "\"ANY\": never answered" },
		{ "a.com qtype=axfr", "never answered" },
		{ "a.com qtype=TXT,IXFR", "never answered" },
		{ "a.com qtype=TYPE255", "never answered" },
		{ "a.com qtype=OPT", "never answered" },
		{ "a.com qtype=BOGUS", "\"BOGUS\": unknown DNS type" },
		{ "a.com qtype=TYPE0", "unknown DNS type" },
		{ "a.com qtype=TYPE65536", "unknown DNS type" },
		{ "a.com qtype=", "empty qtype list" },
		{ "a.com qtype=TXT,", "empty item" },
		{ "a.com qtype=TXT qtype=MX", "given twice" },
		{ "a.com qtype", "unexpected \"qtype\"" },
	};
	struct eg_rule r;
	char err[EG_ERR_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < N(c); i++) {
		memset(&r, 0x5a, sizeof(r));
		err[0] = '\0';
		if (eg_rule_parse(c[i].text, &r, err)) {
			eg_rule_clear(&r);
			fail_msg("rule \"%s\" parsed", c[i].text);
		}
		if (strstr(err, c[i].msg) == NULL)
			fail_msg("rule \"%s\": error \"%s\" lacks \"%s\"",
			    c[i].text, err, c[i].msg);
		/* out is untouched on failure */
		assert_int_equal(((unsigned char *)&r)[0], 0x5a);
	}
	assert_false(eg_rule_parse(NULL, &r, err));
	assert_false(eg_rule_parse("a.com", NULL, err));
	assert_false(eg_rule_parse("a..com", &r, NULL));
}

static void
test_policy_rule_bounds(void **state)
{
	struct eg_rule r;
	char err[EG_ERR_MAX], buf[4096], *p;
	size_t i;

	(void)state;
	/* a 64-byte label */
	memset(buf, 'a', 64);
	strcpy(buf + 64, ".com");
	assert_false(eg_rule_parse(buf, &r, err));
	assert_non_null(strstr(err, "label longer than 63"));

	/* 254 bytes of name */
	memset(buf, 'a', 254);
	buf[254] = '\0';
	for (i = 63; i < 254; i += 64)
		buf[i] = '.';
	assert_false(eg_rule_parse(buf, &r, err));
	assert_non_null(strstr(err, "longer than 253"));

	/* a wildcard with no room left below it */
	strcpy(buf, "*.");
	memset(buf + 2, 'b', 252);
	buf[254] = '\0';
	for (i = 2 + 63; i < 254; i += 64)
		buf[i] = '.';
	assert_false(eg_rule_parse(buf, &r, err));
	assert_non_null(strstr(err, "no name below this suffix"));

	/* far too long: refused without reading it all, quoted short */
	memset(buf, 'a', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	assert_false(eg_rule_parse(buf, &r, err));
	assert_non_null(strstr(err, "longer than 1024 bytes"));
	assert_true(strlen(err) < 200);

	/* a huge port list */
	p = buf;
	p += sprintf(p, "a.com:");
	for (i = 0; i < 200; i++)
		p += sprintf(p, "%zu,", i + 1);
	p[-1] = '\0';
	assert_false(eg_rule_parse(buf, &r, err));
	assert_non_null(strstr(err, "more than 16"));

	/* 33 distinct qtypes */
	p = buf;
	p += sprintf(p, "a.com qtype=");
	for (i = 0; i < 33; i++)
		p += sprintf(p, "TYPE%zu,", 1000 + i);
	p[-1] = '\0';
	assert_false(eg_rule_parse(buf, &r, err));
	assert_non_null(strstr(err, "more than 32"));

	/* NUL ends a C string: what follows it is not part of the rule */
	assert_true(eg_rule_parse("a.com\0 garbage", &r, err));
	assert_string_equal(r.suffix, "a.com");
	eg_rule_clear(&r);
}

/* ---- engine construction ---- */

static struct eg_config *
hand_config(const char *const *rules, struct eg_rule_src *src)
{
	static struct eg_config cfg;
	size_t n;

	memset(&cfg, 0, sizeof(cfg));
	for (n = 0; rules[n] != NULL; n++) {
		src[n].text = (char *)rules[n];
		src[n].at.file = "h.conf";
		src[n].at.line = (int)n + 1;
	}
	cfg.policy.rules = src;
	cfg.policy.nrules = n;
	return &cfg;
}

static void
test_policy_new_errors(void **state)
{
	static const char *const bad[] = { "a.com", "a..com", NULL };
	static const char *const good[] = { "a.com", "a.com", "*.a.com", NULL };
	struct eg_rule_src src[4];
	struct eg_direct dir;
	struct eg_config *cfg;
	struct eg_policy *p;
	struct eg_decision d;
	char err[EG_ERR_MAX], where[64];

	(void)state;
	/* the engine re-checks every rule: it never trusts the loader */
	cfg = hand_config(bad, src);
	err[0] = '\0';
	assert_null(eg_policy_new(cfg, NULL, 0, err));
	assert_non_null(strstr(err, "h.conf:2: allow: \"a..com\""));

	assert_null(eg_policy_new(NULL, NULL, 0, err));
	cfg = hand_config(good, src);
	assert_null(eg_policy_new(cfg, NULL, 1, err));
	cfg->policy.mode = (enum eg_policy_mode)7;
	assert_null(eg_policy_new(cfg, NULL, 0, err));
	assert_non_null(strstr(err, "unknown mode"));
	cfg->policy.mode = EG_MODE_ENFORCE;

	memset(&dir, 0, sizeof(dir));
	assert_true(eg_endpoint_parse("db.internal:5432", &dir.ep, err));
	dir.ep.port = 0;
	cfg->jail.direct = &dir;
	cfg->jail.ndirect = 1;
	assert_null(eg_policy_new(cfg, NULL, 0, err));
	assert_non_null(strstr(err, "without a port"));
	cfg->jail.ndirect = 0;

	/* duplicates: the first line is the one reported */
	assert_non_null(p = eg_policy_new(cfg, NULL, 0, err));
	assert_int_equal(eg_policy_nrules(p), 3);
	d = eg_policy_check_host(p, "A.com", 443);
	assert_int_equal(d.verdict, EG_ALLOW);
	assert_string_equal(eg_rule_where(d.rule, where, sizeof(where)),
	    "h.conf:1");
	d = eg_policy_check_host(p, "b.a.com", 443);
	assert_string_equal(eg_rule_where(d.rule, where, sizeof(where)),
	    "h.conf:3");
	/* the policy keeps its own copy of the file name */
	src[0].at.file = "changed";
	d = eg_policy_check_host(p, "a.com", 443);
	assert_string_equal(eg_rule_where(d.rule, where, sizeof(where)),
	    "h.conf:1");
	eg_policy_free(p);
	eg_policy_free(NULL);
	assert_int_equal(eg_policy_nrules(NULL), 0);
	d = eg_policy_check_host(NULL, "a.com", 443);
	assert_int_equal(d.verdict, EG_DENY);
}

static void
test_policy_rule_where_and_reason_names(void **state)
{
	struct fixture *f = *state;
	struct eg_rule r;
	char buf[64];
	int i, j;

	assert_int_equal(eg_policy_nrules(f->pol), 11);
	memset(&r, 0, sizeof(r));
	assert_string_equal(eg_rule_where(&r, buf, sizeof(buf)), "-");
	assert_string_equal(eg_rule_where(NULL, buf, sizeof(buf)), "-");
	r.at.file = "x.allow";
	r.at.line = 7;
	assert_string_equal(eg_rule_where(&r, buf, sizeof(buf)), "x.allow:7");
	assert_string_equal(eg_rule_where(&r, buf, 4), "x.a");
	for (i = EG_R_RULE; i <= EG_R_EMPTY; i++) {
		assert_string_not_equal(eg_reason_str((enum eg_reason)i),
		    "unknown");
		for (j = EG_R_RULE; j < i; j++)
			assert_string_not_equal(eg_reason_str((enum eg_reason)i),
			    eg_reason_str((enum eg_reason)j));
	}
	assert_string_equal(eg_reason_str(EG_R_NO_RULE), "no_rule");
}

/* Many rules: every one is found, and nothing between them. */
static void
test_policy_many_rules_each_found(void **state)
{
	enum { NR = 3000 };
	static struct eg_rule_src src[NR];
	static char text[NR][48];
	struct eg_config cfg;
	struct eg_policy *p;
	struct eg_decision d;
	char err[EG_ERR_MAX], name[80];
	size_t i;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	for (i = 0; i < NR; i++) {
		static const char *const pre[] = { "h", "*.o", "**.d" };

		snprintf(text[i], sizeof(text[i]), "%s%zu.example", pre[i % 3],
		    i);
		src[i].text = text[i];
		src[i].at.file = i < NR / 2 ? "a.allow" : "b.allow";
		src[i].at.line = (int)i + 1;
	}
	cfg.policy.rules = src;
	cfg.policy.nrules = NR;
	assert_non_null(p = eg_policy_new(&cfg, NULL, 0, err));
	for (i = 0; i < NR; i++) {
		static const char *const hit[] = { "h", "x.o", "x.y.z.d" };
		static const char *const miss[] = { "x.h", "x.y.o", "d" };

		snprintf(name, sizeof(name), "%s%zu.example", hit[i % 3], i);
		d = eg_policy_check_host(p, name, 443);
		if (d.verdict != EG_ALLOW || d.rule == NULL ||
		    d.rule->at.line != (int)i + 1)
			fail_msg("%s not allowed by line %zu", name, i + 1);
		snprintf(name, sizeof(name), "%s%zu.example", miss[i % 3], i);
		d = eg_policy_check_host(p, name, 443);
		if (d.verdict != EG_DENY || d.reason != EG_R_NO_RULE)
			fail_msg("%s: %s", name, eg_reason_str(d.reason));
	}
	eg_policy_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = TEST_LIST(POLICY_TESTS);

	return cmocka_run_group_tests(tests, NULL, NULL);
}
