/*
 * test_wlpolicy.c - one policy engine per workload: a name one workload
 * allows is denied in another and by default, each workload's mode,
 * permit_cidr and direct lines are its own, the host's addresses change
 * in every engine, and a source finds its workload (or a conflict).
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

#include "config.h"
#include "policy.h"
#include "wlpolicy.h"

#include "test_list.h"

#define BASE \
	"[jail]\n" \
	"interface = docker0\n" \
	"interface = br-*\n" \
	"user = agent\n" \
	"user = ci\n" \
	"direct = 10.0.1.215:5432\n" \
	"[chain]\n" \
	"hop = http://10.20.0.2:3128\n" \
	"[dohd]\n" \
	"upstream = https://dns.example/dns-query 192.0.2.53\n"

#define FLAGS (EG_CONFIG_NO_USERS | EG_CONFIG_WORKLOADS | EG_CONFIG_CGROUP)

#define THREE BASE \
	"[policy]\n" \
	"allow = default.example\n" \
	"[workload ci]\n" \
	"match = uid:ci\n" \
	"match = cidr:172.18.0.5/32\n" \
	"allow = ci.example\n" \
	"permit_cidr = 10.9.0.0/16\n" \
	"[workload web]\n" \
	"match = iface:br-web\n" \
	"allow = web.example:443\n" \
	"direct = db.internal:5432\n"

static struct eg_config *
load(const char *text)
{
	struct eg_config_errors e;
	struct eg_config *c;
	size_t i;

	c = eg_config_load_buf("t.conf", text, strlen(text), FLAGS, &e);
	if (c == NULL) {
		for (i = 0; i < e.n; i++)
			print_message("  error: %s\n", e.msgs[i]);
		eg_config_errors_free(&e);
		fail_msg("did not load");
	}
	return c;
}

static struct eg_wlpol *
build(const char *text)
{
	struct eg_config *c = load(text);
	struct eg_wlpol *w;
	char err[EG_ERR_MAX] = "";

	w = eg_wlpol_new(c, NULL, 0, err);
	if (w == NULL)
		fail_msg("eg_wlpol_new: %s", err);
	/* the set outlives its config */
	eg_config_free(c);
	return w;
}

static enum eg_reason
host(const struct eg_wlpol *w, const char *wl, const char *h, uint16_t port,
    enum eg_verdict *v)
{
	long i = eg_wlpol_find(w, wl);
	struct eg_decision d;

	assert_true(i >= 0);
	d = eg_policy_check_host(eg_wlpol_get(w, (size_t)i), h, port);
	*v = d.verdict;
	return d.reason;
}

#define ALLOWED(w, wl, h, port) do { \
	enum eg_verdict v_; \
	(void)host(w, wl, h, port, &v_); \
	assert_int_equal(v_, EG_ALLOW); \
} while (0)
#define DENIED(w, wl, h, port, why) do { \
	enum eg_verdict v_; \
	assert_int_equal(host(w, wl, h, port, &v_), why); \
	assert_int_equal(v_, EG_DENY); \
} while (0)

static void
test_wlpolicy_names_and_index(void **state)
{
	struct eg_wlpol *w;
	char err[EG_ERR_MAX] = "";

	(void)state;
	w = build(THREE);
	assert_int_equal(eg_wlpol_count(w), 3);
	assert_string_equal(eg_wlpol_name(w, 0), "default");
	assert_string_equal(eg_wlpol_name(w, 1), "ci");
	assert_string_equal(eg_wlpol_name(w, 2), "web");
	assert_null(eg_wlpol_name(w, 3));
	assert_null(eg_wlpol_get(w, 3));
	assert_int_equal(eg_wlpol_find(w, "default"), 0);
	assert_int_equal(eg_wlpol_find(w, "ci"), 1);
	assert_int_equal(eg_wlpol_find(w, "web"), 2);
	assert_int_equal(eg_wlpol_find(w, "nope"), -1);
	assert_int_equal(eg_wlpol_find(w, "CI"), -1);
	assert_int_equal(eg_wlpol_find(w, NULL), -1);
	assert_int_equal(eg_policy_nrules(eg_wlpol_get(w, 0)), 1);
	assert_int_equal(eg_policy_nrules(eg_wlpol_get(w, 1)), 1);
	assert_int_equal(eg_policy_nrules(eg_wlpol_get(w, 2)), 1);
	eg_wlpol_free(w);

	/* no [workload]: the default alone, and NULLs are refused */
	w = build(BASE "[policy]\nallow = a.example\n");
	assert_int_equal(eg_wlpol_count(w), 1);
	assert_string_equal(eg_wlpol_name(w, 0), "default");
	eg_wlpol_free(w);
	assert_null(eg_wlpol_new(NULL, NULL, 0, err));
	assert_non_null(strstr(err, "no configuration"));
	assert_int_equal(eg_wlpol_count(NULL), 0);
	assert_null(eg_wlpol_name(NULL, 0));
	assert_int_equal(eg_wlpol_find(NULL, "default"), -1);
	eg_wlpol_free(NULL);
}

static void
test_wlpolicy_name_allowed_only_in_its_workload(void **state)
{
	struct eg_wlpol *w;
	struct eg_decision d;

	(void)state;
	w = build(THREE);
	ALLOWED(w, "ci", "ci.example", 443);
	DENIED(w, "web", "ci.example", 443, EG_R_NO_RULE);
	DENIED(w, "default", "ci.example", 443, EG_R_NO_RULE);

	ALLOWED(w, "web", "web.example", 443);
	DENIED(w, "web", "web.example", 80, EG_R_PORT);
	DENIED(w, "ci", "web.example", 443, EG_R_NO_RULE);
	DENIED(w, "default", "web.example", 443, EG_R_NO_RULE);

	/* [policy]'s rules are not a workload's */
	ALLOWED(w, "default", "default.example", 443);
	DENIED(w, "ci", "default.example", 443, EG_R_NO_RULE);
	DENIED(w, "web", "default.example", 443, EG_R_NO_RULE);

	/* DNS the same */
	d = eg_policy_check_dns(eg_wlpol_get(w, 1), "ci.example", EG_QT_A);
	assert_int_equal(d.verdict, EG_ALLOW);
	d = eg_policy_check_dns(eg_wlpol_get(w, 0), "ci.example", EG_QT_A);
	assert_int_equal(d.verdict, EG_DENY);
	d = eg_policy_check_dns(eg_wlpol_get(w, 2), "ci.example", EG_QT_A);
	assert_int_equal(d.verdict, EG_DENY);
	eg_wlpol_free(w);
}

static void
test_wlpolicy_permit_and_direct_own(void **state)
{
	struct eg_wlpol *w;
	struct eg_decision d;
	struct eg_ip ip;
	size_t i;

	(void)state;
	w = build(THREE);
	/* permit_cidr is ci's alone */
	assert_true(eg_ip_parse("10.9.1.1", &ip, false));
	assert_int_equal(eg_policy_check_addr(eg_wlpol_get(w, 1),
	    &ip).verdict, EG_ALLOW);
	d = eg_policy_check_addr(eg_wlpol_get(w, 0), &ip);
	assert_int_equal(d.verdict, EG_DENY);
	assert_int_equal(d.reason, EG_R_DENY_CIDR);
	d = eg_policy_check_addr(eg_wlpol_get(w, 2), &ip);
	assert_int_equal(d.verdict, EG_DENY);

	/* [jail] direct holds for all; web's own direct for web only */
	for (i = 0; i < 3; i++) {
		d = eg_policy_check_host(eg_wlpol_get(w, i), "10.0.1.215",
		    5432);
		assert_int_equal(d.verdict, EG_ALLOW);
		assert_true(d.direct);
	}
	assert_true(eg_policy_is_direct_name(eg_wlpol_get(w, 2),
	    "db.internal", 5432));
	assert_false(eg_policy_is_direct_name(eg_wlpol_get(w, 1),
	    "db.internal", 5432));
	assert_false(eg_policy_is_direct_name(eg_wlpol_get(w, 0),
	    "db.internal", 0));
	d = eg_policy_check_host(eg_wlpol_get(w, 2), "db.internal", 5432);
	assert_int_equal(d.reason, EG_R_DIRECT);
	DENIED(w, "ci", "db.internal", 5432, EG_R_NO_RULE);
	DENIED(w, "default", "db.internal", 5432, EG_R_NO_RULE);
	eg_wlpol_free(w);
}

static void
test_wlpolicy_mode_per_workload(void **state)
{
	struct eg_wlpol *w;
	struct eg_decision d;

	(void)state;
	w = build(BASE
	    "[policy]\nmode = report\nallow = default.example\n"
	    "[workload inherits]\nmatch = uid:ci\nallow = a.example\n"
	    "[workload strict]\nmatch = uid:agent\nmode = enforce\n"
	    "allow = b.example\n"
	    "[workload learner]\nmatch = iface:br-l\nmode = learn\n");
	assert_int_equal(eg_policy_mode(eg_wlpol_get(w, 0)), EG_MODE_REPORT);
	assert_int_equal(eg_policy_mode(eg_wlpol_get(w, 1)), EG_MODE_REPORT);
	assert_int_equal(eg_policy_mode(eg_wlpol_get(w, 2)), EG_MODE_ENFORCE);
	assert_int_equal(eg_policy_mode(eg_wlpol_get(w, 3)), EG_MODE_LEARN);

	/* report lets an unknown name by, reported; enforce denies it */
	d = eg_policy_check_host(eg_wlpol_get(w, 1), "x.example", 443);
	assert_int_equal(d.verdict, EG_ALLOW);
	assert_true(d.reported);
	d = eg_policy_check_host(eg_wlpol_get(w, 2), "x.example", 443);
	assert_int_equal(d.verdict, EG_DENY);
	assert_false(d.reported);
	d = eg_policy_check_host(eg_wlpol_get(w, 3), "x.example", 443);
	assert_int_equal(d.verdict, EG_ALLOW);
	assert_true(d.reported);
	/* the empty learner: nothing allowed by rule, everything reported */
	assert_int_equal(d.reason, EG_R_EMPTY);
	eg_wlpol_free(w);

	/* and the other way round: [policy] enforce, a workload report */
	w = build(BASE "[policy]\nallow = default.example\n"
	    "[workload rep]\nmatch = uid:ci\nmode = report\n"
	    "allow = a.example\n");
	d = eg_policy_check_host(eg_wlpol_get(w, 0), "x.example", 443);
	assert_int_equal(d.verdict, EG_DENY);
	d = eg_policy_check_host(eg_wlpol_get(w, 1), "x.example", 443);
	assert_int_equal(d.verdict, EG_ALLOW);
	assert_true(d.reported);
	eg_wlpol_free(w);
}

static void
test_wlpolicy_host_addrs_every_engine(void **state)
{
	struct eg_config *c;
	struct eg_wlpol *w;
	struct eg_cidr host[2], bad;
	struct eg_ip ip;
	char err[EG_ERR_MAX] = "";
	size_t i;

	(void)state;
	c = load(THREE);
	assert_true(eg_cidr_parse("203.0.113.7/32", &host[0], err));
	assert_true(eg_cidr_parse("198.51.100.0/24", &host[1], err));
	assert_non_null(w = eg_wlpol_new(c, host, 1, err));
	eg_config_free(c);
	assert_true(eg_ip_parse("203.0.113.7", &ip, false));
	for (i = 0; i < 3; i++)
		assert_int_equal(eg_policy_check_addr(eg_wlpol_get(w, i),
		    &ip).reason, EG_R_HOST_ADDR);

	/* replaced in all: the old address is free, the new one denied */
	assert_true(eg_wlpol_set_host_addrs(w, &host[1], 1, err));
	for (i = 0; i < 3; i++) {
		assert_int_equal(eg_policy_check_addr(eg_wlpol_get(w, i),
		    &ip).verdict, EG_ALLOW);
		assert_true(eg_ip_parse("198.51.100.9", &ip, false));
		assert_int_equal(eg_policy_check_addr(eg_wlpol_get(w, i),
		    &ip).reason, EG_R_HOST_ADDR);
		assert_true(eg_ip_parse("203.0.113.7", &ip, false));
	}

	/* a bad list changes none */
	memset(&bad, 0, sizeof(bad));
	bad.ip.family = AF_INET;
	bad.plen = 40;
	assert_false(eg_wlpol_set_host_addrs(w, &bad, 1, err));
	assert_true(eg_ip_parse("198.51.100.9", &ip, false));
	for (i = 0; i < 3; i++)
		assert_int_equal(eg_policy_check_addr(eg_wlpol_get(w, i),
		    &ip).reason, EG_R_HOST_ADDR);
	assert_false(eg_wlpol_set_host_addrs(NULL, host, 1, err));
	eg_wlpol_free(w);
}

static void
test_wlpolicy_lookup_source(void **state)
{
	struct eg_wlpol *w;
	struct eg_wl_source src;
	const struct eg_wl_match *hit, *m;
	size_t idx, other, n;

	(void)state;
	w = build(THREE);
	memset(&src, 0, sizeof(src));
	src.bridge = true;
	src.ifname = "br-web";
	assert_int_equal(eg_wlpol_lookup(w, &src, &idx, &other, &hit),
	    EG_WL_FOUND);
	assert_int_equal(idx, 2);
	assert_string_equal(hit->wl_name, "web");

	src.ifname = "docker0";
	assert_int_equal(eg_wlpol_lookup(w, &src, &idx, &other, &hit),
	    EG_WL_NONE);
	assert_int_equal(idx, 0);
	assert_null(hit);

	src.has_addr = true;
	assert_true(eg_ip_parse("172.18.0.5", &src.addr, false));
	assert_int_equal(eg_wlpol_lookup(w, &src, &idx, NULL, NULL),
	    EG_WL_FOUND);
	assert_int_equal(idx, 1);

	/* ci's container on web's bridge: both, so neither */
	src.ifname = "br-web";
	assert_int_equal(eg_wlpol_lookup(w, &src, &idx, &other, &hit),
	    EG_WL_CONFLICT);
	assert_true((idx == 1 && other == 2) || (idx == 2 && other == 1));

	m = eg_wlpol_matches(w, 1, &n);
	assert_int_equal(n, 2);
	assert_int_equal(m[0].kind, EG_WL_UID);
	assert_int_equal(m[1].kind, EG_WL_CIDR);
	assert_null(eg_wlpol_matches(w, 0, &n));
	assert_int_equal(n, 0);
	assert_null(eg_wlpol_matches(w, 9, &n));
	eg_wlpol_free(w);
}

/*
 * eg_wlpol_lookup scans only the source's side, cidr: prefixes inline:
 * on every mix of sources it answers what eg_wl_lookup over every match
 * answers (the same hit, the same conflict).
 */
static void
test_wlpolicy_lookup_same_as_wl_lookup(void **state)
{
	static const char *const ifs[] = { "br-a", "br-b", "br-c", NULL };
	static const char *const addrs[] = { "10.1.2.3", "10.2.0.1",
	    "10.3.0.1", "fd00::1" };
	static const char *const users[] = { "ci", "agent", NULL };
	static const char *const cgs[] = { "/ci.slice/x", "/web.slice",
	    "/other", NULL };
	const struct eg_wl_match *all, *h1, *o1, *h2, *m;
	struct eg_wl_source src;
	struct eg_wlpol *w;
	enum eg_wl_found f1, f2;
	size_t n = 0, k, i, idx, other, seen[3] = { 0, 0, 0 };
	unsigned x = 12345;

	(void)state;
	w = build(BASE "[policy]\nallow = d.example\n"
	    "[workload one]\nmatch = iface:br-a\nmatch = cidr:10.1.0.0/16\n"
	    "[workload two]\nmatch = cidr:10.2.0.0/16\nmatch = iface:br-b\n"
	    "[workload three]\nmatch = uid:ci\nmatch = cgroup:/ci.slice\n"
	    "[workload four]\nmatch = cgroup:/web.slice\nmatch = uid:agent\n");
	all = eg_wlpol_matches(w, 1, &k);
	for (i = 1; i < eg_wlpol_count(w); i++) {
		assert_ptr_equal(eg_wlpol_matches(w, i, &k), all + n);
		n += k;
	}
	for (k = 0; k < 2000; k++) {
		x = x * 1103515245u + 12345u;
		memset(&src, 0, sizeof(src));
		src.bridge = x >> 31;
		if (src.bridge) {
			src.ifname = ifs[(x >> 8) % 4];
			if ((src.has_addr = (x >> 12) & 1))
				assert_true(eg_ip_parse(addrs[(x >> 14) % 4],
				    &src.addr, false));
		} else {
			src.user = users[(x >> 8) % 3];
			src.cgroup = cgs[(x >> 12) % 4];
		}
		f1 = eg_wl_lookup(all, n, &src, &h1, &o1);
		f2 = eg_wlpol_lookup(w, &src, &idx, &other, &h2);
		assert_int_equal(f1, f2);
		seen[f2]++;
		assert_ptr_equal(h1, h2);
		if (f1 != EG_WL_NONE)
			assert_int_equal(idx, h1->wl);
		if (f1 == EG_WL_CONFLICT)
			assert_int_equal(other, o1->wl);
	}
	/* every answer came up */
	assert_true(seen[EG_WL_NONE] > 0 && seen[EG_WL_FOUND] > 0 &&
	    seen[EG_WL_CONFLICT] > 0);
	m = eg_wlpol_matches(w, 2, &k);
	assert_int_equal(m[0].kind, EG_WL_CIDR);
	eg_wlpol_free(w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = TEST_LIST(WLPOLICY_TESTS);

	return cmocka_run_group_tests(tests, NULL, NULL);
}
