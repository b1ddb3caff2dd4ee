/*
 * local.c - answers from the operator's own data: a hosts file and a zone
 * file, both read with ldns.  Local data never leaves the host, so it is
 * answered before the allowlist and the upstreams (dohd.8 says so).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "dohd.h"

#define DLOCAL_MAX_RRS 200000	/* a bigger file is a mistake, not data */

struct dlocal {
	ldns_rr_list *rrs;
	ldns_rr *soa;		/* of the zone file, NULL without one */
	ldns_rdf *origin;	/* owner of the SOA */
};

void
dlocal_free(struct dlocal *l)
{
	if (l == NULL)
		return;
	if (l->rrs != NULL)
		ldns_rr_list_deep_free(l->rrs);
	if (l->soa != NULL)
		ldns_rr_free(l->soa);
	free(l);
}

size_t
dlocal_count(const struct dlocal *l)
{
	return l == NULL || l->rrs == NULL ? 0 : ldns_rr_list_rr_count(l->rrs);
}

static bool
take(struct dlocal *l, ldns_rr *rr)
{
	if (ldns_rr_list_rr_count(l->rrs) >= DLOCAL_MAX_RRS)
		return false;
	return ldns_rr_list_push_rr(l->rrs, rr);
}

struct dlocal *
dlocal_load(const char *hosts_file, const char *zone_file, char *err,
    size_t errlen)
{
	struct dlocal *l;
	ldns_rr_list *h;
	ldns_zone *z = NULL;
	FILE *fp = NULL;
	int line = 0;

	if ((l = calloc(1, sizeof(*l))) == NULL ||
	    (l->rrs = ldns_rr_list_new()) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (hosts_file != NULL) {
		if ((fp = fopen(hosts_file, "r")) == NULL) {
			snprintf(err, errlen, "%s: %s", hosts_file,
			    strerror(errno));
			goto fail;
		}
		fclose(fp);
		fp = NULL;
		/* ldns takes a non-const name but does not write to it. */
		h = ldns_get_rr_list_hosts_frm_file((char *)hosts_file);
		if (h == NULL) {
			snprintf(err, errlen, "%s: cannot parse", hosts_file);
			goto fail;
		}
		while (ldns_rr_list_rr_count(h) > 0) {
			ldns_rr *rr = ldns_rr_list_pop_rr(h);

			if (!take(l, rr)) {
				ldns_rr_free(rr);
				ldns_rr_list_deep_free(h);
				snprintf(err, errlen, "%s: too many records",
				    hosts_file);
				goto fail;
			}
		}
		ldns_rr_list_free(h);
	}
	if (zone_file != NULL) {
		ldns_status st;

		if ((fp = fopen(zone_file, "r")) == NULL) {
			snprintf(err, errlen, "%s: %s", zone_file,
			    strerror(errno));
			goto fail;
		}
		st = ldns_zone_new_frm_fp_l(&z, fp, NULL, 3600,
		    LDNS_RR_CLASS_IN, &line);
		fclose(fp);
		fp = NULL;
		if (st != LDNS_STATUS_OK) {
			snprintf(err, errlen, "%s:%d: %s", zone_file, line,
			    ldns_get_errorstr_by_id(st));
			goto fail;
		}
		if (ldns_zone_soa(z) != NULL) {
			l->soa = ldns_rr_clone(ldns_zone_soa(z));
			if (l->soa == NULL)
				goto fail;
			l->origin = ldns_rr_owner(l->soa);
		}
		while (ldns_rr_list_rr_count(ldns_zone_rrs(z)) > 0) {
			ldns_rr *rr = ldns_rr_list_pop_rr(ldns_zone_rrs(z));

			if (!take(l, rr)) {
				ldns_rr_free(rr);
				snprintf(err, errlen, "%s: too many records",
				    zone_file);
				goto fail;
			}
		}
		ldns_zone_deep_free(z);
		z = NULL;
	}
	return l;
 fail:
	if (z != NULL)
		ldns_zone_deep_free(z);
	dlocal_free(l);
	return NULL;
}

static ldns_rr *
renamed(const ldns_rr *rr, const uint8_t *qname, size_t qname_len,
    uint32_t max_ttl)
{
	ldns_rr *c;
	ldns_rdf *o;

	if ((c = ldns_rr_clone(rr)) == NULL)
		return NULL;
	if ((o = ldns_dname_new_frm_data((uint16_t)qname_len, qname)) == NULL) {
		ldns_rr_free(c);
		return NULL;
	}
	ldns_rdf_deep_free(ldns_rr_owner(c));
	ldns_rr_set_owner(c, o);
	if (ldns_rr_ttl(c) > max_ttl)
		ldns_rr_set_ttl(c, max_ttl);
	return c;
}

int
dlocal_answer(const struct dlocal *l, const uint8_t *lookup,
    size_t lookup_len, const uint8_t *qname, size_t qname_len,
    uint16_t qtype, uint32_t max_ttl, uint8_t **wire, size_t *len)
{
	ldns_rdf *name = NULL;
	ldns_pkt *p = NULL;
	ldns_rr *q = NULL;
	bool exists = false, inzone = false;
	int ret = -1;

	*wire = NULL;
	*len = 0;
	if (l == NULL || l->rrs == NULL)
		return 0;
	if ((name = ldns_dname_new_frm_data((uint16_t)lookup_len, lookup)) ==
	    NULL)
		return -1;
	for (size_t i = 0; i < ldns_rr_list_rr_count(l->rrs); i++)
		if (ldns_dname_compare(ldns_rr_owner(ldns_rr_list_rr(l->rrs,
		    i)), name) == 0) {
			exists = true;
			break;
		}
	if (l->origin != NULL && (ldns_dname_compare(name, l->origin) == 0 ||
	    ldns_dname_is_subdomain(name, l->origin)))
		inzone = true;
	if (!exists && !inzone) {
		ret = 0;
		goto out;
	}

	if ((p = ldns_pkt_new()) == NULL)
		goto out;
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_aa(p, true);
	ldns_pkt_set_rd(p, true);
	ldns_pkt_set_ra(p, true);
	if ((q = ldns_rr_new()) == NULL)
		goto out;
	ldns_rr_set_question(q, true);
	ldns_rr_set_type(q, qtype);
	ldns_rr_set_class(q, LDNS_RR_CLASS_IN);
	ldns_rr_set_owner(q, ldns_dname_new_frm_data((uint16_t)qname_len,
	    qname));
	if (ldns_rr_owner(q) == NULL) {
		ldns_rr_free(q);
		goto out;
	}
	ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, q);

	for (size_t i = 0; exists && i < ldns_rr_list_rr_count(l->rrs); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(l->rrs, i);
		uint16_t t = ldns_rr_get_type(rr);
		ldns_rr *c;

		if (ldns_dname_compare(ldns_rr_owner(rr), name) != 0)
			continue;
		if (t != qtype && t != DNS_T_CNAME)
			continue;
		if ((c = renamed(rr, qname, qname_len, max_ttl)) == NULL)
			goto out;
		ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, c);
	}
	ldns_pkt_set_rcode(p, exists ? DNS_R_NOERROR : DNS_R_NXDOMAIN);
	if (ldns_pkt_ancount(p) == 0 && l->soa != NULL && inzone) {
		ldns_rr *s = ldns_rr_clone(l->soa);

		if (s == NULL)
			goto out;
		if (ldns_rr_ttl(s) > max_ttl)
			ldns_rr_set_ttl(s, max_ttl);
		ldns_pkt_push_rr(p, LDNS_SECTION_AUTHORITY, s);
	}
	if (ldns_pkt2wire(wire, p, len) != LDNS_STATUS_OK) {
		free(*wire);
		*wire = NULL;
		goto out;
	}
	ret = 1;
 out:
	ldns_rdf_deep_free(name);
	if (p != NULL)
		ldns_pkt_free(p);
	return ret;
}
