/*
 * rules.h - the jail's nftables table as an in-memory description.
 *
 * rules_build() (rules.c, with rules_bridge.c, rules_local.c and
 * rules_sets.c) turns a config into one description;
 * rules_print() (rules_print.c) writes it as nft text and rules_nl_*()
 * (rules_nftnl.c) as the libnftnl objects of the install batch.  Both walk
 * the same description and write each term through one table entry
 * (rules_term.c), so --print shows exactly what is installed.
 */
#ifndef NJ_RULES_H
#define NJ_RULES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <net/if.h>
#include <sys/types.h>

#include "config.h"

#define NJ_TABLE	"egressjail"
#define NJ_LOG_RATE	10		/* log lines per second per drop rule */
#define NJ_MAX_TERMS	14
#define NJ_COMMENT_MAX	64

enum nj_setid {
	NJ_SET_IFACES, NJ_SET_UIDS,
	NJ_SET_HOPS4, NJ_SET_HOPS6,
	NJ_SET_DOH4, NJ_SET_DOH6,
	NJ_SET_DIRECT4, NJ_SET_DIRECT6,		/* configured: interval sets */
	/*
	 * Addresses dohd resolved for direct names: single addresses in hash
	 * sets of their own, so refreshing one does not make the kernel
	 * rebuild the interval set's lookup structure (pipapo: ~57 ms at
	 * 10,000 configured endpoints).
	 */
	NJ_SET_DIRECT4_LEARNED, NJ_SET_DIRECT6_LEARNED,
	NJ_SET__MAX
};

enum nj_keytype { NJ_KEY_IFNAME, NJ_KEY_UID, NJ_KEY_V4PORT, NJ_KEY_V6PORT };

struct nj_elem {
	char ifname[IFNAMSIZ];		/* NJ_KEY_IFNAME */
	uint32_t uid;			/* NJ_KEY_UID */
	uint8_t lo[16], hi[16];		/* address range, network order */
	uint8_t plen;			/* for printing: lo/plen */
	uint16_t port;
	uint64_t timeout_ms;		/* 0: none */
};

struct nj_set {
	const char *name;
	enum nj_keytype key;
	bool timeout, interval;
	struct nj_elem *elems;
	size_t nelems, cap;
};

enum nj_chainid {
	NJ_CH_PRE_MANGLE, NJ_CH_PRE_NAT, NJ_CH_IN_LISTENER, NJ_CH_LISTENER_SYNACK,
	NJ_CH_OUT_LISTENER, NJ_CH_INPUT,
	NJ_CH_FORWARD,
	NJ_CH_OUT_ROUTE, NJ_CH_OUT_NAT, NJ_CH_OUT_UNOWNED, NJ_CH_OUT_FILTER,
	NJ_CH_POST_LOCAL, NJ_CH_POST_FILTER,
	NJ_CH__MAX
};

struct nj_chain {
	const char *name;
	const char *type;		/* filter, nat, route; NULL: regular */
	int hook;			/* NF_INET_*; -1: regular chain */
	int prio;
	const char *why;		/* one line for docs and --print */
};

enum nj_term_kind {
	/* matches */
	NJ_IIF_SET, NJ_OIF_SET, NJ_IIF_NAME, NJ_NFPROTO, NJ_L4PROTO,
	NJ_DPORT, NJ_DPORT_NE, NJ_DADDR, NJ_ADDRPORT_SET, NJ_MARK, NJ_MARK_NE,
	NJ_SKUID_SET, NJ_SKUID_NE, NJ_FIB_LOCAL, NJ_FIB_NOT_LOCAL,
	NJ_CT_ESTREL, NJ_ICMPV6_TYPE,
	NJ_SKUID_NOT_SET, NJ_OIF_NAME_NE, NJ_CT_ORIGINAL, NJ_CT_INVALID,
	NJ_CTMARK_HAS,		/* ct mark & val == val */
	NJ_CT_REPLY,		/* ct direction reply */
	NJ_CT_DNAT,		/* ct status dnat: a NAT rule chose daddr */
	NJ_CT_EST,		/* ct state established (not related) */
	NJ_CT_NEW,		/* ct state new */
	NJ_SOCKET_MARK,		/* socket mark val: the receiving socket's */
	NJ_SPORT,		/* tcp/udp sport val */
	NJ_SADDR,		/* ip/ip6 saddr addr */
	NJ_SYNACK,		/* tcp flags & (syn | ack) == syn | ack */
	NJ_OIF_NAME,		/* oifname str */
	NJ_FIB_SADDR_MISSING,	/* no route back to saddr by the iif */
	NJ_SADDR_NET,		/* ip/ip6 saddr addr/val (a prefix) */
	NJ_SKUID,		/* meta skuid val */
	NJ_CTMARK_EQ,		/* ct mark & val == val2 */
	NJ_DADDR_NET,		/* ip/ip6 daddr addr/val (a prefix) */
	/* statements */
	NJ_MARK_SET, NJ_COUNTER, NJ_LIMIT, NJ_LOG, NJ_ACCEPT, NJ_DROP,
	NJ_REJECT, NJ_RETURN, NJ_DNAT, NJ_REDIRECT, NJ_TPROXY,
	NJ_CTMARK_OR,		/* ct mark set ct mark | val */
	NJ_JUMP,		/* str: chain name */
	/* ct mark set ct mark & ~val | val2: the bits val cleared, val2 set */
	NJ_CTMARK_SETF,
	NJ_TERM__MAX
};

struct nj_term {
	enum nj_term_kind kind;
	int family;		/* NFPROTO_IPV4 / NFPROTO_IPV6 where it matters */
	int proto;		/* IPPROTO_TCP / IPPROTO_UDP */
	int set;		/* enum nj_setid */
	uint32_t val;		/* port, mark, uid, icmpv6 type, rate */
	uint32_t val2;		/* NJ_CTMARK_EQ, NJ_CTMARK_SETF */
	bool has_addr;
	uint8_t addr[16];
	char str[IFNAMSIZ > 48 ? IFNAMSIZ : 48];	/* ifname, log prefix */
};

struct nj_rule {
	int chain;
	struct nj_term t[NJ_MAX_TERMS];
	int n;
	char comment[NJ_COMMENT_MAX];	/* set on counted drop rules */
};

struct nj_ruleset {
	struct nj_set sets[NJ_SET__MAX];
	const struct nj_chain *chains;	/* NJ_CH__MAX entries */
	bool chain_used[NJ_CH__MAX];
	struct nj_rule *rules;
	size_t nrules, cap;
	uint32_t mark;
	uint32_t route_table;
	char err[256];
};

extern const struct nj_chain nj_chains[NJ_CH__MAX];
extern const char *const nj_set_names[NJ_SET__MAX];

/* Build from cfg.  Returns NULL with a reason in err. */
struct nj_ruleset *rules_build(const struct eg_config *cfg, char *err,
    size_t errlen);
/*
 * The same, with the workload listeners connectd and dohd registered
 * (wlreg.h; NULL: none): a config with [workload] sections steers each
 * workload's bridge traffic to its own listeners (rules_wl.c).
 */
struct nj_wlregs;
struct nj_ruleset *rules_build_with(const struct eg_config *cfg,
    const struct nj_wlregs *wl, char *err, size_t errlen);
void rules_free(struct nj_ruleset *rs);

/* nft text, loadable by nft -f (replaces the table atomically). */
void rules_print(const struct nj_ruleset *rs, FILE *out);
void rules_print_elem(const struct nj_set *s, const struct nj_elem *e,
    FILE *out);

/* Set elements (rules_sets.c).  Add e unless s holds it. */
int rules_set_add(struct nj_set *s, const struct nj_elem *e);
/* Does an element of s (a configured one) already cover e's address/port? */
int rules_set_covers(const struct nj_set *s, const struct nj_elem *e);
/* Fill e from an address/plen and port. */
void rules_elem_addr(struct nj_elem *e, int family, const uint8_t *addr,
    int plen, uint16_t port);
int rules_set_family(int set);	/* AF_INET / AF_INET6 / 0 */
/*
 * The set whose configured elements cover those of set (for the learned
 * direct sets the configured interval set, otherwise set itself).
 */
int rules_set_configured(int set);

/* The ct mark bit of flows accepted as direct, next to the fwmark's. */
uint32_t rules_direct_bit(uint32_t fwmark);

/* Chains that are used, in order; rules of chain c. */
size_t rules_count(const struct nj_ruleset *rs, int chain);

struct nftnl_rule;
struct nftnl_set;
struct nftnl_chain;
struct nftnl_table;
/* libnftnl objects for the batch and for the read-back comparison. */
struct nftnl_table *rules_nl_table(void);
struct nftnl_chain *rules_nl_chain(const struct nj_chain *c);
struct nftnl_set *rules_nl_set(const struct nj_set *s, uint32_t id,
    bool with_elems);
struct nftnl_rule *rules_nl_rule(const struct nj_ruleset *rs,
    const struct nj_rule *r);
/* Add elements [from, from+n) of s to an nftnl set (no flags). */
int rules_nl_set_elems(struct nftnl_set *ns, const struct nj_set *s,
    const struct nj_elem *elems, size_t n);

#endif
