/*
 * hostaddr.h - the host's own addresses.
 */
#ifndef EG_HOSTADDR_H
#define EG_HOSTADDR_H

#include <stddef.h>

#include "addr.h"

/*
 * Every address of every interface of this network namespace, as /32 and
 * /128 entries (scope dropped), at most max.  Returns how many, or -1 when
 * the kernel could not be asked (errno set).
 */
int eg_host_addrs(struct eg_cidr *out, size_t max);

#endif
