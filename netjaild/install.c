/*
 * install.c - the install transaction and its read-back.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "install.h"

int
install_table_exists(struct nj_nl *nl)
{
	char buf[8192];
	struct nftnl_table *t;
	struct nlmsghdr *nlh;
	int rc;

	if ((t = rules_nl_table()) == NULL)
		return -ENOMEM;
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_INET,
	    NLM_F_ACK, nl->seq++);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	rc = nl_request(nl, nlh, NULL, NULL);
	if (rc == 0)
		return 1;
	return rc == -ENOENT ? 0 : rc;
}

static int
add_table(struct nj_batch *b, struct nj_nl *nl, uint16_t type)
{
	struct nftnl_table *t;
	struct nlmsghdr *nlh;

	if ((t = rules_nl_table()) == NULL)
		return -1;
	nlh = batch_msg(b, nl, type, type == NFT_MSG_NEWTABLE ?
	    NLM_F_CREATE : 0, "%s table inet %s",
	    type == NFT_MSG_NEWTABLE ? "add" : "delete", NJ_TABLE);
	if (nlh != NULL) {
		nftnl_table_nlmsg_build_payload(nlh, t);
		batch_done(b);
	}
	nftnl_table_free(t);
	return nlh == NULL ? -1 : 0;
}

static int add_elems(struct nj_batch *, struct nj_nl *,
    const struct nj_set *, uint32_t);
static int add_extra(struct nj_batch *, struct nj_nl *,
    const struct nj_set *, const struct nj_set *, const struct nj_set *,
    uint32_t);

/*
 * Add set s with its configured elements, then the learned ones in extra
 * that the configured set cfgd (s itself, or direct4/6 for the learned
 * direct sets) does not cover.
 */
static int
add_set(struct nj_batch *b, struct nj_nl *nl, const struct nj_set *s,
    uint32_t id, const struct nj_set *extra, const struct nj_set *cfgd)
{
	struct nftnl_set *ns;
	struct nlmsghdr *nlh;

	if ((ns = rules_nl_set(s, id, false)) == NULL)
		return -1;
	nlh = batch_msg(b, nl, NFT_MSG_NEWSET, NLM_F_CREATE | NLM_F_EXCL,
	    "add set %s", s->name);
	if (nlh != NULL) {
		nftnl_set_nlmsg_build_payload(nlh, ns);
		batch_done(b);
	}
	nftnl_set_free(ns);
	if (nlh == NULL || add_elems(b, nl, s, id) == -1)
		return -1;
	if (extra == NULL || extra->nelems == 0)
		return 0;
	return add_extra(b, nl, s, extra, cfgd, id);
}

/*
 * Learned elements the new configuration now covers itself are left out:
 * in the same set a duplicate would fail the whole transaction; a learned
 * direct the configured direct4/6 now holds would only be a stray copy.
 */
static int
add_extra(struct nj_batch *b, struct nj_nl *nl, const struct nj_set *s,
    const struct nj_set *extra, const struct nj_set *cfgd, uint32_t id)
{
	struct nj_set keep = *extra;
	size_t i;
	int rc;

	keep.elems = NULL;
	keep.nelems = keep.cap = 0;
	for (i = 0; i < extra->nelems; i++)
		if (!rules_set_covers(s, &extra->elems[i]) &&
		    !rules_set_covers(cfgd, &extra->elems[i]) &&
		    rules_set_add(&keep, &extra->elems[i]) == -1) {
			free(keep.elems);
			return -1;
		}
	rc = add_elems(b, nl, &keep, id);
	free(keep.elems);
	return rc;
}

static int
add_elems(struct nj_batch *b, struct nj_nl *nl, const struct nj_set *s,
    uint32_t id)
{
	struct nftnl_set *ns;
	struct nlmsghdr *nlh;
	size_t i, n;

	for (i = 0; i < s->nelems; i += n) {
		n = s->nelems - i;
		if (n > NJ_ELEMS_PER_MSG)
			n = NJ_ELEMS_PER_MSG;
		if ((ns = rules_nl_set(s, id, false)) == NULL)
			return -1;
		if (rules_nl_set_elems(ns, s, s->elems + i, n) == -1)
			goto fail;
		nlh = batch_msg(b, nl, NFT_MSG_NEWSETELEM,
		    NLM_F_CREATE | NLM_F_EXCL, "add %zu elements to set %s "
		    "(from #%zu)", n, s->name, i);
		if (nlh == NULL)
			goto fail;
		nftnl_set_elems_nlmsg_build_payload(nlh, ns);
		batch_done(b);
		nftnl_set_free(ns);
	}
	return 0;
fail:
	nftnl_set_free(ns);
	return -1;
}

int
install_table(struct nj_nl *nl, const struct nj_ruleset *rs, char *err,
    size_t errlen)
{
	return install_table_with(nl, rs, NULL, err, errlen);
}

int
install_table_with(struct nj_nl *nl, const struct nj_ruleset *rs,
    const struct nj_set *extra, char *err, size_t errlen)
{
	struct nj_batch b;
	struct nlmsghdr *nlh;
	size_t i, nth[NJ_CH__MAX] = { 0 };
	int exists, rc = -ENOMEM, c;

	if ((exists = install_table_exists(nl)) < 0) {
		snprintf(err, errlen, "looking for table inet %s: %s",
		    NJ_TABLE, strerror(-exists));
		return exists;
	}
	batch_init(&b, nl);
	/* Delete and add in one transaction: no packet sees no table. */
	if (exists && add_table(&b, nl, NFT_MSG_DELTABLE) == -1)
		goto oom;
	if (add_table(&b, nl, NFT_MSG_NEWTABLE) == -1)
		goto oom;
	for (i = 0; i < NJ_SET__MAX; i++)
		if (add_set(&b, nl, &rs->sets[i], (uint32_t)i + 1, extra ?
		    &extra[i] : NULL, &rs->sets[rules_set_configured((int)i)])
		    == -1)
			goto oom;
	for (c = 0; c < NJ_CH__MAX; c++) {
		struct nftnl_chain *ch;

		if (!rs->chain_used[c])
			continue;
		if ((ch = rules_nl_chain(&rs->chains[c])) == NULL)
			goto oom;
		nlh = batch_msg(&b, nl, NFT_MSG_NEWCHAIN, NLM_F_CREATE |
		    NLM_F_EXCL, "add chain %s", rs->chains[c].name);
		if (nlh != NULL) {
			nftnl_chain_nlmsg_build_payload(nlh, ch);
			batch_done(&b);
		}
		nftnl_chain_free(ch);
		if (nlh == NULL)
			goto oom;
	}
	for (i = 0; i < rs->nrules; i++) {
		const struct nj_rule *r = &rs->rules[i];
		struct nftnl_rule *nr;

		if ((nr = rules_nl_rule(rs, r)) == NULL)
			goto oom;
		nlh = batch_msg(&b, nl, NFT_MSG_NEWRULE, NLM_F_CREATE |
		    NLM_F_APPEND, "add rule %s #%zu", rs->chains[r->chain].name,
		    ++nth[r->chain]);
		if (nlh != NULL) {
			nftnl_rule_nlmsg_build_payload(nlh, nr);
			batch_done(&b);
		}
		nftnl_rule_free(nr);
		if (nlh == NULL)
			goto oom;
	}
	rc = nl_batch_commit(nl, &b, err, errlen);
	return rc;
oom:
	batch_free(&b);
	snprintf(err, errlen, "building the batch: out of memory");
	return rc;
}

int
install_remove(struct nj_nl *nl, char *err, size_t errlen)
{
	struct nj_batch b;
	int exists, rc;

	if ((exists = install_table_exists(nl)) <= 0) {
		if (exists < 0)
			snprintf(err, errlen, "looking for table: %s",
			    strerror(-exists));
		return exists;
	}
	batch_init(&b, nl);
	if (add_table(&b, nl, NFT_MSG_DELTABLE) == -1) {
		batch_free(&b);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = nl_batch_commit(nl, &b, err, errlen);
	return rc < 0 ? rc : 1;
}

/* ---- read-back ---- */

struct dump {
	struct nj_nl *nl;
	const struct nj_ruleset *rs;
	struct nj_readback *rb;
	size_t rule_idx[NJ_CH__MAX];	/* next rule of each chain */
	bool chain_seen[NJ_CH__MAX];
	bool set_seen[NJ_SET__MAX];
	int set;			/* set whose elements are dumped */
};

static void differ(struct nj_readback *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
differ(struct nj_readback *rb, const char *fmt, ...)
{
	va_list ap;

	if (!rb->whole)
		return;
	rb->whole = false;
	va_start(ap, fmt);
	vsnprintf(rb->why, sizeof(rb->why), fmt, ap);
	va_end(ap);
}

static int
chain_index(const struct nj_ruleset *rs, const char *name)
{
	int c;

	for (c = 0; c < NJ_CH__MAX; c++)
		if (strcmp(rs->chains[c].name, name) == 0)
			return c;
	return -1;
}

/* A base chain has its hook, priority and accept policy; a regular none. */
static bool
chain_hook_ok(const struct nftnl_chain *ch, const struct nj_chain *w)
{
	if (w->hook < 0)
		return !nftnl_chain_is_set(ch, NFTNL_CHAIN_HOOKNUM);
	return nftnl_chain_is_set(ch, NFTNL_CHAIN_HOOKNUM) &&
	    nftnl_chain_get_u32(ch, NFTNL_CHAIN_HOOKNUM) == (uint32_t)w->hook &&
	    nftnl_chain_get_s32(ch, NFTNL_CHAIN_PRIO) == w->prio &&
	    nftnl_chain_get_u32(ch, NFTNL_CHAIN_POLICY) == NF_ACCEPT;
}

static int
chain_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct dump *d = arg;
	struct nftnl_chain *ch = nftnl_chain_alloc();
	const char *name;
	int c;

	if (ch == NULL)
		return -ENOMEM;
	if (nftnl_chain_nlmsg_parse(nlh, ch) < 0) {
		nftnl_chain_free(ch);
		return -EINVAL;
	}
	/* a chain dump lists every inet table's chains (firewalld's too) */
	if (!nftnl_chain_is_set(ch, NFTNL_CHAIN_TABLE) || strcmp(
	    nftnl_chain_get_str(ch, NFTNL_CHAIN_TABLE), NJ_TABLE) != 0) {
		nftnl_chain_free(ch);
		return 0;
	}
	name = nftnl_chain_get_str(ch, NFTNL_CHAIN_NAME);
	c = chain_index(d->rs, name);
	d->rb->nchains++;
	if (c < 0 || !d->rs->chain_used[c])
		differ(d->rb, "unexpected chain %s%s", name, "");
	else if (!chain_hook_ok(ch, &d->rs->chains[c]))
		differ(d->rb, "chain %s: hook, priority or policy%s", name,
		    " differ");
	else
		d->chain_seen[c] = true;
	nftnl_chain_free(ch);
	return 0;
}

/* Expression names of a rule, space separated, for comparison. */
static void
expr_names(struct nftnl_rule *r, char *buf, size_t len)
{
	struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
	struct nftnl_expr *e;
	size_t off = 0;

	buf[0] = '\0';
	if (it == NULL)
		return;
	while ((e = nftnl_expr_iter_next(it)) != NULL && off < len) {
		int n = snprintf(buf + off, len - off, "%s ",
		    nftnl_expr_get_str(e, NFTNL_EXPR_NAME));
		if (n < 0)
			break;
		off += (size_t)n;
	}
	nftnl_expr_iter_destroy(it);
}

static const char *
rule_comment(struct nftnl_rule *r)
{
	const void *ud;
	uint32_t len;
	const struct nftnl_udata *a;

	if (!nftnl_rule_is_set(r, NFTNL_RULE_USERDATA))
		return NULL;
	ud = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len);
	/* TLV: type, length, value; the comment is the only one we write */
	a = ud;
	if (len < 3 || nftnl_udata_type(a) != NFTNL_UDATA_RULE_COMMENT ||
	    nftnl_udata_len(a) + 2u > len || nftnl_udata_len(a) == 0)
		return NULL;
	if (((const char *)nftnl_udata_get(a))[nftnl_udata_len(a) - 1])
		return NULL;
	return nftnl_udata_get(a);
}

static int
counter_of(struct nftnl_rule *r, uint64_t *pk, uint64_t *by)
{
	struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
	struct nftnl_expr *e;
	int found = 0;

	if (it == NULL)
		return 0;
	while ((e = nftnl_expr_iter_next(it)) != NULL) {
		if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME),
		    "counter") == 0) {
			*pk = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
			*by = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
			found = 1;
		}
	}
	nftnl_expr_iter_destroy(it);
	return found;
}

static const struct nj_rule *
nth_rule(const struct nj_ruleset *rs, int chain, size_t n)
{
	size_t i;

	for (i = 0; i < rs->nrules; i++)
		if (rs->rules[i].chain == chain && n-- == 0)
			return &rs->rules[i];
	return NULL;
}

static int
rule_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct dump *d = arg;
	struct nftnl_rule *r = nftnl_rule_alloc(), *want = NULL;
	const struct nj_rule *wr;
	char got[512], exp[512];
	const char *chain, *cm;
	uint64_t pk, by;
	int c, rc = 0;

	if (r == NULL)
		return -ENOMEM;
	if (nftnl_rule_nlmsg_parse(nlh, r) < 0) {
		rc = -EINVAL;
		goto out;
	}
	if (!nftnl_rule_is_set(r, NFTNL_RULE_TABLE) || strcmp(
	    nftnl_rule_get_str(r, NFTNL_RULE_TABLE), NJ_TABLE) != 0)
		goto out;
	chain = nftnl_rule_get_str(r, NFTNL_RULE_CHAIN);
	d->rb->nrules++;
	if ((c = chain_index(d->rs, chain)) < 0) {
		differ(d->rb, "rule in unexpected chain %s%s", chain, "");
		goto out;
	}
	cm = rule_comment(r);
	if (cm != NULL && counter_of(r, &pk, &by)) {
		struct nj_counter *n = reallocarray(d->rb->counters,
		    d->rb->ncounters + 1, sizeof(*n));
		if (n == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		d->rb->counters = n;
		n += d->rb->ncounters++;
		snprintf(n->chain, sizeof(n->chain), "%s", chain);
		snprintf(n->comment, sizeof(n->comment), "%s", cm);
		n->packets = pk;
		n->bytes = by;
	}
	if ((wr = nth_rule(d->rs, c, d->rule_idx[c]++)) == NULL) {
		differ(d->rb, "extra rule in chain %s%s", chain, "");
		goto out;
	}
	if ((want = rules_nl_rule(d->rs, wr)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	expr_names(r, got, sizeof(got));
	expr_names(want, exp, sizeof(exp));
	if (strcmp(got, exp) != 0)
		differ(d->rb, "rule differs: kernel has [%.100s], wanted [%.100s]",
		    got, exp);
	else if ((cm == NULL) != (wr->comment[0] == '\0') ||
	    (cm != NULL && strcmp(cm, wr->comment) != 0))
		differ(d->rb, "rule comment differs in chain %s%s", chain, "");
out:
	nftnl_rule_free(r);
	if (want != NULL)
		nftnl_rule_free(want);
	return rc;
}

static int
set_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct dump *d = arg;
	struct nftnl_set *s = nftnl_set_alloc();
	const struct nj_set *w;
	const char *name;
	uint32_t flags, want;
	int i;

	if (s == NULL)
		return -ENOMEM;
	if (nftnl_set_nlmsg_parse(nlh, s) < 0) {
		nftnl_set_free(s);
		return -EINVAL;
	}
	if (!nftnl_set_is_set(s, NFTNL_SET_TABLE) || strcmp(
	    nftnl_set_get_str(s, NFTNL_SET_TABLE), NJ_TABLE) != 0) {
		nftnl_set_free(s);
		return 0;
	}
	name = nftnl_set_get_str(s, NFTNL_SET_NAME);
	d->rb->nsets++;
	for (i = 0; i < NJ_SET__MAX; i++)
		if (strcmp(nj_set_names[i], name) == 0)
			break;
	if (i == NJ_SET__MAX) {
		differ(d->rb, "unexpected set %s%s", name, "");
		goto out;
	}
	w = &d->rs->sets[i];
	flags = nftnl_set_get_u32(s, NFTNL_SET_FLAGS);
	want = (w->timeout ? NFT_SET_TIMEOUT : 0) |
	    (w->interval ? NFT_SET_INTERVAL : 0);
	if ((flags & (NFT_SET_TIMEOUT | NFT_SET_INTERVAL)) != want)
		differ(d->rb, "set %s: flags differ%s", name, "");
	else
		d->set_seen[i] = true;
out:
	nftnl_set_free(s);
	return 0;
}

static int
elem_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct dump *d = arg;
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it;

	if (s == NULL)
		return -ENOMEM;
	if (nftnl_set_elems_nlmsg_parse(nlh, s) < 0) {
		nftnl_set_free(s);
		return -EINVAL;
	}
	if ((it = nftnl_set_elems_iter_create(s)) != NULL) {
		while (nftnl_set_elems_iter_next(it) != NULL)
			d->rb->set_elems[d->set]++;
		nftnl_set_elems_iter_destroy(it);
	}
	nftnl_set_free(s);
	return 0;
}

static int
dump(struct nj_nl *nl, uint16_t type, void *obj, nl_msg_cb cb,
    struct dump *d)
{
	char buf[8192];
	struct nlmsghdr *nlh;

	nlh = nftnl_nlmsg_build_hdr(buf, type, NFPROTO_INET, NLM_F_DUMP,
	    nl->seq++);
	switch (type) {
	case NFT_MSG_GETCHAIN:
		nftnl_chain_nlmsg_build_payload(nlh, obj);
		break;
	case NFT_MSG_GETRULE:
		nftnl_rule_nlmsg_build_payload(nlh, obj);
		break;
	case NFT_MSG_GETSET:
	case NFT_MSG_GETSETELEM:
		if (type == NFT_MSG_GETSET)
			nftnl_set_nlmsg_build_payload(nlh, obj);
		else
			nftnl_set_elems_nlmsg_build_payload(nlh, obj);
		break;
	}
	return nl_request(nl, nlh, cb, d);
}

int
install_readback(struct nj_nl *nl, const struct nj_ruleset *rs,
    struct nj_readback *rb)
{
	struct dump d;
	struct nftnl_chain *ch = NULL;
	struct nftnl_rule *r = NULL;
	struct nftnl_set *s = NULL;
	int rc = -ENOMEM, i;

	memset(rb, 0, sizeof(*rb));
	memset(&d, 0, sizeof(d));
	rb->whole = true;
	d.nl = nl;
	d.rs = rs;
	d.rb = rb;
	if ((ch = nftnl_chain_alloc()) == NULL ||
	    (r = nftnl_rule_alloc()) == NULL ||
	    (s = nftnl_set_alloc()) == NULL)
		goto out;
	nftnl_chain_set_str(ch, NFTNL_CHAIN_TABLE, NJ_TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, NJ_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, NJ_TABLE);
	if ((rc = dump(nl, NFT_MSG_GETCHAIN, ch, chain_cb, &d)) < 0 ||
	    (rc = dump(nl, NFT_MSG_GETRULE, r, rule_cb, &d)) < 0 ||
	    (rc = dump(nl, NFT_MSG_GETSET, s, set_cb, &d)) < 0)
		goto out;
	for (i = 0; i < NJ_SET__MAX; i++) {
		d.set = i;
		nftnl_set_set_str(s, NFTNL_SET_NAME, nj_set_names[i]);
		if (d.set_seen[i] &&
		    (rc = dump(nl, NFT_MSG_GETSETELEM, s, elem_cb, &d)) < 0)
			goto out;
		if (!d.set_seen[i])
			differ(rb, "set %s missing%s", nj_set_names[i], "");
		/* interval sets hold one element per range here */
		else if (rb->set_elems[i] < rs->sets[i].nelems)
			differ(rb, "set %s: elements missing%s",
			    nj_set_names[i], "");
	}
	for (i = 0; i < NJ_CH__MAX; i++) {
		if (rs->chain_used[i] && !d.chain_seen[i])
			differ(rb, "chain %s missing%s", rs->chains[i].name, "");
		if (rs->chain_used[i] && d.rule_idx[i] != rules_count(rs, i))
			differ(rb, "chain %s: rules missing%s",
			    rs->chains[i].name, "");
	}
	rc = 0;
out:
	if (ch) nftnl_chain_free(ch);
	if (r) nftnl_rule_free(r);
	if (s) nftnl_set_free(s);
	return rc;
}

void
install_readback_free(struct nj_readback *rb)
{
	free(rb->counters);
	rb->counters = NULL;
	rb->ncounters = 0;
}
