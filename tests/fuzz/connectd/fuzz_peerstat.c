/* fuzz_peerstat.c - the peers' status text parser and its Prometheus
 * rendering, on arbitrary bytes: everything kept must obey the key and
 * value rules, and the rendering must always pass the strict exposition
 * checker (no peer byte can open a line, a comment or a label). */
#include "../../../connectd/peerstat.c"
#include "../../../connectd/sbuf.c"
#include "../../unit/connectd/promcheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ps_stats st;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const peers[] = { "dohd", "netjaild" };
	size_t i, len;
	char *out;

	ps_parse(&st, (const char *)data, size);
	if (st.n > PS_ENTRIES_MAX)
		__builtin_trap();
	for (i = 0; i < st.n; i++) {
		if (!ps_key_ok(st.e[i].key, strlen(st.e[i].key)) ||
		    !ps_value_ok(st.e[i].val, strlen(st.e[i].val)))
			__builtin_trap();
		if (ps_get(&st, st.e[i].key) != st.e[i].val)
			__builtin_trap();	/* a key kept twice */
	}
	/* what connectd adds from the binary header */
	ps_set_u64(&st, "generation", size);
	for (i = 0; i < 2; i++) {
		if ((out = ps_render(&st, peers[i], &len)) == NULL)
			__builtin_trap();
		if (strlen(out) != len || promcheck(out, len) != 0)
			__builtin_trap();
		free(out);
	}
	return 0;
}
