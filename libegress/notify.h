/*
 * notify.h - systemd readiness, status, watchdog and socket activation.
 * With libsystemd these call sd_notify(); without, they do nothing and
 * eg_listen_fds() returns 0.
 */
#ifndef EG_NOTIFY_H
#define EG_NOTIFY_H

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

#endif
