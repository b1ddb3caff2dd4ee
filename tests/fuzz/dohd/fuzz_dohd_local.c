/*
 * fuzz_dohd_local.c - dohd's local data: a hosts file or a zone file (the
 * first input byte says which, the max_ttl and the type asked), read as
 * dlocal_load reads it, then answered for the first names it holds, its
 * origin, a name under the origin and one outside.  A file either loads
 * or is refused with a message naming it; every answer is one well-formed
 * authoritative message for the question asked, no TTL above max_ttl.
 */
#include <assert.h>
#include <stdio.h>

#include "local.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint16_t qtypes[] = { DNS_T_A, DNS_T_AAAA, DNS_T_CNAME,
    DNS_T_TXT, 15 /* MX */ };
static const uint32_t max_ttls[] = { 0, 60, 3600, 86400 };

static void
check_answer(const uint8_t *w, size_t len, const uint8_t *qname,
    size_t qname_len, uint32_t max_ttl)
{
	struct dns_walk dw;
	uint16_t flags;
	unsigned total = 0;

	assert(w != NULL && len >= DNS_HDR_LEN + qname_len + 4);
	flags = dns_get16(w + 2);
	assert((flags & DNS_F_QR) && (flags & DNS_F_AA));
	assert(DNS_RCODE(flags) == DNS_R_NOERROR ||
	    DNS_RCODE(flags) == DNS_R_NXDOMAIN);
	assert(dns_get16(w + 4) == 1);
	assert(memcmp(w + DNS_HDR_LEN, qname, qname_len) == 0);
	for (int s = 0; s < 4; s++)
		total += dns_get16(w + 4 + 2 * s);
	/* More records than a message dohd serves may hold: the query path
	 * answers SERVFAIL (dns_walk refuses it), nothing to check here. */
	if (total > DNS_MAX_RRS)
		return;
	assert(dns_walk(w, len, &dw) == 0);
	for (size_t i = 0; i < dw.nttl; i++)
		assert(dns_get32(w + dw.ttl_off[i]) <= max_ttl);
}

static void
ask(const struct dlocal *l, const ldns_rdf *name, uint16_t qtype,
    uint32_t max_ttl)
{
	static const uint8_t single[] = "\001q";
	uint8_t *w;
	size_t len;
	int r;

	if (name == NULL || ldns_rdf_get_type(name) != LDNS_RDF_TYPE_DNAME)
		return;
	r = dlocal_answer(l, ldns_rdf_data(name), ldns_rdf_size(name),
	    ldns_rdf_data(name), ldns_rdf_size(name), qtype, max_ttl, &w,
	    &len);
	assert(r >= -1 && r <= 1);
	if (r == 1)
		check_answer(w, len, ldns_rdf_data(name), ldns_rdf_size(name),
		    max_ttl);
	else
		assert(w == NULL);
	free(w);
	/* A single label answered from a name under a search domain. */
	r = dlocal_answer(l, ldns_rdf_data(name), ldns_rdf_size(name),
	    single, sizeof(single), qtype, max_ttl, &w, &len);
	if (r == 1)
		check_answer(w, len, single, sizeof(single), max_ttl);
	free(w);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dlocal *l;
	ldns_rdf *under = NULL, *outside;
	char err[512];
	uint32_t max_ttl;
	uint16_t qtype;
	FILE *fp;
	int r;

	if (size < 2)
		return 0;
	max_ttl = max_ttls[(data[0] >> 1) & 3];
	qtype = qtypes[(data[0] >> 3) % (sizeof(qtypes) / sizeof(qtypes[0]))];
	if ((fp = fmemopen((void *)(uintptr_t)(data + 1), size - 1, "r")) ==
	    NULL)
		return 0;
	l = calloc(1, sizeof(*l));
	assert(l != NULL && (l->rrs = ldns_rr_list_new()) != NULL);
	err[0] = '\0';
	r = (data[0] & 1) ? read_zone(l, fp, "fuzz", err, sizeof(err)) :
	    read_hosts(l, fp, "fuzz", err, sizeof(err));
	fclose(fp);
	if (r < 0) {
		assert(strncmp(err, "fuzz", 4) == 0 ||
		    strcmp(err, "out of memory") == 0);
		dlocal_free(l);
		return 0;
	}
	assert(r == 0 && dlocal_count(l) <= DLOCAL_MAX_RRS);
	outside = ldns_dname_new_frm_str("nothere.invalid.");
	if (l->origin != NULL)
		under = ldns_dname_cat_clone(outside, l->origin);
	for (size_t i = 0; i < dlocal_count(l) && i < 4; i++)
		ask(l, ldns_rr_owner(ldns_rr_list_rr(l->rrs, i)), qtype,
		    max_ttl);
	ask(l, l->origin, qtype, max_ttl);
	ask(l, under, qtype, max_ttl);
	ask(l, outside, qtype, max_ttl);
	ldns_rdf_deep_free(under);
	ldns_rdf_deep_free(outside);
	dlocal_free(l);
	return 0;
}
