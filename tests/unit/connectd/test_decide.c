/* test_decide.c - policy decision glue: what connectd does with each
 * answer of the engine.  The config is built by hand (no file). */
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

static struct eg_policy *
mkpol(enum eg_policy_mode mode, const char *const *rules, const char *direct)
{
	static struct eg_config cfg;
	static struct eg_rule_src src[16];
	static struct eg_direct dir[1];
	static char file[] = "test.conf";
	struct eg_policy *p;
	struct eg_cidr own;
	char err[EG_ERR_MAX] = "";
	size_t n = 0;

	memset(&cfg, 0, sizeof(cfg));
	memset(src, 0, sizeof(src));
	for (n = 0; rules[n] != NULL; n++) {
		src[n].text = (char *)rules[n];
		src[n].at.file = file;
		src[n].at.line = (int)n + 10;
	}
	cfg.policy.rules = src;
	cfg.policy.nrules = n;
	cfg.policy.mode = mode;
	if (direct != NULL) {
		memset(dir, 0, sizeof(dir));
		assert_true(eg_endpoint_parse(direct, &dir[0].ep, err));
		cfg.jail.direct = dir;
		cfg.jail.ndirect = 1;
	}
	/* the bridge gateway, as the daemon would add it */
	assert_true(eg_cidr_parse("10.77.0.1/32", &own, err));
	p = eg_policy_new(&cfg, &own, 1, err);
	if (p == NULL)
		fail_msg("policy: %s", err);
	return p;
}

static const char *const rules[] = { "api.example.com", "*.cdn.example:80,443",
    NULL };

static void
test_decide_allow(void **st)
{
	struct eg_policy *p = mkpol(EG_MODE_ENFORCE, rules, NULL);
	struct cd_verdict v;

	cd_decide(p, CD_MODE_EXPLICIT, "api.example.com", 443, &v);
	assert_true(v.allow);
	assert_false(v.reported);
	assert_false(v.direct);
	assert_string_equal(v.rule, "test.conf:10");
	cd_decide(p, CD_MODE_TRANSPARENT, "API.Example.COM.", 443, &v);
	assert_true(v.allow);
	cd_decide(p, CD_MODE_EXPLICIT, "x.cdn.example", 80, &v);
	assert_true(v.allow);
	assert_string_equal(v.rule, "test.conf:11");
	eg_policy_free(p);
}

static void
test_decide_deny(void **st)
{
	struct eg_policy *p = mkpol(EG_MODE_ENFORCE, rules, NULL);
	struct cd_verdict v;
	static const char *const bad[] = { "evil.example", "169.254.169.254",
	    "127.0.0.1", "2130706433", "0x7f.1", "[::1]", "10.77.0.1",
	    "[::ffff:169.254.169.254]", "a.b.cdn.example", "", NULL };
	size_t i;

	for (i = 0; bad[i] != NULL; i++) {
		cd_decide(p, CD_MODE_EXPLICIT, bad[i], 443, &v);
		if (v.allow)
			fail_msg("%s allowed", bad[i]);
		assert_int_equal(v.status, 403);
		assert_non_null(v.reason);
	}
	/* a rule for the name but not the port */
	cd_decide(p, CD_MODE_EXPLICIT, "api.example.com", 80, &v);
	assert_false(v.allow);
	assert_string_equal(v.reason, "port");
	cd_decide(p, CD_MODE_EXPLICIT, "api.example.com", 0, &v);
	assert_false(v.allow);
	cd_decide(NULL, CD_MODE_EXPLICIT, "api.example.com", 443, &v);
	assert_false(v.allow);
	cd_decide(p, CD_MODE_EXPLICIT, NULL, 443, &v);
	assert_false(v.allow);
	eg_policy_free(p);
}

static void
test_decide_report(void **st)
{
	struct eg_policy *p = mkpol(EG_MODE_REPORT, rules, NULL);
	struct cd_verdict v;

	cd_decide(p, CD_MODE_EXPLICIT, "evil.example", 443, &v);
	assert_true(v.allow);
	assert_true(v.reported);
	assert_false(v.direct);
	cd_decide(p, CD_MODE_EXPLICIT, "api.example.com", 443, &v);
	assert_true(v.allow);
	assert_false(v.reported);
	/* the host's own addresses stay denied even in report mode */
	cd_decide(p, CD_MODE_EXPLICIT, "10.77.0.1", 443, &v);
	assert_false(v.allow);
	/* transparent intake never decides on an address */
	cd_decide(p, CD_MODE_TRANSPARENT, "93.184.216.34", 443, &v);
	assert_false(v.allow);
	eg_policy_free(p);
}

static void
test_decide_direct(void **st)
{
	struct eg_policy *p = mkpol(EG_MODE_ENFORCE, rules, "10.0.1.215:5432");
	struct cd_verdict v;

	cd_decide(p, CD_MODE_EXPLICIT, "10.0.1.215", 5432, &v);
	assert_true(v.allow);
	assert_true(v.direct);
	cd_decide(p, CD_MODE_EXPLICIT, "10.0.1.215", 5433, &v);
	assert_false(v.allow);
	eg_policy_free(p);
}

static void
test_decide_empty_allowlist(void **st)
{
	static const char *const none[] = { NULL };
	struct eg_policy *p = mkpol(EG_MODE_ENFORCE, none, NULL);
	struct cd_verdict v;

	cd_decide(p, CD_MODE_EXPLICIT, "api.example.com", 443, &v);
	assert_false(v.allow);
	eg_policy_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = TEST_LIST(DECIDE_TESTS);

	return cmocka_run_group_tests(tests, NULL, NULL);
}
