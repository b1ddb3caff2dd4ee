/*
 * policy.h - the one allowlist engine, used by connectd and dohd alike.
 *
 * Rules are written in the grammar of rule.h.
 *
 * Before any allow: the deny list (loopback, link-local, RFC 1918, CGNAT,
 * ULA, multicast, unspecified, broadcast, v4-mapped/NAT64/6to4 forms of
 * those, plus the host's own and the bridge gateway addresses the daemon
 * adds).  permit_cidr carves exceptions out of the built-in list only: the
 * host's own addresses and listeners can never be permitted.
 *
 * Lookup cost does not grow with the number of rules: exact names and the
 * suffixes of wildcard rules live in hash tables and a lookup walks the
 * labels of the queried name.
 *
 * Rules add up: a request is allowed when any rule admits it.  The rule a
 * decision reports is the most specific one that admits it (exact, then
 * one label, then any depth, longest suffix first); among rules with the
 * same pattern, the first in config order.  A denial for a port or qtype
 * reports the most specific rule that names the host.
 *
 * A direct endpoint given as one address:port is allowed even when the
 * address is in the deny list or is a host address (the operator named
 * it); one given as CIDR:port never covers a host address.
 *
 * Report mode (ALLOW, reported=true) never applies to EG_R_HOST_ADDR,
 * EG_R_BAD_NAME or the DNS types that are never answered: report mode
 * must not open the host's own services, and malformed input is never
 * forwarded.
 */
#ifndef EG_POLICY_H
#define EG_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "config.h"
#include "rule.h"

enum eg_verdict { EG_DENY = 0, EG_ALLOW = 1 };

enum eg_reason {
	EG_R_RULE,		/* allowed by a rule */
	EG_R_DIRECT,		/* allowed: a [jail] direct endpoint */
	EG_R_NO_RULE,		/* no rule names this host */
	EG_R_PORT,		/* a rule names the host but not this port */
	EG_R_IP_LITERAL,	/* host is an IP literal and not a direct endpoint */
	EG_R_DENY_CIDR,		/* address in the built-in deny list */
	EG_R_HOST_ADDR,		/* the host's own / gateway / listener address */
	EG_R_BAD_NAME,		/* not a valid name, too long, too many labels */
	EG_R_QTYPE,		/* DNS type not allowed for this name */
	EG_R_EMPTY,		/* the allowlist is empty */
};

struct eg_decision {
	enum eg_verdict verdict;	/* what to do (report mode: ALLOW) */
	enum eg_reason reason;		/* why the engine decided (enforce view) */
	bool reported;			/* report mode let a denial through */
	bool direct;			/* the target is a direct endpoint */
	const struct eg_rule *rule;	/* the matching rule, or NULL */
	const struct eg_cidr *cidr;	/* the deny CIDR that matched, or NULL */
};

struct eg_policy;

/*
 * Build the engine from a loaded config.  extra_deny are the host's own
 * addresses, gateways and listener addresses (never permitted).  Returns
 * NULL with err set on failure.
 */
struct eg_policy *eg_policy_new(const struct eg_config *cfg,
    const struct eg_cidr *extra_deny, size_t nextra, char *err);
/*
 * The same from one policy as written (pc: [policy] or a workload's own
 * section) in the given mode, with the direct endpoints of [jail]
 * (jail_direct) and the workload's own (own_direct) in that order.  Only
 * pc's rules and permit_cidr count: a workload's engine never sees
 * [policy]'s.
 */
struct eg_policy *eg_policy_new_conf(const struct eg_policy_conf *pc,
    enum eg_policy_mode mode, const struct eg_direct *jail_direct,
    size_t njail, const struct eg_direct *own_direct, size_t nown,
    const struct eg_cidr *extra_deny, size_t nextra, char *err);
/*
 * Replace the host's own addresses (extra_deny above) in a built engine,
 * when the host's addresses change.  false with err set leaves p as it
 * was.
 */
bool eg_policy_set_host_addrs(struct eg_policy *p,
    const struct eg_cidr *extra, size_t nextra, char *err);
/*
 * The same in two steps, for a set of engines that must change together
 * (wlpolicy.c): a checked copy of the list (false with err set), then
 * handing one copy to each engine, which cannot fail.
 */
bool eg_policy_host_addrs_copy(const struct eg_cidr *extra, size_t nextra,
    struct eg_cidr **out, char *err);
void eg_policy_host_addrs_take(struct eg_policy *p, struct eg_cidr *v,
    size_t n);
void eg_policy_free(struct eg_policy *p);
size_t eg_policy_nrules(const struct eg_policy *p);
/* The mode the engine was built with (enforce for NULL). */
enum eg_policy_mode eg_policy_mode(const struct eg_policy *p);

/* A TCP target as the client named it (name or IP literal, any spelling). */
struct eg_decision eg_policy_check_host(const struct eg_policy *p,
    const char *host, uint16_t port);
/*
 * The same for a host of explicit length (SNI, Host header): an embedded
 * NUL or an overlong host is EG_R_BAD_NAME, never a shorter name.
 */
struct eg_decision eg_policy_check_hostn(const struct eg_policy *p,
    const char *host, size_t len, uint16_t port);
/* A DNS question.  Names of direct endpoints are allowed for A/AAAA. */
struct eg_decision eg_policy_check_dns(const struct eg_policy *p,
    const char *name, uint16_t qtype);
/* An address an allowed name resolved to, or a dial target. */
struct eg_decision eg_policy_check_addr(const struct eg_policy *p,
    const struct eg_ip *ip);
/* True when name:port (or name, port 0 = any) is a [jail] direct name. */
bool eg_policy_is_direct_name(const struct eg_policy *p, const char *name,
    uint16_t port);

const char *eg_reason_str(enum eg_reason r);

#endif
