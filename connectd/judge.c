/*
 * judge.c - the client's first bytes in a tunnel, and every HTTP request
 * after them, held and judged before they leave (see judge.h).
 *
 * Bytes that form a unit still being judged (a first line, a ClientHello,
 * a request head, a chunk-size line, trailers) are copied into the hold
 * buffer; once the unit is complete it is judged and, if fit, emitted
 * from there.  A unit is judged as soon as it is complete, so the bytes
 * held past its end all came with the latest input: they are handed back
 * to the input, never judged twice or skipped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "judge.h"
#include "sni.h"

#define CHUNK_LINE_MAX	1024	/* a chunk-size line with its extensions */
#define JUDGE_FIELDS	100

enum { UNIT_NEED, UNIT_DONE, UNIT_CUT };

static int
cut(struct judge *j, const char *why, const char *detail)
{
	j->st = J_DEAD;
	j->why = why;
	snprintf(j->detail, sizeof(j->detail), "%s", detail ? detail : "");
	return UNIT_CUT;
}

/* Lower case, no brackets, no trailing dot: how names compare here. */
static void
norm_host(char *dst, size_t len, const char *src)
{
	size_t i, n = strlen(src);

	if (n >= 2 && src[0] == '[' && src[n - 1] == ']') {
		src++;
		n -= 2;
	}
	if (n > 0 && src[n - 1] == '.')
		n--;
	if (n >= len)
		n = len - 1;
	for (i = 0; i < n; i++)
		dst[i] = (src[i] >= 'A' && src[i] <= 'Z') ? src[i] - 'A' + 'a' :
		    src[i];
	dst[n] = '\0';
}

int
judge_init(struct judge *j, const char *host, uint16_t port, bool host_is_ip,
    size_t cap)
{
	memset(j, 0, sizeof(*j));
	if (cap < 1024)
		cap = 1024;
	/* No buffer until a byte must be held: a tunnel waiting for its
	 * first bytes (every idle one) holds none.  Allocated up front it
	 * cost max_head_bytes of address space per tunnel and spread the
	 * long-lived allocations over it: 9.4 KiB of RSS per idle tunnel,
	 * against 5.3 with a 1 KiB cap (bench idle-9000). */
	j->cap = cap;
	j->port = port;
	norm_host(j->host, sizeof(j->host), host);
	j->host_is_ip = host_is_ip;
	j->st = J_FIRST;
	return 0;
}

void
judge_free(struct judge *j)
{
	free(j->buf);
	j->buf = NULL;
	j->n = j->alloc = 0;
}

/* Room for need (<= cap) held bytes: doubling from 2 KiB, a ClientHello
 * or a request head mostly fits the first. */
static int
grow(struct judge *j, size_t need)
{
	size_t a = j->alloc ? j->alloc : 2048;
	char *nb;

	while (a < need)
		a *= 2;
	if (a > j->cap)
		a = j->cap;
	if ((nb = realloc(j->buf, a)) == NULL)
		return -1;
	j->buf = nb;
	j->alloc = a;
	return 0;
}

static bool
host_matches(const struct judge *j, const char *host, uint16_t port)
{
	char h[HTTP_HOST_MAX + 1];

	norm_host(h, sizeof(h), host);
	return strcmp(h, j->host) == 0 && (port == 0 || port == j->port);
}

/* The framing of a request's body: where the next request begins. */
static int
body_state(struct judge *j, const struct http_req *r)
{
	const struct http_hdr *te, *cl;
	uint64_t v = 0;
	size_t i;

	te = http_find(r, "Transfer-Encoding");
	cl = http_find(r, "Content-Length");
	if (te != NULL) {
		/* Anything but plain chunked could be framed two ways. */
		if (te->vlen != 7 || strncasecmp(te->val, "chunked", 7) != 0)
			return cut(j, "bad-framing", "Transfer-Encoding");
		j->st = J_CHUNK_SIZE;
		return UNIT_DONE;
	}
	if (cl != NULL) {
		/* http.c checked: 1..18 digits, one value. */
		for (i = 0; i < cl->vlen; i++)
			v = v * 10 + (uint64_t)(cl->val[i] - '0');
	}
	j->left = v;
	j->st = v > 0 ? J_BODY : J_HEAD;
	return UNIT_DONE;
}

static int
check_request(struct judge *j, const struct http_req *r)
{
	const struct http_hdr *h;
	char host[HTTP_HOST_MAX + 1];
	uint16_t port = 0;

	j->http = true;
	j->requests++;
	if (r->is_connect)
		return cut(j, "connect-in-tunnel", r->host);
	if (!host_matches(j, r->host, r->form == HTTP_FORM_ABSOLUTE &&
	    r->port == 80 ? 0 : r->port))
		return cut(j, "host-mismatch", r->host);
	/* An absolute-form target wins over Host at the server, but both
	 * must name the host anyway. */
	if (r->form == HTTP_FORM_ABSOLUTE &&
	    (h = http_find(r, "Host")) != NULL && h->vlen > 0) {
		if (!http_split_authority(h->val, h->vlen, host, sizeof(host),
		    &port, false) || !host_matches(j, host, port))
			return cut(j, "host-mismatch", host);
	}
	/* After a 101 the bytes are no longer HTTP and could say anything;
	 * wss:// (inside TLS) is not affected. */
	if (http_find(r, "Upgrade") != NULL)
		return cut(j, "http-upgrade", r->host);
	return body_state(j, r);
}

int
judge_after_request(struct judge *j, const struct http_req *r)
{
	j->http = true;
	j->requests = 1;
	return body_state(j, r) == UNIT_CUT ? JUDGE_CUT : JUDGE_OK;
}

/* Does a first line (or what there is of it) speak HTTP? */
static bool
looks_http(const char *p, size_t n)
{
	static const char *const methods[] = { "GET", "HEAD", "POST", "PUT",
	    "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "PRI", NULL };
	size_t i, k;

	for (i = 0; i < n && p[i] != ' '; i++)
		;
	if (i < n) {
		for (k = 0; methods[k] != NULL; k++)
			if (strlen(methods[k]) == i &&
			    memcmp(p, methods[k], i) == 0)
				return true;
	}
	for (i = 0; i + 6 <= n; i++)
		if (memcmp(p + i, " HTTP/", 6) == 0)
			return true;
	return false;
}

static const char *
find_lf(const char *p, size_t n)
{
	return memchr(p, '\n', n);
}

static int unit(struct judge *j, judge_emit_fn emit, void *arg,
    size_t *used);

static int
unit_line(struct judge *j, judge_emit_fn emit, void *arg, size_t *used)
{
	const char *lf = find_lf(j->buf, j->n);

	if (lf == NULL && j->n < j->cap)
		return UNIT_NEED;
	if (looks_http(j->buf, lf ? (size_t)(lf - j->buf) : j->n)) {
		j->st = J_HEAD;
		return unit(j, emit, arg, used);
	}
	/* Not HTTP: nothing more is judged on this connection. */
	emit(arg, j->buf, j->n);
	*used = j->n;
	j->st = J_PASS;
	return UNIT_DONE;
}

static int
unit_head(struct judge *j, judge_emit_fn emit, void *arg, size_t *used)
{
	struct http_req r;
	size_t i, len = j->n;
	int rc;

	/* The parser wants one head: what follows it (a body, the next
	 * request) is not its business. */
	for (i = 0; i + 4 <= j->n; i++) {
		if (memcmp(j->buf + i, "\r\n\r\n", 4) == 0) {
			len = i + 4;
			break;
		}
	}
	rc = http_parse_request(j->buf, len, j->cap, JUDGE_FIELDS, &r);
	if (rc == HTTP_NEED_MORE)
		return UNIT_NEED;
	if (rc == HTTP_ERROR)
		return cut(j, j->n >= j->cap ? "request-too-large" :
		    "bad-request", r.why);
	if (check_request(j, &r) == UNIT_CUT)
		return UNIT_CUT;
	emit(arg, j->buf, r.head_len);
	*used = r.head_len;
	return UNIT_DONE;
}

static int
unit_tls(struct judge *j, judge_emit_fn emit, void *arg, size_t *used)
{
	struct sni_info si;

	/* A handshake record has version 3.x: a binary protocol whose first
	 * byte happens to be 22 is no TLS and passes (a TLS server would
	 * refuse it as well). */
	if (j->n < 2)
		return UNIT_NEED;
	if ((unsigned char)j->buf[1] != 3) {
		emit(arg, j->buf, j->n);
		*used = j->n;
		j->st = J_PASS;
		return UNIT_DONE;
	}
	switch (sni_parse((const uint8_t *)j->buf, j->n, j->cap, &si)) {
	case SNI_NEED_MORE:
		return UNIT_NEED;
	case SNI_FOUND:
		if (j->host_is_ip)
			break;
		if (!host_matches(j, si.host, 0))
			return cut(j, "sni-mismatch", si.host);
		/* The outer name matches, the real one is encrypted. */
		if (si.ech)
			return cut(j, "ech", si.host);
		break;
	case SNI_NONE:
		/* A name was asked for; the server would pick its default. */
		if (!j->host_is_ip)
			return cut(j, "no-sni", NULL);
		break;
	case SNI_NOT_TLS:
	case SNI_ERROR:
		return cut(j, j->n >= j->cap ? "hello-too-large" :
		    "bad-hello", si.why);
	}
	/* Past the hello everything is encrypted: nothing more to judge. */
	emit(arg, j->buf, j->n);
	*used = j->n;
	j->st = J_PASS;
	return UNIT_DONE;
}

static int
unit_chunk_size(struct judge *j, judge_emit_fn emit, void *arg,
    size_t *used)
{
	const char *lf = find_lf(j->buf, j->n);
	uint64_t v = 0;
	size_t i, len, digits = 0;
	char c;

	if (lf == NULL) {
		if (j->n >= CHUNK_LINE_MAX || j->n >= j->cap)
			return cut(j, "bad-chunk", "chunk-size line too long");
		return UNIT_NEED;
	}
	len = (size_t)(lf - j->buf);
	if (len == 0 || j->buf[len - 1] != '\r')
		return cut(j, "bad-chunk", "bare LF");
	for (i = 0; i < len - 1; i++) {
		c = j->buf[i];
		if (c >= '0' && c <= '9')
			v = v * 16 + (uint64_t)(c - '0');
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			v = v * 16 + (uint64_t)((c | 0x20) - 'a' + 10);
		else
			break;
		if (++digits > 15)
			return cut(j, "bad-chunk", "chunk size too large");
	}
	if (digits == 0 || (i < len - 1 && j->buf[i] != ';'))
		return cut(j, "bad-chunk", "bad chunk size");
	for (; i < len - 1; i++)
		if ((unsigned char)j->buf[i] < 0x20 || j->buf[i] == 0x7f)
			return cut(j, "bad-chunk", "bad chunk extension");
	emit(arg, j->buf, len + 1);
	*used = len + 1;
	j->left = v;
	j->st = v > 0 ? J_CHUNK_DATA : J_TRAILER;
	return UNIT_DONE;
}

static int
unit_chunk_end(struct judge *j, judge_emit_fn emit, void *arg, size_t *used)
{
	if (j->n < 2)
		return j->buf[0] == '\r' ? UNIT_NEED :
		    cut(j, "bad-chunk", "no CRLF after chunk data");
	if (j->buf[0] != '\r' || j->buf[1] != '\n')
		return cut(j, "bad-chunk", "no CRLF after chunk data");
	emit(arg, j->buf, 2);
	*used = 2;
	j->st = J_CHUNK_SIZE;
	return UNIT_DONE;
}

/* Trailer fields, ended by an empty line; only their framing matters. */
static int
unit_trailer(struct judge *j, judge_emit_fn emit, void *arg, size_t *used)
{
	size_t i, start = 0;

	for (i = 0; i < j->n; i++) {
		if (j->buf[i] != '\n')
			continue;
		if (i == start || j->buf[i - 1] != '\r')
			return cut(j, "bad-chunk", "bare LF in trailer");
		if (i == start + 1) {
			emit(arg, j->buf, i + 1);
			*used = i + 1;
			j->st = J_HEAD;
			return UNIT_DONE;
		}
		start = i + 1;
	}
	if (j->n >= j->cap)
		return cut(j, "bad-chunk", "trailer too large");
	return UNIT_NEED;
}

static int
unit(struct judge *j, judge_emit_fn emit, void *arg, size_t *used)
{
	switch (j->st) {
	case J_LINE:
		return unit_line(j, emit, arg, used);
	case J_HEAD:
		return unit_head(j, emit, arg, used);
	case J_TLS:
		return unit_tls(j, emit, arg, used);
	case J_CHUNK_SIZE:
		return unit_chunk_size(j, emit, arg, used);
	case J_CHUNK_END:
		return unit_chunk_end(j, emit, arg, used);
	case J_TRAILER:
		return unit_trailer(j, emit, arg, used);
	default:
		return cut(j, "internal", "no unit in this state");
	}
}

int
judge_feed(struct judge *j, const char *p, size_t n, judge_emit_fn emit,
    void *arg)
{
	size_t k, used, before;
	int rc;

	while (n > 0) {
		switch (j->st) {
		case J_DEAD:
			return JUDGE_CUT;
		case J_PASS:
			emit(arg, p, n);
			return JUDGE_OK;
		case J_FIRST:
			if ((unsigned char)p[0] == 22)
				j->st = J_TLS;
			else if (p[0] >= 'A' && p[0] <= 'Z')
				j->st = J_LINE;
			else
				j->st = J_PASS;	/* binary, or not HTTP */
			continue;
		case J_BODY:
		case J_CHUNK_DATA:
			k = n < j->left ? n : (size_t)j->left;
			emit(arg, p, k);
			p += k;
			n -= k;
			j->left -= k;
			if (j->left == 0)
				j->st = j->st == J_BODY ? J_HEAD : J_CHUNK_END;
			continue;
		default:
			break;
		}
		/* A unit: hold what fits, judge it. */
		before = j->n;
		k = j->cap - j->n < n ? j->cap - j->n : n;
		if (j->n + k > j->alloc && grow(j, j->n + k) != 0) {
			cut(j, "out-of-memory", NULL);
			return JUDGE_CUT;
		}
		memcpy(j->buf + j->n, p, k);
		j->n += k;
		p += k;
		n -= k;
		used = 0;
		rc = unit(j, emit, arg, &used);
		if (rc == UNIT_CUT)
			return JUDGE_CUT;
		if (rc == UNIT_NEED) {
			if (j->n >= j->cap) {	/* a unit never fits */
				cut(j, "too-large", NULL);
				return JUDGE_CUT;
			}
			continue;	/* n is 0 here */
		}
		/* Done: the unit began in the held bytes and ended in this
		 * input (it was not complete before), so what follows it
		 * goes back to the input. */
		if (used < before) {
			cut(j, "internal", "unit ended in old bytes");
			return JUDGE_CUT;
		}
		p -= j->n - used;
		n += j->n - used;
		j->n = 0;
	}
	return j->st == J_DEAD ? JUDGE_CUT : JUDGE_OK;
}

int
judge_flush(struct judge *j, judge_emit_fn emit, void *arg)
{
	if (j->st == J_DEAD)
		return JUDGE_CUT;
	if (j->n == 0)
		return JUDGE_OK;
	switch (j->st) {
	case J_LINE:
		if (looks_http(j->buf, j->n)) {
			cut(j, "incomplete-request", NULL);
			return JUDGE_CUT;
		}
		emit(arg, j->buf, j->n);
		j->n = 0;
		j->st = J_PASS;
		return JUDGE_OK;
	case J_TLS:
		if (j->n < 2) {		/* one byte: not even a record */
			emit(arg, j->buf, j->n);
			j->n = 0;
			j->st = J_PASS;
			return JUDGE_OK;
		}
		cut(j, "incomplete-hello", NULL);
		return JUDGE_CUT;
	case J_HEAD:
		cut(j, "incomplete-request", NULL);
		return JUDGE_CUT;
	default:
		cut(j, "incomplete-chunk", NULL);
		return JUDGE_CUT;
	}
}
