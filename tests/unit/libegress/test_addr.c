/*
 * test_addr.c - addresses, CIDRs, endpoints, durations, sizes.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"

#include "test_list.h"

static void
assert_redacts(const char *in, const char *want)
{
	char buf[256];

	assert_string_equal(eg_redact_userinfo(in, buf, sizeof(buf)), want);
}

/* The password of a URL never reaches a message; the rest does. */
static void
test_addr_redact(void **state)
{
	char small[12];

	(void)state;
	assert_redacts("https://user:secret@proxy:8443",
	    "https://user:***@proxy:8443");
	assert_redacts("http://bob:hunter2@10.0.0.1:3128/",
	    "http://bob:***@10.0.0.1:3128/");
	/* no password: the user name is no secret */
	assert_redacts("http://bob@10.0.0.1:3128", "http://bob@10.0.0.1:3128");
	assert_redacts("https://proxy:8443", "https://proxy:8443");
	assert_redacts("proxy.example.net:8443", "proxy.example.net:8443");
	assert_redacts("", "");
	/* whatever a broken URL looks like, up to the last '@' is hidden */
	assert_redacts("https://u:p@ss@proxy", "https://u:***@proxy");
	assert_redacts("https://u:pa/ss@proxy", "https://u:***@proxy");
	assert_redacts("https://u:pa ss@proxy", "https://u:***@proxy");
	assert_redacts("https://u:a://b@proxy", "https://u:***@proxy");
	assert_redacts("htps://u:secret@proxy", "htps://u:***@proxy");
	assert_redacts("u:secret@proxy:3128", "u:***@proxy:3128");
	assert_redacts("hop https://u:secret@proxy", "hop https://u:***@proxy");
	assert_redacts("https://u:secret@", "https://u:***@");
	assert_redacts("https://:secret@proxy", "https://:***@proxy");
	assert_redacts("https://dns.example/q 9.9.9.9",
	    "https://dns.example/q 9.9.9.9");
	/* cut, never overrun, and never a piece of the secret */
	assert_string_equal(eg_redact_userinfo("https://u:secret@proxy", small,
	    sizeof(small)), "https://u:*");
	/* quoting for a message redacts before it cuts at 64 bytes */
	{
		char q[300];
		const char *long_pw = "https://user:0123456789012345678901234"
		    "5678901234567890123456789012345678901234567890@proxy:1";

		eg_redact_userinfo(long_pw, q, sizeof(q));
		assert_string_equal(q, "https://user:***@proxy:1");
	}
}

static void
assert_v4(const char *s, const char *want)
{
	struct eg_ip ip;
	char buf[64];

	if (!eg_ip_parse(s, &ip, false))
		fail_msg("\"%s\" did not parse", s);
	assert_int_equal(ip.family, AF_INET);
	assert_string_equal(eg_ip_str(&ip, buf, sizeof(buf)), want);
	assert_true(eg_is_ip_literal(s));
}

/*
 * eg_ip_str writes IPv4 by hand: every octet width at every position
 * against inet_ntop, and a buffer too short for the longest address
 * still gets a terminated (cut) string.
 */
static void
test_addr_ip_str_v4_by_hand(void **state)
{
	static const uint8_t v[] = { 0, 1, 9, 10, 42, 99, 100, 199, 200, 255 };
	struct eg_ip ip;
	char buf[INET_ADDRSTRLEN], want[INET_ADDRSTRLEN], small[8];
	size_t a, b;

	(void)state;
	memset(&ip, 0, sizeof(ip));
	ip.family = AF_INET;
	for (a = 0; a < sizeof(v); a++)
		for (b = 0; b < sizeof(v); b++) {
			ip.addr[0] = v[a];
			ip.addr[1] = v[b];
			ip.addr[2] = v[(a + b) % sizeof(v)];
			ip.addr[3] = v[(a * 3 + b) % sizeof(v)];
			assert_non_null(inet_ntop(AF_INET, ip.addr, want,
			    sizeof(want)));
			assert_string_equal(eg_ip_str(&ip, buf, sizeof(buf)),
			    want);
		}
	memset(ip.addr, 255, 4);
	assert_string_equal(eg_ip_str(&ip, small, sizeof(small)), "255.255");
}

static void
assert_v6(const char *s, bool unmap, const char *want)
{
	struct eg_ip ip;
	char buf[64];

	if (!eg_ip_parse(s, &ip, unmap))
		fail_msg("\"%s\" did not parse", s);
	assert_string_equal(eg_ip_str(&ip, buf, sizeof(buf)), want);
	assert_true(eg_is_ip_literal(s));
}

static void
assert_not_ip(const char *s)
{
	struct eg_ip ip;

	memset(&ip, 0xa5, sizeof(ip));
	if (eg_ip_parse(s, &ip, true))
		fail_msg("\"%s\" parsed as an address", s);
	/* nothing written on failure */
	assert_int_equal(ip.family, 0xa5);
}

static void
test_addr_ipv4_spellings(void **state)
{
	(void)state;
	assert_v4("127.0.0.1", "127.0.0.1");
	assert_v4("2130706433", "127.0.0.1");
	assert_v4("0x7f.1", "127.0.0.1");
	assert_v4("017700000001", "127.0.0.1");
	assert_v4("127.1", "127.0.0.1");
	assert_v4("0x7f000001", "127.0.0.1");
	assert_v4("0X7F000001", "127.0.0.1");
	assert_v4("127.0.1", "127.0.0.1");
	assert_v4("10.0.258", "10.0.1.2");
	assert_v4("0177.0.0.01", "127.0.0.1");
	assert_v4("0xa9.0xfe.0xa9.0xfe", "169.254.169.254");
	assert_v4("169.254.43518", "169.254.169.254");
	assert_v4("0", "0.0.0.0");
	assert_v4("0x", "0.0.0.0");
	assert_v4("4294967295", "255.255.255.255");
	assert_v4("0000000000000000000000000000177.1", "127.0.0.1");
	/* one trailing dot: still the same address (fail closed) */
	assert_v4("127.0.0.1.", "127.0.0.1");
	assert_v4("127.1.", "127.0.0.1");
}

static void
test_addr_ipv4_malformed(void **state)
{
	(void)state;
	assert_not_ip("");
	assert_not_ip(".");
	assert_not_ip("127.0.0.1..");
	assert_not_ip(".127.0.0.1");
	assert_not_ip("127..0.1");
	assert_not_ip("1.2.3.4.5");
	assert_not_ip("256.0.0.1");
	assert_not_ip("1.2.3.256");
	assert_not_ip("1.2.65536");
	assert_not_ip("1.16777216");
	assert_not_ip("4294967296");
	assert_not_ip("99999999999999999999999999999");
	assert_not_ip("0x1ffffffff");
	assert_not_ip("08");		/* 8 is not an octal digit */
	assert_not_ip("0x7g.1");
	assert_not_ip("127.0.0.1 ");
	assert_not_ip(" 127.0.0.1");
	assert_not_ip("+1.2.3.4");
	assert_not_ip("-1");
	assert_not_ip("example.com");
	assert_not_ip("1.2.3.com");
	assert_not_ip("[1.2.3.4]");
	assert_not_ip("1.2.3.4%eth0");
	assert_not_ip("127.0.0.1\xc2\xa0");
	assert_false(eg_is_ip_literal("localhost"));
	assert_false(eg_is_ip_literal("a.b"));
	assert_false(eg_is_ip_literal(NULL));
}

static void
test_addr_ipv6_forms(void **state)
{
	struct eg_ip ip;

	(void)state;
	assert_v6("::1", false, "::1");
	assert_v6("[::1]", false, "::1");
	assert_v6("0:0:0:0:0:0:0:1", false, "::1");
	assert_v6("2001:DB8::A", false, "2001:db8::a");
	assert_v6("::", false, "::");
	assert_v6("fe80::1%1", false, "fe80::1%1");
	assert_v6("[fe80::1%1]", false, "fe80::1%1");
	assert_v6("::ffff:127.0.0.1", false, "::ffff:127.0.0.1");
	assert_v6("::ffff:127.0.0.1", true, "127.0.0.1");
	assert_v6("[::ffff:7f00:1]", true, "127.0.0.1");
	assert_v6("64:ff9b::1.2.3.4", true, "64:ff9b::102:304");

	assert_true(eg_ip_parse("::ffff:10.0.0.1", &ip, true));
	assert_int_equal(ip.family, AF_INET);
	assert_int_equal(ip.addr[0], 10);
	assert_int_equal(ip.addr[3], 1);

	/*
	 * a named scope: a literal, but not parsed (no socket to look the
	 * name up), and the URL form "%25" is a literal too
	 */
	assert_true(eg_is_ip_literal("fe80::1%nosuchif0"));
	assert_false(eg_ip_parse("fe80::1%nosuchif0", &ip, false));
	assert_true(eg_is_ip_literal("fe80::1%lo"));
	assert_false(eg_ip_parse("fe80::1%lo", &ip, false));
	assert_true(eg_is_ip_literal("[fe80::1%25eth0]"));
	assert_true(eg_is_ip_literal("fe80::1%a b"));
	assert_false(eg_is_ip_literal("fe80::1%"));
	assert_false(eg_is_ip_literal("1.2.3.4%1"));

	assert_not_ip("::1::2");
	assert_not_ip("1:2:3:4:5:6:7:8:9");
	assert_not_ip("12345::");
	assert_not_ip("[::1");
	assert_not_ip("::1]");
	assert_not_ip("[]");
	assert_not_ip("[::1]x");
	assert_not_ip("fe80::1%");
	assert_not_ip("fe80::1%a b");
	assert_not_ip("fe80::1%99999999999");
	assert_not_ip("::ffff:127.1");
	assert_not_ip("::ffff:0127.0.0.1");
	assert_not_ip("gggg::1");
	assert_not_ip("::1:::::::::::::::::::::::::::::::::::::::::::::::::::"
	    ":::::::::::::::");
}

static void
test_addr_cidr(void **state)
{
	struct eg_cidr c;
	struct eg_ip ip;
	char err[EG_ERR_MAX], buf[80];

	(void)state;
	assert_true(eg_cidr_parse("10.0.0.0/8", &c, err));
	assert_string_equal(eg_cidr_str(&c, buf, sizeof(buf)), "10.0.0.0/8");
	assert_true(eg_ip_parse("10.255.1.2", &ip, false));
	assert_true(eg_cidr_contains(&c, &ip));
	assert_true(eg_ip_parse("11.0.0.0", &ip, false));
	assert_false(eg_cidr_contains(&c, &ip));
	assert_true(eg_ip_parse("::ffff:10.0.0.1", &ip, false));
	assert_false(eg_cidr_contains(&c, &ip));	/* other family */

	assert_true(eg_cidr_parse("10.20.30.0/24", &c, err));
	assert_true(eg_ip_parse("10.20.30.255", &ip, false));
	assert_true(eg_cidr_contains(&c, &ip));
	assert_true(eg_ip_parse("10.20.31.0", &ip, false));
	assert_false(eg_cidr_contains(&c, &ip));

	assert_true(eg_cidr_parse("100.64.0.0/10", &c, err));
	assert_true(eg_ip_parse("100.127.255.255", &ip, false));
	assert_true(eg_cidr_contains(&c, &ip));
	assert_true(eg_ip_parse("100.128.0.0", &ip, false));
	assert_false(eg_cidr_contains(&c, &ip));

	assert_true(eg_cidr_parse("fc00::/7", &c, err));
	assert_true(eg_ip_parse("fdff::1", &ip, false));
	assert_true(eg_cidr_contains(&c, &ip));
	assert_true(eg_ip_parse("fe00::1", &ip, false));
	assert_false(eg_cidr_contains(&c, &ip));

	assert_true(eg_cidr_parse("0.0.0.0/0", &c, err));
	assert_true(eg_ip_parse("1.2.3.4", &ip, false));
	assert_true(eg_cidr_contains(&c, &ip));
	assert_true(eg_cidr_parse("::/0", &c, err));
	assert_int_equal(c.plen, 0);

	assert_true(eg_cidr_parse("192.0.2.7", &c, err));
	assert_int_equal(c.plen, 32);
	assert_true(eg_cidr_parse("2001:db8::1", &c, err));
	assert_int_equal(c.plen, 128);
	assert_true(eg_cidr_parse("192.0.2.7/32", &c, err));
	assert_true(eg_cidr_parse("[2001:db8::]/32", &c, err));

	/* host bits: rejected, and the message says which network */
	assert_false(eg_cidr_parse("10.0.0.1/8", &c, err));
	assert_non_null(strstr(err, "\"10.0.0.1/8\""));
	assert_non_null(strstr(err, "10.0.0.0/8"));
	assert_false(eg_cidr_parse("fd00::1/8", &c, err));
	assert_false(eg_cidr_parse("10.20.30.128/24", &c, err));

	assert_false(eg_cidr_parse("10.0.0.0/33", &c, err));
	assert_non_null(strstr(err, "0-32"));
	assert_false(eg_cidr_parse("::/129", &c, err));
	assert_false(eg_cidr_parse("10.0.0.0/", &c, err));
	assert_false(eg_cidr_parse("10.0.0.0/-1", &c, err));
	assert_false(eg_cidr_parse("10.0.0.0/08", &c, err));
	assert_false(eg_cidr_parse("10.0.0.0/8/8", &c, err));
	assert_false(eg_cidr_parse("10.0.0.0/99999999999999", &c, err));
	assert_false(eg_cidr_parse("/8", &c, err));
	assert_false(eg_cidr_parse("", &c, err));
	assert_false(eg_cidr_parse("example.com/8", &c, err));
	assert_false(eg_cidr_parse("fe80::/10%eth0", &c, err));
	assert_false(eg_cidr_parse("fe80::%1/10", &c, err));
	/* short forms are ambiguous in a config */
	assert_false(eg_cidr_parse("10.1/16", &c, err));
	assert_non_null(strstr(err, "ambiguous"));
	assert_false(eg_cidr_parse("10/8", &c, err));
	assert_false(eg_cidr_parse("010.0.0.0/8", &c, err));
	assert_false(eg_cidr_parse("10.0.0.0/8", &c, NULL) == false);
}

static void
test_addr_ip_equal_and_sockaddr(void **state)
{
	struct eg_ip a, b;
	struct sockaddr_storage ss;
	socklen_t len;
	uint16_t port = 0;
	char err[EG_ERR_MAX];

	(void)state;
	assert_true(eg_ip_parse("127.0.0.1", &a, false));
	assert_true(eg_ip_parse("2130706433", &b, false));
	assert_true(eg_ip_equal(&a, &b));
	assert_true(eg_ip_parse("::ffff:127.0.0.1", &b, false));
	assert_false(eg_ip_equal(&a, &b));
	assert_true(eg_ip_parse("::ffff:127.0.0.1", &b, true));
	assert_true(eg_ip_equal(&a, &b));
	assert_true(eg_ip_parse("fe80::1%1", &a, false));
	assert_true(eg_ip_parse("fe80::1", &b, false));
	assert_false(eg_ip_equal(&a, &b));

	len = eg_ip_to_sockaddr(&a, 8080, &ss);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	assert_true(eg_ip_from_sockaddr((struct sockaddr *)&ss, &b, &port));
	assert_true(eg_ip_equal(&a, &b));
	assert_int_equal(port, 8080);
	assert_int_equal(((struct sockaddr_in6 *)&ss)->sin6_scope_id, 1);

	assert_true(eg_sockaddr_parse("127.0.0.1:3128", &ss, &len, err));
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 3128);
	assert_true(eg_sockaddr_parse("[::1]:53", &ss, &len, err));
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_true(eg_sockaddr_parse("[fe80::1%1]:53", &ss, &len, err));

	assert_false(eg_sockaddr_parse("::1:53", &ss, &len, err));
	assert_non_null(strstr(err, "brackets"));
	assert_false(eg_sockaddr_parse("localhost:53", &ss, &len, err));
	assert_non_null(strstr(err, "\"localhost\""));
	assert_false(eg_sockaddr_parse("127.0.0.1", &ss, &len, err));
	assert_false(eg_sockaddr_parse("127.0.0.1:", &ss, &len, err));
	assert_false(eg_sockaddr_parse("127.0.0.1:0", &ss, &len, err));
	assert_false(eg_sockaddr_parse("127.0.0.1:65536", &ss, &len, err));
	assert_false(eg_sockaddr_parse("127.1:80", &ss, &len, err));
	assert_false(eg_sockaddr_parse("[127.0.0.1]:80", &ss, &len, err));
	assert_false(eg_sockaddr_parse("[::1:80", &ss, &len, err));
	assert_false(eg_sockaddr_parse("[::1]80", &ss, &len, err));
	assert_false(eg_sockaddr_parse(":80", &ss, &len, err));

	ss.ss_family = AF_UNIX;
	assert_false(eg_ip_from_sockaddr((struct sockaddr *)&ss, &a, &port));
}

static void
test_addr_port(void **state)
{
	uint16_t p = 7;

	(void)state;
	assert_true(eg_port_parse("1", &p));
	assert_int_equal(p, 1);
	assert_true(eg_port_parse("65535", &p));
	assert_int_equal(p, 65535);
	assert_true(eg_port_parse("443", &p));
	assert_int_equal(p, 443);
	p = 7;
	assert_false(eg_port_parse("0", &p));
	assert_false(eg_port_parse("65536", &p));
	assert_false(eg_port_parse("99999999999999999999", &p));
	assert_false(eg_port_parse("", &p));
	assert_false(eg_port_parse("0443", &p));
	assert_false(eg_port_parse("+443", &p));
	assert_false(eg_port_parse("-1", &p));
	assert_false(eg_port_parse("443 ", &p));
	assert_false(eg_port_parse("0x50", &p));
	assert_false(eg_port_parse("http", &p));
	assert_false(eg_port_parse(NULL, &p));
	assert_int_equal(p, 7);
}

static void
test_addr_endpoint(void **state)
{
	struct eg_endpoint ep;
	char err[EG_ERR_MAX], buf[80];

	(void)state;
	assert_true(eg_endpoint_parse("10.0.1.215:5432", &ep, err));
	assert_false(ep.is_name);
	assert_false(ep.is_cidr);
	assert_int_equal(ep.port, 5432);
	assert_int_equal(ep.cidr.plen, 32);
	assert_string_equal(eg_ip_str(&ep.cidr.ip, buf, sizeof(buf)),
	    "10.0.1.215");

	assert_true(eg_endpoint_parse("Cache.Internal.:6379", &ep, err));
	assert_true(ep.is_name);
	assert_string_equal(ep.name, "cache.internal");
	assert_int_equal(ep.port, 6379);

	assert_true(eg_endpoint_parse("10.0.2.0/24:443", &ep, err));
	assert_true(ep.is_cidr);
	assert_int_equal(ep.cidr.plen, 24);

	assert_true(eg_endpoint_parse("[2001:db8::5]:5432", &ep, err));
	assert_false(ep.is_cidr);
	assert_int_equal(ep.cidr.ip.family, AF_INET6);
	assert_int_equal(ep.cidr.plen, 128);

	assert_true(eg_endpoint_parse("[2001:db8::/64]:80", &ep, err));
	assert_true(ep.is_cidr);
	assert_int_equal(ep.cidr.plen, 64);

	assert_false(eg_endpoint_parse("10.0.1.215", &ep, err));
	assert_non_null(strstr(err, "port"));
	assert_false(eg_endpoint_parse("10.0.2.1/24:443", &ep, err));
	assert_non_null(strstr(err, "host bits"));
	assert_false(eg_endpoint_parse("2001:db8::5:5432", &ep, err));
	assert_false(eg_endpoint_parse("bad_name!:80", &ep, err));
	assert_non_null(strstr(err, "bad_name!"));
	assert_false(eg_endpoint_parse("127.1:80", &ep, err));
	assert_non_null(strstr(err, "ambiguous"));
	assert_false(eg_endpoint_parse("2130706433:80", &ep, err));
	assert_false(eg_endpoint_parse("host:http", &ep, err));
	assert_false(eg_endpoint_parse("", &ep, err));
	assert_false(eg_endpoint_parse(":", &ep, err));
	assert_false(eg_endpoint_parse("[x]:80", &ep, err));
	assert_false(eg_endpoint_parse("h\xc3\xa9.example:80", &ep, err));
	/* the message never quotes raw non-ASCII bytes */
	assert_null(strchr(err, '\xc3'));
}

static void
test_addr_name_normalise(void **state)
{
	char out[EG_NAME_MAX + 1], err[EG_ERR_MAX], big[400];
	size_t i;

	(void)state;
	assert_true(eg_name_normalise("Example.COM.", out, err));
	assert_string_equal(out, "example.com");
	assert_true(eg_name_normalise("_sip._tcp.example.com", out, err));
	assert_string_equal(out, "_sip._tcp.example.com");
	assert_true(eg_name_normalise("xn--bcher-kva.example", out, err));
	assert_true(eg_name_normalise("a", out, err));

	assert_false(eg_name_normalise("", out, err));
	assert_false(eg_name_normalise(".", out, err));
	assert_false(eg_name_normalise("example.com..", out, err));
	assert_false(eg_name_normalise(".example.com", out, err));
	assert_false(eg_name_normalise("a..b", out, err));
	assert_false(eg_name_normalise("-a.b", out, err));
	assert_false(eg_name_normalise("a-.b", out, err));
	assert_false(eg_name_normalise("a.b-", out, err));
	assert_false(eg_name_normalise("*.example.com", out, err));
	assert_false(eg_name_normalise("exa mple.com", out, err));
	assert_false(eg_name_normalise("b\xc3\xbc" "cher.de", out, err));
	assert_false(eg_name_normalise("a/b", out, err));
	assert_non_null(strstr(err, "\"a/b\""));

	/* 63-byte label fine, 64 not */
	memset(big, 'a', 63);
	strcpy(big + 63, ".com");
	assert_true(eg_name_normalise(big, out, err));
	memset(big, 'a', 64);
	strcpy(big + 64, ".com");
	assert_false(eg_name_normalise(big, out, err));
	assert_non_null(strstr(err, "label"));
	/* quoted input is cut at 64 bytes */
	assert_true(strlen(err) < 200);

	/* 253 bytes fine (plus a trailing dot), 254 not */
	for (i = 0; i < 253; i++)
		big[i] = (i % 2) ? '.' : 'a';
	big[252] = 'a';
	big[253] = '\0';
	assert_true(eg_name_normalise(big, out, err));
	assert_int_equal(strlen(out), 253);
	big[253] = '.';
	big[254] = '\0';
	assert_true(eg_name_normalise(big, out, err));
	big[253] = 'b';
	assert_false(eg_name_normalise(big, out, err));
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_false(eg_name_normalise(big, out, err));
}

static void
test_addr_duration(void **state)
{
	uint64_t ms = 42;
	char err[EG_ERR_MAX];

	(void)state;
	assert_true(eg_duration_parse("250ms", &ms, err));
	assert_int_equal(ms, 250);
	assert_true(eg_duration_parse("10s", &ms, err));
	assert_int_equal(ms, 10000);
	assert_true(eg_duration_parse("5m", &ms, err));
	assert_int_equal(ms, 300000);
	assert_true(eg_duration_parse("2h", &ms, err));
	assert_int_equal(ms, 7200000);
	assert_true(eg_duration_parse("30", &ms, err));
	assert_int_equal(ms, 30000);
	assert_true(eg_duration_parse("0s", &ms, err));
	assert_int_equal(ms, 0);
	assert_true(eg_duration_parse("8784h", &ms, err));

	ms = 42;
	assert_false(eg_duration_parse("", &ms, err));
	assert_false(eg_duration_parse("s", &ms, err));
	assert_false(eg_duration_parse("10x", &ms, err));
	assert_non_null(strstr(err, "\"10x\""));
	assert_false(eg_duration_parse("10 s", &ms, err));
	assert_false(eg_duration_parse("1.5s", &ms, err));
	assert_false(eg_duration_parse("-1s", &ms, err));
	assert_false(eg_duration_parse("10S", &ms, err));
	assert_false(eg_duration_parse("1m30s", &ms, err));
	assert_false(eg_duration_parse("10sec", &ms, err));
	assert_false(eg_duration_parse("8785h", &ms, err));
	assert_false(eg_duration_parse("99999999999999999999999h", &ms, err));
	assert_false(eg_duration_parse("18446744073709551615ms", &ms, err));
	assert_false(eg_duration_parse("10s\xff", &ms, err));
	assert_int_equal(ms, 42);
}

static void
test_addr_size(void **state)
{
	uint64_t b = 42;
	char err[EG_ERR_MAX];

	(void)state;
	assert_true(eg_size_parse("512", &b, err));
	assert_int_equal(b, 512);
	assert_true(eg_size_parse("16k", &b, err));
	assert_int_equal(b, 16384);
	assert_true(eg_size_parse("16K", &b, err));
	assert_int_equal(b, 16384);
	assert_true(eg_size_parse("4M", &b, err));
	assert_int_equal(b, 4u << 20);
	assert_true(eg_size_parse("1G", &b, err));
	assert_int_equal(b, 1u << 30);

	b = 42;
	assert_false(eg_size_parse("", &b, err));
	assert_false(eg_size_parse("k", &b, err));
	assert_false(eg_size_parse("4m", &b, err));	/* milli? mega? */
	assert_false(eg_size_parse("1T", &b, err));
	assert_false(eg_size_parse("4 M", &b, err));
	assert_false(eg_size_parse("4MB", &b, err));
	assert_false(eg_size_parse("-4", &b, err));
	assert_false(eg_size_parse("9999999999G", &b, err));
	assert_non_null(strstr(err, "too large"));
	assert_false(eg_size_parse("99999999999999999999999", &b, err));
	assert_int_equal(b, 42);
}

static void
test_addr_bool(void **state)
{
	bool b = false;

	(void)state;
	assert_true(eg_bool_parse("yes", &b));
	assert_true(b);
	assert_true(eg_bool_parse("No", &b));
	assert_false(b);
	assert_true(eg_bool_parse("TRUE", &b));
	assert_true(b);
	assert_true(eg_bool_parse("off", &b));
	assert_false(b);
	assert_true(eg_bool_parse("1", &b));
	assert_true(b);
	assert_true(eg_bool_parse("0", &b));
	assert_false(b);
	assert_false(eg_bool_parse("", &b));
	assert_false(eg_bool_parse("y", &b));
	assert_false(eg_bool_parse("yes ", &b));
	assert_false(eg_bool_parse("2", &b));
	assert_false(eg_bool_parse(NULL, &b));
}

int
main(void)
{
	const struct CMUnitTest tests[] = TEST_LIST(ADDR_TESTS);

	return cmocka_run_group_tests(tests, NULL, NULL);
}
