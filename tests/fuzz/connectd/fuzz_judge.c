/* fuzz_judge.c - the tunnel judge (connectd/judge.c) on arbitrary client
 * bytes: what it lets pass is always a prefix of the input, in order, and
 * the same whether the bytes come at once or in pieces. */
#include "../../../connectd/http.c"
#include "../../../connectd/sni.c"
#include "../../../connectd/judge.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct sink {
	const uint8_t *in;
	size_t size, got;
};

static void
take(void *arg, const char *p, size_t n)
{
	struct sink *s = arg;

	if (s->got + n > s->size || memcmp(s->in + s->got, p, n) != 0)
		__builtin_trap();
	s->got += n;
}

/* Feed in pieces of step bytes (0: at once); returns the bytes passed,
 * with the top bit set when the tunnel was cut. */
static size_t
run(const uint8_t *in, size_t size, size_t cap, size_t step, bool after)
{
	struct judge j;
	struct http_req r;
	struct sink s = { in, size, 0 };
	size_t off = 0, k;
	int rc = JUDGE_OK;

	if (judge_init(&j, "Allowed.Test.", 80, false, cap) != 0)
		__builtin_trap();
	if (after) {
		memset(&r, 0, sizeof(r));
		rc = judge_after_request(&j, &r);
	}
	while (rc == JUDGE_OK && off < size) {
		k = step == 0 || size - off < step ? size - off : step;
		rc = judge_feed(&j, (const char *)in + off, k, take, &s);
		off += k;
		if (judge_held(&j) > cap)
			__builtin_trap();
	}
	if (rc == JUDGE_OK)
		rc = judge_flush(&j, take, &s);
	if (rc == JUDGE_CUT && j.why == NULL)
		__builtin_trap();
	judge_free(&j);
	return s.got | (rc == JUDGE_CUT ? (size_t)1 << 62 : 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t cap, whole, steps[] = { 1, 7, 1000 }, i;
	bool after;

	if (size < 1)
		return 0;
	cap = data[0] & 1 ? 1024 : 16384;
	after = (data[0] & 2) != 0;
	data++;
	size--;
	whole = run(data, size, cap, 0, after);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (run(data, size, cap, steps[i], after) != whole)
			__builtin_trap();
	return 0;
}
