/*
 * lmark.h - the listener mark: SO_MARK on connectd's and dohd's
 * jail-facing listening sockets.
 *
 * netjaild's input rules deliver jailed traffic to the listener ports only
 * when the receiving socket carries [jail] listener_mark (nft "socket
 * mark").  Setting SO_MARK takes CAP_NET_ADMIN (or CAP_NET_RAW), so a
 * local user who binds a listener's port while the daemon is down (a
 * squatter) receives nothing.  A daemon marks its listeners while still
 * root, or finds them marked by systemd (Mark= in the .socket unit).
 */
#ifndef EG_LMARK_H
#define EG_LMARK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* Does this config jail anything, so its listeners must carry the mark? */
bool eg_lmark_required(const struct eg_config *cfg);

/*
 * Give fd the mark (nothing to do when it has it already, as a socket
 * from systemd with Mark= does).  -1 with the reason and the remedy in
 * err when the mark cannot be set: without it the jail refuses every
 * connection to this listener.
 */
int eg_lmark_apply(int fd, uint32_t mark, const char *what, char *err,
    size_t errlen);

/* The mark fd carries now; -1 when it cannot be read. */
int64_t eg_lmark_get(int fd);

#endif
