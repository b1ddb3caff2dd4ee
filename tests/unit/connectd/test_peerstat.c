/* test_peerstat.c - the peers' status text: the bounded parser and the
 * Prometheus rendering, on real and hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "peerstat.h"
#include "promcheck.h"

#include "test_list.h"

static struct ps_stats st;

/* What dohd/query.c and dohd/upstream.c write, one upstream. */
static const char dohd_text[] =
    "queries=57\nqtype_a=40\nqtype_aaaa=12\nqtype_cname=0\nqtype_https=3\n"
    "qtype_txt=0\nqtype_any=1\nqtype_other=1\nallowed=41\ndenied=9\n"
    "reported=0\nrefused=2\nformerr=1\nnotimp=0\nservfail=1\ndropped=0\n"
    "ratelimited=0\nlocal=3\ncache_hits=10\ncache_misses=30\n"
    "cache_hit_ratio=0.250\ncache_entries=17\ncache_evictions=0\n"
    "stale_served=0\nupstream_ok=29\nupstream_bad=0\nupstream_fail=1\n"
    "stripped_addrs=2\ncname_cut=0\nfeed_ok=25\nfeed_fail=0\ntruncated=0\n"
    "inflight=0\nlog_dropped=4\n"
    "upstream.0.url=https://dns.example/dns-query\nupstream.0.up=1\n"
    "upstream.0.latency_ms=12.5\nupstream.0.queries=30\n"
    "upstream.0.answers=29\nupstream.0.errors=1\n"
    "upstream.0.bad_answers=0\nupstream.0.connections=2\n"
    "upstream.0.connect_failures=0\nupstream.0.streams=1\n"
    "upstream.0.last_error=timeout after 2000ms\n"
    "upstream.1.url=https://dns2.example/dns-query\nupstream.1.up=0\n"
    "upstream.1.latency_ms=0.0\nupstream.1.bad_answers=4\n"
    "upstream.1.last_error=-\n";

/* What netjaild/ctl.c writes. */
static const char nj_text[] =
    "generation=3\nverdict=whole\nchains=7\nrules=41\nsets=8\n"
    "set_jailed_ifaces=1\nset_jailed_uids=2\nset_hops4=2\nset_hops6=0\n"
    "drop_bridge_host_packets=5\ndrop_bridge_host_bytes=300\n"
    "drop_unowned_invalid_packets=0\ndrop_unowned_invalid_bytes=0\n"
    "routes=ok\n";

static char *
render(const char *text, const char *peer, size_t *len)
{
	char *out;
	int bad;

	ps_parse(&st, text, strlen(text));
	out = ps_render(&st, peer, len);
	assert_non_null(out);
	assert_int_equal(strlen(out), *len);
	bad = promcheck(out, *len);
	if (bad != 0)
		fail_msg("line %d of:\n%s", bad, out);
	/* no apostrophe either: the lab quotes /metrics with '...' */
	assert_null(strchr(out, '\''));
	return out;
}

static bool
has_line(const char *out, const char *line)
{
	size_t n = strlen(line);
	const char *p = out;

	while ((p = strstr(p, line)) != NULL) {
		if ((p == out || p[-1] == '\n') && p[n] == '\n')
			return true;
		p++;
	}
	return false;
}

#define HAS(out, l) do { if (!has_line((out), (l))) \
	fail_msg("missing '%s' in:\n%s", (l), (out)); } while (0)
#define HASNT(out, s) do { if (strstr((out), (s)) != NULL) \
	fail_msg("unexpected '%s' in:\n%s", (s), (out)); } while (0)

static void
test_peerstat_dohd(void **state)
{
	size_t len;
	char *out = render(dohd_text, "dohd", &len);

	(void)state;
	HAS(out, "# TYPE egressjail_dohd_queries_total counter");
	HAS(out, "egressjail_dohd_queries_total 57");
	HAS(out, "# TYPE egressjail_dohd_queries_by_decision_total counter");
	HAS(out, "egressjail_dohd_queries_by_decision_total{decision=\"allowed\"} 41");
	HAS(out, "egressjail_dohd_queries_by_decision_total{decision=\"denied\"} 9");
	HAS(out, "egressjail_dohd_queries_by_decision_total{decision=\"local\"} 3");
	HAS(out, "egressjail_dohd_queries_by_qtype_total{qtype=\"aaaa\"} 12");
	HAS(out, "egressjail_dohd_queries_by_qtype_total{qtype=\"https\"} 3");
	HAS(out, "egressjail_dohd_cache_lookups_total{result=\"hit\"} 10");
	HAS(out, "egressjail_dohd_cache_lookups_total{result=\"miss\"} 30");
	HAS(out, "# TYPE egressjail_dohd_cache_hit_ratio gauge");
	HAS(out, "egressjail_dohd_cache_hit_ratio 0.250");
	HAS(out, "egressjail_dohd_servfail_total 1");
	HAS(out, "egressjail_dohd_upstream_results_total{result=\"fail\"} 1");
	HAS(out, "egressjail_dohd_feed_total{result=\"ok\"} 25");
	HAS(out, "egressjail_dohd_inflight 0");
	HAS(out, "# TYPE egressjail_dohd_log_dropped_total counter");
	HAS(out, "egressjail_dohd_log_dropped_total 4");
	HAS(out, "egressjail_dohd_upstream_up{upstream=\"0\"} 1");
	HAS(out, "egressjail_dohd_upstream_up{upstream=\"1\"} 0");
	HAS(out, "# TYPE egressjail_dohd_upstream_latency_seconds gauge");
	HAS(out, "egressjail_dohd_upstream_latency_seconds{upstream=\"0\"} 0.0125");
	HAS(out, "egressjail_dohd_upstream_latency_seconds{upstream=\"1\"} 0");
	HAS(out, "egressjail_dohd_upstream_errors_total{upstream=\"0\"} 1");
	/* .bad_answers is its own family, never .answers with "0.bad" */
	HAS(out, "egressjail_dohd_upstream_answers_total{upstream=\"0\"} 29");
	HAS(out, "egressjail_dohd_upstream_bad_answers_total{upstream=\"1\"} 4");
	HASNT(out, "0.bad");
	/* every numeric key is known: no untyped fallback; text skipped */
	HASNT(out, "untyped");
	HASNT(out, "url");
	HASNT(out, "last_error");
	HASNT(out, "timeout");
	/* 34 core + 9 + 3 upstream lines kept; url, last_error x2 skipped */
	assert_int_equal(st.n, 46);
	assert_int_equal(st.skipped, 4);
	assert_false(st.truncated);
	free(out);
}

static void
test_peerstat_netjaild(void **state)
{
	size_t len;
	char *out = render(nj_text, "netjaild", &len);

	(void)state;
	HAS(out, "egressjail_netjaild_generation 3");
	HAS(out, "egressjail_netjaild_rules 41");
	HAS(out, "# TYPE egressjail_netjaild_set_elements gauge");
	HAS(out, "egressjail_netjaild_set_elements{set=\"jailed_uids\"} 2");
	HAS(out, "egressjail_netjaild_set_elements{set=\"hops6\"} 0");
	HAS(out, "# TYPE egressjail_netjaild_drop_packets_total counter");
	HAS(out, "egressjail_netjaild_drop_packets_total{rule=\"bridge_host\"} 5");
	HAS(out, "egressjail_netjaild_drop_bytes_total{rule=\"bridge_host\"} 300");
	HAS(out, "egressjail_netjaild_drop_packets_total{rule=\"unowned_invalid\"} 0");
	HASNT(out, "verdict");
	HASNT(out, "routes");
	HASNT(out, "untyped");
	HASNT(out, "dohd");
	free(out);

	/* the generation of the binary header replaces the text's */
	ps_parse(&st, nj_text, strlen(nj_text));
	assert_true(ps_set_u64(&st, "generation", 4));
	assert_string_equal(ps_get(&st, "generation"), "4");
	assert_true(ps_set_u64(&st, "new_key", UINT64_MAX));
	assert_string_equal(ps_get(&st, "new_key"), "18446744073709551615");
	assert_false(ps_set_u64(&st, "Bad Key", 1));
	assert_false(ps_set_u64(&st, "", 1));
}

/* A family's rows are per peer: dohd's keys mean nothing for netjaild. */
static void
test_peerstat_peer_scoped(void **state)
{
	size_t len;
	char *out = render("queries=5\nset_x=1\ngeneration=2\n", "netjaild",
	    &len);

	(void)state;
	HAS(out, "egressjail_netjaild_queries 5");
	HAS(out, "# TYPE egressjail_netjaild_queries untyped");
	HAS(out, "egressjail_netjaild_set_elements{set=\"x\"} 1");
	HAS(out, "egressjail_netjaild_generation 2");
	free(out);
	out = render("set_x=1\n", "dohd", &len);
	HAS(out, "egressjail_dohd_set_x 1");
	free(out);
	/* the peer name itself must be [a-z]+ */
	ps_parse(&st, "a=1\n", 4);
	assert_null(ps_render(&st, "do\nhd", &len));
	assert_null(ps_render(&st, "Dohd", &len));
	assert_null(ps_render(&st, "", &len));
	assert_null(ps_render(&st, "d\"x", &len));
	assert_null(ps_render(&st, "abcdefghijklmnopq", &len));
}

static void
test_peerstat_newlines_and_injection(void **state)
{
	static const char evil[] =
	    "queries=1\n# TYPE egressjail_dohd_queries_total gauge\n"
	    "egressjail_dohd_evil 1\n"
	    "allowed=1 # comment\n"
	    "denied=1\r\n"
	    "refused=\"3\"\n"
	    "qtype_a\"}=1\n"
	    "qtype_a{x=\"y\"}=1\n"
	    "qtype_a b=1\n"
	    "Queries=1\n"
	    "a-b=1\n"
	    "=1\n"
	    "novalue=\n"
	    "a==1\n"
	    "key=1=2\n"
	    "sp ace=1\n"
	    "tab\t=1\n"
	    "utf=\xc3\xa9\n"
	    "#=1\n"
	    "x#y=1\n"
	    "ok_key=7\n";
	size_t len;
	char *out = render(evil, "dohd", &len);

	(void)state;
	HAS(out, "egressjail_dohd_queries_total 1");
	HAS(out, "egressjail_dohd_ok_key 7");
	HASNT(out, "evil");
	HASNT(out, "comment");
	HASNT(out, "\r");
	HASNT(out, "decision");
	HASNT(out, "qtype");
	HASNT(out, "Queries");
	HASNT(out, "x=");
	HASNT(out, "\t");
	HASNT(out, "# TYPE egressjail_dohd_queries_total gauge");
	/* only '#' at the start of HELP and TYPE lines, quotes only
	 * around label values */
	for (const char *p = out; (p = strchr(p, '#')) != NULL; p++)
		assert_true(p == out || p[-1] == '\n');
	assert_int_equal(st.n, 2);
	free(out);
}

static void
test_peerstat_key_grammar(void **state)
{
	char k[80];

	(void)state;
	memset(k, 'a', sizeof(k));
	assert_true(ps_key_ok(k, PS_KEY_MAX));
	assert_false(ps_key_ok(k, PS_KEY_MAX + 1));
	assert_false(ps_key_ok(k, 0));
	assert_true(ps_key_ok("upstream.0.latency_ms", 21));
	assert_true(ps_key_ok("_.9", 3));
	assert_false(ps_key_ok("A", 1));
	assert_false(ps_key_ok("a-b", 3));
	assert_false(ps_key_ok("a b", 3));
	assert_false(ps_key_ok("a\"", 2));
	assert_false(ps_key_ok("a{", 2));
	assert_false(ps_key_ok("a:b", 3));
	assert_false(ps_key_ok("a\0b", 3));

	/* an overlong key is skipped whole, never cut to fit */
	{
		char text[200];
		size_t len;
		char *out;

		snprintf(text, sizeof(text), "%.*s=1\n%.*s=2\n", PS_KEY_MAX,
		    "qtype_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		    PS_KEY_MAX + 1,
		    "qtype_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
		out = render(text, "dohd", &len);
		assert_int_equal(st.n, 1);
		assert_int_equal(st.skipped, 1);
		HASNT(out, "qtype=\"bbb");
		snprintf(text, sizeof(text), "egressjail_dohd_queries_by_qtype_"
		    "total{qtype=\"%.*s\"} 1", PS_KEY_MAX - 6,
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
		HAS(out, text);
		free(out);
	}
}

static void
test_peerstat_value_grammar(void **state)
{
	static const struct { const char *v; bool ok; } c[] = {
		{ "0", true }, { "7", true }, { "007", true },
		{ "0.250", true }, { "12.5", true },
		{ "18446744073709551615", true },
		{ "18446744073709551615.5", true },
		{ "18446744073709551616", false },
		{ "99999999999999999999", false },
		{ "100000000000000000000", false },
		{ "000000000000000000001", false },
		{ "1234567890123456789012345678901", false },
		{ "0.00000000000000000000000000001", true },	/* 31 */
		{ "0.000000000000000000000000000001", false },	/* 32 */
		{ "", false }, { "-1", false }, { "+1", false },
		{ "1.", false }, { ".5", false }, { "1.2.3", false },
		{ "1e5", false }, { "1E5", false }, { "inf", false },
		{ "Inf", false }, { "nan", false }, { "NaN", false },
		{ "0x10", false }, { " 1", false }, { "1 ", false },
		{ "1,5", false }, { "1\r", false }, { "1\n", false },
		{ "\"1\"", false }, { "1#", false }, { "one", false },
		{ "-", false }, { "1_000", false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		if (ps_value_ok(c[i].v, strlen(c[i].v)) != c[i].ok)
			fail_msg("value '%s': expected %s", c[i].v,
			    c[i].ok ? "ok" : "refused");
	assert_false(ps_value_ok("1\0002", 3));

	/* a huge count in the text: kept when it fits 64 bits, else skipped */
	{
		static const char huge[] = "queries=18446744073709551615\n"
		    "allowed=18446744073709551616\n"
		    "denied=999999999999999999999999999999\n";

		ps_parse(&st, huge, sizeof(huge) - 1);
	}
	assert_int_equal(st.n, 1);
	assert_string_equal(ps_get(&st, "queries"), "18446744073709551615");
	assert_null(ps_get(&st, "allowed"));
	assert_null(ps_get(&st, "denied"));
}

static void
test_peerstat_duplicates_and_collisions(void **state)
{
	size_t len;
	char *out;

	(void)state;
	/* the first of two same keys wins */
	out = render("queries=1\nqueries=2\n", "dohd", &len);
	HAS(out, "egressjail_dohd_queries_total 1");
	HASNT(out, "total 2");
	assert_int_equal(st.skipped, 1);
	free(out);

	/* "a.b" and "a_b" would both be egressjail_dohd_a_b */
	out = render("a.b=1\na_b=2\n", "dohd", &len);
	HAS(out, "egressjail_dohd_a_b 1");
	HASNT(out, "a_b 2");
	free(out);

	/* a key never takes a known or reserved family's name */
	out = render("queries_total=5\nup=0\nready=0\n"
	    "queries_by_decision_total=1\nupstream_latency_seconds=9\n",
	    "dohd", &len);
	assert_int_equal(len, 0);
	free(out);

	/* label values: [a-z0-9_] only, never a '.' or empty */
	out = render("qtype_a.b=1\nqtype_=2\ndrop__packets=3\n"
	    "upstream..up=4\nupstream.x.y.up=5\nset_=6\n", "netjaild", &len);
	HASNT(out, "set=\"\"");
	free(out);
	out = render("qtype_a.b=1\nqtype_=2\nupstream..up=4\n"
	    "upstream.x.y.up=5\nupstream.0.1.errors=6\n", "dohd", &len);
	HAS(out, "egressjail_dohd_qtype_a_b 1");
	HAS(out, "egressjail_dohd_qtype_ 2");
	HAS(out, "egressjail_dohd_upstream__up 4");
	HAS(out, "egressjail_dohd_upstream_x_y_up 5");
	HAS(out, "egressjail_dohd_upstream_0_1_errors 6");
	HASNT(out, "{");
	free(out);
}

static void
test_peerstat_limits_keep_first(void **state)
{
	static char text[PS_TEXT_MAX * 2 + 1];
	size_t cap = PS_TEXT_MAX * 2, n = 0, i, len;
	char *out;

	(void)state;
	/* more numeric lines than PS_ENTRIES_MAX: the first ones kept */
	for (i = 0; i < PS_ENTRIES_MAX + 10; i++)
		n += (size_t)snprintf(text + n, cap - n, "k%zu=%zu\n", i, i);
	ps_parse(&st, text, n);
	assert_int_equal(st.n, PS_ENTRIES_MAX);
	assert_true(st.truncated);
	assert_string_equal(ps_get(&st, "k0"), "0");
	assert_null(ps_get(&st, "k256"));
	out = ps_render(&st, "dohd", &len);
	assert_non_null(out);
	assert_int_equal(promcheck(out, len), 0);
	free(out);

	/* more lines than PS_LINES_MAX: the rest is not looked at */
	n = 0;
	for (i = 0; i < PS_LINES_MAX; i++)
		n += (size_t)snprintf(text + n, cap - n, "x\n");
	n += (size_t)snprintf(text + n, cap - n, "queries=1\n");
	ps_parse(&st, text, n);
	assert_int_equal(st.n, 0);
	assert_int_equal(st.skipped, PS_LINES_MAX);
	assert_true(st.truncated);

	/* empty lines count towards the limit too */
	memset(text, '\n', PS_LINES_MAX + 1);
	strcpy(text + PS_LINES_MAX + 1, "queries=1\n");
	ps_parse(&st, text, strlen(text));
	assert_int_equal(st.n, 0);
	assert_int_equal(st.skipped, 0);

	/* more bytes than PS_TEXT_MAX: the cut line is not parsed */
	memset(text, 'z', cap);
	n = PS_TEXT_MAX - 12;
	text[n - 1] = '\n';
	memcpy(text + n, "queries=1234567\n", 16);
	ps_parse(&st, text, cap);
	assert_null(ps_get(&st, "queries"));
	assert_true(st.truncated);

	/* the last line without its newline (a peer's full buffer) */
	ps_parse(&st, "allowed=1\nqueries=12", 20);
	assert_string_equal(ps_get(&st, "allowed"), "1");
	assert_null(ps_get(&st, "queries"));
	assert_true(st.truncated);

	/* a NUL ends the text */
	ps_parse(&st, "allowed=1\n\0queries=2\n", 21);
	assert_int_equal(st.n, 1);
	ps_parse(&st, "allo\0wed=1\n", 11);
	assert_int_equal(st.n, 0);

	/* nothing at all */
	ps_parse(&st, NULL, 10);
	assert_int_equal(st.n, 0);
	ps_parse(&st, "", 0);
	out = ps_render(&st, "dohd", &len);
	assert_non_null(out);
	assert_int_equal(len, 0);
	assert_string_equal(out, "");
	free(out);
	ps_parse(&st, dohd_text, strlen(dohd_text));
	ps_clear(&st);
	assert_int_equal(st.n, 0);
	assert_null(ps_get(&st, "queries"));
}

/* Random lines from a small alphabet that hits the grammar's edges; the
 * rendering must always check clean. */
static void
test_peerstat_random_lines_render_clean(void **state)
{
	static const char alpha[] = "aqz_.0189=\n\n\"#{} \r-e\t";
	static const char *const frag[] = { "qtype_", "upstream.", ".up",
	    ".latency_ms", "drop_", "_packets", "set_", "queries", "allowed",
	    "cache_hits", "generation", "=1\n", "=18446744073709551616\n",
	    "=0.5\n", "\n" };
	char text[4096], *out;
	unsigned seed = 12345;
	size_t n, i, len;
	int round;

	(void)state;
	for (round = 0; round < 4000; round++) {
		n = 0;
		while (n < sizeof(text) - 64) {
			seed = seed * 1103515245u + 12345u;
			if ((seed >> 16) % 3 == 0) {
				const char *f = frag[(seed >> 8) %
				    (sizeof(frag) / sizeof(frag[0]))];

				memcpy(text + n, f, strlen(f));
				n += strlen(f);
			} else
				text[n++] = alpha[(seed >> 8) %
				    (sizeof(alpha) - 1)];
			if ((seed >> 20) % 97 == 0)
				break;
		}
		ps_parse(&st, text, n);
		for (i = 0; i < 2; i++) {
			out = ps_render(&st, i ? "netjaild" : "dohd", &len);
			assert_non_null(out);
			if (promcheck(out, len) != 0)
				fail_msg("round %d line %d:\n%s", round,
				    promcheck(out, len), out);
			free(out);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = TEST_LIST(PEERSTAT_TESTS);

	return cmocka_run_group_tests(tests, NULL, NULL);
}
