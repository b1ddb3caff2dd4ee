/*
 * notify.h - systemd readiness, status, watchdog and socket activation.
 * With libsystemd these call sd_notify(); without, they do nothing and
 * eg_listen_fds() returns 0.
 */
#ifndef EG_NOTIFY_H
#define EG_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void eg_notify_ready(void);
void eg_notify_reloading(void);
void eg_notify_stopping(void);
void eg_notify_status(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
/* Watchdog interval in ms from WATCHDOG_USEC, 0 when not asked for. */
uint64_t eg_notify_watchdog_ms(void);
void eg_notify_watchdog(void);

/*
 * Socket activation: the fd systemd passed whose name (FileDescriptorName=)
 * is name, or -1.  eg_listen_fds_init() must run once before any call.
 */
int eg_listen_fds_init(void);
int eg_listen_fd(const char *name);

/*
 * Whether the listening socket fd is bound to spec ("addr:port",
 * "[v6]:port"); got receives the socket's own address in that form, for
 * the message that says it is not.  A socket unit whose Listen*= differs
 * from the configuration gets the jail's traffic nowhere: the rules
 * deliver to the configured address.
 */
bool eg_listen_fd_matches(int fd, const char *spec, char *got,
    size_t gotlen);

#endif
