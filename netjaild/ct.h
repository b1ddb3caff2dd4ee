/*
 * ct.h - cut connections that were open before the jail: delete the
 * conntrack entries whose original source lies in a subnet of a jailed
 * interface.  Jailed local users need no flush: their rules match every
 * packet by socket owner, not by connection state.
 */
#ifndef NJ_CT_H
#define NJ_CT_H

#include <stddef.h>

/* Returns the number of entries deleted, or -errno with err set. */
int ct_flush_ifaces(char *const *ifaces, size_t n, char *err, size_t errlen);
/* The same for links given by index (at most 64). */
int ct_flush_index(const unsigned *idx, size_t n, char *err, size_t errlen);

#endif
