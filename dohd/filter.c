/*
 * filter.c - what of an upstream answer may reach a jailed client.
 *
 * Decisions (documented in dohd.8):
 * - The answer must be a response to exactly our question (id 0, QR,
 *   opcode QUERY, one question with our name, type and class, no TC);
 *   anything else is the upstream's fault and another upstream is tried.
 * - The CNAME chain is followed from the question name; every name in it
 *   must pass the allowlist with the question's type and the length/label
 *   limits.  At the first name that does not, the whole answer is replaced
 *   by the deny rcode with no records: a partial chain would hand the
 *   client a name it cannot use and still tell it that the name exists.
 * - Records that are not on the chain (answers for another name, DNAME,
 *   RRSIG, the whole additional section) are dropped.
 * - Every A/AAAA is checked with eg_policy_check_addr; a denied address is
 *   removed (DNS rebinding).  When nothing is left the answer is NODATA.
 *   Names of hops and direct endpoints are the operator's own and often
 *   internal: for them only the host's own addresses are removed.
 * - An HTTPS/SVCB record whose ipv4hint/ipv6hint holds a denied address is
 *   dropped whole; records with permitted hints pass unchanged.
 * - The authority section keeps only SOA records, and only for negative
 *   answers (negative caching at the client).
 * - TTLs are capped at max_ttl and never raised; the cache keeps the answer
 *   for the smallest TTL in it, a negative answer for the SOA minimum (or
 *   negative_ttl without an SOA), capped the same.
 */
#include <string.h>

#include <ldns/ldns.h>

#include "learn_table.h"
#include "log.h"

#include "dohd.h"

#define DF_MAX_CHAIN 8

bool
dfilter_name_within_limits(const struct eg_config *cfg, const char *name,
    unsigned labels)
{
	return strlen(name) <= cfg->dohd.max_name_length &&
	    labels <= cfg->dohd.max_labels;
}

void
dfilter_clear(struct dfilter *f)
{
	free(f->wire);
	f->wire = NULL;
	f->len = 0;
}

static bool
rdf_name(const ldns_rdf *r, char *out, unsigned *labels)
{
	if (r == NULL || ldns_rdf_get_type(r) != LDNS_RDF_TYPE_DNAME)
		return false;
	return dns_name_text(ldns_rdf_data(r), ldns_rdf_size(r), out,
	    EG_NAME_MAX + 1, labels);
}

/* May a name on the chain be served for this question? */
static bool
chain_name_ok(const struct dohd *d, const struct dpolicy *p,
    const ldns_rdf *r, uint16_t qtype, char *name)
{
	struct eg_decision dec;
	unsigned labels;

	if (!rdf_name(r, name, &labels) ||
	    !dfilter_name_within_limits(d->cfg, name, labels))
		return false;
	dec = eg_policy_check_dns(p->pol, name, qtype);
	/* ask mode: the decider allowed the question's name, and what it is
	 * an alias of is the resolver's business (connectd judges the name
	 * the client connects to); the addresses are still checked */
	if (p->granted && dec.verdict != EG_ALLOW &&
	    (dec.reason == EG_R_NO_RULE || dec.reason == EG_R_PORT ||
	    dec.reason == EG_R_EMPTY))
		return true;
	/* learn mode: a name on the chain needs a rule as much as the
	 * question's own */
	if (dec.reported && p->learn && eg_learn_note(p->wl,
	    eg_reason_str(dec.reason), name, 0, qtype))
		return true;
	if (dec.reported) {
		char qb[EG_NAME_MAX * 4 + 8];

		eg_log(EG_LOG_INFO, "cname", "name=%s decision=report "
		    "reason=%s workload=%s", eg_log_quote(name, strlen(name),
		    EG_NAME_MAX, qb, sizeof(qb)), eg_reason_str(dec.reason),
		    p->wl);
	}
	return dec.verdict == EG_ALLOW;
}

/* A workload can make upstreams answer with internal addresses at the
 * rate it asks for new names: a sample of the strips in the log, all of
 * them in stripped_addrs. */
static struct eg_ratelimit strip_rl = EG_RATELIMIT_INIT(10000, 20);

/*
 * infra (hop names, direct names): the operator named these endpoints and
 * they are often internal, so only the host's own addresses are stripped.
 */
static bool
addr_ok(const struct dpolicy *p, const struct eg_ip *ip, bool infra,
    unsigned *stripped)
{
	struct eg_decision dec = eg_policy_check_addr(p->pol, ip);
	char b[64];

	if (dec.verdict == EG_ALLOW && !dec.reported)
		return true;
	if (infra && dec.reason != EG_R_HOST_ADDR)
		return true;
	eg_log_rl(&strip_rl, EG_LOG_INFO, "strip",
	    "addr=%s reason=%s decision=%s workload=%s",
	    eg_ip_str(ip, b, sizeof(b)), eg_reason_str(dec.reason),
	    dec.verdict == EG_ALLOW ? "report" : "strip", p->wl);
	if (dec.verdict == EG_ALLOW)
		return true;
	(*stripped)++;
	return false;
}

/* Check the address hints of an HTTPS/SVCB record (RFC 9460 7.3). */
static bool
svcb_ok(const struct dpolicy *p, const ldns_rr *rr, unsigned *stripped)
{
	uint8_t *buf = NULL, tmp[DNS_NAME_WIRE];
	size_t sz = 0, off = 0, end;
	bool ok = false;

	if (ldns_rr2wire(&buf, rr, LDNS_SECTION_ANSWER, &sz) != LDNS_STATUS_OK)
		goto out;
	if (dns_name_read(buf, sz, &off, tmp) < 0 || off + 10 > sz)
		goto out;
	end = off + 10 + dns_get16(buf + off + 8);
	if (end != sz)
		goto out;
	off += 10;
	/* SvcPriority, TargetName (never compressed) */
	if (off + 2 > end)
		goto out;
	off += 2;
	if (dns_name_read(buf, end, &off, tmp) < 0)
		goto out;
	while (off < end) {
		uint16_t key, len;
		size_t step;

		if (off + 4 > end)
			goto out;
		key = dns_get16(buf + off);
		len = dns_get16(buf + off + 2);
		off += 4;
		if (off + len > end)
			goto out;
		step = key == 4 ? 4 : key == 6 ? 16 : 0;
		if (step != 0) {
			if (len == 0 || len % step != 0)
				goto out;
			for (size_t i = 0; i < len; i += step) {
				struct eg_ip ip;

				memset(&ip, 0, sizeof(ip));
				ip.family = step == 4 ? AF_INET : AF_INET6;
				memcpy(ip.addr, buf + off + i, step);
				if (!addr_ok(p, &ip, false, stripped))
					goto out;
			}
		}
		off += len;
	}
	ok = true;
 out:
	free(buf);
	return ok;
}

static uint32_t
cap_ttl(const struct dohd *d, uint32_t t)
{
	return t > d->cfg->dohd.max_ttl ? d->cfg->dohd.max_ttl : t;
}

/* A response to q carrying only its question, in our lower-case form so
 * stored bodies line up with dns_answer(). */
static ldns_pkt *
new_body(const ldns_rr *qrr, const struct dns_query *q)
{
	ldns_pkt *p;
	ldns_rr *qc;

	if ((p = ldns_pkt_new()) == NULL)
		return NULL;
	if ((qc = ldns_rr_clone(qrr)) == NULL) {
		ldns_pkt_free(p);
		return NULL;
	}
	ldns_pkt_set_id(p, 0);
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_rd(p, true);
	ldns_pkt_set_ra(p, true);
	ldns_rr_set_question(qc, true);
	memcpy(ldns_rdf_data(ldns_rr_owner(qc)), q->lname, q->qname_len);
	ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, qc);
	return p;
}

/* What the walk along the CNAME chain has gathered so far. */
struct chain {
	const struct dohd *d;
	const struct dpolicy *p;	/* the query's workload's */
	const struct dns_query *q;
	bool infra;		/* hop or direct names: no allowlist */
	struct dfilter *f;
	ldns_pkt *out;		/* the body being built */
	uint32_t minttl;	/* of the records kept */
	bool any;		/* a record of the question's type kept */
};

enum rr_verdict { RR_SKIP, RR_KEEP, RR_CUT, RR_BAD };

/*
 * The upstream's answer parsed, if it is a response to exactly q (see the
 * top of this file) with an rcode we pass on; NULL when it is not.
 */
static ldns_pkt *
parse_answer(const struct dns_query *q, const uint8_t *wire, size_t len)
{
	struct dns_walk w;
	ldns_pkt *in = NULL;
	const ldns_rr *qrr;
	int rcode;

	if (dns_walk(wire, len, &w) < 0)
		return NULL;
	if (w.id != 0 || !(w.flags & DNS_F_QR) || DNS_OPCODE(w.flags) != 0 ||
	    (w.flags & DNS_F_TC) || w.count[0] != 1)
		return NULL;
	if (ldns_wire2pkt(&in, wire, len) != LDNS_STATUS_OK) {
		if (in != NULL)
			ldns_pkt_free(in);
		return NULL;
	}
	qrr = ldns_rr_list_rr(ldns_pkt_question(in), 0);
	rcode = ldns_pkt_get_rcode(in);
	if (qrr == NULL || ldns_rr_get_type(qrr) != q->qtype ||
	    ldns_rr_get_class(qrr) != q->qclass ||
	    ldns_rdf_size(ldns_rr_owner(qrr)) != q->qname_len ||
	    strncasecmp((const char *)ldns_rdf_data(ldns_rr_owner(qrr)),
	    (const char *)q->lname, q->qname_len) != 0 ||
	    (rcode != DNS_R_NOERROR && rcode != DNS_R_NXDOMAIN &&
	    rcode != DNS_R_SERVFAIL)) {
		ldns_pkt_free(in);
		return NULL;
	}
	return in;
}

/* The address of an A/AAAA record; false when it has not one of the
 * right size. */
static bool
rr_addr(const ldns_rr *rr, uint16_t t, struct eg_ip *ip)
{
	const ldns_rdf *r = ldns_rr_rdf(rr, 0);
	size_t want = t == DNS_T_A ? 4 : 16;

	if (ldns_rr_rd_count(rr) != 1 || r == NULL || ldns_rdf_size(r) != want)
		return false;
	memset(ip, 0, sizeof(*ip));
	ip->family = t == DNS_T_A ? AF_INET : AF_INET6;
	memcpy(ip->addr, ldns_rdf_data(r), want);
	return true;
}

/* May the chain go on to name r?  When not, f says where it was cut. */
static bool
chain_continues(struct chain *k, const ldns_rdf *r)
{
	char name[EG_NAME_MAX + 1];

	if (k->infra || chain_name_ok(k->d, k->p, r, k->q->qtype, name))
		return true;
	k->f->cut = true;
	memcpy(k->f->cut_name, name, sizeof(k->f->cut_name));
	return false;
}

/* One record of the answer section, while the chain stands at cur. */
static enum rr_verdict
judge_rr(struct chain *k, const ldns_rr *rr, const ldns_rdf *cur,
    ldns_rdf **next)
{
	const struct dns_query *q = k->q;
	uint16_t t = ldns_rr_get_type(rr);
	struct eg_ip ip;

	if (ldns_rr_get_class(rr) != q->qclass ||
	    ldns_dname_compare(ldns_rr_owner(rr), cur) != 0)
		return RR_SKIP;
	if (t == DNS_T_CNAME && q->qtype != DNS_T_CNAME) {
		if (*next != NULL || ldns_rr_rd_count(rr) != 1)
			return RR_SKIP;	/* one CNAME per name */
		*next = ldns_rr_rdf(rr, 0);
		return chain_continues(k, *next) ? RR_KEEP : RR_CUT;
	}
	if (t != q->qtype)
		return RR_SKIP;
	if (t == DNS_T_A || t == DNS_T_AAAA) {
		/* An address of the wrong size is a broken answer, not one
		 * to repair. */
		if (!rr_addr(rr, t, &ip))
			return RR_BAD;
		if (!addr_ok(k->p, &ip, k->infra, &k->f->stripped))
			return RR_SKIP;
		if (k->f->naddrs < DF_MAX_ADDRS)
			k->f->addrs[k->f->naddrs++] = ip;
		return RR_KEEP;
	}
	if ((t == DNS_T_HTTPS || t == DNS_T_SVCB) && !k->infra &&
	    !svcb_ok(k->p, rr, &k->f->stripped)) {
		k->f->dropped_https++;
		return RR_SKIP;
	}
	/* A question for the CNAME itself: its target is on the chain. */
	if (t == DNS_T_CNAME && !chain_continues(k, ldns_rr_rdf(rr, 0)))
		return RR_CUT;
	return RR_KEEP;
}

/* Copy a record into the body, its TTL capped. */
static int
keep_rr(struct chain *k, const ldns_rr *rr)
{
	ldns_rr *c;

	if ((c = ldns_rr_clone(rr)) == NULL)
		return -1;
	ldns_rr_set_ttl(c, cap_ttl(k->d, ldns_rr_ttl(c)));
	if (ldns_rr_ttl(c) < k->minttl)
		k->minttl = ldns_rr_ttl(c);
	ldns_pkt_push_rr(k->out, LDNS_SECTION_ANSWER, c);
	if (ldns_rr_get_type(rr) != DNS_T_CNAME ||
	    k->q->qtype == DNS_T_CNAME)
		k->any = true;
	return 0;
}

/* Follow the chain from the question name cur: 0 done, 1 cut, -1 the
 * answer is broken. */
static int
follow_chain(struct chain *k, const ldns_rr_list *an, ldns_rdf *cur)
{
	for (int hop = 0;; hop++) {
		ldns_rdf *next = NULL;

		for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
			const ldns_rr *rr = ldns_rr_list_rr(an, i);

			switch (judge_rr(k, rr, cur, &next)) {
			case RR_SKIP:
				continue;
			case RR_CUT:
				return 1;
			case RR_BAD:
				return -1;
			case RR_KEEP:
				break;
			}
			if (keep_rr(k, rr) < 0)
				return -1;
		}
		if (next == NULL)
			return 0;
		if (hop == DF_MAX_CHAIN)
			return -1;	/* a chain this long is a loop */
		cur = next;
	}
}

/* NXDOMAIN or NODATA: keep the SOA for negative caching. */
static int
keep_soa(struct chain *k, const ldns_pkt *in)
{
	const struct dohd *d = k->d;
	const ldns_rr_list *ns = ldns_pkt_authority(in);
	uint32_t nttl = d->cfg->dohd.negative_ttl;

	k->f->negative = true;
	for (size_t i = 0; i < ldns_rr_list_rr_count(ns); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(ns, i);
		const ldns_rdf *min;
		ldns_rr *c;
		uint32_t t;

		if (ldns_rr_get_type(rr) != DNS_T_SOA ||
		    ldns_rr_rd_count(rr) != 7)
			continue;
		min = ldns_rr_rdf(rr, 6);
		t = ldns_rr_ttl(rr);
		if (ldns_rdf_size(min) == 4 &&
		    ldns_rdf2native_int32(min) < t)
			t = ldns_rdf2native_int32(min);
		if ((c = ldns_rr_clone(rr)) == NULL)
			return -1;
		ldns_rr_set_ttl(c, cap_ttl(d, t));
		nttl = cap_ttl(d, t);
		ldns_pkt_push_rr(k->out, LDNS_SECTION_AUTHORITY, c);
		break;
	}
	if (k->minttl < nttl)
		nttl = k->minttl;	/* a CNAME on the way may be shorter */
	k->f->ttl = cap_ttl(d, nttl);
	k->f->cacheable = true;
	return 0;
}

/* The chain went through: the upstream's rcode and the cache lifetime. */
static int
keep_rcode(struct chain *k, const ldns_pkt *in, int rcode)
{
	ldns_pkt_set_rcode(k->out, (uint8_t)rcode);
	k->f->rcode = rcode;
	if (rcode == DNS_R_SERVFAIL) {
		k->f->cacheable = false;
		return 0;
	}
	if (k->any && rcode == DNS_R_NOERROR) {
		k->f->ttl = k->minttl;
		k->f->cacheable = true;
		return 0;
	}
	return keep_soa(k, in);
}

/* The chain was cut: start over with no records at all, the deny rcode
 * alone. */
static int
cut_answer(struct chain *k, const ldns_rr *qrr)
{
	struct dfilter *f = k->f;
	uint32_t neg = k->d->cfg->dohd.negative_ttl;

	ldns_pkt_free(k->out);
	if ((k->out = new_body(qrr, k->q)) == NULL)
		return -1;
	f->rcode = dohd_deny_rcode(k->d);
	ldns_pkt_set_rcode(k->out, (uint8_t)f->rcode);
	f->negative = true;
	f->ttl = cap_ttl(k->d, k->minttl < neg ? k->minttl : neg);
	f->cacheable = true;
	f->naddrs = 0;
	return 0;
}

/* The body in wire form, with the TTL offsets the cache ages. */
static int
body_wire(const ldns_pkt *out, struct dfilter *f)
{
	uint8_t *buf = NULL;
	size_t sz = 0;

	if (ldns_pkt2wire(&buf, out, &sz) != LDNS_STATUS_OK ||
	    sz > DNS_MAX_MSG || dns_walk(buf, sz, &f->w) < 0) {
		free(buf);
		return -1;
	}
	if (f->w.ttl_overflow)
		f->cacheable = false;	/* TTLs could not all be aged */
	f->wire = buf;
	f->len = sz;
	return 0;
}

int
dfilter_run(const struct dohd *d, const struct dpolicy *p,
    const struct dns_query *q, bool infra, const uint8_t *wire, size_t len,
    struct dfilter *f)
{
	struct chain k = {
		.d = d, .p = p, .q = q, .infra = infra, .f = f, .minttl = UINT32_MAX,
	};
	ldns_pkt *in;
	const ldns_rr *qrr;
	int rcode, r = 0, ret = -1;

	memset(f, 0, sizeof(*f));
	if ((in = parse_answer(q, wire, len)) == NULL)
		return -1;
	qrr = ldns_rr_list_rr(ldns_pkt_question(in), 0);
	rcode = ldns_pkt_get_rcode(in);
	if ((k.out = new_body(qrr, q)) == NULL)
		goto out;
	if (rcode != DNS_R_SERVFAIL)
		r = follow_chain(&k, ldns_pkt_answer(in), ldns_rr_owner(qrr));
	if (r < 0 || (r == 1 ? cut_answer(&k, qrr) :
	    keep_rcode(&k, in, rcode)) < 0)
		goto out;
	if (body_wire(k.out, f) < 0)
		goto out;
	ret = 0;
 out:
	ldns_pkt_free(in);
	if (k.out != NULL)
		ldns_pkt_free(k.out);
	return ret;
}
