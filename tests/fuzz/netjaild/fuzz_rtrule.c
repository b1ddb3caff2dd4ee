/*
 * fuzz_rtrule.c - netjaild's reader of rtnetlink rule messages (the dumps
 * and notifications its routing repair decides on), and its filter of
 * notifications: fuzzer bytes are one netlink message, or a buffer of
 * them.  Includes route.c so the static filters are reachable.
 */
#include "../../../netjaild/route.c"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nj_rinfo ri;
	struct nlmsghdr *nlh;
	char *buf;

	if (size < sizeof(*nlh) || size > 65536)
		return 0;
	/* aligned, and the length the kernel would claim: the bytes given */
	if ((buf = aligned_alloc(8, (size + 7) & ~(size_t)7)) == NULL)
		return 0;
	memcpy(buf, data, size);
	nlh = (struct nlmsghdr *)buf;
	if (nlh->nlmsg_len > size)
		nlh->nlmsg_len = (uint32_t)size;
	if (route_rule_parse(nlh, &ri) == 0) {
		(void)route_rule_ours(&ri, 0x1, 100);
		(void)route_rule_takes(&ri, 0x1);
	}
	memcpy(buf, data, size);	/* the buffer as it came */
	(void)relevant_buf(buf, (int)size, 100);
	free(buf);
	return 0;
}
