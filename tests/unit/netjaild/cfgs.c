/*
 * cfgs.c - configurations built by hand, so the ruleset tests do not
 * depend on the config parser and name exactly what they exercise.
 */
#include <arpa/inet.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "cfgs.h"
#include "wlreg.h"
#include "workload.h"

const char *const nj_test_config_names[] = {
	"bridge", "local", "both", "ipv6drop", "directs", "nohops", "example",
	"inbounddrop", "patterns", "workloads", "wlocal", NULL
};

static struct eg_ip
ip(const char *s)
{
	struct eg_ip r;

	memset(&r, 0, sizeof(r));
	if (inet_pton(AF_INET, s, r.addr) == 1)
		r.family = AF_INET;
	else if (inet_pton(AF_INET6, s, r.addr) == 1)
		r.family = AF_INET6;
	else
		abort();
	return r;
}

static void
direct(struct eg_config *c, const char *addr, int plen, uint16_t port,
    const char *name)
{
	struct eg_direct *d = &c->jail.direct[c->jail.ndirect++];

	memset(d, 0, sizeof(*d));
	d->ep.port = port;
	if (name != NULL) {
		d->ep.is_name = true;
		strcpy(d->ep.name, name);
		return;
	}
	d->ep.cidr.ip = ip(addr);
	d->ep.cidr.plen = (uint8_t)plen;
	d->ep.is_cidr = plen != (d->ep.cidr.ip.family == AF_INET ? 32 : 128);
}

static char *interfaces[] = { "br-ej", "br-ej2" };
/* Docker's default bridge and its user-defined networks, and a name that
 * sorts first, so the interval set is sent in order */
static char *pat_if[] = { "docker0", "br-*", "cni0" };
static char *proxy_listen[] = { "10.77.0.1:3128", "127.0.0.1:3128" };
static char *dns_listen[] = { "127.0.0.1:15353" };
static char *wl_dns_listen[] = { "127.0.0.1:15353", "[::1]:15353" };

static char *lab_if[] = { "br-ej" };
static char *lab_proxy[] = { "10.77.0.1:3128" };


static char *ex_if[] = { "docker0" };

/*
 * "workloads": ci on the bridges br-ci*, web two containers' prefixes on
 * docker0 (and so a conflict on the others' bridges), db on br-ej with
 * nothing registered.  ci has its listeners but IPv6 DNS, web its IPv4
 * transparent one only.
 */
static char *wl_if[] = { "br-ej", "br-ci*", "docker0" };
static char wl_ci[] = "ci", wl_web[] = "web", wl_db[] = "db";
static const struct nj_wlreg wl_reg_v[] = {
	{ "ci", EG_WLL_DNS_UDP, AF_INET, 40053, NULL },
	{ "ci", EG_WLL_DNS_TCP, AF_INET, 40053, NULL },
	{ "ci", EG_WLL_TRANSPARENT, AF_INET, 40001, NULL },
	{ "ci", EG_WLL_TRANSPARENT, AF_INET6, 40001, NULL },
	{ "web", EG_WLL_TRANSPARENT, AF_INET, 40002, NULL },
	/* a workload the config does not have: never steered to */
	{ "gone", EG_WLL_TRANSPARENT, AF_INET, 40003, NULL },
};
static const struct nj_wlregs wl_regs = {
	(struct nj_wlreg *)wl_reg_v, sizeof(wl_reg_v) / sizeof(wl_reg_v[0]),
	sizeof(wl_reg_v) / sizeof(wl_reg_v[0])
};

static void
wl_match(struct eg_workload *w, size_t wi, const char *v)
{
	struct eg_wl_match *m = &w->matches[w->nmatches++];
	char err[EG_ERR_MAX];

	if (!eg_wl_match_parse(v, m, err))
		abort();
	m->wl = wi;
	m->wl_name = w->name;
	m->at.file = "workloads.conf";
	m->at.line = (int)(10 * wi + w->nmatches);
}

/* A literal direct endpoint of workload w. */
static void
wl_direct(struct eg_workload *w, const char *addr, int plen, uint16_t port)
{
	struct eg_direct *d;

	w->direct = realloc(w->direct, (w->ndirect + 1) * sizeof(*d));
	if (w->direct == NULL)
		abort();
	d = &w->direct[w->ndirect++];
	memset(d, 0, sizeof(*d));
	d->ep.port = port;
	d->ep.cidr.ip = ip(addr);
	d->ep.cidr.plen = (uint8_t)plen;
	d->ep.is_cidr = plen != (d->ep.cidr.ip.family == AF_INET ? 32 : 128);
	d->at.file = "workloads.conf";
	d->at.line = 40 + (int)w->ndirect;
}

static void
add_workloads(struct eg_config *c)
{
	struct eg_workload *w;

	c->workloads = w = calloc(3, sizeof(*w));
	c->nworkloads = 3;
	w[0].name = wl_ci;
	w[1].name = wl_web;
	w[2].name = wl_db;
	w[0].matches = calloc(1, sizeof(struct eg_wl_match));
	w[1].matches = calloc(2, sizeof(struct eg_wl_match));
	w[2].matches = calloc(1, sizeof(struct eg_wl_match));
	wl_match(&w[0], 0, "iface:br-ci*");
	wl_match(&w[1], 1, "cidr:172.17.0.0/24");
	wl_match(&w[1], 1, "cidr:2001:db8:17::5/128");
	wl_match(&w[2], 2, "iface:br-ej");
	/* their own direct endpoints: web's IPv4 one for its IPv4 prefix */
	wl_direct(&w[0], "10.0.9.5", 32, 6379);
	wl_direct(&w[1], "10.0.9.6", 32, 80);
}

/*
 * "wlocal" (and "wlocallab", the same with the lab's users): jailed local
 * users only, three of them in uid: workloads, one left to [policy].
 * agent has every kind but IPv6 DNS and proxy, ci its IPv4 transparent
 * listener, DNS in both families and an IPv4 proxy, bare nothing.
 */
static char wl_agent[] = "agent", wl_bare[] = "bare";
static const struct nj_wlreg wlocal_reg_v[] = {
	{ "agent", EG_WLL_TRANSPARENT, AF_INET, 41001, NULL },
	{ "agent", EG_WLL_TRANSPARENT, AF_INET6, 41001, NULL },
	{ "agent", EG_WLL_DNS_UDP, AF_INET, 41053, NULL },
	{ "agent", EG_WLL_DNS_TCP, AF_INET, 41053, NULL },
	{ "agent", EG_WLL_PROXY, AF_INET, 41080, NULL },
	{ "ci", EG_WLL_TRANSPARENT, AF_INET, 41002, NULL },
	{ "ci", EG_WLL_DNS_UDP, AF_INET, 41054, NULL },
	{ "ci", EG_WLL_DNS_UDP, AF_INET6, 41054, NULL },
	{ "ci", EG_WLL_DNS_TCP, AF_INET, 41054, NULL },
	{ "ci", EG_WLL_DNS_TCP, AF_INET6, 41054, NULL },
	{ "ci", EG_WLL_PROXY, AF_INET, 41081, NULL },
};
static const struct nj_wlregs wlocal_regs = {
	(struct nj_wlreg *)wlocal_reg_v,
	sizeof(wlocal_reg_v) / sizeof(wlocal_reg_v[0]),
	sizeof(wlocal_reg_v) / sizeof(wlocal_reg_v[0])
};

const struct nj_wlregs *
nj_test_wlregs(const char *name)
{
	if (strcmp(name, "wlocal") == 0 || strcmp(name, "wlocallab") == 0)
		return &wlocal_regs;
	return strcmp(name, "workloads") == 0 ? &wl_regs : NULL;
}

static void
wl_uid(struct eg_workload *w, size_t wi, uid_t uid)
{
	struct eg_wl_match *m = &w->matches[w->nmatches];
	char v[32];

	snprintf(v, sizeof(v), "uid:u%u", (unsigned)uid);
	wl_match(w, wi, v);
	m->has_uid = true;
	m->uid = uid;
}

static void
add_local_workloads(struct eg_config *c)
{
	struct eg_workload *w;
	size_t i;

	c->workloads = w = calloc(3, sizeof(*w));
	c->nworkloads = 3;
	w[0].name = wl_agent;
	w[1].name = wl_ci;
	w[2].name = wl_bare;
	for (i = 0; i < 3; i++) {
		w[i].matches = calloc(1, sizeof(struct eg_wl_match));
		wl_uid(&w[i], i, c->jail.users[i].uid);
	}
	wl_direct(&w[0], "fd78::", 64, 5432);
	wl_direct(&w[1], "2001:db8:9::5", 128, 443);
}
static char *ex_proxy[] = { "127.0.0.1:3128" };

/* DESIGN.md's example configuration (uids: agent 1000, egress-connect
 * 997, egress-dns 996), for docs/RULESET.md. */
static struct eg_config *
example_config(void)
{
	struct eg_config *c = calloc(1, sizeof(*c));

	c->jail.fwmark = 0x1;
	c->jail.listener_mark = EG_LISTENER_MARK;
	c->jail.route_table = 100;
	c->jail.ipv6 = EG_IPV6_JAIL;
	c->jail.interfaces = ex_if;
	c->jail.ninterfaces = 1;
	c->jail.users = calloc(1, sizeof(*c->jail.users));
	c->jail.users[0].uid = 1000;
	c->jail.nusers = 1;
	c->jail.direct = calloc(2, sizeof(*c->jail.direct));
	direct(c, "10.0.1.215", 32, 5432, NULL);
	direct(c, NULL, 0, 6379, "cache.internal");
	c->chain.hops = calloc(2, sizeof(*c->chain.hops));
	c->chain.hops[0].host_is_ip = true;
	c->chain.hops[0].ip = ip("10.20.0.2");
	c->chain.hops[0].port = 3128;
	c->chain.hops[1].port = 8443;
	strcpy(c->chain.hops[1].host, "proxy-b.example.net");
	c->chain.nhops = 2;
	c->dohd.upstreams = calloc(1, sizeof(*c->dohd.upstreams));
	c->dohd.upstreams[0].port = 443;
	c->dohd.upstreams[0].bootstrap = calloc(2, sizeof(struct eg_ip));
	c->dohd.upstreams[0].bootstrap[0] = ip("1.1.1.1");
	c->dohd.upstreams[0].bootstrap[1] = ip("1.0.0.1");
	c->dohd.upstreams[0].nbootstrap = 2;
	c->dohd.nupstreams = 1;
	c->dohd.listen = dns_listen;
	c->dohd.nlisten = 1;
	c->dohd.max_ttl = 3600;
	c->dohd.user.uid = 996;
	c->connectd.user.uid = 997;
	c->connectd.transparent_listen = "127.0.0.1:15001";
	c->connectd.proxy_listen = ex_proxy;
	c->connectd.nproxy_listen = 1;
	return c;
}

static uid_t
uid_of(const char *name, uid_t dflt)
{
	struct passwd *pw = getpwnam(name);

	return pw ? pw->pw_uid : dflt;
}

/* The lab's direct endpoint, hop and DoH server (tests/lab/lib.sh). */
static void
lab_upstream(struct eg_config *c)
{
	c->jail.direct = calloc(1, sizeof(*c->jail.direct));
	direct(c, "10.78.0.20", 32, 5432, NULL);
	c->chain.hops = calloc(1, sizeof(*c->chain.hops));
	c->chain.hops[0].host_is_ip = true;
	c->chain.hops[0].ip = ip("10.78.0.2");
	c->chain.hops[0].port = 3128;
	c->chain.nhops = 1;
	c->dohd.upstreams = calloc(1, sizeof(*c->dohd.upstreams));
	c->dohd.upstreams[0].port = 443;
	c->dohd.upstreams[0].bootstrap = calloc(1, sizeof(struct eg_ip));
	c->dohd.upstreams[0].bootstrap[0] = ip("10.78.0.4");
	c->dohd.upstreams[0].nbootstrap = 1;
	c->dohd.nupstreams = 1;
}

/* The topology of tests/lab/lib.sh, as tests/lab/netjaild/jail.sh uses it. */
static struct eg_config *
lab_config(const char *name)
{
	struct eg_config *c = calloc(1, sizeof(*c));

	c->jail.fwmark = 0x1;
	c->jail.listener_mark = EG_LISTENER_MARK;
	c->jail.route_table = 100;
	c->jail.ipv6 = strcmp(name, "lab") ? EG_IPV6_DROP : EG_IPV6_JAIL;
	c->jail.interfaces = lab_if;
	c->jail.ninterfaces = 1;
	c->jail.users = calloc(1, sizeof(*c->jail.users));
	c->jail.users[0].uid = uid_of("ejagent", 65534);
	c->jail.nusers = 1;
	lab_upstream(c);
	c->dohd.listen = dns_listen;
	c->dohd.nlisten = 1;
	c->dohd.max_ttl = 3600;
	c->dohd.user.uid = uid_of("egress-dns", 39);
	c->connectd.user.uid = uid_of("egress-connect", 13);
	c->connectd.transparent_listen = "127.0.0.1:15001";
	c->connectd.proxy_listen = lab_proxy;
	c->connectd.nproxy_listen = 1;
	return c;
}

static char *wlocal_proxy[] = { "127.0.0.1:3128", "[::1]:3128" };

/* "wlocal": fixed uids 1001-1004; "wlocallab": the lab's users. */
static struct eg_config *
wlocal_config(const char *name)
{
	static const char *const lab_users[4] = { "ejagent", "ejwlb",
	    "ejwlc", "ejwld" };
	struct eg_config *c = calloc(1, sizeof(*c));
	bool lab = strcmp(name, "wlocallab") == 0;
	size_t i;

	c->jail.fwmark = 0x1;
	c->jail.listener_mark = EG_LISTENER_MARK;
	c->jail.route_table = 100;
	c->jail.ipv6 = EG_IPV6_JAIL;
	c->jail.users = calloc(4, sizeof(*c->jail.users));
	for (i = 0; i < 4; i++)
		c->jail.users[i].uid = lab ? uid_of(lab_users[i],
		    (uid_t)(1001 + i)) : (uid_t)(1001 + i);
	c->jail.nusers = 4;
	lab_upstream(c);
	c->dohd.listen = wl_dns_listen;
	c->dohd.nlisten = 2;
	c->dohd.max_ttl = 3600;
	c->dohd.user.uid = lab ? uid_of("egress-dns", 996) : 996;
	c->connectd.user.uid = lab ? uid_of("egress-connect", 997) : 997;
	c->connectd.transparent_listen = "127.0.0.1:15001";
	c->connectd.proxy_listen = wlocal_proxy;
	c->connectd.nproxy_listen = 2;
	add_local_workloads(c);
	return c;
}

struct eg_config *
nj_test_config(const char *name)
{
	struct eg_config *c;
	bool bridge, local;

	if (!strcmp(name, "lab") || !strcmp(name, "lab6drop"))
		return lab_config(name);
	if (!strcmp(name, "wlocal") || !strcmp(name, "wlocallab"))
		return wlocal_config(name);
	if (!strcmp(name, "example"))
		return example_config();
	bridge = !strcmp(name, "bridge") || !strcmp(name, "both") ||
	    !strcmp(name, "ipv6drop") || !strcmp(name, "directs") ||
	    !strcmp(name, "nohops") || !strcmp(name, "inbounddrop") ||
	    !strcmp(name, "patterns") || !strcmp(name, "workloads");
	local = !strcmp(name, "local") || !strcmp(name, "both") ||
	    !strcmp(name, "ipv6drop") || !strcmp(name, "directs");
	if (!bridge && !local)
		return NULL;
	c = calloc(1, sizeof(*c));
	c->jail.fwmark = 0x1;
	c->jail.listener_mark = EG_LISTENER_MARK;
	c->jail.route_table = 100;
	c->jail.ipv6 = strcmp(name, "ipv6drop") ? EG_IPV6_JAIL : EG_IPV6_DROP;
	c->jail.inbound = strcmp(name, "inbounddrop") ? EG_INBOUND_PUBLISHED :
	    EG_INBOUND_DROP;
	if (bridge) {
		c->jail.interfaces = interfaces;
		c->jail.ninterfaces = strcmp(name, "both") ? 1 : 2;
		if (!strcmp(name, "patterns")) {
			c->jail.interfaces = pat_if;
			c->jail.ninterfaces = 3;
		}
		if (!strcmp(name, "workloads")) {
			c->jail.interfaces = wl_if;
			c->jail.ninterfaces = 3;
			add_workloads(c);
		}
	}
	if (local) {
		c->jail.users = calloc(2, sizeof(*c->jail.users));
		c->jail.users[0].uid = 1001;
		c->jail.nusers = 1;
		if (!strcmp(name, "both")) {
			c->jail.users[1].uid = 1002;
			c->jail.nusers = 2;
		}
	}
	c->jail.direct = calloc(8, sizeof(*c->jail.direct));
	direct(c, "10.78.0.20", 32, 5432, NULL);
	if (!strcmp(name, "directs")) {
		direct(c, "10.0.1.0", 24, 5432, NULL);
		direct(c, "2001:db8::", 32, 443, NULL);
		direct(c, "2001:db8:1::5", 128, 8080, NULL);
		direct(c, NULL, 0, 6379, "cache.internal");
	}
	if (strcmp(name, "nohops")) {
		c->chain.hops = calloc(2, sizeof(*c->chain.hops));
		c->chain.hops[0].host_is_ip = true;
		c->chain.hops[0].ip = ip("10.78.0.2");
		c->chain.hops[0].port = 3128;
		strcpy(c->chain.hops[0].host, "10.78.0.2");
		c->chain.hops[1].port = 8443;
		strcpy(c->chain.hops[1].host, "proxy-b.example.net");
		c->chain.nhops = 2;
	} else
		c->chain.exit = EG_EXIT_DIRECT;
	c->dohd.upstreams = calloc(1, sizeof(*c->dohd.upstreams));
	c->dohd.upstreams[0].port = 443;
	c->dohd.upstreams[0].bootstrap = calloc(2, sizeof(struct eg_ip));
	c->dohd.upstreams[0].bootstrap[0] = ip("10.78.0.4");
	c->dohd.upstreams[0].bootstrap[1] = ip("2001:db8:78::4");
	c->dohd.upstreams[0].nbootstrap = 2;
	c->dohd.nupstreams = 1;
	c->dohd.listen = dns_listen;
	c->dohd.nlisten = 1;
	c->dohd.max_ttl = 3600;
	c->dohd.user.uid = 996;
	c->connectd.user.uid = 997;
	c->netjaild.user.uid = 998;
	c->connectd.transparent_listen = "127.0.0.1:15001";
	c->connectd.proxy_listen = proxy_listen;
	c->connectd.nproxy_listen = strcmp(name, "nohops") ? 2 : 1;
	return c;
}

void
nj_test_config_free(struct eg_config *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nworkloads; i++) {
		free(c->workloads[i].matches);
		free(c->workloads[i].direct);
	}
	free(c->workloads);
	free(c->jail.users);
	free(c->jail.direct);
	free(c->chain.hops);
	if (c->dohd.upstreams)
		free(c->dohd.upstreams[0].bootstrap);
	free(c->dohd.upstreams);
	free(c);
}
