/*
 * sni.h - find the server name in the first bytes of a TLS connection.
 *
 * The input is whatever the client has sent so far: one or more TLS
 * records, possibly cut anywhere.  The ClientHello may be fragmented over
 * several handshake records (RFC 8446 5.1), which are reassembled here.
 * The answer is one of:
 *
 *   SNI_NEED_MORE  everything so far is a valid prefix; read more
 *   SNI_FOUND      a complete, well-formed ClientHello with one host_name
 *   SNI_NONE       a complete, well-formed ClientHello without server_name
 *   SNI_NOT_TLS    the first byte is not a handshake record
 *   SNI_ERROR      malformed, or larger than max
 *
 * ECH (draft-ietf-tls-esni): the outer ClientHello carries the client-
 * facing server's public name in server_name and the real name encrypted.
 * connectd sees, decides on and connects to the outer name only, which is
 * where the bytes really go; ech is set so the log can say so.
 */
#ifndef CD_SNI_H
#define CD_SNI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

enum sni_status {
	SNI_NEED_MORE = 0,
	SNI_FOUND,
	SNI_NONE,
	SNI_NOT_TLS,
	SNI_ERROR,
};

#define SNI_MAX_HELLO	65536	/* the largest hello we reassemble */

struct sni_info {
	char host[EG_NAME_MAX + 1];	/* lower case, as sent otherwise */
	bool ech;			/* an encrypted_client_hello extension */
	bool tls13;			/* supported_versions offers 1.3 */
	uint16_t legacy_version;
	size_t hello_len;		/* handshake message bytes */
	const char *why;		/* on SNI_ERROR */
};

/*
 * Parse buf[0..len).  max bounds the bytes we are willing to look at
 * (records included); once len reaches max without a complete hello the
 * answer is SNI_ERROR.
 */
enum sni_status sni_parse(const uint8_t *buf, size_t len, size_t max,
    struct sni_info *info);

const char *sni_status_str(enum sni_status s);

#endif
