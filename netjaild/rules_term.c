/*
 * rules_term.c - what one term of a rule is: its nft text and the libnftnl
 * expressions the kernel runs, side by side in one table entry per kind.
 *
 * The text is what `nft list` prints for those expressions, so --print
 * shows what is installed (tests/unit/netjaild/rules_nft.sh loads both and
 * compares the listings).  A new kind is one new entry here.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/rtnetlink.h>

#include <libnftnl/expr.h>
#include <libnftnl/rule.h>

#include "rules.h"
#include "rules_term.h"

#ifndef NF_NAT_RANGE_PROTO_SPECIFIED
#define NF_NAT_RANGE_PROTO_SPECIFIED	(1 << 1)
#endif

struct term_def;
typedef void print_fn(const struct term_def *, const struct nj_term *,
    FILE *);
typedef void emit_fn(const struct term_def *, const struct nj_term *,
    struct nftnl_rule *);

struct term_def {
	print_fn *print;
	emit_fn *emit;
	const char *text;	/* the words before the term's value */
	const char *tail;	/* ...and after it */
	uint32_t key;		/* meta or ct key; NAT type */
	uint32_t op;		/* NFT_CMP_EQ / NFT_CMP_NEQ */
	uint32_t arg;		/* bit mask, direction, payload offset (IPv4) */
	uint32_t arg6;		/* payload offset for IPv6 */
	int verdict;		/* NF_ACCEPT, NF_DROP, NFT_RETURN */
};

/* ---- libnftnl expressions ---- */

/*
 * The expression helpers abort on allocation failure: a half-built rule
 * must never reach the kernel, and malloc failing for a few hundred bytes
 * at start-up leaves nothing sensible to do.
 */
static struct nftnl_expr *
exa(struct nftnl_rule *r, const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);

	if (e == NULL)
		abort();
	nftnl_rule_add_expr(r, e);
	return e;
}

static void
e_meta(struct nftnl_rule *r, uint32_t key)
{
	struct nftnl_expr *e = exa(r, "meta");

	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
}

static void
e_cmp(struct nftnl_rule *r, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = exa(r, "cmp");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
}

static void
e_cmp8(struct nftnl_rule *r, uint8_t v)
{
	e_cmp(r, NFT_CMP_EQ, &v, 1);
}

static void
e_payload(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len,
    uint32_t dreg)
{
	struct nftnl_expr *e = exa(r, "payload");

	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
}

static void
e_lookup(struct nftnl_rule *r, int set, bool inv)
{
	struct nftnl_expr *e = exa(r, "lookup");

	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, nj_set_names[set]);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, (uint32_t)set + 1);
	if (inv)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS,
		    NFT_LOOKUP_F_INV);
}

static void
e_ct(struct nftnl_rule *r, uint32_t key)
{
	struct nftnl_expr *e = exa(r, "ct");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
}

/* reg1 = (reg1 & mask) ^ xor, as nft writes masks and bit sets */
static void
e_bitwise(struct nftnl_rule *r, uint32_t mask, uint32_t xor)
{
	struct nftnl_expr *e = exa(r, "bitwise");

	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, 4);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask, 4);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &xor, 4);
}

/* reg1 = reg1 & mask, one byte (tcp flags) */
static void
e_bitwise1(struct nftnl_rule *r, uint8_t mask)
{
	struct nftnl_expr *e = exa(r, "bitwise");
	uint8_t zero = 0;

	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, 1);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask, 1);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &zero, 1);
}

static void
e_imm(struct nftnl_rule *r, uint32_t dreg, const void *data, uint32_t len)
{
	struct nftnl_expr *e = exa(r, "immediate");

	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, dreg);
	nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, data, len);
}

/* The dependencies nft adds for `tcp dport` / `ip daddr` in an inet table. */
static void
dep_nfproto(struct nftnl_rule *r, int family)
{
	e_meta(r, NFT_META_NFPROTO);
	e_cmp8(r, (uint8_t)family);
}

static void
dep_l4(struct nftnl_rule *r, int proto)
{
	e_meta(r, NFT_META_L4PROTO);
	e_cmp8(r, (uint8_t)proto);
}

/* A NAT or TPROXY target in registers: address (if any) in 1, port next. */
static void
e_target(struct nftnl_rule *r, const struct nj_term *t, uint32_t *areg,
    uint32_t *preg)
{
	uint16_t port = htons((uint16_t)t->val);

	*areg = 0;
	if (t->has_addr) {
		e_imm(r, NFT_REG_1, t->addr,
		    t->family == NFPROTO_IPV4 ? 4 : 16);
		*areg = NFT_REG_1;
		*preg = NFT_REG_2;
	} else
		*preg = NFT_REG_1;
	e_imm(r, *preg, &port, 2);
}

/* ---- text ---- */

static const char *
proto_name(int p)
{
	return p == IPPROTO_TCP ? "tcp" : "udp";
}

static const char *
fam_name(const struct nj_term *t)
{
	return t->family == NFPROTO_IPV4 ? "ip" : "ip6";
}

/* ---- one kind: its text (p_*) and its expressions (x_*) ---- */

static void
p_text(const struct term_def *d, const struct nj_term *t, FILE *out)
{
	fputs(d->text, out);
}

static void
p_set(const struct term_def *d, const struct nj_term *t, FILE *out)
{
	fprintf(out, "%s@%s", d->text, nj_set_names[t->set]);
}

static void
x_meta_lookup(const struct term_def *d, const struct nj_term *t,
    struct nftnl_rule *r)
{
	e_meta(r, d->key);
	e_lookup(r, t->set, d->op == NFT_CMP_NEQ);
}

static void
p_quoted(const struct term_def *d, const struct nj_term *t, FILE *out)
{
	fprintf(out, "%s\"%s\"", d->text, t->str);
}

static void
x_meta_ifname(const struct term_def *d, const struct nj_term *t,
    struct nftnl_rule *r)
{
	char ifn[IFNAMSIZ];

	size_t n = strnlen(t->str, sizeof(ifn) - 1);

	/* the name NUL-padded to IFNAMSIZ, as the kernel compares it */
	memset(ifn, 0, sizeof(ifn));
	memcpy(ifn, t->str, n);
	e_meta(r, d->key);
	/* a pattern "br-*" (a workload's iface:): its prefix, as nft does */
	if (n > 1 && t->str[n - 1] == '*')
		e_cmp(r, d->op, ifn, (uint32_t)(n - 1));
	else
		e_cmp(r, d->op, ifn, sizeof(ifn));
}

static void
p_hex(const struct term_def *d, const struct nj_term *t, FILE *out)
{
	fprintf(out, "%s0x%08x", d->text, t->val);
}

static void
p_dec(const struct term_def *d, const struct nj_term *t, FILE *out)
{
	fprintf(out, "%s%u%s", d->text, t->val, d->tail ? d->tail : "");
}

static void
x_meta_u32(const struct term_def *d, const struct nj_term *t,
    struct nftnl_rule *r)
{
	e_meta(r, d->key);
	e_cmp(r, d->op, &t->val, 4);
}

static void
p_nfproto(const struct term_def *d, const struct nj_term *t, FILE *out)
{
	fprintf(out, "%s%s", d->text,
	    t->family == NFPROTO_IPV4 ? "ipv4" : "ipv6");
}

static void
x_nfproto(const struct term_def *d, const struct nj_term *t,
    struct nftnl_rule *r)
{
	dep_nfproto(r, t->family);
}

static void
p_l4proto(const struct term_def *d, const struct nj_term *t, FILE *out)
{
	fprintf(out, "%s%s", d->text, proto_name(t->proto));
}

static void
x_l4proto(const struct term_def *d, const struct nj_term *t,
    struct nftnl_rule *r)
{
	dep_l4(r, t->proto);
}

/* tcp/udp dport or sport: text "dport " follows the protocol's name */
static void
p_port(const struct term_def *d, const struct nj_term *t, FILE *out)
{
	fprintf(out, "%s %s%u", proto_name(t->proto), d->text, t->val);
}

static void
x_port(const struct term_def *d, const struct nj_term *t,
    struct nftnl_rule *r)
{
	uint16_t port = htons((uint16_t)t->val);

	dep_l4(r, t->proto);
	e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, d->arg, 2, NFT_REG_1);
	e_cmp(r, d->op, &port, 2);
}

/* ip/ip6 daddr or saddr ADDR */
static void
p_addr(const struct term_def *d, const struct nj_term *t, FILE *out)
{
	fprintf(out, "%s %s", fam_name(t), d->text);
	rules_print_addr(t->family, t->addr, out);
}

static void
x_addr(const struct term_def *d, const struct nj_term *t,
    struct nftnl_rule *r)
{
	bool v4 = t->family == NFPROTO_IPV4;

	dep_nfproto(r, t->family);
	e_payload(r, NFT_PAYLOAD_NETWORK_HEADER, v4 ? d->arg : d->arg6,
	    v4 ? 4 : 16, NFT_REG_1);
	e_cmp(r, NFT_CMP_EQ, t->addr, v4 ? 4 : 16);
}

/* A prefix as nft lists it: the address alone when it is a host. */
static void
p_addr_net(const struct term_def *d, const struct nj_term *t, FILE *out)
{
	p_addr(d, t, out);
	if (t->val != (t->family == NFPROTO_IPV4 ? 32u : 128u))
		fprintf(out, "/%u", t->val);
}

/*
 * saddr in a prefix: the bytes the prefix spans, the last one masked
 * when the prefix ends inside it (addr has its host bits clear: the
 * config refuses a CIDR with host bits set).
 */
static void
x_addr_net(const struct term_def *d, const struct nj_term *t,
    struct nftnl_rule *r)
{
	bool v4 = t->family == NFPROTO_IPV4;
	uint32_t n = (t->val + 7) / 8;
	uint8_t mask[16], zero[16];
	struct nftnl_expr *e;

	dep_nfproto(r, t->family);
	if (n == 0)
		return;
	e_payload(r, NFT_PAYLOAD_NETWORK_HEADER, v4 ? d->arg : d->arg6, n,
	    NFT_REG_1);
	if (t->val % 8) {
		memset(mask, 0xff, n);
		mask[n - 1] = (uint8_t)(0xff << (8 - t->val % 8));
		memset(zero, 0, sizeof(zero));
		e = exa(r, "bitwise");
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, n);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, n);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, n);
	}
	e_cmp(r, NFT_CMP_EQ, t->addr, n);
}

static void
p_addrport(const struct term_def *d, const struct nj_term *t, FILE *out)
{
	fprintf(out, "%s %s@%s", fam_name(t), d->text, nj_set_names[t->set]);
}

/* daddr . tcp dport: the port in the register after the address's */
static void
x_addrport(const struct term_def *d, const struct nj_term *t,
    struct nftnl_rule *r)
{
	bool v4 = t->family == NFPROTO_IPV4;

	dep_nfproto(r, t->family);
	dep_l4(r, IPPROTO_TCP);
	e_payload(r, NFT_PAYLOAD_NETWORK_HEADER, v4 ? 16 : 24, v4 ? 4 : 16,
	    NFT_REG_1);
	e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2,
	    NFT_REG32_00 + (v4 ? 1 : 4));
	e_lookup(r, t->set, false);
}

/* fib daddr type [!=] local */
static void
x_fib_local(const struct term_def *d, const struct nj_term *t,
    struct nftnl_rule *r)
{
	struct nftnl_expr *e = exa(r, "fib");
	uint32_t local = RTN_LOCAL;

	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
	e_cmp(r, d->op, &local, 4);
}

/*
 * fib saddr . iif oif missing: the route back to the source does not
 * leave by the interface the packet came in on (strict reverse path);
 * compared as the four bytes nft 1.0 writes.
 */
static void
x_fib_rpf(const struct term_def *d, const struct nj_term *t,
    struct nftnl_rule *r)
{
	struct nftnl_expr *e = exa(r, "fib");
	uint32_t zero = 0;

	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_SADDR |
	    NFTA_FIB_F_IIF | NFTA_FIB_F_PRESENT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_OIF);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
	e_cmp(r, NFT_CMP_EQ, &zero, 4);
}

/* ct state / ct status: any of the bits in arg is set */
static void
x_ct_bits(const struct term_def *d, const struct nj_term *t,
    struct nftnl_rule *r)
{
	uint32_t zero = 0;

	e_ct(r, d->key);
	e_bitwise(r, d->arg, zero);
	e_cmp(r, NFT_CMP_NEQ, &zero, 4);
}

/* ct direction: IP_CT_DIR_ORIGINAL 0, IP_CT_DIR_REPLY 1 */
static void
x_ct_dir(const struct term_def *d, const struct nj_term *t,
    struct nftnl_rule *r)
{
	e_ct(r, NFT_CT_DIRECTION);
	e_cmp8(r, (uint8_t)d->arg);
}

static void
p_ctmark_has(const struct term_def *d, const struct nj_term *t, FILE *out)
{
	fprintf(out, "%s0x%08x == 0x%08x", d->text, t->val, t->val);
}

static void
x_ctmark_has(const struct term_def *d, const struct nj_term *t,
    struct nftnl_rule *r)
{
	e_ct(r, NFT_CT_MARK);
	e_bitwise(r, t->val, 0);
	e_cmp(r, NFT_CMP_EQ, &t->val, 4);
}

/* ct mark & val == val2: a field of the ct mark (a workload's id) */
static void
p_ctmark_eq(const struct term_def *d, const struct nj_term *t, FILE *out)
{
	fprintf(out, "%s0x%08x == 0x%08x", d->text, t->val, t->val2);
}

static void
x_ctmark_eq(const struct term_def *d, const struct nj_term *t,
    struct nftnl_rule *r)
{
	e_ct(r, NFT_CT_MARK);
	e_bitwise(r, t->val, 0);
	e_cmp(r, NFT_CMP_EQ, &t->val2, 4);
}

static void
x_socket_mark(const struct term_def *d, const struct nj_term *t,
    struct nftnl_rule *r)
{
	struct nftnl_expr *e = exa(r, "socket");

	nftnl_expr_set_u32(e, NFTNL_EXPR_SOCKET_KEY, NFT_SOCKET_MARK);
	nftnl_expr_set_u32(e, NFTNL_EXPR_SOCKET_DREG, NFT_REG_1);
	e_cmp(r, NFT_CMP_EQ, &t->val, 4);
}

/* tcp flags & (syn | ack) == syn | ack: byte 13, syn 0x02 | ack 0x10 */
static void
x_synack(const struct term_def *d, const struct nj_term *t,
    struct nftnl_rule *r)
{
	dep_l4(r, IPPROTO_TCP);
	e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 13, 1, NFT_REG_1);
	e_bitwise1(r, 0x12);
	e_cmp8(r, 0x12);
}

static void
p_icmpv6(const struct term_def *d, const struct nj_term *t, FILE *out)
{
	fprintf(out, "%s%s", d->text, t->val == 133 ? "nd-router-solicit" :
	    t->val == 135 ? "nd-neighbor-solicit" : "nd-neighbor-advert");
}

static void
x_icmpv6(const struct term_def *d, const struct nj_term *t,
    struct nftnl_rule *r)
{
	dep_nfproto(r, NFPROTO_IPV6);
	dep_l4(r, IPPROTO_ICMPV6);
	e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, NFT_REG_1);
	e_cmp8(r, (uint8_t)t->val);
}

static void
x_mark_set(const struct term_def *d, const struct nj_term *t,
    struct nftnl_rule *r)
{
	struct nftnl_expr *e;

	e_imm(r, NFT_REG_1, &t->val, 4);
	e = exa(r, "meta");
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_MARK);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, NFT_REG_1);
}

/* ct mark set ct mark | val: (mark & ~val) ^ val */
static void
x_ctmark_or(const struct term_def *d, const struct nj_term *t,
    struct nftnl_rule *r)
{
	struct nftnl_expr *e;

	e_ct(r, NFT_CT_MARK);
	e_bitwise(r, ~t->val, t->val);
	e = exa(r, "ct");
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_MARK);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_SREG, NFT_REG_1);
}

/*
 * ct mark set ct mark & ~val | val2: the kernel runs (mark & ~val) ^ val2
 * (val2 lies inside val), and nft lists the mask with val2's bits in it,
 * so the text says the same.
 */
static void
p_ctmark_setf(const struct term_def *d, const struct nj_term *t, FILE *out)
{
	fprintf(out, "%s0x%08x | 0x%08x", d->text, ~t->val | t->val2, t->val2);
}

static void
x_ctmark_setf(const struct term_def *d, const struct nj_term *t,
    struct nftnl_rule *r)
{
	struct nftnl_expr *e;

	e_ct(r, NFT_CT_MARK);
	e_bitwise(r, ~t->val, t->val2);
	e = exa(r, "ct");
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_MARK);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_SREG, NFT_REG_1);
}

static void
x_counter(const struct term_def *d, const struct nj_term *t,
    struct nftnl_rule *r)
{
	exa(r, "counter");
}

/* val packets per second, burst 5: nft's defaults for `limit rate` */
static void
x_limit(const struct term_def *d, const struct nj_term *t,
    struct nftnl_rule *r)
{
	struct nftnl_expr *e = exa(r, "limit");

	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_RATE, t->val);
	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_UNIT, 1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_BURST, 5);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_FLAGS, 0);
}

static void
x_log(const struct term_def *d, const struct nj_term *t,
    struct nftnl_rule *r)
{
	struct nftnl_expr *e = exa(r, "log");

	nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, t->str);
}

static void
x_verdict(const struct term_def *d, const struct nj_term *t,
    struct nftnl_rule *r)
{
	struct nftnl_expr *e = exa(r, "immediate");

	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)d->verdict);
}

static void
p_jump(const struct term_def *d, const struct nj_term *t, FILE *out)
{
	fprintf(out, "%s%s", d->text, t->str);
}

static void
x_jump(const struct term_def *d, const struct nj_term *t,
    struct nftnl_rule *r)
{
	struct nftnl_expr *e = exa(r, "immediate");

	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NFT_JUMP);
	nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, t->str);
}

static void
x_reject(const struct term_def *d, const struct nj_term *t,
    struct nftnl_rule *r)
{
	struct nftnl_expr *e = exa(r, "reject");

	nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, NFT_REJECT_ICMPX_UNREACH);
	nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE,
	    NFT_REJECT_ICMPX_PORT_UNREACH);
}

/* dnat/tproxy ip|ip6 to [ADDR]:PORT; no address: the port alone */
static void
p_target(const struct term_def *d, const struct nj_term *t, FILE *out)
{
	fprintf(out, "%s%s to ", d->text, fam_name(t));
	if (!t->has_addr)
		fprintf(out, ":%u", t->val);
	else if (t->family == NFPROTO_IPV4) {
		rules_print_addr(t->family, t->addr, out);
		fprintf(out, ":%u", t->val);
	} else {
		fputc('[', out);
		rules_print_addr(t->family, t->addr, out);
		fprintf(out, "]:%u", t->val);
	}
}

static void
x_dnat(const struct term_def *d, const struct nj_term *t,
    struct nftnl_rule *r)
{
	struct nftnl_expr *e;
	uint32_t areg, preg;

	e_target(r, t, &areg, &preg);
	e = exa(r, "nat");
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, (uint32_t)t->family);
	if (areg)
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, areg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, preg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FLAGS,
	    NF_NAT_RANGE_PROTO_SPECIFIED);
}

static void
x_redirect(const struct term_def *d, const struct nj_term *t,
    struct nftnl_rule *r)
{
	struct nftnl_expr *e;
	uint16_t port = htons((uint16_t)t->val);

	e_imm(r, NFT_REG_1, &port, 2);
	e = exa(r, "redir");
	nftnl_expr_set_u32(e, NFTNL_EXPR_REDIR_REG_PROTO_MIN, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_REDIR_FLAGS,
	    NF_NAT_RANGE_PROTO_SPECIFIED);
}

static void
x_tproxy(const struct term_def *d, const struct nj_term *t,
    struct nftnl_rule *r)
{
	struct nftnl_expr *e;
	uint32_t areg, preg;

	e_target(r, t, &areg, &preg);
	e = exa(r, "tproxy");
	nftnl_expr_set_u32(e, NFTNL_EXPR_TPROXY_FAMILY, (uint32_t)t->family);
	if (areg)
		nftnl_expr_set_u32(e, NFTNL_EXPR_TPROXY_REG_ADDR, areg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_TPROXY_REG_PORT, preg);
}

/* ct state bits: invalid 0x1, established 0x2, related 0x4, new 0x8 */
#define CT_INVALID	0x01
#define CT_ESTABLISHED	0x02
#define CT_RELATED	0x04
#define CT_NEW		0x08
#define CT_STATUS_DNAT	0x20	/* IPS_DST_NAT */
/* transport header offsets */
#define TH_SPORT	0
#define TH_DPORT	2
/* network header offsets: IPv4, IPv6 */
#define IP_SADDR	12
#define IP_DADDR	16
#define IP6_SADDR	8
#define IP6_DADDR	24

static const struct term_def defs[NJ_TERM__MAX] = {
	/* matches */
	[NJ_IIF_SET] = { p_set, x_meta_lookup, "iifname ",
	    .key = NFT_META_IIFNAME, .op = NFT_CMP_EQ },
	[NJ_OIF_SET] = { p_set, x_meta_lookup, "oifname ",
	    .key = NFT_META_OIFNAME, .op = NFT_CMP_EQ },
	[NJ_IIF_NAME] = { p_quoted, x_meta_ifname, "iifname ",
	    .key = NFT_META_IIFNAME, .op = NFT_CMP_EQ },
	[NJ_NFPROTO] = { p_nfproto, x_nfproto, "meta nfproto " },
	[NJ_L4PROTO] = { p_l4proto, x_l4proto, "meta l4proto " },
	[NJ_DPORT] = { p_port, x_port, "dport ", .op = NFT_CMP_EQ,
	    .arg = TH_DPORT },
	[NJ_DPORT_NE] = { p_port, x_port, "dport != ", .op = NFT_CMP_NEQ,
	    .arg = TH_DPORT },
	[NJ_DADDR] = { p_addr, x_addr, "daddr ", .arg = IP_DADDR,
	    .arg6 = IP6_DADDR },
	[NJ_ADDRPORT_SET] = { p_addrport, x_addrport, "daddr . tcp dport " },
	[NJ_MARK] = { p_hex, x_meta_u32, "meta mark ", .key = NFT_META_MARK,
	    .op = NFT_CMP_EQ },
	[NJ_MARK_NE] = { p_hex, x_meta_u32, "meta mark != ",
	    .key = NFT_META_MARK, .op = NFT_CMP_NEQ },
	[NJ_SKUID_SET] = { p_set, x_meta_lookup, "meta skuid ",
	    .key = NFT_META_SKUID, .op = NFT_CMP_EQ },
	[NJ_SKUID_NE] = { p_dec, x_meta_u32, "meta skuid != ",
	    .key = NFT_META_SKUID, .op = NFT_CMP_NEQ },
	[NJ_FIB_LOCAL] = { p_text, x_fib_local, "fib daddr type local",
	    .op = NFT_CMP_EQ },
	[NJ_FIB_NOT_LOCAL] = { p_text, x_fib_local,
	    "fib daddr type != local", .op = NFT_CMP_NEQ },
	[NJ_CT_ESTREL] = { p_text, x_ct_bits, "ct state established,related",
	    .key = NFT_CT_STATE, .arg = CT_ESTABLISHED | CT_RELATED },
	[NJ_ICMPV6_TYPE] = { p_icmpv6, x_icmpv6, "icmpv6 type " },
	[NJ_SKUID_NOT_SET] = { p_set, x_meta_lookup, "meta skuid != ",
	    .key = NFT_META_SKUID, .op = NFT_CMP_NEQ },
	[NJ_OIF_NAME_NE] = { p_quoted, x_meta_ifname, "oifname != ",
	    .key = NFT_META_OIFNAME, .op = NFT_CMP_NEQ },
	[NJ_CT_ORIGINAL] = { p_text, x_ct_dir, "ct direction original",
	    .arg = 0 },
	[NJ_CT_INVALID] = { p_text, x_ct_bits, "ct state invalid",
	    .key = NFT_CT_STATE, .arg = CT_INVALID },
	[NJ_CTMARK_HAS] = { p_ctmark_has, x_ctmark_has, "ct mark & " },
	[NJ_CT_REPLY] = { p_text, x_ct_dir, "ct direction reply", .arg = 1 },
	[NJ_CT_DNAT] = { p_text, x_ct_bits, "ct status dnat",
	    .key = NFT_CT_STATUS, .arg = CT_STATUS_DNAT },
	[NJ_CT_EST] = { p_text, x_ct_bits, "ct state established",
	    .key = NFT_CT_STATE, .arg = CT_ESTABLISHED },
	[NJ_CT_NEW] = { p_text, x_ct_bits, "ct state new",
	    .key = NFT_CT_STATE, .arg = CT_NEW },
	[NJ_SOCKET_MARK] = { p_hex, x_socket_mark, "socket mark " },
	[NJ_SPORT] = { p_port, x_port, "sport ", .op = NFT_CMP_EQ,
	    .arg = TH_SPORT },
	[NJ_SADDR] = { p_addr, x_addr, "saddr ", .arg = IP_SADDR,
	    .arg6 = IP6_SADDR },
	[NJ_SADDR_NET] = { p_addr_net, x_addr_net, "saddr ", .arg = IP_SADDR,
	    .arg6 = IP6_SADDR },
	[NJ_SYNACK] = { p_text, x_synack,
	    "tcp flags & (syn | ack) == syn | ack" },
	[NJ_OIF_NAME] = { p_quoted, x_meta_ifname, "oifname ",
	    .key = NFT_META_OIFNAME, .op = NFT_CMP_EQ },
	[NJ_FIB_SADDR_MISSING] = { p_text, x_fib_rpf,
	    "fib saddr . iif oif missing" },
	[NJ_SKUID] = { p_dec, x_meta_u32, "meta skuid ",
	    .key = NFT_META_SKUID, .op = NFT_CMP_EQ },
	[NJ_CTMARK_EQ] = { p_ctmark_eq, x_ctmark_eq, "ct mark & " },
	[NJ_DADDR_NET] = { p_addr_net, x_addr_net, "daddr ", .arg = IP_DADDR,
	    .arg6 = IP6_DADDR },
	/* statements */
	[NJ_MARK_SET] = { p_hex, x_mark_set, "meta mark set " },
	[NJ_COUNTER] = { p_text, x_counter, "counter" },
	[NJ_LIMIT] = { p_dec, x_limit, "limit rate ", "/second" },
	[NJ_LOG] = { p_quoted, x_log, "log prefix " },
	[NJ_ACCEPT] = { p_text, x_verdict, "accept", .verdict = NF_ACCEPT },
	[NJ_DROP] = { p_text, x_verdict, "drop", .verdict = NF_DROP },
	[NJ_REJECT] = { p_text, x_reject,
	    "reject with icmpx port-unreachable" },
	[NJ_RETURN] = { p_text, x_verdict, "return", .verdict = NFT_RETURN },
	[NJ_DNAT] = { p_target, x_dnat, "dnat " },
	[NJ_REDIRECT] = { p_dec, x_redirect, "redirect to :" },
	[NJ_TPROXY] = { p_target, x_tproxy, "tproxy " },
	[NJ_CTMARK_OR] = { p_hex, x_ctmark_or, "ct mark set ct mark | " },
	[NJ_JUMP] = { p_jump, x_jump, "jump " },
	[NJ_CTMARK_SETF] = { p_ctmark_setf, x_ctmark_setf,
	    "ct mark set ct mark & " },
};

/* A kind without an entry is a bug in the builder: stop, install nothing. */
static const struct term_def *
def(const struct nj_term *t)
{
	if ((unsigned)t->kind >= NJ_TERM__MAX || defs[t->kind].print == NULL)
		abort();
	return &defs[t->kind];
}

void
rules_term_print(const struct nj_term *t, FILE *out)
{
	const struct term_def *d = def(t);

	d->print(d, t, out);
}

void
rules_term_emit(struct nftnl_rule *r, const struct nj_term *t)
{
	const struct term_def *d = def(t);

	d->emit(d, t, r);
}
