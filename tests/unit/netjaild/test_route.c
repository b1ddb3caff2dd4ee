/*
 * test_route.c - the rule reader behind netjaild's routing repair: which
 * rtnetlink rule is netjaild's own, which could take a jailed user's
 * marked packets before it, and messages it must not trust.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <sys/socket.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>

#include <libmnl/libmnl.h>

#include "route.h"

#include "test_list.h"

#define MARK	0x1u
#define TABLE	100u

static char buf[1024];

/* A rule as the kernel dumps it: priority, table, protocol, and the
 * suppress attributes at -1 ("not set") on every rule. */
static struct nlmsghdr *
rule(int family, uint8_t action, uint32_t pref, uint32_t table)
{
	struct nlmsghdr *nlh;
	struct fib_rule_hdr *fr;

	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWRULE;
	fr = mnl_nlmsg_put_extra_header(nlh, sizeof(*fr));
	fr->family = (uint8_t)family;
	fr->action = action;
	fr->table = table < 256 ? (uint8_t)table : 0;
	mnl_attr_put_u32(nlh, FRA_TABLE, table);
	mnl_attr_put_u32(nlh, FRA_SUPPRESS_PREFIXLEN, 0xffffffff);
	if (pref)
		mnl_attr_put_u32(nlh, FRA_PRIORITY, pref);
	mnl_attr_put_u8(nlh, FRA_PROTOCOL, 0);
	return nlh;
}

static void
mark(struct nlmsghdr *nlh, uint32_t m, uint32_t mask)
{
	mnl_attr_put_u32(nlh, FRA_FWMARK, m);
	mnl_attr_put_u32(nlh, FRA_FWMASK, mask);
}

static void
parse(struct nlmsghdr *nlh, struct nj_rinfo *ri)
{
	assert_int_equal(route_rule_parse(nlh, ri), 0);
}

static void
test_route_rule_ours(void **state)
{
	struct nlmsghdr *nlh;
	struct nj_rinfo ri;

	(void)state;
	nlh = rule(AF_INET, FR_ACT_TO_TBL, 32765, TABLE);
	mark(nlh, MARK, 0xffffffff);
	parse(nlh, &ri);
	assert_true(route_rule_ours(&ri, MARK, TABLE));
	assert_int_equal(ri.pref, 32765);
	/* another table, another mark, a mask, a selector: not ours */
	assert_false(route_rule_ours(&ri, MARK, 101));
	assert_false(route_rule_ours(&ri, 0x2, TABLE));
	nlh = rule(AF_INET, FR_ACT_TO_TBL, 32765, TABLE);
	mark(nlh, MARK, 0xff);
	parse(nlh, &ri);
	assert_false(route_rule_ours(&ri, MARK, TABLE));
	nlh = rule(AF_INET, FR_ACT_TO_TBL, 32765, TABLE);
	mark(nlh, MARK, 0xffffffff);
	mnl_attr_put_strz(nlh, FRA_IIFNAME, "eth0");
	parse(nlh, &ri);
	assert_false(route_rule_ours(&ri, MARK, TABLE));
	/* suppress_prefixlength set: a different rule */
	nlh = rule(AF_INET, FR_ACT_TO_TBL, 32765, TABLE);
	mark(nlh, MARK, 0xffffffff);
	mnl_attr_put_u32(nlh, FRA_SUPPRESS_IFGROUP, 3);
	parse(nlh, &ri);
	assert_false(route_rule_ours(&ri, MARK, TABLE));
}

static void
test_route_rule_takes(void **state)
{
	struct nlmsghdr *nlh;
	struct nj_rinfo ri;

	(void)state;
	/* pref 0 lookup local: only local destinations, ours are not */
	parse(rule(AF_INET, FR_ACT_TO_TBL, 0, RT_TABLE_LOCAL), &ri);
	assert_false(route_rule_takes(&ri, MARK));
	/* lookup main, at any preference */
	parse(rule(AF_INET, FR_ACT_TO_TBL, 10, RT_TABLE_MAIN), &ri);
	assert_true(route_rule_takes(&ri, MARK));
	assert_int_equal(ri.pref, 10);
	parse(rule(AF_INET6, FR_ACT_TO_TBL, 0, RT_TABLE_MAIN), &ri);
	assert_true(route_rule_takes(&ri, MARK));
	assert_int_equal(ri.pref, 0);
	/* wg-quick: not fwmark 0xca6c lookup 51820 takes ours */
	nlh = rule(AF_INET, FR_ACT_TO_TBL, 32764, 51820);
	mark(nlh, 0xca6c, 0xffffffff);
	((struct fib_rule_hdr *)mnl_nlmsg_get_payload(nlh))->flags =
	    FIB_RULE_INVERT;
	parse(nlh, &ri);
	assert_true(route_rule_takes(&ri, MARK));
	/* ... and its suppress_prefixlength 0 lookup main too */
	nlh = rule(AF_INET, FR_ACT_TO_TBL, 32764, RT_TABLE_MAIN);
	mnl_attr_put_u32(nlh, FRA_SUPPRESS_PREFIXLEN, 0);
	parse(nlh, &ri);
	assert_true(route_rule_takes(&ri, MARK));
	/* a fwmark that ours does not carry, under its mask */
	nlh = rule(AF_INET, FR_ACT_TO_TBL, 5210, 52);
	mark(nlh, 0x80000, 0xff0000);
	parse(nlh, &ri);
	assert_false(route_rule_takes(&ri, MARK));
	nlh = rule(AF_INET, FR_ACT_TO_TBL, 5210, 52);
	mark(nlh, 0x1, 0x1);
	parse(nlh, &ri);
	assert_true(route_rule_takes(&ri, MARK));
	/* iif: a local packet's is lo */
	nlh = rule(AF_INET, FR_ACT_TO_TBL, 100, RT_TABLE_MAIN);
	mnl_attr_put_strz(nlh, FRA_IIFNAME, "eth1");
	parse(nlh, &ri);
	assert_false(route_rule_takes(&ri, MARK));
	nlh = rule(AF_INET, FR_ACT_TO_TBL, 100, RT_TABLE_MAIN);
	mnl_attr_put_strz(nlh, FRA_IIFNAME, "lo");
	parse(nlh, &ri);
	assert_true(route_rule_takes(&ri, MARK));
	/* a blackhole takes them too (and breaks the jailed TCP) */
	parse(rule(AF_INET, FR_ACT_BLACKHOLE, 50, 0), &ri);
	assert_true(route_rule_takes(&ri, MARK));
	parse(rule(AF_INET, FR_ACT_NOP, 50, 0), &ri);
	assert_false(route_rule_takes(&ri, MARK));
}

/* Truncated, mistyped or unterminated attributes: not trusted. */
static void
test_route_malformed_attrs_not_trusted(void **state)
{
	struct nlmsghdr *nlh;
	struct nlattr *a;
	struct nj_rinfo ri;
	char name[40];

	(void)state;
	/* a u32 attribute with two bytes */
	nlh = rule(AF_INET, FR_ACT_TO_TBL, 10, RT_TABLE_MAIN);
	mnl_attr_put(nlh, FRA_FWMARK, 2, "\1\0");
	assert_int_equal(route_rule_parse(nlh, &ri), -1);
	/* an interface name without its NUL, and one too long */
	nlh = rule(AF_INET, FR_ACT_TO_TBL, 10, RT_TABLE_MAIN);
	mnl_attr_put(nlh, FRA_IIFNAME, 4, "eth0");
	assert_int_equal(route_rule_parse(nlh, &ri), -1);
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	nlh = rule(AF_INET, FR_ACT_TO_TBL, 10, RT_TABLE_MAIN);
	mnl_attr_put_strz(nlh, FRA_IIFNAME, name);
	assert_int_equal(route_rule_parse(nlh, &ri), -1);
	/* an attribute whose length runs past the message */
	nlh = rule(AF_INET, FR_ACT_TO_TBL, 10, RT_TABLE_MAIN);
	a = (struct nlattr *)((char *)nlh + nlh->nlmsg_len);
	a->nla_type = FRA_PRIORITY;
	a->nla_len = 200;
	nlh->nlmsg_len += 8;
	assert_int_equal(route_rule_parse(nlh, &ri), -1);
	/* too short for the rule header; not a rule at all */
	nlh = rule(AF_INET, FR_ACT_TO_TBL, 10, RT_TABLE_MAIN);
	nlh->nlmsg_len = NLMSG_HDRLEN + 4;
	assert_int_equal(route_rule_parse(nlh, &ri), -1);
	nlh = rule(AF_INET, FR_ACT_TO_TBL, 10, RT_TABLE_MAIN);
	nlh->nlmsg_type = RTM_NEWROUTE;
	assert_int_equal(route_rule_parse(nlh, &ri), -1);
}

int
main(void)
{
	const struct CMUnitTest t[] = TEST_LIST(ROUTE_TESTS);

	return cmocka_run_group_tests_name("netjaild_route", t, NULL, NULL);
}
