/*
 * test_links.c - the link event handler: which rtnetlink messages track a
 * jailed link, and that malformed ones are ignored.  links.c is included
 * for its static helpers.  The names used exist in no namespace, so a
 * set-up fails (no route_localnet to write) and is reported as such:
 * nothing here touches the machine's sysctls.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../../netjaild/links.c"

#include "test_list.h"

static char *entries[] = { "hkzz-*", "hkzzexact0" };
static struct eg_config cfg;
static struct eg_config *cfgp = &cfg;

static void
init(struct nj_links *l)
{
	memset(l, 0, sizeof(*l));
	memset(&cfg, 0, sizeof(cfg));
	cfg.jail.interfaces = entries;
	cfg.jail.ninterfaces = 2;
	l->cfg = &cfgp;
}

/* One RTM_*LINK message; name NULL: no IFLA_IFNAME; namelen: its size. */
static struct nlmsghdr *
linkmsg(char *buf, uint16_t type, int family, int idx, const char *name,
    size_t namelen)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = type;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = (unsigned char)family;
	ifi->ifi_index = idx;
	if (name != NULL)
		mnl_attr_put(nlh, IFLA_IFNAME, namelen, name);
	return nlh;
}

static void
newlink(struct nj_links *l, int idx, const char *name)
{
	char buf[512];

	links_msg(linkmsg(buf, RTM_NEWLINK, AF_UNSPEC, idx, name,
	    strlen(name) + 1), l);
}

static void
test_links_track(void **state)
{
	struct nj_links l;
	char buf[512], text[1024], why[256];

	(void)state;
	init(&l);
	newlink(&l, 5, "hkzz-1a2b");
	assert_int_equal(l.n, 1);
	assert_false(l.v[0].ok);		/* no such sysctl here */
	assert_non_null(strstr(l.v[0].err, "route_localnet"));
	assert_false(links_ready(&l, why, sizeof(why)));
	assert_non_null(strstr(why, "interface hkzz-1a2b not set up"));
	links_status(&l, text, sizeof(text));
	assert_non_null(strstr(text, "jailed_ifaces=-\n"));
	assert_non_null(strstr(text, "jailed_ifaces_failed=hkzz-1a2b\n"));
	assert_non_null(strstr(text, "jailed_ifaces_down=1\n"));
	/* the same link again (a state change): still one, tried again */
	newlink(&l, 5, "hkzz-1a2b");
	assert_int_equal(l.n, 1);
	assert_int_equal(l.failures, 2);
	/* an exact name, and one that matches nothing */
	newlink(&l, 6, "hkzzexact0");
	newlink(&l, 7, "hkzzexact01");
	newlink(&l, 8, "eth0");
	assert_int_equal(l.n, 2);
	/* a bridge port's AF_BRIDGE DELLINK is not the link going */
	links_msg(linkmsg(buf, RTM_DELLINK, AF_BRIDGE, 5, NULL, 0), &l);
	assert_int_equal(l.n, 2);
	links_msg(linkmsg(buf, RTM_DELLINK, AF_UNSPEC, 5, NULL, 0), &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].idx, 6);
	/* renamed to a name that matches nothing: let go */
	newlink(&l, 6, "other");
	assert_int_equal(l.n, 0);
	assert_true(links_ready(&l, why, sizeof(why)));
	free(l.v);
}

static void
test_links_malformed(void **state)
{
	struct nj_links l;
	char buf[512];
	struct nlmsghdr *nlh;

	(void)state;
	init(&l);
	/* no name, an empty one, one without its NUL, one too long */
	links_msg(linkmsg(buf, RTM_NEWLINK, AF_UNSPEC, 5, NULL, 0), &l);
	links_msg(linkmsg(buf, RTM_NEWLINK, AF_UNSPEC, 5, "", 1), &l);
	links_msg(linkmsg(buf, RTM_NEWLINK, AF_UNSPEC, 5, "hkzz-abc", 8), &l);
	links_msg(linkmsg(buf, RTM_NEWLINK, AF_UNSPEC, 5,
	    "hkzz-0123456789abcdefghij", 26), &l);
	/* names the kernel never gives, that would walk out of /proc/sys */
	entries[0] = "*";	/* matches anything, as no config may */
	newlink(&l, 5, "../../../tmp");
	newlink(&l, 5, "..");
	newlink(&l, 5, ".");
	newlink(&l, 5, "a/b");
	assert_int_equal(l.n, 0);
	entries[0] = "hkzz-*";
	/* a bad index, another family */
	newlink(&l, 0, "hkzz-a");
	newlink(&l, -3, "hkzz-a");
	links_msg(linkmsg(buf, RTM_NEWLINK, AF_INET, 5, "hkzz-a", 7), &l);
	assert_int_equal(l.n, 0);
	/* a payload shorter than its header */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	mnl_nlmsg_put_extra_header(nlh, 4);
	links_msg(nlh, &l);
	nlh->nlmsg_type = RTM_NEWADDR;
	links_msg(nlh, &l);
	assert_int_equal(l.n, 0);
	/* an address on a link we do not track changes nothing */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWADDR;
	((struct ifaddrmsg *)mnl_nlmsg_put_extra_header(nlh,
	    sizeof(struct ifaddrmsg)))->ifa_index = 9;
	links_msg(nlh, &l);
	assert_int_equal(l.n, 0);
}

static void
test_links_safe_name(void **state)
{
	char out[IFNAMSIZ];

	(void)state;
	safe_name("br-\"x=1 y", out);
	assert_string_equal(out, "br-?x?1?y");
	safe_name("docker0", out);
	assert_string_equal(out, "docker0");
}

int
main(void)
{
	const struct CMUnitTest tests[] = TEST_LIST(LINKS_TESTS);

	eg_log_init("test_links", EG_LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
