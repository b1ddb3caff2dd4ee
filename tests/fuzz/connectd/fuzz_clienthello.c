/* fuzz_clienthello.c - ClientHello reassembly and SNI extraction; also
 * checks that every prefix of an accepted input was "need more". */
#include "../../../connectd/sni.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sni_info info, pinfo;
	enum sni_status st, pst;
	size_t k, i;

	st = sni_parse(data, size, 16384, &info);
	if (st == SNI_FOUND) {
		size_t hl = strlen(info.host);

		if (hl == 0 || hl > EG_NAME_MAX)
			__builtin_trap();
		for (i = 0; i < hl; i++)
			if (info.host[i] >= 'A' && info.host[i] <= 'Z')
				__builtin_trap();
	}
	if (st == SNI_ERROR && info.why == NULL)
		__builtin_trap();
	/* A shorter prefix may not reach a different conclusion than "need
	 * more", except where the first byte already says "not TLS" or a
	 * prefix is already malformed (then the whole is malformed too). */
	if (st == SNI_FOUND || st == SNI_NONE) {
		for (k = size > 64 ? size - 64 : 1; k < size; k++) {
			pst = sni_parse(data, k, 16384, &pinfo);
			if (pst != SNI_NEED_MORE && pst != st)
				__builtin_trap();
		}
	}
	return 0;
}
