/*
 * route.c - rtnetlink through libmnl for the fwmark rule and local route:
 * install, verify, and check and repair against rules that come to stand
 * in front of ours or a rule or route that someone deleted.
 */
#include <errno.h>
#include <stdarg.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netlink.h>
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

/* ---- check and repair ---- */

static int
rinfo_attr(const struct nlattr *a, void *arg)
{
	const struct nlattr **tb = arg;
	int t = mnl_attr_get_type(a);

	if (t > FRA_MAX)
		return MNL_CB_OK;
	switch (t) {
	case FRA_PRIORITY: case FRA_TABLE: case FRA_FWMARK: case FRA_FWMASK:
	case FRA_SUPPRESS_PREFIXLEN: case FRA_SUPPRESS_IFGROUP:
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			return MNL_CB_ERROR;
		break;
	case FRA_IIFNAME: case FRA_OIFNAME:
		if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0 ||
		    mnl_attr_get_payload_len(a) > IFNAMSIZ)
			return MNL_CB_ERROR;
		break;
	case FRA_L3MDEV:
		if (mnl_attr_validate(a, MNL_TYPE_U8) < 0)
			return MNL_CB_ERROR;
		break;
	}
	tb[t] = a;
	return MNL_CB_OK;
}

/* libmnl stops quietly at an attribute that runs past the message. */
static bool
attrs_whole(const struct nlmsghdr *nlh, unsigned off)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, off)
		;
	return (const char *)a ==
	    (const char *)mnl_nlmsg_get_payload_tail(nlh);
}

int
route_rule_parse(const struct nlmsghdr *nlh, struct nj_rinfo *ri)
{
	const struct nlattr *tb[FRA_MAX + 1] = { 0 };
	const struct fib_rule_hdr *fr;
	int t;

	memset(ri, 0, sizeof(*ri));
	if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(*fr) ||
	    (nlh->nlmsg_type != RTM_NEWRULE && nlh->nlmsg_type != RTM_DELRULE))
		return -1;
	fr = mnl_nlmsg_get_payload(nlh);
	if (mnl_attr_parse(nlh, sizeof(*fr), rinfo_attr, tb) != MNL_CB_OK ||
	    !attrs_whole(nlh, sizeof(*fr)))
		return -1;
	ri->family = fr->family;
	ri->action = fr->action;
	ri->invert = (fr->flags & FIB_RULE_INVERT) != 0;
	ri->table = tb[FRA_TABLE] ? mnl_attr_get_u32(tb[FRA_TABLE]) :
	    fr->table;
	ri->pref = tb[FRA_PRIORITY] ? mnl_attr_get_u32(tb[FRA_PRIORITY]) : 0;
	if (tb[FRA_FWMARK] || tb[FRA_FWMASK]) {
		ri->has_mark = true;
		ri->mark = tb[FRA_FWMARK] ? mnl_attr_get_u32(tb[FRA_FWMARK]) :
		    0;
		ri->mask = tb[FRA_FWMASK] ? mnl_attr_get_u32(tb[FRA_FWMASK]) :
		    0xffffffff;
	}
	if (tb[FRA_IIFNAME]) {
		ri->has_iif = true;
		ri->iif_lo = strcmp(mnl_attr_get_str(tb[FRA_IIFNAME]),
		    "lo") == 0;
	}
	ri->has_oif = tb[FRA_OIFNAME] != NULL;
	ri->l3mdev = tb[FRA_L3MDEV] && mnl_attr_get_u8(tb[FRA_L3MDEV]);
	/* any other selector: ours never has one */
	ri->other = fr->dst_len || fr->src_len || fr->tos;
	for (t = 0; t <= FRA_MAX; t++)
		switch (t) {
		case FRA_PRIORITY: case FRA_TABLE: case FRA_FWMARK:
		case FRA_FWMASK: case FRA_PROTOCOL:
			break;
		case FRA_SUPPRESS_PREFIXLEN: case FRA_SUPPRESS_IFGROUP:
			/* the kernel dumps them always; -1 is "not set" */
			if (tb[t] && mnl_attr_get_u32(tb[t]) != 0xffffffff)
				ri->other = true;
			break;
		default:
			if (tb[t])
				ri->other = true;
		}
	return 0;
}

bool
route_rule_ours(const struct nj_rinfo *ri, uint32_t mark, uint32_t table)
{
	return ri->action == FR_ACT_TO_TBL && !ri->invert && !ri->other &&
	    ri->has_mark && ri->mark == mark && ri->mask == 0xffffffff &&
	    ri->table == table;
}

bool
route_rule_takes(const struct nj_rinfo *ri, uint32_t mark)
{
	if (ri->action == FR_ACT_NOP)
		return false;
	/* the local table holds only local destinations; ours are not */
	if (ri->action == FR_ACT_TO_TBL && ri->table == RT_TABLE_LOCAL)
		return false;
	/* VRF rules see only packets of a VRF device */
	if (ri->l3mdev)
		return false;
	if (ri->invert)
		return true;
	if (ri->has_mark && (mark & ri->mask) != (ri->mark & ri->mask))
		return false;
	/* a local packet's iif is lo */
	if (ri->has_iif && !ri->iif_lo)
		return false;
	/* only sockets bound to a device, which postrouting drops anyway */
	if (ri->has_oif)
		return false;
	return true;
}

#define NJ_OURS_MAX	16

struct rstate {
	uint32_t mark, table;
	unsigned lo;
	size_t nours;
	uint32_t ours[NJ_OURS_MAX];	/* prefs of our copies */
	uint32_t ours_min;
	bool front;			/* some rule takes our packets */
	uint32_t front_pref, front_table;
	bool route;
	int bad;			/* a message we could not parse */
};

static int
state_rule_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct rstate *st = arg;
	struct nj_rinfo ri;

	if (nlh->nlmsg_type != RTM_NEWRULE)
		return 0;
	if (route_rule_parse(nlh, &ri) == -1) {
		st->bad++;
		return 0;
	}
	if (route_rule_ours(&ri, st->mark, st->table)) {
		if (st->nours == 0 || ri.pref < st->ours_min)
			st->ours_min = ri.pref;
		if (st->nours < NJ_OURS_MAX)
			st->ours[st->nours++] = ri.pref;
		return 0;
	}
	if (route_rule_takes(&ri, st->mark) &&
	    (!st->front || ri.pref < st->front_pref)) {
		st->front = true;
		st->front_pref = ri.pref;
		st->front_table = ri.table;
	}
	return 0;
}

static int
state_route_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct rstate *st = arg;
	struct found f;

	memset(&f, 0, sizeof(f));
	f.table = st->table;
	f.lo = st->lo;
	route_cb(nlh, &f);
	if (f.ok)
		st->route = true;
	return 0;
}

static int
dump(struct nj_nl *nl, uint16_t type, int family, nl_msg_cb cb, void *arg)
{
	char buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = nl->seq++;
	if (type == RTM_GETRULE)
		((struct fib_rule_hdr *)mnl_nlmsg_put_extra_header(nlh,
		    sizeof(struct fib_rule_hdr)))->family = (uint8_t)family;
	else
		((struct rtmsg *)mnl_nlmsg_put_extra_header(nlh,
		    sizeof(struct rtmsg)))->rtm_family = (uint8_t)family;
	return nl_request(nl, nlh, cb, arg);
}

static struct nlmsghdr *
rule_msg_pref(char *buf, struct nj_nl *nl, uint16_t type, uint16_t flags,
    int family, uint32_t mark, uint32_t table, uint32_t pref)
{
	struct nlmsghdr *nlh = rule_msg(buf, nl, type, flags, family, mark,
	    table);

	mnl_attr_put_u32(nlh, FRA_PRIORITY, pref);
	return nlh;
}

static void
note(struct nj_route_report *rep, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
note(struct nj_route_report *rep, const char *fmt, ...)
{
	size_t off = strlen(rep->what);
	va_list ap;

	if (off > 0 && off + 2 < sizeof(rep->what)) {
		memcpy(rep->what + off, "; ", 3);
		off += 2;
	}
	va_start(ap, fmt);
	vsnprintf(rep->what + off, sizeof(rep->what) - off, fmt, ap);
	va_end(ap);
}

/*
 * Put our rule in front of st->front_pref (or, with nothing in front, let
 * the kernel choose as route_install does), then delete the copies that
 * stand behind.  Adding first leaves no moment without the rule.
 */
static int
rule_move(struct nj_nl *nl, int family, struct rstate *st,
    struct nj_route_report *rep)
{
	char buf[512];
	uint32_t to = 0;
	size_t i;
	int rc;

	if (st->front) {
		to = st->front_pref - 1;
		rc = nl_request(nl, rule_msg_pref(buf, nl, RTM_NEWRULE,
		    NLM_F_CREATE | NLM_F_EXCL, family, st->mark, st->table,
		    to), NULL, NULL);
	} else
		rc = nl_request(nl, rule_msg(buf, nl, RTM_NEWRULE,
		    NLM_F_CREATE | NLM_F_EXCL, family, st->mark, st->table),
		    NULL, NULL);
	if (rc < 0 && rc != -EEXIST)
		return rc;
	for (i = 0; i < st->nours; i++) {
		if (st->front && st->ours[i] == to)
			continue;
		rc = nl_request(nl, rule_msg_pref(buf, nl, RTM_DELRULE, 0,
		    family, st->mark, st->table, st->ours[i]), NULL, NULL);
		if (rc < 0 && rc != -ENOENT)
			return rc;
	}
	rep->changes++;
	if (st->nours == 0)
		note(rep, "IPv%d rule fwmark 0x%x lookup %u was missing: "
		    "added%s%u", family == AF_INET ? 4 : 6, st->mark,
		    st->table, st->front ? " at pref " : "", st->front ? to :
		    0);
	else
		note(rep, "IPv%d rule at pref %u was behind pref %u (lookup "
		    "%u): moved to pref %u", family == AF_INET ? 4 : 6,
		    st->ours_min, st->front_pref, st->front_table, to);
	return 0;
}

static int
check_family(struct nj_nl *nl, int family, uint32_t mark, uint32_t table,
    bool repair, struct nj_route_report *rep)
{
	struct rstate st;
	char buf[512];
	int rc;

	memset(&st, 0, sizeof(st));
	st.mark = mark;
	st.table = table;
	st.lo = if_nametoindex("lo");
	if ((rc = dump(nl, RTM_GETRULE, family, state_rule_cb, &st)) < 0 ||
	    (rc = dump(nl, RTM_GETROUTE, family, state_route_cb, &st)) < 0)
		return rc;
	if (st.bad)
		return -EPROTO;
	/* whole: ours is there and nothing that takes stands in front */
	if (st.nours > 0 && (!st.front || st.ours_min < st.front_pref))
		goto route;
	if (st.front && st.front_pref <= 1 && st.nours > 0) {
		/* nothing we may do gets in front of pref 0 or 1 */
		if (!rep->displaced) {
			rep->displaced = true;
			rep->dfamily = family;
			rep->dpref = st.front_pref;
			rep->dtable = st.front_table;
		}
		goto route;
	}
	if (st.nours == 0)
		rep->missing = true;
	if (!repair)
		goto route;
	if (st.front && st.front_pref <= 1)
		st.front = false;	/* missing: add it where it fits */
	if ((rc = rule_move(nl, family, &st, rep)) < 0)
		return rc;
	if (st.front_pref <= 1 && st.nours == 0 && !rep->displaced) {
		rep->displaced = true;
		rep->dfamily = family;
		rep->dpref = st.front_pref;
		rep->dtable = st.front_table;
	}
route:
	if (st.route)
		return 0;
	rep->missing = true;
	if (!repair)
		return 0;
	rc = nl_request(nl, route_msg(buf, nl, RTM_NEWROUTE, NLM_F_CREATE |
	    NLM_F_REPLACE, family, table), NULL, NULL);
	if (rc < 0)
		return rc;
	rep->changes++;
	note(rep, "IPv%d local default route in table %u was missing: added",
	    family == AF_INET ? 4 : 6, table);
	return 0;
}

int
route_check(uint32_t mark, uint32_t table, bool repair,
    struct nj_route_report *rep, char *err, size_t errlen)
{
	struct nj_nl nl;
	int i, rc = 0;

	memset(rep, 0, sizeof(*rep));
	if (nl_open(&nl, NETLINK_ROUTE, err, errlen) == -1)
		return -EIO;
	for (i = 0; i < 2 && rc == 0; i++)
		if ((rc = check_family(&nl, families[i], mark, table, repair,
		    rep)) < 0)
			snprintf(err, errlen, "IPv%d policy routing: %s",
			    i ? 6 : 4, strerror(-rc));
	nl_close(&nl);
	if (rc == 0 && repair && rep->changes > 0)
		rep->missing = false;
	return rc;
}

int
route_watch_open(struct nj_nl *nl, char *err, size_t errlen)
{
	static const int groups[] = { RTNLGRP_IPV4_RULE, RTNLGRP_IPV6_RULE,
	    RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE };
	size_t i;

	if (nl_open(nl, NETLINK_ROUTE, err, errlen) == -1)
		return -1;
	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (mnl_socket_setsockopt(nl->sk, NETLINK_ADD_MEMBERSHIP,
		    (void *)&groups[i], sizeof(groups[i])) == -1) {
			snprintf(err, errlen, "rtnetlink group %d: %s",
			    groups[i], strerror(errno));
			nl_close(nl);
			return -1;
		}
	return 0;
}

/* A rule change, or a route change in our table. */
static bool
relevant(const struct nlmsghdr *nlh, uint32_t table)
{
	const struct nlattr *tb[RTA_MAX + 1] = { 0 };
	const struct rtmsg *rt;

	switch (nlh->nlmsg_type) {
	case RTM_NEWRULE:
	case RTM_DELRULE:
		return true;
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(*rt))
			return true;	/* cannot tell: look */
		rt = mnl_nlmsg_get_payload(nlh);
		mnl_attr_parse(nlh, sizeof(*rt), rt_attr, tb);
		return (tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) :
		    rt->rtm_table) == table;
	}
	return false;
}

/*
 * Any relevant message in a buffer of them.  mnl_nlmsg_ok compares the
 * length as an int: a length of 2^31 or more would pass it, so it is
 * bounded here too.
 */
static int
relevant_buf(const char *buf, int len, uint32_t table)
{
	const struct nlmsghdr *nlh;
	int left = len;

	for (nlh = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, left) &&
	    nlh->nlmsg_len <= (unsigned)left; nlh = mnl_nlmsg_next(nlh, &left))
		if (relevant(nlh, table))
			return 1;
	return 0;
}

int
route_watch_read(struct nj_nl *nl, uint32_t table)
{
	char buf[16384];
	ssize_t n;
	int hit = 0;

	for (;;) {
		n = recv(mnl_socket_get_fd(nl->sk), buf, sizeof(buf),
		    MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return hit;
			if (errno == EINTR)
				continue;
			/* lost notifications: one of them may matter */
			if (errno == ENOBUFS)
				return 1;
			return -errno;
		}
		if (n == 0)
			return hit;
		if (relevant_buf(buf, (int)n, table))
			hit = 1;
	}
}
