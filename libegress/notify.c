/*
 * notify.c - sd_notify readiness and socket activation.
 *
 * Without libsystemd every call is a no-op and no sockets are inherited:
 * the daemons then open their own listeners before dropping privileges.
 */
#include "eg_build.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "notify.h"

#define EG_MAX_LISTEN_FDS 16

static int nfds;
static char *fd_names[EG_MAX_LISTEN_FDS];
static int fd_taken[EG_MAX_LISTEN_FDS];

void
eg_notify_ready(void)
{
#if HAVE_LIBSYSTEMD
	(void)sd_notify(0, "READY=1");
#endif
}

void
eg_notify_reloading(void)
{
#if HAVE_LIBSYSTEMD
	(void)sd_notify(0, "RELOADING=1");
#endif
}

void
eg_notify_stopping(void)
{
#if HAVE_LIBSYSTEMD
	(void)sd_notify(0, "STOPPING=1");
#endif
}

void
eg_notify_status(const char *fmt, ...)
{
#if HAVE_LIBSYSTEMD
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	(void)sd_notifyf(0, "STATUS=%s", buf);
#else
	(void)fmt;
#endif
}

uint64_t
eg_notify_watchdog_ms(void)
{
#if HAVE_LIBSYSTEMD
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) > 0)
		return usec / 1000;
#endif
	return 0;
}

void
eg_notify_watchdog(void)
{
#if HAVE_LIBSYSTEMD
	(void)sd_notify(0, "WATCHDOG=1");
#endif
}

int
eg_listen_fds_init(void)
{
#if HAVE_LIBSYSTEMD
	char **names = NULL;
	int i, n;

	if (nfds > 0)
		return nfds;
	/* unset the environment so no child ever inherits the claim */
	n = sd_listen_fds_with_names(1, &names);
	if (n < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (i < EG_MAX_LISTEN_FDS)
			fd_names[i] = names[i];
		else
			free(names[i]);
	}
	free(names);
	nfds = n > EG_MAX_LISTEN_FDS ? EG_MAX_LISTEN_FDS : n;
	return nfds;
#else
	return 0;
#endif
}

int
eg_listen_fd(const char *name)
{
#if HAVE_LIBSYSTEMD
	int i;

	for (i = 0; i < nfds; i++) {
		if (fd_taken[i] || fd_names[i] == NULL ||
		    strcmp(fd_names[i], name) != 0)
			continue;
		fd_taken[i] = 1;
		return SD_LISTEN_FDS_START + i;
	}
#else
	(void)name;
	(void)fd_taken;
	(void)fd_names;
#endif
	return -1;
}
