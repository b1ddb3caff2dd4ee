/*
 * ct.c - conntrack flush through ctnetlink (dump, then delete matches).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if_addr.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/rtnetlink.h>

#include <libmnl/libmnl.h>

#include "ct.h"
#include "nl.h"

#define NJ_MAX_PREFIXES 64

struct prefix {
	int family;
	uint8_t addr[16];
	int plen;
};

struct prefixes {
	struct prefix p[NJ_MAX_PREFIXES];
	size_t n;
	unsigned idx[64];
	size_t nidx;
};

static int
addr_attr(const struct nlattr *a, void *arg)
{
	const struct nlattr **tb = arg;
	int t = mnl_attr_get_type(a);

	if (t <= IFA_MAX)
		tb[t] = a;
	return MNL_CB_OK;
}

static int
addr_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct prefixes *ps = arg;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFA_MAX + 1] = { 0 };
	const struct nlattr *a;
	size_t i, alen = ifa->ifa_family == AF_INET ? 4 : 16;

	if (nlh->nlmsg_type != RTM_NEWADDR)
		return 0;
	for (i = 0; i < ps->nidx; i++)
		if (ps->idx[i] == ifa->ifa_index)
			break;
	if (i == ps->nidx || ps->n == NJ_MAX_PREFIXES)
		return 0;
	mnl_attr_parse(nlh, sizeof(*ifa), addr_attr, tb);
	a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (a == NULL || mnl_attr_get_payload_len(a) != alen)
		return 0;
	ps->p[ps->n].family = ifa->ifa_family;
	memcpy(ps->p[ps->n].addr, mnl_attr_get_payload(a), alen);
	ps->p[ps->n].plen = ifa->ifa_prefixlen;
	ps->n++;
	return 0;
}

static int
in_prefix(const struct prefixes *ps, int family, const uint8_t *a)
{
	size_t i;
	int b;

	for (i = 0; i < ps->n; i++) {
		const struct prefix *p = &ps->p[i];

		if (p->family != family)
			continue;
		for (b = 0; b < p->plen; b++)
			if ((a[b / 8] ^ p->addr[b / 8]) & (0x80 >> (b % 8)))
				break;
		if (b == p->plen)
			return 1;
	}
	return 0;
}

struct victims {
	/* the entries to cut: by their original tuple and ct mark */
	bool (*want)(const struct victims *, const struct nlattr *orig,
	    const struct nlattr *mark);
	const struct prefixes *ps;
	uint32_t bit;
	ct_keep_fn keep;
	void *arg;
	char **tuples;		/* raw CTA_TUPLE_ORIG attributes */
	size_t *lens;
	int *families;
	size_t n;
	int oom;
};

static int
tuple_src(const struct nlattr *tuple, int *family, const uint8_t **addr)
{
	const struct nlattr *ip, *a;

	mnl_attr_for_each_nested(ip, tuple) {
		if (mnl_attr_get_type(ip) != CTA_TUPLE_IP)
			continue;
		mnl_attr_for_each_nested(a, ip) {
			if (mnl_attr_get_type(a) == CTA_IP_V4_SRC &&
			    mnl_attr_get_payload_len(a) == 4) {
				*family = AF_INET;
				*addr = mnl_attr_get_payload(a);
				return 0;
			}
			if (mnl_attr_get_type(a) == CTA_IP_V6_SRC &&
			    mnl_attr_get_payload_len(a) == 16) {
				*family = AF_INET6;
				*addr = mnl_attr_get_payload(a);
				return 0;
			}
		}
	}
	return -1;
}

/* The original destination and, for TCP and UDP, its port. */
static int
tuple_dst(const struct nlattr *tuple, int *family, const uint8_t **addr,
    uint16_t *port)
{
	const struct nlattr *n, *a;

	*addr = NULL;
	*port = 0;
	mnl_attr_for_each_nested(n, tuple) {
		if (mnl_attr_get_type(n) == CTA_TUPLE_IP) {
			mnl_attr_for_each_nested(a, n) {
				size_t len = mnl_attr_get_payload_len(a);

				if ((mnl_attr_get_type(a) == CTA_IP_V4_DST &&
				    len == 4) || (mnl_attr_get_type(a) ==
				    CTA_IP_V6_DST && len == 16)) {
					*family = len == 4 ? AF_INET : AF_INET6;
					*addr = mnl_attr_get_payload(a);
				}
			}
		} else if (mnl_attr_get_type(n) == CTA_TUPLE_PROTO) {
			mnl_attr_for_each_nested(a, n)
				if (mnl_attr_get_type(a) == CTA_PROTO_DST_PORT &&
				    mnl_attr_get_payload_len(a) == 2)
					*port = ntohs(mnl_attr_get_u16(a));
		}
	}
	return *addr != NULL ? 0 : -1;
}

static bool
want_src_in_prefix(const struct victims *v, const struct nlattr *orig,
    const struct nlattr *mark)
{
	const uint8_t *src;
	int family;

	(void)mark;
	return tuple_src(orig, &family, &src) == 0 &&
	    in_prefix(v->ps, family, src);
}

static bool
want_direct_gone(const struct victims *v, const struct nlattr *orig,
    const struct nlattr *mark)
{
	const uint8_t *dst;
	uint16_t port;
	int family;

	if (mark == NULL || mnl_attr_get_payload_len(mark) != 4 ||
	    !(ntohl(mnl_attr_get_u32(mark)) & v->bit))
		return false;
	if (tuple_dst(orig, &family, &dst, &port) == -1)
		return true;	/* a direct flow we cannot place: cut */
	return !v->keep(family, dst, port, v->arg);
}

static int
ct_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct victims *v = arg;
	const struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a, *orig = NULL, *mark = NULL;
	const uint8_t *src;
	char **t;
	size_t *l;
	int *f, family;

	mnl_attr_for_each(a, nlh, sizeof(*nfg)) {
		if (mnl_attr_get_type(a) == CTA_TUPLE_ORIG && orig == NULL)
			orig = a;
		else if (mnl_attr_get_type(a) == CTA_MARK)
			mark = a;
	}
	if (orig == NULL || tuple_src(orig, &family, &src) == -1 ||
	    !v->want(v, orig, mark))
		return 0;
	t = reallocarray(v->tuples, v->n + 1, sizeof(*t));
	if (t) v->tuples = t;
	l = reallocarray(v->lens, v->n + 1, sizeof(*l));
	if (l) v->lens = l;
	f = reallocarray(v->families, v->n + 1, sizeof(*f));
	if (f) v->families = f;
	if (!t || !l || !f ||
	    (v->tuples[v->n] = malloc(orig->nla_len)) == NULL) {
		v->oom = 1;
		return 0;
	}
	memcpy(v->tuples[v->n], orig, orig->nla_len);
	v->lens[v->n] = orig->nla_len;
	v->families[v->n] = family;
	v->n++;
	return 0;
}

/* Dump the conntrack table, delete the entries v wants: count or -errno. */
static int
flush(struct victims *v, char *err, size_t errlen)
{
	char buf[8192];
	struct nj_nl ct;
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;
	size_t i;
	int rc = 0, r, deleted = 0;

	if (nl_open(&ct, NETLINK_NETFILTER, err, errlen) == -1)
		return -EIO;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = ct.seq++;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	if ((r = nl_request(&ct, nlh, ct_cb, v)) < 0) {
		/* no conntrack in this kernel or namespace: nothing to cut */
		if (r != -EOPNOTSUPP && r != -ENOENT) {
			snprintf(err, errlen, "dumping conntrack: %s",
			    strerror(-r));
			rc = r;
		}
		goto out;
	}
	if (v->oom) {
		snprintf(err, errlen, "conntrack flush: out of memory");
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < v->n; i++) {
		nlh = mnl_nlmsg_put_header(buf);
		nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) |
		    IPCTNL_MSG_CT_DELETE;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
		nlh->nlmsg_seq = ct.seq++;
		nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
		nfg->nfgen_family = (uint8_t)v->families[i];
		nfg->version = NFNETLINK_V0;
		memcpy(mnl_nlmsg_get_payload_tail(nlh), v->tuples[i],
		    v->lens[i]);
		nlh->nlmsg_len += MNL_ALIGN(v->lens[i]);
		r = nl_request(&ct, nlh, NULL, NULL);
		if (r == 0)
			deleted++;
		else if (r != -ENOENT && rc == 0) {
			/* gone meanwhile is fine; anything else is not */
			snprintf(err, errlen, "deleting conntrack entry: %s",
			    strerror(-r));
			rc = r;
		}
	}
out:
	nl_close(&ct);
	for (i = 0; i < v->n; i++)
		free(v->tuples[i]);
	free(v->tuples);
	free(v->lens);
	free(v->families);
	return rc < 0 ? rc : deleted;
}

int
ct_flush_direct(uint32_t bit, ct_keep_fn keep, void *arg, char *err,
    size_t errlen)
{
	struct victims v;

	if (bit == 0)
		return 0;
	memset(&v, 0, sizeof(v));
	v.want = want_direct_gone;
	v.bit = bit;
	v.keep = keep;
	v.arg = arg;
	return flush(&v, err, errlen);
}

int
ct_flush_ifaces(char *const *ifaces, size_t n, char *err, size_t errlen)
{
	unsigned idx[64];
	size_t i, k = 0;

	for (i = 0; i < n && k < 64; i++)
		if ((idx[k] = if_nametoindex(ifaces[i])) != 0)
			k++;
	return ct_flush_index(idx, k, err, errlen);
}

int
ct_flush_index(const unsigned *idx, size_t n, char *err, size_t errlen)
{
	char buf[8192];
	struct prefixes ps;
	struct victims v;
	struct nj_nl rt;
	struct nlmsghdr *nlh;
	size_t i;
	int r;

	memset(&ps, 0, sizeof(ps));
	memset(&v, 0, sizeof(v));
	for (i = 0; i < n && ps.nidx < 64; i++)
		ps.idx[ps.nidx++] = idx[i];
	if (ps.nidx == 0)
		return 0;	/* no jailed interface exists yet */
	if (nl_open(&rt, NETLINK_ROUTE, err, errlen) == -1)
		return -EIO;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = rt.seq++;
	((struct ifaddrmsg *)mnl_nlmsg_put_extra_header(nlh,
	    sizeof(struct ifaddrmsg)))->ifa_family = AF_UNSPEC;
	r = nl_request(&rt, nlh, addr_cb, &ps);
	nl_close(&rt);
	if (r < 0) {
		snprintf(err, errlen, "dumping addresses: %s", strerror(-r));
		return r;
	}
	if (ps.n == 0)
		return 0;
	v.want = want_src_in_prefix;
	v.ps = &ps;
	return flush(&v, err, errlen);
}
