/* test_wl.c - a connection's policy is its listener's workload's
 * (cd_wl_policy): the engine of that workload in the generation, a
 * removed workload refused, and a source address of another workload's
 * cidr: refused as a conflict, never given either policy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cd.h"

#include "test_list.h"

#define CONF \
	"[jail]\ninterface = docker0\ninterface = br-a\n" \
	"[chain]\nhop = http://10.20.0.2:3128\n" \
	"[dohd]\nupstream = https://dns.example/dns-query 192.0.2.53\n" \
	"[policy]\nallow = smoke.test\n" \
	"[workload wla]\nmatch = iface:br-a\nallow = wla.test\n" \
	"[workload wlb]\nmatch = cidr:172.17.0.3/32\nallow = wlb.test\n"

static struct cd cd;
static struct cd_gen gen;

static int
setup(void **st)
{
	struct eg_config_errors e;
	char err[EG_ERR_MAX] = "";

	memset(&cd, 0, sizeof(cd));
	memset(&gen, 0, sizeof(gen));
	snprintf(cd.wl_default.name, sizeof(cd.wl_default.name), "default");
	cd.wl_default.cd = &cd;
	gen.id = 7;
	gen.cfg = eg_config_load_buf("t.conf", CONF, strlen(CONF),
	    EG_CONFIG_NO_USERS | EG_CONFIG_WORKLOADS, &e);
	if (gen.cfg == NULL)
		fail_msg("config: %s", e.n > 0 ? e.msgs[0] : "?");
	if ((gen.wp = eg_wlpol_new(gen.cfg, NULL, 0, err)) == NULL)
		fail_msg("policy: %s", err);
	return 0;
}

static int
teardown(void **st)
{
	eg_wlpol_free(gen.wp);
	eg_config_free(gen.cfg);
	return 0;
}

static struct cd_wl *
wl(const char *name)
{
	static struct cd_wl w[4];
	static size_t n;
	struct cd_wl *x = &w[n++ % 4];

	memset(x, 0, sizeof(*x));
	x->cd = &cd;
	x->refs = 1;
	snprintf(x->name, sizeof(x->name), "%s", name);
	return x;
}

static bool
allows(const struct eg_policy *p, const char *host)
{
	struct cd_verdict v;

	cd_decide(p, CD_MODE_EXPLICIT, host, 443, &v);
	return v.allow;
}

static struct eg_ip
ip(const char *s)
{
	struct eg_ip a;

	assert_true(eg_ip_parse(s, &a, false));
	return a;
}

static void
test_wl_policy_is_the_listeners(void **st)
{
	const struct eg_policy *p;
	const char *why = NULL;
	char d[200];
	struct eg_ip src = ip("172.17.0.9");

	p = cd_wl_policy(wl("wla"), &gen, &src, &why, d, sizeof(d));
	assert_non_null(p);
	assert_true(allows(p, "wla.test"));
	assert_false(allows(p, "wlb.test"));
	assert_false(allows(p, "smoke.test"));
	p = cd_wl_policy(&cd.wl_default, &gen, &src, &why, d, sizeof(d));
	assert_non_null(p);
	assert_true(allows(p, "smoke.test"));
	assert_false(allows(p, "wla.test"));
	/* wlb's own address on wlb's listener, and no address at all */
	src = ip("172.17.0.3");
	p = cd_wl_policy(wl("wlb"), &gen, &src, &why, d, sizeof(d));
	assert_non_null(p);
	assert_true(allows(p, "wlb.test"));
	p = cd_wl_policy(wl("wlb"), &gen, NULL, &why, d, sizeof(d));
	assert_non_null(p);
	assert_false(allows(p, "wla.test"));
}

static void
test_wl_policy_conflict_refused(void **st)
{
	struct cd_wl *a = wl("wla");
	const char *why = NULL;
	char d[200] = "";
	struct eg_ip src = ip("172.17.0.3");	/* wlb's */

	assert_null(cd_wl_policy(a, &gen, &src, &why, d, sizeof(d)));
	assert_string_equal(why, "workload-conflict");
	assert_non_null(strstr(d, "wla"));
	assert_non_null(strstr(d, "wlb"));
	assert_int_equal(a->conflicts, 1);
	/* [policy]'s listeners are no refuge for wlb's address either */
	assert_null(cd_wl_policy(&cd.wl_default, &gen, &src, &why, d,
	    sizeof(d)));
	assert_string_equal(why, "workload-conflict");
}

static void
test_wl_policy_gone_refused(void **st)
{
	const char *why = NULL;
	char d[200] = "";

	assert_null(cd_wl_policy(wl("old"), &gen, NULL, &why, d, sizeof(d)));
	assert_string_equal(why, "workload-gone");
	assert_non_null(strstr(d, "old"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = TEST_LIST(WL_TESTS);

	return cmocka_run_group_tests(tests, setup, teardown);
}
