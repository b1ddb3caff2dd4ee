/*
 * hostaddr.h - the host's own addresses.
 */
#ifndef EG_HOSTADDR_H
#define EG_HOSTADDR_H

#include <stddef.h>

#include "addr.h"

/*
 * Every address of every interface of this network namespace, as /32 and
 * /128 entries (scope dropped), in a new array (free it).  0, or -1 with
 * errno when the kernel could not be asked.
 */
int eg_host_addrs(struct eg_cidr **out, size_t *n);

#endif
