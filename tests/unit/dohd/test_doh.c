/* test_doh.c - the DoH request head, response head checks, SPKI pins. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "doh.h"

#include "test_list.h"

static bool
has(const nghttp2_nv *nv, size_t n, const char *name, const char *value)
{
	for (size_t i = 0; i < n; i++)
		if (nv[i].namelen == strlen(name) &&
		    memcmp(nv[i].name, name, nv[i].namelen) == 0)
			return nv[i].valuelen == strlen(value) &&
			    memcmp(nv[i].value, value, nv[i].valuelen) == 0;
	return false;
}

static void
test_doh_head(void **st)
{
	struct doh_target t;
	nghttp2_nv nv[DOH_NV];
	char auth[300], clen[16];
	size_t n;

	memset(&t, 0, sizeof(t));
	snprintf(t.host, sizeof(t.host), "doh.test");
	snprintf(t.path, sizeof(t.path), "/dns-query");
	t.port = 443;
	n = doh_request_head(nv, &t, auth, sizeof(auth), clen, sizeof(clen),
	    128);
	assert_int_equal(n, DOH_NV);
	assert_true(has(nv, n, ":method", "POST"));
	assert_true(has(nv, n, ":scheme", "https"));
	assert_true(has(nv, n, ":authority", "doh.test"));
	assert_true(has(nv, n, ":path", "/dns-query"));
	assert_true(has(nv, n, "content-type", "application/dns-message"));
	assert_true(has(nv, n, "accept", "application/dns-message"));
	assert_true(has(nv, n, "content-length", "128"));
	t.port = 8443;
	n = doh_request_head(nv, &t, auth, sizeof(auth), clen, sizeof(clen), 1);
	assert_true(has(nv, n, ":authority", "doh.test:8443"));
	snprintf(t.host, sizeof(t.host), "2001:db8::53");
	n = doh_request_head(nv, &t, auth, sizeof(auth), clen, sizeof(clen), 1);
	assert_true(has(nv, n, ":authority", "[2001:db8::53]:8443"));
}

static void
test_doh_response_head(void **st)
{
	assert_true(doh_status_ok((const uint8_t *)"200", 3));
	assert_false(doh_status_ok((const uint8_t *)"2000", 4));
	assert_false(doh_status_ok((const uint8_t *)"404", 3));
	assert_false(doh_status_ok((const uint8_t *)"", 0));
	assert_true(doh_ctype_ok((const uint8_t *)"application/dns-message",
	    23));
	assert_true(doh_ctype_ok((const uint8_t *)"Application/DNS-Message",
	    23));
	assert_true(doh_ctype_ok((const uint8_t *)
	    "application/dns-message; charset=x", 34));
	assert_false(doh_ctype_ok((const uint8_t *)"application/dns-messagex",
	    24));
	assert_false(doh_ctype_ok((const uint8_t *)"text/html", 9));
	assert_false(doh_ctype_ok((const uint8_t *)"application/dns", 15));
}

static void
test_doh_pin(void **st)
{
	uint8_t pin[32];

	/* sha256 of "" as a stand-in: 44 base64 characters */
	assert_true(doh_pin_parse(
	    "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", pin));
	assert_int_equal(pin[0], 0xe3);
	assert_int_equal(pin[31], 0x55);
	assert_false(doh_pin_parse("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU",
	    pin));
	assert_false(doh_pin_parse("not base64 at all", pin));
	assert_false(doh_pin_parse("", pin));
}

static void
test_doh_ssl_ctx_verifies_tls12(void **st)
{
	char err[256];
	SSL_CTX *c;

	assert_null(doh_ssl_ctx("/nonexistent/ca.pem", err, sizeof(err)));
	c = doh_ssl_ctx("/etc/ssl/certs/ca-certificates.crt", err, sizeof(err));
	if (c == NULL)
		skip();
	assert_int_equal(SSL_CTX_get_min_proto_version(c), TLS1_2_VERSION);
	assert_int_equal(SSL_CTX_get_verify_mode(c) & SSL_VERIFY_PEER,
	    SSL_VERIFY_PEER);
	SSL_CTX_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = TEST_LIST(DOH_TESTS);

	return cmocka_run_group_tests(tests, NULL, NULL);
}
