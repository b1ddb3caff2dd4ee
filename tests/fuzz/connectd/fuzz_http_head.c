/* fuzz_http_head.c - the request and response head parsers, the health
 * server's probe reader, the rewrite and the refusal builder, on arbitrary
 * bytes at several limits. */
#include "../../../connectd/http.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[65536 + 4096];
	struct http_req r;
	struct http_resp resp;
	struct http_probe probe;
	size_t limits[] = { 64, 1024, 16384 }, i;
	int rc, n;

	for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		rc = http_parse_request((const char *)data, size, limits[i],
		    1 + size % 100, &r);
		if (rc == HTTP_OK) {
			if (r.head_len > size || r.head_len > limits[i])
				__builtin_trap();
			if (r.form == HTTP_FORM_ABSOLUTE) {
				n = http_rewrite_origin(&r, out, sizeof(out));
				if (n < 0 || (size_t)n > sizeof(out) ||
				    memchr(out, '\0', (size_t)n) != NULL)
					__builtin_trap();
			}
			if (r.form == HTTP_FORM_AUTHORITY && r.port == 0)
				__builtin_trap();
		} else if (rc == HTTP_ERROR) {
			if (r.status < 400 || r.why == NULL)
				__builtin_trap();
		}
		rc = http_parse_probe((const char *)data, size, limits[i],
		    &probe);
		if (rc == HTTP_OK && (probe.path < (const char *)data ||
		    probe.path + probe.pathlen > (const char *)data + size ||
		    probe.path + probe.pathlen > (const char *)data +
		    limits[i]))
			__builtin_trap();
		if (rc == HTTP_ERROR && probe.status != 400 &&
		    probe.status != 405)
			__builtin_trap();
		rc = http_parse_response((const char *)data, size, limits[i],
		    &resp);
		if (rc == HTTP_OK && (resp.head_len > size ||
		    resp.status < 100 || resp.status > 999))
			__builtin_trap();
	}
	return 0;
}
