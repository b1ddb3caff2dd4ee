/*
 * links.c - rtnetlink link and address events: set up jailed links as they
 * appear (see links.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <libmnl/libmnl.h>

#include "ct.h"
#include "links.h"
#include "log.h"

/*
 * A link name as we print it: the kernel takes any byte but '/', ':' and
 * white space, so a name a pattern matches may hold '"' or '=': those
 * become '?' in logs and in the status text.
 */
static void
safe_name(const char *in, char *out)
{
	size_t i;

	for (i = 0; in[i] && i < IFNAMSIZ - 1; i++) {
		unsigned char c = (unsigned char)in[i];

		out[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == '@' ? (char)c : '?';
	}
	out[i] = '\0';
}

static bool
matches(const struct eg_config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->jail.ninterfaces; i++)
		if (eg_ifname_match(cfg->jail.interfaces[i], name))
			return true;
	return false;
}

/* route_localnet of a link: 0 or 1, -1 when it cannot be read. */
static int
rln_read(const char *name)
{
	char path[96], c = 0;
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/"
	    "route_localnet", name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, &c, 1);
	close(fd);
	return n == 1 && (c == '0' || c == '1') ? c - '0' : -1;
}

static int
rln_write(const char *name, char v, char *err, size_t errlen)
{
	char path[96];
	int fd, rc = 0;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/"
	    "route_localnet", name);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1 ||
	    write(fd, &v, 1) != 1) {
		snprintf(err, errlen, "route_localnet: %s", strerror(errno));
		rc = -1;
	}
	if (fd != -1)
		close(fd);
	return rc;
}

/*
 * Set a link up: route_localnet first, then cut the connections its
 * subnets' sources had before (a network that had the same subnet under
 * another, unjailed, name).  A failure leaves it shut and says so.
 */
static void
link_setup(struct nj_links *l, struct nj_link *k)
{
	char err[sizeof(k->err)], nm[IFNAMSIZ];
	uint64_t t0 = eg_now_ms();
	unsigned idx = k->idx;
	int n;

	safe_name(k->name, nm);
	if (k->prev_rln < 0)
		k->prev_rln = rln_read(k->name);
	if (rln_write(k->name, '1', err, sizeof(err)) == -1 ||
	    (n = ct_flush_index(&idx, 1, err, sizeof(err))) < 0) {
		/* tried again every 5 s: say it once per new reason */
		if (k->ok || strcmp(k->err, err) != 0)
			eg_log(EG_LOG_ERR, "iface_setup_failed", "iface=%s "
			    "index=%u error=\"%s\" effect=\"its workloads "
			    "fail closed\" action=retry", nm, k->idx, err);
		k->ok = false;
		snprintf(k->err, sizeof(k->err), "%s", err);
		l->failures++;
		return;
	}
	k->ok = true;
	k->err[0] = '\0';
	l->setups++;
	eg_log(EG_LOG_INFO, "iface_set_up", "iface=%s index=%u "
	    "route_localnet=1 conntrack_flushed=%d ms=%llu", nm, k->idx, n,
	    (unsigned long long)(eg_now_ms() - t0));
}

/* No longer jailed (renamed, or the config dropped it): as we found it. */
static void
link_release(struct nj_links *l, size_t i)
{
	struct nj_link *k = &l->v[i];
	char err[64], nm[IFNAMSIZ];

	safe_name(k->name, nm);
	if (k->prev_rln == 0 && rln_write(k->name, '0', err, sizeof(err)) < 0)
		eg_log(EG_LOG_WARN, "iface_release", "iface=%s error=\"%s\"",
		    nm, err);
	eg_log(EG_LOG_INFO, "iface_released", "iface=%s index=%u", nm, k->idx);
	l->v[i] = l->v[--l->n];
}

static struct nj_link *
find(struct nj_links *l, unsigned idx)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].idx == idx)
			return &l->v[i];
	return NULL;
}

static struct nj_link *
track(struct nj_links *l, unsigned idx, const char *name)
{
	struct nj_link *k;
	size_t ncap;

	if (l->n == l->cap) {
		ncap = l->cap ? l->cap * 2 : 16;
		if (ncap > NJ_LINKS_MAX ||
		    (k = reallocarray(l->v, ncap, sizeof(*k))) == NULL)
			return NULL;
		l->v = k;
		l->cap = ncap;
	}
	k = &l->v[l->n++];
	memset(k, 0, sizeof(*k));
	k->idx = idx;
	snprintf(k->name, sizeof(k->name), "%s", name);
	k->prev_rln = -1;
	k->seen = true;
	return k;
}

static void
on_newlink(struct nj_links *l, unsigned idx, const char *name)
{
	struct nj_link *k = find(l, idx);
	char nm[IFNAMSIZ];

	if (k != NULL && strcmp(k->name, name) == 0) {
		k->seen = true;
		if (!matches(*l->cfg, name))
			link_release(l, (size_t)(k - l->v));
		else if (!k->ok)
			link_setup(l, k);	/* a failed one: try again */
		return;
	}
	if (k != NULL)			/* renamed */
		link_release(l, (size_t)(k - l->v));
	if (!matches(*l->cfg, name))
		return;
	if ((k = track(l, idx, name)) == NULL) {
		safe_name(name, nm);
		l->failures++;
		eg_log(EG_LOG_ERR, "iface_setup_failed", "iface=%s index=%u "
		    "error=\"more than %d jailed links\" effect=\"its workloads "
		    "fail closed\"", nm, idx, NJ_LINKS_MAX);
		return;
	}
	link_setup(l, k);
}

static void
on_dellink(struct nj_links *l, unsigned idx)
{
	struct nj_link *k = find(l, idx);
	char nm[IFNAMSIZ];

	if (k == NULL)
		return;
	safe_name(k->name, nm);
	eg_log(EG_LOG_INFO, "iface_gone", "iface=%s index=%u", nm, idx);
	*k = l->v[--l->n];
}

/* An address on a jailed link: flows from that subnet before it are cut. */
static void
on_newaddr(struct nj_links *l, unsigned idx)
{
	struct nj_link *k = find(l, idx);
	char err[160], nm[IFNAMSIZ];
	int n;

	if (k == NULL || !k->ok)
		return;
	if ((n = ct_flush_index(&idx, 1, err, sizeof(err))) < 0) {
		safe_name(k->name, nm);
		k->ok = false;
		snprintf(k->err, sizeof(k->err), "%s", err);
		l->failures++;
		eg_log(EG_LOG_ERR, "iface_setup_failed", "iface=%s index=%u "
		    "error=\"%s\"", nm, idx, err);
	} else if (n > 0)
		eg_log(EG_LOG_INFO, "conntrack_flushed", "index=%u entries=%d",
		    idx, n);
}

/*
 * The link's name, if it is one the kernel could have given: it becomes a
 * path under /proc/sys, so never "." or ".." or anything with a '/'.
 */
static int
link_name(const struct nlattr *a, void *arg)
{
	const char **name = arg, *s;

	if (mnl_attr_get_type(a) != IFLA_IFNAME ||
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) != 0 ||
	    mnl_attr_get_payload_len(a) > IFNAMSIZ)
		return MNL_CB_OK;
	s = mnl_attr_get_str(a);
	if (strchr(s, '/') == NULL && strcmp(s, ".") != 0 &&
	    strcmp(s, "..") != 0)
		*name = s;
	return MNL_CB_OK;
}

int
links_msg(const struct nlmsghdr *nlh, void *arg)
{
	struct nj_links *l = arg;
	const struct ifinfomsg *ifi;
	const struct ifaddrmsg *ifa;
	const char *name = NULL;

	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
			return 0;
		ifi = mnl_nlmsg_get_payload(nlh);
		/* AF_BRIDGE ones are about a port's membership, not the link */
		if (ifi->ifi_family != AF_UNSPEC || ifi->ifi_index <= 0)
			return 0;
		if (nlh->nlmsg_type == RTM_DELLINK) {
			on_dellink(l, (unsigned)ifi->ifi_index);
			return 0;
		}
		mnl_attr_parse(nlh, sizeof(*ifi), link_name, &name);
		if (name != NULL && name[0] != '\0')
			on_newlink(l, (unsigned)ifi->ifi_index, name);
		return 0;
	case RTM_NEWADDR:
		if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa))
			return 0;
		ifa = mnl_nlmsg_get_payload(nlh);
		on_newaddr(l, ifa->ifa_index);
		return 0;
	}
	return 0;
}

static int
dump_links(struct nj_links *l, char *err, size_t errlen)
{
	char buf[256];
	struct nj_nl nl;
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	int rc;

	if (nl_open(&nl, NETLINK_ROUTE, err, errlen) == -1)
		return -EIO;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = nl.seq++;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	if ((rc = nl_request(&nl, nlh, links_msg, l)) < 0)
		snprintf(err, errlen, "dumping links: %s", strerror(-rc));
	nl_close(&nl);
	return rc;
}

static int
rescan(struct nj_links *l, char *err, size_t errlen)
{
	size_t i;
	int rc;

	for (i = 0; i < l->n; i++)
		l->v[i].seen = false;
	if ((rc = dump_links(l, err, errlen)) < 0)
		return rc;
	for (i = l->n; i-- > 0; )
		if (!l->v[i].seen)
			on_dellink(l, l->v[i].idx);
	l->resyncs++;
	return 0;
}

void
links_resync(struct nj_links *l)
{
	char err[128];

	if (l->cfg == NULL)
		return;
	if (rescan(l, err, sizeof(err)) < 0)
		eg_log(EG_LOG_ERR, "links_resync_failed", "error=\"%s\"", err);
}

/*
 * mnl_nlmsg_ok() takes a length of 0xffffffff as (int)-1 and lets it
 * through; the kernel never sends one, but a length is checked unsigned.
 */
static bool
msg_ok(const struct nlmsghdr *nlh, int left)
{
	return left >= (int)sizeof(*nlh) &&
	    nlh->nlmsg_len >= sizeof(*nlh) &&
	    nlh->nlmsg_len <= (unsigned)left;
}

/* Every event queued on the socket, without blocking. */
static void
drain(struct nj_links *l)
{
	char buf[32768];
	const struct nlmsghdr *nlh;
	int fd = mnl_socket_get_fd(l->ev.sk), left;
	ssize_t n;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOBUFS) {
			/* events were lost: ask for the whole picture */
			eg_log(EG_LOG_WARN, "link_events_lost", "action=resync");
			links_resync(l);
			continue;
		}
		if (n <= 0)
			break;
		left = (int)n;
		for (nlh = (struct nlmsghdr *)buf; msg_ok(nlh, left);
		    nlh = mnl_nlmsg_next(nlh, &left))
			links_msg(nlh, l);
	}
}

static void
on_events(uv_poll_t *h, int status, int events)
{
	(void)events;
	if (status >= 0)
		drain(h->data);
}

int
links_start(struct nj_links *l, struct eg_config *const *cfg,
    uv_loop_t *loop, char *err, size_t errlen)
{
	static const int groups[] = { RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR,
	    RTNLGRP_IPV6_IFADDR };
	size_t i;

	memset(l, 0, sizeof(*l));
	l->cfg = cfg;
	/* subscribed before the dump: nothing created in between is missed */
	if (nl_open(&l->ev, NETLINK_ROUTE, err, errlen) == -1)
		return -1;
	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (mnl_socket_setsockopt(l->ev.sk, NETLINK_ADD_MEMBERSHIP,
		    (void *)&groups[i], sizeof(groups[i])) == -1) {
			snprintf(err, errlen, "link events: %s",
			    strerror(errno));
			goto fail;
		}
	/* a link that fails its set-up is shut and reported, not fatal */
	if (rescan(l, err, errlen) < 0)
		goto fail;
	if (loop != NULL) {
		uv_poll_init(loop, &l->poll, mnl_socket_get_fd(l->ev.sk));
		l->poll.data = l;
		uv_poll_start(&l->poll, UV_READABLE, on_events);
		l->polling = true;
	}
	return 0;
fail:
	links_stop(l);
	return -1;
}

void
links_stop(struct nj_links *l)
{
	if (l->polling)
		uv_poll_stop(&l->poll);
	l->polling = false;
	nl_close(&l->ev);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

void
links_verify(struct nj_links *l)
{
	char nm[IFNAMSIZ];
	size_t i;

	/*
	 * The sysctl is found by name: a link deleted and created again
	 * under it since the last event read is another link, not ours.
	 */
	if (l->ev.sk != NULL)
		drain(l);
	for (i = 0; i < l->n; i++) {
		struct nj_link *k = &l->v[i];

		if (!k->ok) {
			link_setup(l, k);	/* failed before: again */
			continue;
		}
		if (rln_read(k->name) != 0)
			continue;
		safe_name(k->name, nm);
		eg_log(EG_LOG_WARN, "route_localnet_reset", "iface=%s "
		    "action=set-up-again", nm);
		link_setup(l, k);
	}
}

bool
links_ready(const struct nj_links *l, char *why, size_t whylen)
{
	char nm[IFNAMSIZ];
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!l->v[i].ok) {
			safe_name(l->v[i].name, nm);
			snprintf(why, whylen, "interface %s not set up: %s", nm,
			    l->v[i].err);
			return false;
		}
	return true;
}

size_t
links_status(const struct nj_links *l, char *buf, size_t len)
{
	char nm[IFNAMSIZ];
	size_t off = 0, i, up = 0, down = 0;
	int n;

#define OUT(...) do { n = snprintf(buf + off, len - off, __VA_ARGS__); \
	if (n > 0) off = off + (size_t)n < len ? off + (size_t)n : len - 1; } while (0)
	if (len == 0)
		return 0;
	buf[0] = '\0';
	OUT("jailed_ifaces=");
	for (i = 0; i < l->n; i++) {
		if (!l->v[i].ok)
			continue;
		safe_name(l->v[i].name, nm);
		OUT("%s%s", up++ ? " " : "", nm);
	}
	OUT("%s\n", up ? "" : "-");
	OUT("jailed_ifaces_failed=");
	for (i = 0; i < l->n; i++) {
		if (l->v[i].ok)
			continue;
		safe_name(l->v[i].name, nm);
		OUT("%s%s", down++ ? " " : "", nm);
	}
	OUT("%s\n", down ? "" : "-");
	OUT("jailed_ifaces_up=%zu\njailed_ifaces_down=%zu\n"
	    "jailed_iface_setups=%llu\njailed_iface_setup_failures=%llu\n",
	    up, down, (unsigned long long)l->setups,
	    (unsigned long long)l->failures);
#undef OUT
	return off;
}
