/*
 * rules_nftnl.c - the description as libnftnl objects: the table, the
 * chains, the sets and their elements, the rules.  install.c puts them in
 * one batch; sets.c sends element updates; the read-back compares the
 * kernel's table with them.
 */
#include <arpa/inet.h>
#include <string.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "rules.h"
#include "rules_term.h"


struct nftnl_table *
rules_nl_table(void)
{
	struct nftnl_table *t = nftnl_table_alloc();

	if (t == NULL)
		return NULL;
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, NJ_TABLE);
	return t;
}

struct nftnl_chain *
rules_nl_chain(const struct nj_chain *c)
{
	struct nftnl_chain *ch = nftnl_chain_alloc();

	if (ch == NULL)
		return NULL;
	nftnl_chain_set_u32(ch, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	nftnl_chain_set_str(ch, NFTNL_CHAIN_TABLE, NJ_TABLE);
	nftnl_chain_set_str(ch, NFTNL_CHAIN_NAME, c->name);
	if (c->hook < 0)
		return ch;	/* regular chain: reached by jump only */
	nftnl_chain_set_str(ch, NFTNL_CHAIN_TYPE, c->type);
	nftnl_chain_set_u32(ch, NFTNL_CHAIN_HOOKNUM, (uint32_t)c->hook);
	nftnl_chain_set_s32(ch, NFTNL_CHAIN_PRIO, c->prio);
	nftnl_chain_set_u32(ch, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	return ch;
}

static size_t
key_len(enum nj_keytype k)
{
	switch (k) {
	case NJ_KEY_IFNAME: return IFNAMSIZ;
	case NJ_KEY_UID: return 4;
	case NJ_KEY_V4PORT: return 8;	/* 4 + port padded to a register */
	case NJ_KEY_V6PORT: return 20;
	}
	return 0;
}

/* nft's datatype numbers, so `nft list` prints the elements by type. */
#define NFT_TYPE_IPADDR		7
#define NFT_TYPE_IP6ADDR	8
#define NFT_TYPE_INET_SERVICE	13
#define NFT_TYPE_UID		24
#define NFT_TYPE_IFNAME		41
#define NFT_TYPE_BITS		6
#define NFT_BYTEORDER_HOST	1
#define NFT_BYTEORDER_BIG	2

static void
elem_key(const struct nj_set *s, const struct nj_elem *e, bool end,
    uint8_t *key, size_t *len)
{
	uint16_t port = htons(e->port);

	memset(key, 0, 20);
	*len = key_len(s->key);
	switch (s->key) {
	case NJ_KEY_IFNAME:
		memcpy(key, end ? e->hi : e->lo, IFNAMSIZ);
		break;
	case NJ_KEY_UID:
		memcpy(key, &e->uid, 4);
		break;
	case NJ_KEY_V4PORT:
		memcpy(key, end ? e->hi : e->lo, 4);
		memcpy(key + 4, &port, 2);
		break;
	case NJ_KEY_V6PORT:
		memcpy(key, end ? e->hi : e->lo, 16);
		memcpy(key + 16, &port, 2);
		break;
	}
}

/*
 * An interval set of one field (the interface names) is the kernel's
 * rbtree: each range is a start element and an end element flagged
 * INTERVAL_END that holds the first key past it.  Like nft, lead with an
 * end element at zero, so everything below the first range is outside.
 */
static int
range_elem(struct nftnl_set *ns, const uint8_t *key, bool end)
{
	struct nftnl_set_elem *ne;

	if ((ne = nftnl_set_elem_alloc()) == NULL)
		return -1;
	nftnl_set_elem_set(ne, NFTNL_SET_ELEM_KEY, key, IFNAMSIZ);
	if (end)
		nftnl_set_elem_set_u32(ne, NFTNL_SET_ELEM_FLAGS,
		    NFT_SET_ELEM_INTERVAL_END);
	nftnl_set_elem_add(ns, ne);
	return 0;
}

static int
ifname_range_elems(struct nftnl_set *ns, const struct nj_set *s,
    const struct nj_elem *elems, size_t n)
{
	static const uint8_t zero[IFNAMSIZ];
	uint8_t key[IFNAMSIZ];
	size_t i;
	int k;

	/* a later message of the same set: the lead went with the first */
	if (elems == s->elems && range_elem(ns, zero, true) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		memcpy(key, elems[i].hi, IFNAMSIZ);
		/* one past the range: add 1, big-endian (a name never ends
		 * in 0xff, so this never wraps) */
		for (k = IFNAMSIZ - 1; k >= 0 && ++key[k] == 0; k--)
			;
		if (range_elem(ns, elems[i].lo, false) == -1 ||
		    range_elem(ns, key, true) == -1)
			return -1;
	}
	return 0;
}

int
rules_nl_set_elems(struct nftnl_set *ns, const struct nj_set *s,
    const struct nj_elem *elems, size_t n)
{
	struct nftnl_set_elem *ne;
	uint8_t key[20];
	size_t i, len;

	if (s->key == NJ_KEY_IFNAME && s->interval)
		return ifname_range_elems(ns, s, elems, n);
	for (i = 0; i < n; i++) {
		if ((ne = nftnl_set_elem_alloc()) == NULL)
			return -1;
		elem_key(s, &elems[i], false, key, &len);
		nftnl_set_elem_set(ne, NFTNL_SET_ELEM_KEY, key, (uint32_t)len);
		if (s->interval) {
			elem_key(s, &elems[i], true, key, &len);
			nftnl_set_elem_set(ne, NFTNL_SET_ELEM_KEY_END, key,
			    (uint32_t)len);
		}
		if (elems[i].timeout_ms)
			nftnl_set_elem_set_u64(ne, NFTNL_SET_ELEM_TIMEOUT,
			    elems[i].timeout_ms);
		nftnl_set_elem_add(ns, ne);
	}
	return 0;
}

struct nftnl_set *
rules_nl_set(const struct nj_set *s, uint32_t id, bool with_elems)
{
	struct nftnl_set *ns;
	struct nftnl_udata_buf *ud = NULL;
	uint32_t flags = 0, ktype = 0, border = NFT_BYTEORDER_BIG;
	uint8_t fields[2];

	if ((ns = nftnl_set_alloc()) == NULL)
		return NULL;
	nftnl_set_set_str(ns, NFTNL_SET_TABLE, NJ_TABLE);
	nftnl_set_set_str(ns, NFTNL_SET_NAME, s->name);
	nftnl_set_set_u32(ns, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(ns, NFTNL_SET_ID, id);
	nftnl_set_set_u32(ns, NFTNL_SET_KEY_LEN, (uint32_t)key_len(s->key));
	switch (s->key) {
	case NJ_KEY_IFNAME:
		ktype = NFT_TYPE_IFNAME;
		border = NFT_BYTEORDER_HOST;
		break;
	case NJ_KEY_UID:
		ktype = NFT_TYPE_UID;
		border = NFT_BYTEORDER_HOST;
		break;
	case NJ_KEY_V4PORT:
	case NJ_KEY_V6PORT:
		ktype = (s->key == NJ_KEY_V4PORT ? NFT_TYPE_IPADDR :
		    NFT_TYPE_IP6ADDR) << NFT_TYPE_BITS | NFT_TYPE_INET_SERVICE;
		fields[0] = s->key == NJ_KEY_V4PORT ? 4 : 16;
		fields[1] = 2;
		/* ranges over a concatenation need the field layout */
		if (s->interval) {
			flags |= NFT_SET_CONCAT;
			nftnl_set_set_data(ns, NFTNL_SET_DESC_CONCAT, fields,
			    sizeof(fields));
		}
		break;
	}
	nftnl_set_set_u32(ns, NFTNL_SET_KEY_TYPE, ktype);
	if (s->timeout)
		flags |= NFT_SET_TIMEOUT;
	if (s->interval)
		flags |= NFT_SET_INTERVAL;
	nftnl_set_set_u32(ns, NFTNL_SET_FLAGS, flags);
	if ((ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN)) == NULL)
		goto fail;
	nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_KEYBYTEORDER, border);
	nftnl_set_set_data(ns, NFTNL_SET_USERDATA, nftnl_udata_buf_data(ud),
	    nftnl_udata_buf_len(ud));
	nftnl_udata_buf_free(ud);
	if (with_elems && rules_nl_set_elems(ns, s, s->elems, s->nelems) == -1)
		goto fail;
	return ns;
fail:
	nftnl_set_free(ns);
	return NULL;
}

struct nftnl_rule *
rules_nl_rule(const struct nj_ruleset *rs, const struct nj_rule *r)
{
	struct nftnl_rule *nr;
	struct nftnl_udata_buf *ud;
	int k;

	if ((nr = nftnl_rule_alloc()) == NULL)
		return NULL;
	nftnl_rule_set_u32(nr, NFTNL_RULE_FAMILY, NFPROTO_INET);
	nftnl_rule_set_str(nr, NFTNL_RULE_TABLE, NJ_TABLE);
	nftnl_rule_set_str(nr, NFTNL_RULE_CHAIN, rs->chains[r->chain].name);
	for (k = 0; k < r->n; k++)
		rules_term_emit(nr, &r->t[k]);
	if (r->comment[0]) {
		if ((ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN)) == NULL) {
			nftnl_rule_free(nr);
			return NULL;
		}
		nftnl_udata_put_strz(ud, NFTNL_UDATA_RULE_COMMENT, r->comment);
		nftnl_rule_set_data(nr, NFTNL_RULE_USERDATA,
		    nftnl_udata_buf_data(ud), nftnl_udata_buf_len(ud));
		nftnl_udata_buf_free(ud);
	}
	return nr;
}
