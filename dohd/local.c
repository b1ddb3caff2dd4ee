/*
 * local.c - answers from the operator's own data: a hosts file and a zone
 * file, both read with ldns.  Local data never leaves the host, so it is
 * answered before the allowlist and the upstreams (dohd.8 says so).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "dohd.h"

#define DLOCAL_MAX_RRS 200000	/* a bigger file is a mistake, not data */
#define DLOCAL_DEFAULT_TTL 3600	/* a zone file's records without a TTL */

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

/* Move every record of list into l; false when l would grow too big. */
static bool
take_all(struct dlocal *l, ldns_rr_list *list)
{
	while (ldns_rr_list_rr_count(list) > 0) {
		ldns_rr *rr = ldns_rr_list_pop_rr(list);

		if (!take(l, rr)) {
			ldns_rr_free(rr);
			return false;
		}
	}
	return true;
}

/*
 * A hosts file (path names it in errors) into l.  Read line by line here,
 * not with ldns_get_rr_list_hosts_frm_fp: that one skips a line it cannot
 * read without a word, and cuts a line longer than its buffer so the rest
 * of it swallows the next line (ldns 1.8.3).  A hosts file is the
 * operator's data: a line that does not parse is a mistake to report with
 * its line number, and the file is refused as a config error is.  Each
 * record is still made by ldns, from the text its own reader makes
 * ("NAME IN A ADDR"), so the records are what they were.
 */
#define DLOCAL_HOSTS_LINE_MAX 4096

static int
hosts_line(struct dlocal *l, char *line, const char *path, int lnum,
    char *err, size_t errlen)
{
	char *save = NULL, *addr, *name, rrtext[DLOCAL_HOSTS_LINE_MAX + 32];
	unsigned char bin[sizeof(struct in6_addr)];
	const char *type;
	ldns_rr *rr;
	int n = 0;

	line[strcspn(line, "#")] = '\0';
	if ((addr = strtok_r(line, " \t\r\n", &save)) == NULL)
		return 0;			/* blank or comment */
	if (inet_pton(AF_INET, addr, bin) == 1)
		type = "A";
	else if (inet_pton(AF_INET6, addr, bin) == 1)
		type = "AAAA";
	else {
		snprintf(err, errlen, "%s:%d: \"%.64s\" is not an IPv4 or "
		    "IPv6 address", path, lnum, addr);
		return -1;
	}
	while ((name = strtok_r(NULL, " \t\r\n", &save)) != NULL) {
		rr = NULL;
		snprintf(rrtext, sizeof(rrtext), "%s IN %s %s", name, type,
		    addr);
		if (ldns_rr_new_frm_str(&rr, rrtext, 0, NULL, NULL) !=
		    LDNS_STATUS_OK || ldns_rr_owner(rr) == NULL ||
		    ldns_rr_rd_count(rr) == 0) {
			ldns_rr_free(rr);
			snprintf(err, errlen, "%s:%d: \"%.64s\" is not a host "
			    "name", path, lnum, name);
			return -1;
		}
		if (!take(l, rr)) {
			ldns_rr_free(rr);
			snprintf(err, errlen, "%s: too many records", path);
			return -1;
		}
		n++;
	}
	if (n == 0) {
		snprintf(err, errlen, "%s:%d: address %s names no host", path,
		    lnum, addr);
		return -1;
	}
	return 0;
}

/*
 * One line of fp into buf (no newline, NUL-terminated): 1 read, 0 at the
 * end, -1 with err set for a line over DLOCAL_HOSTS_LINE_MAX bytes or
 * with a NUL byte (which would silently end the line's text early).
 */
static int
hosts_getline(FILE *fp, char *buf, const char *path, int lnum, char *err,
    size_t errlen)
{
	size_t len = 0;
	int c;

	while ((c = getc(fp)) != EOF && c != '\n') {
		if (c == '\0') {
			snprintf(err, errlen, "%s:%d: NUL byte", path, lnum);
			return -1;
		}
		if (len == DLOCAL_HOSTS_LINE_MAX) {
			snprintf(err, errlen, "%s:%d: line longer than %d "
			    "bytes", path, lnum, DLOCAL_HOSTS_LINE_MAX);
			return -1;
		}
		buf[len++] = (char)c;
	}
	buf[len] = '\0';
	if (c == EOF && ferror(fp)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return c == EOF && len == 0 ? 0 : 1;
}

static int
read_hosts(struct dlocal *l, FILE *fp, const char *path, char *err,
    size_t errlen)
{
	char line[DLOCAL_HOSTS_LINE_MAX + 1];
	int lnum, r;

	for (lnum = 1; (r = hosts_getline(fp, line, path, lnum, err,
	    errlen)) > 0; lnum++)
		if (hosts_line(l, line, path, lnum, err, errlen) < 0)
			return -1;
	return r;
}

/*
 * ldns_zone_new_frm_fp_l frees only the list, not the records, when a line
 * does not parse (ldns 1.8.3): everything read before the bad line would
 * leak, once per refused load or reload.  So the file is first read record
 * by record as that function reads it (the same reader, $ORIGIN, the first
 * SOA's owner as the origin when none was set) for the first error and its
 * line, and handed to ldns only when it has none.
 */
static ldns_status
zone_check(FILE *fp, int *line)
{
	ldns_rdf *origin = NULL, *prev = NULL;
	ldns_status st = LDNS_STATUS_OK, s;
	uint32_t ttl = DLOCAL_DEFAULT_TTL;
	bool soa = false;
	ldns_rr *rr;

	while (st == LDNS_STATUS_OK && !feof(fp)) {
		s = ldns_rr_new_frm_fp_l(&rr, fp, &ttl, &origin, &prev, line);
		switch (s) {
		case LDNS_STATUS_OK:
			if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA && !soa) {
				soa = true;
				if (origin == NULL && (origin =
				    ldns_rdf_clone(ldns_rr_owner(rr))) == NULL)
					st = LDNS_STATUS_MEM_ERR;
			}
			ldns_rr_free(rr);
			break;
		case LDNS_STATUS_SYNTAX_EMPTY:
		case LDNS_STATUS_SYNTAX_TTL:
		case LDNS_STATUS_SYNTAX_ORIGIN:
			break;
		case LDNS_STATUS_SYNTAX_INCLUDE:
			st = LDNS_STATUS_SYNTAX_INCLUDE_ERR_NOTIMPL;
			break;
		default:
			st = s;
			break;
		}
	}
	if (origin != NULL)
		ldns_rdf_deep_free(origin);
	if (prev != NULL)
		ldns_rdf_deep_free(prev);
	return st;
}

/* A zone file into l; its SOA, if any, makes the names under its owner
 * local (NXDOMAIN, NODATA). */
static int
read_zone(struct dlocal *l, FILE *fp, const char *path, char *err,
    size_t errlen)
{
	ldns_zone *z = NULL;
	ldns_status st;
	int line = 0, ret = -1;

	st = zone_check(fp, &line);
	if (st == LDNS_STATUS_OK) {
		rewind(fp);
		line = 0;
		st = ldns_zone_new_frm_fp_l(&z, fp, NULL, DLOCAL_DEFAULT_TTL,
		    LDNS_RR_CLASS_IN, &line);
	}
	if (st != LDNS_STATUS_OK) {
		snprintf(err, errlen, "%s:%d: %s", path, line,
		    ldns_get_errorstr_by_id(st));
		goto out;
	}
	if (ldns_zone_soa(z) != NULL) {
		if ((l->soa = ldns_rr_clone(ldns_zone_soa(z))) == NULL) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		l->origin = ldns_rr_owner(l->soa);
	}
	if (!take_all(l, ldns_zone_rrs(z))) {
		snprintf(err, errlen, "%s: too many records", path);
		goto out;
	}
	ret = 0;
 out:
	if (z != NULL)
		ldns_zone_deep_free(z);
	return ret;
}

/* Open path and read it with fn. */
static int
read_file(struct dlocal *l, const char *path,
    int (*fn)(struct dlocal *, FILE *, const char *, char *, size_t),
    char *err, size_t errlen)
{
	FILE *fp;
	int r;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	r = fn(l, fp, path, err, errlen);
	fclose(fp);
	return r;
}

struct dlocal *
dlocal_load(const char *hosts_file, const char *zone_file, char *err,
    size_t errlen)
{
	struct dlocal *l;

	if ((l = calloc(1, sizeof(*l))) == NULL ||
	    (l->rrs = ldns_rr_list_new()) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (hosts_file != NULL &&
	    read_file(l, hosts_file, read_hosts, err, errlen) < 0)
		goto fail;
	if (zone_file != NULL &&
	    read_file(l, zone_file, read_zone, err, errlen) < 0)
		goto fail;
	return l;
 fail:
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

/* Is name the owner of a record in l? */
static bool
has_owner(const struct dlocal *l, const ldns_rdf *name)
{
	for (size_t i = 0; i < ldns_rr_list_rr_count(l->rrs); i++)
		if (ldns_dname_compare(ldns_rr_owner(ldns_rr_list_rr(l->rrs,
		    i)), name) == 0)
			return true;
	return false;
}

/* Is name at or under the zone file's origin? */
static bool
in_zone(const struct dlocal *l, const ldns_rdf *name)
{
	return l->origin != NULL && (ldns_dname_compare(name, l->origin) == 0 ||
	    ldns_dname_is_subdomain(name, l->origin));
}

/* An authoritative response carrying only the question. */
static ldns_pkt *
new_reply(const uint8_t *qname, size_t qname_len, uint16_t qtype)
{
	ldns_pkt *p;
	ldns_rr *q;

	if ((p = ldns_pkt_new()) == NULL)
		return NULL;
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_aa(p, true);
	ldns_pkt_set_rd(p, true);
	ldns_pkt_set_ra(p, true);
	if ((q = ldns_rr_new()) == NULL)
		goto fail;
	ldns_rr_set_question(q, true);
	ldns_rr_set_type(q, qtype);
	ldns_rr_set_class(q, LDNS_RR_CLASS_IN);
	ldns_rr_set_owner(q, ldns_dname_new_frm_data((uint16_t)qname_len,
	    qname));
	if (ldns_rr_owner(q) == NULL) {
		ldns_rr_free(q);
		goto fail;
	}
	ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, q);
	return p;
 fail:
	ldns_pkt_free(p);
	return NULL;
}

/* The records of name for qtype, and its CNAME, as records of qname. */
static int
add_answers(ldns_pkt *p, const struct dlocal *l, const ldns_rdf *name,
    uint16_t qtype, const uint8_t *qname, size_t qname_len, uint32_t max_ttl)
{
	for (size_t i = 0; i < ldns_rr_list_rr_count(l->rrs); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(l->rrs, i);
		uint16_t t = ldns_rr_get_type(rr);
		ldns_rr *c;

		if (ldns_dname_compare(ldns_rr_owner(rr), name) != 0)
			continue;
		if (t != qtype && t != DNS_T_CNAME)
			continue;
		if ((c = renamed(rr, qname, qname_len, max_ttl)) == NULL)
			return -1;
		ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, c);
	}
	return 0;
}

/* The zone's SOA in the authority section, for negative caching. */
static int
add_soa(ldns_pkt *p, const ldns_rr *soa, uint32_t max_ttl)
{
	ldns_rr *s;

	if ((s = ldns_rr_clone(soa)) == NULL)
		return -1;
	if (ldns_rr_ttl(s) > max_ttl)
		ldns_rr_set_ttl(s, max_ttl);
	ldns_pkt_push_rr(p, LDNS_SECTION_AUTHORITY, s);
	return 0;
}

int
dlocal_answer(const struct dlocal *l, const uint8_t *lookup,
    size_t lookup_len, const uint8_t *qname, size_t qname_len,
    uint16_t qtype, uint32_t max_ttl, uint8_t **wire, size_t *len)
{
	ldns_rdf *name;
	ldns_pkt *p = NULL;
	bool exists, inzone;
	int ret = -1;

	*wire = NULL;
	*len = 0;
	if (l == NULL || l->rrs == NULL)
		return 0;
	if ((name = ldns_dname_new_frm_data((uint16_t)lookup_len, lookup)) ==
	    NULL)
		return -1;
	exists = has_owner(l, name);
	inzone = in_zone(l, name);
	if (!exists && !inzone) {
		ret = 0;
		goto out;
	}
	if ((p = new_reply(qname, qname_len, qtype)) == NULL)
		goto out;
	if (exists && add_answers(p, l, name, qtype, qname, qname_len,
	    max_ttl) < 0)
		goto out;
	ldns_pkt_set_rcode(p, exists ? DNS_R_NOERROR : DNS_R_NXDOMAIN);
	if (ldns_pkt_ancount(p) == 0 && l->soa != NULL && inzone &&
	    add_soa(p, l->soa, max_ttl) < 0)
		goto out;
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
