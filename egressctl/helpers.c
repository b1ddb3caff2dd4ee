/*
 * helpers.c - things on the host that act for a jailed user: the jail
 * sees the packets of a jailed uid, not those a service sends on its
 * behalf.  A resolver that looks names up for it (systemd-resolved over
 * varlink or D-Bus, nscd) carries data out in DNS questions; a mailer
 * queues mail a daemon delivers; the Docker socket starts a container
 * outside the jail (and is root on the host); cupsd prints to network
 * printers; avahi asks the local link.  `egressctl doctor` names each one
 * present (helpers_scan), and whether a jailed user can use it.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"

static const struct helper_def defs[] = {
	{ "systemd-resolved", "/run/systemd/resolve/io.systemd.Resolve",
	    HELPER_SOCKET, false,
	    "it resolves any name for the caller over varlink, outside the jail "
	    "(and answers on 127.0.0.53)",
	    "stop systemd-resolved (systemctl disable --now systemd-resolved) "
	    "or keep jailed users from its socket" },
	{ "dbus", "/run/dbus/system_bus_socket", HELPER_SOCKET, false,
	    "the system bus reaches services that act for the caller "
	    "(org.freedesktop.resolve1, NetworkManager, ...)",
	    "review the bus policy for the jailed users, or stop the services "
	    "on it that reach the network" },
	{ "nscd", "/run/nscd/socket", HELPER_SOCKET, false,
	    "it looks host names up for the caller, outside the jail",
	    "stop nscd or set enable-cache hosts no in /etc/nscd.conf" },
	{ "docker", "/run/docker.sock", HELPER_SOCKET, true,
	    "it starts containers outside the jail (host network, any mount): "
	    "root on the host",
	    "take jailed users out of the docker group and keep the socket "
	    "0660 root:docker" },
	{ "podman", "/run/podman/podman.sock", HELPER_SOCKET, true,
	    "it starts containers outside the jail: root on the host",
	    "keep the socket 0600 root" },
	{ "containerd", "/run/containerd/containerd.sock", HELPER_SOCKET, true,
	    "it starts containers outside the jail: root on the host",
	    "keep the socket 0600 root" },
	{ "cupsd", "/run/cups/cups.sock", HELPER_SOCKET, false,
	    "it prints to network printers for the caller (IPP, LPD, sockets)",
	    "stop cups, or allow only local queues" },
	{ "avahi", "/run/avahi-daemon/socket", HELPER_SOCKET, false,
	    "it asks and announces names on the local link (mDNS) for the caller",
	    "stop avahi-daemon" },
	{ "sendmail", "/usr/sbin/sendmail", HELPER_MAILER, false,
	    "it queues mail that the mail system delivers, outside the jail",
	    "remove the MTA, or make it deliver locally only" },
	{ "exim", "/usr/sbin/exim4", HELPER_MAILER, false,
	    "a setuid mailer, it queues mail that exim delivers outside the jail",
	    "remove exim4, or set dc_eximconfig_configtype=local" },
};

const struct helper_def *
helpers_defs(size_t *n)
{
	*n = sizeof(defs) / sizeof(defs[0]);
	return defs;
}

static bool
in_group(const struct passwd *pw, gid_t gid)
{
	gid_t groups[256];
	int n = 256, i;

	if (pw->pw_gid == gid)
		return true;
	if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) == -1)
		return true;	/* too many to tell: assume the worst */
	for (i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

/*
 * Can a user with these ids use the file: write a socket, execute a
 * program?  The permission bits as the kernel reads them (owner, then
 * group, then others).
 */
static bool
usable_by(const struct stat *st, const struct passwd *pw, enum helper_kind k)
{
	mode_t u = k == HELPER_SOCKET ? S_IWUSR : S_IXUSR;
	mode_t g = k == HELPER_SOCKET ? S_IWGRP : S_IXGRP;
	mode_t o = k == HELPER_SOCKET ? S_IWOTH : S_IXOTH;

	if (st->st_uid == pw->pw_uid)
		return (st->st_mode & u) != 0;
	if (in_group(pw, st->st_gid))
		return (st->st_mode & g) != 0;
	return (st->st_mode & o) != 0;
}

bool
helpers_user_in_group(const char *user, const char *group)
{
	struct passwd *pw = getpwnam(user);
	struct group *gr = getgrnam(group);

	return pw != NULL && gr != NULL && in_group(pw, gr->gr_gid);
}

size_t
helpers_scan(const char *root, const struct eg_config *cfg,
    struct helper_found *out, size_t max)
{
	char path[512];
	struct stat st;
	size_t n = 0, i, j;

	for (i = 0; i < sizeof(defs) / sizeof(defs[0]) && n < max; i++) {
		const struct helper_def *h = &defs[i];
		struct helper_found *f = &out[n];

		snprintf(path, sizeof(path), "%s%s", root, h->path);
		/* /var/run is /run on every host we run on; stat follows */
		if (stat(path, &st) == -1)
			continue;
		if (h->kind == HELPER_SOCKET && !S_ISSOCK(st.st_mode))
			continue;
		if (h->kind == HELPER_MAILER && !S_ISREG(st.st_mode))
			continue;
		memset(f, 0, sizeof(*f));
		f->def = h;
		f->setid = (st.st_mode & (S_ISUID | S_ISGID)) != 0;
		snprintf(f->path, sizeof(f->path), "%s", path);
		for (j = 0; cfg != NULL && j < cfg->jail.nusers; j++) {
			struct passwd *pw = getpwnam(cfg->jail.users[j].name);

			if (pw == NULL || !usable_by(&st, pw, h->kind))
				continue;
			snprintf(f->user, sizeof(f->user), "%s", pw->pw_name);
			f->usable = true;
			break;
		}
		n++;
	}
	return n;
}
