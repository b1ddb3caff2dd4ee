/*
 * fuzz_dohd_response.c - what an upstream sends back: the HTTP head
 * checks and the answer filter over arbitrary bytes, for a fixed question
 * whose type comes from the first input byte.  Whatever passes the filter
 * must walk cleanly and hold only what may pass.
 */
#include <assert.h>

#include "doh.h"
#include "helpers.h"
#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fake *f;
	static const uint16_t types[] = { DNS_T_A, DNS_T_AAAA, DNS_T_CNAME,
	    DNS_T_HTTPS, DNS_T_TXT, DNS_T_MX };
	static const char *const names[] = { "a.example", "x.b.example",
	    "x.y.c.example", "cache.internal" };
	struct dns_query q;
	struct dfilter fl;
	uint8_t qw[512];
	size_t ql;
	struct dpolicy dp;
	const struct dquery_wl def = { .name = "" };

	if (f == NULL) {
		eg_log_init("fuzz", EG_LOG_ERR);
		f = fake_new(fuzz_conf);
	}
	if (size < 1)
		return 0;
	assert(dcore_policy(f->d, &def, &dp));
	(void)doh_status_ok(data, size > 8 ? 8 : size);
	(void)doh_ctype_ok(data, size > 40 ? 40 : size);
	ql = mkquery(qw, 1, names[(data[0] >> 4) % 4],
	    types[(data[0] & 0xf) % 6], 0);
	assert(dns_query_parse(qw, ql, &q) == DNS_PARSE_OK);
	if (dfilter_run(f->d, &dp, &q, (data[0] & 0x80) != 0, data + 1,
	    size - 1, &fl) == 0) {
		struct dns_walk w;
		struct eg_ip ips[DF_MAX_ADDRS];
		uint32_t t;
		int n;

		assert(dns_walk(fl.wire, fl.len, &w) == 0);
		assert(w.count[0] == 1 && w.count[3] == 0);
		n = dns_answer_addrs(fl.wire, fl.len, ips, DF_MAX_ADDRS, &t);
		assert(n >= 0);
		assert(t <= f->cfg->dohd.max_ttl);
		if (!(data[0] & 0x80) && strcmp(q.name, "cache.internal") != 0)
			for (int i = 0; i < n; i++)
				assert(eg_policy_check_addr(f->pol,
				    &ips[i]).verdict == EG_ALLOW);
		dfilter_clear(&fl);
	}
	return 0;
}
