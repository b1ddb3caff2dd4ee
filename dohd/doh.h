/*
 * doh.h - one HTTP/2-over-TLS connection to a DoH upstream (RFC 8484).
 *
 * A connection dials one bootstrap address (no name lookup, ever), does
 * TLS 1.2+ with certificate and host-name verification and an optional
 * SPKI pin, negotiates h2 by ALPN, and carries many POST streams at once.
 * It sends a PING when idle and whenever streams wait on a quiet
 * connection, and dies when a PING goes unanswered: a half-open connection
 * costs seconds, not minutes.  Past its maximum age it takes no new
 * streams and closes once the last one is answered.
 */
#ifndef DOHD_DOH_H
#define DOHD_DOH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>
#include <uv.h>

#include "addr.h"

#define DOH_MAX_RESPONSE	65535
#define DOH_PING_TIMEOUT_MS	3000
#define DOH_QUIET_PROBE_MS	1000	/* streams waiting, nothing heard */

struct doh_target {
	char host[EG_NAME_MAX + 1];	/* TLS name check, SNI, :authority */
	uint16_t port;
	char path[512];
	struct eg_ip addr;		/* the bootstrap address to dial */
	SSL_CTX *ctx;
	uint8_t pin[32];		/* sha256 of the SPKI */
	bool has_pin;
	uint64_t connect_timeout_ms;
	uint64_t ping_interval_ms;
	uint64_t max_age_ms;
};

/* err 0 and the body of a 200 application/dns-message answer; or -errno. */
typedef void (*doh_resp_cb)(void *arg, int err, const uint8_t *body,
    size_t len);

struct doh_conn;

enum doh_event { DOH_EV_READY, DOH_EV_FAILED, DOH_EV_CLOSED };
typedef void (*doh_event_cb)(void *arg, struct doh_conn *c,
    enum doh_event ev, const char *why);

/* SSL_CTX for upstreams: TLS 1.2+, verify against ca_file, ALPN h2. */
SSL_CTX *doh_ssl_ctx(const char *ca_file, char *err, size_t errlen);
/* Decode a base64 SHA-256 pin; false when it is not 32 bytes. */
bool doh_pin_parse(const char *b64, uint8_t pin[32]);

struct doh_conn *doh_conn_new(uv_loop_t *loop, const struct doh_target *t,
    doh_event_cb ev, void *evarg);
/*
 * Queue one query.  cb runs exactly once: with the answer, an HTTP error
 * (-EPROTO), or when the connection dies (-ECONNRESET).  -1 when the
 * connection takes no more streams.
 */
int doh_conn_submit(struct doh_conn *c, const uint8_t *q, size_t len,
    doh_resp_cb cb, void *arg);
/* Takes new streams (connecting or up, not draining or dead). */
bool doh_conn_usable(const struct doh_conn *c);
/* Stop taking streams; close when the last one is done. */
void doh_conn_drain(struct doh_conn *c);
/* Close now; pending streams fail. */
void doh_conn_close(struct doh_conn *c, const char *why);
unsigned doh_conn_streams(const struct doh_conn *c);

/* The request head for a query of len bytes; nv holds DOH_NV entries. */
#define DOH_NV 7
size_t doh_request_head(nghttp2_nv *nv, const struct doh_target *t,
    char *authority, size_t alen, char *clen, size_t clen_len, size_t len);

/* Response head checks, exposed for the tests and the fuzzer. */
bool doh_status_ok(const uint8_t *v, size_t len);
bool doh_ctype_ok(const uint8_t *v, size_t len);

#endif
