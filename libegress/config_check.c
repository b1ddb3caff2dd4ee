/*
 * config_check.c - the defaults, and the checks that need more than one
 * key, run once every line is read.
 *
 * Each error names the line of the key it is about, or says "(default)"
 * when the value was not given; a key that is missing names its section's
 * line when there is one.  A clash between listen addresses names the two
 * keys only: list entries keep no line, and the defaults have none.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"

#define DEF_CONNECT_USER	"egress-connect"
#define DEF_DNS_USER		"egress-dns"
#define DEF_NETJAIL_USER	"egressjail"
#define DEF_GROUP		"egressjail"
#define DEF_PROXY_LISTEN	"127.0.0.1:3128"
#define DEF_DOHD_LISTEN		"127.0.0.1:15353"

bool
cfg_set_defaults(struct loader *ld)
{
	struct eg_config *c = ld->cfg;
	struct eg_origin none = { c->path, 0 };

	c->jail.ipv6 = EG_IPV6_JAIL;
	c->jail.inbound = EG_INBOUND_PUBLISHED;
	c->jail.fwmark = 0x1;
	c->jail.listener_mark = EG_LISTENER_MARK;
	c->jail.route_table = 100;
	c->chain.probe_interval_ms = 10000;
	c->chain.probe_timeout_ms = 5000;
	c->chain.connect_timeout_ms = 5000;
	c->chain.require_all_hops_healthy = true;
	c->chain.max_hop_status_age_ms = 30000;
	c->chain.block_start_until_hops_healthy = false;
	c->chain.exit = EG_EXIT_HOP;
	c->chain.half_close_delay_ms = 5000;
	c->chain.resolve_check = true;
	c->connectd.tunnel_check = true;
	c->connectd.max_connections = 4096;
	c->connectd.idle_timeout_ms = 5 * 60 * 1000;
	c->connectd.head_timeout_ms = 5000;
	c->connectd.max_head_bytes = 16 * 1024;
	c->connectd.drain_timeout_ms = 10000;
	c->connectd.access_log = true;
	c->dohd.deny_rcode = EG_DENY_NXDOMAIN;
	c->dohd.max_name_length = EG_NAME_MAX;
	c->dohd.max_labels = 10;
	c->dohd.cache_size = 10000;
	c->dohd.max_ttl = 3600;
	c->dohd.negative_ttl = 60;
	c->dohd.stale_ttl = 300;
	c->dohd.rate_limit = 200;
	c->dohd.query_timeout_ms = 3000;
	c->dohd.ping_interval_ms = 10000;
	c->dohd.max_connection_age_ms = 5 * 60 * 1000;
	c->dohd.feed_timeout_ms = 100;
	c->policy.mode = EG_MODE_ENFORCE;
	c->ask.timeout_ms = 30 * 1000;
	c->ask.max = 64;
	/* under a stub resolver's first retry (glibc: 5 s), so the client
	 * sees one slow answer rather than a retry or a failure */
	c->ask.dns_hold_ms = 4 * 1000;
	c->connectd.user.at = none;
	c->dohd.user.at = none;
	c->netjaild.user.at = none;
	return (c->jail.runtime_dir = cfg_xstrdup(ld, EG_DEFAULT_RUNDIR)) &&
	    (c->jail.group = cfg_xstrdup(ld, DEF_GROUP)) &&
	    (c->jail.log_level = cfg_xstrdup(ld, "info")) &&
	    (c->chain.ca_file = cfg_xstrdup(ld, EG_DEFAULT_CA_FILE)) &&
	    (c->dohd.ca_file = cfg_xstrdup(ld, EG_DEFAULT_CA_FILE));
}

/* Defaults for what was not given; list defaults only when empty. */
void
cfg_fill_unset(struct loader *ld)
{
	struct eg_config *c = ld->cfg;
	char err[EG_ERR_MAX];

	if (c->connectd.user.name == NULL)
		c->connectd.user.name = cfg_xstrdup(ld, DEF_CONNECT_USER);
	if (c->dohd.user.name == NULL)
		c->dohd.user.name = cfg_xstrdup(ld, DEF_DNS_USER);
	if (c->netjaild.user.name == NULL)
		c->netjaild.user.name = cfg_xstrdup(ld, DEF_NETJAIL_USER);
	if (c->connectd.nproxy_listen == 0)
		(void)cfg_strlist_add(ld, &c->connectd.proxy_listen,
		    &c->connectd.nproxy_listen, DEF_PROXY_LISTEN, err);
	if (c->dohd.nlisten == 0)
		(void)cfg_strlist_add(ld, &c->dohd.listen, &c->dohd.nlisten,
		    DEF_DOHD_LISTEN, err);
	if (c->ask.socket == NULL && c->jail.runtime_dir != NULL) {
		char p[4096];

		snprintf(p, sizeof(p), "%s/ask.sock", c->jail.runtime_dir);
		c->ask.socket = cfg_xstrdup(ld, p);
	}
}

/* FILE: [SECTION] KEY: REASON, with the section's line when it exists. */
static void
missing_error(struct loader *ld, enum sect s, const char *key,
    const char *reason)
{
	if (ld->sect_line[s] != 0)
		cfg_errorf(ld, "%s:%d: [%s] %s: %s", ld->cfg->path,
		    ld->sect_line[s], cfg_sect_names[s], key, reason);
	else
		cfg_errorf(ld, "%s: [%s] %s: %s", ld->cfg->path,
		    cfg_sect_names[s], key, reason);
}

/*
 * FILE:LINE: [SECTION] KEY: REASON, for a value at odds with another key's;
 * the line is KEY's, or OTHER's when KEY was left at its default.
 */
static void
conflict_error(struct loader *ld, enum sect s, const char *key,
    const char *other, const char *reason)
{
	int line = cfg_key_seen(ld, s, key);

	if (line == 0)
		line = cfg_key_seen(ld, s, other);
	cfg_errorf(ld, "%s:%d: [%s] %s: %s", ld->cfg->path, line,
	    cfg_sect_names[s], key, reason);
}

static void
check_daemon_user(struct loader *ld, struct eg_user *u, const char *sect)
{
	char q[EG_QUOTE_BUF], why[EG_ERR_MAX];
	int r;

	if (ld->flags & EG_CONFIG_NO_USERS)
		return;
	if ((r = cfg_lookup_user(u->name, &u->uid, &u->gid)) == 0)
		return;
	cfg_lookup_reason(r, why, sizeof(why), "user");
	if (u->at.line == 0)
		cfg_errorf(ld, "%s: [%s] user: \"%s\" (default): %s",
		    ld->cfg->path, sect, eg_err_quote(u->name, q, sizeof(q)),
		    why);
	else
		cfg_key_error(ld, u->at, sect, "user", u->name, why);
}

static bool
alone(const struct loader *ld)
{
	return (ld->flags & (EG_CONFIG_CONNECTD | EG_CONFIG_DOHD)) != 0;
}

/* Does the daemon (or daemons) this load is for use this section? */
static bool
needs(const struct loader *ld, enum sect s)
{
	switch (s) {
	case S_CHAIN:
	case S_CONNECTD:
		return !alone(ld) || (ld->flags & EG_CONFIG_CONNECTD);
	case S_DOHD:
		return !alone(ld) || (ld->flags & EG_CONFIG_DOHD);
	default:
		return !alone(ld);
	}
}

static void
check_users(struct loader *ld)
{
	struct eg_config *c = ld->cfg;
	struct eg_user *d[2] = { &c->connectd.user, &c->dohd.user };
	char q[EG_QUOTE_BUF], why[EG_ERR_MAX];
	size_t i, j;
	int r;

	/* a daemon on its own needs its own user, not the others' */
	if (needs(ld, S_CONNECTD))
		check_daemon_user(ld, &c->connectd.user, "connectd");
	if (needs(ld, S_DOHD))
		check_daemon_user(ld, &c->dohd.user, "dohd");
	if (needs(ld, S_NETJAILD))
		check_daemon_user(ld, &c->netjaild.user, "netjaild");
	/* on its own, a daemon without the group lets only root in */
	if (!(ld->flags & EG_CONFIG_NO_USERS) && (!alone(ld) ||
	    cfg_key_seen(ld, S_JAIL, "group")) &&
	    (r = cfg_lookup_group(c->jail.group)) != 0) {
		cfg_lookup_reason(r, why, sizeof(why), "group");
		if (cfg_key_seen(ld, S_JAIL, "group") == 0)
			cfg_errorf(ld, "%s: [jail] group: \"%s\" (default): %s",
			    c->path, eg_err_quote(c->jail.group, q, sizeof(q)),
			    why);
		else
			cfg_errorf(ld, "%s:%d: [jail] group: \"%s\": %s",
			    c->path, cfg_key_seen(ld, S_JAIL, "group"),
			    eg_err_quote(c->jail.group, q, sizeof(q)), why);
	}
	/* jailing a daemon's own user would cut the jail's own traffic */
	for (i = 0; i < c->jail.nusers; i++)
		for (j = 0; j < 2; j++)
			if (strcmp(c->jail.users[i].name, d[j]->name) == 0)
				cfg_key_error(ld, c->jail.users[i].at, "jail",
				    "user", c->jail.users[i].name, "this is a "
				    "daemon's own user; jailing it would cut "
				    "the jail off");
}

static int
direct_cmp(const void *a, const void *b)
{
	const struct eg_direct *x = *(const struct eg_direct *const *)a;
	const struct eg_direct *y = *(const struct eg_direct *const *)b;
	int r = memcmp(&x->ep, &y->ep, sizeof(x->ep));

	if (r != 0)
		return r;
	return x->at.line < y->at.line ? -1 : x->at.line > y->at.line;
}

/* Sorted, so ten thousand endpoints cost n log n, not n squared. */
static void
check_direct_dups(struct loader *ld)
{
	struct eg_config *c = ld->cfg;
	const struct eg_direct **v;
	char why[EG_ERR_MAX], text[300];
	size_t i;

	if (c->jail.ndirect < 2)
		return;
	if ((v = calloc(c->jail.ndirect, sizeof(*v))) == NULL) {
		ld->oom = true;
		return;
	}
	for (i = 0; i < c->jail.ndirect; i++)
		v[i] = &c->jail.direct[i];
	qsort(v, c->jail.ndirect, sizeof(*v), direct_cmp);
	for (i = 1; i < c->jail.ndirect; i++) {
		const struct eg_endpoint *ep = &v[i]->ep;
		char ab[80];

		if (memcmp(&v[i - 1]->ep, ep, sizeof(*ep)) != 0)
			continue;
		if (ep->is_name)
			snprintf(text, sizeof(text), "%s:%u", ep->name,
			    ep->port);
		else
			snprintf(text, sizeof(text), "%s:%u",
			    eg_cidr_str(&ep->cidr, ab, sizeof(ab)), ep->port);
		snprintf(why, sizeof(why), "endpoint repeated (also at "
		    "line %d)", v[i - 1]->at.line);
		cfg_key_error(ld, v[i]->at, "jail", "direct", text, why);
	}
	free(v);
}

struct listen_ref {
	const char *sect, *key, *text;
	int line;
};

static void
check_listen_clash(struct loader *ld)
{
	struct eg_config *c = ld->cfg;
	struct listen_ref l[2 * MAX_LISTEN + 2];
	struct sockaddr_storage a, b;
	socklen_t al, bl;
	size_t n = 0, i, j;

	for (i = 0; i < c->connectd.nproxy_listen; i++)
		l[n++] = (struct listen_ref){ "connectd", "proxy_listen",
		    c->connectd.proxy_listen[i], 0 };
	if (c->connectd.transparent_listen != NULL)
		l[n++] = (struct listen_ref){ "connectd", "transparent_listen",
		    c->connectd.transparent_listen, 0 };
	if (c->connectd.health_listen != NULL)
		l[n++] = (struct listen_ref){ "connectd", "health_listen",
		    c->connectd.health_listen, 0 };
	for (i = 0; i < c->dohd.nlisten; i++)
		l[n++] = (struct listen_ref){ "dohd", "listen",
		    c->dohd.listen[i], 0 };
	for (i = 0; i < n; i++) {
		if (!eg_sockaddr_parse(l[i].text, &a, &al, NULL))
			continue;
		for (j = i + 1; j < n; j++) {
			if (!eg_sockaddr_parse(l[j].text, &b, &bl, NULL) ||
			    al != bl || memcmp(&a, &b, al) != 0)
				continue;
			cfg_errorf(ld, "%s: [%s] %s: \"%s\": same address as "
			    "[%s] %s", c->path, l[j].sect, l[j].key,
			    l[j].text, l[i].sect, l[i].key);
		}
	}
}

/*
 * mode = ask holds a connection (connectd) or a DNS question (dohd) while
 * a decider answers.  dohd's hold is the shorter: a question still asked
 * after ask_timeout would hold a query for nothing.
 */
static void
check_ask(struct loader *ld)
{
	struct eg_config *c = ld->cfg;
	bool ask = c->policy.mode == EG_MODE_ASK;
	size_t i;

	for (i = 0; i < c->nworkloads; i++)
		ask = ask || c->workloads[i].policy.mode == EG_MODE_ASK;
	/* the default follows a shorter ask_timeout; a value given does not */
	if (c->ask.dns_hold_ms > c->ask.timeout_ms &&
	    cfg_key_seen(ld, S_POLICY, "ask_dns_hold") == 0)
		c->ask.dns_hold_ms = c->ask.timeout_ms;
	if (c->ask.dns_hold_ms > c->ask.timeout_ms)
		conflict_error(ld, S_POLICY, "ask_dns_hold", "ask_timeout",
		    "longer than ask_timeout: dohd would hold a query after "
		    "connectd stopped asking");
	if (ask && c->ask.socket == NULL)
		cfg_errorf(ld, "%s: [policy] ask_socket: out of memory",
		    c->path);
}

void
cfg_check_all(struct loader *ld)
{
	struct eg_config *c = ld->cfg;

	/* a list whose every line was refused was reported line by line */
	c->has_jail = c->jail.ninterfaces > 0 || c->jail.nusers > 0;
	c->has_dohd = c->dohd.nupstreams > 0;
	if (needs(ld, S_CHAIN) && c->chain.nhops == 0 &&
	    c->chain.exit != EG_EXIT_DIRECT &&
	    !cfg_key_seen(ld, S_CHAIN, "hop"))
		missing_error(ld, S_CHAIN, "hop", "empty chain: give at least "
		    "one hop, or \"exit = direct\"");
	if (needs(ld, S_DOHD) && c->dohd.nupstreams == 0 &&
	    !cfg_key_seen(ld, S_DOHD, "upstream"))
		missing_error(ld, S_DOHD, "upstream", "at least one DoH "
		    "upstream is required");
	if (needs(ld, S_JAIL) && c->jail.ninterfaces == 0 &&
	    c->jail.nusers == 0 && !cfg_key_seen(ld, S_JAIL, "interface") &&
	    !cfg_key_seen(ld, S_JAIL, "user"))
		missing_error(ld, S_JAIL, "interface", "nothing is jailed: "
		    "give at least one interface or user");
	if (c->chain.max_hop_status_age_ms <= c->chain.probe_interval_ms)
		conflict_error(ld, S_CHAIN, "max_hop_status_age",
		    "probe_interval", "must be longer than probe_interval, or "
		    "every hop counts as failed between probes");
	if (c->jail.listener_mark == c->jail.fwmark)
		conflict_error(ld, S_JAIL, "listener_mark", "fwmark", "must "
		    "differ from fwmark, or the daemons' answers would be "
		    "routed into the TPROXY detour");
	check_direct_dups(ld);
	check_listen_clash(ld);
	check_users(ld);
	cfg_check_workloads(ld);
	check_ask(ld);
}
