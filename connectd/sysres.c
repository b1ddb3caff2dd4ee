/*
 * sysres.c - name resolution for connectd on its own (no [dohd] section:
 * an explicit-proxy sidecar with "exit = direct").  In the jail connectd
 * resolves through dohd only; without dohd it asks the host's resolver the
 * way the stub resolver would: the nameservers of /etc/resolv.conf, read
 * once at start (before Landlock hides /etc), one UDP query at a time, A
 * first and AAAA when there is no A.  ldns builds and parses the packets.
 * Every address still passes the deny list in chain.c before a dial.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <ldns/ldns.h>

#include "cd.h"
#include "sysres.h"

#define SR_MAX_NS	3		/* as glibc's MAXNS */
#define SR_MAX_ANSWER	4096

struct sysres {
	uv_loop_t *loop;
	struct sockaddr_storage ns[SR_MAX_NS];
	size_t nns;
};

struct srq {
	struct sysres *sr;
	uv_udp_t udp;			/* one socket, unconnected */
	uv_timer_t timer;
	int open;			/* handles still to close */
	char name[EG_NAME_MAX + 1];
	uint16_t qtype, id;
	size_t ns;			/* nameserver being asked */
	uint64_t per_try_ms;
	cd_resolve_cb cb;
	void *arg;
	bool done;
	uint8_t buf[SR_MAX_ANSWER];
};

/* "nameserver ADDR" lines, at most SR_MAX_NS; anything else is ignored. */
static void
read_resolv_conf(struct sysres *sr, const char *path)
{
	char line[256], addr[128];
	struct eg_ip ip;
	FILE *f;

	if ((f = fopen(path, "re")) == NULL)
		return;
	while (sr->nns < SR_MAX_NS && fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, " nameserver %127s", addr) != 1)
			continue;
		if (!eg_ip_parse(addr, &ip, true) || ip.scope != 0)
			continue;
		eg_ip_to_sockaddr(&ip, 53, &sr->ns[sr->nns++]);
	}
	fclose(f);
}

struct sysres *
sysres_new(uv_loop_t *loop, const char *resolv_conf)
{
	struct sysres *sr;
	struct eg_ip lo = { .family = AF_INET, .addr = { 127, 0, 0, 1 } };

	if ((sr = calloc(1, sizeof(*sr))) == NULL)
		return NULL;
	sr->loop = loop;
	read_resolv_conf(sr, resolv_conf);
	/* no nameserver line: the stub resolver asks the local host */
	if (sr->nns == 0)
		eg_ip_to_sockaddr(&lo, 53, &sr->ns[sr->nns++]);
	return sr;
}

void
sysres_free(struct sysres *sr)
{
	free(sr);
}

size_t
sysres_nameservers(const struct sysres *sr)
{
	return sr->nns;
}

static void
on_closed(uv_handle_t *h)
{
	struct srq *q = h->data;

	if (--q->open == 0)
		free(q);
}

static void on_timeout(uv_timer_t *);

static void
finish(struct srq *q, int status, const struct eg_ip *a, size_t n,
    const char *why)
{
	if (q->done)
		return;
	q->done = true;
	uv_udp_recv_stop(&q->udp);
	uv_timer_stop(&q->timer);
	q->cb(status, a, n, why, q->arg);
	uv_close((uv_handle_t *)&q->udp, on_closed);
	uv_close((uv_handle_t *)&q->timer, on_closed);
}

static int
send_query(struct srq *q)
{
	const struct sockaddr *ns = (const struct sockaddr *)&q->sr->ns[q->ns];
	ldns_pkt *p = NULL;
	uint8_t *wire = NULL;
	size_t len;
	uv_buf_t b;
	int rc = -1;

	/* a fresh id per packet: an answer to an earlier one is not ours */
	if (getrandom(&q->id, sizeof(q->id), 0) != sizeof(q->id))
		return -1;
	if (ldns_pkt_query_new_frm_str(&p, q->name, q->qtype, LDNS_RR_CLASS_IN,
	    LDNS_RD) != LDNS_STATUS_OK)
		return -1;
	ldns_pkt_set_id(p, q->id);
	if (ldns_pkt2wire(&wire, p, &len) == LDNS_STATUS_OK) {
		b = uv_buf_init((char *)wire, (unsigned)len);
		if (uv_udp_try_send(&q->udp, &b, 1, ns) == (int)len)
			rc = 0;
	}
	free(wire);
	ldns_pkt_free(p);
	if (rc == 0)
		uv_timer_start(&q->timer, on_timeout, q->per_try_ms, 0);
	return rc;
}


/*
 * One answer for our question, or -1 (not ours: keep waiting).  Fills a
 * with the answer section's records of the asked type, whatever their
 * owner: the recursive resolver followed any CNAME for us.
 */
int
sysres_parse(const uint8_t *buf, size_t len, uint16_t id, const char *name,
    uint16_t qtype, struct eg_ip *a, size_t max, size_t *n, int *rcode)
{
	ldns_rr *qr = NULL, *rr = NULL;
	ldns_rdf *want = NULL, *rd;
	size_t pos = LDNS_HEADER_SIZE, i, an;
	int rc = -1;

	/*
	 * The header by hand and then only the question and the answers,
	 * one record at a time: ldns_wire2pkt leaks on some malformed
	 * additional sections (fuzz_sysres found it), and a reply is
	 * hostile input.  Authority and additional records are never read.
	 */
	*n = 0;
	if (len < LDNS_HEADER_SIZE || LDNS_ID_WIRE(buf) != id ||
	    !LDNS_QR_WIRE(buf) || LDNS_QDCOUNT(buf) != 1)
		return -1;
	if (ldns_wire2rr(&qr, buf, len, &pos, LDNS_SECTION_QUESTION) !=
	    LDNS_STATUS_OK)
		return -1;
	if (ldns_rr_get_type(qr) != qtype ||
	    ldns_str2rdf_dname(&want, name) != LDNS_STATUS_OK ||
	    ldns_dname_compare(ldns_rr_owner(qr), want) != 0)
		goto out;
	*rcode = LDNS_RCODE_WIRE(buf);
	an = LDNS_ANCOUNT(buf);
	for (i = 0; i < an && *n < max; i++) {
		if (ldns_wire2rr(&rr, buf, len, &pos, LDNS_SECTION_ANSWER) !=
		    LDNS_STATUS_OK)
			goto out;	/* a cut answer is no answer */
		if (ldns_rr_get_type(rr) == qtype &&
		    ldns_rr_get_class(rr) == LDNS_RR_CLASS_IN &&
		    (rd = ldns_rr_rdf(rr, 0)) != NULL &&
		    ldns_rdf_size(rd) == (qtype == LDNS_RR_TYPE_A ? 4u : 16u) &&
		    (qtype == LDNS_RR_TYPE_A || qtype == LDNS_RR_TYPE_AAAA)) {
			memset(&a[*n], 0, sizeof(a[*n]));
			a[*n].family = qtype == LDNS_RR_TYPE_A ? AF_INET :
			    AF_INET6;
			memcpy(a[*n].addr, ldns_rdf_data(rd), ldns_rdf_size(rd));
			(*n)++;
		}
		ldns_rr_free(rr);
		rr = NULL;
	}
	rc = 0;
out:
	if (rc != 0)
		*n = 0;
	ldns_rr_free(rr);
	ldns_rdf_deep_free(want);
	ldns_rr_free(qr);
	return rc;
}

static void
alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	struct srq *q = h->data;

	(void)suggested;
	*b = uv_buf_init((char *)q->buf, sizeof(q->buf));
}

/* Is from one of our nameservers (address and port)? */
static bool
from_nameserver(const struct sysres *sr, const struct sockaddr *from)
{
	struct eg_ip a, b;
	uint16_t pa, pb;
	size_t i;

	if (from == NULL || !eg_ip_from_sockaddr(from, &a, &pa))
		return false;
	for (i = 0; i < sr->nns; i++)
		if (eg_ip_from_sockaddr((const struct sockaddr *)&sr->ns[i],
		    &b, &pb) && pa == pb && eg_ip_equal(&a, &b))
			return true;
	return false;
}

static void
on_recv(uv_udp_t *u, ssize_t nread, const uv_buf_t *b,
    const struct sockaddr *from, unsigned flags)
{
	struct srq *q = u->data;
	struct eg_ip a[EG_RESOLVE_MAX_ADDRS];
	size_t n;
	int rcode;

	if (nread <= 0 || q->done || (flags & UV_UDP_PARTIAL) ||
	    !from_nameserver(q->sr, from))
		return;
	if (sysres_parse((const uint8_t *)b->base, (size_t)nread, q->id,
	    q->name, q->qtype, a, EG_RESOLVE_MAX_ADDRS, &n, &rcode) != 0)
		return;
	if (rcode != LDNS_RCODE_NOERROR) {
		finish(q, -1, NULL, 0, rcode == LDNS_RCODE_NXDOMAIN ?
		    "resolver: no such name" : "resolver: error answer");
		return;
	}
	if (n == 0 && q->qtype == LDNS_RR_TYPE_A) {
		/* no IPv4 address: ask for IPv6 before giving up */
		q->qtype = LDNS_RR_TYPE_AAAA;
		if (send_query(q) != 0)
			finish(q, -1, NULL, 0, "resolver: send failed");
		return;
	}
	finish(q, n ? 0 : -1, a, n, n ? NULL : "no address");
}

static void
on_timeout(uv_timer_t *t)
{
	struct srq *q = t->data;

	/* the next nameserver, as the stub resolver goes through them */
	if (++q->ns < q->sr->nns && send_query(q) == 0)
		return;
	finish(q, -1, NULL, 0, "resolver: timeout");
}

void
sysres_resolve(struct sysres *sr, const char *name, uint64_t timeout_ms,
    cd_resolve_cb cb, void *arg)
{
	struct srq *q;

	if ((q = calloc(1, sizeof(*q))) == NULL) {
		cb(-1, NULL, 0, "resolver: out of memory", arg);
		return;
	}
	q->sr = sr;
	snprintf(q->name, sizeof(q->name), "%s.", name);
	q->qtype = LDNS_RR_TYPE_A;
	q->per_try_ms = timeout_ms / sr->nns ? timeout_ms / sr->nns : 1;
	q->cb = cb;
	q->arg = arg;
	if (uv_timer_init(sr->loop, &q->timer) != 0) {
		free(q);
		cb(-1, NULL, 0, "resolver: no timer", arg);
		return;
	}
	q->timer.data = q;
	q->open = 1;
	if (uv_udp_init(sr->loop, &q->udp) == 0) {
		q->udp.data = q;
		q->open = 2;
		if (uv_udp_recv_start(&q->udp, alloc_cb, on_recv) == 0 &&
		    send_query(q) == 0)
			return;
	}
	q->done = true;
	cb(-1, NULL, 0, "resolver: send failed", arg);
	if (q->open == 2)
		uv_close((uv_handle_t *)&q->udp, on_closed);
	uv_close((uv_handle_t *)&q->timer, on_closed);
}

/* For the unit test: the fake nameserver listens on another port. */
void sysres_test_port(struct sysres *sr, uint16_t port);

void
sysres_test_port(struct sysres *sr, uint16_t port)
{
	size_t i;

	for (i = 0; i < sr->nns; i++) {
		if (sr->ns[i].ss_family == AF_INET)
			((struct sockaddr_in *)&sr->ns[i])->sin_port =
			    htons(port);
		else
			((struct sockaddr_in6 *)&sr->ns[i])->sin6_port =
			    htons(port);
	}
}
