/*
 * http.h - bounded HTTP/1.x head parsing and the requests connectd builds.
 *
 * The parsers never read past len, never allocate, and answer one of
 * "need more", "complete" or "error" (with the status to refuse with).
 * They are strict on purpose: a request that two parsers could read two
 * ways (bare LF, obs-fold, space before the colon, two Host headers,
 * Content-Length with Transfer-Encoding) is refused, not guessed at.
 */
#ifndef CD_HTTP_H
#define CD_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define HTTP_NEED_MORE	0
#define HTTP_OK		1
#define HTTP_ERROR	(-1)

#define HTTP_MAX_HEADERS	100	/* hard ceiling; callers may ask for less */
#define HTTP_HOST_MAX		(EG_NAME_MAX + 2)	/* "[v6]" fits too */

enum http_form {
	HTTP_FORM_ORIGIN,	/* GET /path (transparent intake, health) */
	HTTP_FORM_AUTHORITY,	/* CONNECT host:port */
	HTTP_FORM_ABSOLUTE,	/* GET http://host[:port]/path */
};

struct http_hdr {
	const char *name;
	size_t nlen;
	const char *val;	/* OWS trimmed */
	size_t vlen;
};

struct http_req {
	enum http_form form;
	char method[32];
	bool is_connect;
	int minor;			/* HTTP/1.minor */
	char host[HTTP_HOST_MAX + 1];	/* as written; brackets kept for v6 */
	uint16_t port;			/* 0 when not given (origin form) */
	const char *path;		/* origin-form path+query, into buf */
	size_t pathlen;
	struct http_hdr hdrs[HTTP_MAX_HEADERS];
	size_t nhdrs;
	size_t head_len;		/* bytes up to and including CRLFCRLF */
	/* On HTTP_ERROR: the status to answer with and a short reason. */
	int status;
	const char *why;
};

/*
 * Parse a request head from buf[0..len).  max_head bounds the head in
 * bytes (431/414 beyond it), max_hdrs the number of header fields (431).
 * For origin-form requests the Host header supplies host and port.
 */
int http_parse_request(const char *buf, size_t len, size_t max_head,
    size_t max_hdrs, struct http_req *r);

struct http_resp {
	int minor;
	int status;
	size_t head_len;
	const char *why;	/* on HTTP_ERROR */
};

/* Parse a response head (a hop's answer to CONNECT). */
int http_parse_response(const char *buf, size_t len, size_t max_head,
    struct http_resp *r);

/* A probe of the health server (GET or HEAD), read laxly: see http.c. */
struct http_probe {
	bool head;		/* HEAD, else GET */
	const char *path;	/* into buf, up to the first SP, '?' or EOL */
	size_t pathlen;
	int status;		/* on HTTP_ERROR: 400, or 405 (not GET/HEAD) */
};

int http_parse_probe(const char *buf, size_t len, size_t max_head,
    struct http_probe *p);

/* The first header named name (case-insensitive), or NULL. */
const struct http_hdr *http_find(const struct http_req *r, const char *name);

/* Split "host:port" / "[v6]:port" / "host" (port_required false). */
bool http_split_authority(const char *s, size_t len, char *host,
    size_t hostlen, uint16_t *port, bool port_required);

/*
 * The request to send upstream for an absolute-form request: origin-form
 * target, Host from the target authority, hop-by-hop and Proxy-* headers
 * and those named in Connection removed, "Connection: close" added.
 * Returns the length written, or -1 when out is too small.
 */
int http_rewrite_origin(const struct http_req *r, char *out, size_t outlen);

/* Standard base64 of in (no line breaks); -1 when out is too small. */
int http_b64(const void *in, size_t len, char *out, size_t outlen);

/*
 * "CONNECT host:port HTTP/1.1\r\nHost: host:port\r\n[Proxy-Authorization:
 * Basic ...\r\n]\r\n".  An IPv6 literal host is bracketed.  user NULL: no
 * authorization.  Returns length or -1 (too small, or a name with bytes
 * that cannot be sent).
 */
int http_build_connect(char *out, size_t outlen, const char *host,
    uint16_t port, const char *user, const char *password);

/* A complete short response: status line, the reason header when given,
 * Content-Length 0 / body, Connection: close. */
int http_build_refusal(char *out, size_t outlen, int status,
    const char *reason, const char *body);

const char *http_status_text(int status);

#endif
