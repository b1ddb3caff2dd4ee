/*
 * notify.c - sd_notify readiness and socket activation, or nothing at all
 * when built without libsystemd (then no fd is ever "passed").
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "eg_build.h"
#include "notify.h"

#if HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#define MAX_LISTEN_FDS 32

static struct {
	int fd;
	char name[64];
} listen_fds[MAX_LISTEN_FDS];
static int nlisten_fds;

#if HAVE_LIBSYSTEMD

static void
notify(const char *state)
{
	/* A lost notification is systemd's timeout to handle, not ours. */
	(void)sd_notify(0, state);
}

void
eg_notify_ready(void)
{
	notify("READY=1");
}

void
eg_notify_reloading(void)
{
	struct timespec ts;
	char buf[96];

	/* Type=notify-reload wants the time the reload started. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(buf, sizeof(buf), "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000);
	notify(buf);
}

void
eg_notify_stopping(void)
{
	notify("STOPPING=1");
}

void
eg_notify_status(const char *fmt, ...)
{
	char buf[256] = "STATUS=";
	va_list ap;
	size_t i;

	va_start(ap, fmt);
	vsnprintf(buf + 7, sizeof(buf) - 7, fmt, ap);
	va_end(ap);
	/* One line: a '\n' in a status would start another assignment. */
	for (i = 7; buf[i] != '\0'; i++)
		if ((unsigned char)buf[i] < 0x20 || (unsigned char)buf[i] > 0x7e)
			buf[i] = '?';
	notify(buf);
}

uint64_t
eg_notify_watchdog_ms(void)
{
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) <= 0)
		return 0;
	return usec / 1000 > 0 ? usec / 1000 : 1;
}

void
eg_notify_watchdog(void)
{
	notify("WATCHDOG=1");
}

int
eg_listen_fds_init(void)
{
	char **names = NULL;
	int n, i;

	n = sd_listen_fds_with_names(1, &names);
	if (n <= 0)
		return n < 0 ? -1 : 0;
	for (i = 0; i < n; i++) {
		/* Ours to keep: a helper we might exec must not get them. */
		fcntl(SD_LISTEN_FDS_START + i, F_SETFD, FD_CLOEXEC);
		if (nlisten_fds < MAX_LISTEN_FDS) {
			listen_fds[nlisten_fds].fd = SD_LISTEN_FDS_START + i;
			snprintf(listen_fds[nlisten_fds].name,
			    sizeof(listen_fds[nlisten_fds].name), "%s",
			    names != NULL && names[i] != NULL ? names[i] :
			    "unknown");
			nlisten_fds++;
		}
		if (names != NULL)
			free(names[i]);
	}
	free(names);
	return n;
}

#else	/* !HAVE_LIBSYSTEMD */

void eg_notify_ready(void) {}
void eg_notify_reloading(void) {}
void eg_notify_stopping(void) {}
void eg_notify_status(const char *fmt, ...) { (void)fmt; }
uint64_t eg_notify_watchdog_ms(void) { return 0; }
void eg_notify_watchdog(void) {}
int eg_listen_fds_init(void) { return 0; }

#endif

bool
eg_listen_fd_matches(int fd, const char *spec, char *got, size_t gotlen)
{
	struct sockaddr_storage want, have;
	socklen_t wl, hl = sizeof(have);
	struct eg_ip wip, hip;
	uint16_t wport, hport;
	char err[EG_ERR_MAX], ip[64];

	snprintf(got, gotlen, "(unknown)");
	if (getsockname(fd, (struct sockaddr *)&have, &hl) != 0 ||
	    !eg_ip_from_sockaddr((struct sockaddr *)&have, &hip, &hport))
		return false;
	eg_ip_str(&hip, ip, sizeof(ip));
	snprintf(got, gotlen, hip.family == AF_INET6 ? "[%s]:%u" : "%s:%u",
	    ip, (unsigned)hport);
	if (!eg_sockaddr_parse(spec, &want, &wl, err) ||
	    !eg_ip_from_sockaddr((struct sockaddr *)&want, &wip, &wport))
		return false;
	return wport == hport && eg_ip_equal(&wip, &hip);
}

int
eg_listen_fd(const char *name)
{
	int i;

	for (i = 0; i < nlisten_fds; i++)
		if (strcmp(listen_fds[i].name, name) == 0)
			return listen_fds[i].fd;
	return -1;
}
