/*
 * test_workload.c - `match =` values, overlap detection and the workload
 * of a source.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "workload.h"

#include "test_list.h"

static struct eg_wl_match
mk(const char *v, size_t wl)
{
	struct eg_wl_match m;
	char err[EG_ERR_MAX];

	if (!eg_wl_match_parse(v, &m, err))
		fail_msg("%s: %s", v, err);
	m.wl = wl;
	m.wl_name = wl == 0 ? "a" : wl == 1 ? "b" : "c";
	return m;
}

static void
assert_bad(const char *v, const char *want)
{
	struct eg_wl_match m;
	char err[EG_ERR_MAX];

	memset(&m, 0x5a, sizeof(m));
	err[0] = '\0';
	if (eg_wl_match_parse(v, &m, err))
		fail_msg("accepted \"%s\"", v);
	if (strstr(err, want) == NULL)
		fail_msg("\"%s\": \"%s\" lacks \"%s\"", v, err, want);
	/* out untouched on failure */
	assert_int_equal(((unsigned char *)&m)[0], 0x5a);
}

static void
test_workload_parse_good(void **state)
{
	struct eg_wl_match m;
	char buf[300];

	(void)state;
	m = mk("iface:docker0", 0);
	assert_int_equal(m.kind, EG_WL_IFACE);
	assert_string_equal(m.text, "docker0");
	m = mk("iface:br-*", 0);
	assert_string_equal(m.text, "br-*");
	m = mk("cidr:172.17.0.5/32", 0);
	assert_int_equal(m.kind, EG_WL_CIDR);
	assert_int_equal(m.cidr.plen, 32);
	assert_string_equal(eg_wl_match_str(&m, buf, sizeof(buf)),
	    "cidr:172.17.0.5/32");
	m = mk("cidr:fd00:1::/64", 0);
	assert_int_equal(m.cidr.ip.family, AF_INET6);
	m = mk("cidr:10.1.2.3", 0);		/* a bare address is a /32 */
	assert_int_equal(m.cidr.plen, 32);
	m = mk("uid:agent", 0);
	assert_int_equal(m.kind, EG_WL_UID);
	assert_string_equal(m.text, "agent");
	assert_false(m.has_uid);		/* the loader resolves it */
	m = mk("uid:ci-runner$", 0);
	m = mk("cgroup:/system.slice/ci-runner.service", 0);
	assert_int_equal(m.kind, EG_WL_CGROUP);
	assert_int_equal(m.depth, 2);
	assert_string_equal(eg_wl_match_str(&m, buf, sizeof(buf)),
	    "cgroup:/system.slice/ci-runner.service");
	m = mk("cgroup:/user.slice/user-1000.slice/user@1000.service", 0);
	assert_int_equal(m.depth, 3);
}

static void
test_workload_parse_bad(void **state)
{
	char big[600];

	(void)state;
	assert_bad("", "a match is iface:");
	assert_bad("docker0", "a match is iface:");
	assert_bad("IFACE:docker0", "a match is iface:");
	assert_bad(" iface:docker0", "a match is iface:");
	assert_bad("iface", "a match is iface:");
	assert_bad("iface:", "1-15 bytes");
	assert_bad("iface:0123456789abcdef", "1-15 bytes");
	assert_bad("iface:..", "1-15 bytes");
	assert_bad("iface:lo", "loopback");
	assert_bad("iface:l*", "loopback");	/* would take lo too */
	assert_bad("iface:*", "pattern");
	assert_bad("iface:br*x", "pattern");
	assert_bad("iface:br-**", "pattern");
	assert_bad("iface:br 0", "invalid character");
	assert_bad("iface:br/0", "invalid character");
	assert_bad("iface:br\n0", "invalid character");
	assert_bad("cidr:", "empty CIDR");
	assert_bad("cidr:10.0.0.5/24", "host bits set");
	assert_bad("cidr:10.0.0.0/33", "prefix length");
	assert_bad("cidr:example.com", "");
	assert_bad("cidr:fe80::1%eth0/128", "scope");
	assert_bad("uid:", "1-32 bytes");
	assert_bad("uid:Agent", "not a valid user name");
	assert_bad("uid:1agent", "not a valid user name");
	assert_bad("uid:-agent", "not a valid user name");
	assert_bad("uid:ag$nt", "not a valid user name");
	assert_bad("uid:1000", "not a valid user name");
	assert_bad("uid:abcdefghijklmnopqrstuvwxyzabcdefg", "1-32 bytes");
	assert_bad("cgroup:", "starts with '/'");
	assert_bad("cgroup:system.slice", "starts with '/'");
	assert_bad("cgroup:/", "root cgroup");
	assert_bad("cgroup://", "component");
	assert_bad("cgroup:/a//b", "component");
	assert_bad("cgroup:/a/", "component");
	assert_bad("cgroup:/a/./b", "component");
	assert_bad("cgroup:/a/../b", "component");
	assert_bad("cgroup:/..", "component");
	assert_bad("cgroup:/a b", "invalid byte 0x20");
	assert_bad("cgroup:/a\"b", "invalid byte 0x22");
	assert_bad("cgroup:/a\\x2db", "invalid byte 0x5c");
	assert_bad("cgroup:/a\x7f", "invalid byte 0x7f");
	assert_bad("cgroup:/a\xc3\xa9", "invalid byte 0xc3");
	/* 33 components */
	strcpy(big, "cgroup:");
	for (int i = 0; i < 33; i++)
		strcat(big, "/a");
	assert_bad(big, "at most 32 components");
	/* 256 bytes of path */
	strcpy(big, "cgroup:/");
	memset(big + 8, 'x', 255);
	big[263] = '\0';
	assert_bad(big, "at most 255 bytes");
	/* a whole value longer than any match: refused before any scan */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "cgroup:/", 8);
	assert_bad(big, "longer than");
}

static void
test_workload_names(void **state)
{
	char err[EG_ERR_MAX];

	(void)state;
	assert_true(eg_wl_name_valid("ci", err));
	assert_true(eg_wl_name_valid("agent-1_x", err));
	assert_true(eg_wl_name_valid("0day", err));
	assert_true(eg_wl_name_valid("abcdefghijklmnopqrstuvwxyz012345", err));
	assert_false(eg_wl_name_valid("abcdefghijklmnopqrstuvwxyz0123456",
	    err));
	assert_false(eg_wl_name_valid("", err));
	assert_false(eg_wl_name_valid("CI", err));
	assert_false(eg_wl_name_valid("-ci", err));
	assert_false(eg_wl_name_valid("c i", err));
	assert_false(eg_wl_name_valid("ci\"", err));
	assert_false(eg_wl_name_valid("ci=1", err));
	assert_false(eg_wl_name_valid("default", err));
	assert_non_null(strstr(err, "[policy]"));
}

static bool
ov(const char *a, const char *b)
{
	struct eg_wl_match x = mk(a, 0), y = mk(b, 1);
	bool r = eg_wl_overlap(&x, &y);

	/* symmetric, whatever the order */
	assert_int_equal(r, eg_wl_overlap(&y, &x));
	return r;
}

static void
test_workload_overlap(void **state)
{
	struct eg_wl_match x, y;

	(void)state;
	assert_true(ov("iface:docker0", "iface:docker0"));
	assert_false(ov("iface:docker0", "iface:docker1"));
	assert_true(ov("iface:br-*", "iface:br-abc"));
	assert_true(ov("iface:br-*", "iface:br-a*"));
	assert_false(ov("iface:br-*", "iface:bra"));
	assert_false(ov("iface:br-*", "iface:docker*"));
	assert_true(ov("cidr:10.0.0.0/8", "cidr:10.1.2.3/32"));
	assert_true(ov("cidr:10.0.0.0/24", "cidr:10.0.0.0/24"));
	assert_false(ov("cidr:10.0.0.0/24", "cidr:10.0.1.0/24"));
	assert_false(ov("cidr:0.0.0.0/0", "cidr:::/0"));
	assert_true(ov("cidr:fd00::/8", "cidr:fd00:1::5/128"));
	assert_true(ov("uid:agent", "uid:agent"));
	assert_false(ov("uid:agent", "uid:ci"));
	assert_true(ov("cgroup:/a", "cgroup:/a"));
	assert_true(ov("cgroup:/a", "cgroup:/a/b/c"));
	assert_false(ov("cgroup:/a", "cgroup:/ab"));
	assert_false(ov("cgroup:/a/b", "cgroup:/a/c"));
	/* kinds never overlap statically */
	assert_false(ov("iface:docker0", "cidr:0.0.0.0/0"));
	assert_false(ov("uid:agent", "cgroup:/user.slice"));
	/* two names for one uid are one user */
	x = mk("uid:agent", 0);
	y = mk("uid:agent2", 1);
	x.has_uid = y.has_uid = true;
	x.uid = y.uid = 1001;
	assert_true(eg_wl_overlap(&x, &y));
	y.uid = 1002;
	assert_false(eg_wl_overlap(&x, &y));
}

static void
test_workload_next_overlap(void **state)
{
	struct eg_wl_match m[6];
	size_t i = 0, j = 0, found = 0;

	(void)state;
	m[0] = mk("iface:br-*", 0);
	m[1] = mk("cidr:10.0.0.0/24", 0);
	m[2] = mk("cidr:10.0.0.0/16", 0);	/* same workload: harmless */
	m[3] = mk("iface:br-ci", 1);		/* overlaps m[0] */
	m[4] = mk("cidr:10.0.0.7/32", 2);	/* overlaps m[1], m[2] */
	m[5] = mk("uid:agent", 1);
	while (eg_wl_next_overlap(m, 6, &i, &j)) {
		assert_true(i < j);
		assert_int_not_equal(m[i].wl, m[j].wl);
		switch (found++) {
		case 0: assert_int_equal(i, 0); assert_int_equal(j, 3); break;
		case 1: assert_int_equal(i, 1); assert_int_equal(j, 4); break;
		case 2: assert_int_equal(i, 2); assert_int_equal(j, 4); break;
		}
	}
	assert_int_equal(found, 3);
	/* none, and none of nothing */
	i = j = 0;
	assert_false(eg_wl_next_overlap(m + 5, 1, &i, &j));
	i = j = 0;
	assert_false(eg_wl_next_overlap(m, 0, &i, &j));
}

static struct eg_wl_source
bridge_src(const char *ifname, const char *addr)
{
	struct eg_wl_source s;

	memset(&s, 0, sizeof(s));
	s.bridge = true;
	s.ifname = ifname;
	if (addr != NULL) {
		s.has_addr = true;
		assert_true(eg_ip_parse(addr, &s.addr, true));
	}
	return s;
}

static struct eg_wl_source
local_src(bool has_uid, uid_t uid, const char *cgroup)
{
	struct eg_wl_source s;

	memset(&s, 0, sizeof(s));
	s.has_uid = has_uid;
	s.uid = uid;
	s.cgroup = cgroup;
	return s;
}

static void
test_workload_lookup(void **state)
{
	const struct eg_wl_match *hit, *other;
	struct eg_wl_match m[6];
	struct eg_wl_source s;

	(void)state;
	m[0] = mk("iface:docker0", 0);
	m[1] = mk("cidr:172.18.0.0/16", 1);
	m[2] = mk("cidr:172.17.0.5/32", 2);	/* on docker0, we'll see */
	m[3] = mk("uid:agent", 1);
	m[3].has_uid = true;
	m[3].uid = 1001;
	m[4] = mk("cgroup:/system.slice/ci.service", 2);
	m[5] = mk("uid:ghost", 0);		/* never resolved: never holds */

	s = bridge_src("docker0", "172.17.0.2");
	assert_int_equal(eg_wl_lookup(m, 6, &s, &hit, &other), EG_WL_FOUND);
	assert_ptr_equal(hit, &m[0]);
	assert_null(other);
	s = bridge_src("br-x", "172.18.3.4");
	assert_int_equal(eg_wl_lookup(m, 6, &s, &hit, &other), EG_WL_FOUND);
	assert_ptr_equal(hit, &m[1]);
	/* a bridge whose name the caller does not know: by address alone */
	s = bridge_src(NULL, "172.18.3.4");
	assert_int_equal(eg_wl_lookup(m, 6, &s, &hit, &other), EG_WL_FOUND);
	assert_ptr_equal(hit, &m[1]);
	s = bridge_src("br-x", "10.9.9.9");
	assert_int_equal(eg_wl_lookup(m, 6, &s, &hit, &other), EG_WL_NONE);
	assert_null(hit);
	/* docker0 and one of its containers in another workload */
	s = bridge_src("docker0", "172.17.0.5");
	assert_int_equal(eg_wl_lookup(m, 6, &s, &hit, &other),
	    EG_WL_CONFLICT);
	assert_ptr_equal(hit, &m[0]);
	assert_ptr_equal(other, &m[2]);
	/* a bridge source never matches a local user's match */
	s = bridge_src("br-y", NULL);
	s.has_uid = true;
	s.uid = 1001;
	assert_int_equal(eg_wl_lookup(m, 6, &s, &hit, &other), EG_WL_NONE);

	s = local_src(true, 1001, "/user.slice/user-1001.slice");
	assert_int_equal(eg_wl_lookup(m, 6, &s, &hit, &other), EG_WL_FOUND);
	assert_ptr_equal(hit, &m[3]);
	s = local_src(true, 1002, "/system.slice/ci.service/job1");
	assert_int_equal(eg_wl_lookup(m, 6, &s, &hit, &other), EG_WL_FOUND);
	assert_ptr_equal(hit, &m[4]);
	s = local_src(true, 1002, "/system.slice/ci.servicex");
	assert_int_equal(eg_wl_lookup(m, 6, &s, &hit, &other), EG_WL_NONE);
	/* the jailed uid runs inside the other workload's cgroup */
	s = local_src(true, 1001, "/system.slice/ci.service");
	assert_int_equal(eg_wl_lookup(m, 6, &s, &hit, &other),
	    EG_WL_CONFLICT);
	assert_ptr_equal(hit, &m[3]);
	assert_ptr_equal(other, &m[4]);
	/* a local socket never takes a bridge match by its address */
	s = local_src(false, 0, NULL);
	s.has_addr = true;
	assert_true(eg_ip_parse("172.18.0.1", &s.addr, true));
	assert_int_equal(eg_wl_lookup(m, 6, &s, &hit, &other), EG_WL_NONE);
	/* two matches of one workload are no conflict */
	m[2].wl = 0;
	s = bridge_src("docker0", "172.17.0.5");
	assert_int_equal(eg_wl_lookup(m, 6, &s, &hit, &other), EG_WL_FOUND);
	assert_ptr_equal(hit, &m[0]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = TEST_LIST(WORKLOAD_TESTS);

	return cmocka_run_group_tests(tests, NULL, NULL);
}
