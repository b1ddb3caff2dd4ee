/* fuzz_links.c - netjaild's link event handler on arbitrary bytes, read
 * as a run of netlink messages: every link it tracks has a name the
 * config matches, that the kernel could have given (no '/', not "." or
 * ".."), an index of its own, and the status text stays well formed.
 * The config's pattern matches no real interface, so a set-up only ever
 * fails to find its sysctl. */
#include "../../../netjaild/links.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *entries[] = { "fzz-*", "fzzexact0" };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint32_t buf[16384];
	static char text[8192];
	struct eg_config cfg;
	struct eg_config *cfgp = &cfg;
	struct nj_links l;
	const struct nlmsghdr *nlh;
	size_t i, j, n;
	int left;

	if (size > sizeof(buf))
		size = sizeof(buf);
	memcpy(buf, data, size);	/* netlink messages are aligned */
	memset(&cfg, 0, sizeof(cfg));
	cfg.jail.interfaces = entries;
	cfg.jail.ninterfaces = 2;
	memset(&l, 0, sizeof(l));
	l.cfg = &cfgp;
	left = (int)size;
	for (nlh = (const struct nlmsghdr *)buf; msg_ok(nlh, left);
	    nlh = mnl_nlmsg_next(nlh, &left))
		links_msg(nlh, &l);
	for (i = 0; i < l.n; i++) {
		const struct nj_link *k = &l.v[i];

		if (!matches(&cfg, k->name) || strchr(k->name, '/') ||
		    !strcmp(k->name, ".") || !strcmp(k->name, "..") ||
		    k->idx == 0 || k->ok)
			__builtin_trap();
		for (j = i + 1; j < l.n; j++)
			if (l.v[j].idx == k->idx)
				__builtin_trap();
	}
	n = links_status(&l, text, sizeof(text));
	if (n >= sizeof(text) || strlen(text) != n)
		__builtin_trap();
	for (i = 0; i < n; i++)
		if ((text[i] < ' ' || text[i] > '~') && text[i] != '\n')
			__builtin_trap();
	free(l.v);
	return 0;
}
