/* fuzz_sysres.c - connectd's answer reader for the host's resolver
 * (sysres_parse) on arbitrary bytes as the answer to a fixed question:
 * never more addresses than asked for, each of the asked family. */
#include "../../../connectd/sysres.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct eg_ip a[4];
	size_t n, i;
	int rcode;
	uint16_t qt = size > 0 && (data[0] & 1) ? LDNS_RR_TYPE_AAAA :
	    LDNS_RR_TYPE_A;
	uint16_t id = size > 1 ? (uint16_t)(data[0] << 8 | data[1]) : 0;

	if (sysres_parse(data, size, id, "smoke.test.", qt, a, 4, &n,
	    &rcode) != 0)
		return 0;
	if (n > 4)
		__builtin_trap();
	for (i = 0; i < n; i++)
		if (a[i].family != (qt == LDNS_RR_TYPE_A ? AF_INET : AF_INET6))
			__builtin_trap();
	return 0;
}
