/*
 * config.h - the one configuration file, loaded whole.
 *
 * eg_config_load() parses /etc/egressjail/egressjail.conf (INI, ';' and '#'
 * comments, repeated keys are lists) plus every allow_file it names, and
 * returns one immutable struct.  A reload loads a new struct and swaps the
 * pointer; nothing in a loaded config is ever modified.
 *
 * Every error is collected, not just the first: each names file:line, the
 * key and the bad value quoted, e.g.
 *   egressjail.conf:12: [chain] hop: "htp://x:3128": scheme must be http or https
 */
#ifndef EG_CONFIG_H
#define EG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "addr.h"

#define EG_DEFAULT_CONFIG	"/etc/egressjail/egressjail.conf"
#define EG_DEFAULT_RUNDIR	"/run/egressjail"
#define EG_DEFAULT_CA_FILE	"/etc/ssl/certs/ca-certificates.crt"
#define EG_LISTENER_MARK	0x1000	/* [jail] listener_mark */

/* Where a value came from, for messages that point at it. */
struct eg_origin {
	const char *file;	/* owned by the config, lives as long as it */
	int line;
};

struct eg_user {
	char *name;
	uid_t uid;
	gid_t gid;
	struct eg_origin at;
};

enum eg_ipv6_mode { EG_IPV6_JAIL, EG_IPV6_DROP };
/*
 * learn: report mode for the allowlist (nothing else loosens), and the
 * daemons log each would-be denial as an event=learn record for
 * egressctl learn (libegress/learn_table.c).
 */
enum eg_policy_mode { EG_MODE_ENFORCE, EG_MODE_REPORT, EG_MODE_ASK,
	EG_MODE_LEARN };
enum eg_deny_rcode { EG_DENY_NXDOMAIN, EG_DENY_REFUSED };
enum eg_exit_mode { EG_EXIT_HOP, EG_EXIT_DIRECT };
/* connections the host DNATs to a jailed bridge (published ports) */
enum eg_inbound_mode { EG_INBOUND_PUBLISHED, EG_INBOUND_DROP };

struct eg_direct {
	struct eg_endpoint ep;	/* address, CIDR or name, with port */
	struct eg_origin at;
};

struct eg_hop {
	bool tls;		/* https:// */
	char host[EG_NAME_MAX + 1];	/* name or literal, as written */
	bool host_is_ip;
	struct eg_ip ip;	/* when host_is_ip */
	uint16_t port;		/* default 3128 for http, 443 for https */
	char *user;		/* decoded userinfo, NULL when absent */
	char *password;		/* NULL when absent */
	char *url_redacted;	/* URL with the password replaced by "***" */
	struct eg_origin at;
};

struct eg_upstream {
	char *url;		/* https://host[:port]/path */
	char host[EG_NAME_MAX + 1];
	uint16_t port;		/* default 443 */
	char *path;		/* default "/dns-query" */
	struct eg_ip *bootstrap;	/* at least one address */
	size_t nbootstrap;
	struct eg_origin at;
};

/* An allow rule as text, before the policy engine compiles it. */
struct eg_rule_src {
	char *text;
	struct eg_origin at;
};

/* A policy as written: [policy], or a [workload NAME] section's own. */
struct eg_policy_conf {
	enum eg_policy_mode mode;	/* default enforce */
	struct eg_rule_src *rules;	/* allow = and lines of allow files */
	size_t nrules;
	struct eg_cidr *permit;		/* permit_cidr */
	struct eg_origin *permit_at;
	size_t npermit;
};

/* [policy] ask_*: the decider of mode = ask (libegress/ask.h). */
struct eg_ask_conf {
	char *socket;			/* default RUNDIR/ask.sock */
	uint64_t timeout_ms;		/* default 30 s */
	uint32_t max;			/* questions in flight, default 64 */
	uint64_t dns_hold_ms;		/* dohd holds a query, default 4 s */
};

struct eg_wl_match;			/* workload.h */

/*
 * A [workload NAME] section: the jailed traffic its matches name gets its
 * own policy instead of [policy]'s.  [jail] direct endpoints hold for
 * every workload; a workload's own direct lines add to them.  Loaded only
 * with EG_CONFIG_WORKLOADS (see there).
 */
struct eg_workload {
	char *name;
	struct eg_origin at;		/* its "[workload NAME]" line */
	struct eg_wl_match *matches;
	size_t nmatches;
	bool mode_set;			/* else mode is [policy]'s */
	struct eg_policy_conf policy;
	struct eg_direct *direct;
	size_t ndirect;
};

struct eg_config {
	char *path;		/* the main file */
	/*
	 * Which daemons the file runs.  has_jail: something is jailed (an
	 * interface or a user), so netjaild runs; has_dohd: a DoH upstream
	 * is given, so dohd runs.  A daemon loaded on its own works without
	 * the others: connectd without a jail pushes no hop addresses,
	 * without dohd it resolves with the host's resolver.
	 */
	bool has_jail, has_dohd;

	struct {
		char **interfaces;		/* jailed bridges: names, "br-*" */
		size_t ninterfaces;
		struct eg_user *users;		/* jailed local users */
		size_t nusers;
		struct eg_direct *direct;
		size_t ndirect;
		enum eg_ipv6_mode ipv6;		/* default jail */
		enum eg_inbound_mode inbound;	/* default published */
		char *runtime_dir;		/* default /run/egressjail */
		char *group;			/* control socket group, "egressjail" */
		uint32_t fwmark;		/* default 0x1 */
		/*
		 * SO_MARK of connectd's and dohd's jail-facing listeners;
		 * the ruleset delivers jailed traffic only to sockets that
		 * carry it (a squatter cannot set it).  Default 0x1000.
		 */
		uint32_t listener_mark;
		uint32_t route_table;		/* default 100 */
		char *log_level;		/* debug|info|warn|err, default info */
	} jail;

	struct {
		struct eg_hop *hops;
		size_t nhops;
		struct eg_endpoint canary;	/* is_name or address; port */
		bool has_canary;
		char *ca_file;
		uint64_t probe_interval_ms;	/* default 10s */
		uint64_t probe_timeout_ms;	/* default 5s */
		uint64_t connect_timeout_ms;	/* per hop, default 5s */
		bool require_all_hops_healthy;	/* default yes */
		uint64_t max_hop_status_age_ms;	/* default 30s */
		bool block_start_until_hops_healthy;	/* default no */
		enum eg_exit_mode exit;		/* default hop */
		uint64_t half_close_delay_ms;	/* client EOF held, default 5s */
		bool resolve_check;		/* resolve through dohd first, yes */
	} chain;

	struct {
		struct eg_user user;		/* default egress-connect */
		char **proxy_listen;		/* "127.0.0.1:3128", ... */
		size_t nproxy_listen;
		char *transparent_listen;	/* NULL: none */
		char *health_listen;		/* NULL: none */
		uint32_t max_connections;	/* default 4096 */
		uint64_t idle_timeout_ms;	/* default 5m */
		uint64_t head_timeout_ms;	/* request head / ClientHello, 5s */
		bool tunnel_check;		/* judge a tunnel's first bytes, yes */
		uint64_t max_head_bytes;	/* default 16k */
		uint64_t drain_timeout_ms;	/* default 10s */
		bool access_log;		/* default yes */
	} connectd;

	struct {
		struct eg_user user;		/* default egress-dns */
		char **listen;			/* "127.0.0.1:15353", ... */
		size_t nlisten;
		struct eg_upstream *upstreams;
		size_t nupstreams;
		char *ca_file;
		char *spki_pin;			/* base64 sha256, NULL: none */
		char *hosts_file;		/* NULL: none */
		char *zone_file;		/* NULL: none */
		char **search;			/* search domains */
		size_t nsearch;
		enum eg_deny_rcode deny_rcode;	/* default nxdomain */
		uint32_t max_name_length;	/* default 253 */
		uint32_t max_labels;		/* default 10 */
		uint32_t cache_size;		/* entries, default 10000 */
		uint32_t max_ttl;		/* seconds, default 3600 */
		uint32_t negative_ttl;		/* seconds, default 60 */
		uint32_t stale_ttl;		/* seconds served stale, default 300 */
		uint32_t rate_limit;		/* queries/s per client, default 200, 0 = off */
		uint64_t query_timeout_ms;	/* default 3s */
		uint64_t ping_interval_ms;	/* HTTP/2 PING on idle, default 10s */
		uint64_t max_connection_age_ms;	/* default 5m */
		uint64_t feed_timeout_ms;	/* wait for netjaild ack, default 100ms */
	} dohd;

	struct {
		struct eg_user user;		/* default egressjail */
	} netjaild;

	struct eg_policy_conf policy;	/* the default workload */
	struct eg_ask_conf ask;		/* [policy] ask_* */

	struct eg_workload *workloads;	/* in config order */
	size_t nworkloads;
};

/* Collected errors of one load. */
struct eg_config_errors {
	char **msgs;
	size_t n;
};

enum {
	EG_CONFIG_NO_USERS = 1 << 0,	/* do not look users up (unit tests) */
	/*
	 * Load for one daemon on its own: only what that daemon uses is
	 * required (connectd: a chain or "exit = direct", its own user;
	 * dohd: an upstream, its own user).  Every section the file has is
	 * still validated whole.  Without either flag the file must hold the
	 * whole jail (netjaild, egressctl check).
	 */
	EG_CONFIG_CONNECTD = 1 << 1,
	EG_CONFIG_DOHD = 1 << 2,
	/*
	 * Take [workload NAME] sections.  The daemons do not enforce them
	 * yet (docs/WORKLOADS.md), so without this flag a file that has one
	 * is refused after it was checked whole: a section that parsed but
	 * did nothing would leave its workload on [policy] while its
	 * operator believes it isolated.
	 */
	EG_CONFIG_WORKLOADS = 1 << 3,
	/*
	 * Take cgroup: matches.  netjaild steers iface:, cidr: and uid:
	 * workloads, not yet cgroup: ones (a unit's cgroup comes and goes
	 * with it: docs/WORKLOADS.md), so without this flag such a match is
	 * an error naming its line, for every daemon and egressctl check
	 * alike, never a section that silently leaves its sources on
	 * [policy].  Unit tests and the fuzzer pass it.
	 */
	EG_CONFIG_CGROUP = 1 << 5,
};

/* "enforce", "report", "ask", "learn". */
const char *eg_mode_str(enum eg_policy_mode m);
/*
 * report and learn: the allowlist's denials are let through and logged
 * (learn also records them); ask holds them, enforce denies them.
 */
bool eg_mode_reports(enum eg_policy_mode m);

/* The flags eg_config_load() takes for daemon NAME ("connectd", ...). */
unsigned eg_config_flags_for(const char *name);

/*
 * Load and validate.  Returns NULL when there is any error; errs then holds
 * every message (free with eg_config_errors_free).  On success errs is
 * empty.
 */
struct eg_config *eg_config_load(const char *path, unsigned flags,
    struct eg_config_errors *errs);
/* The same, from memory; name is used in messages, allow_file globs are
 * relative to the current directory. */
struct eg_config *eg_config_load_buf(const char *name, const char *buf,
    size_t len, unsigned flags, struct eg_config_errors *errs);
void eg_config_free(struct eg_config *cfg);
void eg_config_errors_free(struct eg_config_errors *errs);

/* Print a short summary (rules, hops, upstreams, ...) for `egressctl check`. */
void eg_config_summary(const struct eg_config *cfg, FILE *out);

/*
 * [jail] interface entries are names or nft-style patterns ("br-*": the
 * prefix, then '*' last).  Does pat (an entry) match the link name?
 */
bool eg_ifname_is_pattern(const char *s);
bool eg_ifname_match(const char *pat, const char *name);

#endif
