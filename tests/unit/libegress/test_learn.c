/*
 * test_learn.c - learn-mode records and the allowlist reducer.
 *
 * The property that matters: every record is admitted by the printed
 * allowlist, judged by the real policy engine (replay()), while names
 * nobody asked for stay denied unless a wildcard the evidence justified
 * covers them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "learn.h"
#include "learn_table.h"
#include "policy.h"

#include "test_list.h"

#define MAXREC 4096

struct recs {
	struct eg_learn_entry e[MAXREC];
	size_t n;
};

static void
add(struct recs *r, const char *name, uint16_t port, uint16_t qtype)
{
	struct eg_learn_entry *e;

	assert_true(r->n < MAXREC);
	e = &r->e[r->n++];
	memset(e, 0, sizeof(*e));
	strcpy(e->workload, "default");
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->port = port;
	e->qtype = qtype;
	e->count = 1;
	e->first = 1765000000 + (int64_t)r->n;
	e->last = e->first + 10;
}

static char *
print(const struct eg_learn_result *res)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(eg_learn_print(f, res, "test"), 0);
	fclose(f);
	return buf;
}

static void
reduce(const struct recs *r, unsigned min, struct eg_learn_result *res)
{
	char err[EG_ERR_MAX] = "";

	if (eg_learn_reduce(r->e, r->n, min, res, err) != 0)
		fail_msg("reduce: %s", err);
}

/* The printed allowlist as a config, and its policy engine. */
static struct eg_policy *
policy_of(const struct eg_learn_result *res, struct eg_config **cfgp)
{
	static const char base[] =
	    "[jail]\ninterface = br0\n"
	    "[chain]\nhop = http://10.20.0.2:3128\n"
	    "[dohd]\nupstream = https://dns.example/dns-query 192.0.2.53\n"
	    "[policy]\n";
	struct eg_config_errors e = { NULL, 0 };
	struct eg_policy *p;
	char *text, *rules, *line, *save = NULL, err[EG_ERR_MAX] = "";
	size_t len, i;
	FILE *f;

	rules = print(res);
	f = open_memstream(&text, &len);
	assert_non_null(f);
	fputs(base, f);
	for (line = strtok_r(rules, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		if (line[0] != '#')
			fprintf(f, "allow = %s\n", line);
	fclose(f);
	free(rules);
	*cfgp = eg_config_load_buf("t.conf", text, len, EG_CONFIG_NO_USERS,
	    &e);
	if (*cfgp == NULL) {
		for (i = 0; i < e.n; i++)
			print_message("config: %s\n", e.msgs[i]);
		fail_msg("the printed allowlist does not load:\n%s", text);
	}
	eg_config_errors_free(&e);
	free(text);
	if ((p = eg_policy_new(*cfgp, NULL, 0, err)) == NULL)
		fail_msg("eg_policy_new: %s", err);
	return p;
}

static bool
never(uint16_t t)
{
	return t == 41 || (t >= 128 && t <= 255);
}

/* Every record the reducer took is admitted, none only by report mode. */
static void
replay(const struct recs *r, const struct eg_learn_result *res,
    struct eg_policy **pp, struct eg_config **cp)
{
	struct eg_policy *p = policy_of(res, cp);
	size_t i;

	for (i = 0; i < r->n; i++) {
		const struct eg_learn_entry *e = &r->e[i];
		struct eg_decision d;

		if (e->qtype != 0 && never(e->qtype))
			continue;
		d = e->port != 0 ? eg_policy_check_host(p, e->name, e->port) :
		    eg_policy_check_dns(p, e->name, e->qtype);
		if (d.verdict != EG_ALLOW || d.reported)
			fail_msg("replay denies %s port %u qtype %u: %s",
			    e->name, e->port, e->qtype,
			    eg_reason_str(d.reason));
	}
	*pp = p;
}

static void
done(struct eg_policy *p, struct eg_config *c, struct eg_learn_result *res)
{
	eg_policy_free(p);
	eg_config_free(c);
	eg_learn_result_free(res);
}

static void
assert_has_line(const char *text, const char *line)
{
	char want[600];

	snprintf(want, sizeof(want), "\n%s\n", line);
	if (strstr(text, want) == NULL)
		fail_msg("no line \"%s\" in:\n%s", line, text);
}

static void
assert_no_line(const char *text, const char *line)
{
	char want[600];

	snprintf(want, sizeof(want), "\n%s\n", line);
	if (strstr(text, want) != NULL) {
		/* text goes out by fputs: gcc 12 with -fsanitize=undefined
		 * took it for a null %s argument here (-Wformat-overflow) */
		fputs(text, stderr);
		fail_msg("unexpected line \"%s\" in the text above", line);
	}
}

static void
test_learn_parse_line(void **state)
{
	struct eg_learn_entry e;
	char err[EG_ERR_MAX], big[EG_LEARN_LINE_MAX + 10];

	(void)state;
	assert_int_equal(eg_learn_parse_line("ci API.Example.com. 443 0 7 "
	    "100 200\n", &e, err), 1);
	assert_string_equal(e.workload, "ci");
	assert_string_equal(e.name, "api.example.com");
	assert_int_equal(e.port, 443);
	assert_int_equal(e.qtype, 0);
	assert_int_equal(e.count, 7);
	assert_int_equal(e.first, 100);
	assert_int_equal(e.last, 200);
	assert_int_equal(eg_learn_parse_line("default\ttxt.example 0 16 1 5 5 "
	    "# comment", &e, err), 1);
	assert_int_equal(e.qtype, 16);
	assert_int_equal(eg_learn_parse_line("", &e, err), 0);
	assert_int_equal(eg_learn_parse_line("   # only a comment", &e, err),
	    0);
	assert_int_equal(eg_learn_parse_line("\n", &e, err), 0);

#define BAD(line, why) do {						\
	err[0] = '\0';							\
	assert_int_equal(eg_learn_parse_line(line, &e, err), -1);	\
	if (strstr(err, why) == NULL)					\
		fail_msg("\"%s\": \"%s\" lacks \"%s\"", line, err, why); \
} while (0)
	BAD("ci a.example 443 0 1 1", "6 fields");
	BAD("ci a.example 443 0 1 1 1 1", "more than 7");
	BAD("CI a.example 443 0 1 1 1", "workload name");
	BAD("ci 10.0.0.1 443 0 1 1 1", "IP literal");
	BAD("ci 2130706433 443 0 1 1 1", "IP literal");
	BAD("ci a..example 443 0 1 1 1", "");
	BAD("ci a.example 65536 0 1 1 1", "port");
	BAD("ci a.example 0443 0 1 1 1", "port");
	BAD("ci a.example -1 0 1 1 1", "port");
	BAD("ci a.example +1 0 1 1 1", "port");
	BAD("ci a.example 443 0 0x1 1 1", "count");
	BAD("ci a.example 443 0 99999999999999999999 1 1", "count");
	BAD("ci a.example 443 0 1 1 99999999999999999999", "last");
	BAD("ci a.example 443 1 1 1 1", "connection");
	BAD("ci a.example 0 0 1 1 1", "connection");
	BAD("ci a.example 443 0 0 1 1", "count");
	BAD("ci a.example 443 0 1 2 1", "first <= last");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	BAD(big, "longer than");
#undef BAD
}

/* The daemons' log lines: only the allowlist's denials, with their time. */
static void
test_learn_parse_log(void **state)
{
	struct eg_learn_entry e;
	char err[EG_ERR_MAX], big[EG_LEARN_LOG_LINE_MAX + 10];

	(void)state;
	assert_int_equal(eg_learn_parse_log("ts=2026-12-07T22:43:46.786Z "
	    "level=warn daemon=connectd event=report src=127.0.0.1:35784 "
	    "host=Denied.TEST port=8443 reason=no_rule note=\"would be "
	    "denied in enforce mode\"\n", &e, err), 1);
	assert_string_equal(e.workload, "default");
	assert_string_equal(e.name, "denied.test");
	assert_int_equal(e.port, 8443);
	assert_int_equal(e.qtype, 0);
	assert_int_equal(e.count, 1);
	/* date -u -d 2026-12-07T22:43:46Z +%s */
	assert_int_equal(e.first, 1796683426);
	assert_int_equal(e.last, e.first);
	/* journalctl's prefix; enforce mode's denial; quoted values */
	assert_int_equal(eg_learn_parse_log("Dec 07 22:43:46 h connectd[1]: "
	    "ts=2026-12-07T22:43:47.000Z level=info daemon=connectd "
	    "event=access src=1.2.3.4:5 mode=explicit kind=connect dst=- "
	    "host=\"a.example\" port=80 rule=\"-\" decision=deny status=403 "
	    "reason=\"port\" hops=\"-\" up=0 down=0 ms=1 error=\"-\"\r\n",
	    &e, err), 1);
	assert_string_equal(e.name, "a.example");
	assert_int_equal(e.port, 80);
	assert_int_equal(eg_learn_parse_log("ts=2026-12-07T22:43:47.000Z "
	    "level=info daemon=dohd event=decision src=10.0.0.2 proto=udp "
	    "name=\"t\\x78t.example\" qtype=TXT decision=report reason=no_rule "
	    "rule=- rcode=NOERROR answer=upstream bytes=60 dur_ms=3 "
	    "workload=ci", &e, err), 1);
	assert_string_equal(e.name, "txt.example");
	assert_int_equal(e.qtype, 16);
	assert_int_equal(e.port, 0);
	assert_string_equal(e.workload, "ci");
	assert_int_equal(eg_learn_parse_log("ts=2026-12-07T22:43:47Z "
	    "daemon=dohd event=decision name=\"x.example\" qtype=TYPE99 "
	    "decision=deny reason=qtype", &e, err), 1);
	assert_int_equal(e.qtype, 99);

	/* a name on a CNAME chain, in report mode: an A query */
	assert_int_equal(eg_learn_parse_log("ts=2026-12-07T22:43:47Z "
	    "level=info daemon=dohd event=cname name=\"cdn.example\" "
	    "decision=report reason=no_rule", &e, err), 1);
	assert_string_equal(e.name, "cdn.example");
	assert_int_equal(e.qtype, 1);

	/* not a denial of the allowlist: 0 */
	assert_int_equal(eg_learn_parse_log("", &e, err), 0);
	assert_int_equal(eg_learn_parse_log("garbage", &e, err), 0);
	assert_int_equal(eg_learn_parse_log("ts=2026-12-07T22:43:46.319Z "
	    "level=info daemon=connectd event=start nofile=20000", &e, err), 0);
	assert_int_equal(eg_learn_parse_log("ts=2026-12-07T22:43:46.319Z "
	    "daemon=connectd event=access host=\"a.example\" port=443 "
	    "decision=allow reason=\"-\"", &e, err), 0);
	/* report mode logs report and access decision=report: one counts */
	assert_int_equal(eg_learn_parse_log("ts=2026-12-07T22:43:46.319Z "
	    "daemon=connectd event=access host=\"a.example\" port=443 "
	    "decision=report reason=\"no_rule\"", &e, err), 0);
	assert_int_equal(eg_learn_parse_log("ts=2026-12-07T22:43:46.319Z "
	    "daemon=connectd event=access host=\"10.0.0.1\" port=443 "
	    "decision=deny reason=\"ip_literal\"", &e, err), 0);
	assert_int_equal(eg_learn_parse_log("ts=2026-12-07T22:43:46.319Z "
	    "daemon=dohd event=decision name=\"a.example\" qtype=A "
	    "decision=deny reason=bad_name", &e, err), 0);
	assert_int_equal(eg_learn_parse_log("ts=2026-12-07T22:43:46.319Z "
	    "daemon=netjaild event=report host=a.example port=1 "
	    "reason=no_rule", &e, err), 0);

	/* a denial that does not parse: -1 */
#define BADLOG(line, why) do {						\
	err[0] = '\0';							\
	assert_int_equal(eg_learn_parse_log(line, &e, err), -1);	\
	if (strstr(err, why) == NULL)					\
		fail_msg("\"%s\": \"%s\" lacks \"%s\"", line, err, why); \
} while (0)
	BADLOG("ts=x daemon=connectd event=report host=a.example port=1 "
	    "reason=no_rule", "ts=");
	BADLOG("ts=2026-12-07T22:43:46.319 daemon=connectd event=report "
	    "host=a.example port=1 reason=no_rule", "ts=");
	BADLOG("ts=2026-12-07T22:43:46.319Z daemon=connectd event=report "
	    "host=a.example port=0 reason=no_rule", "port");
	BADLOG("ts=2026-12-07T22:43:46.319Z daemon=connectd event=report "
	    "host=a.example reason=no_rule", "port");
	BADLOG("ts=2026-12-07T22:43:46.319Z daemon=connectd event=report "
	    "port=443 reason=no_rule", "without its name");
	BADLOG("ts=2026-12-07T22:43:46.319Z daemon=connectd event=report "
	    "host=a..example port=443 reason=no_rule", "");
	BADLOG("ts=2026-12-07T22:43:46.319Z daemon=dohd event=decision "
	    "name=\"a.example\" qtype=BOGUS decision=deny reason=no_rule",
	    "qtype");
	BADLOG("ts=2026-12-07T22:43:46.319Z daemon=dohd event=decision "
	    "name=\"a.example\" qtype=A decision=deny reason=no_rule "
	    "workload=Bad", "workload name");
	BADLOG("ts=2026-12-07T22:43:46.319Z daemon=dohd event=decision "
	    "name=\"a.example", "key=value");
	BADLOG("ts=2026-12-07T22:43:46.319Z daemon=dohd name=\"a\\q\"",
	    "key=value");
	BADLOG("ts=2026-12-07T22:43:46.319Z daemon=dohd =x", "key=value");
	BADLOG("ts=2026-12-07T22:43:46.319Z daemon=dohd nokey", "key=value");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	BADLOG(big, "longer than");
#undef BADLOG
}

struct sink {
	struct eg_learn_entry e[16];
	size_t n;
};

static void
sink_emit(void *arg, const struct eg_learn_entry *e)
{
	struct sink *k = arg;

	assert_true(k->n < 16);
	k->e[k->n++] = *e;
}

/* A new entry goes out at once, repeats as counts once the interval is
 * over; the line it makes is one egressctl learn --log takes back. */
static void
test_learn_table(void **state)
{
	struct eg_learn_table *t = eg_learn_table_new(2, 60);
	struct eg_learn_entry back;
	struct sink k;
	char line[600], err[EG_ERR_MAX];

	(void)state;
	memset(&k, 0, sizeof(k));
	assert_non_null(t);
	assert_int_equal(eg_learn_table_note(t, "default", "A.Example.", 443,
	    0, 1000, sink_emit, &k), 1);
	assert_int_equal(k.n, 1);
	assert_string_equal(k.e[0].name, "a.example");
	assert_int_equal(k.e[0].count, 1);
	assert_int_equal(k.e[0].first, 1000);
	/* repeats within the interval: counted, not emitted */
	assert_int_equal(eg_learn_table_note(t, "default", "a.example", 443,
	    0, 1010, sink_emit, &k), 0);
	assert_int_equal(eg_learn_table_note(t, "default", "a.example", 443,
	    0, 1020, sink_emit, &k), 0);
	assert_int_equal(k.n, 1);
	/* another port, a query: new entries */
	assert_int_equal(eg_learn_table_note(t, "default", "a.example", 0,
	    16, 1030, sink_emit, &k), 1);
	assert_int_equal(k.n, 2);
	assert_int_equal(eg_learn_table_size(t), 2);
	/* full: still emitted at once, not folded */
	assert_int_equal(eg_learn_table_note(t, "ci", "b.example", 80, 0,
	    1040, sink_emit, &k), 1);
	assert_int_equal(eg_learn_table_note(t, "ci", "b.example", 80, 0,
	    1041, sink_emit, &k), 1);
	assert_int_equal(k.n, 4);
	assert_int_equal(eg_learn_table_unfolded(t), 2);
	/* not a name, both or neither: refused, nothing emitted */
	assert_int_equal(eg_learn_table_note(t, "default", "10.0.0.1", 443, 0,
	    1050, sink_emit, &k), -1);
	assert_int_equal(eg_learn_table_note(t, "default", "a..b", 443, 0,
	    1050, sink_emit, &k), -1);
	assert_int_equal(eg_learn_table_note(t, "default", "a.example", 443,
	    1, 1050, sink_emit, &k), -1);
	assert_int_equal(k.n, 4);
	/* the interval over: the counts since the first report go out */
	assert_int_equal(eg_learn_table_note(t, "default", "a.example", 443,
	    0, 1070, sink_emit, &k), 0);
	assert_int_equal(k.n, 5);
	assert_string_equal(k.e[4].name, "a.example");
	assert_int_equal(k.e[4].port, 443);
	assert_int_equal(k.e[4].count, 3);
	assert_int_equal(k.e[4].first, 1010);
	assert_int_equal(k.e[4].last, 1070);
	/* nothing new: a flush emits nothing */
	eg_learn_table_flush(t, 1080, sink_emit, &k);
	assert_int_equal(k.n, 5);

	/* the log line, read back */
	assert_int_equal(eg_learn_line(&k.e[4], line, sizeof(line)), 0);
	{
		char full[800];

		snprintf(full, sizeof(full), "ts=2026-12-07T22:43:46.319Z "
		    "level=warn daemon=connectd event=learn %s", line);
		assert_int_equal(eg_learn_parse_log(full, &back, err), 1);
	}
	assert_string_equal(back.workload, "default");
	assert_string_equal(back.name, "a.example");
	assert_int_equal(back.port, 443);
	assert_int_equal(back.count, 3);
	assert_int_equal(back.first, 1010);
	assert_int_equal(back.last, 1070);
	assert_int_equal(eg_learn_line(&k.e[4], line, 20), -1);
	/* a learn line that does not hold together */
	assert_int_equal(eg_learn_parse_log("ts=2026-12-07T22:43:46.319Z "
	    "daemon=dohd event=learn workload=default name=\"a.example\" "
	    "port=443 qtype=16 count=1 first=1 last=1", &back, err), -1);
	assert_int_equal(eg_learn_parse_log("ts=2026-12-07T22:43:46.319Z "
	    "daemon=dohd event=learn workload=default name=\"a b\" "
	    "port=443 qtype=0 count=1 first=1 last=1", &back, err), -1);
	assert_int_equal(eg_learn_parse_log("ts=2026-12-07T22:43:46.319Z "
	    "daemon=dohd event=learn workload=default name=\"a.example\" "
	    "port=443 qtype=0 count=1 first=2", &back, err), -1);
	eg_learn_table_free(t);
}

/* mode = learn is report mode for the engine: nothing else loosens. */
static void
test_learn_mode(void **state)
{
	static const char text[] =
	    "[jail]\ninterface = br0\n"
	    "[chain]\nhop = http://10.20.0.2:3128\n"
	    "[dohd]\nupstream = https://dns.example/dns-query 192.0.2.53\n"
	    "[policy]\nmode = learn\nallow = a.example\n";
	struct eg_config_errors e;
	struct eg_config *c;
	struct eg_policy *p;
	struct eg_decision d;
	struct eg_cidr host;
	char err[EG_ERR_MAX];

	(void)state;
	c = eg_config_load_buf("t.conf", text, strlen(text),
	    EG_CONFIG_NO_USERS, &e);
	assert_non_null(c);
	assert_int_equal(c->policy.mode, EG_MODE_LEARN);
	assert_string_equal(eg_mode_str(c->policy.mode), "learn");
	assert_true(eg_cidr_parse("203.0.113.5/32", &host, err));
	assert_non_null(p = eg_policy_new(c, &host, 1, err));
	d = eg_policy_check_host(p, "b.example", 443);
	assert_int_equal(d.verdict, EG_ALLOW);
	assert_true(d.reported);
	assert_int_equal(d.reason, EG_R_NO_RULE);
	d = eg_policy_check_dns(p, "a.example", 16);
	assert_int_equal(d.verdict, EG_ALLOW);
	assert_true(d.reported);
	/* hard denials stay */
	d = eg_policy_check_host(p, "203.0.113.5", 443);
	assert_int_equal(d.verdict, EG_DENY);
	d = eg_policy_check_dns(p, "a.example", 255);
	assert_int_equal(d.verdict, EG_DENY);
	assert_true(eg_learn_allowlist_reason("no_rule"));
	assert_false(eg_learn_allowlist_reason("ip_literal"));
	assert_false(eg_learn_allowlist_reason(NULL));
	eg_policy_free(p);
	eg_config_free(c);
}

static void
test_learn_exact(void **state)
{
	struct eg_learn_result res;
	struct eg_policy *p;
	struct eg_config *c;
	struct recs *r = calloc(1, sizeof(*r));
	char *text;

	(void)state;
	add(r, "api.example.com", 443, 0);
	add(r, "api.example.com", 443, 0);
	add(r, "api.example.com", 80, 0);
	add(r, "api.example.com", 0, 1);
	add(r, "bulk.example.com", 8000, 0);
	add(r, "bulk.example.com", 8001, 0);
	add(r, "bulk.example.com", 8002, 0);
	add(r, "bulk.example.com", 9000, 0);
	add(r, "dns-only.example.org", 0, 28);
	add(r, "txt.example.org", 0, 16);
	add(r, "txt.example.org", 0, 15);
	add(r, "txt.example.org", 0, 255);	/* ANY: never answered */
	reduce(r, 0, &res);
	assert_int_equal(res.nrecords, 12);
	assert_int_equal(res.nnames, 4);
	assert_int_equal(res.nrules, 4);
	assert_int_equal(res.never, 1);
	text = print(&res);
	assert_has_line(text, "api.example.com:80,443");
	assert_has_line(text, "bulk.example.com:8000-8002,9000");
	assert_has_line(text, "# dns-only.example.org: asked in DNS only, no "
	    "connection seen; 443 is the default port");
	assert_has_line(text, "dns-only.example.org:443");
	assert_has_line(text, "txt.example.org:443 qtype=MX,TXT");
	assert_non_null(strstr(text, "# 1 queries left out"));
	free(text);
	replay(r, &res, &p, &c);
	/* smallest: nothing but what was seen */
	assert_int_equal(eg_policy_check_host(p, "api.example.com", 8443)
	    .verdict, EG_DENY);
	assert_int_equal(eg_policy_check_host(p, "bulk.example.com", 8003)
	    .verdict, EG_DENY);
	assert_int_equal(eg_policy_check_host(p, "x.example.com", 443)
	    .verdict, EG_DENY);
	assert_int_equal(eg_policy_check_dns(p, "api.example.com", 16)
	    .verdict, EG_DENY);
	done(p, c, &res);
	free(r);
}

static void
test_learn_one_label(void **state)
{
	struct eg_learn_result res;
	struct eg_policy *p;
	struct eg_config *c;
	struct recs *r = calloc(1, sizeof(*r));
	char name[64], *text;
	int i;

	(void)state;
	for (i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "n%d.cdn.example.com", i);
		add(r, name, i == 0 ? 80 : 443, 0);
	}
	add(r, "cdn.example.com", 443, 0);	/* the parent stays exact */
	/* four siblings are not many */
	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "m%d.img.example.com", i);
		add(r, name, 443, 0);
	}
	reduce(r, 5, &res);
	text = print(&res);
	assert_has_line(text, "*.cdn.example.com:80,443");
	assert_has_line(text, "cdn.example.com:443");
	assert_non_null(strstr(text, "# *.cdn.example.com: 6 sibling names "
	    "seen (n0.cdn.example.com, n1.cdn.example.com, "
	    "n2.cdn.example.com, ...)"));
	assert_has_line(text, "m0.img.example.com:443");
	assert_null(strstr(text, "*.img.example.com"));
	assert_null(strstr(text, "**."));
	assert_int_equal(res.nrules, 2 + 4);
	free(text);
	replay(r, &res, &p, &c);
	assert_int_equal(eg_policy_check_host(p, "new.cdn.example.com", 443)
	    .verdict, EG_ALLOW);
	assert_int_equal(eg_policy_check_host(p, "a.b.cdn.example.com", 443)
	    .verdict, EG_DENY);
	assert_int_equal(eg_policy_check_host(p, "m9.img.example.com", 443)
	    .verdict, EG_DENY);
	done(p, c, &res);

	/* with min_siblings 4 the img group qualifies too */
	reduce(r, 4, &res);
	text = print(&res);
	assert_has_line(text, "*.img.example.com:443");
	free(text);
	eg_learn_result_free(&res);
	free(r);
}

static void
test_learn_any_depth(void **state)
{
	struct eg_learn_result res;
	struct eg_policy *p;
	struct eg_config *c;
	struct recs *r = calloc(1, sizeof(*r));
	char name[64], *text;
	int i;

	(void)state;
	/* random-looking two-label subdomains: only "**." covers them */
	for (i = 0; i < 7; i++) {
		snprintf(name, sizeof(name), "h%d.r%d.blob.example.net", i, i);
		add(r, name, 443, 0);
	}
	add(r, "x.blob.example.net", 443, 0);
	/* two groups of three at depth two are not spread enough */
	for (i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "k%d.%s.few.example.net", i,
		    i < 3 ? "a" : "b");
		add(r, name, 443, 0);
	}
	reduce(r, 5, &res);
	text = print(&res);
	assert_has_line(text, "**.blob.example.net:443");
	assert_no_line(text, "x.blob.example.net:443");
	assert_non_null(strstr(text, "# **.blob.example.net: 8 names seen"));
	assert_non_null(strstr(text, "review it"));
	assert_has_line(text, "k0.a.few.example.net:443");
	assert_null(strstr(text, "**.few.example.net"));
	assert_null(strstr(text, "**.example.net"));
	free(text);
	replay(r, &res, &p, &c);
	assert_int_equal(eg_policy_check_host(p, "k9.c.few.example.net", 443)
	    .verdict, EG_DENY);
	done(p, c, &res);
	free(r);
}

static void
test_learn_public_suffix(void **state)
{
	struct eg_learn_result res;
	struct recs *r = calloc(1, sizeof(*r));
	char name[64], *text;
	int i;

	(void)state;
	for (i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "shop%d.co.uk", i);
		add(r, name, 443, 0);
		snprintf(name, sizeof(name), "user%d.github.io", i);
		add(r, name, 443, 0);
		snprintf(name, sizeof(name), "site%d.com", i);
		add(r, name, 443, 0);
		/* "*.1.2.3" would be refused: "1.2.3" is an address */
		snprintf(name, sizeof(name), "h%d.1.2.3", i);
		add(r, name, 443, 0);
	}
	reduce(r, 5, &res);
	text = print(&res);
	assert_null(strstr(text, "*"));
	assert_int_equal(res.nrules, 32);
	free(text);
	eg_learn_result_free(&res);
	free(r);
}

static void
test_learn_skipped_and_empty(void **state)
{
	struct eg_learn_result res;
	struct recs *r = calloc(1, sizeof(*r));
	char *text;

	(void)state;
	reduce(r, 0, &res);
	assert_int_equal(res.nrules, 0);
	text = print(&res);
	assert_non_null(strstr(text, "# 0 records of 0 names; 0 rules"));
	free(text);
	eg_learn_result_free(&res);

	/* records that did not come through the parser are checked again */
	add(r, "10.0.0.1", 443, 0);
	add(r, "Upper.Example", 443, 0);
	add(r, "a..b", 443, 0);
	add(r, "both.example", 443, 1);
	add(r, "neither.example", 0, 0);
	add(r, "ok.example", 443, 0);
	r->e[r->n - 1].count = 0;
	add(r, "fine.example", 443, 0);
	reduce(r, 0, &res);
	assert_int_equal(res.skipped, 6);
	assert_int_equal(res.nrules, 1);
	assert_string_equal(res.rules[0].suffix, "fine.example");
	eg_learn_result_free(&res);
	free(r);
}

/* Past 16 port ranges and 32 types a rule takes more lines. */
static void
test_learn_wide_rule(void **state)
{
	struct eg_learn_result res;
	struct eg_policy *p;
	struct eg_config *c;
	struct recs *r = calloc(1, sizeof(*r));
	char line[2048];
	int i;

	(void)state;
	/* 20 ranges: two lines of ports, three of types */
	for (i = 0; i < 20; i++)
		add(r, "wide.example", (uint16_t)(1000 + 2 * i), 0);
	for (i = 0; i < 70; i++)
		add(r, "wide.example", 0, (uint16_t)(1000 + i));
	reduce(r, 0, &res);
	assert_int_equal(res.nrules, 1);
	assert_int_equal(res.rules[0].nports, 20);
	assert_int_equal(res.rules[0].nqtypes, 70);
	for (i = 0; eg_learn_rule_line(&res.rules[0], (size_t)i, line,
	    sizeof(line)) == 1; i++)
		;
	assert_int_equal(i, 3);		/* 70 types / 32 */
	assert_int_equal(eg_learn_rule_line(&res.rules[0], 0, line, 10), -1);
	replay(r, &res, &p, &c);
	done(p, c, &res);
	free(r);
}

/* A few thousand records of mixed shape: the replay admits them all. */
static void
test_learn_replay_random(void **state)
{
	static const char *const zones[] = { "example.com", "cdn.example.com",
	    "a.b.example.org", "example.co.uk", "svc.internal.test" };
	struct eg_learn_result res;
	struct eg_policy *p;
	struct eg_config *c;
	struct recs *r = calloc(1, sizeof(*r));
	uint32_t x = 12345;
	char name[128];
	int i;

	(void)state;
	for (i = 0; i < 3000; i++) {
		uint32_t depth, z;

		x = x * 1103515245 + 12345;
		z = (x >> 8) % 5;
		depth = (x >> 4) % 3;
		snprintf(name, sizeof(name), "%s%u.%s", depth == 2 ? "d." : "",
		    (x >> 12) % (depth == 0 ? 4 : 40), zones[z]);
		if ((x >> 20) % 3 == 0)
			add(r, name, 0, (uint16_t)((x >> 22) % 4 == 0 ? 16 :
			    28));
		else
			add(r, name, (uint16_t)(443 + (x >> 24) % 3), 0);
	}
	reduce(r, 0, &res);
	assert_int_equal(res.nrecords, 3000);
	replay(r, &res, &p, &c);
	done(p, c, &res);
	free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = TEST_LIST(LEARN_TESTS);

	return cmocka_run_group_tests(tests, NULL, NULL);
}
