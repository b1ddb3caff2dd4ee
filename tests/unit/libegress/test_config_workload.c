/*
 * test_config_workload.c - [workload NAME] sections: what they load into,
 * each error with its file:line, the overlap and jailed-ness checks, and
 * the gate that refuses them while the daemons do not enforce them.
 */
#include <sys/stat.h>

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

#include "config.h"
#include "workload.h"

#include "test_list.h"

#define BASE \
	"[jail]\n"					/* 1 */ \
	"interface = docker0\n"				/* 2 */ \
	"interface = br-*\n"				/* 3 */ \
	"user = agent\n"				/* 4 */ \
	"user = ci\n"					/* 5 */ \
	"direct = 10.0.1.215:5432\n"			/* 6 */ \
	"[chain]\n"					/* 7 */ \
	"hop = http://10.20.0.2:3128\n"			/* 8 */ \
	"[dohd]\n"					/* 9 */ \
	"upstream = https://dns.example/dns-query 192.0.2.53\n" /* 10 */ \
	"[policy]\n"					/* 11 */ \
	"mode = report\n"				/* 12 */ \
	"allow = api.example.com\n"			/* 13 */

#define CHAIN_DOHD \
	"[chain]\nhop = http://10.20.0.2:3128\n" \
	"[dohd]\nupstream = https://dns.example/dns-query 192.0.2.53\n"

#define FLAGS (EG_CONFIG_NO_USERS | EG_CONFIG_WORKLOADS | EG_CONFIG_CGROUP)

static void
dump(const struct eg_config_errors *e)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		print_message("  error: %s\n", e->msgs[i]);
}

static struct eg_config *
expect_ok(const char *text, unsigned flags)
{
	struct eg_config_errors e;
	struct eg_config *c;

	c = eg_config_load_buf("t.conf", text, strlen(text), flags, &e);
	if (c == NULL) {
		dump(&e);
		eg_config_errors_free(&e);
		fail_msg("did not load");
	}
	return c;
}

/* Fails to load, and the n messages are exactly want[0..n). */
static void
expect_errors(const char *text, unsigned flags, const char *const *want,
    size_t n)
{
	struct eg_config_errors e;
	struct eg_config *c;
	size_t i;

	c = eg_config_load_buf("t.conf", text, strlen(text), flags, &e);
	assert_null(c);
	if (e.n != n) {
		dump(&e);
		fail_msg("%zu errors, want %zu", e.n, n);
	}
	for (i = 0; i < n; i++)
		if (strcmp(e.msgs[i], want[i]) != 0)
			fail_msg("error %zu:\n  got  %s\n  want %s", i,
			    e.msgs[i], want[i]);
	eg_config_errors_free(&e);
}

static void
test_config_workload_loads(void **state)
{
	static const char text[] = BASE
	    "[workload ci]\n"				/* 14 */
	    "match = iface:br-ci\n"			/* 15 */
	    "match = uid:ci\n"				/* 16 */
	    "allow = registry.npmjs.org\n"		/* 17 */
	    "allow = *.githubusercontent.com:443,80\n"	/* 18 */
	    "mode = enforce\n"				/* 19 */
	    "permit_cidr = 10.9.0.0/16\n"		/* 20 */
	    "direct = 10.0.0.9:6379\n"			/* 21 */
	    "[workload agent]\n"			/* 22 */
	    "match = cidr:172.17.0.5/32\n"		/* 23 */
	    "match = uid:agent\n"			/* 24 */
	    "[workload sealed]\n"			/* 25 */
	    "match = iface:docker0\n"			/* 26 */
	    "match = cgroup:/system.slice/build.service\n"; /* 27 */
	struct eg_config *c = expect_ok(text, FLAGS);
	const struct eg_workload *w;

	(void)state;
	/* [policy] is untouched by the workloads' keys */
	assert_int_equal(c->policy.nrules, 1);
	assert_int_equal(c->policy.npermit, 0);
	assert_int_equal(c->jail.ndirect, 1);
	assert_int_equal(c->nworkloads, 3);

	w = &c->workloads[0];
	assert_string_equal(w->name, "ci");
	assert_int_equal(w->at.line, 14);
	assert_int_equal(w->nmatches, 2);
	assert_int_equal(w->matches[0].kind, EG_WL_IFACE);
	assert_string_equal(w->matches[0].text, "br-ci");
	assert_int_equal(w->matches[0].at.line, 15);
	assert_string_equal(w->matches[0].wl_name, "ci");
	assert_int_equal(w->matches[1].kind, EG_WL_UID);
	assert_int_equal(w->matches[1].wl, 0);
	assert_int_equal(w->policy.nrules, 2);
	assert_string_equal(w->policy.rules[1].text,
	    "*.githubusercontent.com:443,80");
	assert_int_equal(w->policy.rules[1].at.line, 18);
	assert_true(w->mode_set);
	assert_int_equal(w->policy.mode, EG_MODE_ENFORCE);
	assert_int_equal(w->policy.npermit, 1);
	assert_int_equal(w->policy.permit_at[0].line, 20);
	assert_int_equal(w->ndirect, 1);
	assert_int_equal(w->direct[0].ep.port, 6379);

	w = &c->workloads[1];
	assert_string_equal(w->name, "agent");
	assert_int_equal(w->matches[0].kind, EG_WL_CIDR);
	assert_int_equal(w->matches[1].wl, 1);
	/* no rules: an empty allowlist, which denies everything */
	assert_int_equal(w->policy.nrules, 0);
	/* no mode of its own: [policy]'s */
	assert_false(w->mode_set);
	assert_int_equal(w->policy.mode, EG_MODE_REPORT);

	w = &c->workloads[2];
	assert_int_equal(w->matches[1].kind, EG_WL_CGROUP);
	assert_int_equal(w->matches[1].depth, 2);
	eg_config_free(c);
}

/* While the daemons do not enforce workloads, a file with one is refused
 * unless the loader is told otherwise: checked whole, then one error. */
static void
test_config_workload_gate(void **state)
{
	static const char text[] = BASE
	    "[workload ci]\n"				/* 14 */
	    "match = uid:ci\n"				/* 15 */
	    "[workload agent]\n"			/* 16 */
	    "match = uid:agent\n";			/* 17 */
#define GATE_ERR(line) "t.conf:" line ": [workload ci]: per-workload " \
	"policy is not enforced by the daemons of this version; remove " \
	"the [workload] sections (docs/WORKLOADS.md)"
	static const char *const gate[] = { GATE_ERR("14") };
	/* a static initializer takes constants only (clang refuses gate[0]) */
	static const char *const both[] = {
		"t.conf:15: [workload ci] match: \"uid:nobody\": not a jailed "
		"user: add it to [jail] user",
		GATE_ERR("14"),
	};
#undef GATE_ERR
	static const unsigned each[] = { 0, EG_CONFIG_CONNECTD,
	    EG_CONFIG_DOHD };
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++)
		expect_errors(text, EG_CONFIG_NO_USERS | each[i], gate, 1);
	expect_errors(BASE "[workload ci]\nmatch = uid:nobody\n",
	    EG_CONFIG_NO_USERS, both, 2);
	/* without sections, the flag changes nothing */
	eg_config_free(expect_ok(BASE, EG_CONFIG_NO_USERS));
	eg_config_free(expect_ok(BASE, FLAGS));
}

/*
 * cgroup: matches are refused with their line unless EG_CONFIG_CGROUP
 * (netjaild does not steer them yet), for each daemon alike; the other
 * kinds of the same file load.
 */
static void
test_config_workload_cgroup_gate(void **state)
{
	static const char text[] = BASE
	    "[workload ci]\n"				/* 14 */
	    "match = uid:ci\n"				/* 15 */
	    "match = cgroup:/system.slice/ci.service\n"	/* 16 */
	    "[workload web]\n"				/* 17 */
	    "match = iface:docker0\n";			/* 18 */
	static const char *const want[] = {
		"t.conf:16: [workload ci] match: "
		"\"cgroup:/system.slice/ci.service\": cgroup: matches are "
		"not enforced by this version (iface:, cidr: and uid: are; "
		"docs/WORKLOADS.md)",
	};
	static const unsigned each[] = { 0, EG_CONFIG_CONNECTD,
	    EG_CONFIG_DOHD };
	struct eg_config *c;
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++)
		expect_errors(text, EG_CONFIG_NO_USERS | EG_CONFIG_WORKLOADS |
		    each[i], want, 1);
	c = expect_ok(text, FLAGS);
	assert_int_equal(c->workloads[0].nmatches, 2);
	eg_config_free(c);
	eg_config_free(expect_ok(BASE "[workload ci]\nmatch = uid:ci\n",
	    EG_CONFIG_NO_USERS | EG_CONFIG_WORKLOADS));
}

static void
test_config_workload_header_errors(void **state)
{
	static const char text[] = BASE
	    "[workload ci]\n"				/* 14 */
	    "match = uid:ci\n"				/* 15 */
	    "[workload ci]\n"				/* 16 */
	    "allow = lost.example\n"			/* 17 */
	    "[workload CI]\n"				/* 18 */
	    "[workload default]\n"			/* 19 */
	    "[workload]\n"				/* 20 */
	    "[workload a b]\n"				/* 21 */
	    "[workload  spaced ]\n"			/* 22 */
	    "match = uid:agent\n"			/* 23 */
	    "[workload x\"y]\n"				/* 24 */
	    "[workloadz]\n";				/* 25 */
	static const char *const want[] = {
		"t.conf:16: \"[workload ci]\": section repeated (first at "
		"line 14)",
		"t.conf:18: \"[workload CI]\": a workload name is lower-case "
		"letters, digits, '-' and '_', starting with a letter or digit",
		"t.conf:19: \"[workload default]\": \"default\" is the name of "
		"[policy], the default workload",
		"t.conf:20: \"[workload]\": a workload section needs a name: "
		"[workload NAME]",
		"t.conf:21: \"[workload a b]\": a workload name is lower-case "
		"letters, digits, '-' and '_', starting with a letter or digit",
		"t.conf:24: \"[workload x\\x22y]\": a workload name is "
		"lower-case letters, digits, '-' and '_', starting with a "
		"letter or digit",
		"t.conf:25: \"[workloadz]\": unknown section (jail, chain, "
		"connectd, dohd, netjaild, policy, workload NAME)",
	};

	(void)state;
	/* keys after a refused header are not reported again */
	expect_errors(text, FLAGS, want, sizeof(want) / sizeof(want[0]));
}

static void
test_config_workload_key_errors(void **state)
{
	static const char text[] = BASE
	    "[workload ci]\n"				/* 14 */
	    "match = uid:ci\n"				/* 15 */
	    "match = uid:ci\n"				/* 16 */
	    "match = bogus\n"				/* 17 */
	    "match = cgroup:/a/../b\n"			/* 18 */
	    "mode = enforce\n"				/* 19 */
	    "mode = report\n"				/* 20 */
	    "mode = learn\n"				/* 21 */
	    "allow = bad..name\n"			/* 22 */
	    "permit_cidr = 10.0.0.1/8\n"		/* 23 */
	    "direct = nowhere\n"			/* 24 */
	    "hop = http://x:3128\n"			/* 25 */
	    "allow_file = nothing/*.allow\n"		/* 26 */
	    "[workload agent]\n"			/* 27 */
	    "mode = enforce\n"				/* 28: its own, fine */
	    "match = uid:agent\n";			/* 29 */
	static const char *const want[] = {
		"t.conf:16: [workload ci] match: \"uid:ci\": listed twice "
		"(first at line 15)",
		"t.conf:17: [workload ci] match: \"bogus\": a match is "
		"iface:IFNAME, cidr:PREFIX, uid:USER or cgroup:PATH",
		"t.conf:18: [workload ci] match: \"cgroup:/a/../b\": empty, "
		"\".\" or \"..\" component in cgroup path",
		"t.conf:20: [workload ci] mode: \"report\": repeated key "
		"(first at line 19); only list keys may repeat",
	};
	struct eg_config_errors e;
	size_t i;

	(void)state;
	assert_null(eg_config_load_buf("t.conf", text, strlen(text), FLAGS,
	    &e));
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (strcmp(e.msgs[i], want[i]) != 0) {
			dump(&e);
			fail_msg("error %zu: want %s", i, want[i]);
		}
	/* the rest name their line and section; a [jail]-only key is unknown */
	assert_non_null(strstr(e.msgs[4], "t.conf:21: [workload ci] mode: "
	    "\"learn\": "));
	assert_non_null(strstr(e.msgs[5], "t.conf:22: [workload ci] allow: "
	    "\"bad..name\""));
	assert_non_null(strstr(e.msgs[6], "t.conf:23: [workload ci] "
	    "permit_cidr: \"10.0.0.1/8\": host bits set"));
	assert_non_null(strstr(e.msgs[7], "t.conf:24: [workload ci] direct: "
	    "\"nowhere\""));
	assert_string_equal(e.msgs[8], "t.conf:25: [workload ci] hop: "
	    "\"http://x:3128\": unknown key");
	assert_string_equal(e.msgs[9], "t.conf:26: [workload ci] allow_file: "
	    "\"nothing/*.allow\": matches no file");
	assert_int_equal(e.n, 10);
	eg_config_errors_free(&e);
}

static void
test_config_workload_cross_checks(void **state)
{
	static const char text[] = BASE
	    "[workload a]\n"				/* 14 */
	    "match = iface:br-*\n"			/* 15 */
	    "match = cidr:172.17.0.0/16\n"		/* 16 */
	    "match = uid:agent\n"			/* 17 */
	    "match = cgroup:/system.slice\n"		/* 18 */
	    "[workload b]\n"				/* 19 */
	    "match = iface:br-ci\n"			/* 20 */
	    "match = cidr:172.17.0.5\n"			/* 21 */
	    "match = uid:agent\n"			/* 22 */
	    "match = cgroup:/system.slice/ci.service\n" /* 23 */
	    "match = iface:eth0\n"			/* 24 */
	    "match = iface:br*\n"			/* 25 */
	    "match = uid:root\n"			/* 26 */
	    "[workload c]\n";				/* 27 */
	static const char *const want[] = {
		"t.conf:24: [workload b] match: \"iface:eth0\": not a jailed "
		"interface: add it to [jail] interface",
		"t.conf:25: [workload b] match: \"iface:br*\": not a jailed "
		"interface: add it to [jail] interface",
		"t.conf:26: [workload b] match: \"uid:root\": not a jailed "
		"user: add it to [jail] user",
		"t.conf:27: [workload c]: no match line: say which jailed "
		"traffic it is for",
		"t.conf:20: [workload b] match: \"iface:br-ci\": overlaps "
		"[workload a] match \"iface:br-*\" (t.conf:15): a source "
		"belongs to one workload only",
		"t.conf:25: [workload b] match: \"iface:br*\": overlaps "
		"[workload a] match \"iface:br-*\" (t.conf:15): a source "
		"belongs to one workload only",
		"t.conf:21: [workload b] match: \"cidr:172.17.0.5/32\": "
		"overlaps [workload a] match \"cidr:172.17.0.0/16\" "
		"(t.conf:16): a source belongs to one workload only",
		"t.conf:22: [workload b] match: \"uid:agent\": overlaps "
		"[workload a] match \"uid:agent\" (t.conf:17): a source "
		"belongs to one workload only",
		"t.conf:23: [workload b] match: "
		"\"cgroup:/system.slice/ci.service\": overlaps [workload a] "
		"match \"cgroup:/system.slice\" (t.conf:18): a source belongs "
		"to one workload only",
	};

	(void)state;
	expect_errors(text, FLAGS, want, sizeof(want) / sizeof(want[0]));
	/* a cidr: match needs a jailed bridge */
	{
		static const char *const w2[] = {
			"t.conf:8: [workload a] match: \"cidr:10.0.0.0/8\": "
			"matches sources on jailed bridges, and [jail] jails "
			"no interface",
		};

		expect_errors("[jail]\nuser = agent\n" CHAIN_DOHD
		    "[workload a]\nmatch = cidr:10.0.0.0/8\n", FLAGS, w2, 1);
	}
}

/* With users looked up, a uid: match names a user that exists. */
static void
test_config_workload_uid_lookup(void **state)
{
	char text[1024];
	struct eg_config_errors e;
	struct eg_config *c;

	(void)state;
	if (getpwnam("daemon") == NULL)
		skip();
	snprintf(text, sizeof(text),
	    "[jail]\nuser = daemon\n" CHAIN_DOHD
	    "[workload a]\nmatch = uid:daemon\n"
	    "[workload b]\nmatch = uid:no-such-user-here\n");
	c = eg_config_load_buf("t.conf", text, strlen(text),
	    EG_CONFIG_WORKLOADS | EG_CONFIG_CONNECTD, &e);
	assert_null(c);
	assert_true(e.n >= 1);
	assert_string_equal(e.msgs[0], "t.conf:10: [workload b] match: "
	    "\"uid:no-such-user-here\": no such user");
	eg_config_errors_free(&e);
}

static char tmpdir[64];

static void
test_config_workload_allow_file(void **state)
{
	struct eg_config_errors e;
	struct eg_config *c;
	char path[256], want[400];
	FILE *f;

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/eg-test-wl.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	snprintf(path, sizeof(path), "%s/ci.allow", tmpdir);
	assert_non_null(f = fopen(path, "w"));
	fputs("registry.npmjs.org\nbad..name\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/t.conf", tmpdir);
	assert_non_null(f = fopen(path, "w"));
	fputs(BASE "[workload ci]\nmatch = uid:ci\nallow_file = *.allow\n", f);
	fclose(f);
	assert_null(eg_config_load(path, FLAGS, &e));
	assert_int_equal(e.n, 1);
	snprintf(want, sizeof(want), "%s/ci.allow:2: [workload ci] allow: "
	    "\"bad..name\"", tmpdir);
	if (strstr(e.msgs[0], want) == NULL)
		fail_msg("got %s", e.msgs[0]);
	eg_config_errors_free(&e);

	snprintf(path, sizeof(path), "%s/ci.allow", tmpdir);
	assert_non_null(f = fopen(path, "w"));
	fputs("registry.npmjs.org\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/t.conf", tmpdir);
	c = eg_config_load(path, FLAGS, &e);
	if (c == NULL)
		dump(&e);
	assert_non_null(c);
	assert_int_equal(c->policy.nrules, 1);
	assert_int_equal(c->workloads[0].policy.nrules, 1);
	assert_string_equal(c->workloads[0].policy.rules[0].text,
	    "registry.npmjs.org");
	eg_config_free(c);
	snprintf(path, sizeof(path), "rm -rf '%s'", tmpdir);
	assert_int_equal(system(path), 0);
}

static void
test_config_workload_summary(void **state)
{
	struct eg_config *c;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	c = expect_ok(BASE "[workload ci]\nmatch = uid:ci\nmatch = "
	    "iface:br-ci\nallow = a.example\n", FLAGS);
	assert_non_null(f = open_memstream(&buf, &len));
	eg_config_summary(c, f);
	fclose(f);
	assert_non_null(strstr(buf, "workloads:        1\n  ci: 2 matches, 1 "
	    "allow rules (mode report), 0 permit_cidr, 0 direct\n"));
	free(buf);
	eg_config_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = TEST_LIST(CONFIG_WORKLOAD_TESTS);

	return cmocka_run_group_tests(tests, NULL, NULL);
}
