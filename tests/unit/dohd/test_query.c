/*
 * test_query.c - the decision table and the answer path, bytes in and
 * bytes out, with a fake upstream and a fake netjaild.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "helpers.h"

#include "test_list.h"

static const char conf[] =
    "[jail]\n"
    "interface = br0\n"
    "direct = cache.internal:6379\n"
    "[chain]\n"
    "hop = http://10.20.0.2:3128\n"
    "[dohd]\n"
    "upstream = https://dns.example/dns-query 192.0.2.53\n"
    "rate_limit = 0\n"
    "max_name_length = 150\n"
    "[policy]\n"
    "allow = api.example.com\n"
    "allow = *.cdn.example.com\n"
    "allow = **.deep.example.org\n"
    "allow = txt.example.com qtype=TXT\n"
    "allow = alias.example.com\n"
    "allow = target.example.net\n";

static int
setup(void **st)
{
	*st = fake_new(conf);
	return 0;
}

static int
teardown(void **st)
{
	fake_free(*st);
	return 0;
}

static int
rcode_of(const struct fake *f)
{
	return DNS_RCODE(dns_get16(f->reply + 2));
}

static void
ask(struct fake *f, uint16_t id, const char *name, uint16_t type)
{
	uint8_t q[512];
	size_t n = mkquery(q, id, name, type, 1232);

	f->nreply = 0;
	dquery_handle(f->d, q, n, &test_src, fake_reply, f);
}

/* Answer the pending upstream query; returns the core's verdict. */
static int
answer(struct fake *f, int rcode, const char *const *rrs)
{
	uint8_t a[4096];
	size_t n = mkanswer(f->q, f->qlen, a, sizeof(a), rcode, rrs);

	return f->cb(f->cbarg, 0, a, n);
}

static void
test_query_allowed(void **st)
{
	struct fake *f = *st;
	const char *rrs[] = { "api.example.com. 300 IN A 93.184.216.34", NULL };
	struct eg_ip ip[4];
	uint32_t maxttl;

	ask(f, 0x4242, "API.example.com", DNS_T_A);
	assert_int_equal(f->nresolve, 1);
	assert_int_equal(f->nreply, 0);
	/* RFC 8484 id 0, RFC 8467 padding, our lower-case name */
	assert_int_equal(dns_get16(f->q), 0);
	assert_int_equal(f->qlen % DNS_PAD_BLOCK, 0);
	assert_memory_equal(f->q + 13, "api", 3);
	assert_int_equal(answer(f, 0, rrs), 0);
	assert_int_equal(f->nreply, 1);
	assert_int_equal(dns_get16(f->reply), 0x4242);
	assert_int_equal(rcode_of(f), DNS_R_NOERROR);
	assert_memory_equal(f->reply + 13, "API", 3);	/* the client's case */
	assert_int_equal(dns_answer_addrs(f->reply, f->replylen, ip, 4,
	    &maxttl), 1);
	assert_int_equal(maxttl, 300);

	/* again: from the cache, no upstream, TTL aged */
	fake_clock += 100000;
	ask(f, 0x4343, "api.example.com", DNS_T_A);
	assert_int_equal(f->nresolve, 1);
	assert_int_equal(f->nreply, 1);
	assert_int_equal(dns_get16(f->reply), 0x4343);
	assert_int_equal(dns_answer_addrs(f->reply, f->replylen, ip, 4,
	    &maxttl), 1);
	assert_int_equal(maxttl, 200);
	assert_int_equal(f->d->st.cache_hits, 1);
}

static void
test_query_denied(void **st)
{
	struct fake *f = *st;

	ask(f, 1, "evil.example", DNS_T_A);
	assert_int_equal(f->nreply, 1);
	assert_int_equal(rcode_of(f), DNS_R_NXDOMAIN);
	/* a tunnel under an exact rule */
	ask(f, 2, "mfrggzdfmztwq2lknnwg23tpobyxe43uov3ho6dzpi.api.example.com",
	    DNS_T_A);
	assert_int_equal(rcode_of(f), DNS_R_NXDOMAIN);
	/* one label under *.cdn is fine, two are not */
	ask(f, 3, "a.b.cdn.example.com", DNS_T_A);
	assert_int_equal(rcode_of(f), DNS_R_NXDOMAIN);
	assert_int_equal(f->nresolve, 0);
	ask(f, 4, "a.cdn.example.com", DNS_T_AAAA);
	assert_int_equal(f->nresolve, 1);
	assert_int_equal(f->nreply, 0);
}

static void
test_query_qtypes(void **st)
{
	struct fake *f = *st;

	ask(f, 1, "api.example.com", DNS_T_TXT);
	assert_int_equal(rcode_of(f), DNS_R_REFUSED);
	ask(f, 1, "api.example.com", DNS_T_NULL);
	assert_int_equal(rcode_of(f), DNS_R_REFUSED);
	ask(f, 1, "api.example.com", DNS_T_ANY);
	assert_int_equal(rcode_of(f), DNS_R_REFUSED);
	ask(f, 1, "api.example.com", DNS_T_AXFR);
	assert_int_equal(rcode_of(f), DNS_R_REFUSED);
	ask(f, 1, "api.example.com", DNS_T_IXFR);
	assert_int_equal(rcode_of(f), DNS_R_REFUSED);
	assert_int_equal(f->nresolve, 0);
	ask(f, 1, "api.example.com", DNS_T_HTTPS);
	assert_int_equal(f->nresolve, 1);
	ask(f, 1, "txt.example.com", DNS_T_TXT);
	assert_int_equal(f->nresolve, 2);
}

static void
test_query_limits(void **st)
{
	struct fake *f = *st;
	char name[300], l63[64];

	/* 11 labels under a deep rule: over max_labels (10) */
	ask(f, 1, "a.b.c.d.e.f.g.h.deep.example.org", DNS_T_A);
	assert_int_equal(rcode_of(f), DNS_R_REFUSED);
	/* 9 labels: allowed */
	ask(f, 1, "a.b.c.d.e.f.deep.example.org", DNS_T_A);
	assert_int_equal(f->nresolve, 1);
	/* a long label pushes past max_name_length */
	memset(l63, 'a', 63);
	l63[63] = '\0';
	snprintf(name, sizeof(name), "%s.%s.%.30s.deep.example.org", l63,
	    l63, l63);
	ask(f, 1, name, DNS_T_A);
	assert_int_equal(rcode_of(f), DNS_R_REFUSED);
	assert_int_equal(f->nresolve, 1);
}

static void
test_query_malformed_query(void **st)
{
	struct fake *f = *st;
	uint8_t q[512];
	size_t n = mkquery(q, 7, "api.example.com", DNS_T_A, 0);

	dns_put16(q + 4, 2);
	f->nreply = 0;
	dquery_handle(f->d, q, n, &test_src, fake_reply, f);
	assert_int_equal(rcode_of(f), DNS_R_FORMERR);
	n = mkquery(q, 7, "api.example.com", DNS_T_A, 0);
	q[2] |= 0x80;
	dquery_handle(f->d, q, n, &test_src, fake_reply, f);
	assert_true(f->dropped);
	dquery_handle(f->d, q, 3, &test_src, fake_reply, f);
	assert_true(f->dropped);
	/* a name with a dot in a label never matches a rule */
	n = mkquery(q, 7, "api.example.com", DNS_T_A, 0);
	q[13] = '.';
	dquery_handle(f->d, q, n, &test_src, fake_reply, f);
	assert_int_equal(rcode_of(f), DNS_R_REFUSED);
	assert_int_equal(f->nresolve, 0);
}

static void
test_query_strip_internal(void **st)
{
	struct fake *f = *st;
	const char *rrs[] = {
		"api.example.com. 300 IN A 10.1.2.3",
		"api.example.com. 300 IN A 127.0.0.1",
		"api.example.com. 300 IN A 169.254.169.254",
		"api.example.com. 300 IN A 93.184.216.34",
		NULL,
	};
	const char *all[] = { "api.example.com. 300 IN AAAA ::1", NULL };
	struct eg_ip ip[8];
	uint32_t t;

	ask(f, 1, "api.example.com", DNS_T_A);
	assert_int_equal(answer(f, 0, rrs), 0);
	assert_int_equal(dns_answer_addrs(f->reply, f->replylen, ip, 8, &t), 1);
	assert_int_equal(ip[0].addr[0], 93);
	assert_int_equal(f->d->st.stripped_addrs, 3);
	ask(f, 1, "api.example.com", DNS_T_AAAA);
	assert_int_equal(answer(f, 0, all), 0);
	assert_int_equal(rcode_of(f), DNS_R_NOERROR);
	assert_int_equal(dns_get16(f->reply + 6), 0);	/* NODATA */
}

static void
test_query_cname(void **st)
{
	struct fake *f = *st;
	const char *ok[] = {
		"alias.example.com. 60 IN CNAME target.example.net.",
		"target.example.net. 300 IN A 93.184.216.34",
		"other.example. 300 IN A 93.184.216.35",	/* not on the chain */
		NULL,
	};
	const char *bad[] = {
		"api.example.com. 60 IN CNAME exfil.attacker.example.",
		"exfil.attacker.example. 300 IN A 93.184.216.34",
		NULL,
	};
	struct eg_ip ip[8];
	uint32_t t;

	ask(f, 1, "alias.example.com", DNS_T_A);
	assert_int_equal(answer(f, 0, ok), 0);
	assert_int_equal(rcode_of(f), DNS_R_NOERROR);
	assert_int_equal(dns_get16(f->reply + 6), 2);
	assert_int_equal(dns_answer_addrs(f->reply, f->replylen, ip, 8, &t), 1);
	assert_int_equal(ip[0].addr[3], 34);

	ask(f, 2, "api.example.com", DNS_T_A);
	assert_int_equal(answer(f, 0, bad), 0);
	assert_int_equal(rcode_of(f), DNS_R_NXDOMAIN);
	assert_int_equal(dns_get16(f->reply + 6), 0);
	assert_int_equal(f->d->st.cname_cut, 1);
}

static void
test_query_bad_upstream(void **st)
{
	struct fake *f = *st;
	const char *rrs[] = { "api.example.com. 300 IN A 93.184.216.34", NULL };
	uint8_t a[512];
	size_t n;

	ask(f, 1, "api.example.com", DNS_T_A);
	n = mkanswer(f->q, f->qlen, a, sizeof(a), 0, rrs);
	/* wrong id */
	dns_put16(a, 77);
	assert_int_equal(f->cb(f->cbarg, 0, a, n), -1);
	dns_put16(a, 0);
	/* truncated at every length */
	for (size_t k = 0; k < n; k++)
		assert_int_equal(f->cb(f->cbarg, 0, a, k), -1);
	/* a compression loop in the answer owner */
	a[n - 16] = 0xc0;
	a[n - 15] = (uint8_t)(n - 16);
	assert_int_equal(f->cb(f->cbarg, 0, a, n), -1);
	/* huge counts */
	n = mkanswer(f->q, f->qlen, a, sizeof(a), 0, rrs);
	dns_put16(a + 6, 0xffff);
	assert_int_equal(f->cb(f->cbarg, 0, a, n), -1);
	/* an answer to another question */
	n = mkanswer(f->q, f->qlen, a, sizeof(a), 0, rrs);
	a[13] = 'b';
	assert_int_equal(f->cb(f->cbarg, 0, a, n), -1);
	/* not a response, TC set, REFUSED */
	n = mkanswer(f->q, f->qlen, a, sizeof(a), 0, rrs);
	a[2] &= 0x7f;
	assert_int_equal(f->cb(f->cbarg, 0, a, n), -1);
	n = mkanswer(f->q, f->qlen, a, sizeof(a), 0, rrs);
	a[2] |= 0x02;
	assert_int_equal(f->cb(f->cbarg, 0, a, n), -1);
	n = mkanswer(f->q, f->qlen, a, sizeof(a), DNS_R_REFUSED, rrs);
	assert_int_equal(f->cb(f->cbarg, 0, a, n), -1);
	assert_int_equal(f->nreply, 0);
	/* then the resolver gives up: SERVFAIL */
	assert_int_equal(f->cb(f->cbarg, -110, NULL, 0), 0);
	assert_int_equal(rcode_of(f), DNS_R_SERVFAIL);
	assert_int_equal(dns_get16(f->reply), 1);
}

static void
test_query_stale(void **st)
{
	struct fake *f = *st;
	const char *rrs[] = { "api.example.com. 60 IN A 93.184.216.34", NULL };
	struct eg_ip ip[2];
	uint32_t t;

	ask(f, 1, "api.example.com", DNS_T_A);
	assert_int_equal(answer(f, 0, rrs), 0);
	fake_clock += 120000;	/* expired, within stale_ttl (300 s) */
	ask(f, 2, "api.example.com", DNS_T_A);
	assert_int_equal(f->nresolve, 2);
	assert_int_equal(f->cb(f->cbarg, -110, NULL, 0), 0);
	assert_int_equal(rcode_of(f), DNS_R_NOERROR);
	assert_int_equal(dns_answer_addrs(f->reply, f->replylen, ip, 2, &t), 1);
	assert_int_equal(t, 30);
	assert_int_equal(f->d->st.stale, 1);
	/* past the stale window: SERVFAIL */
	fake_clock += 600000;
	ask(f, 3, "api.example.com", DNS_T_A);
	f->cb(f->cbarg, -110, NULL, 0);
	assert_int_equal(rcode_of(f), DNS_R_SERVFAIL);
	/* stale is for allowed names only: a denied one never gets there */
	ask(f, 4, "evil.example", DNS_T_A);
	assert_int_equal(rcode_of(f), DNS_R_NXDOMAIN);
}

static void
test_query_negative(void **st)
{
	struct fake *f = *st;
	const char *soa[] = { "--",
	    "example.com. 900 IN SOA ns.example.com. h.example.com. 1 2 3 4 "
	    "45", NULL };

	ask(f, 1, "api.example.com", DNS_T_AAAA);
	assert_int_equal(answer(f, DNS_R_NXDOMAIN, soa), 0);
	assert_int_equal(rcode_of(f), DNS_R_NXDOMAIN);
	assert_int_equal(dns_get16(f->reply + 8), 1);	/* the SOA */
	fake_clock += 44000;
	ask(f, 2, "api.example.com", DNS_T_AAAA);
	assert_int_equal(f->nresolve, 1);	/* cached */
	assert_int_equal(rcode_of(f), DNS_R_NXDOMAIN);
	fake_clock += 2000;	/* SOA minimum 45 s, not the SOA TTL */
	ask(f, 3, "api.example.com", DNS_T_AAAA);
	assert_int_equal(f->nresolve, 2);
}

static void
test_query_direct_feed(void **st)
{
	struct fake *f = *st;
	const char *rrs[] = { "cache.internal. 30 IN A 10.0.1.216", NULL };

	ask(f, 1, "cache.internal", DNS_T_A);
	assert_int_equal(f->nresolve, 1);
	assert_int_equal(answer(f, 0, rrs), 0);
	/* held until netjaild acknowledges */
	assert_int_equal(f->nreply, 0);
	assert_int_equal(f->nfeed, 1);
	assert_int_equal(f->nel, 1);
	assert_int_equal(f->el[0].port, 6379);
	assert_int_equal(f->el[0].family, AF_INET);
	assert_int_equal(f->el[0].addr[3], 216);
	assert_true(f->el[0].timeout_ms >= 30000);
	f->fcb(f->fcbarg, 0);
	assert_int_equal(f->nreply, 1);
	assert_int_equal(rcode_of(f), DNS_R_NOERROR);
	assert_int_equal(dns_get16(f->reply + 6), 1);

	/* from the cache, fed again; a refusal withholds the answer */
	ask(f, 2, "cache.internal", DNS_T_A);
	assert_int_equal(f->nresolve, 1);
	assert_int_equal(f->nfeed, 2);
	assert_int_equal(f->nreply, 0);
	f->fcb(f->fcbarg, -110);
	assert_int_equal(f->nreply, 1);
	assert_int_equal(rcode_of(f), DNS_R_SERVFAIL);
	assert_int_equal(dns_get16(f->reply + 6), 0);
}

static void
test_query_truncation(void **st)
{
	struct fake *f = *st;
	const char *rrs[40];
	char buf[40][64];
	uint8_t q[512];
	size_t n;

	for (int i = 0; i < 39; i++) {
		snprintf(buf[i], sizeof(buf[i]),
		    "api.example.com. 300 IN AAAA 2001:db8:%x::1", i + 1);
		rrs[i] = buf[i];
	}
	rrs[39] = NULL;
	/* 2001:db8::/32 is documentation space, not in the deny list */
	n = mkquery(q, 9, "api.example.com", DNS_T_AAAA, 0);
	f->nreply = 0;
	dquery_handle(f->d, q, n, &test_src, fake_reply, f);
	assert_int_equal(answer(f, 0, rrs), 0);
	assert_true(dns_get16(f->reply + 2) & DNS_F_TC);
	assert_int_equal(dns_get16(f->reply + 6), 0);
	/* over TCP the whole answer */
	{
		struct dquery_src tcp = test_src;

		tcp.tcp = true;
		dquery_handle(f->d, q, n, &tcp, fake_reply, f);
		assert_false(dns_get16(f->reply + 2) & DNS_F_TC);
		assert_int_equal(dns_get16(f->reply + 6), 39);
	}
	/* from the cache over UDP: truncated again, id and question kept */
	n = mkquery(q, 10, "api.example.com", DNS_T_AAAA, 600);
	dquery_handle(f->d, q, n, &test_src, fake_reply, f);
	assert_int_equal(f->d->st.cache_hits, 2);
	assert_true(dns_get16(f->reply + 2) & DNS_F_TC);
	assert_int_equal(dns_get16(f->reply), 10);
	assert_int_equal(dns_get16(f->reply + 4), 1);
	assert_int_equal(dns_get16(f->reply + 6), 0);
	assert_true(f->replylen <= 600);
}

static void
test_query_no_upstream(void **st)
{
	struct fake *f = *st;

	f->up_refuse = true;
	ask(f, 1, "api.example.com", DNS_T_A);
	assert_int_equal(rcode_of(f), DNS_R_SERVFAIL);
}

/* What dohd_reload() does: flush the cache, then swap in the policy. */
static void
reload(struct fake *f, const char *c)
{
	fake_reload(f, c, 0);
}

static const char conf_narrow[] =
    "[jail]\n"
    "interface = br0\n"
    "[chain]\n"
    "hop = http://10.20.0.2:3128\n"
    "[dohd]\n"
    "upstream = https://dns.example/dns-query 192.0.2.53\n"
    "rate_limit = 0\n"
    "[policy]\n"
    "allow = target.example.net\n";

/*
 * A hit is served from the entry with the decision stored beside it, the
 * client's id and case, aged TTLs; an answer to a question asked before a
 * reload is served to that client but never cached, so the new policy
 * decides the next question.
 */
static void
test_query_hit_and_reload(void **st)
{
	struct fake *f = *st;
	const char *rrs[] = { "api.example.com. 300 IN A 93.184.216.34", NULL };
	const char *rrs2[] = { "target.example.net. 60 IN A 93.184.216.35",
	    NULL };
	struct eg_ip ip[4];
	uint32_t maxttl;

	ask(f, 1, "api.example.com", DNS_T_A);
	assert_int_equal(answer(f, 0, rrs), 0);
	fake_clock += 10000;
	ask(f, 0xbeef, "aPi.ExAmPlE.cOm", DNS_T_A);
	assert_int_equal(f->nresolve, 1);
	assert_int_equal(f->nreply, 1);
	assert_int_equal(dns_get16(f->reply), 0xbeef);
	assert_memory_equal(f->reply + 13, "aPi", 3);
	assert_memory_equal(f->reply + 17, "ExAmPlE", 7);
	assert_int_equal(dns_answer_addrs(f->reply, f->replylen, ip, 4,
	    &maxttl), 1);
	assert_int_equal(maxttl, 290);
	assert_int_equal(f->d->st.allowed, 2);
	assert_int_equal(f->d->st.cache_hits, 1);

	/* asked before the reload, answered after it */
	ask(f, 2, "target.example.net", DNS_T_A);
	assert_int_equal(f->nresolve, 2);
	reload(f, conf_narrow);
	assert_int_equal(answer(f, 0, rrs2), 0);
	assert_int_equal(f->nreply, 1);
	assert_int_equal(rcode_of(f), DNS_R_NOERROR);
	/* not cached: the question goes upstream again */
	ask(f, 3, "target.example.net", DNS_T_A);
	assert_int_equal(f->nresolve, 3);
	assert_int_equal(answer(f, 0, rrs2), 0);
	/* the old cache is gone and the new policy denies */
	ask(f, 4, "api.example.com", DNS_T_A);
	assert_int_equal(f->nresolve, 3);
	assert_int_equal(rcode_of(f), DNS_R_NXDOMAIN);

	/* a question the old policy denied, asked again after a reload to
	 * a policy that also denies it: still no upstream */
	reload(f, conf);
	ask(f, 5, "evil.example", DNS_T_A);
	assert_int_equal(rcode_of(f), DNS_R_NXDOMAIN);
	assert_int_equal(f->nresolve, 3);
}

static const char conf_other[] =
    "[jail]\n"
    "interface = br0\n"
    "[chain]\n"
    "hop = http://10.20.0.2:3128\n"
    "[dohd]\n"
    "upstream = https://dns.example/dns-query 192.0.2.53\n"
    "rate_limit = 0\n"
    "[policy]\n"
    "allow = other.example\n";

/*
 * A denial is remembered for the epoch: asked again it gets the same
 * rcode without the policy; a reload forgets it; a flood of denied names
 * never pushes an answer out of the cache.
 */
static void
test_query_denied_memo(void **st)
{
	struct fake *f = *st;
	const char *rrs[] = { "api.example.com. 300 IN A 93.184.216.34", NULL };
	char name[64];

	ask(f, 1, "api.example.com", DNS_T_A);
	assert_int_equal(answer(f, 0, rrs), 0);
	for (int i = 0; i < 2; i++) {
		ask(f, 2, "Other.Example", DNS_T_A);
		assert_int_equal(f->nreply, 1);
		assert_int_equal(rcode_of(f), DNS_R_NXDOMAIN);
		assert_memory_equal(f->reply + 13, "Other", 5);
		ask(f, 3, "api.example.com", DNS_T_TXT);	/* type denied */
		assert_int_equal(rcode_of(f), DNS_R_REFUSED);
	}
	assert_int_equal(f->d->st.denied, 4);
	assert_int_equal(f->nresolve, 1);
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "n%d.flood.example", i);
		ask(f, 4, name, DNS_T_A);
		assert_int_equal(rcode_of(f), DNS_R_NXDOMAIN);
	}
	ask(f, 5, "api.example.com", DNS_T_A);
	assert_int_equal(rcode_of(f), DNS_R_NOERROR);
	assert_int_equal(f->d->st.cache_hits, 1);
	assert_int_equal(f->nresolve, 1);

	/* remembered again (the flood may have taken its slot), then a
	 * reload to a policy that allows it */
	ask(f, 6, "other.example", DNS_T_A);
	assert_int_equal(rcode_of(f), DNS_R_NXDOMAIN);
	reload(f, conf_other);
	ask(f, 7, "other.example", DNS_T_A);
	assert_int_equal(f->nresolve, 2);
	assert_int_equal(f->nreply, 0);
}

static const char conf_report[] =
    "[jail]\n"
    "interface = br0\n"
    "[chain]\n"
    "hop = http://10.20.0.2:3128\n"
    "[dohd]\n"
    "upstream = https://dns.example/dns-query 192.0.2.53\n"
    "deny_rcode = refused\n"
    "rate_limit = 2\n"
    "[policy]\n"
    "mode = %s\n"
    "allow = api.example.com\n";

static void
test_query_refused_and_rate(void **st)
{
	char c[sizeof(conf_report) + 16];
	struct fake *f;

	snprintf(c, sizeof(c), conf_report, "enforce");
	f = fake_new(c);
	ask(f, 1, "evil.example", DNS_T_A);
	assert_int_equal(rcode_of(f), DNS_R_REFUSED);
	ask(f, 1, "evil.example", DNS_T_A);
	assert_int_equal(rcode_of(f), DNS_R_REFUSED);
	/* third in the same second: over 2/s, UDP is dropped */
	ask(f, 1, "evil.example", DNS_T_A);
	assert_true(f->dropped);
	fake_clock += 1000;
	ask(f, 1, "evil.example", DNS_T_A);
	assert_false(f->dropped);
	fake_free(f);
}

static void
test_query_report(void **st)
{
	char c[sizeof(conf_report) + 16];
	struct fake *f;

	snprintf(c, sizeof(c), conf_report, "report");
	f = fake_new(c);
	ask(f, 1, "evil.example", DNS_T_A);
	assert_int_equal(f->nresolve, 1);	/* logged, and answered */
	assert_int_equal(f->d->st.reported, 1);
	{
		const char *rrs[] = { "evil.example. 300 IN A 93.184.216.36",
		    NULL };

		assert_int_equal(answer(f, 0, rrs), 0);
	}
	/* a hit is still a reported decision, not an allowed one */
	ask(f, 2, "evil.example", DNS_T_A);
	assert_int_equal(f->nresolve, 1);
	assert_int_equal(rcode_of(f), DNS_R_NOERROR);
	assert_int_equal(f->d->st.reported, 2);
	assert_int_equal(f->d->st.allowed, 0);
	fake_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = TEST_LIST(QUERY_TESTS);

	eg_log_init("dohd-test", EG_LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
