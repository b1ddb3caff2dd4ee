/*
 * test_wl.c - decisions per workload: a query is decided by the engine of
 * the workload its listener belongs to; an answer or a denial cached for
 * one workload is never served to another; a reload that renumbers the
 * workloads keeps each listener on its own workload's rules, and one that
 * removes a workload refuses what still arrives for it (also a query in
 * flight across the reload).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "helpers.h"

#include "test_list.h"

#define BASE \
	"[jail]\n" \
	"interface = br-*\n" \
	"[chain]\n" \
	"hop = http://10.20.0.2:3128\n" \
	"[dohd]\n" \
	"upstream = https://dns.example/dns-query 192.0.2.53\n" \
	"rate_limit = 0\n" \
	"[policy]\n" \
	"allow = api.example.com\n"

static const char conf[] = BASE
    "[workload ci]\n"
    "match = iface:br-ci0\n"
    "allow = ci.example.com\n"
    "allow = shared.example.com\n"
    "[workload web]\n"
    "match = iface:br-web0\n"
    "allow = web.example.com\n"
    "mode = learn\n";

/* web first, ci gone, db new: every index moves */
static const char conf2[] = BASE
    "[workload web]\n"
    "match = iface:br-web0\n"
    "allow = web.example.com\n"
    "[workload db]\n"
    "match = iface:br-db0\n"
    "allow = db.example.com\n";

static int
setup(void **st)
{
	*st = fake_new_flags(conf, EG_CONFIG_WORKLOADS);
	return 0;
}

static int
teardown(void **st)
{
	fake_free(*st);
	return 0;
}

/* The listener's tag as dohd/wl.c sets it for generation gen. */
static struct dquery_src
src_of(const char *wl, unsigned idx, unsigned gen)
{
	struct dquery_src s = test_src;

	snprintf(s.wl.name, sizeof(s.wl.name), "%s", wl);
	s.wl.idx = idx;
	s.wl.gen = gen;
	return s;
}

static void
ask_from(struct fake *f, const struct dquery_src *s, uint16_t id,
    const char *name)
{
	uint8_t q[512];
	size_t n = mkquery(q, id, name, DNS_T_A, 1232);

	f->nreply = 0;
	dquery_handle(f->d, q, n, s, fake_reply, f);
}

static int
rcode_of(const struct fake *f)
{
	return DNS_RCODE(dns_get16(f->reply + 2));
}

static int
answer_a(struct fake *f, const char *rr)
{
	const char *rrs[] = { rr, NULL };
	uint8_t a[1024];
	size_t n = mkanswer(f->q, f->qlen, a, sizeof(a), 0, rrs);

	return f->cb(f->cbarg, 0, a, n);
}

static void
test_wl_each_workload_its_own_names(void **st)
{
	struct fake *f = *st;
	struct dquery_src def = src_of("", 0, 0), ci = src_of("ci", 1, 0),
	    web = src_of("web", 2, 0);

	/* ci's name: only from ci's listener */
	ask_from(f, &ci, 1, "ci.example.com");
	assert_int_equal(f->nresolve, 1);
	assert_int_equal(answer_a(f, "ci.example.com. 300 IN A 192.0.2.10"),
	    0);
	assert_int_equal(f->nreply, 1);
	assert_int_equal(rcode_of(f), DNS_R_NOERROR);
	ask_from(f, &def, 2, "ci.example.com");
	assert_int_equal(f->nreply, 1);
	assert_int_equal(rcode_of(f), DNS_R_NXDOMAIN);
	ask_from(f, &web, 3, "ci.example.com");
	assert_int_equal(f->nreply, 0);
	/* web is in learn mode: let through (reported), asked upstream */
	assert_int_equal(f->nresolve, 2);
	assert_int_equal(f->d->st.reported, 1);
	assert_int_equal(answer_a(f, "ci.example.com. 300 IN A 192.0.2.10"),
	    0);
	assert_int_equal(rcode_of(f), DNS_R_NOERROR);

	/* [policy]'s name: not a workload's */
	ask_from(f, &ci, 4, "api.example.com");
	assert_int_equal(f->nreply, 1);
	assert_int_equal(rcode_of(f), DNS_R_NXDOMAIN);
	ask_from(f, &def, 5, "api.example.com");
	assert_int_equal(f->nreply, 0);		/* asked upstream */
	assert_int_equal(f->nresolve, 3);
	assert_int_equal(answer_a(f, "api.example.com. 300 IN A 192.0.2.11"),
	    0);
	assert_int_equal(rcode_of(f), DNS_R_NOERROR);
}

/* An answer cached for ci is not one for the default workload, nor a
 * denial remembered for the default one a denial for ci. */
static void
test_wl_cache_per_workload(void **st)
{
	struct fake *f = *st;
	struct dquery_src def = src_of("", 0, 0), ci = src_of("ci", 1, 0);

	/* the default workload is denied first: remembered for it */
	ask_from(f, &def, 1, "shared.example.com");
	assert_int_equal(rcode_of(f), DNS_R_NXDOMAIN);
	ask_from(f, &def, 2, "shared.example.com");
	assert_int_equal(rcode_of(f), DNS_R_NXDOMAIN);
	assert_int_equal(f->d->st.denied, 2);
	/* ci is allowed: not the default's denial, an upstream answer */
	ask_from(f, &ci, 3, "shared.example.com");
	assert_int_equal(f->nresolve, 1);
	assert_int_equal(f->nreply, 0);
	assert_int_equal(answer_a(f,
	    "shared.example.com. 300 IN A 192.0.2.12"), 0);
	assert_int_equal(rcode_of(f), DNS_R_NOERROR);
	/* ci again: its cache entry */
	ask_from(f, &ci, 4, "shared.example.com");
	assert_int_equal(f->nresolve, 1);
	assert_int_equal(rcode_of(f), DNS_R_NOERROR);
	assert_int_equal(f->d->st.cache_hits, 1);
	/* the default workload still gets its denial, not ci's answer */
	ask_from(f, &def, 5, "shared.example.com");
	assert_int_equal(f->nreply, 1);
	assert_int_equal(rcode_of(f), DNS_R_NXDOMAIN);
	assert_int_equal(f->d->st.cache_hits, 1);
	assert_int_equal(f->d->st.denied, 3);
}

static void
test_wl_reload_renumbers_and_removes(void **st)
{
	struct fake *f = *st;
	/* tags of generation 0: ci 1, web 2 */
	struct dquery_src ci = src_of("ci", 1, 0), web = src_of("web", 2, 0),
	    db1 = src_of("db", 2, 1);

	/* a query of ci in flight across the reload that removes ci */
	ask_from(f, &ci, 1, "ci.example.com");
	assert_int_equal(f->nresolve, 1);
	fake_reload(f, conf2, EG_CONFIG_WORKLOADS);
	assert_int_equal(answer_a(f, "ci.example.com. 300 IN A 192.0.2.10"),
	    0);
	assert_int_equal(f->nreply, 1);
	assert_int_equal(rcode_of(f), DNS_R_REFUSED);
	/* and what still arrives on ci's listener (a TCP connection) */
	ask_from(f, &ci, 2, "ci.example.com");
	assert_int_equal(f->nreply, 1);
	assert_int_equal(rcode_of(f), DNS_R_REFUSED);
	assert_int_equal(f->nresolve, 1);

	/* web's old tag says index 2, which is db's now: found by name,
	 * web's rules (now enforce), never db's */
	ask_from(f, &web, 3, "db.example.com");
	assert_int_equal(f->nreply, 1);
	assert_int_equal(rcode_of(f), DNS_R_NXDOMAIN);
	ask_from(f, &web, 4, "web.example.com");
	assert_int_equal(f->nreply, 0);
	assert_int_equal(f->nresolve, 2);
	assert_int_equal(answer_a(f, "web.example.com. 300 IN A 192.0.2.13"),
	    0);
	assert_int_equal(rcode_of(f), DNS_R_NOERROR);
	/* db's tag of the new generation */
	ask_from(f, &db1, 5, "db.example.com");
	assert_int_equal(f->nresolve, 3);
	assert_int_equal(answer_a(f, "db.example.com. 300 IN A 192.0.2.14"),
	    0);
	assert_int_equal(rcode_of(f), DNS_R_NOERROR);
	ask_from(f, &db1, 6, "web.example.com");
	assert_int_equal(rcode_of(f), DNS_R_NXDOMAIN);
}

static void
resolved(void *arg, const struct dquery_src *src, const uint8_t *wire,
    size_t len)
{
	fake_reply(arg, src, wire, len);
}

/* connectd's lookups for a workload's connection: that workload's rules. */
static void
test_wl_connectd_lookup(void **st)
{
	struct fake *f = *st;

	dquery_resolve(f->d, "ci.example.com", DNS_T_A, false, "ci", resolved,
	    f);
	assert_int_equal(f->nresolve, 1);
	assert_int_equal(answer_a(f, "ci.example.com. 300 IN A 192.0.2.10"),
	    0);
	assert_int_equal(rcode_of(f), DNS_R_NOERROR);
	f->nreply = 0;
	dquery_resolve(f->d, "ci.example.com", DNS_T_A, false, "", resolved,
	    f);
	assert_int_equal(f->nreply, 1);
	assert_int_equal(rcode_of(f), DNS_R_NXDOMAIN);
	f->nreply = 0;
	dquery_resolve(f->d, "api.example.com", DNS_T_A, false, "nosuch",
	    resolved, f);
	assert_int_equal(f->nreply, 1);
	assert_int_equal(rcode_of(f), DNS_R_REFUSED);
	assert_int_equal(f->nresolve, 1);
}

/* Counters per workload: by decision, kept by name across a reload. */
static void
test_wl_counters(void **st)
{
	struct fake *f = *st;
	struct dquery_src def = src_of("", 0, 0), ci = src_of("ci", 1, 0),
	    web = src_of("web", 2, 0);
	char text[2048];

	assert_int_equal(dwlstat_sync(f->d), 0);
	ask_from(f, &ci, 1, "api.example.com");		/* denied */
	ask_from(f, &ci, 2, "api.example.com");
	ask_from(f, &def, 3, "ci.example.com");		/* denied */
	ask_from(f, &web, 4, "web.example.com");	/* allowed, upstream */
	assert_int_equal(answer_a(f, "web.example.com. 300 IN A 192.0.2.13"),
	    0);
	dwlstat_text(f->d, text, sizeof(text));
	assert_non_null(strstr(text, "wl_queries.ci=2\n"));
	assert_non_null(strstr(text, "wl_denied.ci=2\n"));
	assert_non_null(strstr(text, "wl_allowed.ci=0\n"));
	assert_non_null(strstr(text, "wl_denied.default=1\n"));
	assert_non_null(strstr(text, "wl_allowed.web=1\n"));
	/* the global counters as before */
	assert_int_equal(f->d->st.denied, 3);
	assert_int_equal(f->d->st.allowed, 1);

	/* web renumbered (index 1 now), ci gone, db new */
	fake_reload(f, conf2, EG_CONFIG_WORKLOADS);
	assert_int_equal(dwlstat_sync(f->d), 0);
	ask_from(f, &web, 5, "db.example.com");		/* old tag: by name */
	dwlstat_text(f->d, text, sizeof(text));
	assert_non_null(strstr(text, "wl_allowed.web=1\n"));
	assert_non_null(strstr(text, "wl_denied.web=1\n"));
	assert_non_null(strstr(text, "wl_queries.db=0\n"));
	assert_null(strstr(text, ".ci="));
	ask_from(f, &ci, 6, "ci.example.com");		/* gone: nowhere */
	dwlstat_text(f->d, text, sizeof(text));
	assert_null(strstr(text, ".ci="));
	assert_non_null(strstr(text, "wl_queries.default=1\n"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = TEST_LIST(WL_TESTS);

	return cmocka_run_group_tests(tests, NULL, NULL);
}
