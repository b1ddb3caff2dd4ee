/*
 * http.c - bounded HTTP/1.x head parser and request builders.
 *
 * Grammar from RFC 9110/9112, minus everything that lets two parsers
 * disagree: only CRLF line ends, no obs-fold, no whitespace before the
 * colon, no NUL or control bytes, one Host, never both Content-Length and
 * Transfer-Encoding.  The head must be complete (CRLFCRLF) within max_head
 * bytes.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http.h"

static bool
is_tchar(unsigned char c)
{
	if (c >= 'a' && c <= 'z')
		return true;
	if (c >= 'A' && c <= 'Z')
		return true;
	if (c >= '0' && c <= '9')
		return true;
	return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* field-vchar / SP / HTAB / obs-text; everything else is refused. */
static bool
is_vchar(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static bool
is_hostchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

static bool
is_v6char(unsigned char c)
{
	return isxdigit(c) || c == ':' || c == '.';
}

static int
fail(struct http_req *r, int status, const char *why)
{
	r->status = status;
	r->why = why;
	return HTTP_ERROR;
}

/* Strictly 1..65535, digits only, no sign, at most 5 digits. */
static bool
parse_port(const char *s, size_t len, uint16_t *out)
{
	unsigned long v = 0;
	size_t i;

	if (len == 0 || len > 5)
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return false;
	*out = (uint16_t)v;
	return true;
}

bool
http_split_authority(const char *s, size_t len, char *host, size_t hostlen,
    uint16_t *port, bool port_required)
{
	size_t hl, i;
	const char *p;

	if (len == 0)
		return false;
	if (s[0] == '[') {
		p = memchr(s, ']', len);
		if (p == NULL)
			return false;
		hl = (size_t)(p - s) + 1;
		if (hl < 4)	/* "[::]" is the shortest */
			return false;
		for (i = 1; i < hl - 1; i++)
			if (!is_v6char((unsigned char)s[i]))
				return false;
	} else {
		p = memchr(s, ':', len);
		hl = p ? (size_t)(p - s) : len;
		if (hl == 0)
			return false;
		for (i = 0; i < hl; i++)
			if (!is_hostchar((unsigned char)s[i]))
				return false;
	}
	if (hl >= hostlen || hl > HTTP_HOST_MAX)
		return false;
	if (hl == len) {
		if (port_required)
			return false;
		*port = 0;
	} else {
		if (s[hl] != ':')
			return false;
		if (!parse_port(s + hl + 1, len - hl - 1, port))
			return false;
	}
	memcpy(host, s, hl);
	host[hl] = '\0';
	return true;
}

static bool
token_eq(const char *a, size_t alen, const char *b)
{
	return alen == strlen(b) && strncasecmp(a, b, alen) == 0;
}

const struct http_hdr *
http_find(const struct http_req *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nhdrs; i++)
		if (token_eq(r->hdrs[i].name, r->hdrs[i].nlen, name))
			return &r->hdrs[i];
	return NULL;
}

static size_t
count_hdr(const struct http_req *r, const char *name)
{
	size_t i, n = 0;

	for (i = 0; i < r->nhdrs; i++)
		if (token_eq(r->hdrs[i].name, r->hdrs[i].nlen, name))
			n++;
	return n;
}

/* Find the end of a CRLF line in [p, end); NULL when incomplete.  A CR
 * not followed by LF, or a bare LF, is an error (*bad set). */
static const char *
line_end(const char *p, const char *end, bool *bad)
{
	const char *q;

	*bad = false;
	for (q = p; q < end; q++) {
		if (*q == '\n') {
			*bad = true;
			return NULL;
		}
		if (*q == '\r') {
			if (q + 1 == end)
				return NULL;
			if (q[1] != '\n') {
				*bad = true;
				return NULL;
			}
			return q;
		}
	}
	return NULL;
}

static int
parse_target(struct http_req *r, const char *t, size_t tlen)
{
	const char *auth, *slash;
	size_t alen, i;

	for (i = 0; i < tlen; i++)
		if ((unsigned char)t[i] <= 0x20 || (unsigned char)t[i] >= 0x7f)
			return fail(r, 400, "bad byte in request target");
	if (r->is_connect) {
		r->form = HTTP_FORM_AUTHORITY;
		if (!http_split_authority(t, tlen, r->host, sizeof(r->host),
		    &r->port, true))
			return fail(r, 400, "CONNECT target is not host:port");
		return HTTP_OK;
	}
	if (tlen >= 1 && t[0] == '/') {
		r->form = HTTP_FORM_ORIGIN;
		r->path = t;
		r->pathlen = tlen;
		return HTTP_OK;
	}
	if (tlen >= 7 && strncasecmp(t, "http://", 7) == 0) {
		r->form = HTTP_FORM_ABSOLUTE;
		auth = t + 7;
		alen = tlen - 7;
		slash = NULL;
		for (i = 0; i < alen; i++) {
			if (auth[i] == '/' || auth[i] == '?' || auth[i] == '#') {
				slash = auth + i;
				break;
			}
		}
		if (slash != NULL)
			alen = (size_t)(slash - auth);
		if (memchr(auth, '@', alen) != NULL)
			return fail(r, 400, "userinfo in request target");
		if (!http_split_authority(auth, alen, r->host, sizeof(r->host),
		    &r->port, false))
			return fail(r, 400, "bad authority in request target");
		if (r->port == 0)
			r->port = 80;
		if (slash == NULL) {
			r->path = "/";
			r->pathlen = 1;
		} else if (*slash == '#') {
			return fail(r, 400, "fragment in request target");
		} else {
			r->path = slash;
			r->pathlen = tlen - (size_t)(slash - t);
			if (memchr(r->path, '#', r->pathlen) != NULL)
				return fail(r, 400, "fragment in request target");
		}
		return HTTP_OK;
	}
	if (tlen >= 8 && strncasecmp(t, "https://", 8) == 0)
		return fail(r, 400, "https:// in a plain request; use CONNECT");
	return fail(r, 400, "unsupported request target");
}

static int
parse_request_line(struct http_req *r, const char *p, size_t n)
{
	const char *sp1, *sp2, *v;
	size_t mlen, tlen;

	sp1 = memchr(p, ' ', n);
	if (sp1 == NULL)
		return fail(r, 400, "malformed request line");
	mlen = (size_t)(sp1 - p);
	if (mlen == 0 || mlen >= sizeof(r->method))
		return fail(r, mlen ? 501 : 400, "bad method");
	for (size_t i = 0; i < mlen; i++)
		if (!is_tchar((unsigned char)p[i]))
			return fail(r, 400, "bad method");
	memcpy(r->method, p, mlen);
	r->method[mlen] = '\0';
	r->is_connect = strcmp(r->method, "CONNECT") == 0;

	sp2 = memchr(sp1 + 1, ' ', n - mlen - 1);
	if (sp2 == NULL)
		return fail(r, 400, "malformed request line");
	tlen = (size_t)(sp2 - sp1 - 1);
	if (tlen == 0)
		return fail(r, 400, "empty request target");
	v = sp2 + 1;
	if ((size_t)(p + n - v) != 8 || memcmp(v, "HTTP/1.", 7) != 0)
		return fail(r, 505, "not HTTP/1.x");
	if (v[7] == '1')
		r->minor = 1;
	else if (v[7] == '0')
		r->minor = 0;
	else
		return fail(r, 505, "not HTTP/1.0 or 1.1");
	return parse_target(r, sp1 + 1, tlen);
}

static int
parse_field(struct http_req *r, const char *p, size_t n, size_t max_hdrs)
{
	const char *colon, *v, *ve;
	size_t i;
	struct http_hdr *h;

	if (p[0] == ' ' || p[0] == '\t')
		return fail(r, 400, "obsolete line folding");
	colon = memchr(p, ':', n);
	if (colon == NULL || colon == p)
		return fail(r, 400, "malformed header field");
	for (i = 0; p + i < colon; i++)
		if (!is_tchar((unsigned char)p[i]))
			return fail(r, 400, "bad header field name");
	v = colon + 1;
	ve = p + n;
	for (i = 0; v + i < ve; i++)
		if (!is_vchar((unsigned char)v[i]))
			return fail(r, 400, "bad byte in header value");
	while (v < ve && (*v == ' ' || *v == '\t'))
		v++;
	while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
		ve--;
	if (r->nhdrs >= max_hdrs || r->nhdrs >= HTTP_MAX_HEADERS)
		return fail(r, 431, "too many header fields");
	h = &r->hdrs[r->nhdrs++];
	h->name = p;
	h->nlen = (size_t)(colon - p);
	h->val = v;
	h->vlen = (size_t)(ve - v);
	return HTTP_OK;
}

/* Checks that need the whole head: Host, framing. */
static int
check_head(struct http_req *r)
{
	const struct http_hdr *h, *cl, *te;
	char host[HTTP_HOST_MAX + 1];
	uint16_t port;
	size_t i;

	if (count_hdr(r, "Host") > 1)
		return fail(r, 400, "more than one Host header");
	h = http_find(r, "Host");
	if (r->minor == 1 && h == NULL && !r->is_connect)
		return fail(r, 400, "HTTP/1.1 request without Host");
	if (h != NULL && h->vlen > 0 &&
	    !http_split_authority(h->val, h->vlen, host, sizeof(host), &port,
	    false))
		return fail(r, 400, "bad Host header");
	if (r->form == HTTP_FORM_ORIGIN) {
		if (h == NULL || h->vlen == 0)
			return fail(r, 400, "no Host");
		memcpy(r->host, host, sizeof(host));
		r->port = port;
	}
	cl = http_find(r, "Content-Length");
	te = http_find(r, "Transfer-Encoding");
	if (cl != NULL && te != NULL)
		return fail(r, 400, "Content-Length with Transfer-Encoding");
	for (i = 0; i < r->nhdrs; i++) {
		h = &r->hdrs[i];
		if (!token_eq(h->name, h->nlen, "Content-Length"))
			continue;
		if (h->vlen == 0 || h->vlen > 18)
			return fail(r, 400, "bad Content-Length");
		for (size_t j = 0; j < h->vlen; j++)
			if (h->val[j] < '0' || h->val[j] > '9')
				return fail(r, 400, "bad Content-Length");
		if (h->vlen != cl->vlen || memcmp(h->val, cl->val, h->vlen))
			return fail(r, 400, "conflicting Content-Length");
	}
	if (te != NULL && r->minor == 0)
		return fail(r, 400, "Transfer-Encoding in HTTP/1.0");
	return HTTP_OK;
}

int
http_parse_request(const char *buf, size_t len, size_t max_head,
    size_t max_hdrs, struct http_req *r)
{
	const char *p, *e, *end;
	bool bad, first = true;
	size_t avail;
	int rc;

	memset(r, 0, sizeof(*r));
	avail = len < max_head ? len : max_head;
	if (avail > 0 && memchr(buf, '\0', avail) != NULL)
		return fail(r, 400, "NUL in request head");
	p = buf;
	end = buf + avail;
	for (;;) {
		e = line_end(p, end, &bad);
		if (bad)
			return fail(r, 400, "bare CR or LF in request head");
		if (e == NULL) {
			if (len >= max_head)
				return fail(r, first ? 414 : 431,
				    first ? "request line too long" :
				    "request head too large");
			return HTTP_NEED_MORE;
		}
		if (first) {
			if (e == p)
				return fail(r, 400, "empty request line");
			rc = parse_request_line(r, p, (size_t)(e - p));
			if (rc != HTTP_OK)
				return rc;
			first = false;
		} else if (e == p) {
			r->head_len = (size_t)(e + 2 - buf);
			return check_head(r);
		} else {
			rc = parse_field(r, p, (size_t)(e - p), max_hdrs);
			if (rc != HTTP_OK)
				return rc;
		}
		p = e + 2;
	}
}

int
http_parse_response(const char *buf, size_t len, size_t max_head,
    struct http_resp *r)
{
	const char *p, *e, *end;
	bool bad, first = true;
	size_t avail, i;

	memset(r, 0, sizeof(*r));
	avail = len < max_head ? len : max_head;
	if (avail > 0 && memchr(buf, '\0', avail) != NULL) {
		r->why = "NUL in response head";
		return HTTP_ERROR;
	}
	p = buf;
	end = buf + avail;
	for (;;) {
		e = line_end(p, end, &bad);
		if (bad) {
			r->why = "bare CR or LF in response head";
			return HTTP_ERROR;
		}
		if (e == NULL) {
			if (len >= max_head) {
				r->why = "response head too large";
				return HTTP_ERROR;
			}
			return HTTP_NEED_MORE;
		}
		if (first) {
			/* HTTP/1.x SP 3DIGIT [SP reason] */
			if (e - p < 12 || memcmp(p, "HTTP/1.", 7) != 0 ||
			    (p[7] != '0' && p[7] != '1') || p[8] != ' ' ||
			    (e - p > 12 && p[12] != ' ')) {
				r->why = "malformed status line";
				return HTTP_ERROR;
			}
			for (i = 9; i < 12; i++) {
				if (p[i] < '0' || p[i] > '9') {
					r->why = "malformed status code";
					return HTTP_ERROR;
				}
			}
			r->minor = p[7] - '0';
			r->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 +
			    (p[11] - '0');
			if (r->status < 100) {
				r->why = "malformed status code";
				return HTTP_ERROR;
			}
			first = false;
		} else if (e == p) {
			r->head_len = (size_t)(e + 2 - buf);
			return HTTP_OK;
		} else if (*p == ' ' || *p == '\t' ||
		    memchr(p, ':', (size_t)(e - p)) == NULL) {
			r->why = "malformed response header";
			return HTTP_ERROR;
		}
		p = e + 2;
	}
}

/*
 * The health server's probes: lax on purpose, unlike the proxy's parser
 * (nothing is forwarded, and probes come from scripts and monitors that
 * send bare LF or HTTP/1.0 without Host).  The head ends at the first
 * blank line (CRLFCRLF or LFLF) anywhere within max_head bytes; only the
 * method and the path of the first line are read.
 */
int
http_parse_probe(const char *buf, size_t len, size_t max_head,
    struct http_probe *p)
{
	size_t i, m;

	memset(p, 0, sizeof(*p));
	if (len > max_head)
		len = max_head;
	if (memchr(buf, '\0', len) != NULL) {
		p->status = 400;
		return HTTP_ERROR;
	}
	for (i = 0; i + 1 < len; i++) {
		if ((buf[i] == '\n' && buf[i + 1] == '\n') ||
		    (i + 3 < len && memcmp(buf + i, "\r\n\r\n", 4) == 0))
			break;
	}
	if (i + 1 >= len) {
		if (len < max_head)
			return HTTP_NEED_MORE;
		p->status = 400;
		return HTTP_ERROR;
	}
	if (len >= 5 && memcmp(buf, "HEAD ", 5) == 0)
		m = 5;
	else if (len >= 4 && memcmp(buf, "GET ", 4) == 0)
		m = 4;
	else {
		p->status = 405;
		return HTTP_ERROR;
	}
	p->head = m == 5;
	p->path = buf + m;
	/* The blank line bounds the span. */
	while (m + p->pathlen < len && strchr(" ?\r\n",
	    buf[m + p->pathlen]) == NULL)
		p->pathlen++;
	return HTTP_OK;
}

/* Headers that are about this connection only (RFC 9110 7.6.1), plus the
 * proxy's own; Transfer-Encoding stays, the body is relayed as it is. */
static bool
is_hop_by_hop(const struct http_req *r, const struct http_hdr *h)
{
	static const char *const drop[] = { "Connection", "Keep-Alive",
	    "TE", "Upgrade", "Host", NULL };
	const struct http_hdr *c;
	const char *t, *te;
	size_t i;

	if (h->nlen >= 6 && strncasecmp(h->name, "Proxy-", 6) == 0)
		return true;
	for (i = 0; drop[i] != NULL; i++)
		if (token_eq(h->name, h->nlen, drop[i]))
			return true;
	for (i = 0; i < r->nhdrs; i++) {
		c = &r->hdrs[i];
		if (!token_eq(c->name, c->nlen, "Connection"))
			continue;
		t = c->val;
		te = c->val + c->vlen;
		while (t < te) {
			const char *s;

			while (t < te && (*t == ' ' || *t == '\t' || *t == ','))
				t++;
			s = t;
			while (t < te && *t != ',' && *t != ' ' && *t != '\t')
				t++;
			if (t > s && h->nlen == (size_t)(t - s) &&
			    strncasecmp(h->name, s, h->nlen) == 0)
				return true;
		}
	}
	return false;
}

struct outbuf {
	char *p;
	size_t len, cap;
	bool over;
};

static void
put(struct outbuf *o, const char *s, size_t n)
{
	if (o->over || n > o->cap - o->len) {
		o->over = true;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void
puts_(struct outbuf *o, const char *s)
{
	put(o, s, strlen(s));
}

int
http_rewrite_origin(const struct http_req *r, char *out, size_t outlen)
{
	struct outbuf o = { out, 0, outlen, false };
	char port[8];
	size_t i;

	puts_(&o, r->method);
	puts_(&o, " ");
	put(&o, r->path, r->pathlen);
	puts_(&o, r->minor ? " HTTP/1.1\r\nHost: " : " HTTP/1.0\r\nHost: ");
	puts_(&o, r->host);
	if (r->port != 80) {
		snprintf(port, sizeof(port), ":%u", r->port);
		puts_(&o, port);
	}
	puts_(&o, "\r\n");
	for (i = 0; i < r->nhdrs; i++) {
		if (is_hop_by_hop(r, &r->hdrs[i]))
			continue;
		put(&o, r->hdrs[i].name, r->hdrs[i].nlen);
		puts_(&o, ": ");
		put(&o, r->hdrs[i].val, r->hdrs[i].vlen);
		puts_(&o, "\r\n");
	}
	/* One request per tunnel: the tunnel was granted for this host only,
	 * so the next request on the connection must open a new one. */
	puts_(&o, "Connection: close\r\n\r\n");
	if (o.over || o.len > (size_t)0x7fffffff)
		return -1;
	return (int)o.len;
}

int
http_b64(const void *in, size_t len, char *out, size_t outlen)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *s = in;
	size_t i, o = 0, need;
	uint32_t v;

	need = (len + 2) / 3 * 4 + 1;
	if (len > 3 * 1024 * 1024 || need > outlen)
		return -1;
	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
		out[o++] = tab[v >> 6 & 63];
		out[o++] = tab[v & 63];
	}
	if (len - i == 1) {
		v = (uint32_t)s[i] << 16;
		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (len - i == 2) {
		v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
		out[o++] = tab[v >> 6 & 63];
		out[o++] = '=';
	}
	out[o] = '\0';
	return (int)o;
}

int
http_build_connect(char *out, size_t outlen, const char *host, uint16_t port,
    const char *user, const char *password)
{
	struct outbuf o = { out, 0, outlen, false };
	char cred[1024], b64[1400], hp[HTTP_HOST_MAX + 16];
	size_t i, hl;
	bool v6;
	int n;

	hl = strlen(host);
	if (hl == 0 || hl > EG_NAME_MAX || port == 0)
		return -1;
	v6 = strchr(host, ':') != NULL;
	for (i = 0; i < hl; i++) {
		unsigned char c = (unsigned char)host[i];

		if (!(is_hostchar(c) || (v6 && (is_v6char(c) || c == '%' ||
		    c == '[' || c == ']'))))
			return -1;
	}
	if (v6 && host[0] != '[')
		snprintf(hp, sizeof(hp), "[%s]:%u", host, port);
	else
		snprintf(hp, sizeof(hp), "%s:%u", host, port);
	puts_(&o, "CONNECT ");
	puts_(&o, hp);
	puts_(&o, " HTTP/1.1\r\nHost: ");
	puts_(&o, hp);
	puts_(&o, "\r\n");
	if (user != NULL) {
		n = snprintf(cred, sizeof(cred), "%s:%s", user,
		    password ? password : "");
		if (n < 0 || (size_t)n >= sizeof(cred))
			return -1;
		/* A colon in the user id or a control byte anywhere cannot be
		 * carried by Basic (RFC 7617). */
		if (strchr(user, ':') != NULL)
			return -1;
		for (i = 0; i < (size_t)n; i++)
			if ((unsigned char)cred[i] < 0x20 || cred[i] == 0x7f)
				return -1;
		if (http_b64(cred, (size_t)n, b64, sizeof(b64)) < 0)
			return -1;
		explicit_bzero(cred, sizeof(cred));
		puts_(&o, "Proxy-Authorization: Basic ");
		puts_(&o, b64);
		puts_(&o, "\r\n");
		explicit_bzero(b64, sizeof(b64));
	}
	puts_(&o, "\r\n");
	if (o.over || o.len >= outlen)
		return -1;
	out[o.len] = '\0';
	return (int)o.len;
}

const char *
http_status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

int
http_build_refusal(char *out, size_t outlen, int status, const char *reason,
    const char *body)
{
	int n;
	size_t blen = body ? strlen(body) : 0;

	n = snprintf(out, outlen, "HTTP/1.1 %d %s\r\n%s%s%s"
	    "Content-Type: text/plain\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\n\r\n%s", status, http_status_text(status),
	    reason ? "X-Egressjail-Reason: " : "", reason ? reason : "",
	    reason ? "\r\n" : "", blen, body ? body : "");
	if (n < 0 || (size_t)n >= outlen)
		return -1;
	return n;
}
