/*
 * ct.h - cut connections that were open before the jail: delete the
 * conntrack entries whose original source lies in a subnet of a jailed
 * interface.  Jailed local users need no flush: their rules match every
 * packet by socket owner, not by connection state.
 */
#ifndef NJ_CT_H
#define NJ_CT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Returns the number of entries deleted, or -errno with err set. */
int ct_flush_ifaces(char *const *ifaces, size_t n, char *err, size_t errlen);
/* The same for links given by index (at most 64). */
int ct_flush_index(const unsigned *idx, size_t n, char *err, size_t errlen);

/*
 * Cut the flows that began as direct (ct mark has bit) and whose original
 * destination keep() no longer admits: a direct endpoint taken out of the
 * config ends its open connections too.  Count or -errno.
 */
typedef bool (*ct_keep_fn)(int family, const uint8_t *dst, uint16_t port,
    void *arg);
int ct_flush_direct(uint32_t bit, ct_keep_fn keep, void *arg, char *err,
    size_t errlen);

#endif
