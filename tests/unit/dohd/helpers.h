/*
 * helpers.h - a dohd core over a config from memory, a fake upstream that
 * records what it was asked, a fake netjaild feed, and builders for
 * queries and upstream answers.  Shared by the unit tests and fuzzers.
 */
#ifndef DOHD_TEST_HELPERS_H
#define DOHD_TEST_HELPERS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

/* Not every user needs every helper. */
#define HELPER static __attribute__((unused))

#include "config.h"
#include "log.h"
#include "policy.h"

#include "cache.h"
#include "dohd.h"

#define FAKE_SLOTS 64

/* One upstream lookup the core started; done once it took an answer. */
struct fake_slot {
	dohd_up_cb cb;
	void *arg;
	bool done;
};

struct fake {
	struct eg_config *cfg;
	struct fake_slot slot[FAKE_SLOTS];
	size_t nslot;
	const struct eg_policy *pol;	/* the default workload's */
	struct eg_wlpol *wlpol;
	struct dohd *d;
	/* upstream */
	int nresolve;
	uint8_t q[512];
	size_t qlen;
	dohd_up_cb cb;
	void *cbarg;
	bool up_refuse;		/* resolve() returns -1 */
	/* feed */
	int nfeed;
	struct eg_set_elem el[EG_SET_MAX_ELEMS];
	size_t nel;
	dohd_feed_cb fcb;
	void *fcbarg;
	/* the client */
	int nreply;
	uint8_t reply[DNS_MAX_MSG];
	size_t replylen;
	bool dropped;
};

static uint64_t fake_clock = 1000000;

HELPER uint64_t
fake_now(void)
{
	return fake_clock;
}

/* The core's callback, through a slot so teardown can end it. */
HELPER int
fake_trampoline(void *arg, int err, const uint8_t *w, size_t len)
{
	struct fake_slot *s = arg;
	int r;

	if (s->done)
		return 0;
	r = s->cb(s->arg, err, w, len);
	if (r == 0)
		s->done = true;
	return r;
}

HELPER int
fake_resolve(void *ctx, const uint8_t *q, size_t len, dohd_up_cb cb,
    void *arg)
{
	struct fake *f = ctx;

	f->nresolve++;
	if (f->up_refuse)
		return -1;
	if (len > sizeof(f->q))
		len = sizeof(f->q);
	memcpy(f->q, q, len);
	f->qlen = len;
	if (f->nslot == FAKE_SLOTS) {
		/* A long fuzz run: end the oldest lookups first. */
		for (size_t i = 0; i < FAKE_SLOTS; i++)
			if (!f->slot[i].done)
				fake_trampoline(&f->slot[i], -125, NULL, 0);
		f->nslot = 0;
	}
	f->slot[f->nslot].cb = cb;
	f->slot[f->nslot].arg = arg;
	f->slot[f->nslot].done = false;
	f->cb = fake_trampoline;
	f->cbarg = &f->slot[f->nslot++];
	return 0;
}

HELPER int
fake_feed(void *ctx, const struct eg_set_elem *e, size_t n, dohd_feed_cb cb,
    void *arg)
{
	struct fake *f = ctx;

	f->nfeed++;
	memcpy(f->el, e, n * sizeof(*e));
	f->nel = n;
	f->fcb = cb;
	f->fcbarg = arg;
	return 0;
}

HELPER void
fake_reply(void *arg, const struct dquery_src *src, const uint8_t *wire,
    size_t len)
{
	struct fake *f = arg;

	f->nreply++;
	f->dropped = wire == NULL;
	if (wire != NULL)
		memcpy(f->reply, wire, len);
	f->replylen = len;
}

/* flags: added to EG_CONFIG_NO_USERS (EG_CONFIG_WORKLOADS). */
HELPER struct fake *
fake_new_flags(const char *conf, unsigned flags)
{
	struct eg_config_errors e = { NULL, 0 };
	struct fake *f = calloc(1, sizeof(*f));
	char err[EG_ERR_MAX];

	if (f == NULL)
		abort();
	f->cfg = eg_config_load_buf("t.conf", conf, strlen(conf),
	    EG_CONFIG_NO_USERS | flags, &e);
	if (f->cfg == NULL) {
		for (size_t i = 0; i < e.n; i++)
			fprintf(stderr, "config: %s\n", e.msgs[i]);
		abort();
	}
	eg_config_errors_free(&e);
	if ((f->wlpol = eg_wlpol_new(f->cfg, NULL, 0, err)) == NULL) {
		fprintf(stderr, "policy: %s\n", err);
		abort();
	}
	f->pol = eg_wlpol_get(f->wlpol, 0);
	if ((f->d = calloc(1, sizeof(*f->d))) == NULL)
		abort();
	if (dcore_init(f->d, f->cfg, f->wlpol, NULL, err, sizeof(err)) < 0)
		abort();
	f->d->now_ms = fake_now;
	f->d->res.resolve = fake_resolve;
	f->d->res.ctx = f;
	f->d->feeder.feed = fake_feed;
	f->d->feeder.ctx = f;
	return f;
}

HELPER struct fake *
fake_new(const char *conf)
{
	return fake_new_flags(conf, 0);
}

HELPER void
fake_free(struct fake *f)
{
	for (size_t i = 0; i < f->nslot; i++)
		if (!f->slot[i].done)
			fake_trampoline(&f->slot[i], -125, NULL, 0);
	dcore_free(f->d);
	dlocal_free(f->d->local);
	free(f->d);
	eg_wlpol_free(f->wlpol);
	eg_config_free(f->cfg);
	free(f);
}

/* What dohd_reload() does: flush the cache, swap in the config and the
 * engines, a new policy generation.  flags as for fake_new_flags. */
HELPER void
fake_reload(struct fake *f, const char *c, unsigned flags)
{
	struct eg_config_errors e = { NULL, 0 };
	struct eg_config *cfg;
	struct eg_wlpol *wp;
	char err[EG_ERR_MAX];

	cfg = eg_config_load_buf("t2.conf", c, strlen(c), EG_CONFIG_NO_USERS |
	    flags, &e);
	if (cfg == NULL || (wp = eg_wlpol_new(cfg, NULL, 0, err)) == NULL)
		abort();
	eg_config_errors_free(&e);
	dcache_flush(f->d->cache);
	eg_wlpol_free(f->wlpol);
	eg_config_free(f->cfg);
	f->wlpol = f->d->wlpol = wp;
	f->pol = eg_wlpol_get(wp, 0);
	f->cfg = cfg;
	f->d->cfg = cfg;
	f->d->wlgen++;
}

/* A client query; udp 0: no EDNS. */
HELPER size_t
mkquery(uint8_t *b, uint16_t id, const char *name, uint16_t type,
    uint16_t udp)
{
	size_t l = 0, off;

	memset(b, 0, 12);
	dns_put16(b, id);
	dns_put16(b + 2, DNS_F_RD);
	dns_put16(b + 4, 1);
	dns_put16(b + 10, udp > 0);
	if (!dns_name_wire(name, b + 12, &l))
		abort();
	off = 12 + l;
	dns_put16(b + off, type);
	dns_put16(b + off + 2, DNS_C_IN);
	off += 4;
	if (udp > 0) {
		b[off] = 0;
		dns_put16(b + off + 1, DNS_T_OPT);
		dns_put16(b + off + 3, udp);
		dns_put32(b + off + 5, 0);
		dns_put16(b + off + 9, 0);
		off += 11;
	}
	return off;
}

/*
 * An upstream answer to the query f last sent: rcode, then records in
 * zone-file syntax (answer section), then "--" and authority records.
 */
HELPER size_t
mkanswer(const uint8_t *q, size_t qlen, uint8_t *out, size_t cap,
    int rcode, const char *const *rrs)
{
	ldns_pkt *p = NULL, *qp = NULL;
	uint8_t *w = NULL;
	size_t n = 0;
	ldns_pkt_section sec = LDNS_SECTION_ANSWER;

	if (ldns_wire2pkt(&qp, q, qlen) != LDNS_STATUS_OK)
		abort();
	p = ldns_pkt_new();
	ldns_pkt_set_id(p, ldns_pkt_id(qp));
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_rd(p, true);
	ldns_pkt_set_ra(p, true);
	ldns_pkt_set_rcode(p, (uint8_t)rcode);
	ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION,
	    ldns_rr_clone(ldns_rr_list_rr(ldns_pkt_question(qp), 0)));
	for (size_t i = 0; rrs != NULL && rrs[i] != NULL; i++) {
		ldns_rr *rr = NULL;

		if (strcmp(rrs[i], "--") == 0) {
			sec = LDNS_SECTION_AUTHORITY;
			continue;
		}
		if (ldns_rr_new_frm_str(&rr, rrs[i], 3600, NULL, NULL) !=
		    LDNS_STATUS_OK) {
			fprintf(stderr, "bad rr: %s\n", rrs[i]);
			abort();
		}
		ldns_pkt_push_rr(p, sec, rr);
	}
	if (ldns_pkt2wire(&w, p, &n) != LDNS_STATUS_OK || n > cap)
		abort();
	memcpy(out, w, n);
	free(w);
	ldns_pkt_free(p);
	ldns_pkt_free(qp);
	return n;
}

static const struct dquery_src test_src = {
	.ip = { .family = AF_INET, .addr = { 10, 77, 0, 2 } },
	.port = 40000,
};

#endif
