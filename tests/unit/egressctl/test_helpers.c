/*
 * test_helpers.c - doctor's scan for host services that act for a jailed
 * user, over fake files in a temporary root: sockets and mailers found,
 * usable or not by the permission bits and the jailed user's groups,
 * anything of the wrong kind ignored.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "helpers.h"

#include "test_list.h"

static char root[64];

static void
mkpath(const char *rel)
{
	char p[512], *s;

	snprintf(p, sizeof(p), "%s%s", root, rel);
	for (s = p + strlen(root) + 1; (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
}

static void
sock(const char *rel, mode_t mode, gid_t gid)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	mkpath(rel);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s%s", root, rel);
	assert_true((fd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(chmod(sa.sun_path, mode), 0);
	if (gid != (gid_t)-1)
		assert_int_equal(chown(sa.sun_path, (uid_t)-1, gid), 0);
}

static void
file(const char *rel, mode_t mode)
{
	char p[512];
	FILE *f;

	mkpath(rel);
	snprintf(p, sizeof(p), "%s%s", root, rel);
	assert_non_null(f = fopen(p, "w"));
	fclose(f);
	assert_int_equal(chmod(p, mode), 0);
}

static const struct helper_found *
found(const struct helper_found *f, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(f[i].def->name, name) == 0)
			return &f[i];
	return NULL;
}

static void
test_helpers_scan_fake_root(void **state)
{
	struct eg_user users[1] = { { .name = "nobody" } };
	struct eg_config cfg;
	struct helper_found f[16];
	const struct helper_found *h;
	size_t n;

	(void)state;
	if (geteuid() != 0)
		skip();		/* chown to another group needs root */
	snprintf(root, sizeof(root), "/tmp/ejhelpers.XXXXXX");
	assert_non_null(mkdtemp(root));
	memset(&cfg, 0, sizeof(cfg));
	cfg.jail.users = users;
	cfg.jail.nusers = 1;

	/* nothing there: nothing found */
	assert_int_equal(helpers_scan(root, &cfg, f, 16), 0);

	sock("/run/dbus/system_bus_socket", 0666, (gid_t)-1);
	sock("/run/systemd/resolve/io.systemd.Resolve", 0666, (gid_t)-1);
	sock("/run/docker.sock", 0660, 0);	/* root:root, nobody not in */
	sock("/run/cups/cups.sock", 0660, 65534);	/* nobody's group */
	file("/run/nscd/socket", 0666);		/* not a socket: ignored */
	file("/usr/sbin/sendmail", 04755);
	file("/usr/sbin/exim4", 04750);		/* root's group only */
	n = helpers_scan(root, &cfg, f, 16);
	assert_int_equal(n, 6);
	assert_non_null(h = found(f, n, "dbus"));
	assert_true(h->usable);
	assert_string_equal(h->user, "nobody");
	assert_non_null(h = found(f, n, "systemd-resolved"));
	assert_true(h->usable);
	assert_non_null(h = found(f, n, "docker"));
	assert_false(h->usable);
	assert_true(h->def->root_equivalent);
	assert_non_null(h = found(f, n, "cupsd"));
	assert_true(h->usable);			/* by its group */
	assert_null(found(f, n, "nscd"));
	assert_non_null(h = found(f, n, "sendmail"));
	assert_true(h->usable);
	assert_true(h->setid);
	assert_non_null(h = found(f, n, "exim"));
	assert_false(h->usable);

	/* no jailed user (a bridge-only jail): present, usable by none */
	cfg.jail.nusers = 0;
	n = helpers_scan(root, &cfg, f, 16);
	assert_int_equal(n, 6);
	assert_false(found(f, n, "dbus")->usable);
	/* the room given is respected */
	assert_int_equal(helpers_scan(root, &cfg, f, 2), 2);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
		assert_int_equal(system(cmd), 0);
	}
}

int
main(void)
{
	const struct CMUnitTest t[] = TEST_LIST(HELPERS_TESTS);

	return cmocka_run_group_tests_name("egressctl_helpers", t, NULL, NULL);
}
