/*
 * sets.c - set element add/delete with timeouts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>

#include <libmnl/libmnl.h>
#include <libnftnl/set.h>

#include "sets.h"

/*
 * "destroy" deletes an element that may be absent without failing the
 * batch (Linux 6.3); older uapi headers lack the number.
 */
#ifndef NFT_MSG_DESTROYSETELEM
#define NFT_MSG_DESTROYSETELEM	30
#endif

static int
put(struct nj_batch *b, struct nj_nl *nl, uint16_t type, const struct nj_set *s,
    const struct nj_elem *e)
{
	struct nftnl_set *ns = rules_nl_set(s, 0, false);
	struct nlmsghdr *nlh;

	if (ns == NULL)
		return -1;
	nftnl_set_unset(ns, NFTNL_SET_ID);
	if (rules_nl_set_elems(ns, s, e, 1) == -1) {
		nftnl_set_free(ns);
		return -1;
	}
	nlh = batch_msg(b, nl, type, type == NFT_MSG_NEWSETELEM ?
	    NLM_F_CREATE : 0, "%s element of set %s",
	    type == NFT_MSG_NEWSETELEM ? "add" : "remove", s->name);
	if (nlh != NULL) {
		nftnl_set_elems_nlmsg_build_payload(nlh, ns);
		batch_done(b);
	}
	nftnl_set_free(ns);
	return nlh == NULL ? -1 : 0;
}

int
sets_update(struct nj_nl *nl, const struct nj_ruleset *rs, enum eg_set which,
    enum eg_set_op op, const struct eg_set_elem *elems, size_t n,
    uint64_t cap_ms, char *err, size_t errlen)
{
	struct nj_batch b;
	struct nj_elem e;
	size_t i, todo = 0;
	int set, rc;

	if (op != EG_SET_ADD && op != EG_SET_DEL) {
		snprintf(err, errlen, "unknown set operation %d", op);
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		if (sets_target(which, elems[i].family) < 0) {
			snprintf(err, errlen, "element %zu: bad set %d or "
			    "family %d", i, which, elems[i].family);
			return -EINVAL;
		}
		if (op == EG_SET_ADD && elems[i].timeout_ms > cap_ms) {
			snprintf(err, errlen, "element %zu: timeout %ums above "
			    "the cap of %llums", i, elems[i].timeout_ms,
			    (unsigned long long)cap_ms);
			return -ERANGE;
		}
	}
	batch_init(&b, nl);
	for (i = 0; i < n; i++) {
		set = sets_target(which, elems[i].family);
		rules_elem_addr(&e, elems[i].family, elems[i].addr, -1,
		    elems[i].port);
		/* a configured element (in direct4/6 for a direct) has it */
		if (rules_set_covers(&rs->sets[rules_set_configured(set)], &e))
			continue;
		/*
		 * Destroy first so an add refreshes the timeout of an
		 * element that is there already; both in one transaction.
		 * In a hash set this costs about as much as a plain add; in
		 * an interval set the kernel would rebuild its lookup
		 * structure for every refresh.
		 */
		if (put(&b, nl, NFT_MSG_DESTROYSETELEM, &rs->sets[set], &e))
			goto oom;
		if (op == EG_SET_ADD) {
			e.timeout_ms = elems[i].timeout_ms ?
			    elems[i].timeout_ms : cap_ms;
			if (put(&b, nl, NFT_MSG_NEWSETELEM, &rs->sets[set], &e))
				goto oom;
		}
		todo++;
	}
	if (todo == 0) {
		batch_free(&b);
		return 0;
	}
	rc = nl_batch_commit(nl, &b, err, errlen);
	return rc;
oom:
	batch_free(&b);
	snprintf(err, errlen, "out of memory");
	return -ENOMEM;
}
