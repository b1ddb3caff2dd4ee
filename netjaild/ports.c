/*
 * ports.c - nothing is switched between two ports of a jailed bridge.
 *
 * Frames one port of a bridge sends to another never meet the inet hooks
 * when bridge-nf-call-iptables is 0, and 802.1Q-tagged, PPPoE or any
 * other non-IP frames skip them even at 1: a workload reaches a neighbour
 * on the bridge that forwards (a container with a second, unjailed
 * network, an uplink enslaved to the bridge) at layer 2.  Every port of
 * a jailed bridge is therefore set "isolated" (IFLA_BRPORT_ISOLATED,
 * Linux 4.18): the bridge forwards nothing from one isolated port to
 * another, whatever the frame and whatever br_netfilter says, while
 * delivery to the host (the bridge device, where the inet rules apply)
 * is untouched.  nft's bridge family could say the same only with
 * `meta ibrname`, which needs nft_meta_bridge (absent from kernels built
 * without CONFIG_NFT_BRIDGE_META, as here).
 *
 * netjaild isolates the ports at install and reload, again whenever a
 * link changes (an RTNLGRP_LINK subscription: a container's veth is
 * isolated as it is enslaved) and on every verify tick.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if_addr.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <libmnl/libmnl.h>

#include "log.h"
#include "nl.h"
#include "ports.h"

#define NJ_MAX_LINKS	4096

struct link {
	int index, master;
	char name[IFNAMSIZ];
	bool port;		/* a bridge port (slave kind "bridge") */
	bool isolated;
	bool bridge;		/* kind "bridge" */
	bool nf_call;		/* nf_call_iptables and nf_call_ip6tables */
};

struct prefix {
	int index, family;
	uint8_t addr[16];
	int plen;
};

struct links {
	struct link *v;
	size_t n, cap;
	struct prefix *p;
	size_t np, pcap;
};

static bool
jailed(const struct eg_config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->jail.ninterfaces; i++)
		if (eg_ifname_match(cfg->jail.interfaces[i], name))
			return true;
	return false;
}

static void
slave_data(const struct nlattr *linkinfo, struct link *l)
{
	const struct nlattr *a, *b;
	int calls = 0;

	mnl_attr_for_each_nested(a, linkinfo) {
		if (mnl_attr_get_type(a) == IFLA_INFO_KIND &&
		    mnl_attr_validate(a, MNL_TYPE_STRING) == 0 &&
		    strcmp(mnl_attr_get_str(a), "bridge") == 0)
			l->bridge = true;
		if (mnl_attr_get_type(a) == IFLA_INFO_DATA)
			mnl_attr_for_each_nested(b, a)
				if ((mnl_attr_get_type(b) ==
				    IFLA_BR_NF_CALL_IPTABLES ||
				    mnl_attr_get_type(b) ==
				    IFLA_BR_NF_CALL_IP6TABLES) &&
				    mnl_attr_validate(b, MNL_TYPE_U8) == 0 &&
				    mnl_attr_get_u8(b) != 0)
					calls++;
		if (mnl_attr_get_type(a) == IFLA_INFO_SLAVE_KIND &&
		    mnl_attr_validate(a, MNL_TYPE_STRING) == 0 &&
		    strcmp(mnl_attr_get_str(a), "bridge") == 0)
			l->port = true;
		if (mnl_attr_get_type(a) != IFLA_INFO_SLAVE_DATA)
			continue;
		mnl_attr_for_each_nested(b, a)
			if (mnl_attr_get_type(b) == IFLA_BRPORT_ISOLATED &&
			    mnl_attr_validate(b, MNL_TYPE_U8) == 0)
				l->isolated = mnl_attr_get_u8(b) != 0;
	}
	l->nf_call = calls == 2;
}

static int
link_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct links *ls = arg;
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	struct link l, *v;

	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return 0;
	memset(&l, 0, sizeof(l));
	l.index = ifi->ifi_index;
	mnl_attr_for_each(a, nlh, sizeof(*ifi)) {
		switch (mnl_attr_get_type(a)) {
		case IFLA_IFNAME:
			if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
				snprintf(l.name, sizeof(l.name), "%s",
				    mnl_attr_get_str(a));
			break;
		case IFLA_MASTER:
			if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
				l.master = (int)mnl_attr_get_u32(a);
			break;
		case IFLA_LINKINFO:
			slave_data(a, &l);
			break;
		}
	}
	if (ls->n == ls->cap) {
		if (ls->cap >= NJ_MAX_LINKS)
			return -E2BIG;
		v = reallocarray(ls->v, ls->cap ? ls->cap * 2 : 64,
		    sizeof(*v));
		if (v == NULL)
			return -ENOMEM;
		ls->v = v;
		ls->cap = ls->cap ? ls->cap * 2 : 64;
	}
	ls->v[ls->n++] = l;
	return 0;
}

static int
dump_links(struct nj_nl *nl, struct links *ls)
{
	char buf[1024];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = nl->seq++;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	return nl_request(nl, nlh, link_cb, ls);
}

static int
addr_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct links *ls = arg;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	struct prefix *v, x;
	size_t alen;

	if (nlh->nlmsg_type != RTM_NEWADDR ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa) ||
	    (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
		return 0;
	alen = ifa->ifa_family == AF_INET ? 4 : 16;
	memset(&x, 0, sizeof(x));
	x.index = (int)ifa->ifa_index;
	x.family = ifa->ifa_family;
	x.plen = ifa->ifa_prefixlen > alen * 8 ? (int)alen * 8 :
	    ifa->ifa_prefixlen;
	mnl_attr_for_each(a, nlh, sizeof(*ifa))
		if (mnl_attr_get_type(a) == IFA_ADDRESS &&
		    mnl_attr_get_payload_len(a) == alen)
			memcpy(x.addr, mnl_attr_get_payload(a), alen);
	if (ls->np == ls->pcap) {
		if (ls->pcap >= NJ_MAX_LINKS)
			return -E2BIG;
		v = reallocarray(ls->p, ls->pcap ? ls->pcap * 2 : 64,
		    sizeof(*v));
		if (v == NULL)
			return -ENOMEM;
		ls->p = v;
		ls->pcap = ls->pcap ? ls->pcap * 2 : 64;
	}
	ls->p[ls->np++] = x;
	return 0;
}

static int
dump_addrs(struct nj_nl *nl, struct links *ls)
{
	char buf[1024];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa;

	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = nl->seq++;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_UNSPEC;
	return nl_request(nl, nlh, addr_cb, ls);
}

/* Do the first plen bits of a and b agree? */
static bool
prefix_eq(const uint8_t *a, const uint8_t *b, int plen)
{
	int n = plen / 8, r = plen % 8;

	if (memcmp(a, b, (size_t)n) != 0)
		return false;
	return r == 0 || ((a[n] ^ b[n]) & (0xff << (8 - r))) == 0;
}

/*
 * Is a configured direct endpoint inside a subnet of the bridge with that
 * index?  Then the operator wants workloads on it to reach one another on
 * that port, which needs the bridge to switch between its ports.
 */
static bool
direct_inside(const struct eg_config *cfg, const struct links *ls, int index)
{
	size_t i, j;

	for (i = 0; i < cfg->jail.ndirect; i++) {
		const struct eg_endpoint *ep = &cfg->jail.direct[i].ep;

		if (ep->is_name)
			continue;
		for (j = 0; j < ls->np; j++) {
			const struct prefix *p = &ls->p[j];
			int plen = p->plen < ep->cidr.plen ? p->plen :
			    ep->cidr.plen;

			if (p->index == index &&
			    p->family == ep->cidr.ip.family &&
			    prefix_eq(p->addr, ep->cidr.ip.addr, plen))
				return true;
		}
	}
	return false;
}

static const struct link *
link_of(const struct links *ls, int index)
{
	size_t i;

	for (i = 0; i < ls->n; i++)
		if (ls->v[i].index == index)
			return &ls->v[i];
	return NULL;
}

/*
 * ip link set BRIDGE type bridge nf_call_iptables 1 nf_call_ip6tables 1:
 * IP between the ports of this bridge meets the inet rules whatever the
 * bridge-nf-call-ip(6)tables sysctls say.
 */
static int
set_nf_call(struct nj_nl *nl, int index)
{
	char buf[1024];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;
	struct nlattr *info, *data;

	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = nl->seq++;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = index;
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	mnl_attr_put_u8(nlh, IFLA_BR_NF_CALL_IPTABLES, 1);
	mnl_attr_put_u8(nlh, IFLA_BR_NF_CALL_IP6TABLES, 1);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return nl_request(nl, nlh, NULL, NULL);
}

static const char *
name_of(const struct links *ls, int index)
{
	size_t i;

	for (i = 0; i < ls->n; i++)
		if (ls->v[i].index == index)
			return ls->v[i].name;
	return NULL;
}

/* bridge link set dev PORT isolated on|off */
static int
set_isolated(struct nj_nl *nl, int index, bool on)
{
	char buf[1024];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;
	struct nlattr *nest;

	nlh->nlmsg_type = RTM_SETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = nl->seq++;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_BRIDGE;
	ifi->ifi_index = index;
	nest = mnl_attr_nest_start(nlh, IFLA_PROTINFO);
	mnl_attr_put_u8(nlh, IFLA_BRPORT_ISOLATED, on ? 1 : 0);
	mnl_attr_nest_end(nlh, nest);
	return nl_request(nl, nlh, NULL, NULL);
}

int
ports_apply(const struct eg_config *cfg, enum ports_op op,
    struct ports_count *pc, char *err, size_t errlen)
{
	struct nj_nl nl;
	struct links ls = { 0 };
	const char *br;
	bool on = op != PORTS_RELEASE;
	size_t i;
	int rc;

	if (pc != NULL)
		memset(pc, 0, sizeof(*pc));
	if (cfg->jail.ninterfaces == 0)
		return 0;
	if (nl_open(&nl, NETLINK_ROUTE, err, errlen) == -1)
		return -EIO;
	if ((rc = dump_links(&nl, &ls)) < 0 || (rc = dump_addrs(&nl, &ls)) < 0) {
		snprintf(err, errlen, "listing links: %s", strerror(-rc));
		goto out;
	}
	for (i = 0; i < ls.n; i++) {
		const struct link *l = &ls.v[i];
		const struct link *m;

		if (!l->port || l->master == 0 ||
		    (br = name_of(&ls, l->master)) == NULL || !jailed(cfg, br))
			continue;
		if (op != PORTS_RELEASE && direct_inside(cfg, &ls, l->master)) {
			/*
			 * Switched: only IP meets the inet rules (forced
			 * per bridge); other frames between its ports are
			 * the documented residual.  Ports we isolated under
			 * an earlier configuration are released.
			 */
			if (pc != NULL)
				pc->switched++;
			m = link_of(&ls, l->master);
			if (op == PORTS_ISOLATE && m != NULL && !m->nf_call) {
				if ((rc = set_nf_call(&nl, l->master)) < 0) {
					snprintf(err, errlen, "ip link set %s "
					    "type bridge nf_call_iptables 1: "
					    "%s", br, strerror(-rc));
					goto out;
				}
				eg_log(EG_LOG_WARN, "bridge_switched",
				    "bridge=%s reason=\"a direct endpoint "
				    "inside its subnet\"", br);
			}
			if (op == PORTS_ISOLATE && l->isolated &&
			    (rc = set_isolated(&nl, l->index, false)) < 0) {
				snprintf(err, errlen, "bridge link set dev "
				    "%s isolated off: %s", l->name,
				    strerror(-rc));
				goto out;
			}
			continue;
		}
		if (pc != NULL) {
			pc->ports++;
			pc->isolated += l->isolated;
		}
		if (op == PORTS_COUNT || l->isolated == on)
			continue;
		if ((rc = set_isolated(&nl, l->index, on)) < 0) {
			snprintf(err, errlen, "bridge link set dev %s "
			    "isolated %s (bridge %s): %s", l->name, on ? "on" :
			    "off", br, strerror(-rc));
			goto out;
		}
		if (pc != NULL) {
			pc->isolated += on ? 1 : -1;
			pc->changed++;
		}
		eg_log(EG_LOG_INFO, on ? "port_isolated" : "port_released",
		    "iface=%s bridge=%s", l->name, br);
	}
	rc = 0;
out:
	free(ls.v);
	free(ls.p);
	nl_close(&nl);
	return rc;
}

/* ---- link events ---- */

static void
on_links(uv_poll_t *p, int status, int events)
{
	struct ports_watch *w = p->data;
	char buf[16384], err[256];
	struct ports_count pc;

	(void)events;
	if (status < 0)
		return;
	/* drain: one sweep covers every change, ENOBUFS included */
	while (mnl_socket_recvfrom(w->sk, buf, sizeof(buf)) > 0 ||
	    errno == ENOBUFS)
		;
	if (ports_apply(*w->cfg, PORTS_ISOLATE, &pc, err, sizeof(err)) < 0)
		eg_log(EG_LOG_ERR, "port_isolation_failed", "error=\"%s\"",
		    err);
}

int
ports_watch_start(uv_loop_t *loop, struct ports_watch *w,
    struct eg_config *const *cfg, char *err, size_t errlen)
{
	memset(w, 0, sizeof(*w));
	w->cfg = cfg;
	if ((w->sk = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) == NULL ||
	    mnl_socket_bind(w->sk, RTMGRP_LINK, MNL_SOCKET_AUTOPID) == -1) {
		snprintf(err, errlen, "link events: %s", strerror(errno));
		if (w->sk != NULL)
			mnl_socket_close(w->sk);
		w->sk = NULL;
		return -1;
	}
	uv_poll_init(loop, &w->poll, mnl_socket_get_fd(w->sk));
	w->poll.data = w;
	uv_poll_start(&w->poll, UV_READABLE, on_links);
	return 0;
}

void
ports_watch_stop(struct ports_watch *w)
{
	if (w->sk == NULL)
		return;
	uv_poll_stop(&w->poll);
	uv_close((uv_handle_t *)&w->poll, NULL);
	mnl_socket_close(w->sk);
	w->sk = NULL;
}
