/*
 * fuzz_dohd_query.c - the query path, bytes in and bytes out.
 * Input: 2-byte length L, L bytes of client query, then the bytes the fake
 * upstream answers with (first byte: 0 UDP / 1 TCP source, also whether
 * netjaild acknowledges a feed).  Every answer must be a well-formed
 * message carrying the client's id.
 */
#include <assert.h>

#include "helpers.h"
#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fake *f;
	struct dquery_src src = test_src;
	struct dns_walk w;
	size_t ql;
	uint8_t flags = 0;

	if (f == NULL) {
		eg_log_init("fuzz", EG_LOG_ERR);
		f = fake_new(fuzz_conf);
	}
	if (size < 2)
		return 0;
	ql = (size_t)data[0] << 8 | data[1];
	data += 2;
	size -= 2;
	if (ql > size)
		ql = size;
	if (size > ql) {
		flags = data[ql];
	}
	src.tcp = flags & 1;
	dcache_flush(f->d->cache);
	f->cb = NULL;
	f->fcb = NULL;
	f->nreply = 0;
	dquery_handle(f->d, data, ql, &src, fake_reply, f);
	if (f->cb != NULL) {
		const uint8_t *a = data + ql + 1;
		size_t al = size > ql ? size - ql - 1 : 0;

		if (f->cb(f->cbarg, 0, a, al) < 0)
			f->cb(f->cbarg, -110, NULL, 0);
	}
	if (f->fcb != NULL)
		f->fcb(f->fcbarg, (flags & 2) ? 0 : -110);
	assert(f->nreply == 1);
	if (!f->dropped) {
		assert(f->replylen >= DNS_HDR_LEN);
		assert(dns_walk(f->reply, f->replylen, &w) == 0);
		assert(dns_get16(f->reply) == dns_get16(data));
		assert(src.tcp || f->replylen <= DNS_UDP_MAX);
	}
	assert(f->d->inflight == 0);
	return 0;
}
