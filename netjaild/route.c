/*
 * route.c - rtnetlink through libmnl for the fwmark rule and local route.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>

#include <libmnl/libmnl.h>

#include "nl.h"
#include "route.h"

static const int families[2] = { AF_INET, AF_INET6 };

static struct nlmsghdr *
rule_msg(char *buf, struct nj_nl *nl, uint16_t type, uint16_t flags,
    int family, uint32_t mark, uint32_t table)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct fib_rule_hdr *fr;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = nl->seq++;
	fr = mnl_nlmsg_put_extra_header(nlh, sizeof(*fr));
	fr->family = (uint8_t)family;
	fr->action = FR_ACT_TO_TBL;
	fr->table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	mnl_attr_put_u32(nlh, FRA_FWMARK, mark);
	mnl_attr_put_u32(nlh, FRA_TABLE, table);
	return nlh;
}

static struct nlmsghdr *
route_msg(char *buf, struct nj_nl *nl, uint16_t type, uint16_t flags,
    int family, uint32_t table)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rt;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = nl->seq++;
	rt = mnl_nlmsg_put_extra_header(nlh, sizeof(*rt));
	rt->rtm_family = (uint8_t)family;
	rt->rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	rt->rtm_protocol = RTPROT_BOOT;
	rt->rtm_scope = RT_SCOPE_HOST;
	rt->rtm_type = RTN_LOCAL;
	mnl_attr_put_u32(nlh, RTA_TABLE, table);
	mnl_attr_put_u32(nlh, RTA_OIF, if_nametoindex("lo"));
	return nlh;
}

static int rule_present(struct nj_nl *, int, uint32_t, uint32_t);

int
route_install(uint32_t mark, uint32_t table, char *err, size_t errlen)
{
	char buf[8192];
	struct nj_nl nl;
	int i, rc = 0;

	if (nl_open(&nl, NETLINK_ROUTE, err, errlen) == -1)
		return -EIO;
	for (i = 0; i < 2 && rc == 0; i++) {
		/*
		 * A restart must not stack a second identical rule, and
		 * NLM_F_EXCL does not catch it when no priority is given.
		 */
		rc = rule_present(&nl, families[i], mark, table);
		if (rc == 0)
			rc = nl_request(&nl, rule_msg(buf, &nl, RTM_NEWRULE,
			    NLM_F_CREATE | NLM_F_EXCL, families[i], mark,
			    table), NULL, NULL);
		else if (rc == 1)
			rc = 0;
		if (rc == -EEXIST)
			rc = 0;
		if (rc < 0) {
			snprintf(err, errlen, "ip -%d rule add fwmark 0x%x "
			    "lookup %u: %s", i ? 6 : 4, mark, table,
			    strerror(-rc));
			break;
		}
		rc = nl_request(&nl, route_msg(buf, &nl, RTM_NEWROUTE,
		    NLM_F_CREATE | NLM_F_REPLACE, families[i], table),
		    NULL, NULL);
		if (rc < 0)
			snprintf(err, errlen, "ip -%d route add local default "
			    "dev lo table %u: %s", i ? 6 : 4, table,
			    strerror(-rc));
	}
	nl_close(&nl);
	return rc;
}

int
route_remove(uint32_t mark, uint32_t table, char *err, size_t errlen)
{
	char buf[8192];
	struct nj_nl nl;
	int i, n, rc = 0, r;

	if (nl_open(&nl, NETLINK_ROUTE, err, errlen) == -1)
		return -EIO;
	for (i = 0; i < 2; i++) {
		/* every copy, should something have stacked them */
		for (n = 0; n < 64; n++) {
			r = nl_request(&nl, rule_msg(buf, &nl, RTM_DELRULE, 0,
			    families[i], mark, table), NULL, NULL);
			if (r < 0)
				break;
		}
		if (r < 0 && r != -ENOENT && rc == 0) {
			rc = r;
			snprintf(err, errlen, "ip rule del: %s", strerror(-r));
		}
		r = nl_request(&nl, route_msg(buf, &nl, RTM_DELROUTE, 0,
		    families[i], table), NULL, NULL);
		if (r < 0 && r != -ENOENT && r != -ESRCH && rc == 0) {
			rc = r;
			snprintf(err, errlen, "ip route del: %s", strerror(-r));
		}
	}
	nl_close(&nl);
	return rc;
}

struct found {
	uint32_t mark, table;
	unsigned lo;
	int ok;
};

static int
rule_attr(const struct nlattr *a, void *arg)
{
	const struct nlattr **tb = arg;
	int t = mnl_attr_get_type(a);

	if (t <= FRA_MAX && mnl_attr_get_payload_len(a) >= 4)
		tb[t] = a;
	return MNL_CB_OK;
}

static int
rule_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct found *f = arg;
	const struct nlattr *tb[FRA_MAX + 1] = { 0 };
	const struct fib_rule_hdr *fr = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type != RTM_NEWRULE)
		return 0;
	mnl_attr_parse(nlh, sizeof(*fr), rule_attr, tb);
	if (fr->action == FR_ACT_TO_TBL && tb[FRA_FWMARK] && tb[FRA_TABLE] &&
	    mnl_attr_get_u32(tb[FRA_FWMARK]) == f->mark &&
	    mnl_attr_get_u32(tb[FRA_TABLE]) == f->table)
		f->ok = 1;
	return 0;
}

static int
rt_attr(const struct nlattr *a, void *arg)
{
	const struct nlattr **tb = arg;
	int t = mnl_attr_get_type(a);

	if (t <= RTA_MAX && mnl_attr_get_payload_len(a) >= 4)
		tb[t] = a;
	return MNL_CB_OK;
}

static int
route_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct found *f = arg;
	const struct nlattr *tb[RTA_MAX + 1] = { 0 };
	const struct rtmsg *rt = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return 0;
	mnl_attr_parse(nlh, sizeof(*rt), rt_attr, tb);
	if (rt->rtm_type == RTN_LOCAL && rt->rtm_dst_len == 0 &&
	    tb[RTA_TABLE] && mnl_attr_get_u32(tb[RTA_TABLE]) == f->table &&
	    tb[RTA_OIF] && mnl_attr_get_u32(tb[RTA_OIF]) == f->lo)
		f->ok = 1;
	return 0;
}

static int
rule_present(struct nj_nl *nl, int family, uint32_t mark, uint32_t table)
{
	char buf[8192];
	struct nlmsghdr *nlh;
	struct found f;
	int r;

	memset(&f, 0, sizeof(f));
	f.mark = mark;
	f.table = table;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETRULE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = nl->seq++;
	((struct fib_rule_hdr *)mnl_nlmsg_put_extra_header(nlh,
	    sizeof(struct fib_rule_hdr)))->family = (uint8_t)family;
	if ((r = nl_request(nl, nlh, rule_cb, &f)) < 0)
		return r;
	return f.ok;
}

int
route_verify(uint32_t mark, uint32_t table, char *err, size_t errlen)
{
	char buf[8192];
	struct nj_nl nl;
	struct nlmsghdr *nlh;
	struct found f;
	int i, rc = 1, r;

	if (nl_open(&nl, NETLINK_ROUTE, err, errlen) == -1)
		return -EIO;
	for (i = 0; i < 2 && rc == 1; i++) {
		memset(&f, 0, sizeof(f));
		f.mark = mark;
		f.table = table;
		f.lo = if_nametoindex("lo");
		nlh = mnl_nlmsg_put_header(buf);
		nlh->nlmsg_type = RTM_GETRULE;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		nlh->nlmsg_seq = nl.seq++;
		((struct fib_rule_hdr *)mnl_nlmsg_put_extra_header(nlh,
		    sizeof(struct fib_rule_hdr)))->family = (uint8_t)families[i];
		if ((r = nl_request(&nl, nlh, rule_cb, &f)) < 0) {
			snprintf(err, errlen, "dumping rules: %s", strerror(-r));
			rc = r;
			break;
		}
		if (!f.ok) {
			snprintf(err, errlen, "IPv%d rule fwmark 0x%x lookup %u"
			    " missing", i ? 6 : 4, mark, table);
			rc = 0;
			break;
		}
		f.ok = 0;
		nlh = mnl_nlmsg_put_header(buf);
		nlh->nlmsg_type = RTM_GETROUTE;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		nlh->nlmsg_seq = nl.seq++;
		((struct rtmsg *)mnl_nlmsg_put_extra_header(nlh,
		    sizeof(struct rtmsg)))->rtm_family = (uint8_t)families[i];
		if ((r = nl_request(&nl, nlh, route_cb, &f)) < 0) {
			snprintf(err, errlen, "dumping routes: %s",
			    strerror(-r));
			rc = r;
			break;
		}
		if (!f.ok) {
			snprintf(err, errlen, "IPv%d local default route in "
			    "table %u missing", i ? 6 : 4, table);
			rc = 0;
		}
	}
	nl_close(&nl);
	return rc;
}
