/*
 * fuzz_workload.c - `match =` values: whatever parses prints back to a
 * value that parses to the same match, overlaps with itself, and is found
 * by a source it describes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "workload.c"

#define INPUT_MAX (EG_WL_MATCH_MAX + 64)

static void
check_match(const struct eg_wl_match *m)
{
	const struct eg_wl_match *hit, *other;
	struct eg_wl_match back;
	struct eg_wl_source src;
	char buf[EG_WL_MATCH_MAX + 64], err[EG_ERR_MAX];

	if (!eg_wl_match_parse(eg_wl_match_str(m, buf, sizeof(buf)), &back,
	    err))
		abort();
	if (back.kind != m->kind || strcmp(back.text, m->text) != 0 ||
	    back.depth != m->depth || back.cidr.plen != m->cidr.plen ||
	    (m->kind == EG_WL_CIDR && !eg_ip_equal(&back.cidr.ip,
	    &m->cidr.ip)))
		abort();
	if (!eg_wl_overlap(m, &back))
		abort();

	memset(&src, 0, sizeof(src));
	switch (m->kind) {
	case EG_WL_IFACE:
		if (eg_ifname_is_pattern(m->text))
			return;
		src.bridge = true;
		src.ifname = m->text;
		break;
	case EG_WL_CIDR:
		src.bridge = true;
		src.has_addr = true;
		src.addr = m->cidr.ip;
		break;
	case EG_WL_UID:
		back.has_uid = true;
		back.uid = 4242;
		src.has_uid = true;
		src.uid = 4242;
		break;
	case EG_WL_CGROUP:
		src.cgroup = m->text;
		break;
	}
	if (eg_wl_lookup(&back, 1, &src, &hit, &other) != EG_WL_FOUND ||
	    hit != &back || other != NULL)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct eg_wl_match m;
	char s[INPUT_MAX + 1], err[EG_ERR_MAX];

	if (size > INPUT_MAX)
		size = INPUT_MAX;
	memcpy(s, data, size);
	s[size] = '\0';
	err[0] = '\0';
	if (eg_wl_match_parse(s, &m, err))
		check_match(&m);
	else if (strchr(err, '\n') != NULL || err[0] == '\0')
		abort();
	(void)eg_wl_name_valid(s, err);
	return 0;
}
