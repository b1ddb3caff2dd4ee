/*
 * judge.h - what a client sends into a tunnel, judged before it leaves.
 *
 * The policy allowed a name: "CONNECT allowed:443", or a transparent
 * connection whose SNI or Host said that name.  What the client then
 * sends must not name another host at the same address (domain
 * fronting): a TLS ClientHello must carry the same SNI, and every plain
 * HTTP/1 request on the connection the same Host (kept-alive and
 * pipelined requests included, bodies skipped by Content-Length or
 * chunked framing).  The bytes of a ClientHello or a request head are
 * held until they are judged; a body passes as it comes.  TLS is a first
 * byte 22 (handshake) followed by 3 (record version 3.x).  A first line
 * that is neither TLS nor HTTP (SSH, SMTP's EHLO after the greeting, a
 * binary protocol) ends the judging: everything passes from then on.
 * Only the client's direction is judged, so protocols where the server
 * speaks first are never delayed.
 *
 * The judge never allocates beyond its hold buffer (cap bytes), never
 * reads past what it was given, and is fuzzed (tests/fuzz/connectd).
 */
#ifndef CD_JUDGE_H
#define CD_JUDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"

#define JUDGE_OK	0
#define JUDGE_CUT	(-1)

enum judge_state {
	J_FIRST,	/* nothing seen yet */
	J_LINE,		/* a first line of text: HTTP or not? */
	J_TLS,		/* a ClientHello, until its SNI is known */
	J_HEAD,		/* an HTTP request head */
	J_BODY,		/* left bytes of a Content-Length body */
	J_CHUNK_SIZE,	/* a chunk-size line */
	J_CHUNK_DATA,	/* left bytes of a chunk */
	J_CHUNK_END,	/* the CRLF after a chunk */
	J_TRAILER,	/* trailer fields up to the empty line */
	J_PASS,		/* judged: everything passes */
	J_DEAD,		/* cut */
};

struct judge {
	enum judge_state st;
	char host[HTTP_HOST_MAX + 1];	/* expected, lower case, no dot */
	uint16_t port;
	bool host_is_ip;		/* an address: no SNI to compare */
	bool http;			/* an HTTP request was seen */
	char *buf;			/* held, not yet judged: allocated on
					 * the first byte held, grown to cap */
	size_t n, cap, alloc;
	uint64_t left;			/* body or chunk bytes to pass */
	uint64_t requests;		/* HTTP requests judged */
	const char *why;		/* on a cut: a short token */
	char detail[HTTP_HOST_MAX + 1];	/* and what was seen */
};

typedef void (*judge_emit_fn)(void *arg, const char *p, size_t n);

/* host:port is what the policy allowed (host_is_ip: an address, a direct
 * endpoint, so there is no name to hold a ClientHello to); cap bounds a
 * held head or hello (max_head_bytes, at least 1k).  -1: out of memory. */
int judge_init(struct judge *j, const char *host, uint16_t port,
    bool host_is_ip, size_t cap);
void judge_free(struct judge *j);

/* Start behind a request the intake has judged already (transparent or
 * explicit plain HTTP): inside its body, HTTP only from then on.  Returns
 * JUDGE_CUT for framing the judge refuses. */
int judge_after_request(struct judge *j, const struct http_req *r);

/* Feed n client bytes: every byte judged fit goes to emit, in order (from
 * p or from the hold buffer).  JUDGE_CUT: nothing more may pass. */
int judge_feed(struct judge *j, const char *p, size_t n, judge_emit_fn emit,
    void *arg);

/* The client ended its side, or held bytes waited too long: judge what is
 * held as it stands.  A first line that is not HTTP passes; a partial
 * hello or request head is cut. */
int judge_flush(struct judge *j, judge_emit_fn emit, void *arg);

static inline bool
judge_passing(const struct judge *j)
{
	return j->st == J_PASS;
}

static inline size_t
judge_held(const struct judge *j)
{
	return j->n;
}

#endif
