/* fuzz_ports.c - the bridge-port isolation reader (netjaild/ports.c) on
 * arbitrary bytes, read as a run of netlink messages: the link and address
 * dumps' callbacks collect at most NJ_MAX_LINKS entries each, every name
 * is a terminated string, every prefix length fits its family, and the
 * decisions made from them (which bridge a port is on, whether a direct
 * endpoint lies inside its subnet) read nothing out of bounds. */
#include "../../../netjaild/ports.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *entries[] = { "fzz-*", "fzzexact0" };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint32_t buf[16384];
	struct eg_config cfg;
	struct eg_direct d[2];
	struct links ls;
	const struct nlmsghdr *nlh;
	size_t i;
	int left;

	if (size > sizeof(buf))
		size = sizeof(buf);
	memcpy(buf, data, size);	/* netlink messages are aligned */
	memset(&cfg, 0, sizeof(cfg));
	memset(d, 0, sizeof(d));
	cfg.jail.interfaces = entries;
	cfg.jail.ninterfaces = 2;
	d[0].ep.cidr.ip.family = AF_INET;
	d[0].ep.cidr.ip.addr[0] = 10;
	d[0].ep.cidr.plen = 8;
	d[1].ep.cidr.ip.family = AF_INET6;
	d[1].ep.cidr.ip.addr[0] = 0xfd;
	d[1].ep.cidr.plen = 128;
	cfg.jail.direct = d;
	cfg.jail.ndirect = 2;
	memset(&ls, 0, sizeof(ls));
	left = (int)size;
	for (nlh = (const struct nlmsghdr *)buf; left >= (int)sizeof(*nlh) &&
	    nlh->nlmsg_len >= sizeof(*nlh) && nlh->nlmsg_len <= (unsigned)left;
	    nlh = mnl_nlmsg_next(nlh, &left)) {
		if (link_cb(nlh, &ls) < 0 || addr_cb(nlh, &ls) < 0)
			break;
	}
	if (ls.n > NJ_MAX_LINKS || ls.np > NJ_MAX_LINKS)
		__builtin_trap();
	for (i = 0; i < ls.n; i++) {
		const struct link *l = &ls.v[i];
		const char *br;

		if (memchr(l->name, '\0', sizeof(l->name)) == NULL)
			__builtin_trap();
		if ((br = name_of(&ls, l->master)) != NULL)
			(void)jailed(&cfg, br);
		(void)direct_inside(&cfg, &ls, l->master);
		(void)link_of(&ls, l->index);
	}
	for (i = 0; i < ls.np; i++)
		if (ls.p[i].plen < 0 || ls.p[i].plen >
		    (ls.p[i].family == AF_INET ? 32 : 128))
			__builtin_trap();
	free(ls.v);
	free(ls.p);
	return 0;
}
