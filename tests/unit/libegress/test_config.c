/*
 * test_config.c - the config loader: the shipped example, every kind of
 * malformed input, allow files, and that all errors are reported.
 */
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ask.h"
#include "config.h"

#include "test_list.h"

#ifndef EG_TEST_SRCDIR
#define EG_TEST_SRCDIR "."
#endif
#define EXAMPLE EG_TEST_SRCDIR "/../../../packaging/egressjail.conf.example"

/* A minimal valid config without [chain], [policy], [connectd]. */
#define BASE \
	"[jail]\n" \
	"interface = br0\n" \
	"[dohd]\n" \
	"upstream = https://dns.example/dns-query 192.0.2.53\n"
#define CHAIN "[chain]\nhop = http://10.20.0.2:3128\n"

static struct eg_config *
load(const char *text, struct eg_config_errors *e)
{
	return eg_config_load_buf("t.conf", text, strlen(text),
	    EG_CONFIG_NO_USERS, e);
}

static void
dump(const struct eg_config_errors *e)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		print_message("  error: %s\n", e->msgs[i]);
}

static bool
has_msg(const struct eg_config_errors *e, const char *want)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		if (strstr(e->msgs[i], want) != NULL)
			return true;
	return false;
}

/* The text fails to load, and one message contains every given string. */
static void
expect_error_len(const char *text, size_t len, const char *want)
{
	struct eg_config_errors e;
	struct eg_config *c;

	c = eg_config_load_buf("t.conf", text, len, EG_CONFIG_NO_USERS, &e);
	if (c != NULL) {
		eg_config_free(c);
		fail_msg("loaded, expected an error containing '%s'", want);
	}
	if (!has_msg(&e, want)) {
		dump(&e);
		eg_config_errors_free(&e);
		fail_msg("no error containing '%s'", want);
	}
	eg_config_errors_free(&e);
}

static void
expect_error(const char *text, const char *want)
{
	expect_error_len(text, strlen(text), want);
}

static struct eg_config *
expect_ok(const char *text)
{
	struct eg_config_errors e;
	struct eg_config *c = load(text, &e);

	if (c == NULL) {
		dump(&e);
		eg_config_errors_free(&e);
		fail_msg("did not load");
	}
	assert_int_equal(e.n, 0);
	return c;
}

/* The 1-based line of path that is exactly text (with its newline). */
static int
line_of(const char *path, const char *text)
{
	char buf[512];
	FILE *f = fopen(path, "r");
	int n = 0, found = 0;

	assert_non_null(f);
	while (fgets(buf, sizeof(buf), f) != NULL) {
		n++;
		if (strcmp(buf, text) == 0) {
			found = n;
			break;
		}
	}
	fclose(f);
	return found;
}

static void
test_config_example(void **state)
{
	struct eg_config_errors e;
	struct eg_config *c;
	char buf[80];

	(void)state;
	c = eg_config_load(EXAMPLE, EG_CONFIG_NO_USERS, &e);
	if (c == NULL) {
		dump(&e);
		eg_config_errors_free(&e);
		fail_msg("the example config did not load");
	}
	assert_int_equal(c->jail.ninterfaces, 1);
	assert_string_equal(c->jail.interfaces[0], "docker0");
	assert_int_equal(c->jail.nusers, 0);
	assert_int_equal(c->jail.ndirect, 1);
	assert_int_equal(c->jail.direct[0].ep.port, 5432);
	assert_false(c->jail.direct[0].ep.is_name);
	assert_string_equal(eg_ip_str(&c->jail.direct[0].ep.cidr.ip, buf,
	    sizeof(buf)), "10.0.1.215");
	assert_int_equal(c->jail.ipv6, EG_IPV6_JAIL);
	assert_int_equal(c->jail.inbound, EG_INBOUND_PUBLISHED);
	assert_string_equal(c->jail.runtime_dir, "/run/egressjail");
	assert_string_equal(c->jail.group, "egressjail");
	assert_int_equal(c->jail.fwmark, 1);
	assert_int_equal(c->jail.listener_mark, 0x1000);
	assert_int_equal(c->jail.route_table, 100);
	assert_string_equal(c->jail.log_level, "info");

	assert_int_equal(c->chain.nhops, 1);
	assert_false(c->chain.hops[0].tls);
	assert_true(c->chain.hops[0].host_is_ip);
	assert_string_equal(c->chain.hops[0].host, "10.20.0.2");
	assert_int_equal(c->chain.hops[0].port, 3128);
	assert_null(c->chain.hops[0].user);
	assert_false(c->chain.has_canary);
	assert_string_equal(c->chain.ca_file, EG_DEFAULT_CA_FILE);
	assert_int_equal(c->chain.probe_interval_ms, 10000);
	assert_int_equal(c->chain.probe_timeout_ms, 5000);
	assert_int_equal(c->chain.connect_timeout_ms, 5000);
	assert_true(c->chain.require_all_hops_healthy);
	assert_int_equal(c->chain.max_hop_status_age_ms, 30000);
	assert_false(c->chain.block_start_until_hops_healthy);
	assert_int_equal(c->chain.exit, EG_EXIT_HOP);
	assert_int_equal(c->chain.half_close_delay_ms, 5000);
	assert_true(c->chain.resolve_check);

	assert_string_equal(c->connectd.user.name, "egress-connect");
	/* Found, not counted: the example grows above it often. */
	assert_int_equal(c->connectd.user.at.line,
	    line_of(EXAMPLE, "user = egress-connect\n"));
	assert_int_equal(c->connectd.nproxy_listen, 1);
	assert_string_equal(c->connectd.proxy_listen[0], "127.0.0.1:3128");
	assert_string_equal(c->connectd.transparent_listen,
	    "127.0.0.1:15001");
	assert_string_equal(c->connectd.health_listen, "127.0.0.1:9191");
	assert_int_equal(c->connectd.max_connections, 4096);
	assert_int_equal(c->connectd.idle_timeout_ms, 300000);
	assert_int_equal(c->connectd.head_timeout_ms, 5000);
	assert_int_equal(c->connectd.max_head_bytes, 16384);
	assert_int_equal(c->connectd.drain_timeout_ms, 10000);
	assert_true(c->connectd.tunnel_check);
	assert_true(c->connectd.access_log);

	assert_string_equal(c->dohd.user.name, "egress-dns");
	assert_int_equal(c->dohd.nlisten, 1);
	assert_string_equal(c->dohd.listen[0], "127.0.0.1:15353");
	assert_int_equal(c->dohd.nupstreams, 1);
	assert_string_equal(c->dohd.upstreams[0].host, "cloudflare-dns.com");
	assert_int_equal(c->dohd.upstreams[0].port, 443);
	assert_string_equal(c->dohd.upstreams[0].path, "/dns-query");
	assert_int_equal(c->dohd.upstreams[0].nbootstrap, 2);
	assert_string_equal(eg_ip_str(&c->dohd.upstreams[0].bootstrap[1],
	    buf, sizeof(buf)), "1.0.0.1");
	assert_null(c->dohd.spki_pin);
	assert_null(c->dohd.hosts_file);
	assert_null(c->dohd.zone_file);
	assert_int_equal(c->dohd.nsearch, 0);
	assert_int_equal(c->dohd.deny_rcode, EG_DENY_NXDOMAIN);
	assert_int_equal(c->dohd.max_name_length, 253);
	assert_int_equal(c->dohd.max_labels, 10);
	assert_int_equal(c->dohd.cache_size, 10000);
	assert_int_equal(c->dohd.max_ttl, 3600);
	assert_int_equal(c->dohd.negative_ttl, 60);
	assert_int_equal(c->dohd.stale_ttl, 300);
	assert_int_equal(c->dohd.rate_limit, 200);
	assert_int_equal(c->dohd.query_timeout_ms, 3000);
	assert_int_equal(c->dohd.ping_interval_ms, 10000);
	assert_int_equal(c->dohd.max_connection_age_ms, 300000);
	assert_int_equal(c->dohd.feed_timeout_ms, 100);

	assert_string_equal(c->netjaild.user.name, "egressjail");

	assert_int_equal(c->policy.mode, EG_MODE_ENFORCE);
	/* two allow lines plus the six rules of allow.d/example.allow */
	assert_int_equal(c->policy.nrules, 8);
	assert_string_equal(c->policy.rules[0].text, "api.example.com");
	assert_string_equal(c->policy.rules[2].text, "github.com");
	assert_non_null(strstr(c->policy.rules[2].at.file, "example.allow"));
	assert_int_equal(c->policy.rules[2].at.line, 10);
	assert_int_equal(c->policy.npermit, 1);
	assert_int_equal(c->policy.permit[0].plen, 24);
	eg_config_free(c);
}

static void
test_config_defaults(void **state)
{
	struct eg_config *c;

	(void)state;
	c = expect_ok(BASE CHAIN);
	assert_string_equal(c->connectd.user.name, "egress-connect");
	assert_int_equal(c->connectd.user.at.line, 0);
	assert_string_equal(c->dohd.user.name, "egress-dns");
	assert_string_equal(c->netjaild.user.name, "egressjail");
	assert_string_equal(c->connectd.proxy_listen[0], "127.0.0.1:3128");
	assert_string_equal(c->dohd.listen[0], "127.0.0.1:15353");
	assert_null(c->connectd.transparent_listen);
	assert_null(c->connectd.health_listen);
	assert_string_equal(c->dohd.ca_file, EG_DEFAULT_CA_FILE);
	assert_int_equal(c->policy.nrules, 0);
	assert_int_equal(c->chain.exit, EG_EXIT_HOP);
	assert_int_equal(c->jail.ipv6, EG_IPV6_JAIL);
	eg_config_free(c);
}

static void
test_config_syntax(void **state)
{
	struct eg_config *c;

	(void)state;
	/* comments everywhere, CRLF, no final newline, spacing */
	c = expect_ok("# top\r\n; also\r\n  [ jail ]  ; trailing\r\n"
	    "interface=br0 # why\r\n\t\r\n[dohd]\r\nupstream = "
	    "https://dns.example/q 192.0.2.1 ; boot\r\n" CHAIN
	    "probe_interval = 2s");
	assert_string_equal(c->jail.interfaces[0], "br0");
	assert_string_equal(c->dohd.upstreams[0].path, "/q");
	assert_int_equal(c->chain.probe_interval_ms, 2000);
	eg_config_free(c);

	/* '#' inside a value with no space before it is not a comment */
	c = expect_ok(BASE CHAIN "ca_file = /etc/a#b;c\n");
	assert_string_equal(c->chain.ca_file, "/etc/a#b;c");
	eg_config_free(c);

	expect_error(BASE CHAIN "[policy\n", "t.conf:7: \"[policy\": "
	    "missing ']'");
	expect_error(BASE CHAIN "[policy] x\n", "text after the section");
	expect_error(BASE CHAIN "[proxy]\nfoo = 1\n",
	    "t.conf:7: \"[proxy]\": unknown section");
	expect_error(BASE CHAIN "[jail]\n",
	    "t.conf:7: \"[jail]\": section repeated (first at line 1)");
	expect_error("interface = br0\n" BASE CHAIN,
	    "t.conf:1: \"interface\": key before any [section]");
	expect_error(BASE CHAIN "probe_interval\n",
	    "t.conf:7: \"probe_interval\": expected \"key = value\"");
	/* a line cut short after the '=' */
	expect_error(BASE CHAIN "probe_interval =", "t.conf:7: [chain] "
	    "probe_interval: \"\": missing value");
	expect_error(BASE CHAIN " = 5s\n", "missing key name");
	expect_error(BASE CHAIN "probe_intervall = 5s\n",
	    "t.conf:7: [chain] probe_intervall: \"5s\": unknown key");
	expect_error(BASE CHAIN "user = x\n", "[chain] user: \"x\": "
	    "unknown key");
	expect_error(BASE CHAIN "Hop = http://x\n", "unknown key");
	expect_error(BASE CHAIN "probe_interval = 5s\nprobe_interval = 6s\n",
	    "t.conf:8: [chain] probe_interval: \"6s\": repeated key (first "
	    "at line 7)");
}

static void
test_config_bytes(void **state)
{
	static const char nul[] = BASE CHAIN "ca_file = /a\0b\n";
	char *big;
	size_t n;

	(void)state;
	expect_error_len(nul, sizeof(nul) - 1,
	    "t.conf:7: \"ca_file = /a\": embedded NUL byte at column 13");
	expect_error(BASE CHAIN "canary = caf\xc3\xa9.example:443\n",
	    "t.conf:7: \"canary = caf\\xc3\\xa9.example:443\": non-ASCII "
	    "byte 0xc3");
	expect_error(BASE CHAIN "ca_file = /a\x1b[31m\n", "control byte 0x1b");
	expect_error(BASE CHAIN "\xff\n", "non-ASCII byte 0xff at column 1");

	/* a line of 4097 bytes; 4096 is still fine */
	big = malloc(8192);
	assert_non_null(big);
	n = (size_t)snprintf(big, 8192, "%s; ", BASE CHAIN);
	memset(big + n, 'x', 4096 - 2);
	big[n + 4094] = '\n';
	big[n + 4095] = '\0';
	{
		struct eg_config *c = expect_ok(big);

		eg_config_free(c);
	}
	big[n + 4094] = 'x';
	big[n + 4095] = '\n';
	big[n + 4096] = '\0';
	expect_error(big, "t.conf:7: line longer than 4096 bytes");
	free(big);

	/* more than 1 MiB */
	big = malloc(1024 * 1024 + 2);
	assert_non_null(big);
	memset(big, '\n', 1024 * 1024 + 1);
	big[1024 * 1024 + 1] = '\0';
	expect_error(big, "larger than 1048576 bytes");
	free(big);
}

static void
test_config_values(void **state)
{
	struct eg_config *c;

	(void)state;
	expect_error(BASE CHAIN "probe_interval = 10x\n",
	    "t.conf:7: [chain] probe_interval: \"10x\": unknown duration "
	    "unit");
	expect_error(BASE CHAIN "probe_interval = 10\xc2\xb5s\n",
	    "non-ASCII");
	expect_error(BASE CHAIN "probe_interval = 1ms\n", "must be between");
	expect_error(BASE CHAIN "require_all_hops_healthy = maybe\n",
	    "expected yes or no");
	expect_error(BASE CHAIN "exit = nowhere\n", "expected hop or direct");
	expect_error(BASE CHAIN "probe_interval = 40s\n",
	    "max_hop_status_age: must be longer than probe_interval");
	expect_error(BASE CHAIN "ca_file = certs.pem\n",
	    "must be an absolute path");
	expect_error(BASE CHAIN "canary = exit.example.net\n", "port");
	expect_error(BASE CHAIN "[jail]\n", "repeated");
	expect_error(BASE CHAIN "[connectd]\nmax_connections = 0\n",
	    "must be between 1 and 1000000");
	expect_error(BASE CHAIN "[connectd]\nmax_connections = -1\n",
	    "expected a number");
	expect_error(BASE CHAIN "[connectd]\nmax_connections = "
	    "99999999999999999999\n", "expected a number");
	expect_error(BASE CHAIN "[connectd]\nmax_head_bytes = 2G\n",
	    "must be between 1024 and 1048576 bytes");
	expect_error(BASE CHAIN "[connectd]\nproxy_listen = localhost:3128\n",
	    "[connectd] proxy_listen: \"localhost:3128\"");
	expect_error(BASE CHAIN "[connectd]\nproxy_listen = 127.0.0.1\n",
	    "missing \":port\"");
	expect_error(BASE CHAIN "[connectd]\nhealth_listen = 127.0.0.1:3128\n",
	    "[connectd] health_listen: \"127.0.0.1:3128\": same address as "
	    "[connectd] proxy_listen");
	expect_error(BASE CHAIN "[connectd]\nuser = Bad User\n",
	    "not a valid user name");
	expect_error(BASE CHAIN "[policy]\nmode = audit\n",
	    "expected enforce, report, ask or learn");
	expect_error(BASE CHAIN "[policy]\npermit_cidr = 10.0.0.1/8\n",
	    "t.conf:8: [policy] permit_cidr: \"10.0.0.1/8\": host bits set");
	expect_error(BASE CHAIN "[policy]\npermit_cidr = 10.0.0.0/33\n",
	    "prefix length");
	expect_error(BASE CHAIN "[policy]\nallow = bad..name\n",
	    "t.conf:8: [policy] allow: \"bad..name\":");
	expect_error(BASE CHAIN "[dohd]\n", "repeated");
	expect_error("[jail]\ninterface = br0\nfwmark = 0\n[dohd]\nupstream"
	    " = https://d/q 192.0.2.1\n" CHAIN, "[jail] fwmark: \"0\"");
	expect_error("[jail]\ninterface = br0\nlistener_mark = 0\n[dohd]\n"
	    "upstream = https://d/q 192.0.2.1\n" CHAIN,
	    "[jail] listener_mark: \"0\"");
	expect_error("[jail]\ninterface = br0\nfwmark = 0x10\nlistener_mark "
	    "= 16\n[dohd]\nupstream = https://d/q 192.0.2.1\n" CHAIN,
	    "t.conf:4: [jail] listener_mark: must differ from fwmark");
	expect_error("[jail]\ninterface = br0\nroute_table = 254\n[dohd]\n"
	    "upstream = https://d/q 192.0.2.1\n" CHAIN, "kernel's default");
	expect_error("[jail]\ninterface = br0\nipv6 = allow\n[dohd]\n"
	    "upstream = https://d/q 192.0.2.1\n" CHAIN, "expected jail or "
	    "drop");
	expect_error("[jail]\ninterface = br0\ninterface = br0\n[dohd]\n"
	    "upstream = https://d/q 192.0.2.1\n" CHAIN, "interface listed "
	    "twice");
	expect_error("[jail]\ninterface = eth0/1\n[dohd]\n"
	    "upstream = https://d/q 192.0.2.1\n" CHAIN, "invalid character");
	expect_error("[jail]\ninterface = averyveryverylongifname\n[dohd]\n"
	    "upstream = https://d/q 192.0.2.1\n" CHAIN, "1-15 bytes");
	/* patterns: '*' last only, never everything or lo, no overlaps */
	expect_error("[jail]\ninterface = br*x\n[dohd]\n"
	    "upstream = https://d/q 192.0.2.1\n" CHAIN, "t.conf:2: [jail] "
	    "interface: \"br*x\": a pattern has its '*' at the end only");
	expect_error("[jail]\ninterface = **\n[dohd]\n"
	    "upstream = https://d/q 192.0.2.1\n" CHAIN, "at the end only");
	expect_error("[jail]\ninterface = *\n[dohd]\n"
	    "upstream = https://d/q 192.0.2.1\n" CHAIN, "every interface");
	expect_error("[jail]\ninterface = l*\n[dohd]\n"
	    "upstream = https://d/q 192.0.2.1\n" CHAIN, "the loopback");
	expect_error("[jail]\ninterface = lo\n[dohd]\n"
	    "upstream = https://d/q 192.0.2.1\n" CHAIN, "the loopback");
	expect_error("[jail]\ninterface = br-*\ninterface = br-1a2b\n"
	    "[dohd]\nupstream = https://d/q 192.0.2.1\n" CHAIN, "t.conf:3: "
	    "[jail] interface: \"br-1a2b\": overlaps \"br-*\"");
	expect_error("[jail]\ninterface = br-1a2b\ninterface = br-*\n"
	    "[dohd]\nupstream = https://d/q 192.0.2.1\n" CHAIN, "overlaps "
	    "\"br-1a2b\"");
	expect_error("[jail]\ninterface = br-*\ninterface = br*\n"
	    "[dohd]\nupstream = https://d/q 192.0.2.1\n" CHAIN, "overlaps");
	expect_error("[jail]\ninterface = averyveryverylon*\n[dohd]\n"
	    "upstream = https://d/q 192.0.2.1\n" CHAIN, "1-15 bytes");
	c = expect_ok("[jail]\ninterface = docker0\ninterface = br-*\n"
	    "interface = veth*\ninterface = lxcbr0\n[dohd]\n"
	    "upstream = https://d/q 192.0.2.1\n" CHAIN);
	assert_int_equal(c->jail.ninterfaces, 4);
	assert_string_equal(c->jail.interfaces[1], "br-*");
	assert_true(eg_ifname_is_pattern(c->jail.interfaces[1]));
	assert_false(eg_ifname_is_pattern(c->jail.interfaces[0]));
	assert_true(eg_ifname_match("br-*", "br-1a2b3c4d5e6f"));
	assert_true(eg_ifname_match("br-*", "br-"));
	assert_false(eg_ifname_match("br-*", "br0"));
	assert_false(eg_ifname_match("br-*", "xbr-1"));
	assert_true(eg_ifname_match("docker0", "docker0"));
	assert_false(eg_ifname_match("docker0", "docker01"));
	assert_false(eg_ifname_match("docker0", "docker"));
	eg_config_free(c);
	expect_error("[jail]\ninterface = br0\ndirect = db:5432\n"
	    "direct = DB.:5432\n[dohd]\nupstream = https://d/q 192.0.2.1\n"
	    CHAIN, "t.conf:4: [jail] direct: \"db:5432\": endpoint repeated "
	    "(also at line 3)");
	expect_error("[jail]\ninterface = br0\ndirect = 10.0.0.1/8:5432\n"
	    "[dohd]\nupstream = https://d/q 192.0.2.1\n" CHAIN, "host bits");
	expect_error("[jail]\ninterface = br0\nlog_level = chatty\n[dohd]\n"
	    "upstream = https://d/q 192.0.2.1\n" CHAIN, "expected debug");

	c = expect_ok("[jail]\ninterface = br0\nfwmark = 0x10\nroute_table = "
	    "4242\nipv6 = drop\ndirect = db.internal:5432\ndirect = "
	    "[2001:db8::/64]:443\nlog_level = debug\n[dohd]\nupstream = "
	    "https://d/q 192.0.2.1\ndeny_rcode = refused\nsearch = Corp.Test."
	    "\nspki_pin = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
	    "feed_timeout = 250ms\nlisten = 127.0.0.1:53\nlisten = [::1]:53\n"
	    "[chain]\nexit = direct\ncanary = exit.example.net:443\n"
	    "[policy]\nmode = report\npermit_cidr = 10.20.30.0/24\n"
	    "permit_cidr = fd00::/8\nallow = a.example:80,443\n");
	assert_int_equal(c->jail.fwmark, 16);
	assert_int_equal(c->jail.listener_mark, 0x1000);
	assert_int_equal(c->jail.route_table, 4242);
	assert_int_equal(c->jail.ipv6, EG_IPV6_DROP);
	assert_int_equal(c->jail.ndirect, 2);
	assert_true(c->jail.direct[0].ep.is_name);
	assert_string_equal(c->jail.direct[0].ep.name, "db.internal");
	assert_int_equal(c->jail.direct[0].at.line, 6);
	assert_true(c->jail.direct[1].ep.is_cidr);
	assert_string_equal(c->jail.log_level, "debug");
	assert_int_equal(c->dohd.deny_rcode, EG_DENY_REFUSED);
	assert_int_equal(c->dohd.nsearch, 1);
	assert_string_equal(c->dohd.search[0], "corp.test");
	assert_non_null(c->dohd.spki_pin);
	assert_int_equal(c->dohd.feed_timeout_ms, 250);
	assert_int_equal(c->dohd.nlisten, 2);
	assert_int_equal(c->chain.nhops, 0);
	assert_int_equal(c->chain.exit, EG_EXIT_DIRECT);
	assert_true(c->chain.has_canary);
	assert_int_equal(c->chain.canary.port, 443);
	assert_int_equal(c->policy.mode, EG_MODE_REPORT);
	assert_int_equal(c->policy.npermit, 2);
	assert_int_equal(c->policy.permit_at[1].line, 23);
	assert_int_equal(c->policy.nrules, 1);
	assert_int_equal(c->policy.rules[0].at.line, 24);
	eg_config_free(c);
	c = expect_ok("[jail]\ninterface = br0\nlistener_mark = 0x20\n[dohd]\n"
	    "upstream = https://d/q 192.0.2.1\n" CHAIN);
	assert_int_equal(c->jail.listener_mark, 0x20);
	eg_config_free(c);

	expect_error(BASE CHAIN "spki_pin = AAAA\n", "[chain] spki_pin");
	expect_error(BASE CHAIN "[dohd]\n", "section repeated");
}

static void
test_config_hops(void **state)
{
	struct eg_config *c;
	const struct eg_hop *h;

	(void)state;
	c = expect_ok(BASE "[chain]\nhop = http://10.20.0.2\n"
	    "hop = https://us%40er:p%3Ass%25w@Proxy-B.Example.NET:8443/\n"
	    "hop = http://[2001:db8::2]:3129\nhop = HTTPS://proxy-c.example\n");
	assert_int_equal(c->chain.nhops, 4);
	h = &c->chain.hops[0];
	assert_false(h->tls);
	assert_int_equal(h->port, 3128);
	assert_string_equal(h->url_redacted, "http://10.20.0.2:3128");
	h = &c->chain.hops[1];
	assert_true(h->tls);
	assert_false(h->host_is_ip);
	assert_string_equal(h->host, "proxy-b.example.net");
	assert_int_equal(h->port, 8443);
	assert_string_equal(h->user, "us@er");
	assert_string_equal(h->password, "p:ss%w");
	assert_null(strstr(h->url_redacted, "p%3A"));
	assert_string_equal(h->url_redacted,
	    "https://us%40er:***@proxy-b.example.net:8443");
	assert_int_equal(h->at.line, 7);
	h = &c->chain.hops[2];
	assert_true(h->host_is_ip);
	assert_int_equal(h->ip.family, AF_INET6);
	assert_int_equal(h->port, 3129);
	assert_string_equal(h->url_redacted, "http://[2001:db8::2]:3129");
	h = &c->chain.hops[3];
	assert_true(h->tls);
	assert_int_equal(h->port, 443);
	assert_null(h->password);
	eg_config_free(c);

	expect_error(BASE "[chain]\nhop = htp://x:3128\n", "t.conf:6: [chain] "
	    "hop: \"htp://x:3128\": scheme must be http or https");
	expect_error(BASE "[chain]\nhop = 10.20.0.2:3128\n", "scheme");
	expect_error(BASE "[chain]\nhop = http://\n", "missing host");
	expect_error(BASE "[chain]\nhop = http://x:0\n", "port");
	expect_error(BASE "[chain]\nhop = http://x:99999\n", "port");
	expect_error(BASE "[chain]\nhop = http://x:3128/path\n", "no path");
	expect_error(BASE "[chain]\nhop = http://x:3128?q\n", "no path");
	expect_error(BASE "[chain]\nhop = http://2001:db8::2:3128\n",
	    "brackets");
	expect_error(BASE "[chain]\nhop = http://a@b@x:3128\n", "%40");
	/* '#' starts a fragment: a password holding one must say %23, and
	 * the message shows no piece of it */
	expect_error(BASE "[chain]\nhop = http://u:pa#ss@10.20.0.2\n",
	    "[chain] hop: \"http://u:***@10.20.0.2\": '/', '?' or '#' in "
	    "user or password must be written %2F, %3F or %23");
	expect_error(BASE "[chain]\nhop = http://:pw@x:3128\n",
	    "empty user name");
	expect_error(BASE "[chain]\nhop = http://u:p%4@x:3128\n",
	    "bad percent-encoding");
	expect_error(BASE "[chain]\nhop = http://u:p%zz@x:3128\n",
	    "bad percent-encoding");
	expect_error(BASE "[chain]\nhop = http://u:p%00@x:3128\n",
	    "control character");
	expect_error(BASE "[chain]\nhop = http://u:p%0d%0a@x:3128\n",
	    "control character");
	expect_error(BASE "[chain]\nhop = http://bad_host!:3128\n",
	    "invalid character");
	expect_error(BASE "[chain]\nhop = http://10.1:3128\n", "ambiguous");
	expect_error(BASE "[chain]\nhop = http://x:3128\nhop = http://X.:3128"
	    "\n", "the same proxy twice in the chain (first at line 6)");
	/* an empty chain, with and without a [chain] section */
	expect_error(BASE "[chain]\nprobe_interval = 5s\n",
	    "t.conf:5: [chain] hop: empty chain");
	expect_error(BASE, "t.conf: [chain] hop: empty chain");
	/* a chain whose only hop is bad is not reported as empty too */
	{
		struct eg_config_errors e;

		assert_null(load(BASE "[chain]\nhop = ftp://x\n", &e));
		assert_int_equal(e.n, 1);
		eg_config_errors_free(&e);
	}
}

static void
test_config_upstreams(void **state)
{
	struct eg_config *c;
	char buf[80];

	(void)state;
	c = expect_ok("[jail]\ninterface = br0\n" CHAIN "[dohd]\n"
	    "upstream = https://dns.example:8443/custom 192.0.2.1 "
	    "2001:db8::53\tfd00::1\nupstream = https://[2001:db8::1] 2001:db8::1\n");
	assert_int_equal(c->dohd.nupstreams, 2);
	assert_int_equal(c->dohd.upstreams[0].port, 8443);
	assert_string_equal(c->dohd.upstreams[0].path, "/custom");
	assert_int_equal(c->dohd.upstreams[0].nbootstrap, 3);
	assert_string_equal(eg_ip_str(&c->dohd.upstreams[0].bootstrap[2], buf,
	    sizeof(buf)), "fd00::1");
	assert_string_equal(c->dohd.upstreams[0].url,
	    "https://dns.example:8443/custom");
	assert_string_equal(c->dohd.upstreams[1].path, "/dns-query");
	assert_string_equal(c->dohd.upstreams[1].url,
	    "https://[2001:db8::1]:443/dns-query");
	eg_config_free(c);

	expect_error("[jail]\ninterface = br0\n" CHAIN, "t.conf: [dohd] "
	    "upstream: at least one DoH upstream is required");
	expect_error("[jail]\ninterface = br0\n" CHAIN "[dohd]\nupstream = "
	    "https://dns.example/dns-query\n", "at least one bootstrap");
	expect_error("[jail]\ninterface = br0\n" CHAIN "[dohd]\nupstream = "
	    "http://dns.example/dns-query 192.0.2.1\n", "https only");
	expect_error("[jail]\ninterface = br0\n" CHAIN "[dohd]\nupstream = "
	    "https://u:p@dns.example/ 192.0.2.1\n", "no user");
	expect_error("[jail]\ninterface = br0\n" CHAIN "[dohd]\nupstream = "
	    "https://dns.example/q?dns=x 192.0.2.1\n", "not a query");
	expect_error("[jail]\ninterface = br0\n" CHAIN "[dohd]\nupstream = "
	    "https://dns.example/ dns.google\n", "\"dns.google\"");
	expect_error("[jail]\ninterface = br0\n" CHAIN "[dohd]\nupstream = "
	    "https://dns.example/ 1.1\n", "ambiguous");
	expect_error("[jail]\ninterface = br0\n" CHAIN "[dohd]\nupstream = "
	    "https://dns.example/ 192.0.2.0/24\n", "not a CIDR");
	expect_error("[jail]\ninterface = br0\n" CHAIN "[dohd]\nupstream = "
	    "https://dns.example/ 1.1.1.1 1.1.1.2 1.1.1.3 1.1.1.4 1.1.1.5 "
	    "1.1.1.6 1.1.1.7 1.1.1.8 1.1.1.9 1.1.1.10 1.1.1.11 1.1.1.12 "
	    "1.1.1.13 1.1.1.14 1.1.1.15 1.1.1.16 1.1.1.17\n",
	    "more than 16 bootstrap");
	expect_error("[chain]\nhop = http://x\n[dohd]\nupstream = "
	    "https://d/ 192.0.2.1\n", "t.conf: [jail] interface: nothing "
	    "is jailed");
}

static void
test_config_huge_lists(void **state)
{
	char *buf, *p;
	size_t i, cap = 600000;
	struct eg_config_errors e;

	(void)state;
	buf = malloc(cap);
	if (buf == NULL) {
		fail_msg("out of memory");
		return;
	}
	/* a repeated [jail] is an error too, so start a fresh config */
	p = buf + sprintf(buf, "[jail]\ninterface = br0\n");
	for (i = 0; i <= 10000; i++)
		p += sprintf(p, "direct = 10.0.%zu.%zu:%zu\n", i / 250,
		    i % 250, 1 + i % 60000);
	p += sprintf(p, "%s", "[dohd]\nupstream = https://d/ 192.0.2.1\n"
	    CHAIN);
	assert_true((size_t)(p - buf) < cap);
	assert_null(load(buf, &e));
	assert_int_equal(e.n, 1);
	assert_non_null(strstr(e.msgs[0], "t.conf:10003: [jail] direct: "));
	assert_non_null(strstr(e.msgs[0], "more than 10000 direct entries"));
	eg_config_errors_free(&e);

	/* many errors are cut off with one final line, not unbounded */
	p = buf + sprintf(buf, "%s", BASE CHAIN);
	for (i = 0; i < 5000; i++)
		p += sprintf(p, "bogus%zu = 1\n", i);
	assert_null(load(buf, &e));
	assert_int_equal(e.n, 1001);
	assert_string_equal(e.msgs[1000], "too many errors; stopped reporting");
	eg_config_errors_free(&e);
	free(buf);
}

static char tmpdir[64];

static void
write_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static int
make_tmpdir(void **state)
{
	char path[128];

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/eg-test-config.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/allow.d", tmpdir);
	return mkdir(path, 0700);
}

static int
remove_tmpdir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_config_allow_files(void **state)
{
	struct eg_config_errors e;
	struct eg_config *c;
	char path[256], want[320];

	(void)state;
	write_file("allow.d/a.allow", "# comment\n\napi.example.com\n"
	    "  ; another\n*.cdn.example:80,443   # trailing\n");
	write_file("allow.d/b.allow", "**.deep.example\n");
	write_file("allow.d/skip.txt", "not a rule !!!\n");
	write_file("good.conf", BASE CHAIN "[policy]\nallow = x.example\n"
	    "allow_file = allow.d/*.allow\n");
	snprintf(path, sizeof(path), "%s/good.conf", tmpdir);
	c = eg_config_load(path, EG_CONFIG_NO_USERS, &e);
	if (c == NULL)
		dump(&e);
	assert_non_null(c);
	assert_int_equal(c->policy.nrules, 4);
	assert_string_equal(c->policy.rules[1].text, "api.example.com");
	assert_int_equal(c->policy.rules[1].at.line, 3);
	assert_string_equal(c->policy.rules[2].text, "*.cdn.example:80,443");
	assert_int_equal(c->policy.rules[2].at.line, 5);
	snprintf(want, sizeof(want), "%s/allow.d/a.allow", tmpdir);
	assert_string_equal(c->policy.rules[1].at.file, want);
	assert_string_equal(c->policy.rules[3].text, "**.deep.example");
	eg_config_free(c);

	/* one bad line in an allow file: the error names that file:line */
	write_file("allow.d/c.allow", "ok.example\nok2.example\n"
	    "bad..example\n");
	c = eg_config_load(path, EG_CONFIG_NO_USERS, &e);
	assert_null(c);
	assert_int_equal(e.n, 1);
	snprintf(want, sizeof(want), "%s/allow.d/c.allow:3: [policy] allow: "
	    "\"bad..example\":", tmpdir);
	if (strstr(e.msgs[0], want) == NULL)
		fail_msg("got '%s', want '%s'", e.msgs[0], want);
	eg_config_errors_free(&e);

	/* a glob matching nothing is an error at the allow_file line */
	write_file("none.conf", BASE CHAIN "[policy]\n"
	    "allow_file = nowhere/*.allow\n");
	snprintf(path, sizeof(path), "%s/none.conf", tmpdir);
	assert_null(eg_config_load(path, EG_CONFIG_NO_USERS, &e));
	assert_int_equal(e.n, 1);
	snprintf(want, sizeof(want), "%s:8: [policy] allow_file: "
	    "\"nowhere/*.allow\": matches no file", path);
	assert_string_equal(e.msgs[0], want);
	eg_config_errors_free(&e);

	/* an allow file with a NUL byte and an overlong line */
	{
		char big[5000];

		memset(big, 'a', sizeof(big) - 2);
		big[sizeof(big) - 2] = '\n';
		big[sizeof(big) - 1] = '\0';
		write_file("allow.d/c.allow", big);
	}
	snprintf(path, sizeof(path), "%s/good.conf", tmpdir);
	assert_null(eg_config_load(path, EG_CONFIG_NO_USERS, &e));
	snprintf(want, sizeof(want), "%s/allow.d/c.allow:1: line longer",
	    tmpdir);
	assert_true(has_msg(&e, want));
	eg_config_errors_free(&e);

	/* the main file missing */
	snprintf(path, sizeof(path), "%s/missing.conf", tmpdir);
	assert_null(eg_config_load(path, EG_CONFIG_NO_USERS, &e));
	assert_int_equal(e.n, 1);
	assert_non_null(strstr(e.msgs[0], "missing.conf: cannot open"));
	eg_config_errors_free(&e);
	/* a directory is not a config */
	assert_null(eg_config_load(tmpdir, EG_CONFIG_NO_USERS, &e));
	assert_true(has_msg(&e, "not a regular file"));
	eg_config_errors_free(&e);
}

static void
test_config_rule_cap(void **state)
{
	struct eg_config_errors e;
	char path[256];
	FILE *f;
	size_t i;

	(void)state;
	snprintf(path, sizeof(path), "%s/allow.d/many.allow", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	for (i = 0; i < 100001; i++)
		fprintf(f, "h%zu.ex\n", i);
	assert_int_equal(fclose(f), 0);
	write_file("many.conf", BASE CHAIN "[policy]\n"
	    "allow_file = allow.d/many.allow\n");
	snprintf(path, sizeof(path), "%s/many.conf", tmpdir);
	assert_null(eg_config_load(path, EG_CONFIG_NO_USERS, &e));
	assert_int_equal(e.n, 1);
	assert_non_null(strstr(e.msgs[0], "many.allow:100001: [policy] "
	    "allow: \"h100000.ex\": more than 100000 allow rules"));
	eg_config_errors_free(&e);
}

/* Several mistakes on several lines: every one is reported, in order. */
static void
test_config_all_errors(void **state)
{
	struct eg_config_errors e;

	(void)state;
	assert_null(load("[jail]\n"				/* 1 */
	    "interface = br0\n"					/* 2 */
	    "colour = blue\n"					/* 3 */
	    "[chain]\n"						/* 4 */
	    "hop = htp://x\n"					/* 5 */
	    "probe_interval = soon\n"				/* 6 */
	    "[dohd]\n"						/* 7 */
	    "upstream = https://d/ 192.0.2.1\n"			/* 8 */
	    "[policy]\n"					/* 9 */
	    "permit_cidr = 10.0.0.1/8\n"				/* 10 */
	    "allow = -bad.example\n", &e));			/* 11 */
	if (e.n != 5)
		dump(&e);
	assert_int_equal(e.n, 5);
	assert_non_null(strstr(e.msgs[0], "t.conf:3: [jail] colour:"));
	assert_non_null(strstr(e.msgs[1], "t.conf:5: [chain] hop:"));
	assert_non_null(strstr(e.msgs[2], "t.conf:6: [chain] probe_interval:"));
	assert_non_null(strstr(e.msgs[3], "t.conf:10: [policy] permit_cidr:"));
	assert_non_null(strstr(e.msgs[4], "t.conf:11: [policy] allow:"));
	eg_config_errors_free(&e);
}

static void
test_config_users(void **state)
{
	struct eg_config_errors e;
	struct eg_config *c;
	const char *text = BASE CHAIN
	    "[connectd]\nuser = root\n[dohd]\n";

	(void)state;
	/* with lookups: root exists (uid 0), a made-up user does not */
	text = "[jail]\ninterface = br0\nuser = eg-no-such-user-x\n"
	    "[dohd]\nupstream = https://d/ 192.0.2.1\nuser = root\n"
	    "[connectd]\nuser = root\n[netjaild]\nuser = root\n" CHAIN;
	c = eg_config_load_buf("u.conf", text, strlen(text), 0, &e);
	assert_null(c);
	assert_true(has_msg(&e, "u.conf:3: [jail] user: "
	    "\"eg-no-such-user-x\": no such user"));
	eg_config_errors_free(&e);

	text = "[jail]\nuser = root\n[dohd]\nupstream = https://d/ 192.0.2.1"
	    "\nuser = root\n[connectd]\nuser = root\n[netjaild]\nuser = root"
	    "\n" CHAIN;
	c = eg_config_load_buf("u.conf", text, strlen(text), 0, &e);
	assert_null(c);
	assert_true(has_msg(&e, "u.conf:2: [jail] user: \"root\": refusing "
	    "to jail root"));
	eg_config_errors_free(&e);

	/* daemon users: root stands in for them; uid/gid are filled in */
	text = "[jail]\ninterface = br0\ngroup = root\n[dohd]\nupstream = "
	    "https://d/ 192.0.2.1\nuser = root\n[connectd]\nuser = root\n"
	    "[netjaild]\nuser = root\n" CHAIN;
	c = eg_config_load_buf("u.conf", text, strlen(text), 0, &e);
	if (c == NULL)
		dump(&e);
	assert_non_null(c);
	assert_int_equal(c->connectd.user.uid, 0);
	eg_config_free(c);

	/* defaults: reported as "(default)" when missing on this host */
	text = BASE CHAIN;
	c = eg_config_load_buf("u.conf", text, strlen(text), 0, &e);
	if (getpwnam("egress-connect") == NULL) {
		assert_null(c);
		assert_true(has_msg(&e, "u.conf: [connectd] user: "
		    "\"egress-connect\" (default): no such user"));
	} else if (c != NULL) {
		assert_int_not_equal(c->connectd.user.uid, 0);
	}
	eg_config_errors_free(&e);
	eg_config_free(c);

	/* a daemon's own user cannot be jailed (checked without lookups) */
	expect_error("[jail]\nuser = egress-dns\n[dohd]\nupstream = https://d/"
	    " 192.0.2.1\n" CHAIN, "t.conf:2: [jail] user: \"egress-dns\": "
	    "this is a daemon's own user");
	expect_error("[jail]\nuser = x\nuser = x\n[dohd]\nupstream = "
	    "https://d/ 192.0.2.1\n" CHAIN, "user listed twice (first at "
	    "line 2)");
	expect_error("[jail]\nuser = 0day!\n[dohd]\nupstream = https://d/ "
	    "192.0.2.1\n" CHAIN, "not a valid user name");
}

static void
test_config_summary(void **state)
{
	struct eg_config *c;
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	c = expect_ok("[jail]\ninterface = br0\ninterface = br1\nuser = agent"
	    "\ndirect = db:5432\n[dohd]\nupstream = https://d/ 192.0.2.1\n"
	    "[chain]\nhop = http://u:secret@10.0.0.2\n[policy]\n"
	    "allow = a.example\nallow = b.example\n");
	f = open_memstream(&out, &len);
	assert_non_null(f);
	eg_config_summary(c, f);
	fclose(f);
	assert_non_null(strstr(out, "allow rules:      2"));
	assert_non_null(strstr(out, "chain hops:       1"));
	assert_non_null(strstr(out, "http://u:***@10.0.0.2:3128"));
	assert_null(strstr(out, "secret"));
	assert_non_null(strstr(out, "jailed interfaces: 2 (br0, br1)"));
	assert_non_null(strstr(out, "jailed users:     1 (agent)"));
	assert_non_null(strstr(out, "direct endpoints: 1"));
	assert_non_null(strstr(out, "https://d:443/dns-query via 192.0.2.1"));
	free(out);
	eg_config_free(c);
}

/*
 * No message of a load ever carries a password from a URL: not a hop's
 * that fails to parse in any way, nor one given to a key that takes none.
 */
static void
test_config_secrets_never_quoted(void **state)
{
	static const char *const bad[] = {
		"hop = htps://user:s3cr3tPW@proxy:8443",
		"hop = https://user:s3cr3tPW@proxy:99999",
		"hop = https://user:s3cr3tPW@proxy:8443/path",
		"hop = https://user:s3cr3tPW@proxy:8443?x",
		"hop = https://user:s3cr3tPW@",
		"hop = https://user:s3%zzcr3tPW@proxy:8443",
		"hop = https://:s3cr3tPW@proxy:8443",
		"hop = https://user:s3cr3tPW/x@proxy:8443",
		"hop = https://user:s3cr3tPW@x@proxy:8443",
		"hop = https://user:s3c r3tPW@proxy:8443",
		"hop = user:s3cr3tPW@proxy:8443",
		"hop = https://user:s3cr3tPW@proxy:8443\nhop = "
		    "https://user:s3cr3tPW@proxy:8443",
		"hopp = https://user:s3cr3tPW@proxy:8443",
		"hop https://user:s3cr3tPW@proxy:8443",
		"canary = https://user:s3cr3tPW@proxy:8443",
		"hop = https://user:s3cr3tPW0123456789012345678901234567890123456"
		    "78901234567890123456789@proxy:8443/p",
		"hop = https://user:s3cr3tPW@proxy:8443\x7f",
	};
	struct eg_config_errors e;
	struct eg_config *c;
	char text[512];
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), BASE "[chain]\n%s\n", bad[i]);
		c = load(text, &e);
		if (c != NULL) {
			eg_config_free(c);
			fail_msg("loaded: %s", bad[i]);
		}
		assert_true(e.n > 0);
		for (j = 0; j < e.n; j++)
			if (strstr(e.msgs[j], "s3cr3t") != NULL ||
			    strstr(e.msgs[j], "s3c") != NULL)
				fail_msg("secret in \"%s\"", e.msgs[j]);
		eg_config_errors_free(&e);
	}
	/* a DoH URL takes no password, and does not print one either */
	c = load("[jail]\ninterface = br0\n[dohd]\nupstream = "
	    "https://u:s3cr3tPW@dns.example/dns-query 192.0.2.53\n", &e);
	assert_null(c);
	assert_true(has_msg(&e, "u:***@dns.example"));
	for (j = 0; j < e.n; j++)
		assert_null(strstr(e.msgs[j], "s3cr3t"));
	eg_config_errors_free(&e);
	/* the user name stays, so an operator still finds the line */
	expect_error(BASE "[chain]\nhop = htps://alice:s3cr3tPW@proxy:8443\n",
	    "\"htps://alice:***@proxy:8443\": scheme must be http or https");
}

/*
 * [jail] inbound: published (the default, for docker run -p) or drop;
 * anything else names the file, line and key.
 */
static void
test_config_inbound(void **state)
{
	struct eg_config *c;
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	c = expect_ok(BASE CHAIN);
	assert_int_equal(c->jail.inbound, EG_INBOUND_PUBLISHED);
	eg_config_free(c);
	c = expect_ok("[jail]\ninterface = br0\ninbound = drop\n[dohd]\n"
	    "upstream = https://d/q 192.0.2.1\n" CHAIN);
	assert_int_equal(c->jail.inbound, EG_INBOUND_DROP);
	f = open_memstream(&out, &len);
	assert_non_null(f);
	eg_config_summary(c, f);
	fclose(f);
	assert_non_null(strstr(out, "inbound:          drop"));
	free(out);
	eg_config_free(c);
	c = expect_ok("[jail]\ninterface = br0\ninbound = published\n"
	    "[dohd]\nupstream = https://d/q 192.0.2.1\n" CHAIN);
	assert_int_equal(c->jail.inbound, EG_INBOUND_PUBLISHED);
	eg_config_free(c);
	expect_error("[jail]\ninterface = br0\ninbound = allow\n[dohd]\n"
	    "upstream = https://d/q 192.0.2.1\n" CHAIN, "t.conf:3: [jail] "
	    "inbound: \"allow\": expected published or drop");
	expect_error("[jail]\ninterface = br0\ninbound = Drop\n[dohd]\n"
	    "upstream = https://d/q 192.0.2.1\n" CHAIN, "expected published");
	expect_error("[jail]\ninterface = br0\ninbound =\n[dohd]\n"
	    "upstream = https://d/q 192.0.2.1\n" CHAIN, "t.conf:3: [jail] "
	    "inbound");
	expect_error("[jail]\ninterface = br0\ninbound = drop\ninbound = "
	    "drop\n[dohd]\nupstream = https://d/q 192.0.2.1\n" CHAIN,
	    "t.conf:4: [jail] inbound");
}

/*
 * Each daemon on its own: connectd as an explicit-proxy sidecar and dohd
 * as an allowlist DNS server load with only their sections; the whole
 * jail (egressctl check, netjaild) still needs every one.
 */
#define SIDECAR \
	"[chain]\nexit = direct\n" \
	"[connectd]\nproxy_listen = 127.0.0.1:3128\n" \
	"[policy]\nallow = api.example.com\n"
#define DNSONLY \
	"[dohd]\nlisten = 127.0.0.1:5353\n" \
	"upstream = https://dns.example/dns-query 192.0.2.53\n" \
	"[policy]\nallow = api.example.com\n"

static struct eg_config *
load_for(const char *text, unsigned flags, struct eg_config_errors *e)
{
	return eg_config_load_buf("t.conf", text, strlen(text),
	    EG_CONFIG_NO_USERS | flags, e);
}

static void
test_config_each_daemon_alone(void **state)
{
	struct eg_config_errors e;
	struct eg_config *c;

	(void)state;
	c = load_for(SIDECAR, EG_CONFIG_CONNECTD, &e);
	if (c == NULL)
		dump(&e);
	assert_non_null(c);
	assert_false(c->has_jail);
	assert_false(c->has_dohd);
	eg_config_free(c);
	/* a [jail] that jails nothing (only where the sockets go) is none */
	c = load_for(SIDECAR "[jail]\nruntime_dir = /run/x\n",
	    EG_CONFIG_CONNECTD, &e);
	assert_non_null(c);
	assert_false(c->has_jail);
	eg_config_free(c);
	/* a chain of hops needs no [jail] or [dohd] either */
	c = load_for(CHAIN "[policy]\nallow = a.example\n", EG_CONFIG_CONNECTD,
	    &e);
	assert_non_null(c);
	eg_config_free(c);
	c = load_for(DNSONLY, EG_CONFIG_DOHD, &e);
	if (c == NULL)
		dump(&e);
	assert_non_null(c);
	assert_false(c->has_jail);
	assert_true(c->has_dohd);
	eg_config_free(c);
	/* what each needs is still required */
	c = load_for("[policy]\nallow = a.example\n", EG_CONFIG_CONNECTD, &e);
	assert_null(c);
	assert_true(has_msg(&e, "[chain] hop: empty chain"));
	eg_config_errors_free(&e);
	c = load_for("[policy]\nallow = a.example\n", EG_CONFIG_DOHD, &e);
	assert_null(c);
	assert_true(has_msg(&e, "[dohd] upstream: at least one DoH upstream"));
	assert_false(has_msg(&e, "[chain]"));
	eg_config_errors_free(&e);
	/* and every section that is there is validated whole */
	c = load_for(SIDECAR "[dohd]\nmax_ttl = x\n", EG_CONFIG_CONNECTD, &e);
	assert_null(c);
	assert_true(has_msg(&e, "[dohd] max_ttl"));
	eg_config_errors_free(&e);
	/* the whole jail (no flag) needs all of them */
	expect_error(SIDECAR, "[jail] interface: nothing is jailed");
	expect_error(SIDECAR, "[dohd] upstream: at least one DoH upstream");
	expect_error(DNSONLY, "[chain] hop: empty chain");
	expect_error(DNSONLY, "[jail] interface: nothing is jailed");
}

/* mode = ask: taken by every loader; its keys bounded, file:line errors. */
static void
test_config_ask_mode(void **state)
{
	static const char t[] = BASE CHAIN "[policy]\nmode = ask\n"
	    "ask_timeout = 2s\nask_max = 3\n";
	struct eg_config *c;

	(void)state;
	c = expect_ok(t);
	assert_int_equal(c->policy.mode, EG_MODE_ASK);
	assert_int_equal(c->ask.timeout_ms, 2000);
	assert_int_equal(c->ask.max, 3);
	assert_string_equal(c->ask.socket, "/run/egressjail/ask.sock");
	assert_string_equal(eg_mode_str(c->policy.mode), "ask");
	/* the default hold follows a shorter ask_timeout */
	assert_int_equal(c->ask.dns_hold_ms, 2000);
	assert_true(eg_ask_configured(c));
	c->policy.mode = EG_MODE_ENFORCE;
	assert_false(eg_ask_configured(c));
	eg_config_free(c);
	c = expect_ok(BASE CHAIN "[policy]\nask_socket = /run/x/a.sock\n");
	assert_int_equal(c->policy.mode, EG_MODE_ENFORCE);
	assert_false(eg_ask_configured(c));
	assert_int_equal(c->ask.timeout_ms, 30000);
	assert_int_equal(c->ask.max, 64);
	assert_int_equal(c->ask.dns_hold_ms, 4000);
	assert_string_equal(c->ask.socket, "/run/x/a.sock");
	eg_config_free(c);
	c = expect_ok(BASE CHAIN "[policy]\nmode = ask\nask_dns_hold = 1500ms\n");
	assert_int_equal(c->ask.dns_hold_ms, 1500);
	eg_config_free(c);
	expect_error(BASE CHAIN "[policy]\nask_timeout = 500ms\n",
	    "ask_timeout");
	expect_error(BASE CHAIN "[policy]\nask_timeout = 301s\n",
	    "ask_timeout");
	expect_error(BASE CHAIN "[policy]\nask_max = 0\n", "ask_max");
	expect_error(BASE CHAIN "[policy]\nask_max = 4097\n", "ask_max");
	expect_error(BASE CHAIN "[policy]\nask_socket = rel/a.sock\n",
	    "ask_socket");
	expect_error(BASE CHAIN "[policy]\nask_dns_hold = 50ms\n",
	    "t.conf:8: [policy] ask_dns_hold");
	expect_error(BASE CHAIN "[policy]\nask_dns_hold = 31s\n",
	    "t.conf:8: [policy] ask_dns_hold");
	/* given, it may not outlast the question */
	expect_error(BASE CHAIN "[policy]\nask_timeout = 2s\n"
	    "ask_dns_hold = 3s\n", "t.conf:9: [policy] ask_dns_hold: longer "
	    "than ask_timeout");
}

int
main(void)
{
	const struct CMUnitTest tests[] = TEST_LIST(CONFIG_TESTS);

	return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
