/*
 * test_ask.c - mode = ask in dohd: the hold table (ask.c) against a fake
 * broker, and the query path holding, answering and denying through it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "helpers.h"

#include "dask.h"
#include "test_list.h"

static const char conf_ask[] =
    "[jail]\n"
    "interface = br0\n"
    "[chain]\n"
    "hop = http://10.20.0.2:3128\n"
    "[dohd]\n"
    "upstream = https://dns.example/dns-query 192.0.2.53\n"
    "rate_limit = 0\n"
    "[policy]\n"
    "mode = ask\n"
    "ask_max = 2\n"
    "ask_dns_hold = 1500ms\n"
    "allow = api.example.com\n";

#define ASKS_MAX 8

/* The broker: records each question; the test answers it. */
struct broker {
	int n;
	bool refuse;
	struct {
		dask_cb cb;
		void *arg;
		char wl[40];
		char name[EG_NAME_MAX + 1];
		uint16_t qtype;
		uint64_t timeout_ms;
		struct eg_ip src;
		bool done;
	} q[ASKS_MAX];
};

static int
broker_ask(void *ctx, const char *wl, const char *name, uint16_t qtype,
    const struct eg_ip *src, uint64_t timeout_ms, dask_cb cb, void *arg)
{
	struct broker *b = ctx;

	if (b->refuse || b->n == ASKS_MAX)
		return -1;
	b->q[b->n].cb = cb;
	b->q[b->n].arg = arg;
	snprintf(b->q[b->n].wl, sizeof(b->q[b->n].wl), "%s", wl);
	snprintf(b->q[b->n].name, sizeof(b->q[b->n].name), "%s", name);
	b->q[b->n].qtype = qtype;
	b->q[b->n].timeout_ms = timeout_ms;
	b->q[b->n].src = *src;
	b->q[b->n].done = false;
	b->n++;
	return 0;
}

static void
broker_answer(struct broker *b, int i, bool allow, const char *reason)
{
	assert_false(b->q[i].done);
	b->q[i].done = true;
	b->q[i].cb(b->q[i].arg, allow, reason);
}

/* What each held query was told. */
struct told {
	int n;
	bool allow;
	const char *reason;
};

static void
on_told(void *arg, bool allow, const char *reason)
{
	struct told *t = arg;

	t->n++;
	t->allow = allow;
	t->reason = reason;
}

static struct eg_config *
cfg_new(const char *text)
{
	struct eg_config_errors e = { NULL, 0 };
	struct eg_config *c;

	c = eg_config_load_buf("t.conf", text, strlen(text),
	    EG_CONFIG_NO_USERS, &e);
	if (c == NULL)
		for (size_t i = 0; i < e.n; i++)
			fprintf(stderr, "config: %s\n", e.msgs[i]);
	eg_config_errors_free(&e);
	assert_non_null(c);
	return c;
}

static struct eg_ip src4 = { .family = AF_INET, .addr = { 10, 77, 0, 2 } };

static void
test_ask_wanted(void **st)
{
	const enum eg_policy_mode m = EG_MODE_ASK;

	(void)st;
	assert_true(dask_wanted(m, EG_R_NO_RULE, DNS_T_A));
	assert_true(dask_wanted(m, EG_R_NO_RULE, DNS_T_AAAA));
	assert_true(dask_wanted(m, EG_R_PORT, DNS_T_HTTPS));
	/* a tunnel's types and denials no rule could change: never asked */
	assert_false(dask_wanted(m, EG_R_NO_RULE, DNS_T_TXT));
	assert_false(dask_wanted(m, EG_R_NO_RULE, DNS_T_NULL));
	assert_false(dask_wanted(m, EG_R_QTYPE, DNS_T_A));
	assert_false(dask_wanted(m, EG_R_BAD_NAME, DNS_T_A));
	assert_false(dask_wanted(m, EG_R_DENY_CIDR, DNS_T_A));
	/* an empty allowlist: every name is a question */
	assert_true(dask_wanted(m, EG_R_EMPTY, DNS_T_A));
	assert_false(dask_wanted(EG_MODE_ENFORCE, EG_R_NO_RULE, DNS_T_A));
	assert_false(dask_wanted(EG_MODE_REPORT, EG_R_NO_RULE, DNS_T_A));
}

/* A and AAAA for one name: one question, both answered by it. */
static void
test_ask_hold_coalesces(void **st)
{
	struct eg_config *c = cfg_new(conf_ask);
	struct broker b = { 0 };
	struct dask_broker br = { broker_ask, &b };
	struct dask *t = dask_new(&br);
	struct told t1 = { 0 }, t2 = { 0 }, t3 = { 0 };
	struct dask_stats s;
	const char *why = NULL;

	(void)st;
	assert_int_equal(dask_hold(t, c, "default", "new.example", DNS_T_A,
	    &src4, on_told, &t1, &why), 0);
	assert_int_equal(dask_hold(t, c, "default", "new.example",
	    DNS_T_AAAA, &src4, on_told, &t2, &why), 0);
	/* another workload asks its own question */
	assert_int_equal(dask_hold(t, c, "ci", "new.example", DNS_T_A,
	    &src4, on_told, &t3, &why), 0);
	assert_int_equal(b.n, 2);
	assert_string_equal(b.q[0].name, "new.example");
	assert_string_equal(b.q[0].wl, "default");
	assert_int_equal(b.q[0].qtype, DNS_T_A);
	assert_int_equal(b.q[0].timeout_ms, 1500);	/* ask_dns_hold */
	assert_true(eg_ip_equal(&b.q[0].src, &src4));
	assert_string_equal(b.q[1].wl, "ci");
	dask_stats(t, &s);
	assert_int_equal(s.names, 2);
	assert_int_equal(s.held, 3);
	assert_int_equal(s.asked, 2);
	assert_int_equal(s.joined, 1);
	assert_int_equal(t1.n + t2.n, 0);
	broker_answer(&b, 0, true, "ask-once");
	assert_int_equal(t1.n, 1);
	assert_int_equal(t2.n, 1);
	assert_true(t1.allow && t2.allow);
	assert_string_equal(t2.reason, "ask-once");
	assert_int_equal(t3.n, 0);
	/* the name is free again: the next query asks again */
	assert_int_equal(dask_hold(t, c, "default", "new.example", DNS_T_A,
	    &src4, on_told, &t1, &why), 0);
	assert_int_equal(b.n, 3);
	broker_answer(&b, 2, false, "ask-hold-timeout");
	assert_int_equal(t1.n, 2);
	assert_false(t1.allow);
	assert_string_equal(t1.reason, "ask-hold-timeout");
	/* freeing the table denies what it still holds */
	dask_free(t);
	assert_int_equal(t3.n, 1);
	assert_false(t3.allow);
	assert_string_equal(t3.reason, "ask-stopped");
	eg_config_free(c);
}

/* ask_max names, DASK_PER_NAME queries on a name; the rest at once. */
static void
test_ask_hold_bounded(void **st)
{
	struct eg_config *c = cfg_new(conf_ask);
	struct broker b = { 0 };
	struct dask_broker br = { broker_ask, &b };
	struct dask *t = dask_new(&br);
	struct told told[DASK_PER_NAME + 4];
	struct dask_stats s;
	const char *why = NULL;
	int i;

	(void)st;
	memset(told, 0, sizeof(told));
	assert_int_equal(dask_hold(t, c, "default", "a.flood.example",
	    DNS_T_A, &src4, on_told, &told[0], &why), 0);
	assert_int_equal(dask_hold(t, c, "default", "b.flood.example",
	    DNS_T_A, &src4, on_told, &told[1], &why), 0);
	/* ask_max = 2: a third name is refused, not asked */
	assert_int_equal(dask_hold(t, c, "default", "c.flood.example",
	    DNS_T_A, &src4, on_told, &told[2], &why), -1);
	assert_string_equal(why, "ask-busy");
	assert_int_equal(b.n, 2);
	for (i = 1; i < DASK_PER_NAME; i++)
		assert_int_equal(dask_hold(t, c, "default", "a.flood.example",
		    DNS_T_A, &src4, on_told, &told[3], &why), 0);
	assert_int_equal(dask_hold(t, c, "default", "a.flood.example",
	    DNS_T_A, &src4, on_told, &told[3], &why), -1);
	assert_string_equal(why, "ask-busy");
	dask_stats(t, &s);
	assert_int_equal(s.held, DASK_PER_NAME + 1);
	assert_int_equal(s.busy, 2);
	assert_int_equal(s.asked, 2);
	broker_answer(&b, 0, false, "ask-deny");
	assert_int_equal(told[3].n, DASK_PER_NAME - 1);
	assert_string_equal(told[3].reason, "ask-deny");
	/* room again */
	assert_int_equal(dask_hold(t, c, "default", "c.flood.example",
	    DNS_T_A, &src4, on_told, &told[2], &why), 0);
	dask_stats(t, &s);
	assert_int_equal(s.names, 2);
	assert_int_equal(s.denied, DASK_PER_NAME);
	broker_answer(&b, 1, false, "ask-deny");
	broker_answer(&b, 2, false, "ask-deny");
	dask_stats(t, &s);
	assert_int_equal(s.names, 0);
	assert_int_equal(s.held, 0);
	dask_free(t);
	eg_config_free(c);
}

/* No broker, a broker that cannot ask, a name it would not take. */
static void
test_ask_hold_fails_closed(void **st)
{
	struct eg_config *c = cfg_new(conf_ask);
	struct broker b = { .refuse = true };
	struct dask_broker br = { broker_ask, &b };
	struct dask *t = dask_new(&br), *none = dask_new(NULL);
	struct told t1 = { 0 };
	struct eg_ip nosrc = { 0 };
	const char *why = NULL;

	(void)st;
	assert_int_equal(dask_hold(none, c, "default", "x.example", DNS_T_A,
	    &src4, on_told, &t1, &why), -1);
	assert_string_equal(why, "ask-no-broker");
	assert_int_equal(dask_hold(NULL, c, "default", "x.example", DNS_T_A,
	    &src4, on_told, &t1, &why), -1);
	assert_int_equal(dask_hold(t, c, "default", "x.example", DNS_T_A,
	    &src4, on_told, &t1, &why), -1);
	assert_string_equal(why, "ask-no-broker");
	b.refuse = false;
	assert_int_equal(dask_hold(t, c, "default", "X.example", DNS_T_A,
	    &src4, on_told, &t1, &why), -1);
	assert_string_equal(why, "ask-bad-name");
	assert_int_equal(dask_hold(t, c, "default", "10.0.0.1", DNS_T_A,
	    &src4, on_told, &t1, &why), -1);
	assert_int_equal(dask_hold(t, c, "default", "x.example", DNS_T_A,
	    &nosrc, on_told, &t1, &why), -1);
	assert_int_equal(b.n, 0);
	/* the refused ask left nothing behind: a new one goes out */
	assert_int_equal(dask_hold(t, c, "default", "x.example", DNS_T_A,
	    &src4, on_told, &t1, &why), 0);
	assert_int_equal(b.n, 1);
	assert_int_equal(t1.n, 0);
	broker_answer(&b, 0, false, "ask-no-decider");
	assert_int_equal(t1.n, 1);
	dask_free(t);
	dask_free(none);
	eg_config_free(c);
}

/* ---- the query path in ask mode */

struct askfake {
	struct fake *f;
	struct broker b;
};

static int
setup(void **st)
{
	struct askfake *a = calloc(1, sizeof(*a));
	struct dask_broker br = { broker_ask, NULL };

	assert_non_null(a);
	a->f = fake_new(conf_ask);
	br.ctx = &a->b;
	a->f->d->ask = dask_new(&br);
	*st = a;
	return 0;
}

static int
teardown(void **st)
{
	struct askfake *a = *st;

	dask_free(a->f->d->ask);
	fake_free(a->f);
	free(a);
	return 0;
}

static void
query(struct fake *f, uint16_t id, const char *name, uint16_t type)
{
	uint8_t q[512];
	size_t n = mkquery(q, id, name, type, 1232);

	f->nreply = 0;
	dquery_handle(f->d, q, n, &test_src, fake_reply, f);
}

static int
rcode_of(const struct fake *f)
{
	return DNS_RCODE(dns_get16(f->reply + 2));
}

/* Held, allowed, resolved; the answer is cached without its decision. */
static void
test_ask_query_allowed(void **st)
{
	struct askfake *a = *st;
	struct fake *f = a->f;
	const char *rrs[] = { "new.example. 300 IN A 203.0.113.7", NULL };
	uint8_t ans[4096];
	size_t n;

	query(f, 7, "New.Example", DNS_T_A);
	assert_int_equal(f->nreply, 0);		/* held */
	assert_int_equal(f->nresolve, 0);	/* nothing upstream yet */
	assert_int_equal(a->b.n, 1);
	assert_string_equal(a->b.q[0].name, "new.example");
	broker_answer(&a->b, 0, true, "ask-once");
	assert_int_equal(f->nresolve, 1);
	n = mkanswer(f->q, f->qlen, ans, sizeof(ans), 0, rrs);
	assert_int_equal(f->cb(f->cbarg, 0, ans, n), 0);
	assert_int_equal(f->nreply, 1);
	assert_int_equal(dns_get16(f->reply), 7);
	assert_int_equal(rcode_of(f), DNS_R_NOERROR);
	assert_int_equal(f->d->st.allowed, 1);
	/* the next query asks again (the grant is connectd's), and an
	 * allow is then served from the cache */
	query(f, 8, "new.example", DNS_T_A);
	assert_int_equal(f->nreply, 0);
	assert_int_equal(a->b.n, 2);
	broker_answer(&a->b, 1, true, "ask-granted");
	assert_int_equal(f->nreply, 1);
	assert_int_equal(f->nresolve, 1);
	assert_int_equal(f->d->st.cache_hits, 1);
	assert_int_equal(rcode_of(f), DNS_R_NOERROR);
	/* and a deny now is a deny, the cache notwithstanding */
	query(f, 9, "new.example", DNS_T_A);
	broker_answer(&a->b, 2, false, "ask-timeout");
	assert_int_equal(f->nreply, 1);
	assert_int_equal(rcode_of(f), DNS_R_NXDOMAIN);
	assert_int_equal(f->nresolve, 1);
}

/* A granted name's CNAME chain is followed through names no rule
 * admits; its addresses are still checked. */
static void
test_ask_query_granted_chain(void **st)
{
	struct askfake *a = *st;
	struct fake *f = a->f;
	const char *rrs[] = { "www.new.example. 300 IN CNAME edge.cdn.example.",
	    "edge.cdn.example. 300 IN A 203.0.113.9",
	    "edge.cdn.example. 300 IN A 10.1.2.3", NULL };
	struct eg_ip ip[4];
	uint32_t maxttl;
	uint8_t ans[4096];
	size_t n;

	query(f, 3, "www.new.example", DNS_T_A);
	broker_answer(&a->b, 0, true, "ask-for");
	assert_int_equal(f->nresolve, 1);
	n = mkanswer(f->q, f->qlen, ans, sizeof(ans), 0, rrs);
	assert_int_equal(f->cb(f->cbarg, 0, ans, n), 0);
	assert_int_equal(f->nreply, 1);
	assert_int_equal(rcode_of(f), DNS_R_NOERROR);
	/* the internal address is stripped, the public one served */
	assert_int_equal(dns_answer_addrs(f->reply, f->replylen, ip, 4,
	    &maxttl), 1);
	assert_int_equal(ip[0].addr[0], 203);
	assert_int_equal(f->d->st.cname_cut, 0);
}

/* Denied: NXDOMAIN, nothing upstream, not remembered. */
static void
test_ask_query_denied(void **st)
{
	struct askfake *a = *st;
	struct fake *f = a->f;

	query(f, 1, "no.example", DNS_T_AAAA);
	assert_int_equal(f->nreply, 0);
	broker_answer(&a->b, 0, false, "ask-deny");
	assert_int_equal(f->nreply, 1);
	assert_int_equal(rcode_of(f), DNS_R_NXDOMAIN);
	query(f, 2, "no.example", DNS_T_AAAA);
	assert_int_equal(f->nreply, 0);		/* asked again */
	assert_int_equal(a->b.n, 2);
	broker_answer(&a->b, 1, false, "ask-hold-timeout");
	assert_int_equal(rcode_of(f), DNS_R_NXDOMAIN);
	assert_int_equal(f->nresolve, 0);
	assert_int_equal(f->d->st.denied, 2);
}

/* Never asked: allowed names, a tunnel's types, a full table. */
static void
test_ask_query_not_asked(void **st)
{
	struct askfake *a = *st;
	struct fake *f = a->f;

	query(f, 1, "api.example.com", DNS_T_A);
	assert_int_equal(f->nresolve, 1);
	query(f, 2, "x.t.example", DNS_T_TXT);
	assert_int_equal(f->nreply, 1);
	assert_int_equal(rcode_of(f), DNS_R_NXDOMAIN);
	assert_int_equal(a->b.n, 0);
	/* ask_max = 2 names held; the third is denied at once */
	query(f, 3, "a.flood.example", DNS_T_A);
	query(f, 4, "b.flood.example", DNS_T_A);
	assert_int_equal(f->nreply, 0);
	query(f, 5, "c.flood.example", DNS_T_A);
	assert_int_equal(f->nreply, 1);
	assert_int_equal(rcode_of(f), DNS_R_NXDOMAIN);
	assert_int_equal(a->b.n, 2);
	broker_answer(&a->b, 0, false, "ask-deny");
	broker_answer(&a->b, 1, false, "ask-deny");
	assert_int_equal(f->nresolve, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = TEST_LIST(ASK_TESTS);

	eg_log_init("dohd-test", EG_LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
